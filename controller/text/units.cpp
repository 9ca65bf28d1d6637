#include "text/units.h"

#include <algorithm>
#include <array>
#include <limits>

#include "text/text.h"

namespace warden::text {

namespace {

struct Unit {
    std::string_view suffix;
    uint64_t factor;
};

// Largest first: parse_duration uses the order to insist on "1h30m", not "30m1h".
constexpr std::array<Unit, 5> duration_units{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

constexpr std::array<Unit, 9> size_units{{
    {"B", 1},
    {"kB", 1ull << 10},
    {"KB", 1ull << 10},
    {"KiB", 1ull << 10},
    {"MB", 1ull << 20},
    {"MiB", 1ull << 20},
    {"GB", 1ull << 30},
    {"GiB", 1ull << 30},
    {"TB", 1ull << 40},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Reads the digits at text[pos...] into `value`; false on overflow.
bool read_number(std::string_view text, size_t& pos, uint64_t& value) {
    value = 0;
    while (pos < text.size() && is_digit(text[pos])) {
        unsigned digit = text[pos++] - '0';
        if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
        value = value * 10 + digit;
    }
    return true;
}

bool multiply(uint64_t a, uint64_t b, uint64_t& out) {
    if (b != 0 && a > std::numeric_limits<uint64_t>::max() / b) return false;
    out = a * b;
    return true;
}

template <typename T>
std::optional<T> fail(std::string* why, std::string reason) {
    if (why) *why = std::move(reason);
    return std::nullopt;
}

// "unexpected '’'": the whole character at pos (these parse text a person typed, also on
// the command line), made printable.
std::string unexpected_at(std::string_view s, size_t pos) {
    size_t n = std::max<size_t>(text::utf8_length(s, pos), 1);
    return "unexpected '" + text::printable(s.substr(pos, n)) + "'; ";
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string* why) {
    using Result = std::chrono::milliseconds;
    const char* expected = "expected a number with a unit (ms, s, m, h, d), e.g. 90s, 15m, 1h30m";
    if (text.empty()) return fail<Result>(why, std::string("empty; ") + expected);

    // Milliseconds fit comfortably in int64 up to ~292 million years; cap far below that so
    // adding a duration to a monotonic timestamp can never overflow.
    constexpr uint64_t max_ms = 100ull * 365 * 86'400'000;
    uint64_t total = 0;
    size_t next_unit = 0;  // index into duration_units: units must come largest first
    size_t pos = 0;
    while (pos < text.size()) {
        if (!is_digit(text[pos])) {
            if (pos == 0 && (text[0] == '-' || text[0] == '+'))
                return fail<Result>(why, "a duration has no sign");
            return fail<Result>(why, unexpected_at(text, pos) + expected);
        }
        uint64_t number = 0;
        if (!read_number(text, pos, number))
            return fail<Result>(why, "too large (at most 100 years)");
        size_t start = pos;
        while (pos < text.size() && is_letter(text[pos])) ++pos;
        std::string_view suffix = text.substr(start, pos - start);
        if (suffix.empty()) {
            if (pos < text.size() && (text[pos] == '.' || text[pos] == ','))
                return fail<Result>(why, "fractions are not allowed; write 1m30s, not 1.5m");
            if (pos < text.size())
                return fail<Result>(why, unexpected_at(text, pos) + expected);
            return fail<Result>(why, "a number without a unit; " + std::string(expected));
        }
        size_t unit = 0;
        while (unit < duration_units.size() && duration_units[unit].suffix != suffix) ++unit;
        if (unit == duration_units.size())
            return fail<Result>(why, "unknown unit '" + std::string(suffix) + "'; " + expected);
        if (unit < next_unit)
            return fail<Result>(why,
                                "units must go from largest to smallest, each once (e.g. 1h30m)");
        next_unit = unit + 1;
        uint64_t ms = 0;
        if (!multiply(number, duration_units[unit].factor, ms) || ms > max_ms - total)
            return fail<Result>(why, "too large (at most 100 years)");
        total += ms;
    }
    return Result(static_cast<int64_t>(total));
}

std::string format_duration(std::chrono::milliseconds d) {
    int64_t count = d.count();
    if (count == 0) return "0s";
    std::string out;
    uint64_t left;
    if (count < 0) {
        out = "-";
        left = static_cast<uint64_t>(-(count + 1)) + 1;  // no overflow at INT64_MIN
    } else {
        left = static_cast<uint64_t>(count);
    }
    for (const auto& unit : duration_units) {
        if (left >= unit.factor) {
            out += std::to_string(left / unit.factor);
            out += unit.suffix;
            left %= unit.factor;
        }
    }
    return out;
}

std::optional<uint64_t> parse_size(std::string_view text, std::string* why) {
    const char* expected = "expected bytes or a number with a unit (B, kB, MB, GB), e.g. 10MB";
    if (text.empty()) return fail<uint64_t>(why, std::string("empty; ") + expected);
    if (text[0] == '-' || text[0] == '+') return fail<uint64_t>(why, "a size has no sign");
    if (!is_digit(text[0]))
        return fail<uint64_t>(why, unexpected_at(text, 0) + expected);
    size_t pos = 0;
    uint64_t number = 0;
    if (!read_number(text, pos, number)) return fail<uint64_t>(why, "too large");
    std::string_view suffix = text.substr(pos);
    if (suffix.empty()) return number;
    if (suffix[0] == '.' || suffix[0] == ',')
        return fail<uint64_t>(why, "fractions are not allowed; write 1536kB, not 1.5MB");
    for (const auto& unit : size_units) {
        if (unit.suffix == suffix) {
            uint64_t bytes = 0;
            if (!multiply(number, unit.factor, bytes)) return fail<uint64_t>(why, "too large");
            return bytes;
        }
    }
    return fail<uint64_t>(why, "unknown unit '" + text::printable(suffix, 60) + "'; " + expected);
}

std::string format_size(uint64_t bytes) {
    // Only the canonical spellings, largest exact unit first.
    constexpr std::array<Unit, 4> canonical{
        {{"TB", 1ull << 40}, {"GB", 1ull << 30}, {"MB", 1ull << 20}, {"kB", 1ull << 10}}};
    if (bytes != 0) {
        for (const auto& unit : canonical)
            if (bytes % unit.factor == 0)
                return std::to_string(bytes / unit.factor) + std::string(unit.suffix);
    }
    return std::to_string(bytes) + "B";
}

}  // namespace warden::text
