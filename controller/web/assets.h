// The status page's files (controller/web/static), compiled into the binary at build time
// by embed_assets.cmake: one binary to install, nothing to find at run time.
#pragma once

#include <string_view>

namespace warden::web {

struct Asset {
    std::string_view path;  // "/index.html"
    std::string_view content_type;
    std::string_view body;
};

// The file at path, or null.
const Asset* find_asset(std::string_view path);

}  // namespace warden::web
