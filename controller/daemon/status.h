// What `warden run` says of itself: status.json in the state dir (every poll, for `warden
// status`, `top` and `devices` to read without asking), and the same JSON on the control
// socket's "status" (live, even when the state dir cannot be written).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/health.h"
#include "daemon/traffic.h"
#include "dataplane/evictions.h"
#include "store/state.h"

namespace warden::daemon {

struct PollFigures {
    uint64_t polls = 0;
    double last_poll_cpu_ms = 0;
    size_t flow_entries = 0;
    uint64_t packet_copies = 0;
    uint64_t flow_events = 0;
};

struct ReloadOutcome {
    int generation = 0;
    bool ok = true;
    int64_t ms = 0;
    std::vector<std::string> errors;
};

struct StatusInputs {
    int64_t started_ms = 0;
    std::string policy, pin_dir, state_dir;
    int64_t interval_ms = 0;
    PollFigures figures;
    nlohmann::json ports = nlohmann::json::array();        // each port's state (controller/ports)
    nlohmann::json attachments = nlohmann::json::array();  // the programs the kernel has on them
    const ReloadOutcome* reload = nullptr;
    const Health* health = nullptr;
    size_t inventory_devices = 0, inventory_limit = 0;
    uint64_t inventory_evicted = 0;
    size_t quarantined = 0;
    dataplane::EvictionTotals evicted;  // what the LRU maps evicted, at least
    nlohmann::json notify = nullptr;    // the notifier's figures (controller/notify), null when off
};

// Everything but the busy devices' rates.
nlohmann::json status_json(const StatusInputs& in);

// Writes status.json: the status, plus the rates of the devices doing something now (an idle
// one reads as zero). Not durable: it is rewritten every poll. Throws when it cannot write.
void write_status(const store::StateDir& state, const nlohmann::json& status, const Traffic& traffic);

}  // namespace warden::daemon
