// MAC addresses, IP addresses and prefixes: parsing operator input and printing.
// IP addresses are kept as 16 bytes with IPv4 v4-mapped, as in the kernel ABI.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warden::net {

struct Mac {
    std::array<uint8_t, 6> bytes{};

    static std::optional<Mac> parse(std::string_view text);  // aa:bb:cc:dd:ee:ff or aa-bb-...
    std::string str() const;                                   // lower case, colons
    bool is_multicast() const { return bytes[0] & 0x01; }
    bool is_locally_administered() const { return bytes[0] & 0x02; }
    auto operator<=>(const Mac&) const = default;
};

struct IpAddr {
    std::array<uint8_t, 16> bytes{};  // IPv4 as ::ffff:a.b.c.d

    static std::optional<IpAddr> parse(std::string_view text);
    static IpAddr v4(const uint8_t (&a)[4]);
    static IpAddr from_v4(uint32_t network_order);
    bool is_v4() const;
    bool is_unspecified() const;
    std::string str() const;
    auto operator<=>(const IpAddr&) const = default;
};

struct Prefix {
    IpAddr addr;       // host bits cleared
    unsigned len = 0;  // 0..32 for IPv4, 0..128 for IPv6 (length within its own family)

    // "198.18.0.0/15", "fd00::/8", or a bare address (a /32 or /128). Host bits set below
    // the length are an error: "10.0.0.1/8" almost always means a typo.
    static std::optional<Prefix> parse(std::string_view text, std::string* why = nullptr);
    // The prefix of length len (within addr's family) that holds addr: host bits cleared.
    static Prefix of(const IpAddr& addr, unsigned len);
    bool is_v4() const { return addr.is_v4(); }
    bool contains(const IpAddr& a) const;
    // Either holds the other (prefixes never partly overlap).
    bool overlaps(const Prefix& other) const;
    std::string str() const;
    auto operator<=>(const Prefix&) const = default;
};

}  // namespace warden::net

template <>
struct std::hash<warden::net::Mac> {
    size_t operator()(const warden::net::Mac& m) const noexcept {
        uint64_t v = 0;
        for (auto b : m.bytes) v = v << 8 | b;
        return std::hash<uint64_t>{}(v);
    }
};
