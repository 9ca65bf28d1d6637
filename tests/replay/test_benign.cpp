// Benign streams: a simulated week of a home (two of each device type, daily rhythms, a
// firmware update night, the laptop's heavy day) gives no finding above alert.
#include <doctest/doctest.h>

#include <map>

#include "replay.h"

using namespace warden;
using namespace warden::replay;

TEST_CASE("a week of a home: no finding above alert") {
    INFO("seed " << seed() << " (WARDEN_SEED replays)");
    const TrainedHome& t = trained_home();
    // Reported per device type: each type's device-hours and findings.
    std::map<std::string, Report::Benign> by_type;
    for (const auto& device : t.home.devices) {
        std::string type(to_string(device.kind()));
        by_type.try_emplace(type, Report::Benign{"trained", type, 0, {}});
        by_type[type].device_hours += double(trained_days) * 24;
    }
    for (const auto& [device, f] : t.findings) {
        by_type[std::string(to_string(t.home.devices[device].kind()))]
            .findings[report_key(f)]
                     [std::string(engine::to_string(f.action))]++;
        MESSAGE(to_string(t.home.devices[device].kind()) << " day "
                << (f.time_ms - week_start_ms) / day_ms << ": " << f.summary());
        CHECK_MESSAGE(f.action == engine::Action::alert, f.summary());
    }
    for (auto& [type, benign] : by_type) Report::get().benign.push_back(benign);
    MESSAGE("week replayed in " << t.cpu_seconds << " s CPU, " << t.home.device_ticks()
                                << " device-ticks, " << t.findings.size() << " alerts");
}

TEST_CASE("a week of a home: the evidence that accumulates adds no finding at all") {
    // The long horizons (slow scans, slow sweeps, upload to new destinations) and beacons
    // found while a device learns must leave the benign week exactly as it was: not even an
    // alert. (Their floors and the replay's attacks are measured against this week.)
    INFO("seed " << seed() << " (WARDEN_SEED replays)");
    const TrainedHome& t = trained_home();
    size_t added = 0;
    for (const auto& [device, f] : t.findings) {
        if (!from_new_evidence(f, week_start_ms, t.engine.config().learning_period.count()))
            continue;
        ++added;
        CHECK_MESSAGE(false, to_string(t.home.devices[device].kind())
                                 << " day " << (f.time_ms - week_start_ms) / day_ms << ": "
                                 << f.summary());
    }
    CHECK(added == 0);
}
