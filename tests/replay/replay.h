// The replay harness: a simulated home driven through the engine tick by tick, the seed
// every stream derives from (WARDEN_SEED replays a run), and the measurements the
// detection report is made of (WARDEN_REPLAY_REPORT=FILE writes them as JSON).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "simulate.h"

namespace warden::replay {

// The run's seed: WARDEN_SEED if set, else a fixed default (so CI is repeatable).
uint64_t seed();

// Devices of every kind (`per_kind` of each) and their attacks, on a shared clock. Ticks are
// 1 s during the `fine_hours` of each day (and whenever `fine` is asked for), 10 s
// otherwise, so a week replays in seconds while the busiest hours are seen at the
// controller's own resolution.
class Home {
public:
    Home(uint64_t seed, int per_kind, Calendar calendar = {}, uint8_t id = 0x44);

    std::vector<DeviceSim> devices;
    std::vector<std::optional<Attack>> attacks;  // one slot per device
    int64_t now = week_start_ms;
    std::vector<int> fine_hours{3, 10, 20};

    void name_types(engine::Engine& engine) const;
    // Runs every device (or only `only`, an index) up to `until`, handing each finding to
    // `on_finding`; stops early when it returns false.
    using FindingFn = std::function<bool(size_t device, const engine::Finding&)>;
    void run(engine::Engine& engine, int64_t until, const FindingFn& on_finding,
             bool fine = false, std::optional<size_t> only = std::nullopt);
    uint64_t device_ticks() const { return device_ticks_; }

private:
    uint64_t device_ticks_ = 0;
};

// How the report files a finding: its detector and the window it was judged over
// ("port_scan@10s", "port_scan@10m"; beaconing, judged on intervals, has none: "beaconing").
std::string report_key(const engine::Finding& f);
// A finding only the long horizons (10 min, 1 h) or a beacon found while learning can make.
bool from_new_evidence(const engine::Finding& f, int64_t device_first_ms, int64_t learning_ms);

// What the report collects (see scripts/detection-report.sh).
struct Report {
    struct Detection {
        std::string phase;  // "trained", "learning", "priors"
        std::string type;
        std::string attack;
        std::string expected;  // the detector
        bool detected = false;
        int64_t latency_ms = -1;
        int64_t deadline_ms = 0;
        std::string action;             // of the expected detector's finding
        std::string window;             // and the window it was judged over ("" for beacons)
        // The strongest action of any finding on the device during the attack (the expected
        // detector's finding can stay an alert when another one quarantined it first).
        std::string device_action;
        std::vector<std::string> also;  // other detectors that fired during the attack
        std::string evidence;
    };
    struct Benign {
        std::string phase;
        std::string type;  // the device type these device-hours are of
        double device_hours = 0;
        // Per detector: findings by action.
        std::map<std::string, std::map<std::string, int>> findings;
    };
    std::vector<Detection> detections;
    std::vector<Benign> benign;

    static Report& get();
    nlohmann::json to_json(uint64_t seed) const;
};

}  // namespace warden::replay

namespace warden::replay {

// A home with two devices of every kind after a simulated week (seed()), with every finding
// the week produced. Made once per run and shared: the attack tests branch from it.
struct TrainedHome {
    engine::Engine engine;
    Home home;
    std::vector<std::pair<size_t, engine::Finding>> findings;
    double cpu_seconds = 0;
};
const TrainedHome& trained_home();
inline constexpr int trained_days = 7;

}  // namespace warden::replay
