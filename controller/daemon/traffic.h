// Each device's traffic now: rates from counter deltas between polls, and active flows from a
// pass over the flow table. Walking tens of thousands of flows costs more than the rest of a
// poll, so each poll walks a slice and a whole pass takes about kFlowPassMs. The same walk
// says how many bytes each device exchanged with each far end (for upload to destinations
// new to it), from the flows that carried at least kPeerFlowMinBytes up.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "dataplane/evictions.h"
#include "dataplane/tables.h"
#include "engine/sample.h"
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
    // Smaller flows are not followed: a flow's first 64 kB are counted when it reaches them,
    // and the memory kept is one entry per flow that did (24 bytes and the table's).
    static constexpr uint64_t kPeerFlowMinBytes = 64 * 1024;

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
    // Bytes by device and far end that the walk saw move since the previous call.
    std::vector<std::pair<net::Mac, engine::PeerBytes>> take_peer_bytes();

private:
    void follow_bytes(const wd_flow_key& k, const wd_flow_stats& f);

    std::map<net::Mac, Rates> rates_;
    std::map<net::Mac, dataplane::DeviceCounters> counters_;
    std::unordered_map<uint64_t, size_t> active_;
    size_t entries_ = 0;
    std::unique_ptr<dataplane::FlowScan> scan_;  // the pass under way
    std::unordered_map<uint64_t, size_t> scan_active_;
    size_t scan_entries_ = 0;
    uint64_t scan_started_ns_ = 0;
    // The flows followed for their bytes: key hash -> bytes each way when last visited, and
    // the pass that visited them (a flow not visited in a whole pass is gone).
    struct FlowBytes {
        uint64_t up = 0, down = 0;
        uint32_t pass = 0;
    };
    std::unordered_map<uint64_t, FlowBytes> flow_bytes_;
    uint32_t pass_ = 0;
    std::map<std::pair<net::Mac, net::IpAddr>, engine::PeerBytes> peer_bytes_;
};

}  // namespace warden::daemon
