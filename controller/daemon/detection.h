// The behaviour engine inside `warden run`: each poll turns the data plane's counters and
// new-flow events into one sample per device (Sampler), hands them to the engine, and acts
// on what it finds — a "finding" event in the events log, a warning in the log, and for
// restricted/isolate a quarantine through quarantine::Manager (who: detector). It also keeps
// the engine's learning on disk (<state_dir>/engine.json) and serves operator requests
// (daemon/requests.h): false positives, releases, profile imports, "save now".
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/sampler.h"
#include "dataplane/tables.h"
#include "engine/engine.h"
#include "policy/policy.h"
#include "quarantine/quarantine.h"
#include "store/events_log.h"

namespace warden::daemon {

class Detection {
public:
    Detection(std::filesystem::path state_dir, store::EventLog& events, quarantine::Manager& quarantines,
              dataplane::QuarantineTable table);

    // At start and on every reload: the detectors' settings and the exempt devices. What was
    // learned is kept.
    void configure(const policy::Policy& policy);
    // Restores <state_dir>/engine.json; a damaged file is moved aside (logged) and the engine
    // starts afresh.
    void load();
    // Writes engine.json atomically now (every save_every, at stop, on request).
    void save();

    void on_new_flow(const wd_event_flow& event, int64_t now_ms) { sampler_.on_new_flow(event, now_ms); }
    void set_type(const net::Mac& mac, const std::string& type) { engine_.set_type(mac, type); }
    // A quarantine ended (expired, or released by the operator): the device may be found
    // again, and a repeat escalates.
    void released(const net::Mac& mac, int64_t now_ms) { engine_.released(mac, now_ms); }

    // One poll: samples to the engine, findings acted on, the state saved when due.
    // active_flows: by the daemon's mac_key. Returns the number of findings.
    size_t tick(const std::vector<dataplane::DeviceCounters>& counters,
                const std::unordered_map<uint64_t, size_t>& active_flows, int64_t now_ms);
    // Every pending request, oldest first; each file is removed once handled.
    void handle_requests(int64_t now_ms);

    const engine::Engine& engine() const { return engine_; }
    // The name a device looked an address up as (identity's DNS cache), for findings' evidence.
    using NameOf = std::function<std::optional<std::string>(const net::Mac&, const net::IpAddr&)>;
    void name_peers_with(NameOf name_of) { name_of_ = std::move(name_of); }

    static constexpr int64_t save_every_ms = 60'000;

private:
    void act(const engine::Finding& finding, int64_t now_ms);
    void handle(const nlohmann::json& request, int64_t now_ms);

    std::filesystem::path state_dir_, file_;
    store::EventLog& events_;
    quarantine::Manager& quarantines_;
    dataplane::QuarantineTable table_;
    engine::Engine engine_;
    Sampler sampler_;
    std::vector<engine::Finding> findings_;  // reused every tick
    std::map<net::Mac, uint64_t> active_;    // reused every tick
    int64_t saved_ms_ = 0;
    NameOf name_of_;
};

}  // namespace warden::daemon
