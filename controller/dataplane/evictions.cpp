#include "dataplane/evictions.h"

#include <algorithm>
#include <stdexcept>

namespace warden::dataplane {

Churn churn(const wd_prog_stats& total, MapId map) {
    switch (map) {
        case MapId::devices: return {total.devices_added, total.devices_removed};
        case MapId::flows: return {total.flows_added, total.flows_removed};
        default: throw std::invalid_argument("evictions are counted for the device and flow maps only");
    }
}

uint64_t evicted_at_least(const Churn& before_walk, uint64_t seen, const Churn& after_walk) {
    uint64_t gone = seen + after_walk.removed;
    return before_walk.added > gone ? before_walk.added - gone : 0;
}

size_t Evictions::index(MapId map) {
    if (map != MapId::devices && map != MapId::flows)
        throw std::invalid_argument("evictions are counted for the device and flow maps only");
    return map == MapId::devices ? 0 : 1;
}

void Evictions::walk_started(MapId map) {
    size_t i = index(map);
    before_[i] = churn(stats_.total(), map);
    started_[i] = true;
}

void Evictions::walk_ended(MapId map, uint64_t seen) {
    size_t i = index(map);
    if (!started_[i]) return;  // a walk that began before the counting did proves nothing
    started_[i] = false;
    count_[i] = std::max(count_[i], evicted_at_least(before_[i], seen, churn(stats_.total(), map)));
}

}  // namespace warden::dataplane
