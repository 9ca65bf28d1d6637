// What the data plane gives the behaviour engine: exact per-device counts (flows opened,
// DNS queries, SYN+ACKs received) and a bounded stream of new-flow events naming the peer.
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "daemon/sampler.h"
#include "engine/engine.h"
#include "support/harness.h"

using namespace warden;
using namespace warden::testing;
using dataplane::Program;

namespace {

const TestLan& L = lan();

// A frame from the device at the start of a flow, and the ones that continue it.
Packet from_device(const net::IpAddr& peer, uint16_t device_port, uint16_t peer_port, uint8_t flags) {
    return Packet().eth(L.device, L.gateway).ipv4(L.device4, peer).tcp(device_port, peer_port, flags);
}

// Runs the device's frames through lan_ingress; returns its counters afterwards.
dataplane::DeviceCounters send_all(Harness& h, const std::vector<Bytes>& frames) {
    for (const auto& f : frames) REQUIRE(h.run(Program::lan_ingress, f) == XDP_PASS);
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    return *d;
}

// The controller's path from the data plane to the engine: the device's counters and its
// new-flow events through the Sampler, one tick, into a fresh Engine (the defaults a
// device gets before it has any history: the most sensitive thresholds). On the shared
// harness, reset.
struct EngineFeed {
    Harness& h = shared_harness();
    daemon::Sampler sampler;
    engine::Engine engine;
    int64_t now_ms = 1'704'067'200'000;

    EngineFeed() {
        h.set_gateway();
        // The device exists and has a first sample, so the next tick is a delta.
        REQUIRE(h.run(Program::lan_ingress, Packet().eth(L.device, L.gateway).arp(1, L.device4, L.gateway4).build()) ==
                XDP_PASS);
        h.take_events();
        CHECK(sampler.tick(h.devices().read_all(), {}, now_ms).empty());
    }

    // One tick with what the frames made the data plane report; returns the findings.
    std::vector<engine::Finding> tick(const std::vector<Bytes>& frames) {
        for (const auto& f : frames) REQUIRE(h.run(Program::lan_ingress, f) == XDP_PASS);
        for (const auto& e : events_of_kind(h.take_events(), WD_EV_NEW_FLOW))
            sampler.on_new_flow(*e.flow, now_ms + 500);
        now_ms += 1'000;
        std::vector<engine::Finding> findings;
        for (const auto& [mac, sample] : sampler.tick(h.devices().read_all(), {}, now_ms))
            engine.observe(mac, sample, findings);
        return findings;
    }
};

std::string summaries(const std::vector<engine::Finding>& findings) {
    std::string out;
    for (const auto& f : findings) out += f.summary() + "\n";
    return out;
}

}  // namespace

TEST_CASE("engine feed: each new flow is counted and reported with its peer, port and direction") {
    Harness& h = shared_harness();
    h.reset();
    h.set_gateway();
    auto syn = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(40000, 23, tcp::syn).build();
    auto again = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(40000, 23, tcp::ack).build();
    auto lateral = Packet().eth(L.device, L.other).ipv6(L.device6, L.other6).udp(5000, 161).payload(20).build();
    REQUIRE(h.run(Program::lan_ingress, syn) == XDP_PASS);
    REQUIRE(h.run(Program::lan_ingress, again) == XDP_PASS);  // same flow: nothing new
    REQUIRE(h.run(Program::lan_ingress, lateral) == XDP_PASS);

    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->flows_new == 2);
    auto flows = events_of_kind(h.take_events(), WD_EV_NEW_FLOW);
    REQUIRE(flows.size() == 2);
    REQUIRE(flows[0].flow);
    const wd_event_flow& f = *flows[0].flow;
    CHECK(dataplane::mac_of(f.hdr.mac) == L.device);
    net::IpAddr peer;
    std::memcpy(peer.bytes.data(), f.hdr.addr, 16);
    CHECK(peer == L.peer4);
    CHECK(f.proto == IPPROTO_TCP);
    CHECK(ntohs(f.dport) == 23);
    CHECK(ntohs(f.sport) == 40000);
    CHECK(f.tcp_flags == tcp::syn);
    CHECK(f.lateral == 0);
    CHECK(f.hdr.frame_len == syn.size());
    REQUIRE(flows[1].flow);
    CHECK(flows[1].flow->lateral == 1);
    CHECK(flows[1].flow->proto == IPPROTO_UDP);
    CHECK(ntohs(flows[1].flow->dport) == 161);
}

TEST_CASE("engine feed: a scan is counted exactly while its events stay within the budget") {
    dataplane::LoadOptions o;
    o.flow_events_per_s = 10;
    Harness h(o);
    h.set_gateway();
    const int ports = 300;
    for (int port = 1; port <= ports; ++port) {
        auto f = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(40000, port, tcp::syn).build();
        REQUIRE(h.run(Program::lan_ingress, f) == XDP_PASS);
    }
    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->flows_new == ports);
    CHECK(d->tcp_syn == ports);
    auto flows = events_of_kind(h.take_events(), WD_EV_NEW_FLOW);
    CHECK(flows.size() == 10);  // the first ten, in order
    REQUIRE_FALSE(flows.empty());
    CHECK(ntohs(flows.front().flow->dport) == 1);
    CHECK(h.prog_stats(Program::lan_ingress).events_lost == 0);

    // A second later the budget is back.
    std::this_thread::sleep_for(std::chrono::milliseconds(1050));
    auto f = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).tcp(40000, 9999, tcp::syn).build();
    REQUIRE(h.run(Program::lan_ingress, f) == XDP_PASS);
    CHECK(events_of_kind(h.take_events(), WD_EV_NEW_FLOW).size() == 1);
}

TEST_CASE("engine feed: DNS queries and answered connection attempts are counted per device") {
    Harness& h = shared_harness();
    h.reset();
    h.set_gateway();
    auto query = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.gateway4).udp(53000, 53).payload(30).build();
    auto tcp_query = Packet().eth(L.device, L.gateway).ipv6(L.device6, L.resolver6).tcp(53001, 53, tcp::syn).build();
    auto tcp_more = Packet().eth(L.device, L.gateway).ipv6(L.device6, L.resolver6).tcp(53001, 53, tcp::ack).build();
    auto not_dns = Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(53, 4000).build();
    for (const auto& f : {query, query, tcp_query, tcp_more, not_dns}) REQUIRE(h.run(Program::lan_ingress, f) == XDP_PASS);

    auto synack = Packet().eth(L.gateway, L.device).ipv4(L.peer4, L.device4).tcp(443, 40000, tcp::syn | tcp::ack).build();
    auto ack = Packet().eth(L.gateway, L.device).ipv4(L.peer4, L.device4).tcp(443, 40000, tcp::ack).build();
    auto rst = Packet().eth(L.gateway, L.device).ipv4(L.peer4, L.device4).tcp(23, 40001, tcp::rst | tcp::ack).build();
    for (const auto& f : {synack, ack, rst}) REQUIRE(h.run(Program::lan_egress, f) == TC_ACT_OK);

    auto d = h.devices().read(L.device);
    REQUIRE(d);
    CHECK(d->dns_queries == 3);  // two UDP queries, one TCP connection to port 53
    CHECK(d->tcp_synack == 1);
    CHECK(d->tcp_syn == 1);
}

TEST_CASE("engine feed: a frame that answers is no flow the device opened, and no connection attempt") {
    Harness& h = shared_harness();
    h.reset();
    h.set_gateway();
    std::vector<Bytes> answers;
    // A server's SYN+ACKs to 24 client ports whose SYNs it was not seen to receive.
    for (int i = 0; i < 24; ++i) answers.push_back(from_device(L.other4, 80, 50000 + i, tcp::syn | tcp::ack).build());
    // Segments of connections under way: from a service port to a client port.
    answers.push_back(from_device(L.peer4, 443, 51000, tcp::ack | tcp::psh).payload(1200).build());
    answers.push_back(from_device(L.peer4, 8123, 51001, tcp::ack).build());  // a registered port
    answers.push_back(from_device(L.peer4, 22, 1022, tcp::ack).build());   // service ports both
    answers.push_back(from_device(L.peer4, 40000, 50000, tcp::ack).build());  // client ports both
    answers.push_back(from_device(L.peer4, 23, 40001, tcp::rst | tcp::ack).build());
    answers.push_back(from_device(L.peer4, 40002, 443, tcp::rst).build());  // a reset opens nothing
    // A DNS server and an SSDP device answering, an echo reply, a port unreachable.
    answers.push_back(Packet().eth(L.device, L.other).ipv4(L.device4, L.other4).udp(53, 40000).payload(60).build());
    answers.push_back(Packet().eth(L.device, L.other).ipv4(L.device4, L.other4).udp(1900, 50123).payload(200).build());
    answers.push_back(Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).icmp_echo(7, true).build());
    answers.push_back(Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).icmp(3, 3).payload(28).build());
    answers.push_back(Packet().eth(L.device, L.gateway).ipv6(L.device6, L.peer6).icmp_echo(7, true).build());
    answers.push_back(Packet().eth(L.device, L.gateway).ipv6(L.device6, L.peer6).icmp(1, 4).payload(48).build());

    auto d = send_all(h, answers);
    CHECK(d.flows_new == 0);
    CHECK(d.tcp_syn == 0);
    CHECK(d.dns_queries == 0);
    CHECK(events_of_kind(h.take_events(), WD_EV_NEW_FLOW).empty());
    // Each is still a flow warden accounts for (bytes, flags, the blocklist's answer).
    CHECK(h.flows().read_all().size() == answers.size());
    CHECK(d.up.packets + d.lateral.packets == answers.size());
}

TEST_CASE("engine feed: the flows a device opens are counted; only a SYN without ACK is an attempt") {
    Harness& h = shared_harness();
    h.reset();
    h.set_gateway();
    std::vector<Bytes> opened = {
        from_device(L.peer4, 40000, 443, tcp::syn).build(),           // an attempt
        from_device(L.peer4, 40001, 443, tcp::ack | tcp::psh).build(),  // its own, seen late
        from_device(L.peer4, 40002, 22, tcp::fin).build(),            // a probe without SYN
        from_device(L.peer4, 40003, 3389, tcp::fin | tcp::psh | 0x20).build(),  // "Xmas"
        Packet().eth(L.device, L.gateway).ipv4(L.device4, L.resolver4).udp(50000, 53).build(),
        Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(123, 123).build(),
        Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).udp(5000, 5001).build(),
        Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).icmp_echo(9).build(),
        Packet().eth(L.device, L.gateway).ipv6(L.device6, L.peer6).icmp(135, 0).payload(24).build(),
        Packet().eth(L.device, L.gateway).ipv4(L.device4, L.peer4).ip_protocol(47).payload(20).build(),
    };
    auto d = send_all(h, opened);
    CHECK(d.flows_new == opened.size());
    CHECK(d.tcp_syn == 1);
    auto flows = events_of_kind(h.take_events(), WD_EV_NEW_FLOW);
    REQUIRE(flows.size() == opened.size());
    CHECK(flows[0].flow->tcp_flags == tcp::syn);
    CHECK(ntohs(flows[1].flow->dport) == 443);
    CHECK(flows[1].flow->tcp_flags == (tcp::ack | tcp::psh));
    CHECK(ntohs(flows[2].flow->dport) == 22);
}

TEST_CASE("engine feed: a LAN server answering an app's many connections is no port scan; a scan still is") {
    // A Philips Hue bridge serving its app over HTTP, as a capture without the app's side
    // shows it: in one second, 24 connections from the phone's ephemeral ports to port 80,
    // each answered with a SYN+ACK, the response and a FIN.
    EngineFeed feed;
    Harness& h = feed.h;
    std::vector<Bytes> bridge;
    for (int i = 0; i < 24; ++i) {
        uint16_t app_port = 52100 + 7 * i;
        auto to_app = Packet().eth(L.device, L.other).ipv4(L.device4, L.other4);
        bridge.push_back(Packet(to_app).tcp(80, app_port, tcp::syn | tcp::ack).build());
        bridge.push_back(Packet(to_app).tcp(80, app_port, tcp::ack | tcp::psh).payload(900).build());
        bridge.push_back(Packet(to_app).tcp(80, app_port, tcp::fin | tcp::ack).build());
    }
    auto findings = feed.tick(bridge);
    CHECK_MESSAGE(findings.empty(), summaries(findings));
    CHECK(h.devices().read(L.device)->flows_new == 0);

    // The same bridge answering connections that were under way before warden looked (the
    // app's SYNs and the SYN+ACKs unseen): the segments that follow.
    std::vector<Bytes> later;
    for (int i = 0; i < 24; ++i)
        later.push_back(Packet().eth(L.device, L.other).ipv4(L.device4, L.other4).tcp(80, 60000 + i, tcp::ack).build());
    findings = feed.tick(later);
    CHECK_MESSAGE(findings.empty(), summaries(findings));

    // The bridge itself trying 30 ports on the phone is a vertical scan, found at once.
    std::vector<Bytes> scan;
    for (int port = 1; port <= 30; ++port)
        scan.push_back(Packet().eth(L.device, L.other).ipv4(L.device4, L.other4).tcp(41000, port, tcp::syn).build());
    findings = feed.tick(scan);
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].detector == engine::Detector::port_scan);
    CHECK_MESSAGE(findings[0].evidence.text.find("tried 30 ports on 198.18.0.11") == 0, findings[0].summary());
}

TEST_CASE("engine feed: a port-forwarded server whose clients' SYNs were not seen raises no finding") {
    // Right after warden starts: a web server on the LAN, forwarded from the WAN, is in the
    // middle of 80 connections from as many internet clients (and their ephemeral ports);
    // its next segments are the first frames warden sees of them.
    EngineFeed feed;
    Harness& h = feed.h;
    std::vector<Bytes> server;
    for (int i = 0; i < 80; ++i) {
        const uint8_t bytes[4] = {198, 19, 1, uint8_t(1 + i)};
        auto client = net::IpAddr::v4(bytes);
        server.push_back(from_device(client, 443, uint16_t(49152 + 13 * i), tcp::ack | tcp::psh).payload(1400).build());
        server.push_back(from_device(client, 8443, uint16_t(33000 + 17 * i), tcp::ack).build());
    }
    auto findings = feed.tick(server);
    CHECK_MESSAGE(findings.empty(), summaries(findings));
    auto d = h.devices().read(L.device);
    CHECK(d->flows_new == 0);
    CHECK(d->tcp_syn == 0);
}
