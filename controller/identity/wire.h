// Reading untrusted bytes in network order (used by the identity parsers only): a cursor that
// never reads past its span, and the conversions the parsers share (text a device chose goes
// through text::printable, as every text from outside does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>

namespace warden::identity::wire {

// A read past the end does not happen: it returns zeros / an empty span and marks the
// cursor failed. Parsers read a header's fields in a row and check ok() once after them,
// so a bounds check cannot be forgotten for one field.
class Cursor {
public:
    explicit Cursor(std::span<const uint8_t> bytes, size_t offset = 0)
        : bytes_(bytes), pos_(offset <= bytes.size() ? offset : bytes.size()), ok_(offset <= bytes.size()) {}

    bool ok() const { return ok_; }
    size_t offset() const { return pos_; }
    size_t left() const { return bytes_.size() - pos_; }
    bool at_end() const { return pos_ == bytes_.size(); }

    uint8_t u8() { return static_cast<uint8_t>(read(1)); }
    uint16_t u16() { return static_cast<uint16_t>(read(2)); }
    uint32_t u32() { return static_cast<uint32_t>(read(4)); }

    std::span<const uint8_t> take(size_t n) {
        if (!ok_ || n > left()) return fail();
        auto out = bytes_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    void skip(size_t n) { take(n); }

private:
    uint64_t read(size_t n) {
        auto b = take(n);
        uint64_t v = 0;
        for (uint8_t byte : b) v = v << 8 | byte;
        return v;
    }
    std::span<const uint8_t> fail() {
        ok_ = false;
        pos_ = bytes_.size();
        return {};
    }

    std::span<const uint8_t> bytes_;
    size_t pos_;
    bool ok_;
};

inline bool is_printable(uint8_t c) { return c >= 0x20 && c <= 0x7e; }

inline std::string hex(std::span<const uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0f]);
    }
    return out;
}

// A refusal: the reason goes to *why (when the caller asked for it); std::nullopt converts
// to whichever optional the parser returns.
inline std::nullopt_t refuse(std::string* why, std::string reason) {
    if (why) *why = std::move(reason);
    return std::nullopt;
}

}  // namespace warden::identity::wire
