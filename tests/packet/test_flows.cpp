// Flows: what a device sends (lan_ingress) and what it is sent (lan_egress) land in one
// entry keyed from the device's side, with packets, bytes and TCP flags per direction.
#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <chrono>
#include <thread>

#include "support/harness.h"

using namespace warden;
using namespace warden::testing;
using dataplane::Program;

namespace {

const TestLan& L = lan();
constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmp6 = 58;

struct Exchange {
    int up_packets = 0, down_packets = 0;
    uint64_t up_bytes = 0, down_bytes = 0;
};

// Sends `up` from the device and its reversed frame to it, `rounds` times, with the TCP
// flags of each round.
Exchange converse(Harness& h, Packet up, const std::vector<std::pair<uint8_t, uint8_t>>& tcp_rounds,
                  int rounds = 0) {
    Exchange x;
    auto send = [&](const Packet& out) {
        auto a = out.build();
        auto b = out.reversed().build();
        REQUIRE(h.run(Program::lan_ingress, a) == XDP_PASS);
        REQUIRE(h.run(Program::lan_egress, b) == TC_ACT_OK);
        ++x.up_packets;
        ++x.down_packets;
        x.up_bytes += a.size();
        x.down_bytes += b.size();
    };
    for (auto [flags_up, flags_down] : tcp_rounds) {
        // The reply carries its own flags: build it from the reversed frame.
        auto a = up.tcp_flags(flags_up).build();
        auto reply = up.reversed().tcp_flags(flags_down).build();
        REQUIRE(h.run(Program::lan_ingress, a) == XDP_PASS);
        REQUIRE(h.run(Program::lan_egress, reply) == TC_ACT_OK);
        ++x.up_packets;
        ++x.down_packets;
        x.up_bytes += a.size();
        x.down_bytes += reply.size();
    }
    for (int i = 0; i < rounds; ++i) send(up);
    return x;
}

void check_one_entry(Harness& h, const wd_flow_key& key, const Exchange& x, uint32_t flags_up,
                     uint32_t flags_down) {
    auto all = h.flows().read_all();
    CHECK(all.size() == 1);
    auto f = h.flows().read(key);
    REQUIRE_MESSAGE(f, "both directions should land in the device-side key");
    CHECK(f->packets[WD_FLOW_UP] == x.up_packets);
    CHECK(f->packets[WD_FLOW_DOWN] == x.down_packets);
    CHECK(f->bytes[WD_FLOW_UP] == x.up_bytes);
    CHECK(f->bytes[WD_FLOW_DOWN] == x.down_bytes);
    CHECK(f->tcp_flags[WD_FLOW_UP] == flags_up);
    CHECK(f->tcp_flags[WD_FLOW_DOWN] == flags_down);
    CHECK(f->first_seen_ns > 0);
    CHECK(f->first_seen_ns <= f->last_seen_ns);
    CHECK(f->last_seen_ns <= monotonic_ns());
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->up.packets == uint64_t(x.up_packets));
    CHECK(d->down.packets == uint64_t(x.down_packets));
    CHECK(d->down.bytes == x.down_bytes);
    CHECK(h.prog_stats(Program::lan_ingress).passed == uint64_t(x.up_packets));
    CHECK(h.prog_stats(Program::lan_egress).passed == uint64_t(x.down_packets));
}

}  // namespace

TEST_CASE("flows: a TCP connection over IPv4 is one entry with flags OR'd per direction") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto up = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(40000, 443).payload(30);
    auto x = converse(h, up,
                      {{tcp::syn, tcp::syn | tcp::ack},
                       {tcp::ack, tcp::ack | tcp::psh},
                       {tcp::fin | tcp::ack, tcp::fin | tcp::ack}});
    check_one_entry(h, flow_key(L.device, kTcp, L.device4, L.peer4, 40000, 443), x,
                    tcp::syn | tcp::ack | tcp::fin, tcp::syn | tcp::ack | tcp::psh | tcp::fin);
    CHECK(h.devices().read(L.device)->tcp_syn == 1);
}

TEST_CASE("flows: a TCP connection over IPv6 is one entry") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto up = Packet().eth(L.device, L.gateway).ipv6(L.device6, L.peer6).tcp(40001, 22).payload(100);
    auto x = converse(h, up, {{tcp::syn, tcp::rst | tcp::ack}});
    check_one_entry(h, flow_key(L.device, kTcp, L.device6, L.peer6, 40001, 22), x, tcp::syn,
                    tcp::rst | tcp::ack);
}

TEST_CASE("flows: UDP in both directions is one entry, without TCP flags") {
    Harness& h = shared_harness();
    h.set_gateway();
    SUBCASE("IPv4") {
        auto up = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(40002, 123).payload(48);
        auto x = converse(h, up, {}, 3);
        check_one_entry(h, flow_key(L.device, kUdp, L.device4, L.peer4, 40002, 123), x, 0, 0);
    }
    SUBCASE("IPv6") {
        auto up = Packet().eth(L.device, L.gateway).ipv6(L.device6, L.peer6).udp(40002, 443).payload(1200);
        auto x = converse(h, up, {}, 2);
        check_one_entry(h, flow_key(L.device, kUdp, L.device6, L.peer6, 40002, 443), x, 0, 0);
    }
}

TEST_CASE("flows: an ICMP echo and its reply are one entry keyed by the identifier") {
    Harness& h = shared_harness();
    h.set_gateway();
    SUBCASE("ICMP") {
        auto up = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).icmp_echo(0x4242).payload(56);
        auto x = converse(h, up, {}, 4);
        check_one_entry(h, flow_key(L.device, kIcmp, L.device4, L.peer4, 0x4242, 0x4242), x, 0, 0);
    }
    SUBCASE("ICMPv6") {
        auto up = Packet().eth(L.device, L.gateway).ipv6(L.device6, L.peer6).icmp_echo(0x0101).payload(56);
        auto x = converse(h, up, {}, 2);
        check_one_entry(h, flow_key(L.device, kIcmp6, L.device6, L.peer6, 0x0101, 0x0101), x, 0, 0);
    }
    SUBCASE("a reply with another identifier is another flow") {
        auto up = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).icmp_echo(1);
        auto other_reply = Packet().eth(L.gateway, L.device).ipv4(L.peer4, L.device4).icmp_echo(2, true);
        CHECK(h.run(Program::lan_ingress, up.build()) == XDP_PASS);
        CHECK(h.run(Program::lan_egress, other_reply.build()) == TC_ACT_OK);
        CHECK(h.flows().read_all().size() == 2);
        auto f2 = h.flows().read(flow_key(L.device, kIcmp, L.device4, L.peer4, 2, 2));
        REQUIRE(f2);
        CHECK(f2->packets[WD_FLOW_DOWN] == 1);
        CHECK(f2->packets[WD_FLOW_UP] == 0);
    }
}

TEST_CASE("flows: different ports, peers or protocols are different entries") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto base = [] { return Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4); };
    CHECK(h.run(Program::lan_ingress, base().tcp(40000, 443).build()) == XDP_PASS);
    CHECK(h.run(Program::lan_ingress, base().tcp(40001, 443).build()) == XDP_PASS);
    CHECK(h.run(Program::lan_ingress, base().tcp(40000, 80).build()) == XDP_PASS);
    CHECK(h.run(Program::lan_ingress, base().udp(40000, 443).build()) == XDP_PASS);
    CHECK(h.run(Program::lan_ingress,
                Packet().eth(L.device, L.gateway).ipv4(L.device4, L.resolver4).tcp(40000, 443).build()) == XDP_PASS);
    CHECK(h.run(Program::lan_ingress, base().tcp(40000, 443).build()) == XDP_PASS);  // repeat
    auto flows = h.flows().read_all();
    CHECK(flows.size() == 5);
    auto f = h.flows().read(flow_key(L.device, kTcp, L.device4, L.peer4, 40000, 443));
    REQUIRE(f);
    CHECK(f->packets[WD_FLOW_UP] == 2);
}

TEST_CASE("flows: lateral traffic is one entry per device, each from its own side") {
    Harness& h = shared_harness();
    h.set_gateway();
    // The other device has sent before (so lan_egress counts what it is sent).
    REQUIRE(h.run(Program::lan_ingress, Packet().eth(L.other, L.broadcast).arp(1, L.other4, L.gateway4).build()) ==
            XDP_PASS);
    // device -> other: lan_ingress on device's port, lan_egress on other's port.
    auto a_to_b = Packet().eth(L.device, L.other).ipv4(L.device4, L.other4).tcp(40000, 8080, tcp::syn);
    auto frame = a_to_b.build();
    CHECK(h.run(Program::lan_ingress, frame) == XDP_PASS);
    CHECK(h.run(Program::lan_egress, frame) == TC_ACT_OK);
    auto reply = a_to_b.reversed().tcp_flags(tcp::syn | tcp::ack).build();
    CHECK(h.run(Program::lan_ingress, reply) == XDP_PASS);
    CHECK(h.run(Program::lan_egress, reply) == TC_ACT_OK);

    CHECK(h.flows().read_all().size() == 2);
    auto mine = h.flows().read(flow_key(L.device, kTcp, L.device4, L.other4, 40000, 8080));
    auto theirs = h.flows().read(flow_key(L.other, kTcp, L.other4, L.device4, 8080, 40000));
    REQUIRE(mine);
    REQUIRE(theirs);
    CHECK(mine->packets[WD_FLOW_UP] == 1);
    CHECK(mine->packets[WD_FLOW_DOWN] == 1);
    CHECK(mine->tcp_flags[WD_FLOW_UP] == tcp::syn);
    CHECK(mine->tcp_flags[WD_FLOW_DOWN] == (tcp::syn | tcp::ack));
    CHECK(theirs->packets[WD_FLOW_UP] == 1);
    CHECK(theirs->packets[WD_FLOW_DOWN] == 1);
    CHECK(theirs->tcp_flags[WD_FLOW_UP] == (tcp::syn | tcp::ack));
    CHECK(theirs->tcp_flags[WD_FLOW_DOWN] == tcp::syn);
    auto a = h.devices().read(L.device), b = h.devices().read(L.other);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->lateral.packets == 1);
    CHECK(b->lateral.packets == 1);
    CHECK(a->down.packets == 1);
    CHECK(b->down.packets == 1);
}

TEST_CASE("flows: first_seen stays, last_seen moves on") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto up = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(40000, 53).build();
    auto key = flow_key(L.device, kUdp, L.device4, L.peer4, 40000, 53);
    uint64_t before = monotonic_ns();
    CHECK(h.run(Program::lan_ingress, up) == XDP_PASS);
    auto f1 = h.flows().read(key);
    REQUIRE(f1);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    CHECK(h.run(Program::lan_ingress, up) == XDP_PASS);
    auto f2 = h.flows().read(key);
    REQUIRE(f2);
    // The coarse clock lags by at most a tick (10 ms at HZ=100): allow two.
    CHECK(f1->first_seen_ns + 20'000'000 >= before);
    CHECK(f2->first_seen_ns == f1->first_seen_ns);
    CHECK(f2->last_seen_ns >= f1->last_seen_ns + 15'000'000);
    CHECK(f2->packets[WD_FLOW_UP] == 2);
}
