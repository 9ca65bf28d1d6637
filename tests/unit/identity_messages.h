// Byte-level builders for DHCPv4, DHCPv6, DNS/mDNS and SSDP messages, and the realistic
// messages the identity parser tests use (a phone, a camera, a printer, a laptop, a server's
// ACK, a Chromecast's mDNS announcement, a Hue bridge's SSDP NOTIFY...). Shared by the unit
// tests and the generator of the fuzz seed corpus (tests/fuzz/make_corpus.cpp), so the seeds
// are the messages the tests check.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/address.h"
#include "support/packet_builder.h"

namespace warden::testing::messages {

inline void put8(Bytes& b, uint8_t v) { b.push_back(v); }
inline void put16(Bytes& b, uint16_t v) {
    b.push_back(v >> 8);
    b.push_back(v & 0xff);
}
inline void put32(Bytes& b, uint32_t v) {
    put16(b, v >> 16);
    put16(b, v & 0xffff);
}
inline void put(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
inline Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline Bytes v4(const std::string& addr) {
    auto a = ip(addr);
    return Bytes(a.bytes.begin() + 12, a.bytes.end());
}
inline Bytes v6(const std::string& addr) {
    auto a = ip(addr);
    return Bytes(a.bytes.begin(), a.bytes.end());
}
inline Bytes mac_bytes(const net::Mac& m) { return Bytes(m.bytes.begin(), m.bytes.end()); }

// A domain name in uncompressed wire format, ending in the root label unless partial.
inline Bytes wire_name(std::string_view dotted, bool root = true) {
    Bytes b;
    while (!dotted.empty()) {
        auto dot = dotted.find('.');
        auto label = dotted.substr(0, dot);
        b.push_back(static_cast<uint8_t>(label.size()));
        b.insert(b.end(), label.begin(), label.end());
        if (dot == std::string_view::npos) break;
        dotted.remove_prefix(dot + 1);
    }
    if (root) b.push_back(0);
    return b;
}

// ---- DHCPv4 (RFC 2131): the BOOTP fixed part, the cookie, options in the order added ----
struct Dhcp4 {
    uint8_t op = 1;
    uint8_t htype = 1, hlen = 6;
    uint32_t xid = 0x3903f326;
    net::Mac chaddr{};
    std::string ciaddr = "0.0.0.0", yiaddr = "0.0.0.0", siaddr = "0.0.0.0";
    std::vector<std::pair<uint8_t, Bytes>> options;
    bool end = true;        // close the options with 255
    size_t pad_to = 0;      // pad with zeros to this size (300: the BOOTP minimum)

    Dhcp4& option(uint8_t code, Bytes value) {
        options.emplace_back(code, std::move(value));
        return *this;
    }
    Dhcp4& option(uint8_t code, std::string_view value) { return option(code, text(value)); }
    Dhcp4& type(uint8_t t) { return option(53, Bytes{t}); }

    Bytes build() const {
        Bytes b;
        put8(b, op);
        put8(b, htype);
        put8(b, hlen);
        put8(b, 0);  // hops
        put32(b, xid);
        put16(b, 0);       // secs
        put16(b, 0x8000);  // broadcast flag
        put(b, v4(ciaddr));
        put(b, v4(yiaddr));
        put(b, v4(siaddr));
        put(b, v4("0.0.0.0"));  // giaddr
        put(b, mac_bytes(chaddr));
        b.resize(b.size() + 10 + 64 + 128, 0);  // chaddr padding, sname, file
        put(b, Bytes{99, 130, 83, 99});
        for (const auto& [code, value] : options) {
            put8(b, code);
            put8(b, static_cast<uint8_t>(value.size()));
            put(b, value);
        }
        if (end) put8(b, 255);
        if (b.size() < pad_to) b.resize(pad_to, 0);
        return b;
    }
};

inline Bytes client_id(const net::Mac& m) {
    Bytes b{1};  // hardware type Ethernet, then the MAC
    put(b, mac_bytes(m));
    return b;
}

inline const net::Mac kPhoneMac = mac("3c:28:6d:11:22:33");     // randomised MACs are tested apart
inline const net::Mac kCameraMac = mac("a4:cf:12:0b:4f:2a");    // Espressif
inline const net::Mac kPrinterMac = mac("3c:2a:f4:0a:1b:2c");   // Brother
inline const net::Mac kLaptopMac = mac("f4:bd:9e:44:55:66");    // (a Cisco block: any will do)
inline const net::Mac kGatewayMac = mac("02:00:5e:00:00:01");

// An Android phone's DISCOVER: client id, max size, vendor class, hostname, request list.
inline Dhcp4 phone_discover() {
    Dhcp4 d;
    d.chaddr = kPhoneMac;
    d.type(1)
        .option(61, client_id(kPhoneMac))
        .option(57, Bytes{0x05, 0xdc})
        .option(60, "android-dhcp-13")
        .option(12, "Pixel-7")
        .option(55, Bytes{1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108});
    d.pad_to = 300;
    return d;
}

// A camera running busybox udhcpc, renewing: REQUEST for its address from the server.
inline Dhcp4 camera_request() {
    Dhcp4 d;
    d.chaddr = kCameraMac;
    d.type(3)
        .option(61, client_id(kCameraMac))
        .option(50, v4("198.18.10.40"))
        .option(54, v4("198.18.10.1"))
        .option(57, Bytes{0x02, 0x40})
        .option(60, "udhcp 1.30.1")
        .option(12, "ipcam-4f2a")
        .option(55, Bytes{1, 3, 6, 12, 15, 28, 42});
    return d;
}

// A network printer's DISCOVER (a long request list, vendor class of its print server).
inline Dhcp4 printer_discover() {
    Dhcp4 d;
    d.chaddr = kPrinterMac;
    d.type(1)
        .option(61, client_id(kPrinterMac))
        .option(12, "BRW3C2AF40A1B2C")
        .option(60, "Brother NC-8300w")
        .option(55, Bytes{1, 3, 6, 15, 44, 46, 47, 31, 33, 121, 249, 43, 252, 12});
    d.pad_to = 300;
    return d;
}

// A laptop's REQUEST with its FQDN in option 81, in wire format (flags S|E).
inline Dhcp4 laptop_request_fqdn() {
    Dhcp4 d;
    d.chaddr = kLaptopMac;
    Bytes fqdn{0x05, 0, 0};
    put(fqdn, wire_name("Laptop-Anna.home.arpa"));
    d.type(3)
        .option(61, client_id(kLaptopMac))
        .option(50, v4("198.18.10.77"))
        .option(12, "Laptop-Anna")
        .option(81, fqdn)
        .option(60, "MSFT 5.0")
        .option(55, Bytes{1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252});
    return d;
}

// The server's ACK to the camera: the address it hands out, lease, server id.
inline Dhcp4 server_ack() {
    Dhcp4 d;
    d.op = 2;
    d.chaddr = kCameraMac;
    d.yiaddr = "198.18.10.40";
    d.siaddr = "198.18.10.1";
    d.type(5)
        .option(54, v4("198.18.10.1"))
        .option(51, Bytes{0x00, 0x01, 0x51, 0x80})  // 86400 s
        .option(1, v4("255.255.255.0"))
        .option(3, v4("198.18.10.1"))
        .option(6, v4("198.18.10.1"))
        .option(12, "ipcam-4f2a");
    d.pad_to = 300;
    return d;
}

// ---- DHCPv6 (RFC 8415): type, transaction id, options (code, length, value) ----
inline Bytes opt6(uint16_t code, const Bytes& value) {
    Bytes b;
    put16(b, code);
    put16(b, static_cast<uint16_t>(value.size()));
    put(b, value);
    return b;
}

struct Dhcp6 {
    uint8_t type = 1;
    uint32_t xid = 0x00a1b2c3;
    std::vector<Bytes> options;  // each already encoded by opt6()

    Dhcp6& option(uint16_t code, const Bytes& value) {
        options.push_back(opt6(code, value));
        return *this;
    }
    // Where each option ends (the message is whole at each of these lengths).
    std::vector<size_t> boundaries() const {
        std::vector<size_t> at{4};
        for (const auto& o : options) at.push_back(at.back() + o.size());
        return at;
    }
    Bytes build() const {
        Bytes b;
        put8(b, type);
        put8(b, xid >> 16 & 0xff);
        put16(b, xid & 0xffff);
        for (const auto& o : options) put(b, o);
        return b;
    }
};

inline Bytes duid_ll(const net::Mac& m) {
    Bytes b;
    put16(b, 3);  // DUID-LL
    put16(b, 1);  // Ethernet
    put(b, mac_bytes(m));
    return b;
}

inline Bytes ia_na(uint32_t iaid, const std::vector<Bytes>& inner) {
    Bytes b;
    put32(b, iaid);
    put32(b, 0);  // T1
    put32(b, 0);  // T2
    for (const auto& o : inner) put(b, o);
    return b;
}

inline Bytes ia_addr(const std::string& addr, uint32_t preferred, uint32_t valid) {
    Bytes b = v6(addr);
    put32(b, preferred);
    put32(b, valid);
    return opt6(5, b);
}

// A laptop's SOLICIT: DUID, IA_NA, elapsed time, FQDN, option request, vendor class.
inline Dhcp6 laptop_solicit() {
    Dhcp6 d;
    d.type = 1;
    Bytes fqdn{0x01};
    put(fqdn, wire_name("laptop-anna", false));  // a partial name: the server adds the domain
    Bytes oro;
    for (uint16_t code : {17, 23, 24, 39}) put16(oro, code);
    Bytes vendor;
    put32(vendor, 311);
    put(vendor, Bytes{0x00, 0x08});
    put(vendor, text("MSFT 5.0"));
    d.option(1, duid_ll(kLaptopMac))
        .option(3, ia_na(0x0e5b2f44, {}))
        .option(8, Bytes{0x00, 0x00})
        .option(39, fqdn)
        .option(16, vendor)
        .option(6, oro);
    return d;
}

// The server's REPLY: the address assigned in IA_NA/IA_ADDR, DNS servers.
inline Dhcp6 server_reply() {
    Dhcp6 d;
    d.type = 7;
    d.option(1, duid_ll(kLaptopMac))
        .option(2, duid_ll(kGatewayMac))
        .option(3, ia_na(0x0e5b2f44, {ia_addr("fd00:10::4d", 3600, 7200)}))
        .option(23, v6("fd00:10::1"));
    return d;
}

// ---- DNS (RFC 1035) with the offsets a compressing writer needs ----
class DnsWriter {
public:
    DnsWriter(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns = 0, uint16_t ar = 0) {
        for (uint16_t v : {id, flags, qd, an, ns, ar}) put16(b_, v);
    }
    size_t offset() const { return b_.size(); }

    // Labels, then a pointer to `suffix` (an earlier offset) or the root label.
    size_t name(std::string_view labels, int suffix = -1) {
        size_t at = b_.size();
        if (!labels.empty()) put(b_, wire_name(labels, false));
        if (suffix >= 0)
            put16(b_, static_cast<uint16_t>(0xc000 | suffix));
        else
            b_.push_back(0);
        return at;
    }
    DnsWriter& question(std::string_view labels, uint16_t type, int suffix = -1, uint16_t cls = 1) {
        name(labels, suffix);
        put16(b_, type);
        put16(b_, cls);
        return *this;
    }
    // A record's fixed part; finish its data with the raw()/name() calls and end_record().
    size_t record(std::string_view labels, int suffix, uint16_t type, uint32_t ttl, uint16_t cls = 1) {
        size_t at = name(labels, suffix);
        put16(b_, type);
        put16(b_, cls);
        put32(b_, ttl);
        rdlength_at_ = b_.size();
        put16(b_, 0);
        return at;
    }
    DnsWriter& raw(const Bytes& bytes) {
        put(b_, bytes);
        return *this;
    }
    DnsWriter& end_record() {
        size_t len = b_.size() - rdlength_at_ - 2;
        b_[rdlength_at_] = static_cast<uint8_t>(len >> 8);
        b_[rdlength_at_ + 1] = static_cast<uint8_t>(len & 0xff);
        return *this;
    }
    Bytes bytes() const { return b_; }

private:
    Bytes b_;
    size_t rdlength_at_ = 0;
};

inline Bytes dns_query_a() {
    DnsWriter w(0x1a2b, 0x0100, 1, 0);
    w.question("www.Example.com", 1);
    return w.bytes();
}

// The answer to it: a CNAME chain to a CDN, then A and AAAA, names compressed against the
// question and each other.
inline Bytes dns_answer_cname_chain() {
    DnsWriter w(0x1a2b, 0x8180, 1, 4);
    size_t q = w.offset();
    w.question("www.example.com", 1);
    w.record("", q, 5, 300);
    size_t cdn = w.name("cdn.example-cdn.net");
    w.end_record();
    w.record("", cdn, 5, 60);
    size_t edge = w.name("edge7", cdn);
    w.end_record();
    w.record("", edge, 1, 20);
    w.raw(v4("198.18.5.7")).end_record();
    w.record("", edge, 28, 20);
    w.raw(v6("fd00:5::7")).end_record();
    return w.bytes();
}

// A Chromecast's mDNS announcement: PTR to its instance, SRV (port 8009), TXT with its model,
// A for its host name; cache-flush class on the unique records.
inline Bytes mdns_googlecast_announcement() {
    constexpr uint16_t kCacheFlushIn = 0x8001;
    DnsWriter w(0, 0x8400, 0, 4);
    size_t service = w.record("_googlecast._tcp.local", -1, 12, 120);
    size_t instance = w.name("Chromecast-4f2a", service);
    w.end_record();
    w.record("", instance, 33, 120, kCacheFlushIn);
    Bytes srv;
    put16(srv, 0);     // priority
    put16(srv, 0);     // weight
    put16(srv, 8009);  // port
    w.raw(srv);
    size_t host = w.name("4f2a0b12", static_cast<int>(service + 1 + 11 + 1 + 4));  // "...local"
    w.end_record();
    w.record("", instance, 16, 4500, kCacheFlushIn);
    Bytes txt;
    for (std::string_view s : {"id=4f2a0b12c3", "md=Chromecast", "fn=Living Room TV", "ve=05"}) {
        txt.push_back(static_cast<uint8_t>(s.size()));
        put(txt, text(s));
    }
    w.raw(txt).end_record();
    w.record("", host, 1, 120, kCacheFlushIn);
    w.raw(v4("198.18.10.50")).end_record();
    return w.bytes();
}

// ---- SSDP ----
inline Bytes ssdp_notify() {
    return text(
        "NOTIFY * HTTP/1.1\r\n"
        "HOST: 239.255.255.250:1900\r\n"
        "CACHE-CONTROL: max-age=100\r\n"
        "LOCATION: http://198.18.10.60:80/description.xml\r\n"
        "SERVER: Linux/3.14.0 UPnP/1.0 IpBridge/1.26.0\r\n"
        "NTS: ssdp:alive\r\n"
        "hue-bridgeid: 001788FFFE100491\r\n"
        "NT: upnp:rootdevice\r\n"
        "USN: uuid:2f402f80-da50-11e1-9b23-001788100491::upnp:rootdevice\r\n"
        "\r\n");
}

inline Bytes ssdp_msearch() {
    return text(
        "M-SEARCH * HTTP/1.1\n"
        "HOST: 239.255.255.250:1900\n"
        "MAN: \"ssdp:discover\"\n"
        "MX: 1\n"
        "ST: urn:dial-multiscreen-org:service:dial:1\n"
        "\n");
}

// ---- frames around them, as the data plane copies them ----
inline Bytes dhcp4_frame(const Bytes& payload, const net::Mac& src, bool from_server = false) {
    auto p = Packet().eth(src, mac("ff:ff:ff:ff:ff:ff"));
    if (from_server)
        p.ipv4("198.18.10.1", "255.255.255.255").udp(67, 68);
    else
        p.ipv4("0.0.0.0", "255.255.255.255").udp(68, 67);
    return p.payload(payload).build();
}

inline Bytes dhcp6_frame(const Bytes& payload, const net::Mac& src, bool from_server = false) {
    auto p = Packet().eth(src, mac("33:33:00:01:00:02"));
    if (from_server)
        p.ipv6("fe80::1", "fe80::f6bd:9eff:fe44:5566").udp(547, 546);
    else
        p.ipv6("fe80::f6bd:9eff:fe44:5566", "ff02::1:2").udp(546, 547);
    return p.payload(payload).build();
}

inline Bytes dns_frame(const Bytes& payload, const net::Mac& src) {
    return Packet().eth(src, kGatewayMac).ipv4("198.18.10.77", "198.18.10.1").udp(53124, 53).payload(payload).build();
}

inline Bytes mdns_frame(const Bytes& payload, const net::Mac& src) {
    return Packet().eth(src, mac("01:00:5e:00:00:fb")).ipv4("198.18.10.50", "224.0.0.251").udp(5353, 5353)
        .payload(payload).build();
}

inline Bytes ssdp_frame(const Bytes& payload, const net::Mac& src) {
    return Packet().eth(src, mac("01:00:5e:7f:ff:fa")).ipv4("198.18.10.60", "239.255.255.250").udp(1900, 1900)
        .payload(payload).build();
}

}  // namespace warden::testing::messages
