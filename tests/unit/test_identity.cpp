// The identity store: device stories told through the parsers' structs (a phone, a camera,
// a printer, a laptop, speakers, a TV, a plug) classified by the shipped rules, the policy
// override, the DNS name cache (CNAME chains, TTLs, bounds), dirty tracking and the JSON
// round trip.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "identity/identity.h"
#include "identity/oui.h"
#include "identity/types.h"

using namespace warden;
using namespace warden::identity;

namespace {

constexpr int64_t t0 = 1'790'000'000'000;  // unix ms
constexpr int64_t second = 1000;

net::Mac mac(const char* text) {
    return *net::Mac::parse(text);
}
net::IpAddr ip(const char* text) {
    return *net::IpAddr::parse(text);
}

// A few real assignments from the IEEE registry, in its CSV format.
const char* const registry_csv =
    "Registry,Assignment,Organization Name,Organization Address\n"
    "MA-L,4447CC,\"Hangzhou Hikvision Digital Technology Co.,Ltd.\",No.555 Qianmo Road Hangzhou "
    "Zhejiang CN 310052 \n"
    "MA-L,246F28,Espressif Inc.,\"Room 204, Building 2, 690 Bibo Rd, Pudong New Area Shanghai "
    "Shanghai CN 201203 \"\n"
    "MA-L,040E3C,HP Inc.,10300 Energy Dr Spring TX US 77389 \n"
    "MA-L,D0D003,\"Samsung Electronics Co.,LTD\",\"129, Samsung-ro, Youngtongl-Gu Suwon "
    "Gyeonggi-Do KR 16677 \"\n"
    "MA-L,542A1B,\"Sonos, Inc.\",614 Chapala St Santa Barbara CA US 93101 \n"
    "MA-L,58CB52,\"Google, Inc.\",1600 Amphitheatre Parkway Mountain View CA US 94043 \n"
    "MA-L,98E743,Dell Inc.,One Dell Way Round Rock TX US 78682 \n";

// The shipped rules and the registry above, shared by every story.
struct World {
    OuiRegistry oui;
    DeviceTypes types;
    World() : types(load_rules()) { oui.add_csv(registry_csv); }
    static DeviceTypes load_rules() {
        auto loaded = DeviceTypes::load_file(WARDEN_SOURCE_DIR "/config/device-types.yaml");
        for (const auto& e : loaded.errors) INFO(e.str());
        REQUIRE(loaded.rules);
        return *loaded.rules;
    }
};

// ---- messages as the parsers hand them over ----

Dhcp4Message dhcp_request(const net::Mac& device, std::string hostname, std::string vendor_class,
                          std::string fingerprint, uint8_t type = 3) {
    Dhcp4Message m;
    m.op = 1;
    m.type = type;
    m.chaddr = device;
    m.hostname = std::move(hostname);
    m.vendor_class = std::move(vendor_class);
    m.param_request_list = std::move(fingerprint);
    m.client_id = "01" + device.str();
    m.client_id.erase(std::remove(m.client_id.begin(), m.client_id.end(), ':'), m.client_id.end());
    return m;
}

Dhcp4Message dhcp_reply(const net::Mac& device, const char* yiaddr, uint8_t type) {
    Dhcp4Message m;
    m.op = 2;
    m.type = type;
    m.chaddr = device;
    m.yiaddr = ip(yiaddr);
    m.server_id = ip("198.18.0.1");
    m.lease_seconds = 3600;
    return m;
}

DnsMessage dns_query(std::initializer_list<const char*> names) {
    DnsMessage m;
    m.id = 0x1234;
    for (auto n : names) m.questions.push_back({n, 1});
    return m;
}

DnsRecord a_record(std::string name, const char* addr, uint32_t ttl) {
    DnsRecord r;
    r.name = std::move(name);
    r.type = ip(addr).is_v4() ? 1 : 28;
    r.ttl = ttl;
    r.address = ip(addr);
    return r;
}

DnsRecord cname(std::string name, std::string target, uint32_t ttl) {
    DnsRecord r;
    r.name = std::move(name);
    r.type = 5;
    r.ttl = ttl;
    r.target = std::move(target);
    return r;
}

DnsMessage dns_answer(const char* question, std::vector<DnsRecord> answers, uint16_t qtype = 1) {
    DnsMessage m;
    m.response = true;
    m.questions.push_back({question, qtype});
    m.answers = std::move(answers);
    return m;
}

DnsRecord ptr(std::string name, std::string target) {
    DnsRecord r;
    r.name = std::move(name);
    r.type = 12;
    r.ttl = 4500;
    r.target = std::move(target);
    return r;
}

DnsRecord txt(std::string name, std::vector<std::string> strings) {
    DnsRecord r;
    r.name = std::move(name);
    r.type = 16;
    r.ttl = 4500;
    r.txt = std::move(strings);
    return r;
}

DnsRecord srv(std::string name, std::string target, uint16_t port) {
    DnsRecord r;
    r.name = std::move(name);
    r.type = 33;
    r.ttl = 120;
    r.target = std::move(target);
    r.port = port;
    return r;
}

DnsMessage mdns_announcement(std::vector<DnsRecord> records) {
    DnsMessage m;
    m.response = true;
    m.answers = std::move(records);
    return m;
}

SsdpMessage ssdp_notify(std::string server) {
    SsdpMessage m;
    m.start_line = "NOTIFY * HTTP/1.1";
    m.headers["HOST"] = "239.255.255.250:1900";
    m.headers["NT"] = "upnp:rootdevice";
    m.headers["NTS"] = "ssdp:alive";
    m.headers["LOCATION"] = "http://198.18.1.40:1400/xml/device_description.xml";
    m.headers["SERVER"] = std::move(server);
    return m;
}

// The i-th of many distinct addresses: fd00::<i>.
net::IpAddr numbered(uint32_t i) {
    net::IpAddr a;
    a.bytes[0] = 0xfd;
    for (int k = 0; k < 4; ++k) a.bytes[15 - k] = static_cast<uint8_t>(i >> (8 * k));
    return a;
}

// An answer to the device for name -> address.
DnsMessage answer_for(const std::string& name, const net::IpAddr& addr, uint32_t ttl = 600) {
    DnsRecord r;
    r.name = name;
    r.type = addr.is_v4() ? 1 : 28;
    r.ttl = ttl;
    r.address = addr;
    return dns_answer(name.c_str(), {r}, r.type);
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

// True when some evidence line contains every one of the words.
bool evidence_has(const Identity& id, std::initializer_list<const char*> words) {
    for (const auto& line : id.type_evidence) {
        bool all = true;
        for (auto w : words) all &= line.find(w) != std::string::npos;
        if (all) return true;
    }
    std::string shown;
    for (const auto& line : id.type_evidence) shown += "  " + line + "\n";
    INFO("evidence:\n" << shown);
    return false;
}

}  // namespace

// ---- device stories ----

TEST_CASE("a phone: random MAC, android- hostname, DHCPv6 ORO, googleapis lookups") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto phone = mac("da:a1:19:5c:3e:07");  // locally administered
    store.observe_dhcp4(
        dhcp_request(phone, "android-3f2a9c1d5e6b7a80", "", "1,3,6,15,26,28,51,58,59,43"), false,
        t0);
    Dhcp6Message solicit;
    solicit.type = 1;
    solicit.client_duid = "00030001daa1195c3e07";
    solicit.option_request = "23,24,82";
    store.observe_dhcp6(phone, solicit, false, t0 + second);
    store.observe_dns(phone, dns_query({"android.googleapis.com"}), true, t0 + 2 * second);
    store.observe_dns(phone, dns_query({"play.googleapis.com", "www.google.com"}), true,
                      t0 + 3 * second);

    auto id = store.identity(phone);
    REQUIRE(id);
    CHECK(id->random_mac);
    CHECK(id->vendor.empty());  // a random prefix is no assignment
    CHECK(id->hostname == "android-3f2a9c1d5e6b7a80");
    // DHCPv4's list stays the fingerprint; DHCPv6 only fills what v4 left empty.
    CHECK(id->dhcp_fingerprint == "1,3,6,15,26,28,51,58,59,43");
    CHECK(id->client_id == "01daa1195c3e07");
    CHECK(id->dns_names == std::vector<std::string>{"www.google.com", "play.googleapis.com",
                                                    "android.googleapis.com"});
    CHECK(id->type == "phone");
    CHECK(id->type_source == "rules");
    CHECK(evidence_has(*id, {"hostname \"android-3f2a9c1d5e6b7a80\" matches", "phone +30"}));
    CHECK(evidence_has(*id, {"MAC is randomised", "phone"}));
    CHECK(evidence_has(*id, {"dns_name \"play.googleapis.com\"", "phone"}));
    CHECK(evidence_has(*id, {"dhcp_fingerprint \"1,3,6,15,26,28,51,58,59,43\"", "phone"}));
    CHECK(id->first_seen_ms == t0);
    CHECK(id->updated_ms == t0 + 3 * second);
}

TEST_CASE("a DHCPv6-only device gets its option request list as a v6: fingerprint") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto device = mac("02:00:5e:10:00:01");
    Dhcp6Message solicit;
    solicit.type = 1;
    solicit.client_duid = "0003000102005e100001";
    solicit.fqdn = "pixel-7";
    solicit.vendor_class = "43:android";
    solicit.option_request = "23,24,39";
    store.observe_dhcp6(device, solicit, false, t0);
    auto id = store.identity(device);
    REQUIRE(id);
    CHECK(id->dhcp_fingerprint == "v6:23,24,39");
    CHECK(id->hostname == "pixel-7");
    CHECK(id->vendor_class == "43:android");
    CHECK(id->client_id == "0003000102005e100001");
    CHECK(id->type == "phone");

    // DHCPv4 arrives: its values win, and a later DHCPv6 message does not flip them back.
    store.observe_dhcp4(dhcp_request(device, "", "android-dhcp-9", "1,3,6,15,26,28,51,58,59,43"),
                        false, t0 + second);
    store.observe_dhcp6(device, solicit, false, t0 + 2 * second);
    id = store.identity(device);
    CHECK(id->dhcp_fingerprint == "1,3,6,15,26,28,51,58,59,43");
    CHECK(id->vendor_class == "android-dhcp-9");
}

TEST_CASE("a camera: Hikvision OUI, udhcp vendor class, hostname IPC") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto camera = mac("44:47:cc:12:34:56");
    store.observe_dhcp4(dhcp_request(camera, "", "udhcp 1.30.1", "1,3,6,12,15,28,42", 1), false,
                        t0);
    store.observe_dhcp4(dhcp_request(camera, "IPC", "udhcp 1.30.1", "1,3,6,12,15,28,42"), false,
                        t0 + second);
    store.observe_dhcp4(dhcp_reply(camera, "198.18.1.23", 5), true, t0 + second);

    auto id = store.identity(camera);
    REQUIRE(id);
    CHECK_FALSE(id->random_mac);
    CHECK(id->vendor == "Hangzhou Hikvision Digital Technology Co.,Ltd.");
    CHECK(id->hostname == "IPC");
    CHECK(id->vendor_class == "udhcp 1.30.1");
    REQUIRE(id->leased_ip4);
    CHECK(id->leased_ip4->str() == "198.18.1.23");
    CHECK(id->type == "camera");
    CHECK(id->type_score == 40 + 30 + 5);
    CHECK(evidence_has(
        *id, {"vendor \"Hangzhou Hikvision Digital Technology Co.,Ltd.\" matches", "camera +40"}));
    CHECK(evidence_has(*id, {"hostname \"IPC\"", "camera +30"}));
    CHECK(evidence_has(*id, {"vendor_class \"udhcp 1.30.1\"", "camera +5"}));
}

TEST_CASE("only the server's DHCPACK sets the leased address") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto device = mac("44:47:cc:00:00:02");
    store.observe_dhcp4(dhcp_reply(device, "198.18.1.50", 2), true, t0);  // OFFER
    REQUIRE(store.identity(device));
    CHECK_FALSE(store.identity(device)->leased_ip4);
    store.observe_dhcp4(dhcp_reply(device, "198.18.1.51", 5), true, t0 + second);  // ACK
    CHECK(store.identity(device)->leased_ip4 == ip("198.18.1.51"));
    // A client's own message names no lease.
    auto request = dhcp_request(device, "x", "", "");
    request.yiaddr = ip("198.18.9.9");
    store.observe_dhcp4(request, false, t0 + 2 * second);
    CHECK(store.identity(device)->leased_ip4 == ip("198.18.1.51"));
}

TEST_CASE("a printer: _ipp._tcp announced over mDNS with TXT ty=") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto printer = mac("04:0e:3c:aa:bb:cc");
    const std::string instance = "hp laserjet pro m404dn (aabbcc)._ipp._tcp.local";
    store.observe_mdns(
        printer,
        mdns_announcement({
            ptr("_services._dns-sd._udp.local", "_ipp._tcp.local"),
            ptr("_ipp._tcp.local", instance),
            ptr("_universal._sub._ipp._tcp.local", instance),
            srv(instance, "hpaabbcc.local", 631),
            txt(instance, {"txtvers=1", "ty=HP LaserJet Pro M404dn",
                           "product=(HP LaserJet Pro M404dn)", "pdl=application/pdf"}),
        }),
        t0);
    auto id = store.identity(printer);
    REQUIRE(id);
    CHECK(id->vendor == "HP Inc.");
    CHECK(id->mdns_services == std::vector<std::string>{"_ipp._tcp"});
    CHECK(id->models == std::vector<std::string>{"HP LaserJet Pro M404dn"});
    CHECK(id->type == "printer");
    CHECK(evidence_has(*id, {"mdns_service \"_ipp._tcp\" matches", "printer +50"}));
    CHECK(evidence_has(*id, {"model \"HP LaserJet Pro M404dn\"", "printer"}));
    CHECK(evidence_has(*id, {"vendor \"HP Inc.\"", "printer +15"}));
}

TEST_CASE("mDNS queries (what a device looks for) say nothing about what it is") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto laptop = mac("98:e7:43:00:00:01");
    DnsMessage query;
    query.questions.push_back({"_ipp._tcp.local", 12});
    // Known-answer section: another device's printer records.
    query.answers.push_back(ptr("_ipp._tcp.local", "office._ipp._tcp.local"));
    store.observe_mdns(laptop, query, t0);
    auto id = store.identity(laptop);
    CHECK((!id || id->mdns_services.empty()));
}

TEST_CASE("a laptop: MSFT 5.0 vendor class, DESKTOP- hostname, Windows fingerprint") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto laptop = mac("98:e7:43:5a:6b:7c");
    auto request = dhcp_request(laptop, "DESKTOP-4F7K2QJ", "MSFT 5.0",
                                "1,3,6,15,31,33,43,44,46,47,119,121,249,252");
    request.fqdn = "DESKTOP-4F7K2QJ.home.arpa";
    store.observe_dhcp4(request, false, t0);
    store.observe_dns(laptop, dns_query({"www.msftconnecttest.com"}), true, t0 + second);
    auto id = store.identity(laptop);
    REQUIRE(id);
    CHECK(id->vendor == "Dell Inc.");
    CHECK(id->hostname == "DESKTOP-4F7K2QJ");  // option 12 over 81
    CHECK(id->type == "laptop");
    CHECK(evidence_has(*id, {"vendor_class \"MSFT 5.0\" matches", "laptop +30"}));
    CHECK(evidence_has(*id, {"hostname \"DESKTOP-4F7K2QJ\"", "laptop +40"}));
    CHECK(evidence_has(*id, {"dhcp_fingerprint", "laptop +30"}));
    CHECK(evidence_has(*id, {"dns_name \"www.msftconnecttest.com\"", "laptop"}));

    // Only option 81: the FQDN is the hostname.
    auto other = mac("98:e7:43:5a:6b:7d");
    auto fqdn_only = dhcp_request(other, "", "MSFT 5.0", "");
    fqdn_only.fqdn = "LAPTOP-9QX.home.arpa";
    store.observe_dhcp4(fqdn_only, false, t0);
    CHECK(store.identity(other)->hostname == "LAPTOP-9QX.home.arpa");
}

TEST_CASE("speakers: a Google Nest Mini over mDNS and a Sonos over SSDP") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto nest = mac("58:cb:52:01:02:03");
    const std::string instance = "google-nest-mini-5f2c1a7e._googlecast._tcp.local";
    store.observe_mdns(
        nest,
        mdns_announcement({
            ptr("_googlecast._tcp.local", instance),
            srv(instance, "5f2c1a7e.local", 8009),
            txt(instance, {"id=5f2c1a7e", "md=Google Nest Mini", "fn=Kitchen speaker", "rs="}),
        }),
        t0);
    auto id = store.identity(nest);
    REQUIRE(id);
    CHECK(id->mdns_services == std::vector<std::string>{"_googlecast._tcp"});
    CHECK(id->models == std::vector<std::string>{"Google Nest Mini", "Kitchen speaker"});
    CHECK(id->type == "speaker");
    CHECK(evidence_has(*id, {"model \"Google Nest Mini\" matches", "speaker +40"}));
    CHECK(evidence_has(*id, {"mdns_service \"_googlecast._tcp\"", "speaker +10"}));

    auto sonos = mac("54:2a:1b:44:55:66");
    store.observe_ssdp(sonos, ssdp_notify("Linux UPnP/1.0 Sonos/70.3-35220 (ZPS9)"), t0);
    id = store.identity(sonos);
    REQUIRE(id);
    CHECK(id->models == std::vector<std::string>{"Linux UPnP/1.0 Sonos/70.3-35220 (ZPS9)"});
    CHECK(id->type == "speaker");
    CHECK(evidence_has(*id, {"vendor \"Sonos, Inc.\"", "speaker +40"}));
    CHECK(evidence_has(*id, {"model \"Linux UPnP/1.0 Sonos/70.3-35220 (ZPS9)\"", "speaker +40"}));
}

TEST_CASE("a Chromecast is a TV, though it speaks the same protocol as the speakers") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto cast = mac("58:cb:52:0a:0b:0c");
    const std::string instance = "chromecast-8e1f._googlecast._tcp.local";
    store.observe_mdns(cast,
                       mdns_announcement({ptr("_googlecast._tcp.local", instance),
                                          txt(instance, {"md=Chromecast", "fn=Living Room TV"})}),
                       t0);
    auto id = store.identity(cast);
    CHECK(id->type == "tv");
    CHECK(evidence_has(*id, {"model \"Chromecast\"", "tv +40"}));
}

TEST_CASE("a TV: Samsung OUI, Samsung cloud lookups, Samsung UPnP server") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto tv = mac("d0:d0:03:77:88:99");
    store.observe_dhcp4(dhcp_request(tv, "Samsung", "", "1,3,6,12,15,28,42"), false, t0);
    store.observe_dns(tv, dns_query({"osb-v2.samsungcloudsolution.com"}), true, t0 + second);
    store.observe_dns(tv, dns_query({"time.samsungcloudsolution.com"}), true, t0 + 2 * second);
    store.observe_ssdp(tv, ssdp_notify("SHP, UPnP/1.0, Samsung UPnP SDK/1.0"), t0 + 3 * second);
    auto id = store.identity(tv);
    REQUIRE(id);
    CHECK(id->vendor == "Samsung Electronics Co.,LTD");
    CHECK(id->type == "tv");
    CHECK(evidence_has(*id, {"dns_name \"time.samsungcloudsolution.com\"", "tv +40"}));
    CHECK(evidence_has(*id, {"model \"SHP, UPnP/1.0, Samsung UPnP SDK/1.0\"", "tv +40"}));
    // The Samsung OUI also hints phone; the TV evidence outweighs it.
    CHECK(evidence_has(*id, {"vendor \"Samsung Electronics Co.,LTD\"", "phone +10"}));
}

TEST_CASE("a plug: Espressif OUI and Tuya cloud lookups") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto plug = mac("24:6f:28:9a:bc:de");
    store.observe_dhcp4(dhcp_request(plug, "", "", "1,3,28,6"), false, t0);
    auto id = store.identity(plug);
    CHECK(id->type == "plug");  // Espressif 20 + lwIP fingerprint 10
    store.observe_dns(plug, dns_query({"a1.tuyaus.com"}), true, t0 + second);
    store.observe_dns(plug, dns_query({"m1.tuyaus.com"}), true, t0 + 2 * second);
    id = store.identity(plug);
    CHECK(id->type == "plug");
    CHECK(id->type_score == 20 + 10 + 30);
    CHECK(evidence_has(*id, {"vendor \"Espressif Inc.\" matches /espressif/: plug +20"}));
    // Both tuya names match one rule: it counts once, naming the most recent.
    CHECK(evidence_has(*id, {"dns_name \"m1.tuyaus.com\"", "plug +30"}));
    CHECK_FALSE(evidence_has(*id, {"dns_name \"a1.tuyaus.com\""}));
}

TEST_CASE("a device the rules cannot place stays unknown, with the reason") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto device = mac("00:11:22:33:44:55");  // not in the test registry
    store.observe_dhcp4(dhcp_request(device, "box", "", "1,3,6"), false, t0);
    auto id = store.identity(device);
    CHECK(id->type == "unknown");
    CHECK(id->type_source.empty());
    CHECK(id->type_evidence == std::vector<std::string>{"no rule matched"});
}

// ---- the policy's word ----

TEST_CASE("the policy's type overrides the rules, and clearing it hands back to them") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto plug = mac("24:6f:28:00:00:01");
    store.observe_dns(plug, dns_query({"a1.tuyaus.com"}), true, t0);
    REQUIRE(store.identity(plug)->type == "plug");

    store.set_policy_type(plug, policy::DeviceType::camera);
    auto id = store.identity(plug);
    CHECK(id->type == "camera");
    CHECK(id->type_source == "policy");
    REQUIRE(id->type_evidence.size() >= 2);
    CHECK(id->type_evidence[0] == "named in the policy as camera");
    CHECK(id->type_evidence[1] == "the rules alone would say plug (score 50)");

    // New observations do not undo the override.
    store.observe_dns(plug, dns_query({"m1.tuyaus.com"}), true, t0 + second);
    CHECK(store.identity(plug)->type == "camera");

    // "unknown" in the policy means no type given: the rules decide.
    store.set_policy_type(plug, policy::DeviceType::unknown);
    CHECK(store.identity(plug)->type == "plug");

    store.set_policy_type(plug, policy::DeviceType::hub);
    CHECK(store.identity(plug)->type == "hub");
    store.clear_policy_types();
    CHECK(store.identity(plug)->type == "plug");
    CHECK(store.identity(plug)->type_source == "rules");

    // Named before it is first seen: the type applies on first sight.
    auto later = mac("24:6f:28:00:00:02");
    store.set_policy_type(later, policy::DeviceType::thermostat);
    CHECK_FALSE(store.identity(later));
    store.observe_dns(later, dns_query({"a1.tuyaus.com"}), true, t0);
    CHECK(store.identity(later)->type == "thermostat");
}

TEST_CASE("new rules (or none) reclassify every device") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto plug = mac("24:6f:28:00:00:03");
    store.observe_dns(plug, dns_query({"a1.tuyaus.com"}), true, t0);
    CHECK(store.identity(plug)->type == "plug");
    store.clear_dirty();
    store.set_types(nullptr);
    CHECK(store.identity(plug)->type == "unknown");
    CHECK(store.identity(plug)->type_evidence.empty());
    CHECK(store.dirty());

    auto strict = DeviceTypes::load_text(
        "min_score: 100\nrules:\n  - {type: plug, weight: 20, vendor: espressif}\n", "strict.yaml");
    REQUIRE(strict.rules);
    store.set_types(&*strict.rules);
    auto id = store.identity(plug);
    CHECK(id->type == "unknown");
    CHECK(evidence_has(*id, {"below min_score 100"}));
}

// ---- the DNS name cache ----

TEST_CASE("DNS answers to a device map addresses to names, A and AAAA") {
    IdentityStore store(nullptr, nullptr);
    auto device = mac("02:00:00:00:00:01");
    store.observe_dns(
        device, dns_answer("cdn.example.com", {a_record("cdn.example.com", "198.18.7.1", 300)}),
        false, t0);
    store.observe_dns(
        device, dns_answer("cdn.example.com", {a_record("cdn.example.com", "fd00::7:1", 300)}, 28),
        false, t0);
    CHECK(store.name_for(device, ip("198.18.7.1"), t0 + second) == "cdn.example.com");
    CHECK(store.name_for(device, ip("fd00::7:1"), t0 + second) == "cdn.example.com");
    CHECK_FALSE(store.name_for(device, ip("198.18.7.2"), t0 + second));
    // Another device did not look it up.
    CHECK_FALSE(store.name_for(mac("02:00:00:00:00:02"), ip("198.18.7.1"), t0 + second));
    CHECK(store.cached_names(device) == 2);
    // Answers go to the cache, not to the names the device looked up (queries do that).
    CHECK(store.identity(device)->dns_names.empty());
}

TEST_CASE("a CNAME chain maps the address to the name the device asked for") {
    IdentityStore store(nullptr, nullptr);
    auto device = mac("02:00:00:00:00:01");
    store.observe_dns(device,
                      dns_answer("www.shop.example",
                                 {
                                     cname("www.shop.example", "shop.example.cdn.test", 3600),
                                     cname("shop.example.cdn.test", "edge-17.cdn.test", 300),
                                     a_record("edge-17.cdn.test", "198.18.20.17", 60),
                                     a_record("edge-17.cdn.test", "198.18.20.18", 60),
                                     // Glue for a name nobody asked for: not cached.
                                     a_record("ns1.cdn.test", "198.18.20.53", 3600),
                                 }),
                      false, t0);
    CHECK(store.name_for(device, ip("198.18.20.17"), t0 + second) == "www.shop.example");
    CHECK(store.name_for(device, ip("198.18.20.18"), t0 + second) == "www.shop.example");
    CHECK_FALSE(store.name_for(device, ip("198.18.20.53"), t0 + second));
    // The shortest TTL along the chain (60 s) is the entry's.
    CHECK(store.name_for(device, ip("198.18.20.17"), t0 + 59 * second));
    CHECK_FALSE(store.name_for(device, ip("198.18.20.17"), t0 + 61 * second));
}

TEST_CASE("a CNAME loop is followed a bounded number of times") {
    IdentityStore store(nullptr, nullptr);
    auto device = mac("02:00:00:00:00:01");
    store.observe_dns(device,
                      dns_answer("a.loop.test", {cname("a.loop.test", "b.loop.test", 60),
                                                 cname("b.loop.test", "a.loop.test", 60),
                                                 a_record("a.loop.test", "198.18.30.1", 60)}),
                      false, t0);
    // Whatever the walk ends on, it ended; and it is only cached under the asked name.
    auto name = store.name_for(device, ip("198.18.30.1"), t0 + second);
    CHECK((!name || *name == "a.loop.test"));
}

TEST_CASE("TTLs: expiry, the 30 s floor and the 1 day ceiling") {
    IdentityStore store(nullptr, nullptr);
    auto device = mac("02:00:00:00:00:01");
    store.observe_dns(device, dns_answer("short.test", {a_record("short.test", "198.18.40.1", 5)}),
                      false, t0);
    store.observe_dns(device,
                      dns_answer("long.test", {a_record("long.test", "198.18.40.2", 7 * 86400)}),
                      false, t0);
    store.observe_dns(device, dns_answer("hour.test", {a_record("hour.test", "198.18.40.3", 3600)}),
                      false, t0);
    CHECK(store.name_for(device, ip("198.18.40.1"), t0 + 29 * second) == "short.test");
    CHECK_FALSE(store.name_for(device, ip("198.18.40.1"), t0 + 31 * second));
    CHECK(store.name_for(device, ip("198.18.40.2"), t0 + 86'399 * second) == "long.test");
    CHECK_FALSE(store.name_for(device, ip("198.18.40.2"), t0 + 86'401 * second));
    CHECK(store.cached_names(device) == 1);  // expired entries went on lookup
    store.expire_names(t0 + 3601 * second);
    CHECK(store.cached_names(device) == 0);
    CHECK(store.cached_names() == 0);
}

TEST_CASE("failed answers and queries do not fill the cache; a new answer refreshes an entry") {
    IdentityStore store(nullptr, nullptr);
    auto device = mac("02:00:00:00:00:01");
    auto nx = dns_answer("gone.test", {a_record("gone.test", "198.18.50.1", 60)});
    nx.rcode = 3;
    store.observe_dns(device, nx, false, t0);
    auto query_with_answer = dns_answer("q.test", {a_record("q.test", "198.18.50.2", 60)});
    query_with_answer.response = false;
    store.observe_dns(device, query_with_answer, false, t0);
    CHECK(store.cached_names() == 0);

    store.observe_dns(device, dns_answer("one.test", {a_record("one.test", "198.18.50.3", 60)}),
                      false, t0);
    store.observe_dns(device, dns_answer("two.test", {a_record("two.test", "198.18.50.3", 600)}),
                      false, t0 + 30 * second);
    CHECK(store.cached_names(device) == 1);
    CHECK(store.name_for(device, ip("198.18.50.3"), t0 + 300 * second) == "two.test");
}

TEST_CASE("a device answering 100,000 names keeps at most the per-device cap") {
    IdentityStore store(nullptr, nullptr);  // default limits: 512 per device
    auto flooder = mac("02:00:00:00:00:66");
    auto quiet = mac("02:00:00:00:00:01");
    store.observe_dns(quiet, answer_for("quiet.test", ip("fd00::1")), false, t0);
    for (uint32_t i = 0; i < 100'000; ++i)
        store.observe_dns(flooder, answer_for("n" + std::to_string(i) + ".flood.test", numbered(i)),
                          false, t0 + i);
    CHECK(store.cached_names(flooder) == 512);
    CHECK(store.cached_names() == 513);
    // The most recent stay, the oldest went; the quiet device kept its own.
    CHECK(store.name_for(flooder, numbered(99'999), t0 + 100'000) == "n99999.flood.test");
    CHECK(store.name_for(flooder, numbered(99'488), t0 + 100'000) == "n99488.flood.test");
    CHECK_FALSE(store.name_for(flooder, numbered(99'487), t0 + 100'000));
    CHECK_FALSE(store.name_for(flooder, numbered(0), t0 + 100'000));
    CHECK(store.name_for(quiet, ip("fd00::1"), t0 + 100'000) == "quiet.test");
}

TEST_CASE("the total cap takes from the biggest caches, not from a quiet device") {
    IdentityStore store(nullptr, nullptr,
                        {.devices = 16, .names_per_device = 512, .names_total = 1000});
    auto answer = [&](const net::Mac& device, uint32_t i) {
        store.observe_dns(device, answer_for("h" + std::to_string(i) + ".test", numbered(i)), false,
                          t0);
    };
    auto quiet = mac("02:00:00:00:00:01"), loud1 = mac("02:00:00:00:00:02"),
         loud2 = mac("02:00:00:00:00:03");
    for (uint32_t i = 0; i < 300; ++i) answer(quiet, i);
    for (uint32_t i = 0; i < 20'000; ++i) answer(loud1, 100'000 + i);
    for (uint32_t i = 0; i < 20'000; ++i) answer(loud2, 200'000 + i);
    CHECK(store.cached_names() <= 1000);
    CHECK(store.cached_names(quiet) == 300);
    CHECK(store.cached_names(loud1) + store.cached_names(loud2) == 700);
    CHECK(store.name_for(quiet, numbered(0), t0 + second) == "h0.test");
}

TEST_CASE("names a device looks up: most recent first, distinct, at most 64") {
    IdentityStore store(nullptr, nullptr);
    auto device = mac("02:00:00:00:00:01");
    for (int i = 0; i < 100; ++i)
        store.observe_dns(device, dns_query({("n" + std::to_string(i) + ".test").c_str()}), true,
                          t0 + i);
    auto names = store.identity(device)->dns_names;
    REQUIRE(names.size() == max_dns_names);
    CHECK(names.front() == "n99.test");
    CHECK(names.back() == "n36.test");
    // Looking one up again moves it to the front, once.
    store.observe_dns(device, dns_query({"n50.test"}), true, t0 + 200);
    names = store.identity(device)->dns_names;
    CHECK(names.size() == max_dns_names);
    CHECK(names.front() == "n50.test");
    CHECK(std::count(names.begin(), names.end(), "n50.test") == 1);
    // A response from the device (it runs a resolver?) is not a lookup.
    auto response = dns_query({"other.test"});
    response.response = true;
    store.observe_dns(device, response, true, t0 + 300);
    CHECK_FALSE(contains(store.identity(device)->dns_names, "other.test"));
}

// ---- bounds against hostile input ----

TEST_CASE("hostile strings are made printable (\\xNN) and cut; lists are capped") {
    IdentityStore store(nullptr, nullptr);
    auto device = mac("02:00:00:00:00:01");
    std::string hostile = "evil\x01\x1b[31m\xff\xfe" + std::string(1000, 'A');
    store.observe_dhcp4(dhcp_request(device, hostile, "\xc3\xa9t\xc3\xa9", ""), false, t0);
    auto id = store.identity(device);
    CHECK(id->hostname.size() == max_text_bytes);
    CHECK(id->hostname.starts_with("evil\\x01\\x1b[31m\\xff\\xfeAAA"));
    CHECK(id->vendor_class == "\xc3\xa9t\xc3\xa9");  // valid UTF-8 is kept
    CHECK_NOTHROW((void)to_json(*id).dump());

    for (int i = 0; i < 100; ++i) {
        std::string name = "svc" + std::to_string(i);
        store.observe_mdns(
            device,
            mdns_announcement({ptr("_" + name + "._tcp.local", "x._" + name + "._tcp.local"),
                               txt("x._" + name + "._tcp.local", {"md=model " + name})}),
            t0 + i);
        store.observe_ssdp(device, ssdp_notify("server " + std::to_string(i)), t0 + i);
    }
    id = store.identity(device);
    CHECK(id->mdns_services.size() == max_mdns_services);
    CHECK(id->mdns_services.front() == "_svc0._tcp");
    CHECK(id->models.size() == max_models);
}

TEST_CASE("the number of identities is bounded; the least recently seen goes") {
    IdentityStore store(nullptr, nullptr, {.devices = 4});
    store.set_policy_type(mac("02:00:00:00:00:00"), policy::DeviceType::camera);
    for (int i = 0; i < 10; ++i) {
        net::Mac m = mac("02:00:00:00:00:00");
        m.bytes[5] = static_cast<uint8_t>(i);
        store.observe_dns(m, dns_query({"x.test"}), true, t0 + i);
    }
    CHECK(store.size() == 4);
    // The policy's named device stays although it is the oldest.
    CHECK(store.identity(mac("02:00:00:00:00:00")));
    CHECK(store.identity(mac("02:00:00:00:00:09")));
    CHECK_FALSE(store.identity(mac("02:00:00:00:00:01")));
}

TEST_CASE("broadcast and multicast MACs are no devices") {
    IdentityStore store(nullptr, nullptr);
    store.observe_dhcp4(dhcp_request(mac("ff:ff:ff:ff:ff:ff"), "x", "", ""), false, t0);
    store.observe_dhcp4(dhcp_request(net::Mac{}, "x", "", ""), false, t0);
    store.observe_dns(mac("01:00:5e:00:00:fb"), dns_query({"x.test"}), true, t0);
    store.observe_ssdp(mac("01:00:5e:7f:ff:fa"), ssdp_notify("x"), t0);
    CHECK(store.size() == 0);
}

// ---- dirty tracking and persistence ----

TEST_CASE("dirty only after a change worth saving") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto device = mac("24:6f:28:00:00:09");
    CHECK_FALSE(store.dirty());
    auto request = dhcp_request(device, "esp-plug", "", "1,3,28,6");
    store.observe_dhcp4(request, false, t0);
    CHECK(store.dirty());
    store.clear_dirty();
    store.observe_dhcp4(request, false, t0 + second);  // nothing new
    CHECK_FALSE(store.dirty());
    store.observe_dns(device, dns_query({"a1.tuyaus.com"}), true, t0 + 2 * second);
    CHECK(store.dirty());
    store.clear_dirty();
    store.observe_dns(device, dns_query({"a1.tuyaus.com"}), true, t0 + 3 * second);  // known
    CHECK_FALSE(store.dirty());
    store.observe_dns(device,
                      dns_answer("a1.tuyaus.com", {a_record("a1.tuyaus.com", "198.18.9.1", 60)}),
                      false, t0 + 3 * second);  // the cache is not persisted
    CHECK_FALSE(store.dirty());
    request.hostname = "esp-plug-2";
    store.observe_dhcp4(request, false, t0 + 4 * second);
    CHECK(store.dirty());
    CHECK(store.identity(device)->updated_ms == t0 + 4 * second);
}

TEST_CASE("identities round-trip through JSON and the store's save/load") {
    World w;
    IdentityStore store(&w.oui, &w.types);
    auto camera = mac("44:47:cc:12:34:56");
    auto phone = mac("da:a1:19:5c:3e:07");
    store.observe_dhcp4(dhcp_request(camera, "IPC", "udhcp 1.30.1", "1,3,6,12,15,28,42"), false,
                        t0);
    store.observe_dhcp4(dhcp_reply(camera, "198.18.1.23", 5), true, t0);
    store.observe_dhcp4(
        dhcp_request(phone, "android-3f2a9c1d5e6b7a80", "", "1,3,6,15,26,28,51,58,59,43"), false,
        t0);
    store.observe_dns(phone, dns_query({"play.googleapis.com"}), true, t0 + second);
    store.observe_mdns(phone, mdns_announcement({txt("x._googlecast._tcp.local", {"md=Pixel"})}),
                       t0);
    store.set_policy_type(camera, policy::DeviceType::camera);
    auto saved = store.save();
    REQUIRE(saved.size() == 2);
    CHECK(saved[camera]["leased_ip4"] == "198.18.1.23");
    CHECK(saved[camera]["type_source"] == "policy");

    // Through text, as the inventory file holds it.
    std::map<net::Mac, nlohmann::json> reread;
    for (const auto& [m, j] : saved) reread[m] = nlohmann::json::parse(j.dump());
    IdentityStore restarted(&w.oui, &w.types);
    restarted.set_policy_type(camera, policy::DeviceType::camera);
    restarted.load(reread);
    CHECK_FALSE(restarted.dirty());  // nothing changed on the way
    CHECK(restarted.identity(camera) == store.identity(camera));
    CHECK(restarted.identity(phone) == store.identity(phone));
    CHECK(identity_from_json(to_json(*store.identity(phone))) == *store.identity(phone));

    // Loaded without the policy naming the camera: the rules classify it again.
    IdentityStore unnamed(&w.oui, &w.types);
    unnamed.load(reread);
    CHECK(unnamed.identity(camera)->type == "camera");
    CHECK(unnamed.identity(camera)->type_source == "rules");
    CHECK(unnamed.dirty());
}

TEST_CASE("identity_from_json survives missing keys, wrong kinds and oversized values") {
    CHECK(identity_from_json(nlohmann::json::object()) == Identity{});
    CHECK(identity_from_json(nlohmann::json::array()) == Identity{});
    CHECK(identity_from_json(nullptr) == Identity{});
    nlohmann::json odd = {
        {"hostname", 5},
        {"dns_names", "not-a-list"},
        {"models", {"a", 7, "a", std::string(400, 'm')}},
        {"type", "toaster"},
        {"type_source", "magic"},
        {"leased_ip4", "fd00::1"},
        {"first_seen_ms", "yesterday"},
        {"updated_ms", 1234},
        {"vendor_class", "MSFT 5.0"},
    };
    nlohmann::json many = nlohmann::json::array();
    for (int i = 0; i < 1000; ++i) many.push_back("n" + std::to_string(i));
    odd["mdns_services"] = many;
    auto id = identity_from_json(odd);
    CHECK(id.hostname.empty());
    CHECK(id.dns_names.empty());
    CHECK(id.models == std::vector<std::string>{"a", std::string(max_text_bytes, 'm')});
    CHECK(id.type == "unknown");
    CHECK(id.type_source.empty());
    CHECK_FALSE(id.leased_ip4);  // not an IPv4 address
    CHECK(id.first_seen_ms == 0);
    CHECK(id.updated_ms == 1234);
    CHECK(id.vendor_class == "MSFT 5.0");
    CHECK(id.mdns_services.size() == max_mdns_services);
}
