// Each device's traffic since local midnight, for the status page. The kernel's counters
// run since the device was first seen, so warden keeps what they read at midnight (or when
// the device first appeared today) and subtracts it. Kept in <state dir>/today.json, so a
// restart in the middle of the day does not lose it, and a reboot (counters from zero) adds
// on to what was counted before.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>

#include "dataplane/tables.h"
#include "web/snapshot.h"

namespace warden::web {

// Unix ms of the local midnight that starts the day holding unix_ms (DST-aware).
int64_t local_midnight_ms(int64_t unix_ms);

class TodayCounters {
public:
    // Loads the file if it is there and holds today's numbers; anything unreadable is
    // reported in problem() and counting starts afresh.
    TodayCounters(std::filesystem::path file, int64_t now_ms);

    // first_seen_ms: when the device appeared (unix ms), to tell whether all of its counts
    // are today's. Returns every device's bytes today.
    std::map<net::Mac, TodayTraffic> update(const std::map<net::Mac, dataplane::DeviceCounters>& counters,
                                            const std::map<net::Mac, int64_t>& first_seen_ms, int64_t now_ms);
    int64_t midnight_ms() const { return midnight_ms_; }
    void save() const;
    const std::string& problem() const { return problem_; }

private:
    using Bytes = std::array<uint64_t, 3>;  // up, down, lateral
    struct Device {
        Bytes base{};     // the counters when today's counting started
        Bytes carried{};  // counted today before the counters restarted (a reboot)
        Bytes last{};     // the counters at the last update
    };

    std::filesystem::path file_;
    int64_t midnight_ms_ = 0;
    std::map<net::Mac, Device> devices_;
    std::string problem_;
};

}  // namespace warden::web
