// The identity parsers on realistic messages built here byte by byte (identity_messages.h),
// and on every way of breaking them: cut at each byte, lengths that lie, compression loops,
// counts that promise more than the bytes hold, bytes that are not text.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "identity/dhcp.h"
#include "identity/dns.h"
#include "identity/frame.h"
#include "identity/oui.h"
#include "identity/ssdp.h"
#include "identity_messages.h"
#include "support/deadline.h"
#include "support/temp_dir.h"
#include "support/skip.h"

using namespace warden;
using namespace warden::identity;
using namespace warden::testing;
using namespace warden::testing::messages;

namespace {

std::span<const uint8_t> first(const Bytes& b, size_t n) { return std::span<const uint8_t>(b).first(n); }

std::string ip_str(const std::optional<net::IpAddr>& a) { return a ? a->str() : "(none)"; }

}  // namespace

// ---------------------------------------------------------------- frames

TEST_CASE("frame: a DHCP DISCOVER in IPv4/UDP is taken apart to its payload") {
    auto payload = phone_discover().build();
    auto frame = dhcp4_frame(payload, kPhoneMac);
    std::string why;
    auto f = parse_udp_frame(frame, &why);
    REQUIRE_MESSAGE(f, why);
    CHECK(f->src_mac == kPhoneMac);
    CHECK(f->dst_mac.str() == "ff:ff:ff:ff:ff:ff");
    CHECK_FALSE(f->v6);
    CHECK(f->src.str() == "0.0.0.0");
    CHECK(f->dst.str() == "255.255.255.255");
    CHECK(f->sport == 68);
    CHECK(f->dport == 67);
    CHECK_FALSE(f->truncated);
    CHECK(Bytes(f->payload.begin(), f->payload.end()) == payload);
}

TEST_CASE("frame: IPv6 through hop-by-hop, routing, fragment (first) and destination options") {
    auto payload = laptop_solicit().build();
    auto frame = Packet()
                     .eth(kLaptopMac, mac("33:33:00:01:00:02"))
                     .vlan(10, kTpid8021AD)
                     .vlan(20)
                     .ipv6("fe80::1", "ff02::1:2")
                     .hop_by_hop(1)
                     .routing(0)
                     .fragment6(0, false)
                     .destination_options(2)
                     .udp(546, 547)
                     .payload(payload)
                     .build();
    std::string why;
    auto f = parse_udp_frame(frame, &why);
    REQUIRE_MESSAGE(f, why);
    CHECK(f->v6);
    CHECK(f->src.str() == "fe80::1");
    CHECK(f->dst.str() == "ff02::1:2");
    CHECK(f->dport == 547);
    CHECK(Bytes(f->payload.begin(), f->payload.end()) == payload);
}

TEST_CASE("frame: IPv4 options are skipped; Ethernet padding is not payload") {
    auto frame = Packet().eth(kCameraMac, kGatewayMac).ipv4("198.18.10.40", "198.18.10.1")
                     .ipv4_options(Bytes{0x94, 0x04, 0, 0}).udp(1000, 53).payload(Bytes{1, 2, 3}).build();
    frame.resize(60 + 4, 0);  // the NIC's minimum frame, plus a stray trailer
    std::string why;
    auto f = parse_udp_frame(frame, &why);
    REQUIRE_MESSAGE(f, why);
    CHECK(Bytes(f->payload.begin(), f->payload.end()) == Bytes{1, 2, 3});
    CHECK_FALSE(f->truncated);
}

TEST_CASE("frame: a copy cut short keeps the payload it has and says so") {
    auto payload = mdns_googlecast_announcement();
    payload.resize(600, 0);  // an announcement longer than the data plane's 512-byte copy
    auto frame = mdns_frame(payload, kCameraMac);
    auto copy = first(frame, 512);
    auto f = parse_udp_frame(copy);
    REQUIRE(f);
    CHECK(f->truncated);
    CHECK(f->payload.size() == 512 - 42);
    CHECK(std::equal(f->payload.begin(), f->payload.end(), payload.begin()));
}

TEST_CASE("frame: cut at every byte: refused inside the headers, truncated inside the payload") {
    for (auto frame : {dhcp4_frame(camera_request().build(), kCameraMac),
                       dhcp6_frame(server_reply().build(), kGatewayMac, true),
                       Packet().eth(kCameraMac, kGatewayMac).vlan(7).ipv6("fd00::2", "fd00::1").hop_by_hop(0)
                           .udp(5353, 5353).payload(mdns_googlecast_announcement()).build()}) {
        auto whole = parse_udp_frame(frame);
        REQUIRE(whole);
        size_t payload_start = frame.size() - whole->payload.size();
        for (size_t n = 0; n < frame.size(); ++n) {
            CAPTURE(n);
            std::string why;
            auto f = parse_udp_frame(first(frame, n), &why);
            if (n < payload_start) {
                CHECK_FALSE(f);
                CHECK_FALSE(why.empty());
            } else {
                REQUIRE(f);
                CHECK(f->truncated);
                CHECK(f->payload.size() == n - payload_start);
                CHECK(f->sport == whole->sport);
            }
        }
    }
}

TEST_CASE("frame: malformed and unwanted frames are refused with the reason") {
    auto udp = Packet().eth(kCameraMac, kGatewayMac).ipv4("198.18.10.40", "198.18.10.1").udp(68, 67).payload(10);
    struct Case {
        const char* what;
        Bytes frame;
        const char* reason;
    };
    Bytes bad_version = udp.build();
    bad_version[14] = 0x65;
    Bytes ihl4 = Packet(udp).ipv4_ihl(4).build();
    Bytes ihl15 = Packet(udp).ipv4_ihl(15).build();  // 60 bytes of header the frame does not hold
    Bytes short_total = udp.build();
    short_total[16] = 0, short_total[17] = 19;
    Bytes udp_len_7 = udp.build();
    udp_len_7[38] = 0, udp_len_7[39] = 7;
    Bytes udp_len_long = udp.build();
    udp_len_long[38] = 0, udp_len_long[39] = 200;
    Bytes ip_total_short = udp.build();  // IP says the packet ends inside the UDP header
    ip_total_short[16] = 0, ip_total_short[17] = 24;
    Bytes v6_jumbo = Packet().eth(kCameraMac, kGatewayMac).ipv6("fd00::2", "fd00::1").udp(546, 547).build();
    v6_jumbo[18] = 0, v6_jumbo[19] = 0;
    Bytes v6_ext_past = Packet().eth(kCameraMac, kGatewayMac).ipv6("fd00::2", "fd00::1").hop_by_hop(3).udp(546, 547).build();
    v6_ext_past[18] = 0, v6_ext_past[19] = 16;  // payload length ends inside the hop-by-hop header
    auto nine = Packet().eth(kCameraMac, kGatewayMac).ipv6("fd00::2", "fd00::1");
    for (int i = 0; i < 9; ++i) nine.destination_options(0);
    auto eight = Packet().eth(kCameraMac, kGatewayMac).ipv6("fd00::2", "fd00::1");
    for (int i = 0; i < 8; ++i) eight.destination_options(0);
    CHECK(parse_udp_frame(eight.udp(546, 547).build()));

    std::vector<Case> cases = {
        {"empty", {}, "Ethernet header cut short (14 bytes needed)"},
        {"ARP", Packet().eth(kCameraMac, kGatewayMac).arp(1, ip("198.18.10.40"), ip("198.18.10.1")).build(),
         "EtherType 0x0806 is neither IPv4 nor IPv6"},
        {"three VLAN tags", Packet(udp).vlan(1, kTpid8021AD).vlan(2).vlan(3).build(), "more than two VLAN tags"},
        {"IPv4 version 6", bad_version, "IPv4 version field is not 4"},
        {"IHL 4", ihl4, "IPv4 header length below 20 bytes (IHL < 5)"},
        {"IHL 15", ihl15, "IPv4 options cut short by the copy"},
        {"total length < header", short_total, "IPv4 total length shorter than its header"},
        {"non-first fragment", Packet(udp).ipv4_fragment(185, false).build(),
         "IPv4 non-first fragment (no UDP header in it)"},
        {"TCP", Packet().eth(kCameraMac, kGatewayMac).ipv4("198.18.10.40", "198.18.10.1").tcp(1, 2).build(),
         "IPv4 protocol 6 is not UDP"},
        {"UDP length 7", udp_len_7, "UDP length 7 below its 8-byte header"},
        {"UDP length past IP", udp_len_long, "UDP length 200 runs past the IP packet"},
        {"IP ends in UDP header", ip_total_short, "UDP header runs past the IP packet's length"},
        {"IPv6 jumbogram", v6_jumbo, "IPv6 payload length 0 (jumbogram) not supported"},
        {"IPv6 later fragment",
         Packet().eth(kCameraMac, kGatewayMac).ipv6("fd00::2", "fd00::1").fragment6(100, false).udp(546, 547).build(),
         "IPv6 non-first fragment (no UDP header in it)"},
        {"IPv6 nine extension headers", nine.udp(546, 547).build(), "more than 8 IPv6 extension headers"},
        {"IPv6 ICMPv6", Packet().eth(kCameraMac, kGatewayMac).ipv6("fd00::2", "fd00::1").icmp(135, 0).build(),
         "IPv6 next header 58 is not UDP"},
        {"IPv6 extension past payload", v6_ext_past, "IPv6 extension headers run past the payload length"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        std::string why;
        CHECK_FALSE(parse_udp_frame(c.frame, &why));
        CHECK(why == c.reason);
    }
}

TEST_CASE("frame: a first IPv4 fragment is read; its payload is the start of the datagram") {
    auto payload = mdns_googlecast_announcement();
    auto frame = Packet().eth(kCameraMac, kGatewayMac).ipv4("198.18.10.50", "224.0.0.251")
                     .ipv4_fragment(0, true).udp(5353, 5353).payload(payload).build();
    // The fragment holds only the first 64 payload bytes; UDP's length still counts them all.
    size_t cut = 14 + 20 + 8 + 64;
    uint16_t ip_total = 20 + 8 + 64;
    frame[16] = ip_total >> 8, frame[17] = ip_total & 0xff;
    frame.resize(cut);
    std::string why;
    auto f = parse_udp_frame(frame, &why);
    REQUIRE_MESSAGE(f, why);
    CHECK(f->truncated);
    CHECK(f->payload.size() == 64);
}

// ---------------------------------------------------------------- DHCPv4

TEST_CASE("dhcp4: a phone's DISCOVER gives hostname, vendor class, fingerprint and client id") {
    std::string why;
    auto m = parse_dhcp4(phone_discover().build(), &why);
    REQUIRE_MESSAGE(m, why);
    CHECK(m->op == 1);
    CHECK(m->type == 1);
    CHECK(m->chaddr == kPhoneMac);
    CHECK(m->hostname == "Pixel-7");
    CHECK(m->vendor_class == "android-dhcp-13");
    CHECK(m->param_request_list == "1,3,6,15,26,28,51,58,59,43,114,108");
    CHECK(m->client_id == "013c286d112233");
    CHECK(m->fqdn.empty());
    CHECK_FALSE(m->requested_ip);
    CHECK_FALSE(m->server_id);
    CHECK_FALSE(m->lease_seconds);
}

TEST_CASE("dhcp4: a camera's REQUEST (udhcp) names the address it wants and the server") {
    auto m = parse_dhcp4(camera_request().build());
    REQUIRE(m);
    CHECK(m->type == 3);
    CHECK(m->vendor_class == "udhcp 1.30.1");
    CHECK(m->hostname == "ipcam-4f2a");
    CHECK(m->param_request_list == "1,3,6,12,15,28,42");
    CHECK(ip_str(m->requested_ip) == "198.18.10.40");
    CHECK(ip_str(m->server_id) == "198.18.10.1");
}

TEST_CASE("dhcp4: a printer's DISCOVER and a laptop's FQDN (option 81, wire format)") {
    auto printer = parse_dhcp4(printer_discover().build());
    REQUIRE(printer);
    CHECK(printer->hostname == "BRW3C2AF40A1B2C");
    CHECK(printer->vendor_class == "Brother NC-8300w");
    CHECK(printer->param_request_list == "1,3,6,15,44,46,47,31,33,121,249,43,252,12");

    auto laptop = parse_dhcp4(laptop_request_fqdn().build());
    REQUIRE(laptop);
    CHECK(laptop->hostname == "Laptop-Anna");
    CHECK(laptop->fqdn == "Laptop-Anna.home.arpa");
    CHECK(laptop->vendor_class == "MSFT 5.0");
}

TEST_CASE("dhcp4: option 81 in the older ASCII form, and a partial wire-format name") {
    Dhcp4 ascii;
    ascii.chaddr = kLaptopMac;
    ascii.type(3).option(81, Bytes{0x00, 0, 0, 'D', 'E', 'S', 'K', 'T', 'O', 'P', '-', '4', 'K', '.', 0});
    auto a = parse_dhcp4(ascii.build());
    REQUIRE(a);
    CHECK(a->fqdn == "DESKTOP-4K");

    Dhcp4 partial;
    partial.chaddr = kLaptopMac;
    Bytes v{0x04, 0, 0};
    put(v, wire_name("desktop-4k", false));
    partial.type(3).option(81, v);
    auto p = parse_dhcp4(partial.build());
    REQUIRE(p);
    CHECK(p->fqdn == "desktop-4k");
}

TEST_CASE("dhcp4: the server's ACK gives the address handed out, lease and server id") {
    auto m = parse_dhcp4(server_ack().build());
    REQUIRE(m);
    CHECK(m->op == 2);
    CHECK(m->type == 5);
    CHECK(m->yiaddr.str() == "198.18.10.40");
    CHECK(m->ciaddr.str() == "0.0.0.0");
    CHECK(m->chaddr == kCameraMac);
    CHECK(ip_str(m->server_id) == "198.18.10.1");
    REQUIRE(m->lease_seconds);
    CHECK(*m->lease_seconds == 86400);
}

TEST_CASE("dhcp4: a repeated option is one long option split in parts (RFC 3396)") {
    Dhcp4 d;
    d.chaddr = kPhoneMac;
    d.type(1).option(12, "Living-").option(55, Bytes{1, 3}).option(12, "Room-Speaker").option(55, Bytes{6});
    auto m = parse_dhcp4(d.build());
    REQUIRE(m);
    CHECK(m->hostname == "Living-Room-Speaker");
    CHECK(m->param_request_list == "1,3,6");

    // Two parts of 200 bytes: the hostname is kept to 255 bytes.
    Dhcp4 longer;
    longer.chaddr = kPhoneMac;
    longer.type(1).option(12, std::string(200, 'a')).option(12, std::string(200, 'b'));
    auto l = parse_dhcp4(longer.build());
    REQUIRE(l);
    CHECK(l->hostname == std::string(200, 'a') + std::string(55, 'b'));
}

TEST_CASE("dhcp4: text keeps its UTF-8, other bytes are shown as \\xNN; a counted NUL is dropped") {
    Dhcp4 d;
    d.chaddr = kPhoneMac;
    d.type(1)
        .option(12, Bytes{'K', 0xc3, 0xbc, 'c', 'h', 'e', '\n', 0})
        .option(60, Bytes{'v', 0x01, 0x7f, 'x'});
    auto m = parse_dhcp4(d.build());
    REQUIRE(m);
    CHECK(m->hostname == "K\xc3\xbc" "che\\x0a");
    CHECK(m->vendor_class == "v\\x01\\x7fx");
}

TEST_CASE("dhcp4: cut at every byte, each shorter message is refused") {
    for (auto d : {phone_discover(), camera_request(), printer_discover(), laptop_request_fqdn(), server_ack()}) {
        d.pad_to = 0;  // padding after the end option may be cut without loss
        auto bytes = d.build();
        REQUIRE(parse_dhcp4(bytes));
        for (size_t n = 0; n < bytes.size(); ++n) {
            CAPTURE(n);
            std::string why;
            CHECK_FALSE(parse_dhcp4(first(bytes, n), &why));
            CHECK_FALSE(why.empty());
        }
    }
    // With the padding, a cut after the end option loses nothing.
    auto with_padding = phone_discover();
    with_padding.pad_to = 400;
    auto padded = with_padding.build();
    auto whole = parse_dhcp4(padded);
    auto cut = parse_dhcp4(first(padded, padded.size() - 10));
    REQUIRE(cut);
    CHECK(cut->hostname == whole->hostname);
}

TEST_CASE("dhcp4: malformed messages are refused with the reason") {
    auto base = [] {
        Dhcp4 d;
        d.chaddr = kPhoneMac;
        d.type(1);
        return d;
    };
    struct Case {
        const char* what;
        Bytes bytes;
        std::string reason;
    };
    auto bad_cookie = base().build();
    bad_cookie[239] = 0x62;
    auto op3 = base();
    op3.op = 3;
    auto token_ring = base();
    token_ring.htype = 6;
    auto overflow = base().build();
    overflow.pop_back();  // drop the end option
    overflow.insert(overflow.end(), {12, 40, 'a', 'b'});
    auto no_length = base().build();
    no_length.back() = 12;  // an option code with no length byte after it
    auto e_label = base();
    e_label.option(81, Bytes{0x04, 0, 0, 70, 'a', 'b'});
    auto e_pointer = base();
    e_pointer.option(81, Bytes{0x04, 0, 0, 0xc0, 0x0c});
    auto e_after_root = base();
    e_after_root.option(81, Bytes{0x04, 0, 0, 1, 'a', 0, 1, 'b'});
    auto e_too_long = base();
    {
        Bytes v{0x04, 0, 0};
        for (int i = 0; i < 5; ++i) put(v, wire_name(std::string(60, 'x'), false));
        e_too_long.option(81, Bytes(v.begin(), v.begin() + 250)).option(81, Bytes(v.begin() + 250, v.end()));
    }
    std::vector<Case> cases = {
        {"empty", {}, "BOOTP message shorter than its 236-byte fixed part"},
        {"fixed part only", Bytes(236, 0), "no DHCP magic cookie (99.130.83.99) after the BOOTP fixed part"},
        {"bad cookie", bad_cookie, "no DHCP magic cookie (99.130.83.99) after the BOOTP fixed part"},
        {"op 3", op3.build(), "BOOTP op 3 is neither request (1) nor reply (2)"},
        {"not Ethernet", token_ring.build(), "hardware type 6/length 6 is not Ethernet (1/6)"},
        {"option past the end", overflow, "option 12 (length 40) runs past the end of the message"},
        {"option without length", no_length, "option 12 has no length byte"},
        {"no end option", [&] { auto d = base(); d.end = false; return d.build(); }(),
         "options not closed by the end option (255): message cut short"},
        {"type of 2 bytes", [] { Dhcp4 d; d.chaddr = kPhoneMac; return d.option(53, Bytes{1, 1}).build(); }(),
         "option 53 (message type) has 2 bytes, 1 expected"},
        {"type given twice", base().type(3).build(), "option 53 (message type) has 2 bytes, 1 expected"},
        {"server id of 3 bytes", base().option(54, Bytes{1, 2, 3}).build(),
         "option 54 (server identifier) has 3 bytes, 4 expected"},
        {"lease of 8 bytes", base().option(51, Bytes(8, 1)).build(), "option 51 (lease time) has 8 bytes, 4 expected"},
        {"requested of 0 bytes", base().option(50, Bytes{}).build(),
         "option 50 (requested address) has 0 bytes, 4 expected"},
        {"FQDN 2 bytes", base().option(81, Bytes{0, 0}).build(),
         "option 81 (client FQDN) shorter than its 3-byte header"},
        {"FQDN label 70", e_label.build(),
         "option 81 (client FQDN): domain name label longer than 63 bytes (or compressed)"},
        {"FQDN pointer", e_pointer.build(),
         "option 81 (client FQDN): domain name label longer than 63 bytes (or compressed)"},
        {"FQDN label past the option", base().option(81, Bytes{0x04, 0, 0, 9, 'a'}).build(),
         "option 81 (client FQDN): domain name label runs past the option"},
        {"FQDN bytes after root", e_after_root.build(),
         "option 81 (client FQDN): bytes after the root label of a domain name"},
        {"FQDN over 255", e_too_long.build(), "option 81 (client FQDN): domain name longer than 255 bytes"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        std::string why;
        CHECK_FALSE(parse_dhcp4(c.bytes, &why));
        CHECK(why == c.reason);
    }
}

TEST_CASE("dhcp4: pad options are skipped and bytes after the end option ignored") {
    auto bytes = camera_request().build();
    bytes.insert(bytes.begin() + 240, {0, 0, 0});  // pads before the first option
    bytes.insert(bytes.end(), {12, 200, 'x'});     // garbage after the end
    auto m = parse_dhcp4(bytes);
    REQUIRE(m);
    CHECK(m->hostname == "ipcam-4f2a");
}

// ---------------------------------------------------------------- DHCPv6

TEST_CASE("dhcp6: a laptop's SOLICIT gives DUID, FQDN, option request and vendor class") {
    std::string why;
    auto m = parse_dhcp6(laptop_solicit().build(), &why);
    REQUIRE_MESSAGE(m, why);
    CHECK(m->type == 1);
    CHECK(m->client_duid == "00030001f4bd9e445566");
    CHECK(m->fqdn == "laptop-anna");
    CHECK(m->option_request == "17,23,24,39");
    CHECK(m->vendor_class == "311:MSFT 5.0");
    CHECK(m->user_class.empty());
    CHECK(m->addresses.empty());
}

TEST_CASE("dhcp6: the server's REPLY gives the address assigned in IA_NA/IA_ADDR") {
    auto m = parse_dhcp6(server_reply().build());
    REQUIRE(m);
    CHECK(m->type == 7);
    REQUIRE(m->addresses.size() == 1);
    CHECK(m->addresses[0].str() == "fd00:10::4d");

    // Two IA_NA, one with two addresses and a status code inside IA_ADDR.
    Dhcp6 two;
    two.type = 7;
    Bytes addr_with_status = v6("fd00:10::4e");
    put32(addr_with_status, 3600);
    put32(addr_with_status, 7200);
    put(addr_with_status, opt6(13, Bytes{0, 0, 'o', 'k'}));
    two.option(3, ia_na(1, {ia_addr("fd00:10::4d", 1, 2), opt6(5, addr_with_status)}))
        .option(3, ia_na(2, {opt6(13, Bytes{0, 2})}))
        .option(3, ia_na(3, {ia_addr("fd00:10::4f", 1, 2)}));
    auto t = parse_dhcp6(two.build());
    REQUIRE(t);
    REQUIRE(t->addresses.size() == 3);
    CHECK(t->addresses[1].str() == "fd00:10::4e");
    CHECK(t->addresses[2].str() == "fd00:10::4f");
}

TEST_CASE("dhcp6: user class and vendor class lists; repeated options keep the first") {
    Dhcp6 d;
    Bytes user;
    for (std::string_view s : {"living-room", "tv"}) {
        put16(user, static_cast<uint16_t>(s.size()));
        put(user, text(s));
    }
    Bytes vendor;
    put32(vendor, 4491);
    for (std::string_view s : {"docsis3.0", "x\x01y"}) {
        put16(vendor, static_cast<uint16_t>(s.size()));
        put(vendor, text(s));
    }
    d.option(15, user).option(16, vendor).option(1, Bytes{0xaa}).option(1, Bytes{0xbb});
    auto m = parse_dhcp6(d.build());
    REQUIRE(m);
    CHECK(m->user_class == "living-room,tv");
    CHECK(m->vendor_class == "4491:docsis3.0,x\\x01y");
    CHECK(m->client_duid == "aa");

    // Kept to 255 bytes; the items after that are still checked.
    Bytes many;
    for (int i = 0; i < 3; ++i) {
        put16(many, 200);
        put(many, Bytes(200, 'u'));
    }
    Dhcp6 big;
    big.option(15, many);
    auto b = parse_dhcp6(big.build());
    REQUIRE(b);
    CHECK(b->user_class == std::string(200, 'u') + "," + std::string(54, 'u'));
    many.push_back(0);  // a fourth item's length cut in half
    Dhcp6 broken;
    broken.option(15, many);
    std::string why;
    CHECK_FALSE(parse_dhcp6(broken.build(), &why));
    CHECK(why == "DHCPv6 option 15: an item runs past the option");
}

TEST_CASE("dhcp6: cut at every byte, whole only at option boundaries") {
    for (const auto& d : {laptop_solicit(), server_reply()}) {
        auto bytes = d.build();
        auto boundaries = d.boundaries();
        for (size_t n = 0; n < bytes.size(); ++n) {
            CAPTURE(n);
            std::string why;
            auto m = parse_dhcp6(first(bytes, n), &why);
            bool at_boundary = std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end();
            CHECK(bool(m) == at_boundary);
            if (!m) CHECK_FALSE(why.empty());
        }
    }
}

TEST_CASE("dhcp6: malformed messages are refused with the reason") {
    auto with = [](uint16_t code, const Bytes& value) {
        Dhcp6 d;
        d.option(code, value);
        return d.build();
    };
    auto overflow = with(1, Bytes{1, 2, 3});
    overflow[7] = 9;  // option 1 says 9 bytes, 3 follow
    auto huge = with(39, Bytes{1});
    huge[6] = 0xff, huge[7] = 0xff;
    auto relay = Dhcp6{};
    relay.type = 12;
    auto reserved = Dhcp6{};
    reserved.type = 0;
    auto inner_overflow = ia_na(1, {opt6(5, Bytes(24, 0))});
    inner_overflow[12 + 3] = 40;  // IA_ADDR says 40 bytes inside a 28-byte space
    Bytes vendor_overflow;
    put32(vendor_overflow, 311);
    put(vendor_overflow, Bytes{0x00, 0x20, 'M'});
    struct Case {
        const char* what;
        Bytes bytes;
        std::string reason;
    };
    std::vector<Case> cases = {
        {"empty", {}, "DHCPv6 message shorter than its 4-byte header"},
        {"type 0", reserved.build(), "DHCPv6 message type 0 is reserved"},
        {"relay", relay.build(), "DHCPv6 relay message (type 12) not parsed"},
        {"option past the end", overflow, "DHCPv6 option 1 (length 9) runs past the end of the message"},
        {"length 65535", huge, "DHCPv6 option 39 (length 65535) runs past the end of the message"},
        {"option header cut", Bytes{1, 0, 0, 1, 0, 1, 0}, "DHCPv6 option header cut short (4 bytes needed)"},
        {"odd option request", with(6, Bytes{0, 23, 0}), "DHCPv6 option request (6) has an odd length"},
        {"IA_NA short", with(3, Bytes(11, 0)), "DHCPv6 IA_NA option shorter than its 12-byte header"},
        {"IA_ADDR short", with(3, ia_na(1, {opt6(5, Bytes(23, 0))})), "DHCPv6 IA_ADDR option shorter than its 24 bytes"},
        {"IA_NA inner overflow", with(3, inner_overflow), "DHCPv6 option 5 inside IA_NA runs past the IA_NA"},
        {"vendor class short", with(16, Bytes{0, 0, 1}), "DHCPv6 vendor class (16) shorter than its enterprise number"},
        {"vendor class item overflow", with(16, vendor_overflow), "DHCPv6 option 16: an item runs past the option"},
        {"user class item overflow", with(15, Bytes{0, 5, 'a'}), "DHCPv6 option 15: an item runs past the option"},
        {"FQDN without flags", with(39, Bytes{}), "DHCPv6 client FQDN (39) has no flags byte"},
        {"FQDN compressed", with(39, Bytes{0, 0xc0, 4}),
         "DHCPv6 client FQDN (39): domain name label longer than 63 bytes (or compressed)"},
        {"FQDN label overflow", with(39, Bytes{0, 10, 'a'}), "DHCPv6 client FQDN (39): domain name label runs past the option"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        std::string why;
        CHECK_FALSE(parse_dhcp6(c.bytes, &why));
        CHECK(why == c.reason);
    }
}

// ---------------------------------------------------------------- DNS

TEST_CASE("dns: a query is read, its name lower-cased") {
    std::string why;
    auto m = parse_dns(dns_query_a(), &why);
    REQUIRE_MESSAGE(m, why);
    CHECK(m->id == 0x1a2b);
    CHECK_FALSE(m->response);
    REQUIRE(m->questions.size() == 1);
    CHECK(m->questions[0].name == "www.example.com");
    CHECK(m->questions[0].type == 1);
    CHECK(m->answers.empty());
    CHECK_FALSE(m->cut_short);
}

TEST_CASE("dns: an answer with a CNAME chain, A and AAAA, names compressed") {
    std::string why;
    auto m = parse_dns(dns_answer_cname_chain(), &why);
    REQUIRE_MESSAGE(m, why);
    CHECK(m->response);
    CHECK(m->rcode == 0);
    REQUIRE(m->answers.size() == 4);
    CHECK(m->answers[0].name == "www.example.com");
    CHECK(m->answers[0].type == 5);
    CHECK(m->answers[0].ttl == 300);
    CHECK(m->answers[0].target == "cdn.example-cdn.net");
    CHECK(m->answers[1].name == "cdn.example-cdn.net");
    CHECK(m->answers[1].target == "edge7.cdn.example-cdn.net");
    CHECK(m->answers[2].name == "edge7.cdn.example-cdn.net");
    CHECK(ip_str(m->answers[2].address) == "198.18.5.7");
    CHECK(m->answers[2].ttl == 20);
    CHECK(ip_str(m->answers[3].address) == "fd00:5::7");
}

TEST_CASE("dns: an mDNS announcement (PTR, SRV, TXT, A; cache-flush class) is plain DNS") {
    std::string why;
    auto m = parse_dns(mdns_googlecast_announcement(), &why);
    REQUIRE_MESSAGE(m, why);
    CHECK(m->id == 0);
    CHECK(m->response);
    REQUIRE(m->answers.size() == 4);
    const auto& ptr = m->answers[0];
    CHECK(ptr.name == "_googlecast._tcp.local");
    CHECK(ptr.type == 12);
    CHECK(ptr.target == "chromecast-4f2a._googlecast._tcp.local");
    const auto& srv = m->answers[1];
    CHECK(srv.name == "chromecast-4f2a._googlecast._tcp.local");
    CHECK(srv.type == 33);
    CHECK(srv.port == 8009);
    CHECK(srv.target == "4f2a0b12.local");
    const auto& txt = m->answers[2];
    CHECK(txt.type == 16);
    CHECK(txt.ttl == 4500);
    CHECK(txt.txt == std::vector<std::string>{"id=4f2a0b12c3", "md=Chromecast", "fn=Living Room TV", "ve=05"});
    CHECK(m->answers[3].name == "4f2a0b12.local");
    CHECK(ip_str(m->answers[3].address) == "198.18.10.50");
}

TEST_CASE("dns: cut at every byte: refused whole, kept up to the cut as a prefix") {
    for (const auto& bytes : {dns_query_a(), dns_answer_cname_chain(), mdns_googlecast_announcement()}) {
        auto whole = parse_dns(bytes);
        REQUIRE(whole);
        for (size_t n = 0; n < bytes.size(); ++n) {
            CAPTURE(n);
            std::string why;
            CHECK_FALSE(parse_dns(first(bytes, n), &why));
            CHECK_FALSE(why.empty());
            auto prefix = parse_dns_prefix(first(bytes, n), &why);
            if (n < 12) {
                CHECK_FALSE(prefix);
                continue;
            }
            REQUIRE_MESSAGE(prefix, why);
            CHECK(prefix->cut_short);
            REQUIRE(prefix->questions.size() <= whole->questions.size());
            REQUIRE(prefix->answers.size() <= whole->answers.size());
            for (size_t i = 0; i < prefix->answers.size(); ++i) {
                CHECK(prefix->answers[i].name == whole->answers[i].name);
                CHECK(prefix->answers[i].target == whole->answers[i].target);
                CHECK(prefix->answers[i].txt == whole->answers[i].txt);
            }
        }
        auto all = parse_dns_prefix(bytes);
        REQUIRE(all);
        CHECK_FALSE(all->cut_short);
        CHECK(all->answers.size() == whole->answers.size());
    }
}

TEST_CASE("dns: compression loops, forward pointers and long chains are refused") {
    std::string why;
    {  // a question whose name points at itself
        DnsWriter w(1, 0, 1, 0);
        w.question("", 1, 12);
        CHECK_FALSE(parse_dns(w.bytes(), &why));
        CHECK(why == "question 1: compression pointer does not point backwards");
        CHECK_FALSE(parse_dns_prefix(w.bytes()));
    }
    {  // a label, then a pointer back to the label: a loop through earlier bytes
        DnsWriter w(1, 0, 1, 0);
        w.question("loop", 1, 12);
        CHECK_FALSE(parse_dns(w.bytes(), &why));
        CHECK(why == "question 1: compression pointer does not point backwards");
    }
    {  // two names pointing at each other: the first one's pointer goes forwards
        DnsWriter w(1, 0, 2, 0);
        size_t second = 12 + 1 + 1 + 2 + 4;
        w.question("a", 1, static_cast<int>(second));
        w.question("b", 1, 12);
        CHECK_FALSE(parse_dns(w.bytes(), &why));
        CHECK(why == "question 1: compression pointer does not point backwards");
    }
    {  // a pointer past the end of the message
        DnsWriter w(1, 0, 1, 0);
        w.question("", 1, 0x3fff);
        CHECK_FALSE(parse_dns(w.bytes(), &why));
        CHECK(why == "question 1: compression pointer does not point backwards");
    }
    // A chain: each name one label and a pointer to the one before. 16 jumps are fine,
    // the 17th is refused.
    for (int names : {17, 18}) {
        CAPTURE(names);
        DnsWriter w(1, 0, static_cast<uint16_t>(names), 0);
        int previous = -1;
        for (int i = 0; i < names; ++i) {
            size_t at = w.offset();
            w.question("n", 1, previous);
            previous = static_cast<int>(at);
        }
        auto m = parse_dns(w.bytes(), &why);
        if (names == 17) {
            REQUIRE_MESSAGE(m, why);
            std::string expected = "n";
            for (int i = 0; i < 16; ++i) expected += ".n";
            CHECK(m->questions.back().name == expected);
        } else {
            CHECK_FALSE(m);
            CHECK(why == "question 18: more than 16 compression pointers in one name");
        }
    }
}

TEST_CASE("dns: names are bounded: 255 bytes, 63 per label, no extended labels") {
    std::string why;
    {  // 4 labels of 63 = 256 wire bytes with the root
        DnsWriter w(1, 0, 1, 0);
        std::string name;
        for (int i = 0; i < 4; ++i) name += (i ? "." : "") + std::string(63, 'a' + i);
        w.question(name, 1);
        CHECK_FALSE(parse_dns(w.bytes(), &why));
        CHECK(why == "question 1: name longer than 255 bytes");
    }
    {  // 3 of 63 and one of 61 = 255: the most there may be
        DnsWriter w(1, 0, 1, 0);
        std::string name = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                           std::string(61, 'd');
        w.question(name, 1);
        auto m = parse_dns(w.bytes(), &why);
        REQUIRE_MESSAGE(m, why);
        CHECK(m->questions[0].name == name);
    }
    {  // the same bound across compression: each name adds 63 bytes to the one before
        DnsWriter w(1, 0, 5, 0);
        int previous = -1;
        for (int i = 0; i < 5; ++i) {
            size_t at = w.offset();
            w.question(std::string(63, 'a' + i), 1, previous);
            previous = static_cast<int>(at);
        }
        CHECK_FALSE(parse_dns(w.bytes(), &why));
        CHECK(why == "question 4: name longer than 255 bytes");
    }
    for (uint8_t label_type : {0x40, 0x80}) {
        Bytes b{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, label_type, 'a', 0, 0, 1, 0, 1};
        CHECK_FALSE(parse_dns(b, &why));
        CHECK(why == "question 1: unknown label type (extended labels are not used)");
    }
}

TEST_CASE("dns: bytes that are not printable are escaped, upper case is lowered") {
    Bytes b{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    put(b, Bytes{7, 'K', 0xc3, 0xbc, '.', '\\', ' ', 0x00, 3, 'C', 'O', 'M', 0, 0, 1, 0, 1});
    std::string why;
    auto m = parse_dns(b, &why);
    REQUIRE_MESSAGE(m, why);
    CHECK(m->questions[0].name == "k\\195\\188\\046\\092 \\000.com");

    DnsWriter w(1, 0x8400, 0, 1);
    w.record("tv.local", -1, 16, 10);
    w.raw(Bytes{4, 'a', '\\', 0xff, '.'}).end_record();
    auto t = parse_dns(w.bytes(), &why);
    REQUIRE_MESSAGE(t, why);
    CHECK(t->answers[0].txt == std::vector<std::string>{"a\\\\xff."});  // free text: text::printable
}

TEST_CASE("dns: counts larger than the message can hold are refused before any record") {
    std::string why;
    Bytes b{0, 1, 0x81, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK_FALSE(parse_dns(b, &why));
    CHECK(why == "counts say 65535 questions and 196605 records, more than 0 bytes can hold");
    // One question that fits, three answers promised that cannot (21 bytes hold 16 at most).
    auto q = dns_query_a();
    q[7] = 3;
    CHECK_FALSE(parse_dns(q, &why));
    CHECK(why == "counts say 1 questions and 3 records, more than 21 bytes can hold");
    // One answer promised: room enough by the count, so the answer itself is found missing.
    q[7] = 1;
    CHECK_FALSE(parse_dns(q, &why));
    CHECK(why == "record 1: name cut short");
    // The prefix reader keeps the question and stops at the bytes' end.
    auto p = parse_dns_prefix(q, &why);
    REQUIRE(p);
    CHECK(p->cut_short);
    CHECK(p->questions.size() == 1);
    // 65535 counted records in a short message: the loop ends with the bytes.
    Bytes huge = dns_answer_cname_chain();
    huge[6] = huge[7] = 0xff;
    auto h = parse_dns_prefix(huge);
    REQUIRE(h);
    CHECK(h->answers.size() == 4);
    CHECK(h->cut_short);
}

TEST_CASE("dns: record data must match its type") {
    auto record = [](uint16_t type, const Bytes& rdata) {
        DnsWriter w(1, 0x8180, 0, 1);
        w.record("x.example", -1, type, 60);
        w.raw(rdata).end_record();
        return w.bytes();
    };
    struct Case {
        const char* what;
        Bytes bytes;
        std::string reason;
    };
    Bytes srv_short{0, 0, 0, 0, 0x1f};
    Bytes cname_trailing = wire_name("a.example");
    cname_trailing.push_back(7);
    Bytes past = record(1, v4("198.18.0.1"));
    past[past.size() - 5] = 9;  // rdlength 9 with 4 bytes of data
    std::vector<Case> cases = {
        {"A of 5", record(1, Bytes(5, 1)), "record 1: A record data is 5 bytes, 4 expected"},
        {"AAAA of 4", record(28, Bytes(4, 1)), "record 1: AAAA record data is 4 bytes, 16 expected"},
        {"SRV of 5", record(33, srv_short), "record 1: SRV record data shorter than 7 bytes"},
        {"CNAME with trailing byte", record(5, cname_trailing), "record 1: bytes after the name in record data"},
        {"PTR name past rdata", record(12, Bytes{5, 'a', 'b'}), "record 1: name runs past its record data"},
        {"TXT string past rdata", record(16, Bytes{9, 'a'}), "record 1: TXT string runs past its record data"},
        {"rdlength past the end", past, "record 1: record data cut short"},
        {"header only", Bytes(11, 0), "DNS message shorter than its 12-byte header"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        std::string why;
        CHECK_FALSE(parse_dns(c.bytes, &why));
        CHECK(why == c.reason);
    }
    // Types it does not know (and OPT in the additional section) are skipped by length.
    auto opt = record(41, Bytes(13, 0xee));
    auto m = parse_dns(opt);
    REQUIRE(m);
    CHECK(m->answers[0].type == 41);
    CHECK(m->answers[0].target.empty());
}

// ---------------------------------------------------------------- SSDP

TEST_CASE("ssdp: a NOTIFY gives SERVER, USN, NT and LOCATION; names upper-cased, values trimmed") {
    std::string why;
    auto m = parse_ssdp(ssdp_notify(), &why);
    REQUIRE_MESSAGE(m, why);
    CHECK(m->start_line == "NOTIFY * HTTP/1.1");
    CHECK(m->headers.at("SERVER") == "Linux/3.14.0 UPnP/1.0 IpBridge/1.26.0");
    CHECK(m->headers.at("USN") == "uuid:2f402f80-da50-11e1-9b23-001788100491::upnp:rootdevice");
    CHECK(m->headers.at("NT") == "upnp:rootdevice");
    CHECK(m->headers.at("LOCATION") == "http://198.18.10.60:80/description.xml");
    CHECK(m->headers.at("HUE-BRIDGEID") == "001788FFFE100491");
    CHECK(m->headers.size() == 8);

    auto s = parse_ssdp(ssdp_msearch(), &why);  // LF line ends
    REQUIRE_MESSAGE(s, why);
    CHECK(s->start_line == "M-SEARCH * HTTP/1.1");
    CHECK(s->headers.at("ST") == "urn:dial-multiscreen-org:service:dial:1");
    CHECK(s->headers.at("MAN") == "\"ssdp:discover\"");

    auto r = parse_ssdp(text("HTTP/1.1 200 OK\r\nst:  upnp:rootdevice \t\r\nSt: second\r\nEXT:\r\n\r\nbody: x\r\n"), &why);
    REQUIRE_MESSAGE(r, why);
    CHECK(r->headers.at("ST") == "upnp:rootdevice");  // the first of a repeated header
    CHECK(r->headers.at("EXT").empty());
    CHECK_FALSE(r->headers.contains("BODY"));
}

TEST_CASE("ssdp: cut at every byte: the lines that are whole, never a cut value") {
    auto bytes = ssdp_notify();
    auto whole = parse_ssdp(bytes);
    REQUIRE(whole);
    for (size_t n = 0; n < bytes.size(); ++n) {
        CAPTURE(n);
        auto m = parse_ssdp(first(bytes, n));
        if (n < 19) {  // "NOTIFY * HTTP/1.1\r\n"
            CHECK_FALSE(m);
            continue;
        }
        REQUIRE(m);
        for (const auto& [name, value] : m->headers) CHECK(whole->headers.at(name) == value);
    }
}

TEST_CASE("ssdp: malformed messages are refused with the reason; odd bytes become \\xNN") {
    std::string many = "NOTIFY * HTTP/1.1\r\n";
    for (int i = 0; i < 33; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    struct Case {
        const char* what;
        std::string message;
        std::string reason;
    };
    std::vector<Case> cases = {
        {"GET", "GET / HTTP/1.1\r\n\r\n", "start line is not NOTIFY, M-SEARCH or an HTTP/1.x response"},
        {"HTTP/2", "HTTP/2 200\r\n\r\n", "start line is not NOTIFY, M-SEARCH or an HTTP/1.x response"},
        {"binary", std::string("\x00\x01\x02\n", 4), "start line is not NOTIFY, M-SEARCH or an HTTP/1.x response"},
        {"no line end", "NOTIFY * HTTP/1.1", "no complete start line"},
        {"long line", "NOTIFY * HTTP/1.1\r\nSERVER: " + std::string(1100, 'x') + "\r\n\r\n", "line 2: longer than 1024 bytes"},
        {"33 headers", many + "\r\n", "more than 32 header lines"},
        {"no colon", "NOTIFY * HTTP/1.1\r\nSERVER Linux\r\n\r\n", "line 2: header line without ':'"},
        {"folded", "NOTIFY * HTTP/1.1\r\nSERVER: a\r\n b\r\n\r\n", "line 3: folded header line (obsolete, RFC 9112 5.2)"},
        {"bad name", "NOTIFY * HTTP/1.1\r\nSER VER: a\r\n\r\n", "line 2: header name is not a token"},
        {"empty name", "NOTIFY * HTTP/1.1\r\n: a\r\n\r\n", "line 2: header name is not a token"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        std::string why;
        CHECK_FALSE(parse_ssdp(text(c.message), &why));
        CHECK(why == c.reason);
    }
    std::string why;
    auto m = parse_ssdp(text("NOTIFY * HTTP/1.1\r\nSERVER: Wohnzimmer-K\xc3\xbc" "che\x01\r\n\r\n"), &why);
    REQUIRE_MESSAGE(m, why);
    CHECK(m->headers.at("SERVER") == "Wohnzimmer-K\xc3\xbc" "che\\x01");
    auto limit = parse_ssdp(text(many.substr(0, many.rfind("X-32")) + "\r\n"), &why);
    REQUIRE_MESSAGE(limit, why);
    CHECK(limit->headers.size() == 32);
}

// ---------------------------------------------------------------- OUI registry

TEST_CASE("oui: CSV with quotes, line breaks in quotes, CRLF; longest match wins") {
    OuiRegistry r;
    r.add_csv(
        "Registry,Assignment,Organization Name,Organization Address\r\n"
        "MA-L,A4CF12,Espressif Inc.,\"Room 204, Building 2, Shanghai CN\"\r\n"
        "MA-L,F4BD9E,\"Cisco Systems, Inc\",80 West Tasman Drive San Jose CA US 94568 \r\n"
        "MA-L,084FA9,\"Cisco Systems, Inc\",80 West Tasman Drive\r\n"
        "MA-L,001EFC,\"JSC \"\"MASSA-K\"\"\",\"15, A, Pirogovskaya nab.\r\nSaint-Petersburg\"\r\n"
        "MA-L,70B3D5,IEEE Registration Authority,\r\n"
        "MA-M,70B3D52,Block Of 28 Ltd,\r\n"
        "MA-S,70B3D52F3,TELEPLATFORMS,\"Polbina st., 3/1 Moscow  RU 109388 \"\r\n"
        "IAB,0050C27D5,DEUTA-WERKE GmbH,Paffrather Strasse 140\r\n"
        "MA-L,0050C2,IEEE Registration Authority,\r\n"
        "MA-L,XYZ123,Bad Hex,\r\n"
        "MA-M,12345,Too Short,\r\n"
        "CID,123456,Not A MAC Block,\r\n"
        "MA-L,123456\r\n"
        "MA-L,654321,\"unterminated,\r\n");
    CHECK(r.size() == 9);
    CHECK(r.malformed_lines() == 5);
    CHECK(r.vendor(mac("a4:cf:12:0b:4f:2a")) == "Espressif Inc.");
    CHECK(r.vendor(mac("F4:BD:9E:44:55:66")) == "Cisco Systems, Inc");
    CHECK(r.vendor(mac("00:1e:fc:00:00:01")) == "JSC \"MASSA-K\"");
    CHECK(r.vendor(mac("70:b3:d5:2f:31:00")) == "TELEPLATFORMS");          // MA-S
    CHECK(r.vendor(mac("70:b3:d5:2f:41:00")) == "Block Of 28 Ltd");        // MA-M
    CHECK(r.vendor(mac("70:b3:d5:3f:31:00")) == "IEEE Registration Authority");  // MA-L
    CHECK(r.vendor(mac("00:50:c2:7d:5f:ff")) == "DEUTA-WERKE GmbH");       // IAB
    CHECK(r.vendor(mac("00:00:00:00:00:01")).empty());
    // A locally administered MAC (a phone's private address) is no vendor's.
    CHECK(r.vendor(mac("a6:cf:12:0b:4f:2a")).empty());

    // More text adds to the table; names already known are not stored twice.
    r.add_csv("MA-L,ACBC32,\"Cisco Systems, Inc\",\r\nMA-L,F4BD9E,Second Listing,\r\n");
    CHECK(r.size() == 10);
    CHECK(r.vendor(mac("ac:bc:32:00:00:01")) == "Cisco Systems, Inc");
    CHECK(r.vendor(mac("f4:bd:9e:00:00:01")) == "Cisco Systems, Inc");  // the first listing stays
}

TEST_CASE("oui: a directory without registry files is an error that says what to install") {
    auto dir = std::filesystem::temp_directory_path() / "warden-oui-empty";
    std::filesystem::create_directories(dir);
    try {
        OuiRegistry::load(dir.string());
        FAIL("no exception");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find("none of oui.csv") != std::string::npos);
        CHECK(std::string(e.what()).find("ieee-data") != std::string::npos);
    }
    std::filesystem::remove(dir);
}

TEST_CASE("oui: a registry file that is a FIFO is refused at once, naming it") {
    test::TempDir d;
    REQUIRE(test::make_fifo(d.path / "oui.csv"));
    test::Deadline deadline(10);
    CHECK_THROWS_WITH_AS(OuiRegistry::load(d.path.string()),
                         ((d.path / "oui.csv").string() + " is a FIFO (named pipe), not a file").c_str(),
                         std::runtime_error);
}

// Cannot run (support/skip.h) on a machine without Debian's ieee-data.
const std::string kIeeeData = "/usr/share/ieee-data";
TEST_CASE("oui: Debian's ieee-data registry: real vendors, load time and size") {
    if (!std::filesystem::exists(kIeeeData + "/oui.csv"))
        return warden::testing::cannot_run("no " + kIeeeData + "/oui.csv (Debian package ieee-data)");
    const std::string& dir = kIeeeData;
    auto start = std::chrono::steady_clock::now();
    auto r = OuiRegistry::load(dir);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("ieee-data: " << r.size() << " assignments loaded in " << ms << " ms, " << r.malformed_lines()
                          << " malformed lines");
    CHECK(r.size() > 40000);
    CHECK(r.malformed_lines() == 0);
    CHECK(ms < 1000);
    CHECK(r.vendor(mac("24:6f:28:01:02:03")) == "Espressif Inc.");
    CHECK(r.vendor(mac("f4:bd:9e:01:02:03")) == "Cisco Systems, Inc");
    CHECK(r.vendor(mac("20:85:93:b0:00:01")) == "IOG Products LLC");  // MA-M 208593B
    CHECK(r.vendor(mac("70:b3:d5:f2:f0:01")) == "TELEPLATFORMS");     // MA-S 70B3D5F2F
    CHECK(r.vendor(mac("00:50:c2:7d:50:01")) == "DEUTA-WERKE GmbH");  // IAB 0050C27D5
    CHECK(r.vendor(mac("26:6f:28:01:02:03")).empty());                // locally administered
}
