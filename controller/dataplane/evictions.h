// Entries the kernel's LRU maps (wd_devices, wd_flows) evicted to make room for new ones.
// The kernel counts no evictions and an LRU insert never fails, so they are derived: the
// programs count the entries they add, userspace the ones it removes (wd_prog_stats), and a
// walk of the map counts the entries present. What was added and is neither present nor
// removed was evicted.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/maps.h"
#include "dataplane/tables.h"
#include "warden/abi.h"

namespace warden::dataplane {

// What was added to one LRU map and removed from it by userspace, all slots summed.
struct Churn {
    uint64_t added = 0, removed = 0;
};
Churn churn(const wd_prog_stats& total, MapId map);  // map: devices or flows

// At least how many entries were evicted by the end of a walk of the map that found `seen`
// entries, from the counters read before the walk began and after it ended. Exact when the
// map did not change during the walk. When it did, never more than the truth: an entry
// added during the walk may or may not be seen, so only those added before it are counted,
// while every removal up to its end is. (Each entry present at the start was seen, evicted
// or removed by the end, so added_before - seen - removed_after <= evicted.)
uint64_t evicted_at_least(const Churn& before_walk, uint64_t seen, const Churn& after_walk);

// The two maps' evictions for a controller that walks them now and then: walk_started()
// before a walk begins, walk_ended() once it is complete. Each count is the highest bound
// seen so far, so it only grows (evictions do), as a Prometheus counter must.
struct EvictionTotals {
    uint64_t devices = 0, flows = 0;
};

class Evictions {
public:
    explicit Evictions(StatsTable stats) : stats_(stats) {}
    void walk_started(MapId map);
    void walk_ended(MapId map, uint64_t seen);
    EvictionTotals totals() const { return {count_[0], count_[1]}; }

private:
    static size_t index(MapId map);

    StatsTable stats_;
    std::array<Churn, 2> before_{};
    std::array<bool, 2> started_{};
    std::array<uint64_t, 2> count_{};
};

}  // namespace warden::dataplane
