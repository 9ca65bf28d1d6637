// The behaviour engine inside `warden run`: each poll turns the data plane's counters and
// new-flow events into one sample per device (Sampler), hands them to the engine, and acts on
// what it finds — a "finding" event, a warning in the log, and for restricted/isolate a
// quarantine through the control core (who: detector). It is also what the control core
// teaches (control::Learning: releases, false positives, priors) and keeps the engine's
// learning on disk (<state dir>/engine.json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/control.h"
#include "control/learning.h"
#include "daemon/sampler.h"
#include "dataplane/tables.h"
#include "engine/engine.h"
#include "policy/policy.h"
#include "store/events_log.h"
#include "store/state.h"

namespace warden::daemon {

class Detection final : public control::Learning {
public:
    Detection(const store::StateDir& state, store::EventLog& events);

    // Where findings' quarantines go (set once the control core exists).
    void act_through(control::Control* control) { control_ = control; }

    // At start and on every reload: the detectors' settings and the exempt devices. What was
    // learned is kept.
    void configure(const policy::Policy& policy);
    // Restores engine.json; a damaged file is moved aside (logged) and the engine starts afresh.
    void load();

    void on_new_flow(const wd_event_flow& event, int64_t now_ms) { sampler_.on_new_flow(event, now_ms); }
    void on_peer_bytes(const net::Mac& mac, const engine::PeerBytes& bytes) {
        sampler_.on_peer_bytes(mac, bytes);
    }
    void set_type(const net::Mac& mac, const std::string& type) { engine_.set_type(mac, type); }

    // One poll: samples to the engine, findings acted on, the state saved when due.
    // active_flows: by daemon::mac_key. Returns the number of findings.
    size_t tick(const std::vector<dataplane::DeviceCounters>& counters,
                const std::unordered_map<uint64_t, size_t>& active_flows, int64_t now_ms);

    // control::Learning
    void released(const net::Mac& mac, int64_t now_ms) override { engine_.released(mac, now_ms); }
    control::Taught false_positive(const net::Mac& mac, std::optional<engine::Detector> detector,
                                   int64_t now_ms) override;
    size_t import_profiles(const engine::Profiles& priors) override;
    bool save() override;  // writes engine.json atomically now; throws when it cannot
    bool adjust_detectors(const engine::Config& settings) override;

    const engine::Engine& engine() const { return engine_; }
    // The name a device looked an address up as (identity's DNS cache), for findings' evidence.
    using NameOf = std::function<std::optional<std::string>(const net::Mac&, const net::IpAddr&)>;
    void name_peers_with(NameOf name_of) { name_of_ = std::move(name_of); }

    static constexpr int64_t save_every_ms = 60'000;

private:
    void act(const engine::Finding& finding, int64_t now_ms);

    std::filesystem::path file_;
    store::EventLog& events_;
    control::Control* control_ = nullptr;
    engine::Engine engine_;
    Sampler sampler_;
    std::vector<engine::Finding> findings_;  // reused every tick
    std::map<net::Mac, uint64_t> active_;    // reused every tick
    int64_t saved_ms_ = 0;
    NameOf name_of_;
    std::vector<net::Mac> exempt_;  // the policy's, kept for adjust_detectors
};

}  // namespace warden::daemon
