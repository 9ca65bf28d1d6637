// Per-device counters: up / lateral / broadcast by destination MAC, protocol buckets,
// SYNs, last addresses, timestamps, downstream counts, and per-CPU slots that userspace
// sums.
#include <doctest/doctest.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <chrono>
#include <thread>

#include "support/harness.h"
#include "support/skip.h"

using namespace warden;
using namespace warden::testing;
using dataplane::Program;

namespace {

const TestLan& L = lan();

// Longer than any coarse-clock tick (HZ >= 100), so two frames get different stamps.
void next_tick() { std::this_thread::sleep_for(std::chrono::milliseconds(25)); }

// Two CPUs the test may pin itself to; false (the case cannot run, support/skip.h) without them.
bool two_cpus(int& a, int& b) {
    auto cpus = usable_cpus();
    if (cpus.size() < 2) {
        cannot_run("this case needs two CPUs; only " + std::to_string(cpus.size()) + " usable here");
        return false;
    }
    a = cpus[0];
    b = cpus[1];
    return true;
}

}  // namespace

TEST_CASE("devices: frames to a gateway MAC count up, to another device lateral, to a group bcast") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto send = [&](const net::Mac& dst, size_t size) {
        auto f = Packet().eth(L.device, dst).ipv4(L.device4, L.peer4).udp(40000, 443).frame_size(size).build();
        REQUIRE(h.run(Program::lan_ingress, f) == XDP_PASS);
    };
    send(L.gateway, 100);
    send(L.gateway_wlan, 200);            // the gateway's other MAC
    send(L.other, 300);                   // another device
    send(mac("02:00:00:00:00:99"), 400);  // a MAC never seen: still lateral
    send(L.broadcast, 500);
    send(mac("01:00:5e:00:00:fb"), 600);  // IPv4 multicast
    send(mac("33:33:00:00:00:01"), 700);  // IPv6 multicast

    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->up.packets == 2);
    CHECK(d->up.bytes == 300);
    CHECK(d->lateral.packets == 2);
    CHECK(d->lateral.bytes == 700);
    CHECK(d->bcast.packets == 3);
    CHECK(d->bcast.bytes == 1800);
    CHECK(d->down.packets == 0);
    CHECK(d->proto_packets[WD_PROTO_UDP] == 7);
    auto st = h.prog_stats(Program::lan_ingress);
    CHECK(st.seen == 7);
    CHECK(st.passed == 7);
    CHECK(st.bytes == 2800);
}

TEST_CASE("devices: without gateway MACs configured, unicast is lateral") {
    Harness& h = shared_harness();  // reset: the gateway table is empty
    auto f = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(40000, 443).build();
    CHECK(h.run(Program::lan_ingress, f) == XDP_PASS);
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->lateral.packets == 1);
    CHECK(d->up.packets == 0);
    CHECK(h.gateway().macs().empty());
}

TEST_CASE("devices: protocol buckets count every kind of frame") {
    Harness& h = shared_harness();
    h.set_gateway();
    std::vector<Bytes> frames = {
        Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(1, 2).build(),
        Packet().eth(L.device, L.gateway).ipv6(L.device6, L.peer6).tcp(1, 2).build(),
        Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(1, 2).build(),
        Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).icmp_echo(1).build(),
        Packet().eth(L.device, L.gateway).ipv6(L.device6, L.peer6).icmp(135, 0).build(),
        Packet().eth(L.device, L.broadcast).arp(1, L.device4, L.gateway4).build(),
        Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).ip_protocol(47).payload(20).build(),
        Packet().eth(L.device, L.gateway).ethertype(0x88b5).payload(20).build(),
    };
    for (const auto& f : frames) CHECK(h.run(Program::lan_ingress, f) == XDP_PASS);
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->proto_packets[WD_PROTO_TCP] == 2);
    CHECK(d->proto_packets[WD_PROTO_UDP] == 1);
    CHECK(d->proto_packets[WD_PROTO_ICMP] == 2);
    CHECK(d->proto_packets[WD_PROTO_ARP] == 1);
    CHECK(d->proto_packets[WD_PROTO_OTHER] == 2);
    auto st = h.prog_stats(Program::lan_ingress);
    for (int b = 0; b < WD_PROTO_MAX; ++b) CHECK(st.proto_packets[b] == d->proto_packets[b]);
    CHECK(st.unparsed == 1);  // the unknown EtherType
}

TEST_CASE("devices: tcp_syn counts SYNs without ACK only") {
    Harness& h = shared_harness();
    h.set_gateway();
    struct {
        uint8_t flags;
        bool counts;
    } cases[] = {
        {tcp::syn, true},
        {tcp::syn | tcp::ack, false},
        {tcp::ack, false},
        {tcp::syn | tcp::fin, true},  // odd, but a SYN without ACK: scanners send these
        {tcp::syn | tcp::psh, true},
        {tcp::rst, false},
        {tcp::rst | tcp::ack, false},
        {0, false},
    };
    uint64_t expected = 0;
    for (auto c : cases) {
        auto f = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(40000, 443, c.flags).build();
        CHECK(h.run(Program::lan_ingress, f) == XDP_PASS);
        expected += c.counts;
    }
    // SYN-looking bytes in a UDP payload are not TCP.
    auto udp = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(40000, 443)
                   .payload(Bytes(20, tcp::syn)).build();
    CHECK(h.run(Program::lan_ingress, udp) == XDP_PASS);
    // Nor does lan_egress count SYNs sent to the device.
    auto inbound = Packet().eth(L.gateway, L.device).ipv4(L.peer4, L.device4).tcp(443, 40000, tcp::syn).build();
    CHECK(h.run(Program::lan_egress, inbound) == TC_ACT_OK);
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->tcp_syn == expected);
    CHECK(d->tcp_syn == 3);
}

TEST_CASE("devices: last IPv4 and IPv6 addresses are both kept, even from frames in the same tick") {
    Harness& h = shared_harness();
    h.set_gateway();
    PinToCpu pin(usable_cpus().front());  // one CPU: a single slot holds both stamps
    auto v4 = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(1, 2).build();
    auto v6 = Packet().eth(L.device, L.gateway).ipv6(L.device6, L.peer6).udp(1, 2).build();
    CHECK(h.run(Program::lan_ingress, v4) == XDP_PASS);
    CHECK(h.run(Program::lan_ingress, v6) == XDP_PASS);
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->ip4 == L.device4);
    CHECK(d->ip6 == L.device6);
}

TEST_CASE("devices: the last address follows the device; 0.0.0.0 and :: are not addresses") {
    Harness& h = shared_harness();
    h.set_gateway();
    PinToCpu pin(usable_cpus().front());
    auto from = [](const net::IpAddr& src) {
        auto p = Packet().eth(L.device, L.broadcast);
        if (src.is_v4())
            p.ipv4(src, ip("255.255.255.255"));
        else
            p.ipv6(src, ip("ff02::1:2"));
        return p.udp(68, 67).build();
    };
    CHECK(h.run(Program::lan_ingress, from(ip("198.18.0.10"))) == XDP_PASS);
    next_tick();
    CHECK(h.run(Program::lan_ingress, from(ip("198.18.0.20"))) == XDP_PASS);  // renumbered
    next_tick();
    CHECK(h.run(Program::lan_ingress, from(ip("0.0.0.0"))) == XDP_PASS);       // DHCP discover
    CHECK(h.run(Program::lan_ingress, from(ip("::"))) == XDP_PASS);            // DAD
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->ip4 == ip("198.18.0.20"));
    CHECK_FALSE(d->ip6);
}

TEST_CASE("devices: a link-local IPv6 source does not replace a routable one") {
    Harness& h = shared_harness();
    h.set_gateway();
    PinToCpu pin(usable_cpus().front());
    auto from = [](const net::IpAddr& src) {
        return Packet().eth(L.device, L.gateway).ipv6(src, L.gateway6).udp(5353, 53).build();
    };
    SUBCASE("link-local first, then routable: the routable one wins") {
        CHECK(h.run(Program::lan_ingress, from(L.device6_link)) == XDP_PASS);
        CHECK(h.devices().read(L.device)->ip6 == L.device6_link);  // better than nothing
        next_tick();
        CHECK(h.run(Program::lan_ingress, from(L.device6)) == XDP_PASS);
        CHECK(h.devices().read(L.device)->ip6 == L.device6);
    }
    SUBCASE("routable first, then link-local: the routable one stays") {
        CHECK(h.run(Program::lan_ingress, from(L.device6)) == XDP_PASS);
        next_tick();
        CHECK(h.run(Program::lan_ingress, from(L.device6_link)) == XDP_PASS);
        CHECK(h.devices().read(L.device)->ip6 == L.device6);
        next_tick();
        CHECK(h.run(Program::lan_ingress, from(ip("fd00::77"))) == XDP_PASS);  // a new routable one
        CHECK(h.devices().read(L.device)->ip6 == ip("fd00::77"));
    }
    CHECK(h.devices().read(L.device)->proto_packets[WD_PROTO_UDP] >= 2);
}

TEST_CASE("devices: a link-local IPv6 seen later on another CPU does not replace a routable one") {
    int a, b;
    if (!two_cpus(a, b)) return;
    Harness& h = shared_harness();
    h.set_gateway();
    auto from = [](const net::IpAddr& src) {
        return Packet().eth(L.device, L.gateway).ipv6(src, L.gateway6).udp(5353, 53).build();
    };
    {
        PinToCpu pin(a);
        CHECK(h.run(Program::lan_ingress, from(L.device6)) == XDP_PASS);
    }
    next_tick();
    {
        PinToCpu pin(b);
        CHECK(h.run(Program::lan_ingress, from(L.device6_link)) == XDP_PASS);
    }
    auto per_cpu = h.device_stats_per_cpu(L.device);
    REQUIRE(per_cpu.size() > size_t(std::max(a, b)));
    CHECK(per_cpu[b].ip6_seen_ns > per_cpu[a].ip6_seen_ns);  // the link-local is the newer stamp
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->ip6 == L.device6);
}

TEST_CASE("devices: counters are per CPU and DeviceTable sums them") {
    int a, b;
    if (!two_cpus(a, b)) return;
    Harness& h = shared_harness();
    h.set_gateway();
    const int n = 7, m = 11;
    auto frame = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(40000, 443, tcp::syn)
                     .payload(10).build();
    {
        PinToCpu pin(a);
        for (int i = 0; i < n; ++i) REQUIRE(h.run(Program::lan_ingress, frame) == XDP_PASS);
    }
    {
        PinToCpu pin(b);
        for (int i = 0; i < m; ++i) REQUIRE(h.run(Program::lan_ingress, frame) == XDP_PASS);
    }
    // The raw per-CPU values really differ: each CPU holds only what ran on it.
    auto per_cpu = h.device_stats_per_cpu(L.device);
    REQUIRE(per_cpu.size() == size_t(dataplane::possible_cpus()));
    CHECK(per_cpu[a].up.packets == n);
    CHECK(per_cpu[b].up.packets == m);
    CHECK(per_cpu[a].tcp_syn == n);
    CHECK(per_cpu[b].tcp_syn == m);
    uint64_t elsewhere = 0;
    for (size_t c = 0; c < per_cpu.size(); ++c)
        if (int(c) != a && int(c) != b) elsewhere += per_cpu[c].up.packets;
    CHECK(elsewhere == 0);

    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->up.packets == n + m);
    CHECK(d->up.bytes == (n + m) * frame.size());
    CHECK(d->tcp_syn == n + m);
    CHECK(d->proto_packets[WD_PROTO_TCP] == n + m);
    CHECK(d->first_seen_ns == std::min(per_cpu[a].first_seen_ns, per_cpu[b].first_seen_ns));
    CHECK(d->last_seen_ns == std::max(per_cpu[a].last_seen_ns, per_cpu[b].last_seen_ns));

    // wd_stats is per-CPU as well.
    std::vector<wd_prog_stats> stats(dataplane::possible_cpus());
    uint32_t slot = WD_PROG_LAN_INGRESS;
    REQUIRE(bpf_map_lookup_elem(h.dataplane().map_fd(dataplane::MapId::stats), &slot, stats.data()) == 0);
    CHECK(stats[a].seen == n);
    CHECK(stats[b].seen == m);
    CHECK(h.prog_stats(Program::lan_ingress).seen == n + m);
    // The flow entry is shared by all CPUs and counted atomically.
    auto f = h.flows().read(flow_key(L.device, 6, L.device4, L.peer4, 40000, 443));
    REQUIRE(f);
    CHECK(f->packets[WD_FLOW_UP] == n + m);
}

TEST_CASE("devices: lan_egress counts down only for devices that have sent, and only unicast") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto down = [](const net::Mac& dst) {
        return Packet().eth(L.gateway, dst).ipv4(L.peer4, L.device4).udp(443, 40000).payload(50).build();
    };
    // Not a device yet: nothing is created for a MAC only ever sent to.
    CHECK(h.run(Program::lan_egress, down(L.device)) == TC_ACT_OK);
    CHECK_FALSE(h.devices().read(L.device));
    CHECK(h.take_events().empty());
    // It sends once, then what it is sent is counted.
    CHECK(h.run(Program::lan_ingress,
                Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(40000, 443).build()) == XDP_PASS);
    auto frame = down(L.device);
    CHECK(h.run(Program::lan_egress, frame) == TC_ACT_OK);
    CHECK(h.run(Program::lan_egress, frame) == TC_ACT_OK);
    CHECK(h.run(Program::lan_egress, down(L.broadcast)) == TC_ACT_OK);

    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->down.packets == 2);
    CHECK(d->down.bytes == 2 * frame.size());
    CHECK(d->up.packets == 1);
    CHECK(h.devices().read_all().size() == 1);
    auto st = h.prog_stats(Program::lan_egress);
    CHECK(st.seen == 4);
    CHECK(st.passed == 4);
    CHECK(st.proto_packets[WD_PROTO_UDP] == 4);
}

TEST_CASE("devices: first_seen stays, last_seen moves on") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto f = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(1, 2).build();
    uint64_t t0 = monotonic_ns();
    CHECK(h.run(Program::lan_ingress, f) == XDP_PASS);
    auto d1 = h.devices().read(L.device);
    REQUIRE(d1);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    CHECK(h.run(Program::lan_ingress, f) == XDP_PASS);
    auto d2 = h.devices().read(L.device);
    REQUIRE(d2);
    CHECK(d1->first_seen_ns > 0);
    // The coarse clock lags by at most a tick (10 ms at HZ=100): allow two.
    CHECK(d1->first_seen_ns + 20'000'000 >= t0);
    CHECK(d2->first_seen_ns == d1->first_seen_ns);
    CHECK(d2->last_seen_ns >= d1->last_seen_ns + 15'000'000);
    CHECK(d2->last_seen_ns <= monotonic_ns());
}
