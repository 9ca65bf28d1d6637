// The behaviour engine: learns what is normal for each device and each device type from
// per-tick samples, and reports findings (a device scanning, spreading, flooding,
// exfiltrating, reaching blocklisted or brand-new places, moving laterally, beaconing) with
// their evidence and the action the policy maps them to. No kernel, no clock of its own: it
// is driven by Samples, so replaying a stream of samples tests it.
//
// The daemon calls observe() for every device every tick, enforces the findings' actions,
// and tells the engine about releases (released) and operator corrections
// (false_positive). Everything learned is saved with to_json and restored with load_json.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/baseline.h"
#include "engine/config.h"
#include "engine/profiles.h"
#include "engine/sample.h"
#include "net/address.h"

namespace warden::engine {

struct Evidence {
    double value = 0;      // what was measured
    double normal = 0;     // the device's normal for it (99th percentile), 0 if none applies
    double threshold = 0;  // what value had to reach
    std::string unit;      // "ports", "addresses", "frames/s", "B/s", "intervals", ...
    std::string normal_from;  // "own history at 14h", "camera profile", "default while learning"
    std::string text;         // the finding in plain words
    // The one far end the evidence names (the host a vertical scan tried, a beacon's
    // destination), so the controller can show the name the device looked it up as.
    std::optional<net::IpAddr> peer;
    // What the value was measured over: "10s", "60s", "10m", "1h" (the long horizons); empty
    // for a beacon (its intervals).
    std::string window;
};

struct Finding {
    net::Mac device;
    std::string type;
    Detector detector = Detector::port_scan;
    double score = 0;  // value / threshold: 1 just reached, 10 far beyond
    Evidence evidence;
    int64_t time_ms = 0;  // the sample's time
    Action action = Action::alert;
    // For restricted and isolate: how long (nullopt: until released).
    std::optional<milliseconds> duration;
    unsigned repeat = 0;  // earlier quarantines of this device within the escalation window
    std::string note;     // why the action differs from the detector's own, if it does

    // "port_scan on a4:cf:12:00:00:01 (camera): tried 312 ports on ...; isolate for 1h"
    std::string summary() const;
    // For the events log, in its final shape: {"kind": "finding", "mac", "type", "detector", "score", "value",
    // "normal", "threshold", "unit", "normal_from", "evidence", "action", "duration_ms",
    // "repeat", "note", "ts_ms"}.
    nlohmann::json to_json() const;
};

// What an operator's false-positive call changed, for the events log.
struct Taught {
    std::vector<Detector> detectors;
    std::string text;  // "port_scan: this device's threshold raised from 24 to 390 ports"
};

// A device as the engine sees it (for listings and tests).
struct DeviceView {
    net::Mac mac;
    std::string type;
    int64_t first_seen_ms = 0;
    int64_t last_seen_ms = 0;
    bool learning = true;        // its own history is not trusted yet
    uint64_t windows = 0;        // 10 s windows in its baseline
    size_t known_destinations = 0;
    int64_t quarantined_until_ms = 0;  // by the engine's own findings; 0 if not
    std::array<double, detector_count> tolerance{};  // raised thresholds (false positives)
};

class Engine {
public:
    explicit Engine(Config config = {}, std::vector<net::Mac> exempt = {});
    ~Engine();
    Engine(const Engine&);  // a copy continues independently (replay tests branch from one)
    Engine& operator=(const Engine&);
    Engine(Engine&&) noexcept;
    Engine& operator=(Engine&&) noexcept;

    // New settings (policy reload): learned state is kept.
    void configure(Config config, std::vector<net::Mac> exempt);
    const Config& config() const;
    // Hours of the day are local: pass the offset of local time from UTC.
    void set_utc_offset(std::chrono::seconds offset);
    // The device's type ("camera", ...; "unknown" until identity knows better).
    void set_type(const net::Mac& device, std::string type);

    // One device, one tick. Findings are appended to `out`.
    void observe(const net::Mac& device, const Sample& tick, std::vector<Finding>& out);
    std::vector<Finding> observe(const net::Mac& device, const Sample& tick);

    // The operator released the device (not a false positive): it may be found again, and
    // a repeat escalates.
    void released(const net::Mac& device, int64_t now_ms);
    // The operator says the device's finding was wrong: the named detector (or those of its
    // latest finding) learns that this behaviour is normal for this device, so the same
    // behaviour does not trigger again, and the finding no longer counts for escalation.
    Taught false_positive(const net::Mac& device, std::optional<Detector> detector,
                          int64_t now_ms);
    void forget(const net::Mac& device);
    // Forgets devices not seen for config().forget_after; returns how many.
    size_t forget_unseen(int64_t now_ms);

    std::optional<DeviceView> device(const net::Mac& mac) const;
    std::vector<net::Mac> devices() const;
    const Baseline* device_baseline(const net::Mac& mac) const;
    const Baseline* type_baseline(std::string_view type) const;  // learned here
    // What the engine holds, from its own structures (hash-table overhead estimated).
    struct Memory {
        size_t devices = 0;  // all devices' state
        size_t types = 0;    // type profiles learned and imported
        size_t largest_device = 0;
        size_t total() const { return devices + types; }
    };
    Memory memory() const;
    size_t memory_bytes() const { return memory().total(); }

    // Everything learned (devices' baselines, known destinations, raised thresholds,
    // escalation history; types' baselines and imported priors). The last minute's windows
    // are not saved: after a restart they fill again.
    nlohmann::json to_json() const;
    // Replaces the learned state; throws std::invalid_argument naming what is wrong, and
    // leaves the engine unchanged then.
    void load_json(const nlohmann::json& state);

    // Type profiles learned here (no MACs, names or addresses).
    Profiles export_profiles() const;
    // Priors for device types, used until a device's own history is trusted (merged with
    // what this gateway learns of the type). Replaces earlier priors.
    void import_profiles(const Profiles& priors);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace warden::engine
