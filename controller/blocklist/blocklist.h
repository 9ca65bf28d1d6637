// Blocklists: prefix files as operators write them (one prefix a line, '#' comments), and
// keeping the kernel's LPM tries in step with their sources (the policy's files and inline
// prefixes, and the operator's own `warden block add`, which is persisted in the state dir).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dataplane/tables.h"
#include "net/address.h"
#include "store/state.h"

namespace warden::blocklist {

// wd_block_value.list_id: where an entry came from.
inline constexpr uint32_t kOperatorList = 0;  // `warden block add/load`
inline constexpr uint32_t kPolicyInline = 1;  // blocklist.prefixes in the policy
inline constexpr uint32_t kPolicyFileBase = 100;  // + index in blocklist.files

struct Entry {
    net::Prefix prefix;
    uint32_t flags = WD_BLOCK_IN | WD_BLOCK_OUT;
    uint32_t list_id = kOperatorList;
};

struct ParseResult {
    std::vector<Entry> entries;
    std::vector<std::string> errors;  // "name:LINE: why"; any error means load nothing
};

// Parses "PREFIX [in|out|both]" lines; blank lines and '#' comments are skipped.
ParseResult parse_text(const std::string& text, const std::string& name, uint32_t default_flags,
                       uint32_t list_id);
ParseResult parse_file(const std::string& path, uint32_t default_flags, uint32_t list_id);

// "in" / "out" / "both" <-> WD_BLOCK_* flags.
std::optional<uint32_t> parse_direction(const std::string& text);
std::string direction_name(uint32_t flags);

// Makes the kernel's entries with list ids other than kOperatorList equal to `wanted`
// (the policy's), leaving the operator's alone. Returns {added, removed}.
std::pair<int, int> sync_policy_entries(dataplane::Blocklist& table, const std::vector<Entry>& wanted);

// The operator's entries (`warden block add/del/load`, the cloud's blocklist), kept in the
// state dir so they survive a reboot. The control core changes this list first and the
// kernel's tries second. A damaged line costs that line only: the readable entries are
// written back at once and the damaged file kept aside.
class OperatorList {
public:
    explicit OperatorList(const store::StateDir& state) : state_(state) {}

    // Reads the file; returns one problem per damaged line (and where the damage went).
    std::vector<std::string> load();
    const std::vector<Entry>& entries() const { return entries_; }
    // The version of the list the operator's cloud replaced it with last ("" when none):
    // what `warden status` shows, kept in the file's "# version: " line. Local changes
    // after it (block add/del) keep it.
    const std::string& version() const { return version_; }
    // Each change saves first; when saving fails the list is as it was and this throws.
    void add(const std::vector<Entry>& entries);  // an entry for a listed prefix replaces it
    bool remove(const net::Prefix& prefix);
    // `version` must be printable text on one line (the control core makes it so).
    void replace(const std::vector<Entry>& entries, const std::string& version = "");

private:
    void save(const std::vector<Entry>& entries, const std::string& version) const;

    const store::StateDir& state_;
    std::vector<Entry> entries_;
    std::string version_;
};

}  // namespace warden::blocklist
