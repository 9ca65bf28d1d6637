// Each device's traffic now: rates from counter deltas between polls, and active flows from a
// pass over the flow table. Walking tens of thousands of flows costs more than the rest of a
// poll, so each poll walks a slice and a whole pass takes about kFlowPassMs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "dataplane/evictions.h"
#include "dataplane/tables.h"
#include "net/address.h"

namespace warden::daemon {

struct Rates {
    double up = 0, down = 0, lateral = 0, bcast = 0;  // bytes/s
    double packets = 0;                               // frames/s, both directions
};

// A MAC as an integer, for hashing in the flow walk.
uint64_t mac_key(const uint8_t* mac);

class Traffic {
public:
    static constexpr int64_t kFlowPassMs = 5'000;

    // This poll's counters (dt: seconds since the previous poll, 0 for the first).
    void update_rates(const std::vector<dataplane::DeviceCounters>& devices, double dt);
    // Walks the next slice of the flow table (interval_ms: the poll interval; capacity: the
    // flow map's size). Flows seen within the last interval before the pass began count.
    // Each whole pass is also a walk that tells `evictions` what the LRU map evicted.
    void scan_flows(const dataplane::FlowTable& table, uint64_t now_ns, int64_t interval_ms, size_t capacity,
                    dataplane::Evictions& evictions);

    const std::map<net::Mac, Rates>& rates() const { return rates_; }
    const std::map<net::Mac, dataplane::DeviceCounters>& counters() const { return counters_; }
    // By mac_key, from the latest complete pass.
    const std::unordered_map<uint64_t, size_t>& active_flows() const { return active_; }
    size_t active_flows(const net::Mac& mac) const;
    size_t flow_entries() const { return entries_; }

private:
    std::map<net::Mac, Rates> rates_;
    std::map<net::Mac, dataplane::DeviceCounters> counters_;
    std::unordered_map<uint64_t, size_t> active_;
    size_t entries_ = 0;
    std::unique_ptr<dataplane::FlowScan> scan_;  // the pass under way
    std::unordered_map<uint64_t, size_t> scan_active_;
    size_t scan_entries_ = 0;
    uint64_t scan_started_ns_ = 0;
};

}  // namespace warden::daemon
