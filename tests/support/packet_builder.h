// Builds Ethernet frames for the packet tests and benchmarks: a fluent description,
// serialised at build() with lengths, next-header fields and the IPv4 checksum filled in.
//   auto frame = Packet().eth(dev, gw).vlan(10).ipv4("198.18.0.10", "198.18.1.1")
//                        .tcp(40000, 443, tcp::syn).payload(100).build();
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "net/address.h"

namespace warden::testing {

using Bytes = std::vector<uint8_t>;

namespace tcp {
inline constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10;
}

inline constexpr uint16_t kEtherIPv4 = 0x0800, kEtherIPv6 = 0x86dd, kEtherArp = 0x0806;
inline constexpr uint16_t kTpid8021Q = 0x8100, kTpid8021AD = 0x88a8;

net::Mac mac(const std::string& text);    // throws on a typo in a test
net::IpAddr ip(const std::string& text);  // likewise
net::Prefix prefix(const std::string& text);  // likewise

class Packet {
public:
    Packet& eth(const net::Mac& src, const net::Mac& dst);
    Packet& vlan(uint16_t vid, uint16_t tpid = kTpid8021Q);  // outermost first
    Packet& ethertype(uint16_t type);  // raw EtherType with nothing after (payload() adds bytes)

    Packet& arp(uint16_t op, const net::IpAddr& sender, const net::IpAddr& target);

    Packet& ipv4(const std::string& src, const std::string& dst);
    Packet& ipv4(const net::IpAddr& src, const net::IpAddr& dst);
    Packet& ipv4_options(Bytes options);                   // padded to 4 bytes
    Packet& ipv4_fragment(uint16_t offset_8byte_units, bool more);
    Packet& ipv4_ihl(uint8_t ihl);                          // force a (bad) header length

    Packet& ipv6(const std::string& src, const std::string& dst);
    Packet& ipv6(const net::IpAddr& src, const net::IpAddr& dst);
    Packet& hop_by_hop(uint8_t len8 = 0);        // extension headers in the order added;
    Packet& routing(uint8_t len8 = 0);           // len8 = the header's length field:
    Packet& destination_options(uint8_t len8 = 0);  // (len8 + 1) * 8 bytes
    Packet& fragment6(uint16_t offset_8byte_units, bool more);

    Packet& tcp(uint16_t sport, uint16_t dport, uint8_t flags = tcp::ack);
    Packet& udp(uint16_t sport, uint16_t dport);
    Packet& icmp_echo(uint16_t id, bool reply = false);  // ICMP or ICMPv6 by the IP layer
    Packet& icmp(uint8_t type, uint8_t code);
    Packet& ip_protocol(uint8_t proto);                  // a bare IP protocol number, no header

    Packet& payload(size_t bytes, uint8_t fill = 0xab);
    Packet& payload(const Bytes& bytes);
    // Pads (with payload) so the whole frame is exactly this long.
    Packet& frame_size(size_t total);
    Packet& tcp_flags(uint8_t flags);

    // The other direction of this frame: MACs, addresses and ports swapped, an ICMP echo
    // request turned into its reply (and back). Payload and headers otherwise unchanged.
    Packet reversed() const;

    Bytes build() const;

    // Where each header of the built frame lies, outermost first, as a parser walks them:
    // "ethernet" is 14 bytes (with the first TPID when tagged), each "vlan" 4 (TCI and the
    // next EtherType), then "arp", "ipv4", "ipv4 options", "ipv6", "hop-by-hop", "routing",
    // "fragment", "destination options", "tcp", "udp", "icmp", and last "payload".
    struct Header {
        std::string name;
        size_t offset = 0;
        size_t length = 0;
    };
    std::vector<Header> headers() const;

private:
    Bytes build(std::vector<Header>* headers) const;

    struct Ext {
        uint8_t type;
        uint8_t len8;
        uint16_t frag_offset;
        bool more;
    };
    enum class L3 { none, arp, ipv4, ipv6, raw } l3_ = L3::none;
    enum class L4 { none, tcp, udp, icmp, raw } l4_ = L4::none;

    net::Mac src_mac_{}, dst_mac_{};
    std::vector<std::pair<uint16_t, uint16_t>> vlans_;  // tpid, vid
    uint16_t raw_ethertype_ = 0;
    uint16_t arp_op_ = 1;
    net::IpAddr src_{}, dst_{};
    Bytes v4_options_;
    uint16_t v4_frag_offset_ = 0;
    bool v4_more_ = false;
    int v4_ihl_ = -1;
    std::vector<Ext> exts_;
    uint16_t sport_ = 0, dport_ = 0;
    uint8_t tcp_flags_ = 0;
    uint8_t icmp_type_ = 0, icmp_code_ = 0;
    uint16_t icmp_id_ = 0;
    uint8_t raw_proto_ = 0;
    Bytes payload_;
    size_t frame_size_ = 0;
};

}  // namespace warden::testing
