#include "text/text.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace warden::text {

namespace {

// The code point of the valid sequence of n bytes at s[i].
uint32_t decode(std::string_view s, size_t i, size_t n) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    if (n == 1) return byte(i);
    uint32_t cp = byte(i) & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
    for (size_t k = 1; k < n; ++k) cp = cp << 6 | (byte(i + k) & 0x3f);
    return cp;
}

void append_hex(std::string& out, unsigned char b) {
    char buf[5];
    std::snprintf(buf, sizeof buf, "\\x%02x", b);
    out += buf;
}

}  // namespace

size_t utf8_length(std::string_view s, size_t i) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    size_t n;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
    uint32_t cp = decode(s, i, n);
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

bool is_control(uint32_t cp) { return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f); }

std::string Flaw::str() const {
    char buf[64];
    if (invalid_utf8) {
        std::snprintf(buf, sizeof buf, "byte 0x%02x is not valid UTF-8", character);
        return buf;
    }
    switch (character) {
        case '\t': return "a tab";
        case '\n': return "a line end";
        case '\r': return "a carriage return";
        case 0: return "a NUL byte";
        case 0x1b: return "control character 0x1b (escape)";
        default: break;
    }
    std::snprintf(buf, sizeof buf,
                  character < 0x80 ? "control character 0x%02x" : "control character U+%04X",
                  character);
    return buf;
}

std::optional<Flaw> first_flaw(std::string_view s, Allow allow) {
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_length(s, i);
        if (n == 0) return Flaw{i, static_cast<unsigned char>(s[i]), true};
        uint32_t cp = decode(s, i, n);
        bool allowed = allow == Allow::tabs_and_newlines && (cp == '\t' || cp == '\n' || cp == '\r');
        if (is_control(cp) && !allowed) return Flaw{i, cp, false};
        i += n;
    }
    return std::nullopt;
}

std::string printable(std::string_view s, size_t max_bytes) {
    std::string out;
    out.reserve(s.size() < max_bytes ? s.size() : max_bytes);
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_length(s, i);
        bool keep = n > 0 && !is_control(decode(s, i, n));
        size_t adds = keep ? n : 4 * (n ? n : 1);
        if (out.size() + adds > max_bytes) break;
        if (keep) {
            out.append(s.substr(i, n));
        } else {
            for (size_t k = 0; k < (n ? n : 1); ++k) append_hex(out, static_cast<unsigned char>(s[i + k]));
        }
        i += n ? n : 1;
    }
    return out;
}

std::string printable(std::span<const uint8_t> bytes, size_t max_bytes) {
    return printable(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                     max_bytes);
}

void printable_strings(nlohmann::json& j) {
    if (j.is_string()) {
        auto& s = j.get_ref<std::string&>();
        if (!is_safe(s)) s = printable(s);
    } else if (j.is_structured()) {
        for (auto& item : j) printable_strings(item);
    }
}

}  // namespace warden::text
