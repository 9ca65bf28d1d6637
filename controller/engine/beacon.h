// Beaconing: a device that, once it has a history (past its first hour: the engine decides),
// starts connecting to an address it never contacted before at regular intervals (malware
// checking in with its controller). Every new address is noted with the time of its first connection (the last
// 128 of them); one that comes back becomes a candidate, whose last few connection times
// are kept, and the tracker reports when the last `repeats` intervals are equal within the
// jitter. A plug's periodic check-in with its own cloud host is not a candidate: that host
// is in its history from the first day. (A device meeting more than 128 new addresses
// within one beacon interval, a very busy laptop, can miss a slow beacon.)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/config.h"
#include "engine/features.h"
#include "engine/stats.h"

namespace warden::engine {

struct BeaconMatch {
    net::IpAddr peer;
    uint16_t port = 0;
    uint32_t intervals = 0;      // regular intervals in a row
    double mean_interval_s = 0;
    double jitter = 0;           // largest deviation from the mean, as a share of it
};

class BeaconTracker {
public:
    static constexpr size_t max_candidates = 8;
    static constexpr size_t max_first_seen = 128;
    static constexpr size_t max_times = 8;  // so `repeats` is at most 7
    // Connections closer than this belong to one check-in (e.g. DNS, then TCP).
    static constexpr int64_t same_burst_ms = 1'000;

    // A new connection. `fresh`: its address was not in the device's history;
    // `eligible`: the device has a history to compare with (the engine: past its first hour).
    std::optional<BeaconMatch> observe(const LoggedContact& contact, bool fresh, bool eligible,
                                       const Beaconing& settings);
    // Drops candidates silent for more than twice the longest interval.
    void expire(int64_t now_ms, const Beaconing& settings);
    void forget(const net::IpAddr& peer);
    size_t candidates() const { return candidates_.size(); }
    size_t heap_bytes() const {
        return allocation_bytes(candidates_.capacity() * sizeof(Candidate)) +
               allocation_bytes(first_seen_.capacity() * sizeof(FirstSeen));
    }

private:
    struct Candidate {
        net::IpAddr peer;
        uint32_t fingerprint = 0;
        uint16_t port = 0;
        uint8_t stored = 0;
        std::array<int64_t, max_times> times{};  // oldest first
    };
    struct FirstSeen {
        uint32_t fingerprint = 0;  // 0: taken (it became a candidate)
        int64_t time_ms = 0;
    };
    std::vector<Candidate> candidates_;
    std::vector<FirstSeen> first_seen_;  // ring of new addresses' first connections
    size_t first_seen_next_ = 0;
};

}  // namespace warden::engine
