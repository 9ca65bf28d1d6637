#include "identity/ssdp.h"

#include <string_view>

#include "identity/wire.h"
#include "text/text.h"

namespace warden::identity {

namespace {

using wire::refuse;

constexpr size_t kMaxHeaders = 32;
constexpr size_t kMaxLine = 1024;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string printable(std::string_view s) { return text::printable(s, kMaxLine); }

// A header's value: trimmed, printable, and trimmed again, since escapes can make it longer
// than kMaxLine and a cut there can leave a space at the end (found by fuzz_ssdp).
std::string header_value(std::string_view raw) {
    std::string out = printable(trim(raw));
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

// RFC 9110 token characters: what a header name may be made of.
bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

bool starts_with_method(std::string_view line) {
    if (line.starts_with("NOTIFY ") || line.starts_with("M-SEARCH ")) return true;
    return line.size() >= 8 && line.starts_with("HTTP/1.") && line[7] >= '0' && line[7] <= '9';
}

}  // namespace

std::optional<SsdpMessage> parse_ssdp(std::span<const uint8_t> payload, std::string* why) {
    std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
    SsdpMessage m;
    size_t line_number = 0;
    size_t header_lines = 0;
    bool start_seen = false;
    while (!text.empty()) {
        auto lf = text.find('\n');
        // A last line with no line end may have been cut by the copy: dropped rather than
        // read as a shorter value than the device sent.
        if (lf == std::string_view::npos) break;
        auto line = text.substr(0, lf);
        text.remove_prefix(lf + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        ++line_number;
        auto where = "line " + std::to_string(line_number) + ": ";
        if (line.size() > kMaxLine) return refuse(why, where + "longer than 1024 bytes");

        if (!start_seen) {
            if (!starts_with_method(line))
                return refuse(why, "start line is not NOTIFY, M-SEARCH or an HTTP/1.x response");
            m.start_line = printable(line);
            start_seen = true;
            continue;
        }
        if (line.empty()) break;  // end of the headers; SSDP has no body worth reading
        if (line.front() == ' ' || line.front() == '\t')
            return refuse(why, where + "folded header line (obsolete, RFC 9112 5.2)");
        auto colon = line.find(':');
        if (colon == std::string_view::npos) return refuse(why, where + "header line without ':'");
        auto name = line.substr(0, colon);
        if (!is_token(name)) return refuse(why, where + "header name is not a token");
        if (++header_lines > kMaxHeaders) return refuse(why, "more than 32 header lines");
        std::string upper(name);
        for (char& c : upper)
            if (c >= 'a' && c <= 'z') c = c - 'a' + 'A';
        // A repeated header keeps its first value: SSDP headers are single-valued.
        m.headers.emplace(std::move(upper), header_value(line.substr(colon + 1)));
    }
    if (!start_seen) return refuse(why, "no complete start line");
    return m;
}

}  // namespace warden::identity
