// What the metrics and the status page show, as of one poll of `warden run`: the poll loop
// builds a new Snapshot every interval and swaps it in; the HTTP threads only read it. A
// Snapshot never changes once published, so readers need no lock beyond taking the pointer.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataplane/evictions.h"
#include "ports/ports.h"
#include "view/devices.h"
#include "warden/abi.h"

namespace warden::web {

// Bytes a device moved since local midnight.
struct TodayTraffic {
    uint64_t up = 0, down = 0, lateral = 0;
};

// One line of the events log that counts as a threat blocked or found.
struct Threat {
    int64_t time_ms = 0;
    std::string kind;      // quarantine_drop | blocklist_hit | finding | quarantine
    net::Mac mac;
    std::string detector;  // findings only
    std::string text;      // in plain words, for the household
};

// What the household counts as one threat: a finding, the quarantine it caused and the
// traffic blocked after it ("Hall camera isolated for 1 h, 312 attempts blocked since"); an
// alert and the blocklist hits around it; an administrator's own quarantine (not a threat).
struct Incident {
    int64_t started_ms = 0, last_ms = 0;
    net::Mac mac;
    std::string kind;      // quarantine | alert | blocklist
    std::string detector;  // the finding's that explains it, if one does
    std::string text;      // what the device did, in plain words (the finding's evidence)
    std::string action;    // what was done: "Isolated by warden", "Restricted by the administrator", ...
    uint64_t blocked = 0;  // blocked-traffic events (at most one a minute) and blocklist hits in it
    uint64_t findings = 0; // findings in it
    bool open = false;     // a quarantine not released yet
    bool threat = true;    // false for the administrator's own quarantine
};

// The threats of the last days (oldest first, bounded), the findings among them as the
// events log holds them, and every finding counted by detector (those in the log when warden
// started, and every one since). Incidents are kept apart from the log lines, so that
// blocked traffic can never push the finding that explains a quarantine out.
struct ThreatLog {
    std::vector<Threat> recent;
    std::vector<Incident> incidents;  // oldest first, bounded
    std::vector<nlohmann::json> findings;
    std::map<std::string, uint64_t> findings_by_detector;
};

struct MapFill {
    std::string name;
    std::optional<uint64_t> entries;  // none: not counted (ring buffer, arrays)
    uint64_t capacity = 0;            // entries, or bytes for the ring buffer
};

// How the controller is doing (daemon/health.h), as metrics show it.
struct ControllerHealth {
    bool degraded = false;
    std::map<std::string, uint64_t> step_failures;  // poll step -> failures since start
    uint64_t inventory_evicted = 0;                 // devices forgotten to keep the inventory bounded
    uint64_t mac_floods = 0;                        // MAC flood findings
};

struct Snapshot {
    int64_t time_ms = 0;   // unix ms of the poll
    uint64_t mono_ns = 0;  // CLOCK_MONOTONIC of the poll (the kernel's clock)
    int64_t started_ms = 0;
    uint64_t polls = 0;
    double poll_cpu_seconds = 0;  // CPU time of the last poll
    int64_t midnight_ms = 0;      // the local midnight "today" counts from

    std::vector<view::DeviceView> devices;  // joined as `warden devices` joins them
    std::map<net::Mac, dataplane::QuarantineEntry> quarantined;  // the kernel's
    std::map<net::Mac, TodayTraffic> today;
    std::shared_ptr<const ThreatLog> threats;  // shared between snapshots until it changes
    std::array<wd_prog_stats, WD_PROG_MAX> programs{};
    std::vector<MapFill> maps;
    ControllerHealth health;
    dataplane::EvictionTotals evictions;  // at least this many entries evicted from the LRU maps
    std::vector<ports::PortStatus> ports;  // warden's programs on each port, as checked
    ports::Counts port_counts;
    // The operator's channel as `warden fleet status --json` shows it (docs/FLEET.md); null
    // when the policy does not enable it.
    nlohmann::json fleet;
};

// Where the poll loop leaves the latest snapshot for the HTTP threads.
class SnapshotBox {
public:
    void publish(std::shared_ptr<const Snapshot> next) {
        std::lock_guard lock(mutex_);
        current_ = std::move(next);
    }
    std::shared_ptr<const Snapshot> get() const {
        std::lock_guard lock(mutex_);
        return current_;
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const Snapshot> current_;
};

inline const char* program_name(uint32_t prog) {
    switch (prog) {
        case WD_PROG_LAN_INGRESS: return "lan_ingress";
        case WD_PROG_LAN_EGRESS: return "lan_egress";
        case WD_PROG_WAN_INGRESS: return "wan_ingress";
        default: return "unknown";
    }
}

inline const char* drop_reason_name(uint32_t reason) {
    switch (reason) {
        case WD_DROP_ISOLATED: return "isolated";
        case WD_DROP_RESTRICTED: return "restricted";
        case WD_DROP_BLOCKLIST: return "blocklist";
        default: return "unknown";
    }
}

}  // namespace warden::web
