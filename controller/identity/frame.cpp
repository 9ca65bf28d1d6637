#include "identity/frame.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "identity/wire.h"

namespace warden::identity {

namespace {

using wire::refuse;

constexpr uint16_t kEtherIPv4 = 0x0800, kEtherIPv6 = 0x86dd;
constexpr uint16_t kTpid8021Q = 0x8100, kTpid8021AD = 0x88a8;
constexpr int kMaxVlanTags = 2;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kHopByHop = 0, kRouting = 43, kFragment = 44, kDestinationOptions = 60;
constexpr int kMaxIpv6ExtensionHeaders = 8;

net::Mac read_mac(std::span<const uint8_t> six) {
    net::Mac mac;
    std::copy(six.begin(), six.end(), mac.bytes.begin());
    return mac;
}

// Where the network layer left off: the transport header's offset, and where the IP packet
// ends (it may end before the copy does: Ethernet pads short frames).
struct Transport {
    size_t offset = 0;
    size_t ip_end = 0;      // offset just past the IP packet, as its length field says
    bool fragment = false;  // a first fragment: the UDP length covers more than this packet
};

std::optional<Transport> walk_ipv4(std::span<const uint8_t> frame, size_t offset, UdpFrame& out,
                                   std::string* why) {
    wire::Cursor c(frame, offset);
    uint8_t version_ihl = c.u8();
    c.skip(1);  // DSCP/ECN
    uint16_t total_length = c.u16();
    c.skip(2);  // identification
    uint16_t flags_fragment = c.u16();
    c.skip(1);  // TTL
    uint8_t protocol = c.u8();
    c.skip(2);  // checksum: not checked; a device that lies can as well send a correct one
    auto src = c.take(4);
    auto dst = c.take(4);
    if (!c.ok()) return refuse(why, "IPv4 header cut short (20 bytes needed)");
    if (version_ihl >> 4 != 4) return refuse(why, "IPv4 version field is not 4");
    size_t header_len = (version_ihl & 0x0f) * 4u;
    if (header_len < 20) return refuse(why, "IPv4 header length below 20 bytes (IHL < 5)");
    if (header_len > frame.size() - offset) return refuse(why, "IPv4 options cut short by the copy");
    if (total_length < header_len) return refuse(why, "IPv4 total length shorter than its header");
    if ((flags_fragment & 0x1fff) != 0) return refuse(why, "IPv4 non-first fragment (no UDP header in it)");
    if (protocol != kProtoUdp) return refuse(why, "IPv4 protocol " + std::to_string(protocol) + " is not UDP");

    uint8_t a[4], b[4];
    std::memcpy(a, src.data(), 4);
    std::memcpy(b, dst.data(), 4);
    out.src = net::IpAddr::v4(a);
    out.dst = net::IpAddr::v4(b);
    out.v6 = false;
    return Transport{offset + header_len, offset + total_length, (flags_fragment & 0x2000) != 0};
}

std::optional<Transport> walk_ipv6(std::span<const uint8_t> frame, size_t offset, UdpFrame& out,
                                   std::string* why) {
    wire::Cursor c(frame, offset);
    uint32_t version_class_flow = c.u32();
    uint16_t payload_length = c.u16();
    uint8_t next = c.u8();
    c.skip(1);  // hop limit
    auto src = c.take(16);
    auto dst = c.take(16);
    if (!c.ok()) return refuse(why, "IPv6 header cut short (40 bytes needed)");
    if (version_class_flow >> 28 != 6) return refuse(why, "IPv6 version field is not 6");
    // A payload length of 0 means a jumbogram (RFC 2675), which no home link carries.
    if (payload_length == 0) return refuse(why, "IPv6 payload length 0 (jumbogram) not supported");
    std::copy(src.begin(), src.end(), out.src.bytes.begin());
    std::copy(dst.begin(), dst.end(), out.dst.bytes.begin());
    out.v6 = true;

    Transport t;
    t.ip_end = offset + 40 + payload_length;
    for (int headers = 0;; ++headers) {
        if (next == kProtoUdp) break;
        if (next != kHopByHop && next != kRouting && next != kDestinationOptions && next != kFragment)
            return refuse(why, "IPv6 next header " + std::to_string(next) + " is not UDP");
        if (headers == kMaxIpv6ExtensionHeaders)
            return refuse(why, "more than 8 IPv6 extension headers");
        uint8_t this_header = next;
        next = c.u8();
        uint8_t len8 = c.u8();  // reserved in a fragment header
        if (this_header == kFragment) {
            uint16_t offset_flags = c.u16();
            c.skip(4);  // identification
            if (!c.ok()) return refuse(why, "IPv6 fragment header cut short");
            if ((offset_flags >> 3) != 0) return refuse(why, "IPv6 non-first fragment (no UDP header in it)");
            t.fragment = t.fragment || (offset_flags & 1);
        } else {
            c.skip((len8 + 1u) * 8 - 2);
            if (!c.ok()) return refuse(why, "IPv6 extension header " + std::to_string(this_header) + " cut short");
        }
        if (c.offset() > t.ip_end) return refuse(why, "IPv6 extension headers run past the payload length");
    }
    t.offset = c.offset();
    return t;
}

}  // namespace

std::optional<UdpFrame> parse_udp_frame(std::span<const uint8_t> frame, std::string* why) {
    UdpFrame out;
    wire::Cursor c(frame);
    auto dst_mac = c.take(6);
    auto src_mac = c.take(6);
    uint16_t ethertype = c.u16();
    if (!c.ok()) return refuse(why, "Ethernet header cut short (14 bytes needed)");
    out.dst_mac = read_mac(dst_mac);
    out.src_mac = read_mac(src_mac);
    for (int tags = 0; ethertype == kTpid8021Q || ethertype == kTpid8021AD; ++tags) {
        if (tags == kMaxVlanTags) return refuse(why, "more than two VLAN tags");
        c.skip(2);  // TCI
        ethertype = c.u16();
        if (!c.ok()) return refuse(why, "VLAN tag cut short");
    }

    std::optional<Transport> t;
    if (ethertype == kEtherIPv4)
        t = walk_ipv4(frame, c.offset(), out, why);
    else if (ethertype == kEtherIPv6)
        t = walk_ipv6(frame, c.offset(), out, why);
    else {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%04x", ethertype);
        return refuse(why, std::string("EtherType ") + hex + " is neither IPv4 nor IPv6");
    }
    if (!t) return std::nullopt;

    wire::Cursor u(frame, t->offset);
    out.sport = u.u16();
    out.dport = u.u16();
    uint16_t udp_length = u.u16();
    u.skip(2);  // checksum
    if (!u.ok()) return refuse(why, "UDP header cut short (8 bytes needed)");
    if (t->offset + 8 > t->ip_end) return refuse(why, "UDP header runs past the IP packet's length");
    if (udp_length < 8) return refuse(why, "UDP length " + std::to_string(udp_length) + " below its 8-byte header");

    size_t payload_start = t->offset + 8;
    size_t claimed_end = t->offset + udp_length;
    // A whole datagram must fit its IP packet; a first fragment holds only the start of it.
    if (claimed_end > t->ip_end && !t->fragment)
        return refuse(why, "UDP length " + std::to_string(udp_length) + " runs past the IP packet");
    size_t end = std::min({claimed_end, t->ip_end, frame.size()});
    out.payload = frame.subspan(payload_start, end - payload_start);
    out.truncated = end < claimed_end;
    return out;
}

}  // namespace warden::identity
