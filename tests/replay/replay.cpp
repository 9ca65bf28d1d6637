#include "replay.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>

namespace warden::replay {

uint64_t seed() {
    static const uint64_t value = [] {
        const char* env = std::getenv("WARDEN_SEED");
        if (env && *env) return uint64_t(std::strtoull(env, nullptr, 10));
        return uint64_t(20'240'101);
    }();
    return value;
}

Home::Home(uint64_t seed, int per_kind, Calendar calendar, uint8_t id) {
    for (int i = 0; i < per_kind; ++i)
        for (Kind k : all_kinds) devices.emplace_back(k, i, seed, calendar, id);
    attacks.resize(devices.size());
}

void Home::name_types(engine::Engine& engine) const {
    for (const auto& d : devices) engine.set_type(d.mac(), std::string(to_string(d.kind())));
}

void Home::run(engine::Engine& engine, int64_t until, const FindingFn& on_finding, bool fine,
               std::optional<size_t> only) {
    std::vector<engine::Finding> findings;
    while (now < until) {
        bool one_second = fine || std::find(fine_hours.begin(), fine_hours.end(),
                                            int((now / hour_ms) % 24)) != fine_hours.end();
        // Ticks end on whole seconds; a 10 s tick only starts on a multiple of 10 s.
        int64_t step = one_second || now % 10'000 ? 1'000 : 10'000;
        int64_t end = std::min(now + step, until);
        double seconds = double(end - now) / 1000.0;
        for (size_t i = 0; i < devices.size(); ++i) {
            if (only && *only != i) continue;
            engine::Sample s = devices[i].tick(end, seconds);
            if (attacks[i]) attacks[i]->add(s, end, seconds);
            findings.clear();
            engine.observe(devices[i].mac(), s, findings);
            ++device_ticks_;
            for (const auto& f : findings)
                if (!on_finding(i, f)) {
                    now = end;
                    return;
                }
        }
        now = end;
    }
}

const TrainedHome& trained_home() {
    static const TrainedHome trained = [] {
        std::clock_t started = std::clock();
        TrainedHome t{engine::Engine{}, Home(seed(), 2), {}, 0};
        t.home.name_types(t.engine);
        t.home.run(t.engine, week_start_ms + trained_days * day_ms,
                   [&](size_t device, const engine::Finding& f) {
                       t.findings.emplace_back(device, f);
                       return true;
                   });
        t.cpu_seconds = double(std::clock() - started) / CLOCKS_PER_SEC;
        return t;
    }();
    return trained;
}

std::string report_key(const engine::Finding& f) {
    std::string key(engine::to_string(f.detector));
    if (!f.evidence.window.empty()) key += "@" + f.evidence.window;
    return key;
}

bool from_new_evidence(const engine::Finding& f, int64_t device_first_ms, int64_t learning_ms) {
    return f.evidence.window == "10m" || f.evidence.window == "1h" ||
           f.detector == engine::Detector::upload_to_new ||
           (f.detector == engine::Detector::beaconing && f.time_ms < device_first_ms + learning_ms);
}

Report& Report::get() {
    static Report report;
    return report;
}

nlohmann::json Report::to_json(uint64_t seed) const {
    auto ds = nlohmann::json::array();
    for (const auto& d : detections)
        ds.push_back({{"phase", d.phase},
                      {"type", d.type},
                      {"attack", d.attack},
                      {"expected", d.expected},
                      {"detected", d.detected},
                      {"latency_ms", d.latency_ms},
                      {"deadline_ms", d.deadline_ms},
                      {"action", d.action},
                      {"window", d.window},
                      {"device_action", d.device_action},
                      {"also", d.also},
                      {"evidence", d.evidence}});
    auto bs = nlohmann::json::array();
    for (const auto& b : benign)
        bs.push_back({{"phase", b.phase},
                      {"type", b.type},
                      {"device_hours", b.device_hours},
                      {"findings", b.findings}});
    return {{"seed", seed}, {"detections", ds}, {"benign", bs}};
}

}  // namespace warden::replay
