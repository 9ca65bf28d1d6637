// The controller's device inventory (daemon/inventory.h): bounded against a LAN device that
// spoofs source MACs, with the least recently seen idle devices going first and named or
// quarantined ones never; many new MACs on a port in a minute are a MAC flood finding.
#include <doctest/doctest.h>

#include <set>

#include "daemon/inventory.h"
#include "store/events_log.h"
#include "support/temp_dir.h"

using namespace warden;

namespace {

net::Mac mac_n(unsigned n) {
    net::Mac m;
    m.bytes = {0x02, 0x00, 0x00, uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
    return m;
}

struct Rig {
    test::TempDir dir{"warden-inventory"};
    store::StateDir state{dir.path};
    store::EventLog events{state.events_file(), 1 << 20, 1};
    daemon::Inventory inventory{state, events};
    policy::Policy policy;

    explicit Rig(uint32_t device_map = 32) {
        policy.map_sizes.devices = device_map;
        inventory.configure(policy);
    }
    size_t events_of(const std::string& kind) {
        size_t n = 0;
        for (const auto& e : store::EventLog::read_all(state.events_file(), 1)) n += e.value("kind", "") == kind;
        return n;
    }
};

}  // namespace

TEST_CASE("inventory: a device enters once and is announced once") {
    Rig r;
    r.inventory.entry(mac_n(1), 1000, "lan1");
    r.inventory.entry(mac_n(1), 2000, "lan1");
    CHECK(r.inventory.records().size() == 1);
    CHECK(r.inventory.records().at(mac_n(1)).first_seen_ms == 1000);
    CHECK(r.events_of("new_device") == 1);
}

TEST_CASE("inventory: bounded; idle devices go first, oldest first; named and quarantined ones stay") {
    Rig r;  // a 32-device map: at most 64 in the inventory
    REQUIRE(r.inventory.limit() == 64);
    policy::NamedDevice named;
    named.mac = mac_n(1);
    named.name = "Hall camera";
    r.policy.devices = {named};
    r.inventory.configure(r.policy);
    int64_t now = 10'000'000;
    // Devices 1..3 were seen long ago; 2 is quarantined, 1 is named.
    for (unsigned i = 1; i <= 3; ++i) r.inventory.entry(mac_n(i), now - 3'600'000, "lan1");
    // A spoofing device: 200 new MACs just now, counted by the kernel.
    std::set<net::Mac> counted;
    for (unsigned i = 100; i < 300; ++i) {
        r.inventory.entry(mac_n(i), now, "lan2");
        counted.insert(mac_n(i));
    }
    auto quarantined = [](const net::Mac& m) { return m == mac_n(2); };
    size_t evicted = r.inventory.keep_bound(quarantined, counted, now);
    CHECK(r.inventory.records().size() == 64);
    CHECK(evicted == 203 - 64);
    CHECK(r.inventory.evicted() == evicted);
    CHECK(r.inventory.records().count(mac_n(1)));   // named
    CHECK(r.inventory.records().count(mac_n(2)));   // quarantined
    CHECK(!r.inventory.records().count(mac_n(3)));  // idle: first out
    CHECK(r.events_of("inventory_evicted") == 1);
    CHECK(r.inventory.keep_bound(quarantined, counted, now) == 0);
}

TEST_CASE("inventory: a MAC flood on a port is a finding, reported once per ten minutes") {
    Rig r(4096);
    int64_t now = 50'000'000;
    for (unsigned i = 0; i < daemon::Inventory::kMacFloodPerMinute - 1; ++i) r.inventory.entry(mac_n(i), now, "lan2");
    CHECK(r.inventory.mac_floods() == 0);
    r.inventory.entry(mac_n(5000), now + 1000, "lan2");
    CHECK(r.inventory.mac_floods() == 1);
    for (unsigned i = 0; i < 500; ++i) r.inventory.entry(mac_n(6000 + i), now + 2000, "lan2");
    CHECK(r.inventory.mac_floods() == 1);
    CHECK(r.events_of("mac_flood") == 1);
    // Normal arrivals on another port are not a flood.
    for (unsigned i = 0; i < 10; ++i) r.inventory.entry(mac_n(9000 + i), now + 3000, "lan1");
    CHECK(r.inventory.mac_floods() == 1);
}

TEST_CASE("inventory: saved when a device is new, restored with the policy's names") {
    Rig r;
    r.inventory.entry(mac_n(7), 1000, "lan1");
    r.inventory.save_if_due(2000);
    daemon::Inventory again(r.state, r.events);
    policy::NamedDevice named;
    named.mac = mac_n(7);
    named.name = "TV";
    r.policy.devices = {named};
    CHECK(again.restore(r.policy).empty());
    REQUIRE(again.records().count(mac_n(7)));
    CHECK(again.records().at(mac_n(7)).name == "TV");
}
