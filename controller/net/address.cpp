#include "net/address.h"

#include <algorithm>

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace warden::net {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<Mac> Mac::parse(std::string_view text) {
    // Exactly six pairs of hex digits separated by one consistent ':' or '-'.
    if (text.size() != 17) return std::nullopt;
    char sep = text[2];
    if (sep != ':' && sep != '-') return std::nullopt;
    Mac mac;
    for (size_t i = 0; i < 6; ++i) {
        int hi = hex_digit(text[i * 3]);
        int lo = hex_digit(text[i * 3 + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        if (i < 5 && text[i * 3 + 2] != sep) return std::nullopt;
        mac.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return mac;
}

std::string Mac::str() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5]);
    return buf;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
    std::string s(text);
    IpAddr a;
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) == 1) return from_v4(v4.s_addr);
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
    return std::nullopt;
}

IpAddr IpAddr::from_v4(uint32_t network_order) {
    IpAddr a;
    a.bytes[10] = 0xff;
    a.bytes[11] = 0xff;
    std::memcpy(&a.bytes[12], &network_order, 4);
    return a;
}

IpAddr IpAddr::v4(const uint8_t (&b)[4]) {
    uint32_t n;
    std::memcpy(&n, b, 4);
    return from_v4(n);
}

bool IpAddr::is_v4() const {
    for (int i = 0; i < 10; ++i)
        if (bytes[i]) return false;
    return bytes[10] == 0xff && bytes[11] == 0xff;
}

bool IpAddr::is_unspecified() const {
    if (is_v4()) return bytes[12] == 0 && bytes[13] == 0 && bytes[14] == 0 && bytes[15] == 0;
    for (auto b : bytes)
        if (b) return false;
    return true;
}

std::string IpAddr::str() const {
    char buf[INET6_ADDRSTRLEN];
    if (is_v4()) return inet_ntop(AF_INET, &bytes[12], buf, sizeof buf);
    return inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
}

std::optional<Prefix> Prefix::parse(std::string_view text, std::string* why) {
    auto fail = [&](const char* reason) -> std::optional<Prefix> {
        if (why) *why = reason;
        return std::nullopt;
    };
    auto slash = text.find('/');
    auto addr = IpAddr::parse(text.substr(0, slash));
    if (!addr) return fail("not an IPv4 or IPv6 address");
    unsigned max = addr->is_v4() ? 32 : 128;
    unsigned len = max;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        if (digits.empty() || digits.size() > 3) return fail("prefix length is not a number");
        len = 0;
        for (char c : digits) {
            if (c < '0' || c > '9') return fail("prefix length is not a number");
            len = len * 10 + (c - '0');
        }
        if (len > max)
            return fail(max == 32 ? "IPv4 prefix length above 32" : "IPv6 prefix length above 128");
    }
    // Host bits below the length must be zero.
    unsigned offset = addr->is_v4() ? 96 : 0;
    for (unsigned bit = offset + len; bit < 128; ++bit) {
        if (addr->bytes[bit / 8] & (0x80 >> (bit % 8)))
            return fail("host bits set below the prefix length");
    }
    return Prefix{*addr, len};
}

std::string Prefix::str() const { return addr.str() + "/" + std::to_string(len); }

namespace {

// Whether a and b agree on their first bits bits (of the 128 of the v4-mapped form).
bool same_leading_bits(const IpAddr& a, const IpAddr& b, unsigned bits) {
    for (unsigned i = 0; i < bits; ++i)
        if ((a.bytes[i / 8] ^ b.bytes[i / 8]) & (0x80 >> (i % 8))) return false;
    return true;
}

unsigned mapped_len(const Prefix& p) { return p.is_v4() ? 96 + p.len : p.len; }

}  // namespace

Prefix Prefix::of(const IpAddr& addr, unsigned len) {
    Prefix p;
    p.addr = addr;
    p.len = std::min(len, addr.is_v4() ? 32u : 128u);
    for (unsigned bit = mapped_len(p); bit < 128; ++bit) p.addr.bytes[bit / 8] &= ~(0x80 >> (bit % 8));
    return p;
}

bool Prefix::contains(const IpAddr& a) const {
    return a.is_v4() == is_v4() && same_leading_bits(addr, a, mapped_len(*this));
}

bool Prefix::overlaps(const Prefix& other) const {
    return other.is_v4() == is_v4() && same_leading_bits(addr, other.addr, std::min(mapped_len(*this), mapped_len(other)));
}

}  // namespace warden::net
