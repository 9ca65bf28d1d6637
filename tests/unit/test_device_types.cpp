// Device-type rules (config/device-types.yaml): the shipped file loads; every kind of
// mistake is reported with its position; scoring, ties, min_score and evidence.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <string>

#include "identity/types.h"
#include "policy/policy.h"
#include "support/deadline.h"
#include "support/temp_dir.h"
#include "support/skip.h"

using namespace warden;
using identity::DeviceTypes;
using identity::Field;
using identity::Identity;

namespace {

DeviceTypes rules_from(const std::string& yaml) {
    auto loaded = DeviceTypes::load_text(yaml, "types.yaml");
    for (const auto& e : loaded.errors) INFO(e.str());
    REQUIRE(loaded.errors.empty());
    REQUIRE(loaded.rules);
    return *loaded.rules;
}

// The errors of a file that must not load, as "line:column key: message" lines.
std::vector<policy::Diagnostic> errors_of(const std::string& yaml) {
    auto loaded = DeviceTypes::load_text(yaml, "types.yaml");
    CHECK_FALSE(loaded.rules);
    return loaded.errors;
}

bool has_error(const std::vector<policy::Diagnostic>& errors, int line, int column,
               const std::string& key, const std::string& words) {
    for (const auto& e : errors)
        if (e.line == line && e.column == column && e.key == key &&
            e.message.find(words) != std::string::npos)
            return true;
    std::string all;
    for (const auto& e : errors) all += e.str() + "\n";
    MESSAGE("looking for " << line << ":" << column << " " << key << " '" << words << "' in:\n"
                           << all);
    return false;
}

const char* const small_rules = R"(types: [camera, speaker, plug, phone, unknown]
min_score: 20
rules:
  - {type: plug, weight: 20, vendor: "espressif"}
  - {type: camera, weight: 20, hostname: "cam"}
  - {type: plug, weight: 15, dns_name: "tuya"}
  - {type: phone, weight: 15, random_mac: true}
  - {type: speaker, weight: 10, model: "sonos"}
  - {type: speaker, weight: -30, hostname: "notaspeaker"}
)";

}  // namespace

TEST_CASE("the shipped config/device-types.yaml loads with no errors") {
    auto loaded = DeviceTypes::load_file(WARDEN_SOURCE_DIR "/config/device-types.yaml");
    for (const auto& e : loaded.errors) INFO(e.str());
    REQUIRE(loaded.errors.empty());
    REQUIRE(loaded.rules);
    const auto& rules = *loaded.rules;
    CHECK(rules.types() == std::vector<std::string>{"camera", "speaker", "tv", "plug", "thermostat",
                                                    "hub", "phone", "laptop", "printer", "console",
                                                    "unknown"});
    CHECK(rules.min_score() == 20);
    CHECK(rules.rules().size() >= 40);
    // Every type but unknown has rules, and every match key is used somewhere.
    for (const auto& type : rules.types()) {
        if (type == "unknown") continue;
        CHECK_MESSAGE(std::any_of(rules.rules().begin(), rules.rules().end(),
                                  [&](const auto& r) { return r.type == type; }),
                      "no rule for " << type);
    }
    for (Field f : {Field::vendor, Field::hostname, Field::vendor_class, Field::dhcp_fingerprint,
                    Field::mdns_service, Field::dns_name, Field::model, Field::random_mac}) {
        CHECK_MESSAGE(std::any_of(rules.rules().begin(), rules.rules().end(),
                                  [&](const auto& r) { return r.field == f; }),
                      "no rule on " << identity::to_string(f));
    }
}

TEST_CASE("a rule counts once per device, however many of its values match") {
    auto rules = rules_from(small_rules);
    Identity id;
    id.dns_names = {"a1.tuyaus.com", "m1.tuyaus.com", "a2.tuyaeu.com"};
    auto c = rules.classify(id);
    CHECK(c.type == "unknown");  // 15 < min_score 20
    CHECK(c.score == 0);
    REQUIRE(c.evidence.size() == 2);
    CHECK(c.evidence[0] == "dns_name \"a1.tuyaus.com\" matches /tuya/: plug +15");
    CHECK(c.evidence[1] == "best score 15 (plug) is below min_score 20: unknown");

    id.vendor = "Espressif Inc.";
    c = rules.classify(id);
    CHECK(c.type == "plug");
    CHECK(c.score == 35);
    REQUIRE(c.evidence.size() == 2);
    CHECK(c.evidence[0] == "vendor \"Espressif Inc.\" matches /espressif/: plug +20");
    CHECK(c.evidence[1] == "dns_name \"a1.tuyaus.com\" matches /tuya/: plug +15");
}

TEST_CASE("patterns are case-insensitive and searched, not full-matched") {
    auto rules = rules_from(small_rules);
    Identity id;
    id.hostname = "Garden-CAMERA-2";
    auto c = rules.classify(id);
    CHECK(c.type == "camera");
    CHECK(c.evidence.at(0) == "hostname \"Garden-CAMERA-2\" matches /cam/: camera +20");
}

TEST_CASE("a tie goes to the type listed first; nothing matching is unknown") {
    auto rules = rules_from(small_rules);
    Identity id;
    CHECK(rules.classify(id).type == "unknown");
    CHECK(rules.classify(id).evidence == std::vector<std::string>{"no rule matched"});

    id.vendor = "Espressif Inc.";  // plug 20
    id.hostname = "cam-1";         // camera 20: camera is listed before plug
    auto c = rules.classify(id);
    CHECK(c.type == "camera");
    CHECK(c.score == 20);

    // The same rules with the order of types swapped: now plug wins the tie.
    std::string swapped = small_rules;
    swapped.replace(swapped.find("[camera, speaker, plug"), 22, "[plug, speaker, camera");
    CHECK(rules_from(swapped).classify(id).type == "plug");
}

TEST_CASE("random_mac rules and negative weights") {
    auto rules = rules_from(small_rules);
    Identity id;
    id.random_mac = true;
    id.models = {"Sonos One"};
    auto c = rules.classify(id);
    CHECK(c.type == "unknown");  // phone 15, speaker 10
    CHECK(c.evidence.at(0) == "MAC is randomised (locally administered): phone +15");
    CHECK(c.evidence.at(1) == "model \"Sonos One\" matches /sonos/: speaker +10");

    id.models.push_back("Sonos Five");
    id.hostname = "cam";  // camera 20
    id.vendor = "Espressif";
    CHECK(rules.classify(id).type == "camera");  // camera 20 ties plug 20, camera first

    Identity against;
    against.hostname = "notaspeaker-cam";
    c = rules.classify(against);
    CHECK(c.type == "camera");
    CHECK(std::find(c.evidence.begin(), c.evidence.end(),
                    "hostname \"notaspeaker-cam\" matches /notaspeaker/: speaker -30") !=
          c.evidence.end());
}

TEST_CASE("empty values match nothing, not even a pattern that matches anything") {
    auto rules = rules_from("rules:\n  - {type: camera, weight: 30, hostname: \".*\"}\n");
    Identity id;
    CHECK(rules.classify(id).type == "unknown");
    id.hostname = "x";
    CHECK(rules.classify(id).type == "camera");
}

TEST_CASE("matters() tells which values a rule looks at") {
    auto rules = rules_from(small_rules);
    CHECK(rules.matters(Field::dns_name, "a1.TUYAus.com"));
    CHECK_FALSE(rules.matters(Field::dns_name, "example.com"));
    CHECK_FALSE(rules.matters(Field::hostname, "a1.tuyaus.com"));  // wrong field
    CHECK(rules.matters(Field::model, "Sonos Play:1"));
}

TEST_CASE("without a types list every device type is allowed, in the policy's order") {
    auto rules = rules_from("rules:\n  - {type: console, weight: 50, vendor: nintendo}\n");
    CHECK(rules.types().front() == "camera");
    CHECK(rules.types().back() == "unknown");
    CHECK(rules.min_score() == 20);
    Identity id;
    id.vendor = "Nintendo Co.,Ltd";
    CHECK(rules.classify(id).type == "console");
}

// ---- every kind of mistake, with its position ----

TEST_CASE("a YAML syntax error is reported at its position") {
    auto errors = errors_of("rules:\n  - {type: camera, weight: 40, vendor: \"hik\"\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].line >= 2);
    CHECK(errors[0].file == "types.yaml");
}

TEST_CASE("text that is not UTF-8 or holds control characters is refused at its line") {
    auto errors = errors_of("rules:\n  - {type: camera, weight: 40, vendor: \"Caf\xe9\"}\n");
    CHECK(has_error(errors, 2, 44, "", "byte 0xe9 is not valid UTF-8"));
    errors = errors_of("rules:\n  - {type: camera, weight: 40, hostname: \"a\\x1bb\"}\n");
    CHECK(has_error(errors, 2, 42, "rules[0].hostname", "control character 0x1b (escape)"));
}

TEST_CASE("unknown keys, at the top and in a rule, are errors at the key") {
    auto errors = errors_of(
        "min_scor: 20\n"
        "rules:\n"
        "  - type: camera\n"
        "    weight: 40\n"
        "    vendr: hikvision\n");
    CHECK(has_error(errors, 1, 1, "min_scor", "unknown key"));
    CHECK(has_error(errors, 5, 5, "rules[0].vendr", "unknown key"));
    // The rule also lacks a match key now, reported at the rule.
    CHECK(has_error(errors, 3, 5, "rules[0]", "no match key"));
    CHECK(errors.size() == 3);
}

TEST_CASE("a misspelt key in the rules file gets a \"did you mean\", as in the policy") {
    auto errors = errors_of(
        "min_scroe: 20\n"
        "rules:\n"
        "  - {type: camera, weight: 40, vendr: hik}\n"
        "  - {type: camera, wieght: 40, dhcp_fingerprnt: '1,3,6'}\n");
    CHECK(has_error(errors, 1, 1, "min_scroe", "unknown key (did you mean 'min_score'?); expected one of: types, min_score, rules"));
    CHECK(has_error(errors, 3, 32, "rules[0].vendr", "unknown key (did you mean 'vendor'?)"));
    CHECK(has_error(errors, 4, 20, "rules[1].wieght", "(did you mean 'weight'?)"));
    CHECK(has_error(errors, 4, 32, "rules[1].dhcp_fingerprnt", "(did you mean 'dhcp_fingerprint'?)"));
    // Nothing close: no suggestion.
    auto far = errors_of("colour: red\nrules: []\n");
    CHECK(has_error(far, 1, 1, "colour", "unknown key; expected one of"));
}

TEST_CASE("the rules file and the policy are read by one checker: same limits, same words") {
    std::string deep = std::string(40, '[') + std::string(40, ']');
    std::string aliases = "x: &a 1\ny: [" ;
    for (int i = 0; i < 70; ++i) aliases += std::string(i ? ", " : "") + "*a";
    aliases += "]\n";
    struct Case {
        std::string text, message;
    };
    std::vector<Case> cases = {
        {"rules: " + deep + "\n", "nesting deeper than 32 levels"},
        {aliases, "more than 64 aliases (*name)"},
        {"rules: []\n---\nrules: []\n", "a second YAML document (after '---')"},
        {"rules: [a,\n", "a '[' is not closed by a ']'"},
        {"rules:\n\t- {type: tv}\n", "a tab character used for indentation; YAML needs spaces"},
        {"# caf\xe9\n", "byte 0xe9 is not valid UTF-8"},
        {",\n", "unexpected ','; commas separate items only inside [ ] or { }"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        // The one error saying so, from each loader: same position and words (but for the
        // file's role where it is named).
        auto find = [&](const std::vector<policy::Diagnostic>& errors) {
            for (const auto& e : errors) {
                std::string m = e.str();
                if (m.find(c.message) == std::string::npos) continue;
                for (std::string role : {"a device-type rules file", "a policy file"})
                    if (auto at = m.find(role); at != std::string::npos) m.replace(at, role.size(), "a FILE");
                return m;
            }
            return std::string("(none)");
        };
        std::string from_rules = find(DeviceTypes::load_text(c.text, "same.yaml").errors);
        CHECK(from_rules != "(none)");
        CHECK(from_rules == find(policy::load_text(c.text, "same.yaml").errors));
    }
    // The size cap is the same too (yamlfile::max_file_bytes, tested with the policy).
}

TEST_CASE("a bad regular expression is an error at the pattern, with the regex's reason") {
    auto errors = errors_of(
        "rules:\n"
        "  - {type: camera, weight: 40, vendor: \"hik(vision\"}\n"
        "  - {type: plug, weight: 20, hostname: \"[esp\"}\n");
    REQUIRE(errors.size() == 2);
    CHECK(has_error(errors, 2, 40, "rules[0].vendor", "bad regular expression /hik(vision/"));
    CHECK(has_error(errors, 3, 40, "rules[1].hostname", "bad regular expression /[esp/"));
    CHECK(errors[0].str().starts_with(
        "types.yaml:2:40: rules[0].vendor: bad regular expression /hik(vision/: "));
}

TEST_CASE("a pattern that can backtrack exponentially (nested repetition) is refused") {
    auto errors = errors_of(
        "rules:\n"
        "  - {type: camera, weight: 40, vendor: \"(a+)+$\"}\n"
        "  - {type: camera, weight: 40, dns_name: '(\\w+\\.)*example\\.com$'}\n"
        "  - {type: camera, weight: 40, hostname: \"((ab)*c)+\"}\n"
        "  - {type: camera, weight: 40, hostname: \"(x{2,})*\"}\n");
    CHECK(has_error(errors, 2, 40, "rules[0].vendor", "repeats a group that holds a repetition"));
    CHECK(has_error(errors, 3, 42, "rules[1].dns_name", "repeats a group"));
    CHECK(has_error(errors, 4, 42, "rules[2].hostname", "repeats a group"));
    CHECK(has_error(errors, 5, 42, "rules[3].hostname", "repeats a group"));
    CHECK(errors.size() == 4);
    // Repetition outside groups, of a plain group, in a class, or escaped is fine.
    rules_from(
        "rules:\n"
        "  - {type: camera, weight: 40, hostname: \"(ab)+c+\"}\n"
        "  - {type: camera, weight: 40, hostname: \"[a+]+(x|y)?\"}\n"
        "  - {type: camera, weight: 40, hostname: '\\(a+\\)+'}\n"
        "  - {type: camera, weight: 40, hostname: \"tuya(eu|us)?\\\\.com$\"}\n");
}

TEST_CASE("an unknown type, in a rule or in the types list, is an error") {
    auto errors = errors_of(
        "types: [camera, plug, toaster, camera]\n"
        "rules:\n"
        "  - {type: camra, weight: 40, vendor: hikvision}\n"
        "  - {type: unknown, weight: 5, vendor: x}\n"
        "  - {type: phone, weight: 5, vendor: y}\n");
    CHECK(has_error(errors, 1, 23, "types[2]", "expected one of camera, speaker"));
    CHECK(has_error(errors, 1, 32, "types[3]", "listed twice"));
    CHECK(has_error(errors, 3, 12, "rules[0].type", "unknown type 'camra'"));
    CHECK(has_error(errors, 4, 12, "rules[1].type", "cannot vote for unknown"));
    // phone is a device type, but not one of this file's types.
    CHECK(has_error(errors, 5, 12, "rules[2].type",
                    "unknown type 'phone'; expected one of: camera, plug"));
    CHECK(errors.size() == 5);
}

TEST_CASE("a missing type or weight, and bad weights, are errors at the rule") {
    auto errors = errors_of(
        "rules:\n"
        "  - {type: camera, vendor: hikvision}\n"
        "  - {weight: 10, vendor: hikvision}\n"
        "  - {type: camera, weight: 0, vendor: hikvision}\n"
        "  - {type: camera, weight: lots, vendor: hikvision}\n"
        "  - {type: camera, weight: \"40\", vendor: hikvision}\n"
        "  - {type: camera, weight: 5000, vendor: hikvision}\n");
    CHECK(has_error(errors, 2, 5, "rules[0].weight", "missing"));
    CHECK(has_error(errors, 3, 5, "rules[1].type", "missing"));
    CHECK(has_error(errors, 4, 28, "rules[2].weight", "changes nothing"));
    CHECK(has_error(errors, 5, 28, "rules[3].weight",
                    "expected a whole number from -1000 to 1000, found 'lots'"));
    CHECK(has_error(errors, 6, 28, "rules[4].weight",
                    "found the quoted text '40' (write it without quotes)"));
    CHECK(has_error(errors, 7, 28, "rules[5].weight", "found '5000'"));
    CHECK(errors.size() == 6);
}

TEST_CASE("a rule needs exactly one match key") {
    auto errors = errors_of(
        "rules:\n"
        "  - {type: camera, weight: 40}\n"
        "  - {type: camera, weight: 40, vendor: hikvision, hostname: ipc}\n"
        "  - {type: phone, weight: 10, random_mac: false}\n"
        "  - {type: camera, weight: 40, vendor: \"\"}\n"
        "  - {type: camera, weight: 40, vendor: [a, b]}\n");
    CHECK(has_error(errors, 2, 5, "rules[0]", "no match key"));
    CHECK(has_error(errors, 3, 51, "rules[1].hostname", "a second match key"));
    CHECK(has_error(errors, 4, 43, "rules[2].random_mac", "expected true"));
    CHECK(has_error(errors, 5, 40, "rules[3].vendor", "expected a regular expression"));
    CHECK(has_error(errors, 6, 40, "rules[4].vendor", "found a list"));
    CHECK(errors.size() == 5);
}

TEST_CASE("top-level shape: min_score range, rules must be a list, duplicates") {
    auto errors = errors_of(
        "min_score: 0\n"
        "rules: {type: camera}\n"
        "min_score: 30\n");
    CHECK(has_error(errors, 1, 12, "min_score", "from 1 to 10000, found '0'"));
    CHECK(has_error(errors, 2, 8, "rules", "expected a list of rules, found a mapping"));
    CHECK(has_error(errors, 3, 1, "min_score", "duplicate key (first at line 1)"));

    auto missing = errors_of("min_score: 20\n");
    CHECK(has_error(missing, 1, 1, "rules", "missing"));
    auto not_a_mapping = errors_of("- a\n- b\n");
    CHECK(has_error(not_a_mapping, 1, 1, "", "expected a mapping"));
    auto empty = errors_of("");
    CHECK_FALSE(empty.empty());
}

TEST_CASE("every error in a file is reported, in file order") {
    auto errors = errors_of(
        "types: [camera, plug]\n"
        "rules:\n"
        "  - {type: camera, weight: 40, vendor: \"(\"}\n"
        "  - {type: plug, vendor: espressif}\n"
        "  - {type: tv, weight: 40, vendor: samsung}\n"
        "  - {type: plug, weight: 40, colour: red}\n");
    REQUIRE(errors.size() == 5);
    CHECK(errors[0].line == 3);
    CHECK(errors[1].line == 4);
    CHECK(errors[2].line == 5);
    CHECK(errors[3].line == 6);  // no match key (at the rule)
    CHECK(errors[4].line == 6);  // unknown key colour
    CHECK(errors[3].column < errors[4].column);
}

TEST_CASE("an unreadable rules file is one error without a position") {
    auto loaded = DeviceTypes::load_file("/nonexistent/device-types.yaml");
    CHECK_FALSE(loaded.rules);
    REQUIRE(loaded.errors.size() == 1);
    CHECK(loaded.errors[0].line == 0);
    CHECK(loaded.errors[0].str() == "/nonexistent/device-types.yaml: the device-type rules file does not exist");
    auto dir = DeviceTypes::load_file("/tmp");
    REQUIRE(dir.errors.size() == 1);
    CHECK(dir.errors[0].message == "the device-type rules file is a directory, not a file");
    test::TempDir d;
    REQUIRE(test::make_fifo(d.path / "device-types.yaml"));
    test::Deadline deadline(10);  // a FIFO used to hang the loader (and the controller)
    auto fifo = DeviceTypes::load_file(d.path / "device-types.yaml");
    REQUIRE(fifo.errors.size() == 1);
    CHECK(fifo.errors[0].message == "the device-type rules file is a FIFO (named pipe), not a file");
}

// A vendor pattern that matches no organisation in the IEEE registry is a typo or a stale
// name: each alternative of each vendor rule must match at least one real organisation.
TEST_CASE("every vendor pattern of the shipped rules names a real OUI organisation") {
    const std::string dir = "/usr/share/ieee-data";
    std::vector<std::string> organisations;
    for (const char* file : {"oui.csv", "mam.csv", "oui36.csv", "iab.csv"}) {
        std::ifstream in(dir + "/" + file);
        std::string line;
        while (std::getline(in, line)) {
            // Registry,Assignment,Organization Name,... with RFC 4180 quoting.
            size_t start = line.find(',', line.find(',') + 1);
            if (start == std::string::npos) continue;
            std::string name;
            size_t i = start + 1;
            if (i < line.size() && line[i] == '"') {
                for (++i; i < line.size(); ++i) {
                    if (line[i] == '"' && i + 1 < line.size() && line[i + 1] == '"')
                        name += '"', ++i;
                    else if (line[i] == '"')
                        break;
                    else
                        name += line[i];
                }
            } else {
                name = line.substr(i, line.find(',', i) - i);
            }
            organisations.push_back(name);
        }
    }
    if (organisations.empty())
        return warden::testing::cannot_run("no IEEE registry in " + dir + " (Debian package ieee-data)");
    std::sort(organisations.begin(), organisations.end());
    organisations.erase(std::unique(organisations.begin(), organisations.end()),
                        organisations.end());

    auto loaded = DeviceTypes::load_file(WARDEN_SOURCE_DIR "/config/device-types.yaml");
    REQUIRE(loaded.rules);
    size_t checked = 0;
    for (const auto& rule : loaded.rules->rules()) {
        if (rule.field != Field::vendor) continue;
        // Vendor patterns are plain alternations: split at '|' and try each alone.
        size_t from = 0;
        while (from <= rule.pattern.size()) {
            size_t bar = std::min(rule.pattern.find('|', from), rule.pattern.size());
            std::string alternative = rule.pattern.substr(from, bar - from);
            from = bar + 1;
            std::regex re(alternative, std::regex::ECMAScript | std::regex::icase);
            bool found =
                std::any_of(organisations.begin(), organisations.end(),
                            [&](const std::string& o) { return std::regex_search(o, re); });
            CHECK_MESSAGE(found, "vendor /" << alternative << "/ (rule for " << rule.type
                                            << ", line " << rule.line
                                            << ") matches no organisation");
            ++checked;
        }
    }
    CHECK(checked >= 40);
}

// More of a home, as warden would see them; guards the shipped rules against regressions.
TEST_CASE("the shipped rules place common home devices") {
    auto loaded = DeviceTypes::load_file(WARDEN_SOURCE_DIR "/config/device-types.yaml");
    REQUIRE(loaded.rules);
    struct Case {
        const char* what;
        const char* type;  // expected
        Identity id;
    };
    auto make = [](auto fill) {
        Identity id;
        fill(id);
        return id;
    };
    const Case cases[] = {
        {"iPhone", "phone", make([](Identity& i) {
             i.random_mac = true;
             i.hostname = "Annas-iPhone";
             i.dhcp_fingerprint = "1,121,3,6,15,108,114,119,252";
         })},
        {"MacBook", "laptop", make([](Identity& i) {
             i.vendor = "Apple, Inc.";
             i.hostname = "Annas-MacBook-Air";
             i.dhcp_fingerprint = "1,121,3,6,15,108,114,119,252,95,44,46";
             i.mdns_services = {"_airplay._tcp", "_raop._tcp", "_companion-link._tcp"};
         })},
        {"Apple TV", "tv", make([](Identity& i) {
             i.vendor = "Apple, Inc.";
             i.hostname = "Living-Room";
             i.mdns_services = {"_airplay._tcp", "_raop._tcp"};
             i.models = {"AppleTV11,1"};
         })},
        {"HomePod", "speaker", make([](Identity& i) {
             i.vendor = "Apple, Inc.";
             i.hostname = "Kitchen";
             i.mdns_services = {"_airplay._tcp", "_raop._tcp"};
             i.models = {"AudioAccessory5,1"};
         })},
        {"Echo Dot", "speaker", make([](Identity& i) {
             i.vendor = "Amazon Technologies Inc.";
             i.hostname = "amazon-4f1e2d3c";
             i.dns_names = {"device-metrics-us.amazon.com", "api.amazonalexa.com"};
         })},
        {"Roku", "tv", make([](Identity& i) {
             i.vendor = "Roku, Inc";
             i.models = {"Roku/9.4.0 UPnP/1.0 Roku/9.4.0"};
         })},
        {"LG TV", "tv", make([](Identity& i) {
             i.vendor = "LG Innotek";
             i.hostname = "LGwebOSTV";
             i.dns_names = {"us.lgtvsdp.com"};
         })},
        {"Nest thermostat", "thermostat", make([](Identity& i) {
             i.vendor = "Nest Labs Inc.";
             i.dns_names = {"frontdoor.nest.com", "transport.home.nest.com"};
         })},
        {"ecobee", "thermostat", make([](Identity& i) {
             i.vendor = "ecobee inc";
             i.mdns_services = {"_hap._tcp"};
         })},
        {"Hue bridge", "hub", make([](Identity& i) {
             i.vendor = "Signify B.V.";
             i.hostname = "Philips-hue";
             i.mdns_services = {"_hue._tcp", "_hap._tcp"};
         })},
        {"Kasa plug", "plug", make([](Identity& i) {
             i.vendor = "TP-LINK TECHNOLOGIES CO.,LTD.";
             i.hostname = "HS103";
             i.dns_names = {"n-devs.tplinkcloud.com"};
         })},
        {"Shelly relay", "plug", make([](Identity& i) {
             i.vendor = "Espressif Inc.";
             i.hostname = "shelly1pm-84CCA8A1B2C3";
             i.mdns_services = {"_shelly._tcp", "_http._tcp"};
         })},
        {"Ring doorbell", "camera", make([](Identity& i) {
             i.vendor = "Ring LLC";
             i.dns_names = {"fw.ring.com"};
         })},
        {"Brother printer", "printer", make([](Identity& i) {
             i.vendor = "Brother Industries, LTD.";
             i.hostname = "BRW3C2AF4B7E9AC";
             i.mdns_services = {"_ipp._tcp", "_pdl-datastream._tcp", "_scanner._tcp"};
         })},
        {"PlayStation 5", "console", make([](Identity& i) {
             i.vendor = "Sony Interactive Entertainment Inc.";
             i.hostname = "PS5-123";
             i.dns_names = {"np.playstation.net"};
         })},
        {"Nintendo Switch", "console", make([](Identity& i) {
             i.vendor = "Nintendo Co.,Ltd";
             i.dns_names = {"ctest.cdn.nintendo.net"};
         })},
        {"Xbox", "console", make([](Identity& i) {
             i.vendor = "Microsoft Corporation";
             i.hostname = "XboxOne";
             i.dns_names = {"title.mgt.xboxlive.com"};
         })},
        {"Windows laptop, random MAC", "laptop", make([](Identity& i) {
             i.random_mac = true;
             i.hostname = "LAPTOP-7HG2K1";
             i.vendor_class = "MSFT 5.0";
             i.dhcp_fingerprint = "1,3,6,15,31,33,43,44,46,47,119,121,249,252";
         })},
        {"a random MAC alone", "unknown", make([](Identity& i) { i.random_mac = true; })},
    };
    for (const auto& c : cases) {
        auto result = loaded.rules->classify(c.id);
        std::string why;
        for (const auto& line : result.evidence) why += "\n  " + line;
        CHECK_MESSAGE(result.type == c.type,
                      c.what << ": expected " << c.type << ", got " << result.type << why);
    }
}
