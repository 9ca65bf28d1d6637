#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "daemon/sampler.h"

using namespace warden;

namespace {

const net::Mac kCamera = *net::Mac::parse("02:00:00:00:01:01");
const net::Mac kLaptop = *net::Mac::parse("02:00:00:00:01:02");

dataplane::DeviceCounters counters(const net::Mac& mac, uint64_t up, uint64_t down, uint64_t flows) {
    dataplane::DeviceCounters d;
    d.mac = mac;
    d.up = {up / 1000, up};
    d.down = {down / 1000, down};
    d.flows_new = flows;
    d.tcp_syn = flows;
    return d;
}

wd_event_flow flow_event(const net::Mac& mac, const char* peer, uint16_t port, bool lateral = false) {
    wd_event_flow e{};
    std::memcpy(e.hdr.mac, mac.bytes.data(), 6);
    auto a = *net::IpAddr::parse(peer);
    std::memcpy(e.hdr.addr, a.bytes.data(), 16);
    e.proto = IPPROTO_TCP;
    e.tcp_flags = 0x02;
    e.dport = htons(port);
    e.lateral = lateral;
    e.hdr.frame_len = 74;
    return e;
}

}  // namespace

TEST_CASE("the sampler turns two polls into deltas, with the contacts seen in between") {
    daemon::Sampler s;
    CHECK(s.tick({counters(kCamera, 1000, 500, 2)}, {}, 10'000).empty());  // no delta yet
    s.on_new_flow(flow_event(kCamera, "198.19.0.1", 443), 10'500);
    s.on_new_flow(flow_event(kCamera, "198.18.0.102", 22, true), 10'600);
    auto out = s.tick({counters(kCamera, 51'000, 2'500, 4), counters(kLaptop, 10, 10, 1)}, {{kCamera, 7}}, 11'000);
    REQUIRE(out.size() == 1);  // the laptop is new: no delta yet
    CHECK(out[0].first == kCamera);
    const auto& x = out[0].second;
    CHECK(x.time_ms == 11'000);
    CHECK(x.seconds == doctest::Approx(1.0));
    CHECK(x.bytes_up == 50'000);
    CHECK(x.bytes_down == 2'000);
    CHECK(x.new_flows == 2);
    CHECK(x.syn_sent == 2);
    CHECK(x.active_flows == 7);
    REQUIRE(x.contacts.size() == 2);
    CHECK(x.contacts[0].peer == *net::IpAddr::parse("198.19.0.1"));
    CHECK(x.contacts[0].port == 443);
    CHECK(x.contacts[0].syn);
    CHECK(x.contacts[0].time_ms == 10'500);
    CHECK(x.contacts[1].lateral);
    CHECK(x.contacts_dropped == 0);
}

TEST_CASE("the sampler bounds the contacts a tick and counts the rest") {
    daemon::Sampler s(3);
    s.tick({counters(kCamera, 0, 0, 0)}, {}, 1'000);
    for (int i = 0; i < 10; ++i) s.on_new_flow(flow_event(kCamera, "198.18.64.1", 1 + i), 1'100);
    auto out = s.tick({counters(kCamera, 0, 0, 250)}, {}, 2'000);
    REQUIRE(out.size() == 1);
    CHECK(out[0].second.new_flows == 250);
    CHECK(out[0].second.contacts.size() == 3);
    CHECK(out[0].second.contacts_dropped == 247);
    // Contacts belong to one tick only.
    out = s.tick({counters(kCamera, 0, 0, 250)}, {}, 3'000);
    REQUIRE(out.size() == 1);
    CHECK(out[0].second.contacts.empty());
    CHECK(out[0].second.new_flows == 0);
}

TEST_CASE("a device whose counters went backwards starts over instead of a huge delta") {
    daemon::Sampler s;
    s.tick({counters(kCamera, 5'000'000, 0, 10)}, {}, 1'000);
    CHECK(s.tick({counters(kCamera, 100, 0, 1)}, {}, 2'000).empty());  // evicted and seen again
    auto out = s.tick({counters(kCamera, 1'100, 0, 2)}, {}, 3'000);
    REQUIRE(out.size() == 1);
    CHECK(out[0].second.bytes_up == 1'000);
}

TEST_CASE("only TCP and UDP contacts have a port: an ICMP echo identifier is no port tried") {
    daemon::Sampler s;
    s.tick({counters(kCamera, 0, 0, 0)}, {}, 1'000);
    for (uint16_t id = 1; id <= 3; ++id) {
        wd_event_flow e = flow_event(kCamera, "198.19.0.1", id);
        e.proto = IPPROTO_ICMP;
        e.tcp_flags = 0;
        e.sport = e.dport;  // the data plane keys an echo by its identifier on both sides
        s.on_new_flow(e, 1'500);
    }
    wd_event_flow udp = flow_event(kCamera, "198.19.0.1", 53);
    udp.proto = IPPROTO_UDP;
    udp.tcp_flags = 0;
    s.on_new_flow(udp, 1'600);
    auto out = s.tick({counters(kCamera, 0, 0, 4)}, {}, 2'000);
    REQUIRE(out.size() == 1);
    const auto& contacts = out[0].second.contacts;
    REQUIRE(contacts.size() == 4);
    for (int i = 0; i < 3; ++i) {
        CHECK(contacts[i].port == 0);
        CHECK_FALSE(contacts[i].syn);
    }
    CHECK(contacts[3].port == 53);
    CHECK_FALSE(contacts[3].syn);
}

TEST_CASE("bytes by far end reach the device's next sample: the ends it sent the most to") {
    daemon::Sampler s;
    s.tick({counters(kCamera, 1000, 500, 2)}, {}, 10'000);
    // More far ends than a sample carries: the ones that took the least upload give way.
    for (uint32_t i = 0; i < daemon::Sampler::max_peers + 4; ++i) {
        engine::PeerBytes b;
        b.peer = *net::IpAddr::parse("198.18.1." + std::to_string(i + 1));
        b.bytes_up = 1'000 * (i + 1);
        b.bytes_down = 10;
        s.on_peer_bytes(kCamera, b);
    }
    auto out = s.tick({counters(kCamera, 51'000, 2'500, 2)}, {}, 11'000);
    REQUIRE(out.size() == 1);
    const auto& peers = out[0].second.peer_bytes;
    REQUIRE(peers.size() == daemon::Sampler::max_peers);
    uint64_t least = UINT64_MAX;
    for (const auto& p : peers) least = std::min(least, p.bytes_up);
    CHECK(least == 5'000);  // the four smallest (1 to 4 kB) gave way
    // Handed over once: the next sample starts empty.
    CHECK(s.tick({counters(kCamera, 52'000, 2'600, 2)}, {}, 12'000)[0].second.peer_bytes.empty());
}
