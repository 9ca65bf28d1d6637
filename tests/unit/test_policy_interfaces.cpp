// The interfaces section: names, patterns (wlan*) and the optional ones.
#include <doctest/doctest.h>

#include "policy/policy.h"

using namespace warden::policy;

namespace {

LoadResult load(const std::string& interfaces) { return load_text("interfaces:\n" + interfaces, "test.yaml"); }

std::string errors(const LoadResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += e.str() + "\n";
    return out;
}

}  // namespace

TEST_CASE("interfaces: a policy without optional is valid as before, and nothing is optional") {
    auto r = load("  wan: eth0\n  lan: [eth1, wlan0]\n");
    INFO(errors(r));
    REQUIRE(r.policy);
    CHECK(r.policy->interfaces.optional.empty());
    CHECK_FALSE(r.policy->interfaces.is_optional("wlan0"));
}

TEST_CASE("interfaces: LAN patterns and the optional entries") {
    auto r = load("  wan: eth0\n  lan: [eth1, wlan*, 'lan[0-9]']\n  optional: [wlan*, eth0]\n");
    INFO(errors(r));
    REQUIRE(r.policy);
    const auto& i = r.policy->interfaces;
    CHECK(i.lan == std::vector<std::string>{"eth1", "wlan*", "lan[0-9]"});
    CHECK(i.is_optional("wlan*"));
    CHECK(i.is_optional("eth0"));
    CHECK_FALSE(i.is_optional("eth1"));
    CHECK_FALSE(i.is_optional("wlan0"));  // entries as written, not the interfaces they match
}

TEST_CASE("interfaces: what a pattern matches") {
    CHECK(is_interface_pattern("wlan*"));
    CHECK(is_interface_pattern("lan[0-9]"));
    CHECK(is_interface_pattern("eth?"));
    CHECK_FALSE(is_interface_pattern("wlan0"));
    CHECK(interface_matches("wlan*", "wlan0"));
    CHECK(interface_matches("wlan*", "wlan1-1"));
    CHECK_FALSE(interface_matches("wlan*", "eth0"));
    CHECK(interface_matches("lan[0-9]", "lan3"));
    CHECK_FALSE(interface_matches("lan[0-9]", "lan10"));
    CHECK(interface_matches("eth1", "eth1"));
    CHECK_FALSE(interface_matches("eth1", "eth10"));  // a name is not a prefix
}

TEST_CASE("interfaces: optional names only entries of lan or the wan, each once; the WAN is no pattern") {
    auto r = load("  wan: eth0\n  lan: [eth1, wlan*]\n  optional: [wlan0, eth1, eth1]\n");
    REQUIRE(r.errors.size() == 2);
    CHECK(r.errors[0].key == "interfaces.optional[0]");
    CHECK(r.errors[0].line == 4);
    CHECK(r.errors[0].message.find("'wlan0' is neither an entry of interfaces.lan nor the WAN") != std::string::npos);
    CHECK(r.errors[1].key == "interfaces.optional[2]");
    CHECK(r.errors[1].message.find("listed twice") != std::string::npos);

    r = load("  wan: eth*\n  lan: [eth1]\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].key == "interfaces.wan");
    CHECK(r.errors[0].message.find("is a pattern") != std::string::npos);

    r = load("  wan: eth0\n  lan: [eth1]\n  optional: wlan0\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].key == "interfaces.optional");
}

TEST_CASE("interfaces: the example policy marks its radio optional") {
    auto r = load_file(std::string(WARDEN_SOURCE_DIR) + "/config/policy.yaml");
    INFO(errors(r));
    REQUIRE(r.policy);
    CHECK(r.policy->interfaces.optional == std::vector<std::string>{"wlan0"});
}
