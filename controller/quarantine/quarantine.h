// Quarantine as one operation over three places: the kernel map (enforcement), the state
// file (survives reboots), and the events log (what a person reads later). The controller
// and operator commands both go through here, under the state dir's lock, so the three never
// disagree for longer than one call.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/tables.h"
#include "store/events_log.h"
#include "store/state.h"

namespace warden::quarantine {

uint64_t monotonic_ns();

// wd_quarantine_level <-> "isolate" / "restricted"
std::optional<uint32_t> parse_level(const std::string& name);
const char* level_name(uint32_t level);
uint32_t origin_code(const std::string& origin);

// A quarantine seen from both sides: the record and, when enforced, the kernel's counters.
struct Status {
    store::QuarantineRecord record;
    bool enforced = false;  // present in the kernel map
    std::optional<dataplane::QuarantineEntry> kernel;
};

class Manager {
public:
    Manager(dataplane::QuarantineTable table, const store::StateDir& state, store::EventLog& events);

    // Where damage found in the state file while reading it is reported (the controller's
    // log, the CLI's stderr); without one it goes unreported, though nothing valid is lost.
    void on_problem(std::function<void(const std::string&)> sink) { on_problem_ = std::move(sink); }

    // Quarantines (or re-quarantines with new terms) a device. Throws if the map refuses.
    void add(const store::QuarantineRecord& record);
    // Releases a device; returns false when it was not quarantined. why goes to the log
    // ("operator", "expired", "false positive", ...).
    bool release(const net::Mac& mac, const std::string& why, const std::string& by);
    // Releases every quarantine whose time is up; returns the records released.
    std::vector<store::QuarantineRecord> expire();
    std::vector<Status> list() const;

    struct RestoreReport {
        int restored = 0;                 // written into a fresh map from the state file
        int expired_while_down = 0;       // released because their time ran out meanwhile
        int adopted = 0;                  // in the kernel map but missing from the file
        int dropped = 0;                  // in the file but no longer in a reused map
        std::vector<std::string> dropped_macs;
        std::vector<std::string> problems;  // damaged state lines, moved aside
    };
    // At start-up. maps_fresh: the maps were just created (reboot, or after detach), so the
    // state file is the truth and is written into the map with the remaining time
    // recomputed. Otherwise the pinned map is the truth and the file is brought in line.
    RestoreReport restore(bool maps_fresh);

private:
    std::vector<store::QuarantineRecord> load_records(std::vector<std::string>* problems) const;
    void enforce(const store::QuarantineRecord& r);

    dataplane::QuarantineTable table_;
    const store::StateDir& state_;
    store::EventLog& events_;
    std::function<void(const std::string&)> on_problem_;
};

}  // namespace warden::quarantine
