// JSON-lines files with a header line ({"format": ..., "version": ...}, then one record a
// line): the quarantine book, the inventory, the fleet channel's queue and command log. One
// reader for all of them, so each is read, and survives damage, alike: a line that cannot be
// read costs that line only (every readable record is kept, in order), and a file with any
// problem is moved aside (store::move_aside) for a person to look at, so that its writer
// writes the readable records back.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace warden::store {

struct JsonLinesRead {
    nlohmann::json header;               // the header line as read; null when there was none
    std::vector<std::string> problems;   // "NAME:LINE: what" for each line not taken, and the file's own
    std::optional<std::filesystem::path> moved_aside;
};

// Reads `file` (nothing when it does not exist). The header is the first object with a
// "format" key; another format or version is a problem. Every other line is handed to `take`,
// in order; when it throws, that line is a problem naming the exception's message.
JsonLinesRead read_json_lines(const std::filesystem::path& file, std::string_view format, int version,
                              const std::function<void(const nlohmann::json& record)>& take);

}  // namespace warden::store
