// The admin token of the status page: whoever holds it may quarantine and release devices
// from the page. 32 random bytes as hex, generated at the first start into
// <state dir>/admin-token (mode 0600, readable by root only: reading it is the proof of being
// the gateway's administrator). The page sends it as "Authorization: Bearer <token>".
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace warden::web {

inline constexpr size_t kTokenBytes = 32;

struct TokenFile {
    std::string token;
    bool created = false;    // generated now (first start, or the old file was unusable)
    std::string problem;     // what was wrong with an existing file, if anything
};

// Reads the token, or makes one when the file is missing or does not hold a token (the bad
// file is moved aside). Tightens the mode to 0600 if someone loosened it. Throws when the
// state dir cannot be written.
TokenFile load_or_create_token(const std::filesystem::path& file);

// True when presented equals expected; takes the same time wherever they first differ.
bool token_matches(std::string_view presented, std::string_view expected);

// The token from an "Authorization: Bearer <token>" header value, or "" when there is none.
std::string_view bearer_token(std::string_view authorization);

}  // namespace warden::web
