// The rule the kernel programs apply to the first frame a device sends of a flow: did the
// device open the flow? (include/warden/abi.h; docs/DETECTION.md, "Connections a device
// opens"). The packet tests check the programs apply it; this is the rule's own table.
#include <doctest/doctest.h>
#include <netinet/in.h>

#include <initializer_list>

#include "warden/abi.h"

namespace {

constexpr uint8_t syn = WD_TCP_SYN, ack = WD_TCP_ACK, rst = WD_TCP_RST, fin = WD_TCP_FIN, psh = 0x08;

bool tcp(uint8_t flags, uint16_t device_port, uint16_t peer_port) {
    return wd_device_opened_flow(IPPROTO_TCP, 1, flags, 0, device_port, peer_port);
}

bool udp(uint16_t device_port, uint16_t peer_port) {
    return wd_device_opened_flow(IPPROTO_UDP, 1, 0, 0, device_port, peer_port);
}

bool icmp(uint8_t proto, uint8_t type) { return wd_device_opened_flow(proto, 1, 0, type, 0, 0); }

}  // namespace

TEST_CASE("flow opener, TCP: only a SYN without ACK is an attempt; a SYN+ACK or a reset never opens") {
    CHECK(tcp(syn, 40000, 443));
    CHECK(tcp(syn, 80, 50000));  // a SYN opens whatever its ports (nmap -g 80 still counts)
    CHECK_FALSE(tcp(syn | ack, 80, 50000));
    CHECK_FALSE(tcp(syn | ack, 50000, 80));
    CHECK_FALSE(tcp(rst, 40000, 443));
    CHECK_FALSE(tcp(rst | ack, 23, 40001));
}

TEST_CASE("flow opener, TCP under way: the side with the lower-ranked port is the server") {
    // A server answering a client it was not seen to accept.
    CHECK_FALSE(tcp(ack, 80, 52100));      // well-known to ephemeral
    CHECK_FALSE(tcp(ack | psh, 443, 1025));  // well-known to registered
    CHECK_FALSE(tcp(ack, 8123, 51000));    // registered to ephemeral
    CHECK_FALSE(tcp(fin | ack, 32767, 32768));
    // The device's own connection, seen late, or a probe without SYN (FIN, NULL, Xmas, ACK
    // scans from a client port): counted as a flow it opened, still no attempt.
    CHECK(tcp(ack, 52100, 80));
    CHECK(tcp(fin, 40002, 22));
    CHECK(tcp(0, 1025, 23));
    // Ports of one rank: who began cannot be told, so it is not counted.
    CHECK_FALSE(tcp(ack, 40000, 50000));
    CHECK_FALSE(tcp(ack, 22, 1000));
    CHECK_FALSE(tcp(ack, 5000, 8080));
}

TEST_CASE("flow opener, UDP: the device opened it unless it answers from a lower-ranked port") {
    CHECK(udp(50000, 53));
    CHECK(udp(123, 123));  // NTP, DHCP, mDNS: one port on both sides
    CHECK(udp(68, 67));
    CHECK(udp(5353, 5353));
    CHECK(udp(50000, 50001));
    CHECK_FALSE(udp(53, 40000));    // a DNS server answering
    CHECK_FALSE(udp(1900, 50123));  // an SSDP answer
    CHECK_FALSE(udp(5353, 49152));  // an mDNS unicast answer
}

TEST_CASE("flow opener, ICMP: requests open, replies and errors answer") {
    CHECK(icmp(IPPROTO_ICMP, 8));  // echo request
    CHECK(icmp(IPPROTO_ICMP, 13));  // timestamp request
    for (int answer : {0, 3, 4, 5, 11, 12, 14, 16, 18}) {
        CAPTURE(answer);
        CHECK_FALSE(icmp(IPPROTO_ICMP, uint8_t(answer)));
    }
    CHECK(icmp(IPPROTO_ICMPV6, 128));  // echo request
    CHECK(icmp(IPPROTO_ICMPV6, 135));  // neighbour solicitation
    CHECK(icmp(IPPROTO_ICMPV6, 133));  // router solicitation
    for (int answer : {1, 2, 3, 4, 129}) {
        CAPTURE(answer);
        CHECK_FALSE(icmp(IPPROTO_ICMPV6, uint8_t(answer)));
    }
}

TEST_CASE("flow opener, no transport header (a later fragment): TCP flags are unseen, anything else opens") {
    CHECK_FALSE(wd_device_opened_flow(IPPROTO_TCP, 0, 0, 0, 0, 0));
    CHECK(wd_device_opened_flow(IPPROTO_UDP, 0, 0, 0, 0, 0));
    CHECK(wd_device_opened_flow(IPPROTO_ICMP, 0, 0, 0, 0, 0));
    CHECK(wd_device_opened_flow(47, 1, 0, 0, 0, 0));  // GRE
}

TEST_CASE("flow opener, port ranks: service, registered, the range client ports come from") {
    CHECK(wd_port_rank(0) == 0);
    CHECK(wd_port_rank(1023) == 0);
    CHECK(wd_port_rank(1024) == 1);
    CHECK(wd_port_rank(32767) == 1);
    CHECK(wd_port_rank(32768) == 2);
    CHECK(wd_port_rank(49152) == 2);
    CHECK(wd_port_rank(65535) == 2);
}
