// Events: a new device once per MAC, quarantine drops and blocklist hits at most once per
// device per interval, copies of DHCP/DHCPv6/DNS frames in both directions, and losses
// counted when the ring buffer is full.
#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "support/harness.h"

using namespace warden;
using namespace warden::testing;
using dataplane::Program;

namespace {

const TestLan& L = lan();
constexpr uint64_t kInterval = 200'000'000;  // 200 ms

dataplane::LoadOptions short_interval() {
    dataplane::LoadOptions o;
    o.event_interval_ns = kInterval;
    return o;
}

void sleep_past_interval() { std::this_thread::sleep_for(std::chrono::milliseconds(260)); }

}  // namespace

TEST_CASE("events: NEW_DEVICE once per new MAC, with the device and a timestamp") {
    Harness& h = shared_harness();
    h.set_gateway();
    auto from = [](const net::Mac& m) {
        return Packet().eth(m, L.gateway).ipv4(L.device4, L.peer4).udp(1, 2).build();
    };
    uint64_t before = monotonic_ns();
    for (int i = 0; i < 5; ++i) CHECK(h.run(Program::lan_ingress, from(L.device)) == XDP_PASS);
    for (int i = 0; i < 3; ++i) CHECK(h.run(Program::lan_ingress, from(L.other)) == XDP_PASS);
    // Frames *to* a MAC (lan_egress) and WAN frames never make a device.
    CHECK(h.run(Program::lan_egress, Packet().eth(L.gateway, mac("02:00:00:00:00:77")).ipv4(L.peer4, L.device4)
                                         .udp(2, 1).build()) == TC_ACT_OK);
    CHECK(h.run(Program::wan_ingress, from(mac("02:00:00:00:aa:01"))) == XDP_PASS);

    auto events = events_of_kind(h.take_events(), WD_EV_NEW_DEVICE);
    REQUIRE(events.size() == 2);
    CHECK(events[0].hdr.kind == WD_EV_NEW_DEVICE);
    CHECK(dataplane::mac_of(events[0].hdr.mac) == L.device);
    CHECK(events[1].hdr.kind == WD_EV_NEW_DEVICE);
    CHECK(dataplane::mac_of(events[1].hdr.mac) == L.other);
    // The coarse clock lags by at most a tick (10 ms at HZ=100): allow two.
    CHECK(events[0].hdr.ts_ns + 20'000'000 >= before);
    CHECK(events[0].hdr.ts_ns <= monotonic_ns());
    CHECK(events[0].packet.empty());
    CHECK(h.devices().read_all().size() == 2);
    // A device forgotten by the controller (deleted) is new again when it comes back.
    CHECK(h.devices().remove(L.device, h.stats()));
    CHECK(h.run(Program::lan_ingress, from(L.device)) == XDP_PASS);
    auto again = h.take_events();
    REQUIRE(again.size() == 1);
    CHECK(again[0].hdr.kind == WD_EV_NEW_DEVICE);
}

TEST_CASE("events: QUARANTINE_DROP at most once per device per interval") {
    Harness h(short_interval());
    h.set_gateway();
    h.quarantine_device(L.device, WD_LEVEL_ISOLATE);
    h.quarantine_device(L.other, WD_LEVEL_RESTRICTED);
    auto up = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(40000, 443, tcp::syn).build();
    auto down = Packet().eth(L.gateway, L.device).ipv4(L.peer4, L.device4).tcp(443, 40000, tcp::ack).build();
    auto other_up = Packet().eth(L.other, L.gateway).ipv4(L.other4, L.peer4).udp(1, 2).build();

    for (int i = 0; i < 50; ++i) REQUIRE(h.run(Program::lan_ingress, up) == XDP_DROP);
    // Both directions share the limit: the drop towards the device adds no event.
    for (int i = 0; i < 20; ++i) REQUIRE(h.run(Program::lan_egress, down) == TC_ACT_SHOT);
    // Another device has its own limit.
    for (int i = 0; i < 10; ++i) REQUIRE(h.run(Program::lan_ingress, other_up) == XDP_DROP);
    auto burst = events_of_kind(h.take_events(), WD_EV_QUARANTINE_DROP);
    REQUIRE(burst.size() == 2);
    CHECK(dataplane::mac_of(burst[0].hdr.mac) == L.device);
    CHECK(burst[0].hdr.detail == WD_DROP_ISOLATED);
    CHECK(burst[0].hdr.direction == WD_DIR_FROM_DEVICE);
    CHECK(dataplane::mac_of(burst[1].hdr.mac) == L.other);
    CHECK(burst[1].hdr.detail == WD_DROP_RESTRICTED);

    sleep_past_interval();
    for (int i = 0; i < 20; ++i) REQUIRE(h.run(Program::lan_egress, down) == TC_ACT_SHOT);
    for (int i = 0; i < 20; ++i) REQUIRE(h.run(Program::lan_ingress, up) == XDP_DROP);
    auto later = events_of_kind(h.take_events(), WD_EV_QUARANTINE_DROP);
    REQUIRE(later.size() == 1);
    CHECK(dataplane::mac_of(later[0].hdr.mac) == L.device);
    CHECK(later[0].hdr.direction == WD_DIR_TO_DEVICE);  // the first drop after the interval
    CHECK(later[0].hdr.ts_ns >= burst[0].hdr.ts_ns + kInterval);

    // Every drop is still counted, reported or not.
    auto q = h.quarantine().get(L.device);
    REQUIRE(q);
    CHECK(q->dropped_from_device.packets == 70);
    CHECK(q->dropped_to_device.packets == 40);
    CHECK(h.prog_stats(Program::lan_ingress).dropped[WD_DROP_ISOLATED] == 70);
    CHECK(h.prog_stats(Program::lan_ingress).dropped[WD_DROP_RESTRICTED] == 10);
    CHECK(h.prog_stats(Program::lan_egress).dropped[WD_DROP_ISOLATED] == 40);
    CHECK(h.prog_stats(Program::lan_ingress).events_lost == 0);
}

TEST_CASE("events: BLOCKLIST_HIT at most once per device per interval, on the LAN and the WAN") {
    Harness h(short_interval());
    h.set_gateway();
    h.blocklist().put(prefix("198.19.66.0/24"), WD_BLOCK_OUT | WD_BLOCK_IN);
    auto to_bad = [](const char* dst) {
        return Packet().eth(L.device, L.gateway).ipv4(L.device4, ip(dst)).tcp(40000, 443, tcp::syn).build();
    };
    auto from_bad = Packet().eth(mac("02:00:00:00:aa:01"), L.gateway).ipv4(ip("198.19.66.6"), L.gateway4)
                        .tcp(443, 40000, tcp::syn).build();
    for (int i = 0; i < 30; ++i) REQUIRE(h.run(Program::lan_ingress, to_bad("198.19.66.1")) == XDP_DROP);
    for (int i = 0; i < 30; ++i) REQUIRE(h.run(Program::lan_ingress, to_bad("198.19.66.2")) == XDP_DROP);
    for (int i = 0; i < 30; ++i) REQUIRE(h.run(Program::wan_ingress, from_bad) == XDP_DROP);
    auto burst = events_of_kind(h.take_events(), WD_EV_BLOCKLIST_HIT);
    REQUIRE(burst.size() == 2);  // one for the device, one for the upstream MAC
    CHECK(dataplane::mac_of(burst[0].hdr.mac) == L.device);
    CHECK(burst[0].hdr.addr[15] == 1);  // the first address hit
    CHECK(burst[1].hdr.direction == WD_DIR_FROM_WAN);

    sleep_past_interval();
    for (int i = 0; i < 10; ++i) REQUIRE(h.run(Program::lan_ingress, to_bad("198.19.66.3")) == XDP_DROP);
    auto later = events_of_kind(h.take_events(), WD_EV_BLOCKLIST_HIT);
    REQUIRE(later.size() == 1);
    CHECK(later[0].hdr.addr[15] == 3);
    CHECK(h.devices().read(L.device)->blocklist_drops == 70);
    CHECK(h.prog_stats(Program::lan_ingress).dropped[WD_DROP_BLOCKLIST] == 70);
    CHECK(h.prog_stats(Program::wan_ingress).dropped[WD_DROP_BLOCKLIST] == 30);
}

namespace {

struct CopyCase {
    const char* what;
    Program program;
    Packet packet;
    uint8_t kind;
    uint8_t direction;
};

void check_copy(const CopyCase& c, size_t size) {
    CAPTURE(c.what);
    CAPTURE(size);
    Harness& h = shared_harness();
    h.set_gateway();
    // The device is known already, so its NEW_DEVICE event is out of the way.
    REQUIRE(h.run(Program::lan_ingress, Packet().eth(L.device, L.broadcast).arp(1, L.device4, L.gateway4).build()) ==
            XDP_PASS);
    h.take_events();
    Packet p = c.packet;
    auto frame = p.frame_size(size).build();
    REQUIRE(frame.size() == size);
    int verdict = h.run(c.program, frame);
    CHECK(verdict == (c.program == Program::lan_egress ? TC_ACT_OK : XDP_PASS));

    auto all = h.take_events();
    // Besides the copy, only the report of the new flow the frame opened (lan_ingress).
    CHECK(events_of_kind(all, WD_EV_NEW_FLOW).size() == (c.program == Program::lan_ingress ? 1u : 0u));
    auto events = events_of_kind(all, WD_EV_PACKET_COPY);
    REQUIRE(events.size() == 1);
    const auto& e = events[0];
    CHECK(e.hdr.kind == WD_EV_PACKET_COPY);
    CHECK(e.hdr.detail == c.kind);
    CHECK(e.hdr.direction == c.direction);
    CHECK(dataplane::mac_of(e.hdr.mac) == L.device);
    CHECK(e.hdr.frame_len == size);
    const size_t expect = std::min<size_t>(size, WD_EVENT_COPY_MAX);
    CHECK(e.hdr.cap_len == expect);
    REQUIRE(e.packet.size() == expect);
    CHECK(std::equal(e.packet.begin(), e.packet.end(), frame.begin()));
    auto st = h.prog_stats(c.program);
    CHECK(st.passed == (c.program == Program::lan_ingress ? 2 : 1));
    CHECK(st.events_lost == 0);
}

void check_copy_sizes(const CopyCase& c) {
    // Short (whole frame), odd (the byte-wise tail), exactly the cap, and beyond it.
    for (size_t size : {size_t(0), size_t(301), size_t(WD_EVENT_COPY_MAX), size_t(1400)}) {
        if (size == 0) size = c.packet.build().size();  // the headers alone
        check_copy(c, size);
    }
}

}  // namespace

TEST_CASE("events: DHCP frames are copied in both directions") {
    check_copy_sizes({"discover", Program::lan_ingress,
                      Packet().eth(L.device, L.broadcast).ipv4("0.0.0.0", "255.255.255.255").udp(68, 67),
                      WD_COPY_DHCP4, WD_DIR_FROM_DEVICE});
    check_copy_sizes({"offer", Program::lan_egress,
                      Packet().eth(L.gateway, L.device).ipv4(L.gateway4, L.device4).udp(67, 68), WD_COPY_DHCP4,
                      WD_DIR_TO_DEVICE});
}

TEST_CASE("events: DHCPv6 frames are copied in both directions") {
    check_copy_sizes({"solicit", Program::lan_ingress,
                      Packet().eth(L.device, mac("33:33:00:01:00:02")).ipv6(L.device6_link, ip("ff02::1:2"))
                          .udp(546, 547),
                      WD_COPY_DHCP6, WD_DIR_FROM_DEVICE});
    check_copy_sizes({"advertise", Program::lan_egress,
                      Packet().eth(L.gateway, L.device).ipv6(ip("fe80::1"), L.device6_link).udp(547, 546),
                      WD_COPY_DHCP6, WD_DIR_TO_DEVICE});
}

TEST_CASE("events: DNS frames are copied in both directions, to and from any resolver") {
    check_copy_sizes({"query to the gateway", Program::lan_ingress,
                      Packet().eth(L.device, L.gateway).ipv4(L.device4, L.gateway4).udp(53000, 53), WD_COPY_DNS,
                      WD_DIR_FROM_DEVICE});
    check_copy_sizes({"query elsewhere, IPv6, tagged", Program::lan_ingress,
                      Packet().eth(L.device, L.gateway).vlan(10).ipv6(L.device6, L.resolver6).udp(53000, 53),
                      WD_COPY_DNS, WD_DIR_FROM_DEVICE});
    check_copy_sizes({"answer", Program::lan_egress,
                      Packet().eth(L.gateway, L.device).ipv4(L.resolver4, L.device4).udp(53, 53000), WD_COPY_DNS,
                      WD_DIR_TO_DEVICE});
}

TEST_CASE("events: other UDP and TCP frames are not copied") {
    Harness& h = shared_harness();
    h.set_gateway();
    CHECK(h.run(Program::lan_ingress, Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(53000, 443)
                                          .payload(100).build()) == XDP_PASS);
    CHECK(h.run(Program::lan_ingress, Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(53, 5300)
                                          .build()) == XDP_PASS);  // from port 53: a device is no DNS server
    // mDNS and SSDP towards a device are other devices' announcements, not its own.
    CHECK(h.run(Program::lan_egress, Packet().eth(L.other, L.device).ipv4(L.other4, L.device4).udp(5353, 5353)
                                         .build()) == TC_ACT_OK);
    CHECK(h.run(Program::lan_egress, Packet().eth(L.other, L.device).ipv4(L.other4, L.device4).udp(1900, 40000)
                                         .build()) == TC_ACT_OK);
    CHECK(h.run(Program::lan_egress, Packet().eth(L.gateway, L.device).ipv4(L.peer4, L.device4).udp(443, 53000)
                                         .build()) == TC_ACT_OK);
    // A later fragment has no ports to tell DNS by.
    CHECK(h.run(Program::lan_ingress, Packet().eth(L.device, L.gateway).ipv4(L.device4, L.gateway4)
                                          .ipv4_fragment(100, false).ip_protocol(17).payload(Bytes{0xd0, 0x00, 0x00, 0x35})
                                          .build()) == XDP_PASS);
    auto events = h.take_events();
    CHECK(events_of_kind(events, WD_EV_PACKET_COPY).empty());
    CHECK(events_of_kind(events, WD_EV_NEW_DEVICE).size() == 1);
    CHECK(events.size() == 1 + events_of_kind(events, WD_EV_NEW_FLOW).size());
}

TEST_CASE("events: a full ring buffer loses events and counts each loss") {
    dataplane::LoadOptions small;
    small.sizes.events_bytes = 4096;  // room for a handful of 576-byte copies
    Harness h(small);
    h.set_gateway();
    auto dns = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.gateway4).udp(53000, 53).payload(200).build();
    const int sent = 20;
    for (int i = 0; i < sent; ++i) REQUIRE(h.run(Program::lan_ingress, dns) == XDP_PASS);
    auto events = h.take_events();
    auto st = h.prog_stats(Program::lan_ingress);
    // One NEW_DEVICE, one NEW_FLOW (one flow) and one copy per frame were attempted; each
    // either arrived or was counted.
    CHECK(events.size() + st.events_lost == sent + 2);
    CHECK(st.events_lost > 0);
    CHECK(events.size() >= 5);
    CHECK(st.passed == sent);  // losing an event never costs the frame
    CHECK(h.devices().read(L.device)->up.packets == sent);
    // Drained, the ring takes events again.
    REQUIRE(h.run(Program::lan_ingress, dns) == XDP_PASS);
    CHECK(events_of_kind(h.take_events(), WD_EV_PACKET_COPY).size() == 1);
    CHECK(h.prog_stats(Program::lan_ingress).events_lost == st.events_lost);
}

TEST_CASE("events: mDNS and SSDP a device sends are copied, at most once per device per interval") {
    Harness h(short_interval());
    h.set_gateway();
    const net::Mac mdns_group = mac("01:00:5e:00:00:fb"), ssdp_group = mac("01:00:5e:7f:ff:fa");
    auto mdns = Packet().eth(L.device, mdns_group).ipv4(L.device4, ip("224.0.0.251")).udp(5353, 5353).payload(200).build();
    auto mdns6 = Packet().eth(L.device, mac("33:33:00:00:00:fb")).ipv6(L.device6_link, ip("ff02::fb")).udp(5353, 5353)
                     .payload(200).build();
    auto notify = Packet().eth(L.device, ssdp_group).ipv4(L.device4, ip("239.255.255.250")).udp(40000, 1900)
                      .payload(300).build();
    auto other_mdns = Packet().eth(L.other, mdns_group).ipv4(L.other4, ip("224.0.0.251")).udp(5353, 5353).build();

    for (int i = 0; i < 10; ++i) REQUIRE(h.run(Program::lan_ingress, mdns) == XDP_PASS);
    for (int i = 0; i < 10; ++i) REQUIRE(h.run(Program::lan_ingress, mdns6) == XDP_PASS);
    for (int i = 0; i < 10; ++i) REQUIRE(h.run(Program::lan_ingress, notify) == XDP_PASS);
    REQUIRE(h.run(Program::lan_ingress, other_mdns) == XDP_PASS);  // its own limit
    auto copies = events_of_kind(h.take_events(), WD_EV_PACKET_COPY);
    // mDNS and SSDP share one limit a device: the first frame of the burst is copied.
    REQUIRE(copies.size() == 2);
    CHECK(dataplane::mac_of(copies[0].hdr.mac) == L.device);
    CHECK(copies[0].hdr.detail == WD_COPY_MDNS);
    CHECK(copies[0].hdr.direction == WD_DIR_FROM_DEVICE);
    CHECK(copies[0].packet == mdns);
    CHECK(dataplane::mac_of(copies[1].hdr.mac) == L.other);

    sleep_past_interval();
    REQUIRE(h.run(Program::lan_ingress, notify) == XDP_PASS);
    REQUIRE(h.run(Program::lan_ingress, notify) == XDP_PASS);
    auto later = events_of_kind(h.take_events(), WD_EV_PACKET_COPY);
    REQUIRE(later.size() == 1);
    CHECK(later[0].hdr.detail == WD_COPY_SSDP);
    CHECK(later[0].packet == notify);
    // Every frame passed and was counted, copied or not.
    CHECK(h.prog_stats(Program::lan_ingress).passed == 33);
    CHECK(h.devices().read(L.device)->bcast.packets == 32);
}
