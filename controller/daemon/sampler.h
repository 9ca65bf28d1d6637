// Turns what the data plane reports into the behaviour engine's per-tick samples: counter
// deltas between two polls, per device, and the new-flow events that arrived in between
// (a bounded number a device a tick; the rest are only counted).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "dataplane/tables.h"
#include "engine/sample.h"
#include "warden/abi.h"

namespace warden::daemon {

class Sampler {
public:
    explicit Sampler(size_t max_contacts_per_tick = 512) : max_contacts_(max_contacts_per_tick) {}

    // A WD_EV_NEW_FLOW event; time_ms is when it happened (unix ms).
    void on_new_flow(const wd_event_flow& event, int64_t time_ms);
    // Bytes the device exchanged with one far end (from the flow walk), for its next sample;
    // at most max_peers a device a tick, those it sent the most to.
    void on_peer_bytes(const net::Mac& device, const engine::PeerBytes& bytes);
    static constexpr size_t max_peers = 16;

    // One sample per device counted both now and at the previous call (a device seen for
    // the first time has no delta yet; one whose counters went backwards, e.g. evicted and
    // seen again, starts over). active_flows: from the latest pass over the flow table.
    std::vector<std::pair<net::Mac, engine::Sample>> tick(const std::vector<dataplane::DeviceCounters>& counters,
                                                          const std::map<net::Mac, uint64_t>& active_flows,
                                                          int64_t now_ms);

private:
    struct Pending {
        std::vector<engine::Contact> contacts;
        std::vector<engine::PeerBytes> peer_bytes;
        uint64_t dropped = 0;
    };
    size_t max_contacts_;
    std::map<net::Mac, Pending> pending_;
    std::map<net::Mac, dataplane::DeviceCounters> last_;
    int64_t last_ms_ = 0;
};

}  // namespace warden::daemon
