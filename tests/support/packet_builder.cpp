#include "support/packet_builder.h"

#include <stdexcept>

namespace warden::testing {

namespace {

void put16(Bytes& b, uint16_t v) {
    b.push_back(v >> 8);
    b.push_back(v & 0xff);
}

void put_bytes(Bytes& b, const uint8_t* p, size_t n) { b.insert(b.end(), p, p + n); }

uint16_t ipv4_checksum(const uint8_t* hdr, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) sum += hdr[i] << 8 | hdr[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return ~sum & 0xffff;
}

constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp = 1, kProtoIcmp6 = 58;
constexpr uint8_t kExtHop = 0, kExtRouting = 43, kExtFragment = 44, kExtDest = 60;

}  // namespace

net::Mac mac(const std::string& text) {
    auto m = net::Mac::parse(text);
    if (!m) throw std::invalid_argument("bad MAC in test: " + text);
    return *m;
}

net::IpAddr ip(const std::string& text) {
    auto a = net::IpAddr::parse(text);
    if (!a) throw std::invalid_argument("bad address in test: " + text);
    return *a;
}

net::Prefix prefix(const std::string& text) {
    std::string why;
    auto p = net::Prefix::parse(text, &why);
    if (!p) throw std::invalid_argument("bad prefix in test: " + text + ": " + why);
    return *p;
}

Packet& Packet::eth(const net::Mac& src, const net::Mac& dst) {
    src_mac_ = src;
    dst_mac_ = dst;
    return *this;
}
Packet& Packet::vlan(uint16_t vid, uint16_t tpid) {
    vlans_.emplace_back(tpid, vid);
    return *this;
}
Packet& Packet::ethertype(uint16_t type) {
    l3_ = L3::raw;
    raw_ethertype_ = type;
    return *this;
}
Packet& Packet::arp(uint16_t op, const net::IpAddr& sender, const net::IpAddr& target) {
    l3_ = L3::arp;
    arp_op_ = op;
    src_ = sender;
    dst_ = target;
    return *this;
}
Packet& Packet::ipv4(const std::string& src, const std::string& dst) { return ipv4(ip(src), ip(dst)); }
Packet& Packet::ipv4(const net::IpAddr& src, const net::IpAddr& dst) {
    l3_ = L3::ipv4;
    src_ = src;
    dst_ = dst;
    return *this;
}
Packet& Packet::ipv4_options(Bytes options) {
    while (options.size() % 4) options.push_back(0);  // end-of-options padding
    v4_options_ = std::move(options);
    return *this;
}
Packet& Packet::ipv4_fragment(uint16_t offset, bool more) {
    v4_frag_offset_ = offset;
    v4_more_ = more;
    return *this;
}
Packet& Packet::ipv4_ihl(uint8_t ihl) {
    v4_ihl_ = ihl;
    return *this;
}
Packet& Packet::ipv6(const std::string& src, const std::string& dst) { return ipv6(ip(src), ip(dst)); }
Packet& Packet::ipv6(const net::IpAddr& src, const net::IpAddr& dst) {
    l3_ = L3::ipv6;
    src_ = src;
    dst_ = dst;
    return *this;
}
Packet& Packet::hop_by_hop(uint8_t len8) {
    exts_.push_back({kExtHop, len8, 0, false});
    return *this;
}
Packet& Packet::routing(uint8_t len8) {
    exts_.push_back({kExtRouting, len8, 0, false});
    return *this;
}
Packet& Packet::destination_options(uint8_t len8) {
    exts_.push_back({kExtDest, len8, 0, false});
    return *this;
}
Packet& Packet::fragment6(uint16_t offset, bool more) {
    exts_.push_back({kExtFragment, 0, offset, more});
    return *this;
}
Packet& Packet::tcp(uint16_t sport, uint16_t dport, uint8_t flags) {
    l4_ = L4::tcp;
    sport_ = sport;
    dport_ = dport;
    tcp_flags_ = flags;
    return *this;
}
Packet& Packet::udp(uint16_t sport, uint16_t dport) {
    l4_ = L4::udp;
    sport_ = sport;
    dport_ = dport;
    return *this;
}
Packet& Packet::icmp_echo(uint16_t id, bool reply) {
    l4_ = L4::icmp;
    icmp_id_ = id;
    bool v6 = l3_ == L3::ipv6;
    icmp_type_ = v6 ? (reply ? 129 : 128) : (reply ? 0 : 8);
    icmp_code_ = 0;
    return *this;
}
Packet& Packet::icmp(uint8_t type, uint8_t code) {
    l4_ = L4::icmp;
    icmp_type_ = type;
    icmp_code_ = code;
    return *this;
}
Packet& Packet::ip_protocol(uint8_t proto) {
    l4_ = L4::raw;
    raw_proto_ = proto;
    return *this;
}
Packet& Packet::payload(size_t bytes, uint8_t fill) {
    payload_.assign(bytes, fill);
    return *this;
}
Packet& Packet::payload(const Bytes& bytes) {
    payload_ = bytes;
    return *this;
}
Packet& Packet::frame_size(size_t total) {
    frame_size_ = total;
    return *this;
}

Packet& Packet::tcp_flags(uint8_t flags) {
    tcp_flags_ = flags;
    return *this;
}

Packet Packet::reversed() const {
    Packet r = *this;
    std::swap(r.src_mac_, r.dst_mac_);
    std::swap(r.src_, r.dst_);
    std::swap(r.sport_, r.dport_);
    if (l4_ == L4::icmp) {
        switch (icmp_type_) {
            case 8: r.icmp_type_ = 0; break;      // echo request -> reply (ICMP)
            case 0: r.icmp_type_ = 8; break;
            case 128: r.icmp_type_ = 129; break;  // and ICMPv6
            case 129: r.icmp_type_ = 128; break;
            default: break;
        }
    }
    if (l3_ == L3::arp) r.arp_op_ = arp_op_ == 1 ? 2 : 1;
    return r;
}

Bytes Packet::build() const { return build(nullptr); }

std::vector<Packet::Header> Packet::headers() const {
    std::vector<Header> out;
    build(&out);
    return out;
}

Bytes Packet::build(std::vector<Header>* headers) const {
    // Transport header, then payload.
    Bytes l4;
    uint8_t proto = 0;
    switch (l4_) {
        case L4::tcp:
            proto = kProtoTcp;
            put16(l4, sport_);
            put16(l4, dport_);
            for (int i = 0; i < 8; ++i) l4.push_back(i == 3 ? 1 : 0);  // seq 0, ack 1
            l4.push_back(5 << 4);  // data offset: 20 bytes
            l4.push_back(tcp_flags_);
            put16(l4, 65535);  // window
            put16(l4, 0);      // checksum (not checked by the programs)
            put16(l4, 0);      // urgent
            break;
        case L4::udp:
            proto = kProtoUdp;
            put16(l4, sport_);
            put16(l4, dport_);
            put16(l4, 0);  // length, filled below
            put16(l4, 0);
            break;
        case L4::icmp:
            proto = l3_ == L3::ipv6 ? kProtoIcmp6 : kProtoIcmp;
            l4.push_back(icmp_type_);
            l4.push_back(icmp_code_);
            put16(l4, 0);
            put16(l4, icmp_id_);
            put16(l4, 1);
            break;
        case L4::raw:
            proto = raw_proto_;
            break;
        case L4::none:
            break;
    }

    // Header bytes before the payload, to size the padding for frame_size().
    size_t eth_len = 14 + 4 * vlans_.size();
    size_t l3_len = 0;
    if (l3_ == L3::ipv4) l3_len = 20 + v4_options_.size();
    if (l3_ == L3::ipv6) {
        l3_len = 40;
        for (const auto& e : exts_) l3_len += e.type == kExtFragment ? 8 : (e.len8 + 1) * 8;
    }
    if (l3_ == L3::arp) l3_len = 28;
    Bytes payload = payload_;
    size_t before = eth_len + l3_len + l4.size();
    if (frame_size_ > before + payload.size()) payload.resize(frame_size_ - before, 0xab);

    l4.insert(l4.end(), payload.begin(), payload.end());
    if (l4_ == L4::udp) {
        l4[4] = l4.size() >> 8;
        l4[5] = l4.size() & 0xff;
    }

    Bytes l3;
    uint16_t ethertype = raw_ethertype_;
    if (l3_ == L3::ipv4) {
        ethertype = kEtherIPv4;
        size_t hlen = 20 + v4_options_.size();
        uint8_t ihl = v4_ihl_ >= 0 ? v4_ihl_ : hlen / 4;
        l3.push_back(0x40 | (ihl & 0x0f));
        l3.push_back(0);
        put16(l3, hlen + l4.size());
        put16(l3, 0x1234);  // identification
        put16(l3, (v4_more_ ? 0x2000 : 0) | (v4_frag_offset_ & 0x1fff));
        l3.push_back(64);
        l3.push_back(proto);
        put16(l3, 0);
        put_bytes(l3, &src_.bytes[12], 4);
        put_bytes(l3, &dst_.bytes[12], 4);
        l3.insert(l3.end(), v4_options_.begin(), v4_options_.end());
        // A forced IHL longer than what was written reads into the payload, as it would.
        uint16_t sum = ipv4_checksum(l3.data(), 20 + v4_options_.size());
        l3[10] = sum >> 8;
        l3[11] = sum & 0xff;
    } else if (l3_ == L3::ipv6) {
        ethertype = kEtherIPv6;
        Bytes exts;
        for (size_t i = 0; i < exts_.size(); ++i) {
            uint8_t next = i + 1 < exts_.size() ? exts_[i + 1].type : proto;
            const auto& e = exts_[i];
            if (e.type == kExtFragment) {
                exts.push_back(next);
                exts.push_back(0);
                put16(exts, (e.frag_offset << 3) | (e.more ? 1 : 0));
                for (int j = 0; j < 4; ++j) exts.push_back(0x11);
            } else {
                size_t start = exts.size();
                exts.push_back(next);
                exts.push_back(e.len8);
                exts.resize(start + (e.len8 + 1) * 8, 0);  // PadN-free zero options (Pad1s)
            }
        }
        l3.push_back(0x60);
        l3.push_back(0);
        put16(l3, 0);
        put16(l3, exts.size() + l4.size());
        l3.push_back(exts_.empty() ? proto : exts_[0].type);
        l3.push_back(64);
        put_bytes(l3, src_.bytes.data(), 16);
        put_bytes(l3, dst_.bytes.data(), 16);
        l3.insert(l3.end(), exts.begin(), exts.end());
    } else if (l3_ == L3::arp) {
        ethertype = kEtherArp;
        put16(l3, 1);       // Ethernet
        put16(l3, 0x0800);  // IPv4
        l3.push_back(6);
        l3.push_back(4);
        put16(l3, arp_op_);
        put_bytes(l3, src_mac_.bytes.data(), 6);
        put_bytes(l3, &src_.bytes[12], 4);
        for (int i = 0; i < 6; ++i) l3.push_back(arp_op_ == 2 ? dst_mac_.bytes[i] : 0);
        put_bytes(l3, &dst_.bytes[12], 4);
    }

    if (headers) {
        size_t at = 0;
        auto add = [&](const char* name, size_t len) {
            headers->push_back({name, at, len});
            at += len;
        };
        add("ethernet", 14);
        for (size_t i = 0; i < vlans_.size(); ++i) add("vlan", 4);
        if (l3_ == L3::arp) add("arp", 28);
        if (l3_ == L3::ipv4) {
            add("ipv4", 20);
            if (!v4_options_.empty()) add("ipv4 options", v4_options_.size());
        }
        if (l3_ == L3::ipv6) {
            add("ipv6", 40);
            for (const auto& e : exts_) {
                switch (e.type) {
                    case kExtHop: add("hop-by-hop", (e.len8 + 1) * 8); break;
                    case kExtRouting: add("routing", (e.len8 + 1) * 8); break;
                    case kExtDest: add("destination options", (e.len8 + 1) * 8); break;
                    default: add("fragment", 8); break;
                }
            }
        }
        size_t l4_header = l4.size() - payload.size();
        if (l4_ == L4::tcp) add("tcp", l4_header);
        if (l4_ == L4::udp) add("udp", l4_header);
        if (l4_ == L4::icmp) add("icmp", l4_header);
        add("payload", payload.size());
    }

    Bytes frame;
    put_bytes(frame, dst_mac_.bytes.data(), 6);
    put_bytes(frame, src_mac_.bytes.data(), 6);
    for (const auto& [tpid, vid] : vlans_) {
        put16(frame, tpid);
        put16(frame, vid & 0x0fff);
    }
    put16(frame, ethertype);
    frame.insert(frame.end(), l3.begin(), l3.end());
    frame.insert(frame.end(), l4.begin(), l4.end());
    return frame;
}

}  // namespace warden::testing
