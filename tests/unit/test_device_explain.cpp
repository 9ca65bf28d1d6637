// What `warden devices` shows of a device's identity: the view's JSON (identity, type reason,
// peer names), names.json read tolerantly, `--explain` (facts with their sources, matched
// rules with their file lines, scores, winner, policy override) and table cells cut short.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "cli/explain.h"
#include "cli/format.h"
#include "identity/identity.h"
#include "identity/types.h"
#include "view/devices.h"

using namespace warden;
using nlohmann::json;

namespace {

const char* const rules_yaml = R"(types: [camera, speaker, plug, phone, unknown]
min_score: 20
rules:
  - {type: camera, weight: 40, vendor_class: "^warden-testbed-1$"}
  - {type: speaker, weight: 30, hostname: "^dev2$"}
  - {type: plug, weight: 10, dns_name: "tuya"}
  - {type: camera, weight: -5, dns_name: "example\\.test$"}
  - {type: phone, weight: 15, random_mac: true}
)";

identity::DeviceTypes rules() {
    auto loaded = identity::DeviceTypes::load_text(rules_yaml, "types.yaml");
    for (const auto& e : loaded.errors) INFO(e.str());
    REQUIRE(loaded.rules);
    return *loaded.rules;
}

net::Mac mac(const char* text) { return *net::Mac::parse(text); }

// The identity `warden run` would have saved for dev1 of the testbed.
identity::Identity dev1_identity(const identity::DeviceTypes& types) {
    identity::Identity id;
    id.random_mac = true;  // 02:... is locally administered
    id.hostname = "dev1";
    id.vendor_class = "warden-testbed-1";
    id.dhcp_fingerprint = "1,28,2,3,15,6,12";
    id.leased_ip4 = net::IpAddr::parse("198.18.0.101");
    id.dns_names = {"cloud.example.test", "www.inet.test"};
    auto c = types.classify(id);
    id.type = c.type;
    id.type_source = c.type == "unknown" ? "" : "rules";
    id.type_score = c.score;
    id.type_evidence = c.evidence;
    return id;
}

const json& fact(const json& explanation, const std::string& name) {
    for (const auto& f : explanation["facts"])
        if (f["fact"] == name) return f;
    FAIL("no fact " << name);
    static json none;
    return none;
}

}  // namespace

TEST_CASE("shorten cuts long text on a character boundary and says so") {
    using cli::shorten;
    CHECK(shorten("Espressif Inc.", 20) == "Espressif Inc.");
    CHECK(shorten("Hangzhou Hikvision Digital Technology", 12) == "Hangzhou ...");
    CHECK(shorten("abcdef", 6) == "abcdef");
    CHECK(shorten("abcdefg", 6) == "abc...");
    CHECK(shorten("abc", 2) == "..");
    // "é" is two bytes: counted as one character, never split.
    CHECK(shorten("caméra-salon", 7) == "cam\xc3\xa9...");
    CHECK(shorten("caméra", 6) == "caméra");
}

TEST_CASE("names.json is read tolerantly and keyed by the address as warden prints it") {
    json names = json::parse(R"({
        "02:00:00:00:01:01": {"198.18.64.20": "cloud.example.test", "fd00:64:0:0::10": "cdn.inet.test",
                              "not an address": "x", "198.18.64.21": 7, "198.18.64.22": ""},
        "not a mac": {"198.18.64.20": "y"},
        "02:00:00:00:01:02": "not an object"
    })");
    auto parsed = view::parse_peer_names(names);
    REQUIRE(parsed.size() == 1);
    const auto& dev1 = parsed.at(mac("02:00:00:00:01:01"));
    CHECK(dev1.size() == 2);
    CHECK(dev1.at("198.18.64.20") == "cloud.example.test");
    CHECK(dev1.at("fd00:64::10") == "cdn.inet.test");
    CHECK(view::parse_peer_names(json()).empty());
    CHECK(view::parse_peer_names(json::array()).empty());
}

TEST_CASE("the device JSON carries the whole identity, the type reason and the peer names") {
    auto types = rules();
    auto id = dev1_identity(types);
    REQUIRE(id.type == "camera");

    std::map<net::Mac, store::DeviceRecord> inventory;
    auto& rec = inventory[mac("02:00:00:00:01:01")];
    rec.mac = mac("02:00:00:00:01:01");
    rec.identity = identity::to_json(id);
    std::map<net::Mac, std::map<std::string, std::string>> names{
        {mac("02:00:00:00:01:01"), {{"198.18.64.20", "cloud.example.test"}}}};
    view::DeviceSources sources;
    sources.inventory = &inventory;
    sources.peer_names = &names;
    sources.maps_pinned = false;
    auto devices = view::join_devices(sources);
    REQUIRE(devices.size() == 1);
    json j = view::to_json(devices[0]);

    CHECK(j["name"] == "dev1");  // no policy or inventory name: the hostname
    CHECK(j["hostname"] == "dev1");
    CHECK(j["type"] == "camera");
    CHECK(j["random_mac"] == true);
    CHECK(j["identity"]["vendor_class"] == "warden-testbed-1");
    CHECK(j["identity"]["dhcp_fingerprint"] == "1,28,2,3,15,6,12");
    CHECK(j["identity"]["leased_ip4"] == "198.18.0.101");
    CHECK(j["identity"]["dns_names"] == json({"cloud.example.test", "www.inet.test"}));
    CHECK(j["identity"]["type_source"] == "rules");
    CHECK(j["peer_names"]["198.18.64.20"] == "cloud.example.test");
    std::string reason = j["type_reason"];
    CHECK(reason.rfind("rules: score 35 (", 0) == 0);
    CHECK(reason.find("vendor_class \"warden-testbed-1\" matches /^warden-testbed-1$/: camera +40") !=
          std::string::npos);

    // A device with no identity yet: null, not an empty object pretending to know.
    inventory[mac("02:00:00:00:01:02")].mac = mac("02:00:00:00:01:02");
    devices = view::join_devices(sources);
    for (const auto& d : devices)
        if (d.mac == mac("02:00:00:00:01:02")) {
            json k = view::to_json(d);
            CHECK(k["identity"].is_null());
            CHECK(k["type_reason"].is_null());
            CHECK(k["peer_names"] == json::object());
        }
}

TEST_CASE("type reasons name the policy or the rules") {
    CHECK(view::type_reason(json()) == "");
    CHECK(view::type_reason(json::parse(R"J({"type":"tv","type_source":"policy",
        "type_evidence":["named in the policy as tv","the rules alone would say camera (score 40)"]})J")) ==
          "policy: named in the policy as tv");
    CHECK(view::type_reason(json::parse(R"({"type":"unknown","type_source":"",
        "type_evidence":["no rule matched"]})")) == "rules: no rule matched");
}

TEST_CASE("--explain lists each fact with its source and each matched rule with its line") {
    auto types = rules();
    auto id = dev1_identity(types);
    cli::ExplainInput in;
    in.mac = mac("02:00:00:00:01:01");
    in.name = "dev1";
    in.identity = identity::to_json(id);
    in.rules = &types;
    in.rules_path = "types.yaml";
    in.ieee_data = "/usr/share/ieee-data";
    in.peer_names = {{"198.18.64.20", "cloud.example.test"}};
    json e = cli::explain_device(in);

    CHECK(e["type"] == "camera");
    CHECK(e["decided_by"] == "rules");
    CHECK(fact(e, "hostname")["value"] == "dev1");
    CHECK(fact(e, "hostname")["source"].get<std::string>().find("DHCP option 12") != std::string::npos);
    CHECK(fact(e, "vendor_class")["source"].get<std::string>().find("option 60") != std::string::npos);
    CHECK(fact(e, "dhcp_fingerprint")["value"] == "1,28,2,3,15,6,12");
    CHECK(fact(e, "vendor")["value"].is_null());
    CHECK(fact(e, "vendor")["source"].get<std::string>().find("locally administered") != std::string::npos);
    CHECK(fact(e, "leased_ip4")["value"] == "198.18.0.101");
    CHECK(fact(e, "peer_names")["value"]["198.18.64.20"] == "cloud.example.test");

    const json& matched = e["rules"]["matched"];
    REQUIRE(matched.size() == 3);  // vendor class, the example.test name, the random MAC
    CHECK(matched[0] == json{{"line", 4}, {"type", "camera"}, {"weight", 40}, {"field", "vendor_class"},
                             {"pattern", "^warden-testbed-1$"}, {"value", "warden-testbed-1"}});
    CHECK(matched[1]["line"] == 7);
    CHECK(matched[1]["value"] == "cloud.example.test");  // the first name that matches
    CHECK(matched[1]["weight"] == -5);
    CHECK(matched[2]["field"] == "random_mac");
    CHECK(e["rules"]["scores"] == json{{"camera", 35}, {"phone", 15}});
    CHECK(e["rules"]["winner"] == json{{"type", "camera"}, {"score", 35}});
    CHECK(e["notes"].empty());

    std::ostringstream text;
    cli::print_explanation(e, text);
    std::string out = text.str();
    INFO(out);
    CHECK(out.find("type: camera (by the rules, score 35)") != std::string::npos);
    CHECK(out.find("vendor_class  warden-testbed-1") != std::string::npos);
    CHECK(out.find("/^warden-testbed-1$/") != std::string::npos);
    CHECK(out.find("scores: camera 35 phone 15") != std::string::npos);
    CHECK(out.find("winner: camera (score 35, at least min_score 20)") != std::string::npos);
}

TEST_CASE("--explain: the policy's type overrides the rules, and a stale record is pointed out") {
    auto types = rules();
    auto id = dev1_identity(types);
    policy::NamedDevice named{mac("02:00:00:00:01:01"), "Front door", policy::DeviceType::speaker, ""};
    cli::ExplainInput in;
    in.mac = named.mac;
    in.identity = identity::to_json(id);  // recorded by the rules as camera
    in.named = &named;
    in.rules = &types;
    in.rules_path = "types.yaml";
    json e = cli::explain_device(in);
    CHECK(e["type"] == "speaker");
    CHECK(e["decided_by"] == "policy");
    CHECK(e["policy"] == json{{"name", "Front door"}, {"type", "speaker"}});
    CHECK(e["rules"]["winner"]["type"] == "camera");  // what the rules alone say, still shown
    REQUIRE(e["notes"].size() == 1);
    CHECK(e["notes"][0].get<std::string>().find("last recorded camera") != std::string::npos);
    std::ostringstream text;
    cli::print_explanation(e, text);
    CHECK(text.str().find("policy: names it \"Front door\" with type speaker, which overrides the rules") !=
          std::string::npos);
}

TEST_CASE("--explain without rules or identity says what is missing") {
    cli::ExplainInput in;
    in.mac = mac("a4:cf:12:00:00:09");
    in.rules_path = "/nowhere/device-types.yaml";
    in.rules_error = "cannot read the device-type rules: No such file or directory";
    in.ieee_data = "/usr/share/ieee-data";
    json e = cli::explain_device(in);
    CHECK(e["identity_known"] == false);
    CHECK(e["rules"]["loaded"] == false);
    CHECK(e["type"] == "unknown");
    CHECK(fact(e, "random_mac")["value"] == false);
    CHECK(fact(e, "vendor")["source"].get<std::string>().find("prefix a4:cf:12") != std::string::npos);
    REQUIRE(e["notes"].size() == 1);
    std::ostringstream text;
    cli::print_explanation(e, text);
    CHECK(text.str().find("(not loaded: cannot read the device-type rules") != std::string::npos);
}
