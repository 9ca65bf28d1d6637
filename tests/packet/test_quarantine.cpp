// Quarantine enforcement: every level against every kind of frame a device sends
// (lan_ingress, keyed by source MAC) or is sent (lan_egress, keyed by destination MAC),
// expiry, and what the drop path writes (program stats, the entry's own drop counters,
// one event) and what it must not write (devices, flows).
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

const net::Mac kAllRouters = mac("33:33:00:00:00:02");      // ff02::2
const net::Mac kAllDhcpAgents = mac("33:33:00:01:00:02");   // ff02::1:2
const net::Mac kSolicitedNode = mac("33:33:ff:00:00:01");   // ff02::1:ff00:1

struct Case {
    Packet packet;
    bool restricted_passes;  // whether a restricted device's frame gets through
    int bucket;              // enum wd_proto the frame is counted in
    uint8_t copy = 0;        // enum wd_copy_kind when a DHCP/DNS copy is expected
};

bool carries_ip(const Packet& p) {
    for (const auto& h : p.headers())
        if (h.name == "ipv4" || h.name == "ipv6") return true;
    return false;
}

net::Mac dst_mac(const Bytes& frame) { return dataplane::mac_of(frame.data()); }

const wd_counter& counter_for_destination(const dataplane::DeviceCounters& d, const net::Mac& dst) {
    if (dst.is_multicast()) return d.bcast;
    if (dst == L.gateway || dst == L.gateway_wlan) return d.up;
    return d.lateral;
}

// A device not in quarantine: the frame passes and is counted as usual. Each quarantine
// case runs this first, so a drop below is the quarantine's doing and nothing else's.
void check_passes_unquarantined(Harness& h, const Case& c, Program program) {
    h.reset();
    h.set_gateway();
    auto frame = c.packet.build();
    if (program == Program::lan_ingress) {
        REQUIRE(h.run(program, frame) == XDP_PASS);
        auto d = h.devices().read(L.device);
        REQUIRE(d);
        CHECK(counter_for_destination(*d, dst_mac(frame)).packets == 1);
    } else {
        REQUIRE(h.run(program, frame) == TC_ACT_OK);
    }
    CHECK(h.prog_stats(program).passed == 1);
}

void check_from_device(const Case& c) {
    Harness& h = shared_harness();
    check_passes_unquarantined(h, c, Program::lan_ingress);
    const Bytes frame = c.packet.build();

    for (uint32_t level : {WD_LEVEL_ISOLATE, WD_LEVEL_RESTRICTED}) {
        CAPTURE(level);
        h.reset();
        h.set_gateway();
        h.quarantine_device(L.device, level);
        const bool passes = level == WD_LEVEL_RESTRICTED && c.restricted_passes;

        CHECK(h.run(Program::lan_ingress, frame) == (passes ? XDP_PASS : XDP_DROP));

        auto st = h.prog_stats(Program::lan_ingress);
        CHECK(st.seen == 1);
        CHECK(st.bytes == frame.size());
        CHECK(st.passed == (passes ? 1 : 0));
        CHECK(st.dropped[WD_DROP_ISOLATED] == (level == WD_LEVEL_ISOLATE ? 1 : 0));
        CHECK(st.dropped[WD_DROP_RESTRICTED] == (level == WD_LEVEL_RESTRICTED && !passes ? 1 : 0));
        CHECK(st.dropped[WD_DROP_BLOCKLIST] == 0);
        // An isolated device's frame is dropped before the parser runs: no bucket counted.
        uint64_t parsed = 0;
        for (auto n : st.proto_packets) parsed += n;
        CHECK(parsed == (level == WD_LEVEL_ISOLATE ? 0 : 1));
        if (level == WD_LEVEL_RESTRICTED) CHECK(st.proto_packets[c.bucket] == 1);

        auto q = h.quarantine().get(L.device);
        REQUIRE(q);
        CHECK(q->level == level);
        CHECK(q->dropped_from_device.packets == (passes ? 0 : 1));
        CHECK(q->dropped_from_device.bytes == (passes ? 0 : frame.size()));
        CHECK(q->dropped_to_device.packets == 0);
        CHECK((q->last_drop_ns != 0) == !passes);

        auto d = h.devices().read(L.device);
        auto flows = h.flows().read_all();
        auto events = h.take_events();
        if (passes) {
            REQUIRE(d);
            const auto& counter = counter_for_destination(*d, dst_mac(frame));
            CHECK(counter.packets == 1);
            CHECK(counter.bytes == frame.size());
            CHECK(d->proto_packets[c.bucket] == 1);
            if (carries_ip(c.packet)) {
                REQUIRE(flows.size() == 1);
                CHECK(dataplane::mac_of(flows[0].key.mac) == L.device);
                CHECK(flows[0].stats.packets[WD_FLOW_UP] == 1);
                CHECK(flows[0].stats.bytes[WD_FLOW_UP] == frame.size());
            } else {
                CHECK(flows.empty());
            }
            CHECK(events_of_kind(events, WD_EV_NEW_DEVICE).size() == 1);
            CHECK(events_of_kind(events, WD_EV_QUARANTINE_DROP).empty());
            auto copies = events_of_kind(events, WD_EV_PACKET_COPY);
            CHECK(copies.size() == (c.copy ? 1 : 0));
            if (c.copy && copies.size() == 1) {
                CHECK(copies[0].hdr.detail == c.copy);
                CHECK(copies[0].packet == frame);
            }
        } else {
            // The drop path touches the quarantine entry and the stats, nothing else.
            CHECK_FALSE(d);
            CHECK(flows.empty());
            REQUIRE(events.size() == 1);
            CHECK(events[0].hdr.kind == WD_EV_QUARANTINE_DROP);
            CHECK(dataplane::mac_of(events[0].hdr.mac) == L.device);
            CHECK(events[0].hdr.direction == WD_DIR_FROM_DEVICE);
            CHECK(events[0].hdr.detail ==
                  (level == WD_LEVEL_ISOLATE ? WD_DROP_ISOLATED : WD_DROP_RESTRICTED));
            CHECK(events[0].hdr.frame_len == frame.size());
        }
    }
}

// The device has introduced itself (an ARP broadcast) before it was quarantined, so the
// downstream counters have an entry to land in.
void introduce_device(Harness& h) {
    auto hello = Packet().eth(L.device, L.broadcast).arp(1, L.device4, L.gateway4).build();
    REQUIRE(h.run(Program::lan_ingress, hello) == XDP_PASS);
    h.take_events();
}

void check_to_device(const Case& c) {
    Harness& h = shared_harness();
    check_passes_unquarantined(h, c, Program::lan_egress);
    const Bytes frame = c.packet.build();

    for (uint32_t level : {WD_LEVEL_ISOLATE, WD_LEVEL_RESTRICTED}) {
        CAPTURE(level);
        h.reset();
        h.set_gateway();
        introduce_device(h);
        h.quarantine_device(L.device, level);
        const bool passes = level == WD_LEVEL_RESTRICTED && c.restricted_passes;

        CHECK(h.run(Program::lan_egress, frame) == (passes ? TC_ACT_OK : TC_ACT_SHOT));

        auto st = h.prog_stats(Program::lan_egress);
        CHECK(st.seen == 1);
        CHECK(st.bytes == frame.size());
        CHECK(st.passed == (passes ? 1 : 0));
        CHECK(st.dropped[WD_DROP_ISOLATED] == (level == WD_LEVEL_ISOLATE ? 1 : 0));
        CHECK(st.dropped[WD_DROP_RESTRICTED] == (level == WD_LEVEL_RESTRICTED && !passes ? 1 : 0));
        CHECK(st.dropped[WD_DROP_BLOCKLIST] == 0);

        auto q = h.quarantine().get(L.device);
        REQUIRE(q);
        CHECK(q->dropped_to_device.packets == (passes ? 0 : 1));
        CHECK(q->dropped_to_device.bytes == (passes ? 0 : frame.size()));
        CHECK(q->dropped_from_device.packets == 0);

        auto d = h.devices().read(L.device);
        REQUIRE(d);
        CHECK(d->down.packets == (passes ? 1 : 0));
        CHECK(d->down.bytes == (passes ? frame.size() : 0));

        auto flows = h.flows().read_all();  // the ARP hello made none
        auto events = h.take_events();
        if (passes && carries_ip(c.packet)) {
            REQUIRE(flows.size() == 1);
            CHECK(dataplane::mac_of(flows[0].key.mac) == L.device);
            CHECK(flows[0].stats.packets[WD_FLOW_DOWN] == 1);
            CHECK(flows[0].stats.packets[WD_FLOW_UP] == 0);
        } else {
            CHECK(flows.empty());
        }
        if (passes) {
            CHECK(events_of_kind(events, WD_EV_QUARANTINE_DROP).empty());
            auto copies = events_of_kind(events, WD_EV_PACKET_COPY);
            CHECK(copies.size() == (c.copy ? 1 : 0));
            if (c.copy && copies.size() == 1) {
                CHECK(copies[0].hdr.direction == WD_DIR_TO_DEVICE);
                CHECK(copies[0].hdr.detail == c.copy);
                CHECK(copies[0].packet == frame);
            }
        } else {
            REQUIRE(events.size() == 1);
            CHECK(events[0].hdr.kind == WD_EV_QUARANTINE_DROP);
            CHECK(dataplane::mac_of(events[0].hdr.mac) == L.device);
            CHECK(events[0].hdr.direction == WD_DIR_TO_DEVICE);
            CHECK(events[0].hdr.detail ==
                  (level == WD_LEVEL_ISOLATE ? WD_DROP_ISOLATED : WD_DROP_RESTRICTED));
        }
    }
}

Packet from_device(const net::Mac& to = L.gateway) { return Packet().eth(L.device, to); }
Packet to_device(const net::Mac& from = L.gateway) { return Packet().eth(from, L.device); }

}  // namespace

// ---- frames a quarantined device sends (lan_ingress) ----

TEST_CASE("quarantine, from the device: ARP request (broadcast) passes restricted") {
    check_from_device({from_device(L.broadcast).arp(1, L.device4, L.gateway4), true, WD_PROTO_ARP});
}

TEST_CASE("quarantine, from the device: ARP reply to the gateway passes restricted") {
    check_from_device({from_device().arp(2, L.device4, L.gateway4), true, WD_PROTO_ARP});
}

TEST_CASE("quarantine, from the device: IPv6 neighbour discovery 133-137 passes restricted") {
    SUBCASE("133 router solicitation") {
        check_from_device({from_device(kAllRouters).ipv6(L.device6_link, ip("ff02::2")).icmp(133, 0),
                           true, WD_PROTO_ICMP});
    }
    SUBCASE("134 router advertisement") {
        check_from_device({from_device(mac("33:33:00:00:00:01")).ipv6(L.device6_link, ip("ff02::1")).icmp(134, 0),
                           true, WD_PROTO_ICMP});
    }
    SUBCASE("135 neighbour solicitation") {
        check_from_device({from_device(kSolicitedNode).ipv6(L.device6, ip("ff02::1:ff00:1")).icmp(135, 0),
                           true, WD_PROTO_ICMP});
    }
    SUBCASE("136 neighbour advertisement") {
        check_from_device({from_device().ipv6(L.device6, L.gateway6).icmp(136, 0), true, WD_PROTO_ICMP});
    }
    SUBCASE("137 redirect") {
        check_from_device({from_device().ipv6(L.device6_link, ip("fe80::1")).icmp(137, 0), true, WD_PROTO_ICMP});
    }
}

TEST_CASE("quarantine, from the device: ICMPv6 types next to ND (132, 138) are dropped") {
    SUBCASE("132") {
        check_from_device({from_device().ipv6(L.device6, L.gateway6).icmp(132, 0), false, WD_PROTO_ICMP});
    }
    SUBCASE("138") {
        check_from_device({from_device().ipv6(L.device6, L.gateway6).icmp(138, 0), false, WD_PROTO_ICMP});
    }
}

TEST_CASE("quarantine, from the device: an ND-looking ICMPv6 header inside IPv4 is not ND") {
    // IPv4 protocol 58 with type 135: no neighbour discovery rides on IPv4, and letting
    // it through would hand a restricted device a path to any host on the internet.
    Bytes ns_header = {135, 0, 0, 0, 0, 0, 0, 0};
    check_from_device(
        {from_device().ipv4(L.device4, L.peer4).ip_protocol(58).payload(ns_header), false, WD_PROTO_ICMP});
}

TEST_CASE("quarantine, from the device: DHCP discover (UDP 68->67) passes restricted") {
    check_from_device({from_device(L.broadcast).ipv4("0.0.0.0", "255.255.255.255").udp(68, 67).payload(300),
                       true, WD_PROTO_UDP, WD_COPY_DHCP4});
}

TEST_CASE("quarantine, from the device: DHCP server replies (UDP 67->68) are not a client's") {
    check_from_device({from_device(L.broadcast).ipv4(L.device4, ip("255.255.255.255")).udp(67, 68).payload(300),
                       false, WD_PROTO_UDP, WD_COPY_DHCP4});
}

TEST_CASE("quarantine, from the device: DHCPv6 solicit (UDP 546->547) passes restricted") {
    check_from_device({from_device(kAllDhcpAgents).ipv6(L.device6_link, ip("ff02::1:2")).udp(546, 547).payload(60),
                       true, WD_PROTO_UDP, WD_COPY_DHCP6});
}

TEST_CASE("quarantine, from the device: DNS over UDP to the gateway's IPv4 address passes restricted") {
    check_from_device({from_device().ipv4(L.device4, L.gateway4).udp(53000, 53).payload(40), true,
                       WD_PROTO_UDP, WD_COPY_DNS});
}

TEST_CASE("quarantine, from the device: DNS over TCP to the gateway's IPv6 address passes restricted") {
    check_from_device(
        {from_device().ipv6(L.device6, L.gateway6).tcp(53000, 53, tcp::syn), true, WD_PROTO_TCP});
}

TEST_CASE("quarantine, from the device: DNS to a resolver that is not the gateway is dropped") {
    // Sent to the gateway's MAC (routed), but the address is not one of the gateway's.
    SUBCASE("IPv4") {
        check_from_device({from_device().ipv4(L.device4, L.resolver4).udp(53000, 53).payload(40), false,
                           WD_PROTO_UDP, WD_COPY_DNS});
    }
    SUBCASE("IPv6") {
        check_from_device({from_device().ipv6(L.device6, L.resolver6).udp(53000, 53).payload(40), false,
                           WD_PROTO_UDP, WD_COPY_DNS});
    }
}

TEST_CASE("quarantine, from the device: TCP to the internet is dropped") {
    check_from_device({from_device().ipv4(L.device4, L.peer4).tcp(40000, 443, tcp::syn), false, WD_PROTO_TCP});
}

TEST_CASE("quarantine, from the device: TCP to the gateway on a port other than 53 is dropped") {
    check_from_device({from_device().ipv4(L.device4, L.gateway4).tcp(40000, 80, tcp::syn), false, WD_PROTO_TCP});
}

TEST_CASE("quarantine, from the device: UDP to the internet is dropped") {
    check_from_device({from_device().ipv6(L.device6, L.peer6).udp(40000, 443).payload(1200), false, WD_PROTO_UDP});
}

TEST_CASE("quarantine, from the device: ICMP echo is dropped, even to the gateway") {
    SUBCASE("to the internet") {
        check_from_device({from_device().ipv4(L.device4, L.peer4).icmp_echo(7), false, WD_PROTO_ICMP});
    }
    SUBCASE("to the gateway") {
        check_from_device({from_device().ipv4(L.device4, L.gateway4).icmp_echo(7), false, WD_PROTO_ICMP});
    }
    SUBCASE("ICMPv6") {
        check_from_device({from_device().ipv6(L.device6, L.peer6).icmp_echo(7), false, WD_PROTO_ICMP});
    }
}

TEST_CASE("quarantine, from the device: lateral TCP to another LAN device is dropped") {
    check_from_device({from_device(L.other).ipv4(L.device4, L.other4).tcp(40000, 22, tcp::syn), false,
                       WD_PROTO_TCP});
}

TEST_CASE("quarantine, from the device: DHCP, DHCPv6 and ND aimed past this link are dropped") {
    // The protocols a restricted device keeps must not become its way to the internet: a
    // DHCP "request" or an ND message addressed to an internet host is dropped.
    SUBCASE("DHCP 68->67 renewal to the gateway passes") {
        check_from_device({from_device().ipv4(L.device4, L.gateway4).udp(68, 67).payload(300), true,
                           WD_PROTO_UDP, WD_COPY_DHCP4});
    }
    SUBCASE("DHCP 68->67 to an internet host") {
        check_from_device({from_device().ipv4(L.device4, L.peer4).udp(68, 67).payload(300), false,
                           WD_PROTO_UDP, WD_COPY_DHCP4});
    }
    SUBCASE("DHCPv6 546->547 to an internet host") {
        check_from_device({from_device().ipv6(L.device6, ip("fd00:99::1")).udp(546, 547).payload(60), false,
                           WD_PROTO_UDP, WD_COPY_DHCP6});
    }
    SUBCASE("ND 135 to an internet host") {
        check_from_device({from_device().ipv6(L.device6, ip("fd00:99::1")).icmp(135, 0), false, WD_PROTO_ICMP});
    }
}

// ---- frames sent to a quarantined device (lan_egress) ----

TEST_CASE("quarantine, to the device: ARP reply from the gateway passes restricted") {
    check_to_device({to_device().arp(2, L.gateway4, L.device4), true, WD_PROTO_ARP});
}

TEST_CASE("quarantine, to the device: IPv6 neighbour discovery 133-137 passes restricted") {
    for (uint8_t type = 133; type <= 137; ++type) {
        CAPTURE(int(type));
        check_to_device({to_device().ipv6(ip("fe80::1"), L.device6_link).icmp(type, 0), true, WD_PROTO_ICMP});
    }
}

TEST_CASE("quarantine, to the device: DHCP offer (UDP 67->68) passes restricted") {
    check_to_device({to_device().ipv4(L.gateway4, L.device4).udp(67, 68).payload(300), true, WD_PROTO_UDP,
                     WD_COPY_DHCP4});
}

TEST_CASE("quarantine, to the device: DHCP client traffic (UDP 68->67) towards it is dropped") {
    check_to_device({to_device(L.other).ipv4(L.other4, L.device4).udp(68, 67).payload(300), false,
                     WD_PROTO_UDP, WD_COPY_DHCP4});
}

TEST_CASE("quarantine, to the device: DHCPv6 reply (UDP 547->546) passes restricted") {
    check_to_device({to_device().ipv6(ip("fe80::1"), L.device6_link).udp(547, 546).payload(80), true,
                     WD_PROTO_UDP, WD_COPY_DHCP6});
}

TEST_CASE("quarantine, to the device: DNS answers from the gateway pass restricted") {
    SUBCASE("UDP, IPv4") {
        check_to_device({to_device().ipv4(L.gateway4, L.device4).udp(53, 53000).payload(90), true,
                         WD_PROTO_UDP, WD_COPY_DNS});
    }
    SUBCASE("TCP, IPv6") {
        check_to_device({to_device().ipv6(L.gateway6, L.device6).tcp(53, 53000, tcp::syn | tcp::ack), true,
                         WD_PROTO_TCP});
    }
}

TEST_CASE("quarantine, to the device: DNS answers from another resolver are dropped") {
    check_to_device({to_device().ipv4(L.resolver4, L.device4).udp(53, 53000).payload(90), false,
                     WD_PROTO_UDP, WD_COPY_DNS});
}

TEST_CASE("quarantine, to the device: TCP from the internet is dropped") {
    check_to_device({to_device().ipv4(L.peer4, L.device4).tcp(443, 40000, tcp::syn | tcp::ack), false,
                     WD_PROTO_TCP});
}

TEST_CASE("quarantine, to the device: UDP from the internet is dropped") {
    check_to_device({to_device().ipv6(L.peer6, L.device6).udp(443, 40000).payload(1200), false, WD_PROTO_UDP});
}

TEST_CASE("quarantine, to the device: ICMP is dropped") {
    SUBCASE("echo reply") {
        check_to_device({to_device().ipv4(L.peer4, L.device4).icmp_echo(7, true), false, WD_PROTO_ICMP});
    }
    SUBCASE("ICMPv6 echo request from the gateway") {
        check_to_device({to_device().ipv6(L.gateway6, L.device6).icmp_echo(7), false, WD_PROTO_ICMP});
    }
}

TEST_CASE("quarantine, to the device: lateral frames from another device are dropped") {
    check_to_device({to_device(L.other).ipv4(L.other4, L.device4).tcp(22, 40000, tcp::ack), false,
                     WD_PROTO_TCP});
}

// ---- which MAC is looked up, and when an entry counts ----

TEST_CASE("quarantine, to the device: DHCP, DHCPv6 and ND from past this link are dropped") {
    SUBCASE("DHCP 67->68 from an internet host") {
        check_to_device({to_device().ipv4(L.peer4, L.device4).udp(67, 68).payload(300), false, WD_PROTO_UDP,
                         WD_COPY_DHCP4});
    }
    SUBCASE("DHCPv6 547->546 from an internet host") {
        check_to_device({to_device().ipv6(ip("fd00:99::1"), L.device6).udp(547, 546).payload(80), false,
                         WD_PROTO_UDP, WD_COPY_DHCP6});
    }
    SUBCASE("ND 136 from an internet host") {
        check_to_device({to_device().ipv6(ip("fd00:99::1"), L.device6).icmp(136, 0), false, WD_PROTO_ICMP});
    }
    SUBCASE("ND 136 from the gateway's routable address passes") {
        check_to_device({to_device().ipv6(L.gateway6, L.device6).icmp(136, 0), true, WD_PROTO_ICMP});
    }
}

TEST_CASE("quarantine keys on the source MAC in lan_ingress and the destination MAC in lan_egress") {
    Harness& h = shared_harness();
    h.set_gateway();
    h.quarantine_device(L.device, WD_LEVEL_ISOLATE);
    // Another device sending to the isolated one: its own frame is not the device's.
    auto to_isolated = Packet().eth(L.other, L.device).ipv4(L.other4, L.device4).tcp(40000, 22, tcp::syn).build();
    CHECK(h.run(Program::lan_ingress, to_isolated) == XDP_PASS);
    // But it does not reach it: lan_egress drops it on the way out of the LAN port.
    CHECK(h.run(Program::lan_egress, to_isolated) == TC_ACT_SHOT);
    // A frame carrying the isolated device's MAC as source, sent towards another device
    // (seen by lan_egress), is not the isolated device's to lose.
    auto from_isolated = Packet().eth(L.device, L.other).ipv4(L.device4, L.other4).tcp(22, 40000).build();
    CHECK(h.run(Program::lan_egress, from_isolated) == TC_ACT_OK);

    auto q = h.quarantine().get(L.device);
    REQUIRE(q);
    CHECK(q->dropped_from_device.packets == 0);
    CHECK(q->dropped_to_device.packets == 1);
    CHECK(q->dropped_to_device.bytes == to_isolated.size());
    auto other = h.devices().read(L.other);
    REQUIRE(other);
    CHECK(other->lateral.packets == 1);
    CHECK_FALSE(h.devices().read(L.device));
    CHECK(h.prog_stats(Program::lan_ingress).passed == 1);
    auto eg = h.prog_stats(Program::lan_egress);
    CHECK(eg.passed == 1);
    CHECK(eg.dropped[WD_DROP_ISOLATED] == 1);
}

TEST_CASE("quarantine: frames to broadcast and multicast are not one device's and pass lan_egress") {
    // An isolated device still hears broadcasts (nothing per-device can be done at the
    // port); its answers are what lan_ingress drops.
    Harness& h = shared_harness();
    h.set_gateway();
    h.quarantine_device(L.device, WD_LEVEL_ISOLATE);
    auto arp_who_has = Packet().eth(L.gateway, L.broadcast).arp(1, L.gateway4, L.device4).build();
    auto mdns = Packet().eth(L.gateway, mac("01:00:5e:00:00:fb")).ipv4(L.gateway4, ip("224.0.0.251"))
                    .udp(5353, 5353).payload(50).build();
    CHECK(h.run(Program::lan_egress, arp_who_has) == TC_ACT_OK);
    CHECK(h.run(Program::lan_egress, mdns) == TC_ACT_OK);
    auto answer = Packet().eth(L.device, L.gateway).arp(2, L.device4, L.gateway4).build();
    CHECK(h.run(Program::lan_ingress, answer) == XDP_DROP);

    auto eg = h.prog_stats(Program::lan_egress);
    CHECK(eg.passed == 2);
    CHECK(eg.dropped[WD_DROP_ISOLATED] == 0);
    auto q = h.quarantine().get(L.device);
    REQUIRE(q);
    CHECK(q->dropped_to_device.packets == 0);
    CHECK(q->dropped_from_device.packets == 1);
    CHECK(h.flows().read_all().size() == 0);  // multicast destinations make no flow
}

TEST_CASE("quarantine: an expired entry drops nothing, at either level, in either direction") {
    Harness& h = shared_harness();
    auto up = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(40000, 443, tcp::syn).build();
    auto down = Packet().eth(L.gateway, L.device).ipv4(L.peer4, L.device4).tcp(443, 40000, tcp::syn | tcp::ack)
                    .build();
    for (uint32_t level : {WD_LEVEL_ISOLATE, WD_LEVEL_RESTRICTED}) {
        CAPTURE(level);
        h.reset();
        h.set_gateway();
        h.quarantine_device(L.device, level, monotonic_ns() - 1'000'000'000);  // a second ago
        CHECK(h.run(Program::lan_ingress, up) == XDP_PASS);
        CHECK(h.run(Program::lan_egress, down) == TC_ACT_OK);

        auto q = h.quarantine().get(L.device);
        REQUIRE(q);  // still there: removing it is the controller's job
        CHECK(q->dropped_from_device.packets == 0);
        CHECK(q->dropped_to_device.packets == 0);
        auto d = h.devices().read(L.device);
        REQUIRE(d);
        CHECK(d->up.packets == 1);
        CHECK(d->down.packets == 1);
        auto flows = h.flows().read_all();
        REQUIRE(flows.size() == 1);
        CHECK(flows[0].stats.packets[WD_FLOW_UP] == 1);
        CHECK(flows[0].stats.packets[WD_FLOW_DOWN] == 1);
        auto in = h.prog_stats(Program::lan_ingress), eg = h.prog_stats(Program::lan_egress);
        CHECK(in.passed == 1);
        CHECK(eg.passed == 1);
        for (int r = 0; r < WD_DROP_MAX; ++r) CHECK(in.dropped[r] + eg.dropped[r] == 0);
        CHECK(events_of_kind(h.take_events(), WD_EV_QUARANTINE_DROP).empty());
    }
}

TEST_CASE("quarantine: expires_ns = 0 never expires; a future expiry drops until it passes") {
    dataplane::LoadOptions every_drop_reports;
    every_drop_reports.event_interval_ns = 1;
    Harness h(every_drop_reports);
    h.set_gateway();
    auto up = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(40000, 443).build();
    h.quarantine_device(L.device, WD_LEVEL_ISOLATE, 0);
    h.quarantine_device(L.other, WD_LEVEL_ISOLATE, monotonic_ns() + 300'000'000);
    auto other_up = Packet().eth(L.other, L.gateway).ipv4(L.other4, L.peer4).udp(40000, 443).build();

    CHECK(h.run(Program::lan_ingress, up) == XDP_DROP);
    CHECK(h.run(Program::lan_ingress, other_up) == XDP_DROP);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    CHECK(h.run(Program::lan_ingress, up) == XDP_DROP);        // still: no expiry
    CHECK(h.run(Program::lan_ingress, other_up) == XDP_PASS);  // expired meanwhile

    auto q = h.quarantine().get(L.device);
    auto q_other = h.quarantine().get(L.other);
    REQUIRE(q);
    REQUIRE(q_other);
    CHECK(q->expires_ns == 0);
    CHECK(q->dropped_from_device.packets == 2);
    CHECK(q_other->dropped_from_device.packets == 1);
    CHECK_FALSE(h.devices().read(L.device));
    auto other = h.devices().read(L.other);
    REQUIRE(other);
    CHECK(other->up.packets == 1);
    auto st = h.prog_stats(Program::lan_ingress);
    CHECK(st.dropped[WD_DROP_ISOLATED] == 3);
    CHECK(st.passed == 1);
    // With a 1 ns event interval every drop may report itself: 3 drops, 3 events.
    CHECK(events_of_kind(h.take_events(), WD_EV_QUARANTINE_DROP).size() == 3);
}

TEST_CASE("quarantine: drops add up in the entry and survive a level change") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto tcp_frame = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(40000, 443, tcp::syn)
                         .payload(100).build();
    h.quarantine_device(L.device, WD_LEVEL_RESTRICTED);
    for (int i = 0; i < 5; ++i) CHECK(h.run(Program::lan_ingress, tcp_frame) == XDP_DROP);
    // Escalation: QuarantineTable::put keeps the counters of an existing entry.
    h.quarantine_device(L.device, WD_LEVEL_ISOLATE);
    for (int i = 0; i < 3; ++i) CHECK(h.run(Program::lan_ingress, tcp_frame) == XDP_DROP);

    auto q = h.quarantine().get(L.device);
    REQUIRE(q);
    CHECK(q->level == WD_LEVEL_ISOLATE);
    CHECK(q->dropped_from_device.packets == 8);
    CHECK(q->dropped_from_device.bytes == 8 * tcp_frame.size());
    auto st = h.prog_stats(Program::lan_ingress);
    CHECK(st.dropped[WD_DROP_RESTRICTED] == 5);
    CHECK(st.dropped[WD_DROP_ISOLATED] == 3);
    CHECK(st.seen == 8);
    CHECK(st.passed == 0);
    // Released: the device's frames flow again and it is counted from then on.
    CHECK(h.quarantine().remove(L.device));
    CHECK(h.run(Program::lan_ingress, tcp_frame) == XDP_PASS);
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->up.packets == 1);
}
