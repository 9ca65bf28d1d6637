// Devices as warden shows them everywhere: the kernel's counters joined with the quarantine
// map, the controller's rates, the inventory (names, identity), the policy (names, types)
// and recent findings. `warden devices --json`, `warden top` and the status page's
// /api/devices all build their rows and JSON here, so they never disagree. No I/O: callers
// read the maps and files (the CLI from pins and the state dir, `warden run` from memory).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataplane/tables.h"
#include "net/address.h"
#include "policy/policy.h"
#include "quarantine/quarantine.h"
#include "store/state.h"

namespace warden::view {

// A device with a "finding" event this recent is shown as alerting.
inline constexpr int64_t kAlertingForMs = 10 * 60 * 1000;

// The controller's rates for a device.
struct DeviceRates {
    double up_bps = 0, down_bps = 0, lateral_bps = 0;
    uint64_t active_flows = 0;
};

struct DeviceView {
    net::Mac mac;
    std::string name;                     // the policy's or the inventory's name, or the hostname
    std::string vendor, hostname, type;   // from identity (type: the policy's first); "" unknown
    bool random_mac = false;              // locally administered: no vendor to look up
    // Everything identity knows (identity::to_json, checked and bounded); null when nothing.
    nlohmann::json identity;
    // The names this device looked its peers up as, still within their TTL: address -> name.
    std::map<std::string, std::string> peer_names;
    std::optional<net::IpAddr> ip4, ip6;
    std::string state;                    // ok, ok (expiring), alerting, restricted, isolated
    bool counted = false;                 // the kernel counts it now (not only remembered)
    dataplane::DeviceCounters counters;   // zero for a device only the inventory remembers
    uint64_t quarantine_drops = 0;        // frames dropped from and to it while quarantined
    int64_t first_seen_ms = 0, last_seen_ms = 0;  // unix ms; 0 unknown
    std::optional<DeviceRates> rates;     // none without fresh rates

    uint64_t drops() const { return counters.blocklist_drops + quarantine_drops; }
    uint64_t total_bytes() const { return counters.up.bytes + counters.down.bytes + counters.lateral.bytes; }
};

// What the join reads. Pointers may be null where said.
struct DeviceSources {
    const std::vector<dataplane::DeviceCounters>* counters = nullptr;           // the kernel's
    const std::map<net::Mac, dataplane::QuarantineEntry>* quarantined = nullptr;  // the kernel's
    const std::map<net::Mac, store::DeviceRecord>* inventory = nullptr;
    const policy::Policy* policy = nullptr;                    // null: no policy file
    const std::map<net::Mac, DeviceRates>* rates = nullptr;  // null: no fresh rates; else absent = idle
    const std::set<net::Mac>* alerting = nullptr;             // devices with a recent finding
    // address -> name per device, as `warden run` writes them to names.json. May be null.
    const std::map<net::Mac, std::map<std::string, std::string>>* peer_names = nullptr;
    bool maps_pinned = true;  // false: the kernel was not asked, states are "unknown"
    int64_t now_ms = 0;        // unix ms
    uint64_t now_mono_ns = 0;  // CLOCK_MONOTONIC, to turn the kernel's stamps into wall time
};

// Every device the kernel counts and every one the inventory remembers (after a reboot, a
// quarantined device sends nothing that is counted, but it is still a device). Unsorted.
std::vector<DeviceView> join_devices(const DeviceSources& sources);

// A device as `warden devices --json` prints it.
nlohmann::json to_json(const DeviceView& device);

// Why a device has its type, in one line: "policy: named as camera", "rules: score 40
// (vendor_class ... camera +40)", "rules: no rule matched". "" when nothing is known.
std::string type_reason(const nlohmann::json& identity);

// names.json as `warden run` writes it ({"MAC": {"ADDRESS": "NAME"}}), read tolerantly:
// entries that are not a MAC, an address and a name are skipped (the file is a cache).
std::map<net::Mac, std::map<std::string, std::string>> parse_peer_names(const nlohmann::json& names);

// Quarantines as `warden quarantine list --json` prints them: the record and, when the
// kernel enforces it, its drop counters.
nlohmann::json quarantine_json(const std::vector<quarantine::Status>& list);

// How bad a state is, for sorting: isolated 3, restricted 2, alerting 1, ok 0.
int state_severity(const std::string& state);

// The kind of an event (its "kind"), or "" when it has none.
std::string event_kind(const nlohmann::json& event);
// Its time in unix ms ("ts_ms"), 0 if it has none.
int64_t event_time_ms(const nlohmann::json& event);

}  // namespace warden::view
