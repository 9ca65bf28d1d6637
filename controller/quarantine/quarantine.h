// Quarantines as warden remembers them: the records (who, how, why, until when) kept in
// <state dir>/quarantine.jsonl. The control core (control/) is the only writer; it changes the
// book first and the kernel map second, so a reboot or a crash in between never forgets a
// quarantine or resurrects a release.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/tables.h"
#include "store/state.h"

namespace warden::quarantine {

uint64_t monotonic_ns();

// wd_quarantine_level <-> "isolate" / "restricted"
std::optional<uint32_t> parse_level(const std::string& name);
const char* level_name(uint32_t level);
// A record's origin ("operator", "detector", "policy") as the kernel's WD_ORIGIN_*.
uint32_t origin_code(const std::string& origin);
const char* origin_of_code(uint32_t code);

// A quarantine seen from both sides: the record and, when enforced, the kernel's counters.
struct Status {
    store::QuarantineRecord record;
    bool recorded = true;   // in the book (false: only the kernel has it)
    bool enforced = false;  // present in the kernel map
    std::optional<dataplane::QuarantineEntry> kernel;
};

class Book {
public:
    explicit Book(const store::StateDir& state) : state_(state) {}

    struct LoadReport {
        std::vector<std::string> problems;  // one per damaged line, and where the damage went
        bool intact = true;                 // false: damaged or unreadable; some records may be lost
    };
    // Reads the file. Damage costs the damaged lines only: the readable records are written
    // back at once (the damaged file is kept aside), so the next reader finds them.
    LoadReport load();

    const std::vector<store::QuarantineRecord>& records() const { return records_; }
    const store::QuarantineRecord* find(const net::Mac& mac) const;

    // Adds or replaces a record and saves; if saving fails the book is as it was, and this
    // throws with the reason.
    void put(const store::QuarantineRecord& record);
    // Removes and saves (false: there was none); throws like put, the book unchanged.
    bool erase(const net::Mac& mac);
    // A change that holds even when it cannot be saved (a detector's quarantine on a full
    // disk): kept in memory and saved by save_pending() later.
    void put_unsaved(const store::QuarantineRecord& record);
    bool erase_unsaved(const net::Mac& mac);
    bool has_unsaved() const { return unsaved_; }
    // Saves what could not be saved before; throws if it still cannot.
    void save_pending();

    // While warden runs the file is its own: when someone else changed it since this book
    // last read or wrote it, it is moved aside and written again from the book (nothing in
    // the book is lost, and nothing half-edited reaches the next start). Returns what was
    // done, or "" when the file is as this book left it.
    std::string guard_file();

private:
    void save(const std::vector<store::QuarantineRecord>& records);
    void remember_file();

    const store::StateDir& state_;
    std::vector<store::QuarantineRecord> records_;
    bool unsaved_ = false;
    struct Stamp {
        bool exists = false;
        uint64_t inode = 0, size = 0;
        int64_t mtime_ns = 0;
        bool operator==(const Stamp&) const = default;
    } stamp_;
};

}  // namespace warden::quarantine
