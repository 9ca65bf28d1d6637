// 200,000 random and mutated frames through every program, judged by an oracle: a parser
// written here from the specification, independent of the BPF one, decides what each
// program must answer. Seeded; the seed is printed, and WARDEN_SEED=<n> replays a run.
//
// The oracle: lan_ingress drops exactly the frames whose source MAC has an active
// quarantine (isolate: all; restricted: all but ARP, and ND, DHCP/DHCPv6 requests and DNS to
// this link or a gateway address) or whose destination address is blocklisted outbound; lan_egress drops
// exactly the frames to a unicast MAC with an active quarantine (restricted: all but ARP,
// and ND, DHCP/DHCPv6 answers and DNS from this link or a gateway address); wan_ingress drops exactly the
// frames whose source address is blocklisted inbound. Every run must succeed, and each
// program's stats must add up to the oracle's counts.
#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

#include "support/harness.h"

using namespace warden;
using namespace warden::testing;
using dataplane::Program;

namespace {

const TestLan& L = lan();

// ---- the oracle's own reading of a frame ----

struct Reading {
    uint16_t ethertype = 0;  // after VLAN tags; 0 when the tags are cut short
    bool addresses = false;  // an IP header was read whole
    bool v6 = false;
    net::IpAddr src, dst;
    int protocol = -1;  // transport protocol, once known
    bool later_fragment = false;
    bool transport = false;  // the transport header (TCP, UDP, ICMP) was read whole
    uint16_t sport = 0, dport = 0;
    uint8_t icmp_type = 0;
    bool unparsed = false;
};

uint16_t be16(const Bytes& f, size_t at) { return uint16_t(f[at] << 8 | f[at + 1]); }

bool is_ipv6_extension(int next) { return next == 0 || next == 43 || next == 44 || next == 60; }

Reading read_frame(const Bytes& f) {
    Reading r;
    size_t n = f.size(), at = 14;
    if (n < 14) {
        r.unparsed = true;
        return r;
    }
    uint16_t type = be16(f, 12);
    for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); ++tags) {
        if (at + 4 > n) {
            r.unparsed = true;
            return r;
        }
        type = be16(f, at + 2);
        at += 4;
    }
    r.ethertype = type;
    if (type == 0x0806) return r;  // ARP: nothing in it is needed
    if (type == 0x0800) {
        if (at + 20 > n || f[at] >> 4 != 4 || (f[at] & 0x0f) < 5 || at + (f[at] & 0x0f) * 4 > n) {
            r.unparsed = true;
            return r;
        }
        uint8_t v4[4];
        std::copy(f.begin() + at + 12, f.begin() + at + 16, v4);
        r.src = net::IpAddr::v4(v4);
        std::copy(f.begin() + at + 16, f.begin() + at + 20, v4);
        r.dst = net::IpAddr::v4(v4);
        r.addresses = true;
        r.later_fragment = (be16(f, at + 6) & 0x1fff) != 0;
        r.protocol = f[at + 9];
        at += (f[at] & 0x0f) * 4;
    } else if (type == 0x86dd) {
        if (at + 40 > n || f[at] >> 4 != 6) {
            r.unparsed = true;
            return r;
        }
        std::copy(f.begin() + at + 8, f.begin() + at + 24, r.src.bytes.begin());
        std::copy(f.begin() + at + 24, f.begin() + at + 40, r.dst.bytes.begin());
        r.addresses = true;
        r.v6 = true;
        int next = f[at + 6];
        at += 40;
        // At most 8 extension headers; a 9th means the transport stays unknown.
        for (int walked = 0; is_ipv6_extension(next); ++walked) {
            bool fragment = next == 44;
            if (walked == 8 || at + (fragment ? 8 : 2) > n) {
                r.unparsed = true;
                return r;
            }
            if (fragment) r.later_fragment |= (be16(f, at + 2) & 0xfff8) != 0;
            next = f[at];
            at += fragment ? 8 : (f[at + 1] + 1) * 8;
        }
        r.protocol = next;
    } else {
        r.unparsed = true;  // an EtherType nobody here reads
        return r;
    }
    if (r.later_fragment) return r;  // no transport header in it
    size_t need = r.protocol == 6 ? 20 : (r.protocol == 17 || r.protocol == 1 || r.protocol == 58) ? 8 : 0;
    if (!need) return r;
    if (at + need > n) {
        r.unparsed = true;
        return r;
    }
    r.transport = true;
    if (r.protocol == 1 || r.protocol == 58) {
        r.icmp_type = f[at];
    } else {
        r.sport = be16(f, at);
        r.dport = be16(f, at + 2);
    }
    return r;
}

// ---- the oracle's policy ----

struct Quarantined {
    uint32_t level;
    uint64_t expires_ns;
};

struct BlockRule {
    net::Prefix prefix;
    uint32_t flags;
};

class Oracle {
public:
    std::map<net::Mac, Quarantined> quarantine;
    std::vector<BlockRule> blocklist;
    std::vector<net::IpAddr> gateway_addrs;
    uint64_t now_ns = 0;

    // 0 = passes, else 1 + enum wd_drop_reason.
    int lan_ingress(const Bytes& f, const Reading& r) const {
        if (auto q = active(dataplane::mac_of(&f[6]))) {
            if (q->level == WD_LEVEL_ISOLATE) return 1 + WD_DROP_ISOLATED;
            if (q->level == WD_LEVEL_RESTRICTED && !restricted_may_send(r)) return 1 + WD_DROP_RESTRICTED;
        }
        if (r.addresses && (block_flags(r.dst) & WD_BLOCK_OUT)) return 1 + WD_DROP_BLOCKLIST;
        return 0;
    }

    int lan_egress(const Bytes& f, const Reading& r) const {
        auto dst = dataplane::mac_of(&f[0]);
        if (dst.is_multicast()) return 0;
        if (auto q = active(dst)) {
            if (q->level == WD_LEVEL_ISOLATE) return 1 + WD_DROP_ISOLATED;
            if (q->level == WD_LEVEL_RESTRICTED && !restricted_may_receive(r)) return 1 + WD_DROP_RESTRICTED;
        }
        return 0;
    }

    int wan_ingress(const Reading& r) const {
        return r.addresses && (block_flags(r.src) & WD_BLOCK_IN) ? 1 + WD_DROP_BLOCKLIST : 0;
    }

    // Whether a program sees the frame as isolated before parsing (so no unparsed count).
    bool isolated_source(const Bytes& f) const {
        auto q = active(dataplane::mac_of(&f[6]));
        return q && q->level == WD_LEVEL_ISOLATE;
    }
    bool isolated_destination(const Bytes& f) const {
        auto dst = dataplane::mac_of(&f[0]);
        auto q = dst.is_multicast() ? std::nullopt : active(dst);
        return q && q->level == WD_LEVEL_ISOLATE;
    }

private:
    std::optional<Quarantined> active(const net::Mac& m) const {
        auto it = quarantine.find(m);
        if (it == quarantine.end()) return std::nullopt;
        if (it->second.expires_ns != 0 && it->second.expires_ns <= now_ns) return std::nullopt;
        return it->second;
    }

    static bool udp(const Reading& r, uint16_t sport, uint16_t dport) {
        return r.protocol == 17 && r.transport && r.sport == sport && r.dport == dport;
    }
    static bool nd(const Reading& r) {
        return r.v6 && r.protocol == 58 && r.transport && r.icmp_type >= 133 && r.icmp_type <= 137;
    }
    bool gateway(const net::IpAddr& a) const {
        return std::find(gateway_addrs.begin(), gateway_addrs.end(), a) != gateway_addrs.end();
    }
    // On this link: fe80::/10 (never routed) and link-scope multicast (ff02::1:2, ff02::2...).
    static bool link_local(const net::IpAddr& a) { return a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80; }
    static bool link_multicast(const net::IpAddr& a) { return a.bytes[0] == 0xff && (a.bytes[1] & 0x0f) == 0x02; }
    static bool broadcast4(const net::IpAddr& a) { return a == net::IpAddr::parse("255.255.255.255"); }
    // ND, DHCP and DHCPv6 only to this link or the gateway, so they carry nothing further.
    bool restricted_may_send(const Reading& r) const {
        if (r.ethertype == 0x0806) return true;
        if (nd(r)) return link_multicast(r.dst) || link_local(r.dst) || gateway(r.dst);
        if (udp(r, 68, 67)) return broadcast4(r.dst) || gateway(r.dst);
        if (udp(r, 546, 547)) return link_multicast(r.dst) || gateway(r.dst);
        return (r.protocol == 6 || r.protocol == 17) && r.transport && r.dport == 53 && gateway(r.dst);
    }
    bool restricted_may_receive(const Reading& r) const {
        if (r.ethertype == 0x0806) return true;
        if (nd(r)) return link_local(r.src) || gateway(r.src);
        if (udp(r, 67, 68)) return gateway(r.src);
        if (udp(r, 547, 546)) return link_local(r.src) || gateway(r.src);
        return (r.protocol == 6 || r.protocol == 17) && r.transport && r.sport == 53 && gateway(r.src);
    }

    uint32_t block_flags(const net::IpAddr& a) const {
        const BlockRule* best = nullptr;
        for (const auto& rule : blocklist) {
            if (rule.prefix.is_v4() != a.is_v4()) continue;
            unsigned first = a.is_v4() ? 96 : 0, bits = rule.prefix.len;
            bool inside = true;
            for (unsigned b = first; b < first + bits && inside; ++b)
                inside = ((rule.prefix.addr.bytes[b / 8] ^ a.bytes[b / 8]) & (0x80 >> (b % 8))) == 0;
            if (inside && (!best || bits > best->prefix.len)) best = &rule;
        }
        return best ? best->flags : 0;
    }
};

// ---- frames ----

class FrameMaker {
public:
    explicit FrameMaker(uint64_t seed) : rng_(seed) {}

    Bytes next() {
        Bytes f = chance(0.2) ? random_bytes() : built();
        // Mutations: cut short, flip bytes, or both. Never below an Ethernet header:
        // test_run refuses those outright.
        if (chance(0.3) && f.size() > 14) f.resize(14 + below(f.size() - 14 + 1));
        if (chance(0.3)) {
            int flips = 1 + below(4);
            for (int i = 0; i < flips; ++i) f[below(f.size())] ^= uint8_t(1 + below(255));
        }
        return f;
    }

    std::vector<net::Mac> macs;
    std::vector<net::IpAddr> v4, v6;

private:
    bool chance(double p) { return std::uniform_real_distribution<>(0, 1)(rng_) < p; }
    size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
    template <typename T>
    const T& pick(const std::vector<T>& v) {
        return v[below(v.size())];
    }
    uint16_t port() {
        static const std::vector<uint16_t> ports = {53, 67, 68, 546, 547, 443, 80, 5353, 0};
        return chance(0.7) ? pick(ports) : uint16_t(below(65536));
    }
    net::IpAddr random_address(bool v6) {
        net::IpAddr a;
        if (!v6) {
            uint32_t x = uint32_t(rng_());
            return net::IpAddr::from_v4(x);
        }
        for (auto& b : a.bytes) b = uint8_t(rng_());
        return a;
    }
    net::Mac random_mac() {
        net::Mac m;
        for (auto& b : m.bytes) b = uint8_t(rng_());
        return m;
    }

    Bytes random_bytes() {
        Bytes f(14 + below(200));
        for (auto& b : f) b = uint8_t(rng_());
        if (chance(0.5)) {
            auto src = pick(macs), dst = pick(macs);
            std::copy(dst.bytes.begin(), dst.bytes.end(), f.begin());
            std::copy(src.bytes.begin(), src.bytes.end(), f.begin() + 6);
        }
        if (chance(0.6)) {
            static const std::vector<uint16_t> types = {0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8};
            uint16_t t = pick(types);
            f[12] = t >> 8;
            f[13] = t & 0xff;
        }
        return f;
    }

    Bytes built() {
        Packet p;
        p.eth(chance(0.9) ? pick(macs) : random_mac(), chance(0.9) ? pick(macs) : random_mac());
        double tags = std::uniform_real_distribution<>(0, 1)(rng_);
        if (tags > 0.6) p.vlan(below(4096), chance(0.5) ? kTpid8021Q : kTpid8021AD);
        if (tags > 0.85) p.vlan(below(4096));
        if (tags > 0.97) p.vlan(below(4096));
        double l3 = std::uniform_real_distribution<>(0, 1)(rng_);
        if (l3 < 0.08) {
            p.arp(1 + below(2), pick(v4), pick(v4));
            return p.build();
        }
        if (l3 < 0.14) {
            p.ethertype(uint16_t(rng_())).payload(below(100));
            return p.build();
        }
        bool v6 = l3 >= 0.55;
        if (v6) {
            p.ipv6(chance(0.9) ? pick(this->v6) : random_address(true), chance(0.9) ? pick(this->v6) : random_address(true));
            size_t exts = chance(0.6) ? 0 : chance(0.75) ? 1 + below(3) : 7 + below(4);
            for (size_t i = 0; i < exts; ++i) {
                switch (below(4)) {
                    case 0: p.hop_by_hop(below(3)); break;
                    case 1: p.routing(below(3)); break;
                    case 2: p.destination_options(below(3)); break;
                    default: p.fragment6(chance(0.5) ? 0 : 1 + below(8000), chance(0.5)); break;
                }
            }
        } else {
            p.ipv4(chance(0.9) ? pick(v4) : random_address(false), chance(0.9) ? pick(v4) : random_address(false));
            if (chance(0.2)) {
                Bytes options(1 + below(40));
                for (auto& b : options) b = uint8_t(rng_());
                p.ipv4_options(options);
            }
            if (chance(0.15)) p.ipv4_fragment(chance(0.5) ? 0 : 1 + below(8000), chance(0.5));
            if (chance(0.03)) p.ipv4_ihl(below(16));
        }
        switch (below(7)) {
            case 0:
            case 1: p.tcp(port(), port(), uint8_t(rng_())); break;
            case 2:
            case 3: p.udp(port(), port()); break;
            case 4: p.icmp_echo(uint16_t(rng_()), chance(0.5)); break;
            case 5: p.icmp(chance(0.5) ? 133 + below(5) : uint8_t(rng_()), 0); break;
            default: p.ip_protocol(uint8_t(rng_())); break;
        }
        p.payload(chance(0.9) ? below(300) : below(1400));
        return p.build();
    }

    std::mt19937_64 rng_;
};

// skb test_run (lan_egress) refuses a frame whose outer EtherType is IP when it is too
// short for the IP header (measured on this kernel); everything else must run.
bool skb_test_run_accepts(const Bytes& f) {
    uint16_t outer = be16(f, 12);
    if (outer == 0x0800) return f.size() >= 14 + 20;
    if (outer == 0x86dd) return f.size() >= 14 + 40;
    return true;
}

std::string hex(const Bytes& f) {
    std::ostringstream s;
    for (size_t i = 0; i < f.size(); ++i) {
        char b[4];
        std::snprintf(b, sizeof b, "%02x", f[i]);
        s << b;
    }
    return s.str();
}

uint64_t seed_from_env_or_random() {
    if (const char* s = std::getenv("WARDEN_SEED")) {
        char* end = nullptr;
        uint64_t v = std::strtoull(s, &end, 0);
        if (!*s || *end) throw std::invalid_argument(std::string("WARDEN_SEED is not a number: ") + s);
        return v;
    }
    return std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32);
}

struct Tally {
    uint64_t seen = 0, passed = 0, unparsed = 0, bytes = 0;
    uint64_t dropped[WD_DROP_MAX] = {};

    void count(int outcome, bool unparsed_counted, size_t len) {
        ++seen;
        bytes += len;
        if (outcome)
            ++dropped[outcome - 1];
        else
            ++passed;
        if (unparsed_counted) ++unparsed;
    }
};

void check_tally(const char* program, const Tally& t, const wd_prog_stats& s) {
    CAPTURE(program);
    CHECK(s.seen == t.seen);
    CHECK(s.passed == t.passed);
    CHECK(s.bytes == t.bytes);
    CHECK(s.unparsed == t.unparsed);
    for (int r = 0; r < WD_DROP_MAX; ++r) {
        CAPTURE(r);
        CHECK(s.dropped[r] == t.dropped[r]);
    }
}

}  // namespace

TEST_CASE("random: 200,000 random and mutated frames through every program match the oracle") {
    const uint64_t seed = seed_from_env_or_random();
    const int frames = 200'000;
    std::fprintf(stderr, "random frames: seed %llu (replay with WARDEN_SEED=%llu)\n",
                 (unsigned long long)seed, (unsigned long long)seed);
    MESSAGE("seed " << seed << " (replay with WARDEN_SEED=" << seed << ")");

    Harness& h = shared_harness();
    h.set_gateway();
    Oracle oracle;
    oracle.gateway_addrs = {L.gateway4, L.gateway6};
    oracle.now_ns = monotonic_ns();
    const uint64_t hour = 3600ull * 1'000'000'000;

    struct Q {
        const char* mac;
        uint32_t level;
        uint64_t expires;
    };
    const Q quarantined[] = {
        {"02:00:00:00:0a:01", WD_LEVEL_ISOLATE, 0},
        {"02:00:00:00:0a:02", WD_LEVEL_RESTRICTED, 0},
        {"02:00:00:00:0a:03", WD_LEVEL_ISOLATE, oracle.now_ns + hour},
        {"02:00:00:00:0a:04", WD_LEVEL_RESTRICTED, oracle.now_ns + hour},
        {"02:00:00:00:0a:05", WD_LEVEL_ISOLATE, oracle.now_ns - hour},     // expired
        {"02:00:00:00:0a:06", WD_LEVEL_RESTRICTED, oracle.now_ns - hour},  // expired
        {"33:33:00:00:00:01", WD_LEVEL_ISOLATE, 0},  // a group address: only ever a source here
    };
    for (const auto& q : quarantined) {
        h.quarantine().put(mac(q.mac), q.level, WD_ORIGIN_OPERATOR, oracle.now_ns, q.expires);
        oracle.quarantine[mac(q.mac)] = {q.level, q.expires};
    }
    const std::pair<const char*, uint32_t> rules[] = {
        {"198.19.0.0/16", WD_BLOCK_OUT},
        {"198.19.7.0/24", WD_BLOCK_IN},
        {"198.19.7.9/32", WD_BLOCK_IN | WD_BLOCK_OUT},
        {"198.19.8.0/24", 0},  // a hole
        {"128.0.0.0/2", WD_BLOCK_OUT},  // wide ones, so random addresses hit too
        {"64.0.0.0/3", WD_BLOCK_IN},
        {"fd00:bad::/32", WD_BLOCK_OUT},
        {"fd00:bad:7::/48", WD_BLOCK_IN},
        {"fd00:bad:7::9/128", WD_BLOCK_IN | WD_BLOCK_OUT},
        {"8000::/2", WD_BLOCK_OUT},
        {"c000::/3", WD_BLOCK_IN},
    };
    for (const auto& [text, flags] : rules) {
        h.blocklist().put(prefix(text), flags, 1);
        oracle.blocklist.push_back({prefix(text), flags});
    }

    FrameMaker maker(seed);
    for (const auto& q : quarantined) maker.macs.push_back(mac(q.mac));
    for (const auto& m : {L.device, L.other, L.gateway, L.gateway_wlan, L.broadcast, mac("01:00:5e:00:00:fb")})
        maker.macs.push_back(m);
    maker.v4 = {L.gateway4, L.device4, L.other4, L.peer4, L.resolver4, ip("198.19.1.1"), ip("198.19.7.7"),
                ip("198.19.7.9"), ip("198.19.8.8"), ip("0.0.0.0"), ip("255.255.255.255"), ip("130.0.0.1"),
                ip("70.0.0.1")};
    maker.v6 = {L.gateway6, L.device6, L.device6_link, L.other6, L.peer6, L.resolver6, ip("fd00:bad::1"),
                ip("fd00:bad:7::7"), ip("fd00:bad:7::9"), ip("::"), ip("ff02::1:2"), ip("ff02::2"),
                ip("8000::1"), ip("c000::1")};

    Tally in, eg, wan;
    uint64_t mismatches = 0, run_failures = 0, tc_refused = 0, events = 0;
    int reported = 0;
    auto report = [&](int i, const char* program, const std::string& what, const Bytes& f) {
        if (reported++ < 10)
            FAIL_CHECK("frame " << i << " (seed " << seed << ") " << program << ": " << what << "\n  frame "
                                << hex(f));
    };
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < frames; ++i) {
        const Bytes f = maker.next();
        const Reading r = read_frame(f);

        int want_in = oracle.lan_ingress(f, r);
        int want_eg = oracle.lan_egress(f, r);
        int want_wan = oracle.wan_ingress(r);
        try {
            int v = h.run(Program::lan_ingress, f);
            if (v != (want_in ? XDP_DROP : XDP_PASS)) {
                ++mismatches;
                report(i, "lan_ingress", "verdict " + std::to_string(v) + ", oracle says " +
                                             (want_in ? "drop (reason " + std::to_string(want_in - 1) + ")" : "pass"),
                       f);
            }
            in.count(want_in, r.unparsed && !oracle.isolated_source(f), f.size());

            v = h.run(Program::wan_ingress, f);
            if (v != (want_wan ? XDP_DROP : XDP_PASS)) {
                ++mismatches;
                report(i, "wan_ingress", "verdict " + std::to_string(v), f);
            }
            wan.count(want_wan, r.unparsed, f.size());
        } catch (const std::runtime_error& e) {
            ++run_failures;
            report(i, "XDP", e.what(), f);
        }
        if (!skb_test_run_accepts(f)) {
            ++tc_refused;
            CHECK_THROWS_AS(h.run(Program::lan_egress, f), std::runtime_error);
        } else {
            try {
                int v = h.run(Program::lan_egress, f);
                if (v != (want_eg ? TC_ACT_SHOT : TC_ACT_OK)) {
                    ++mismatches;
                    report(i, "lan_egress", "verdict " + std::to_string(v) + ", oracle says " +
                                                (want_eg ? "drop" : "pass"),
                           f);
                }
                eg.count(want_eg, r.unparsed && !oracle.isolated_destination(f), f.size());
            } catch (const std::runtime_error& e) {
                ++run_failures;
                report(i, "lan_egress", e.what(), f);
            }
        }
        if (i % 4096 == 0) events += h.take_events().size();
    }
    events += h.take_events().size();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE(frames << " frames x 3 programs in " << seconds << " s; lan_ingress drops "
                   << in.seen - in.passed << ", lan_egress drops " << eg.seen - eg.passed << ", wan_ingress drops "
                   << wan.seen - wan.passed << ", unparsed " << in.unparsed << "/" << eg.unparsed << "/"
                   << wan.unparsed << ", skb runs refused " << tc_refused << ", events read " << events);

    CHECK(mismatches == 0);
    CHECK(run_failures == 0);
    // The oracle's counts and the programs' own stats agree, reason by reason.
    check_tally("lan_ingress", in, h.prog_stats(Program::lan_ingress));
    check_tally("lan_egress", eg, h.prog_stats(Program::lan_egress));
    check_tally("wan_ingress", wan, h.prog_stats(Program::wan_ingress));
    // Every drop path was exercised; the mix must not silently drift away from them.
    for (int reason : {WD_DROP_ISOLATED, WD_DROP_RESTRICTED, WD_DROP_BLOCKLIST}) CHECK(in.dropped[reason] > 1000);
    CHECK(eg.dropped[WD_DROP_ISOLATED] > 1000);
    CHECK(eg.dropped[WD_DROP_RESTRICTED] > 1000);
    CHECK(wan.dropped[WD_DROP_BLOCKLIST] > 1000);
    CHECK(in.unparsed > 1000);
}
