// Each program as a whole: lan_egress's tc verdicts, wan_ingress's pass-through and WAN
// totals, each program counting in its own wd_stats slot, and full maps.
#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>

#include <stdexcept>
#include <string>

#include "dataplane/evictions.h"
#include "support/harness.h"

using namespace warden;
using namespace warden::testing;
using dataplane::Program;

namespace {

const TestLan& L = lan();
const net::Mac kUpstream = mac("02:00:00:00:aa:01");

uint64_t dropped_total(const wd_prog_stats& s) {
    uint64_t n = 0;
    for (auto d : s.dropped) n += d;
    return n;
}

}  // namespace

TEST_CASE("programs: lan_egress answers TC_ACT_OK (0) or TC_ACT_SHOT (2) and counts in its own slot") {
    static_assert(TC_ACT_OK == 0 && TC_ACT_SHOT == 2);
    Harness& h = shared_harness();
    h.set_gateway();
    h.quarantine_device(L.other, WD_LEVEL_ISOLATE);
    auto ok = Packet().eth(L.gateway, L.device).ipv4(L.peer4, L.device4).tcp(443, 40000).payload(100).build();
    auto shot = Packet().eth(L.gateway, L.other).ipv4(L.peer4, L.other4).tcp(443, 40000).payload(50).build();
    CHECK(h.run(Program::lan_egress, ok) == 0);
    CHECK(h.run(Program::lan_egress, shot) == 2);
    CHECK(h.run(Program::lan_egress, ok) == 0);

    auto eg = h.prog_stats(Program::lan_egress);
    CHECK(eg.seen == 3);
    CHECK(eg.passed == 2);
    CHECK(eg.dropped[WD_DROP_ISOLATED] == 1);
    CHECK(eg.bytes == 2 * ok.size() + shot.size());
    CHECK(eg.proto_packets[WD_PROTO_TCP] == 2);  // the isolated one is dropped before parsing
    CHECK(eg.unparsed == 0);
    // The other programs' slots are untouched.
    CHECK(h.prog_stats(Program::lan_ingress).seen == 0);
    CHECK(h.prog_stats(Program::wan_ingress).seen == 0);
    // No device sent anything, so none was created; the flow towards L.device is kept
    // (its DOWN half), the dropped frame made none.
    CHECK(h.devices().read_all().empty());
    auto flows = h.flows().read_all();
    REQUIRE(flows.size() == 1);
    CHECK(dataplane::mac_of(flows[0].key.mac) == L.device);
    CHECK(flows[0].stats.packets[WD_FLOW_DOWN] == 2);
}

TEST_CASE("programs: lan_egress leaves the frame untouched") {
    Harness& h = shared_harness();
    auto frame = Packet().eth(L.gateway, L.device).vlan(5).ipv6(L.peer6, L.device6).hop_by_hop(0)
                     .udp(443, 40000).payload(333).build();
    auto r = h.run_full(Program::lan_egress, frame);
    CHECK(r.verdict == TC_ACT_OK);
    CHECK(r.out == frame);
    auto x = h.run_full(Program::lan_ingress, Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4)
                                                  .udp(1, 2).payload(10).build());
    CHECK(x.verdict == XDP_PASS);
    CHECK(x.out.size() == 14 + 20 + 8 + 10);
    CHECK(h.prog_stats(Program::lan_egress).passed == 1);
}

TEST_CASE("programs: wan_ingress passes everything not blocklisted and counts WAN totals") {
    Harness& h = shared_harness();
    h.set_gateway();
    // Quarantine is a LAN matter: a WAN frame from or to a quarantined MAC still passes.
    h.quarantine_device(kUpstream, WD_LEVEL_ISOLATE);
    std::vector<Bytes> frames = {
        Packet().eth(kUpstream, L.gateway).ipv4(L.peer4, ip("198.18.0.2")).tcp(443, 40000, tcp::syn).payload(10).build(),
        Packet().eth(kUpstream, L.gateway).ipv6(L.peer6, ip("fd00::2")).udp(443, 40000).payload(100).build(),
        Packet().eth(kUpstream, L.gateway).ipv4(L.peer4, ip("198.18.0.2")).icmp(3, 1).payload(28).build(),
        Packet().eth(kUpstream, L.broadcast).arp(1, L.peer4, ip("198.18.0.2")).build(),
        Packet().eth(kUpstream, L.gateway).ethertype(0x8863).payload(30).build(),  // PPPoE discovery
        Packet().eth(kUpstream, L.gateway).ipv4(L.peer4, ip("198.18.0.2")).ipv4_ihl(3).udp(1, 2).build(),
    };
    uint64_t bytes = 0;
    for (const auto& f : frames) {
        CHECK(h.run(Program::wan_ingress, f) == XDP_PASS);
        bytes += f.size();
    }
    auto wan = h.prog_stats(Program::wan_ingress);
    CHECK(wan.seen == frames.size());
    CHECK(wan.passed == frames.size());
    CHECK(dropped_total(wan) == 0);
    CHECK(wan.bytes == bytes);
    CHECK(wan.unparsed == 2);
    CHECK(wan.proto_packets[WD_PROTO_TCP] == 1);
    CHECK(wan.proto_packets[WD_PROTO_UDP] == 1);
    CHECK(wan.proto_packets[WD_PROTO_ICMP] == 1);
    CHECK(wan.proto_packets[WD_PROTO_ARP] == 1);
    CHECK(wan.proto_packets[WD_PROTO_OTHER] == 2);
    // Nothing per device or per flow is kept for the WAN side, and nothing is reported.
    CHECK(h.devices().read_all().empty());
    CHECK(h.flows().read_all().empty());
    CHECK(h.take_events().empty());
    CHECK(h.quarantine().get(kUpstream)->dropped_from_device.packets == 0);
    CHECK(h.prog_stats(Program::lan_ingress).seen == 0);
    CHECK(h.prog_stats(Program::lan_egress).seen == 0);
}

TEST_CASE("programs: seen = passed + dropped in every slot, bytes are what was seen") {
    Harness& h = shared_harness();
    h.set_gateway();
    h.quarantine_device(L.other, WD_LEVEL_RESTRICTED);
    h.blocklist().put(prefix("198.19.66.0/24"), WD_BLOCK_OUT | WD_BLOCK_IN);
    uint64_t in_bytes = 0, eg_bytes = 0, wan_bytes = 0;
    for (int i = 0; i < 10; ++i) {
        auto a = Packet().eth(L.device, L.gateway).ipv4(L.device4, ip(i % 2 ? "198.19.66.1" : "198.19.1.1"))
                     .udp(1, 2).payload(i).build();
        auto b = Packet().eth(L.other, L.gateway).ipv4(L.other4, i % 3 ? L.peer4 : L.gateway4).udp(5000, 53)
                     .build();
        auto c = Packet().eth(L.gateway, i % 2 ? L.other : L.device).ipv4(L.peer4, L.device4).tcp(1, 2).build();
        auto d = Packet().eth(kUpstream, L.gateway).ipv4(ip(i % 4 ? "198.19.66.9" : "198.19.1.9"), L.gateway4)
                     .udp(3, 4).build();
        h.run(Program::lan_ingress, a);
        h.run(Program::lan_ingress, b);
        h.run(Program::lan_egress, c);
        h.run(Program::wan_ingress, d);
        in_bytes += a.size() + b.size();
        eg_bytes += c.size();
        wan_bytes += d.size();
    }
    auto in = h.prog_stats(Program::lan_ingress), eg = h.prog_stats(Program::lan_egress),
         wan = h.prog_stats(Program::wan_ingress);
    CHECK(in.seen == 20);
    CHECK(in.seen == in.passed + dropped_total(in));
    CHECK(in.dropped[WD_DROP_BLOCKLIST] == 5);
    CHECK(in.dropped[WD_DROP_RESTRICTED] == 6);  // i % 3 != 0: DNS elsewhere
    CHECK(in.bytes == in_bytes);
    CHECK(eg.seen == 10);
    CHECK(eg.seen == eg.passed + dropped_total(eg));
    CHECK(eg.dropped[WD_DROP_RESTRICTED] == 5);
    CHECK(eg.bytes == eg_bytes);
    CHECK(wan.seen == 10);
    CHECK(wan.seen == wan.passed + dropped_total(wan));
    CHECK(wan.dropped[WD_DROP_BLOCKLIST] == 7);
    CHECK(wan.bytes == wan_bytes);
}

namespace {

// The i-th of many MACs counted up from `first`, whose last byte is 00.
net::Mac nth_mac(const char* first, int i) {
    net::Mac m = mac(first);
    m.bytes[4] = uint8_t(m.bytes[4] + i / 256);
    m.bytes[5] = uint8_t(i % 256);
    return m;
}

uint32_t max_entries(int map_fd) {
    bpf_map_info info{};
    uint32_t len = sizeof info;
    REQUIRE(bpf_obj_get_info_by_fd(map_fd, &info, &len) == 0);
    return info.max_entries;
}

}  // namespace

TEST_CASE("programs: a tiny flow table is LRU and keeps working when full") {
    dataplane::LoadOptions tiny;
    tiny.sizes.flows = 16;
    Harness h(tiny);
    h.set_gateway();
    const uint32_t capacity = max_entries(h.dataplane().map_fd(dataplane::MapId::flows));
    CHECK(capacity == 16);
    auto flow = [&](int i) {
        return Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(10000 + i, 443).build();
    };
    const int flows = 200;
    for (int i = 0; i < flows; ++i) REQUIRE(h.run(Program::lan_ingress, flow(i)) == XDP_PASS);
    auto all = h.flows().read_all();
    CHECK(all.size() <= capacity);
    CHECK(all.size() >= 1);
    // The newest flow is always there: LRU evicts the old ones to make room.
    auto newest = h.flows().read(flow_key(L.device, 17, L.device4, L.peer4, 10000 + flows - 1, 443));
    REQUIRE(newest);
    CHECK(newest->packets[WD_FLOW_UP] == 1);
    auto oldest = h.flows().read(flow_key(L.device, 17, L.device4, L.peer4, 10000, 443));
    CHECK_FALSE(oldest);
    auto st = h.prog_stats(Program::lan_ingress);
    CHECK(st.passed == uint64_t(flows));
    CHECK(st.map_full == 0);  // LRU inserts never fail
    CHECK(h.devices().read(L.device)->up.packets == uint64_t(flows));
}

TEST_CASE("programs: a tiny device table is LRU too, holds what was asked; every frame still passes") {
    dataplane::LoadOptions tiny;
    tiny.sizes.devices = 8;
    Harness h(tiny);
    h.set_gateway();
    const uint32_t capacity = max_entries(h.dataplane().map_fd(dataplane::MapId::devices));
    auto device = [](int i) { return nth_mac("02:00:00:00:10:00", i); };
    auto frame = [&](int i) { return Packet().eth(device(i), L.gateway).ipv4(L.device4, L.peer4).udp(1, 2).build(); };
    for (int i = 0; i < 8; ++i) REQUIRE(h.run(Program::lan_ingress, frame(i)) == XDP_PASS);
    CHECK(h.devices().read_all().size() == 8);

    const int macs = static_cast<int>(capacity) + 100;
    for (int i = 8; i < macs; ++i) REQUIRE(h.run(Program::lan_ingress, frame(i)) == XDP_PASS);
    auto devices = h.devices().read_all();
    CHECK(devices.size() <= capacity);
    CHECK(devices.size() >= 8);
    CHECK(h.devices().read(device(macs - 1)));
    CHECK(h.prog_stats(Program::lan_ingress).passed == uint64_t(macs));
    CHECK(events_of_kind(h.take_events(), WD_EV_NEW_DEVICE).size() == size_t(macs));
}

TEST_CASE("programs: evictions from the full LRU maps are counted, removals by userspace are not") {
    dataplane::LoadOptions tiny;
    tiny.sizes.flows = 16;
    tiny.sizes.devices = 8;
    Harness h(tiny);
    h.set_gateway();
    const uint32_t devices_capacity = max_entries(h.dataplane().map_fd(dataplane::MapId::devices));
    auto device = [](int i) { return nth_mac("02:00:00:00:30:00", i); };
    dataplane::Evictions evictions(h.stats());
    auto walk = [&] {
        evictions.walk_started(dataplane::MapId::devices);
        uint64_t devices = h.devices().read_all().size();
        evictions.walk_ended(dataplane::MapId::devices, devices);
        evictions.walk_started(dataplane::MapId::flows);
        uint64_t flows = h.flows().read_all().size();
        evictions.walk_ended(dataplane::MapId::flows, flows);
        return std::pair{devices, flows};
    };

    // Below capacity nothing is evicted, and a removal is not taken for an eviction.
    for (int i = 0; i < 4; ++i)
        REQUIRE(h.run(Program::lan_ingress, Packet().eth(device(i), L.gateway).ipv4(L.device4, L.peer4).udp(1000 + i, 53).build()) ==
                XDP_PASS);
    CHECK(h.devices().remove(device(0), h.stats()));
    CHECK(walk() == std::pair<uint64_t, uint64_t>{3, 4});
    CHECK(evictions.totals().devices == 0);
    CHECK(evictions.totals().flows == 0);

    // 200 flows into 16 slots from one device, and a device per frame past the device map's
    // capacity: the programs counted every entry they added, the maps hold what fits, the
    // rest was evicted.
    for (int i = 0; i < 200; ++i)
        REQUIRE(h.run(Program::lan_ingress, Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(10000 + i, 443).build()) ==
                XDP_PASS);
    const int macs = int(devices_capacity) + 100;
    for (int i = 4; i < macs; ++i)
        REQUIRE(h.run(Program::lan_ingress, Packet().eth(device(i), L.gateway).arp(1, L.device4, L.gateway4).build()) == XDP_PASS);
    auto st = h.prog_stats(Program::lan_ingress);
    CHECK(st.flows_added == 4 + 200);
    CHECK(st.devices_added == uint64_t(macs) + 1);  // L.device too
    CHECK(st.map_full == 0);  // an LRU insert never fails: this counter cannot show the pressure
    auto [devices, flows] = walk();
    CHECK(flows <= 16);
    CHECK(devices <= devices_capacity);
    CHECK(evictions.totals().flows == 4 + 200 - flows);
    CHECK(evictions.totals().devices == uint64_t(macs) + 1 - 1 - devices);  // one removed
    CHECK(evictions.totals().flows >= 188);
    CHECK(evictions.totals().devices >= 100);
}

TEST_CASE("programs: a full quarantine map refuses one more entry with a clear error, and keeps enforcing") {
    dataplane::LoadOptions tiny;
    tiny.sizes.quarantine = 4;
    Harness h(tiny);
    h.set_gateway();
    auto nth = [](int i) { return nth_mac("02:00:00:00:20:00", i); };
    for (int i = 0; i < 4; ++i) h.quarantine_device(nth(i), WD_LEVEL_ISOLATE);
    std::string message;
    try {
        h.quarantine_device(nth(4), WD_LEVEL_ISOLATE);
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    CHECK_MESSAGE(message.find("full") != std::string::npos, message);
    CHECK_MESSAGE(message.find(nth(4).str()) != std::string::npos, message);
    CHECK_MESSAGE(message.find("map_sizes.quarantine") != std::string::npos, message);
    // Changing an existing entry still works when the map is full.
    CHECK_NOTHROW(h.quarantine_device(nth(0), WD_LEVEL_RESTRICTED));
    CHECK(h.quarantine().list().size() == 4);

    auto from = [&](int i) {
        return Packet().eth(nth(i), L.gateway).ipv4(L.device4, L.peer4).tcp(1, 2).build();
    };
    CHECK(h.run(Program::lan_ingress, from(0)) == XDP_DROP);  // restricted now
    CHECK(h.run(Program::lan_ingress, from(3)) == XDP_DROP);
    CHECK(h.run(Program::lan_ingress, from(4)) == XDP_PASS);  // never made it in
    auto st = h.prog_stats(Program::lan_ingress);
    CHECK(st.dropped[WD_DROP_RESTRICTED] == 1);
    CHECK(st.dropped[WD_DROP_ISOLATED] == 1);
    CHECK(st.passed == 1);
}

TEST_CASE("programs: the harness's reset leaves every map as a fresh load has it") {
    // Most cases share one load and reset it; a leftover would leak between cases.
    Harness& h = shared_harness();
    h.set_gateway();
    h.quarantine_device(L.other, WD_LEVEL_ISOLATE);
    h.blocklist().put(prefix("198.19.66.0/24"), WD_BLOCK_OUT | WD_BLOCK_IN);
    h.blocklist().put(prefix("fd00:bad::/32"), WD_BLOCK_OUT);
    REQUIRE(h.run(Program::lan_ingress, Packet().eth(L.device, L.gateway).ipv4(L.device4, L.gateway4)
                                            .udp(5000, 53).build()) == XDP_PASS);
    REQUIRE(h.run(Program::lan_ingress, Packet().eth(L.device, L.gateway).ipv4(L.device4, ip("198.19.66.1"))
                                            .udp(5000, 53).build()) == XDP_DROP);
    REQUIRE(h.run(Program::lan_egress, Packet().eth(L.gateway, L.other).ipv4(L.peer4, L.other4).udp(1, 2).build()) ==
            TC_ACT_SHOT);
    REQUIRE(h.run(Program::wan_ingress, Packet().eth(kUpstream, L.gateway).ipv4(ip("198.19.66.2"), L.gateway4)
                                            .udp(1, 2).build()) == XDP_DROP);

    h.reset();
    CHECK(h.devices().read_all().empty());
    CHECK(h.flows().read_all().empty());
    CHECK(h.quarantine().list().empty());
    CHECK(h.blocklist().list().empty());
    CHECK(h.gateway().macs().empty());
    CHECK(h.gateway().addrs().empty());
    CHECK(h.take_events().empty());
    for (auto p : {Program::lan_ingress, Program::lan_egress, Program::wan_ingress}) {
        auto s = h.prog_stats(p);
        CHECK(s.seen + s.passed + s.bytes + s.unparsed + dropped_total(s) + s.events_lost + s.map_full == 0);
    }
    // The event rate limits went too: L.other's drop above (well within the 1 s interval)
    // does not hold back the report of its next one.
    h.quarantine_device(L.other, WD_LEVEL_ISOLATE);
    auto frame = Packet().eth(L.other, L.gateway).ipv4(L.other4, L.peer4).udp(1, 2).build();
    CHECK(h.run(Program::lan_ingress, frame) == XDP_DROP);
    auto events = h.take_events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].hdr.kind == WD_EV_QUARANTINE_DROP);
}

TEST_CASE("programs: each verifies with room to spare under the verifier's 1M-instruction budget") {
    // Verification cost grows with every branch; older kernels prune less than this one.
    // A program that creeps towards the limit fails to load on someone's gateway first,
    // so the budget here is a fifth of the kernel's.
    Harness& h = shared_harness();
    for (auto p : {Program::lan_ingress, Program::lan_egress, Program::wan_ingress}) {
        bpf_prog_info info{};
        uint32_t len = sizeof info;
        REQUIRE(bpf_obj_get_info_by_fd(h.dataplane().program_fd(p), &info, &len) == 0);
        CAPTURE(info.name);
        MESSAGE(info.name << ": " << info.verified_insns << " instructions verified");
        CHECK(info.verified_insns > 0);
        CHECK(info.verified_insns < 200'000);
    }
}
