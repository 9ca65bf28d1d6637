// What the data plane gives the behaviour engine: exact per-device counts (flows opened,
// DNS queries, SYN+ACKs received) and a bounded stream of new-flow events naming the peer.
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "support/harness.h"

using namespace warden;
using namespace warden::testing;
using dataplane::Program;

namespace {

const TestLan& L = lan();

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
