// Text that enters warden from outside (a policy file, a command line, a device on the LAN,
// a state file read back): whether it is safe to keep, print and put in JSON, and how to
// make it so. Safe means valid UTF-8 without control characters: nlohmann::json's dump
// throws on invalid UTF-8 (which would stop whatever serialises it), and a terminal obeys
// control characters. Operator input that is not safe is refused with first_flaw's words;
// text from devices and files is kept through printable().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace warden::text {

// Length of the UTF-8 sequence starting at s[i], or 0 when no valid one starts there (a
// stray continuation byte, an overlong form, a surrogate, a code point past U+10FFFF, a
// sequence cut short).
size_t utf8_length(std::string_view s, size_t i);

// A control character: C0 (below 0x20), DEL, or C1 (U+0080..U+009F, which some terminals
// obey as escape sequences too).
bool is_control(uint32_t code_point);

// The first byte that makes text unsafe.
struct Flaw {
    size_t offset = 0;         // in bytes from the start
    uint32_t character = 0;    // the control character, or the invalid byte
    bool invalid_utf8 = false; // else a control character

    // "byte 0xff is not valid UTF-8", "control character 0x1b (escape)", "a tab".
    std::string str() const;
};

// Which control characters a kind of text may hold besides none at all (a YAML file has
// tabs and line ends; a name or a command-line argument has neither).
enum class Allow { nothing, tabs_and_newlines };

std::optional<Flaw> first_flaw(std::string_view s, Allow allow = Allow::nothing);
inline bool is_safe(std::string_view s, Allow allow = Allow::nothing) {
    return !first_flaw(s, allow);
}

// s made safe: valid characters kept, every other byte (invalid UTF-8, control
// characters) written as \xNN, cut to at most max_bytes on a character boundary. The
// result is safe, and printable(printable(s, n), n) == printable(s, n).
std::string printable(std::string_view s, size_t max_bytes = SIZE_MAX);
std::string printable(std::span<const uint8_t> bytes, size_t max_bytes = SIZE_MAX);

// Every string value in j, at any depth, made printable(): for JSON read back from a file
// that a person or a crash may have changed. (A parsed string is valid UTF-8 already, but
// may hold control characters that a terminal would obey.)
void printable_strings(nlohmann::json& j);

}  // namespace warden::text
