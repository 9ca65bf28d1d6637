// The blocklist: longest-prefix match in both families; lan_ingress checks a device's
// destination against WD_BLOCK_OUT, wan_ingress an inbound source against WD_BLOCK_IN.
// A hit drops the frame, counts it (program, device) and reports it with the address.
#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <cstring>

#include "support/harness.h"

using namespace warden;
using namespace warden::testing;
using dataplane::Program;

namespace {

const TestLan& L = lan();
const net::Mac kUpstream = mac("02:00:00:00:aa:01");  // the ISP's router, on the WAN port
const net::Mac kUpstream2 = mac("02:00:00:00:aa:02");

// A nested set: a /16 blocked outbound, an inbound-only /24 inside it, a single address
// blocked both ways inside that, and the same shape for IPv6.
void load_nested_blocklist(Harness& h) {
    auto bl = h.blocklist();
    bl.put(prefix("198.19.0.0/16"), WD_BLOCK_OUT, 7);
    bl.put(prefix("198.19.7.0/24"), WD_BLOCK_IN, 7);
    bl.put(prefix("198.19.7.9/32"), WD_BLOCK_IN | WD_BLOCK_OUT, 8);
    bl.put(prefix("fd00:bad::/32"), WD_BLOCK_OUT, 7);
    bl.put(prefix("fd00:bad:7::/48"), WD_BLOCK_IN, 7);
    bl.put(prefix("fd00:bad:7::9/128"), WD_BLOCK_IN | WD_BLOCK_OUT, 8);
}

struct Expectation {
    const char* addr;
    bool out_blocked;  // lan_ingress drops frames to it
    bool in_blocked;   // wan_ingress drops frames from it
};

const Expectation kNested[] = {
    {"198.19.1.1", true, false},    // the /16 only
    {"198.19.7.7", false, true},    // the /24 is longer and inbound only
    {"198.19.7.9", true, true},     // the /32, both ways
    {"198.20.0.1", false, false},   // outside
    {"fd00:bad::1", true, false},
    {"fd00:bad:7::7", false, true},
    {"fd00:bad:7::9", true, true},
    {"fd00:beef::1", false, false},
};

Bytes to_address(const net::Mac& from, const net::IpAddr& dst) {
    auto p = Packet().eth(from, L.gateway);
    if (dst.is_v4())
        p.ipv4(L.device4, dst);
    else
        p.ipv6(L.device6, dst);
    return p.tcp(40000, 443, tcp::syn).payload(20).build();
}

Bytes from_address(const net::Mac& upstream, const net::IpAddr& src) {
    auto p = Packet().eth(upstream, L.gateway);
    if (src.is_v4())
        p.ipv4(src, ip("198.18.0.2"));
    else
        p.ipv6(src, ip("fd00::2"));
    return p.tcp(443, 40000, tcp::syn | tcp::ack).payload(20).build();
}

net::IpAddr event_addr(const CapturedEvent& e) {
    net::IpAddr a;
    std::memcpy(a.bytes.data(), e.hdr.addr, 16);
    return a;
}

}  // namespace

TEST_CASE("blocklist: lan_ingress drops by the longest matching prefix's outbound bit") {
    for (const auto& x : kNested) {
        CAPTURE(x.addr);
        Harness& h = shared_harness();
        h.set_gateway();
        load_nested_blocklist(h);
        auto dst = ip(x.addr);
        auto frame = to_address(L.device, dst);
        CHECK(h.run(Program::lan_ingress, frame) == (x.out_blocked ? XDP_DROP : XDP_PASS));

        auto st = h.prog_stats(Program::lan_ingress);
        CHECK(st.dropped[WD_DROP_BLOCKLIST] == (x.out_blocked ? 1 : 0));
        CHECK(st.passed == (x.out_blocked ? 0 : 1));
        // The device is counted (it exists, it tried), but not as traffic that left.
        auto d = h.devices().read(L.device);
        REQUIRE(d);
        CHECK(d->blocklist_drops == (x.out_blocked ? 1 : 0));
        CHECK(d->up.packets == (x.out_blocked ? 0 : 1));
        // A dropped frame is counted in no flow (an entry may exist to cache the verdict).
        uint64_t flow_packets = 0;
        for (const auto& f : h.flows().read_all())
            flow_packets += f.stats.packets[WD_FLOW_UP] + f.stats.packets[WD_FLOW_DOWN];
        CHECK(flow_packets == (x.out_blocked ? 0 : 1));
        auto events = h.take_events();
        CHECK(events_of_kind(events, WD_EV_NEW_DEVICE).size() == 1);
        auto hits = events_of_kind(events, WD_EV_BLOCKLIST_HIT);
        REQUIRE(hits.size() == (x.out_blocked ? 1 : 0));
        if (x.out_blocked) {
            CHECK(event_addr(hits[0]) == dst);
            CHECK(dataplane::mac_of(hits[0].hdr.mac) == L.device);
            CHECK(hits[0].hdr.direction == WD_DIR_FROM_DEVICE);
            CHECK(hits[0].hdr.detail == WD_DROP_BLOCKLIST);
            CHECK(hits[0].hdr.frame_len == frame.size());
        }
        // The controller's own lookup agrees with the kernel's.
        auto m = h.blocklist().match(dst);
        CHECK(bool(m && (m->value.flags & WD_BLOCK_OUT)) == x.out_blocked);
    }
}

TEST_CASE("blocklist: wan_ingress drops by the longest matching prefix's inbound bit") {
    for (const auto& x : kNested) {
        CAPTURE(x.addr);
        Harness& h = shared_harness();
        load_nested_blocklist(h);
        auto src = ip(x.addr);
        auto frame = from_address(kUpstream, src);
        CHECK(h.run(Program::wan_ingress, frame) == (x.in_blocked ? XDP_DROP : XDP_PASS));

        auto st = h.prog_stats(Program::wan_ingress);
        CHECK(st.seen == 1);
        CHECK(st.bytes == frame.size());
        CHECK(st.dropped[WD_DROP_BLOCKLIST] == (x.in_blocked ? 1 : 0));
        CHECK(st.passed == (x.in_blocked ? 0 : 1));
        // The WAN side has no devices and no flows of its own.
        CHECK(h.devices().read_all().empty());
        CHECK(h.flows().read_all().empty());
        auto events = h.take_events();
        REQUIRE(events.size() == (x.in_blocked ? 1 : 0));
        if (x.in_blocked) {
            CHECK(events[0].hdr.kind == WD_EV_BLOCKLIST_HIT);
            CHECK(event_addr(events[0]) == src);
            CHECK(dataplane::mac_of(events[0].hdr.mac) == kUpstream);
            CHECK(events[0].hdr.direction == WD_DIR_FROM_WAN);
        }
    }
}

TEST_CASE("blocklist: a prefix blocked both ways drops both directions on every path") {
    Harness& h = shared_harness();
    h.set_gateway();
    load_nested_blocklist(h);
    // Two devices and two upstream MACs, so each hit gets its own event (one per MAC per interval).
    CHECK(h.run(Program::lan_ingress, to_address(L.device, ip("198.19.7.9"))) == XDP_DROP);
    CHECK(h.run(Program::lan_ingress, to_address(L.other, ip("fd00:bad:7::9"))) == XDP_DROP);
    CHECK(h.run(Program::wan_ingress, from_address(kUpstream, ip("198.19.7.9"))) == XDP_DROP);
    CHECK(h.run(Program::wan_ingress, from_address(kUpstream2, ip("fd00:bad:7::9"))) == XDP_DROP);

    CHECK(h.prog_stats(Program::lan_ingress).dropped[WD_DROP_BLOCKLIST] == 2);
    CHECK(h.prog_stats(Program::wan_ingress).dropped[WD_DROP_BLOCKLIST] == 2);
    CHECK(h.devices().read(L.device)->blocklist_drops == 1);
    CHECK(h.devices().read(L.other)->blocklist_drops == 1);
    auto hits = events_of_kind(h.take_events(), WD_EV_BLOCKLIST_HIT);
    REQUIRE(hits.size() == 4);
    CHECK(event_addr(hits[0]) == ip("198.19.7.9"));
    CHECK(event_addr(hits[1]) == ip("fd00:bad:7::9"));
    CHECK(hits[2].hdr.direction == WD_DIR_FROM_WAN);
    CHECK(event_addr(hits[3]) == ip("fd00:bad:7::9"));
}

TEST_CASE("blocklist: an entry without direction bits inside a blocked prefix is a hole in it") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto bl = h.blocklist();
    bl.put(prefix("198.18.0.0/15"), WD_BLOCK_OUT | WD_BLOCK_IN);
    bl.put(prefix("198.19.200.0/22"), 0);  // allowed: the longer prefix decides
    CHECK(h.run(Program::lan_ingress, to_address(L.device, ip("198.19.201.1"))) == XDP_PASS);
    CHECK(h.run(Program::wan_ingress, from_address(kUpstream, ip("198.19.201.1"))) == XDP_PASS);
    CHECK(h.run(Program::lan_ingress, to_address(L.device, ip("198.19.204.1"))) == XDP_DROP);
    CHECK(h.run(Program::wan_ingress, from_address(kUpstream, ip("198.18.0.1"))) == XDP_DROP);
    CHECK(h.prog_stats(Program::lan_ingress).passed == 1);
    CHECK(h.prog_stats(Program::lan_ingress).dropped[WD_DROP_BLOCKLIST] == 1);
    CHECK(h.prog_stats(Program::wan_ingress).passed == 1);
    CHECK(h.prog_stats(Program::wan_ingress).dropped[WD_DROP_BLOCKLIST] == 1);
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->blocklist_drops == 1);
    CHECK(d->up.packets == 1);
}

TEST_CASE("blocklist: lan_ingress checks destinations only, wan_ingress sources only") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto bl = h.blocklist();
    bl.put(prefix("198.19.66.0/24"), WD_BLOCK_OUT | WD_BLOCK_IN);
    // A device whose own address is in the blocked range is not blocked for sending.
    auto from_blocked_source =
        Packet().eth(L.device, L.gateway).ipv4(ip("198.19.66.5"), L.peer4).udp(1000, 2000).build();
    CHECK(h.run(Program::lan_ingress, from_blocked_source) == XDP_PASS);
    // An inbound frame to a blocked destination is not wan_ingress's business.
    auto to_blocked_destination =
        Packet().eth(kUpstream, L.gateway).ipv4(L.peer4, ip("198.19.66.5")).udp(2000, 1000).build();
    CHECK(h.run(Program::wan_ingress, to_blocked_destination) == XDP_PASS);
    // lan_egress enforces no blocklist: what reaches it came through wan_ingress already.
    auto down = Packet().eth(L.gateway, L.device).ipv4(ip("198.19.66.5"), L.device4).udp(2000, 1000).build();
    CHECK(h.run(Program::lan_egress, down) == TC_ACT_OK);

    CHECK(h.prog_stats(Program::lan_ingress).dropped[WD_DROP_BLOCKLIST] == 0);
    CHECK(h.prog_stats(Program::wan_ingress).dropped[WD_DROP_BLOCKLIST] == 0);
    CHECK(h.prog_stats(Program::lan_egress).dropped[WD_DROP_BLOCKLIST] == 0);
    CHECK(h.devices().read(L.device)->blocklist_drops == 0);
    CHECK(events_of_kind(h.take_events(), WD_EV_BLOCKLIST_HIT).empty());
}

TEST_CASE("blocklist: frames whose address was read are checked even if the rest is unparsed") {
    Harness& h = shared_harness();
    h.set_gateway();
    h.blocklist().put(prefix("fd00:bad::/32"), WD_BLOCK_OUT | WD_BLOCK_IN);
    h.blocklist().put(prefix("198.19.0.0/16"), WD_BLOCK_OUT);
    // IPv6: cut inside the TCP header, and a 9-header extension chain.
    auto cut = to_address(L.device, ip("fd00:bad::1"));
    cut.resize(14 + 40 + 6);
    auto p = Packet().eth(L.device, L.gateway).ipv6(L.device6, ip("fd00:bad::2"));
    for (int i = 0; i < 9; ++i) p.destination_options(0);
    auto long_chain = p.udp(1, 2).build();
    // IPv4 behind two VLAN tags, to a blocked destination, cut inside UDP.
    auto tagged = Packet().eth(L.device, L.gateway).vlan(1, kTpid8021AD).vlan(2).ipv4(L.device4, ip("198.19.1.1"))
                      .udp(1, 2).build();
    tagged.resize(tagged.size() - 4);
    CHECK(h.run(Program::lan_ingress, cut) == XDP_DROP);
    CHECK(h.run(Program::lan_ingress, long_chain) == XDP_DROP);
    CHECK(h.run(Program::lan_ingress, tagged) == XDP_DROP);
    auto st = h.prog_stats(Program::lan_ingress);
    CHECK(st.unparsed == 3);
    CHECK(st.dropped[WD_DROP_BLOCKLIST] == 3);
    CHECK(h.devices().read(L.device)->blocklist_drops == 3);
    // Inbound, the same holds for sources.
    auto in = from_address(kUpstream, ip("fd00:bad::3"));
    in.resize(14 + 40 + 2);
    CHECK(h.run(Program::wan_ingress, in) == XDP_DROP);
    CHECK(h.prog_stats(Program::wan_ingress).unparsed == 1);
    CHECK(h.prog_stats(Program::wan_ingress).dropped[WD_DROP_BLOCKLIST] == 1);
}

TEST_CASE("blocklist: removing a prefix lifts its drop at once") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto bl = h.blocklist();
    bl.put(prefix("198.19.0.0/16"), WD_BLOCK_OUT);
    bl.put(prefix("198.19.7.0/24"), WD_BLOCK_OUT);
    auto frame = to_address(L.device, ip("198.19.7.1"));
    CHECK(h.run(Program::lan_ingress, frame) == XDP_DROP);
    CHECK(bl.remove(prefix("198.19.7.0/24")));
    CHECK(h.run(Program::lan_ingress, frame) == XDP_DROP);  // the /16 still covers it
    CHECK(bl.remove(prefix("198.19.0.0/16")));
    CHECK(h.run(Program::lan_ingress, frame) == XDP_PASS);
    CHECK(bl.list().empty());
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->blocklist_drops == 2);
    CHECK(d->up.packets == 1);
    CHECK(h.prog_stats(Program::lan_ingress).dropped[WD_DROP_BLOCKLIST] == 2);
}
