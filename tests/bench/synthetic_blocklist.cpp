#include "synthetic_blocklist.h"

#include <algorithm>
#include <array>
#include <random>
#include <set>
#include <utility>

namespace warden::bench {

namespace {

// The address bytes of a prefix's own family: the last 4 of a v4-mapped IPv4 address.
const uint8_t* family_bytes(const net::Prefix& p) {
    return p.addr.bytes.data() + (p.is_v4() ? 12 : 0);
}

// Two prefixes of one family overlap when they agree on the bits of the shorter one.
bool overlap(const net::Prefix& a, const net::Prefix& b) {
    if (a.is_v4() != b.is_v4()) return false;
    const uint8_t* x = family_bytes(a);
    const uint8_t* y = family_bytes(b);
    for (unsigned i = 0; i < std::min(a.len, b.len); ++i) {
        uint8_t bit = 0x80 >> (i % 8);
        if ((x[i / 8] & bit) != (y[i / 8] & bit)) return false;
    }
    return true;
}

void clear_host_bits(uint8_t* bytes, unsigned nbytes, unsigned len) {
    for (unsigned i = 0; i < nbytes * 8; ++i)
        if (i >= len) bytes[i / 8] &= ~(0x80 >> (i % 8));
}

}  // namespace

std::string load_synthetic_blocklist(dataplane::Blocklist& blocklist, const BlocklistShape& shape) {
    std::mt19937_64 rng(shape.seed);
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    auto allowed = [&](const net::Prefix& p) {
        for (const auto& clear : shape.keep_clear)
            if (overlap(p, clear)) return false;
        return true;
    };

    // IPv4: 55% hosts, 30% /24s, 15% networks between /12 and /23, anywhere in 1.0.0.0 up to
    // the end of unicast space (223.255.255.255).
    std::set<std::pair<uint32_t, unsigned>> seen4;
    std::uniform_int_distribution<uint32_t> v4_addr(0x01000000u, 0xdfffffffu);
    std::uniform_int_distribution<unsigned> v4_wide(12, 23);
    while (seen4.size() < shape.v4_prefixes) {
        double c = coin(rng);
        unsigned len = c < 0.55 ? 32 : c < 0.85 ? 24 : v4_wide(rng);
        uint32_t host = v4_addr(rng);
        uint32_t addr = len == 32 ? host : host & ~(0xffffffffu >> len);
        uint8_t b[4] = {uint8_t(addr >> 24), uint8_t(addr >> 16), uint8_t(addr >> 8), uint8_t(addr)};
        net::Prefix p{net::IpAddr::v4(b), len};
        if (!allowed(p) || !seen4.insert({addr, len}).second) continue;
        blocklist.put(p, WD_BLOCK_OUT | WD_BLOCK_IN, 1);
    }

    // IPv6: inside global unicast 2000::/3; 30% /32, 40% /48, 20% /64, 10% hosts.
    std::set<std::pair<std::array<uint8_t, 16>, unsigned>> seen6;
    std::uniform_int_distribution<unsigned> byte(0, 255);
    while (seen6.size() < shape.v6_prefixes) {
        double c = coin(rng);
        unsigned len = c < 0.3 ? 32 : c < 0.7 ? 48 : c < 0.9 ? 64 : 128;
        net::IpAddr a;
        for (auto& x : a.bytes) x = uint8_t(byte(rng));
        a.bytes[0] = uint8_t(0x20 | (a.bytes[0] & 0x1f));
        clear_host_bits(a.bytes.data(), 16, len);
        net::Prefix p{a, len};
        if (!allowed(p) || !seen6.insert({a.bytes, len}).second) continue;
        blocklist.put(p, WD_BLOCK_OUT | WD_BLOCK_IN, 1);
    }

    std::string clear;
    for (const auto& p : shape.keep_clear) clear += (clear.empty() ? "" : ", ") + p.str();
    return std::to_string(shape.v4_prefixes) +
           " IPv4 prefixes (55% /32, 30% /24, 15% /12-/23, random in 1.0.0.0-223.255.255.255) and " +
           std::to_string(shape.v6_prefixes) +
           " IPv6 prefixes (30% /32, 40% /48, 20% /64, 10% /128, random in 2000::/3), seed " +
           std::to_string(shape.seed) + ", none overlapping " + clear;
}

}  // namespace warden::bench
