// Every device warden has heard of, with what it knows of each (first/last seen, addresses,
// the policy's name, identity): what `warden devices`, the page and the cloud's inventory
// list. A device enters once, whichever way warden first hears of it, and is announced once.
//
// Bounded: a LAN device spoofing thousands of source MACs must not grow it (or the page's
// device list, or the poll) without end. Past the bound the least recently seen devices go
// first, and never a named or quarantined one, nor one the kernel counts now, before all
// others have gone. Each eviction is counted and logged; many new MACs from one port in a
// minute are a finding of their own (a MAC flood).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dataplane/tables.h"
#include "net/address.h"
#include "policy/policy.h"
#include "store/events_log.h"
#include "store/state.h"

namespace warden::daemon {

class Inventory {
public:
    Inventory(const store::StateDir& state, store::EventLog& events) : state_(state), events_(events) {}

    // At start: the saved devices, their names from the policy. Returns problems found.
    std::vector<std::string> restore(const policy::Policy& policy);
    // At start and on reload: names and the bound.
    void configure(const policy::Policy& policy);

    // Called with each device heard of for the first time, after its new_device event.
    void on_new_device(std::function<void(const net::Mac&)> callback) { on_new_ = std::move(callback); }
    // The device's record, made (and announced) the first time warden hears of it.
    store::DeviceRecord& entry(const net::Mac& mac, int64_t first_seen_ms, const std::string& interface);
    // This poll's counters: last seen, addresses.
    void observe(const dataplane::DeviceCounters& device, int64_t now_ms, uint64_t now_ns);
    // A changed identity (identity/); returns whether the record changed.
    bool set_identity(const net::Mac& mac, const nlohmann::json& identity, int64_t now_ms);

    // Keeps to the bound; protect says which devices go last (quarantined ones). Returns how
    // many were evicted now.
    size_t keep_bound(const std::function<bool(const net::Mac&)>& is_protected, const std::set<net::Mac>& counted,
                      int64_t now_ms);

    // Saves when something important changed, identities every kIdentityEveryMs, last-seen
    // stamps every kStampsEveryMs; `force` saves now. Throws when it cannot write.
    void save_if_due(int64_t now_ms, bool force = false);

    const std::map<net::Mac, store::DeviceRecord>& records() const { return records_; }
    size_t limit() const { return limit_; }
    uint64_t evicted() const { return evicted_; }
    uint64_t mac_floods() const { return mac_floods_; }

    static constexpr int64_t kStampsEveryMs = 60'000;
    static constexpr int64_t kIdentityEveryMs = 5'000;
    // New MACs on one port within a minute that make a MAC flood finding.
    static constexpr size_t kMacFloodPerMinute = 64;

private:
    std::function<void(const net::Mac&)> on_new_;
    void count_new_mac(const std::string& interface, int64_t now_ms);

    const store::StateDir& state_;
    store::EventLog& events_;
    std::map<net::Mac, store::DeviceRecord> records_;
    std::map<net::Mac, std::string> names_;  // from the policy
    size_t limit_ = 2048;
    bool dirty_ = false;             // a change that must reach the disk soon
    bool identities_unsaved_ = false;
    int64_t saved_ms_ = 0;
    uint64_t evicted_ = 0;
    uint64_t mac_floods_ = 0;
    struct PortWindow {
        int64_t start_ms = 0;
        size_t new_macs = 0;
        int64_t flood_reported_ms = 0;
    };
    std::map<std::string, PortWindow> ports_;
};

}  // namespace warden::daemon
