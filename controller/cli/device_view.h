// One row per device, as `warden devices` and `warden top` show it: the kernel's counters
// joined with the quarantine map, the controller's status snapshot (rates, active flows), the
// inventory (names, identity), the policy (names, types) and the events log (recent findings).
// Both commands read the network through this one join, so they never disagree.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "dataplane/tables.h"
#include "net/address.h"
#include "view/devices.h"

namespace warden::cli {

// The rows and their JSON are built in view/devices.h, which the status page's API shares.
using view::DeviceRates;
using view::DeviceView;
using view::event_kind;
using view::event_time_ms;
using view::kAlertingForMs;
using view::state_severity;
using view::to_json;

// A JSON file (the controller's status.json), or null when missing or half-written.
nlohmann::json read_json_file(const std::filesystem::path& file);
// A CLOCK_MONOTONIC stamp from the kernel as unix ms.
int64_t mono_to_wall_ms(uint64_t mono_ns);

// The events log read from its end, a little more each call: the events a view shows (kinds
// "finding", "quarantine", "release", "blocklist_hit"), the newest kept. Follows rotation.
// Reads at most a bounded tail at first, so a big log costs no more than a small one.
class RecentEvents {
public:
    explicit RecentEvents(std::filesystem::path file, size_t keep = 64);

    void update();  // reads what was appended since the last call
    const std::deque<nlohmann::json>& events() const { return events_; }  // oldest first
    // The MACs with a finding at or after since_ms.
    std::vector<net::Mac> alerting(int64_t since_ms) const;

private:
    void take(const std::string& line);
    void read_from(const std::filesystem::path& file, uint64_t offset, bool skip_partial);

    std::filesystem::path file_;
    size_t keep_;
    uint64_t offset_ = 0;
    uint64_t inode_ = 0;
    bool started_ = false;
    std::deque<nlohmann::json> events_;
    std::deque<std::pair<net::Mac, int64_t>> findings_;  // (device, ts_ms), recent ones
};

// Everything one look at the network sees.
struct NetworkView {
    std::string pin_dir, state_dir;
    bool maps_pinned = false;
    std::optional<pid_t> controller;  // the running controller's pid
    int64_t controller_started_ms = 0;
    bool rates_fresh = false;         // the snapshot is recent enough to trust its rates
    std::vector<DeviceView> devices;  // unsorted
};

// Reads maps, snapshot, inventory and policy once; `events` (may be null) marks alerting.
// Without pins it throws "warden is not running ..." when require_pins, else returns
// maps_pinned false and the devices the inventory remembers (with no counters).
NetworkView look(Context& ctx, const RecentEvents* events, bool require_pins);


}  // namespace warden::cli
