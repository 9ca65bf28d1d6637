// Metrics and the status page inside `warden run`. The poll loop calls publish() once a
// poll with what it read; that builds an immutable Snapshot (adding program counters, map
// fill, today's traffic and the threats from the events log) and swaps it in. The HTTP
// threads read only snapshots; changes (quarantine, release) go to the control core through
// the controller's loop (Submit), exactly as the CLI's do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "control/result.h"
#include "dataplane/evictions.h"
#include "dataplane/maps.h"
#include "dataplane/tables.h"
#include "policy/policy.h"
#include "store/events_log.h"
#include "store/state.h"
#include "view/devices.h"
#include "web/api.h"
#include "web/server.h"
#include "web/snapshot.h"
#include "web/threats.h"
#include "web/today.h"

namespace warden::web {

// What one poll of the controller knows.
struct PollData {
    const std::map<net::Mac, dataplane::DeviceCounters>& counters;
    const std::map<net::Mac, store::DeviceRecord>& inventory;
    std::map<net::Mac, view::DeviceRates> rates;
    size_t flow_entries = 0;  // from the last full pass over the flow table
    double poll_cpu_ms = 0;
    uint64_t polls = 0;
    ControllerHealth health;
    dataplane::EvictionTotals evictions{};  // entries the LRU maps evicted, at least
    std::vector<ports::PortStatus> ports;  // as the kernel has them (controller/ports)
    ports::Counts port_counts;
    nlohmann::json fleet;  // the operator's channel's status; null when off
};

class Service {
public:
    using MapFd = std::function<int(dataplane::MapId)>;
    // Hands an operation to the control core (from an HTTP thread; thread-safe).
    using Submit = std::function<control::Result(const nlohmann::json& request, const control::Who& who)>;

    // Reads (or makes) the admin token; throws when the state dir cannot hold it.
    Service(const policy::Policy& policy, const std::filesystem::path& state_dir, MapFd map_fd, Submit submit);
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    // Opens the listeners the policy asks for. One that cannot open is logged, not fatal:
    // enforcement matters more than the page.
    void start();
    void publish(PollData poll);
    // A reloaded policy: names, defaults, and listeners (reopened only when they changed).
    void reconfigure(const policy::Policy& policy);
    void stop();

    const std::vector<std::unique_ptr<Listener>>& listeners() const { return listeners_; }

private:
    class LiveSource;

    void open_listeners();
    std::vector<MapFill> map_fill(size_t devices, size_t flows, size_t quarantined, int64_t now_ms);

    policy::Policy policy_;
    store::StateDir state_;
    MapFd map_fd_;
    Submit submit_;
    std::string token_;
    int64_t started_ms_ = 0;

    SnapshotBox box_;
    std::unique_ptr<LiveSource> source_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::vector<Endpoint> endpoints_;

    TodayCounters today_;
    int64_t today_saved_ms_ = 0;
    ThreatTracker threats_;
    std::map<dataplane::MapId, uint64_t> counted_;  // entries of maps counted now and then
    int64_t counted_ms_ = 0;
    std::map<dataplane::MapId, uint64_t> capacity_;
};

}  // namespace warden::web
