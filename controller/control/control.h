// The control core: the one owner of every change to what warden enforces or knows —
// quarantine, release, false positive, block/unblock, blocklist replace, profile import,
// detector settings from the operator.
// Every surface is a thin client of it: the daemon's detectors and expiry call it directly,
// the status page and the CLI reach it through the running controller (control/server.h),
// and with no controller running the CLI runs it in its own process (control/client.h).
// One code path either way.
//
// An operation is all-or-nothing as the operator sees it: the state file changes first, the
// kernel second (and the state is put back if the kernel refuses), then the event is written.
// A crash between the two steps leaves the state file ahead of the kernel, and reconcile()
// (every poll, and at start) brings the kernel in line. Each operation records who asked and
// returns a Result every surface can show.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "blocklist/blocklist.h"
#include "control/enforcement.h"
#include "control/gateway.h"
#include "control/learning.h"
#include "control/result.h"
#include "policy/policy.h"
#include "quarantine/quarantine.h"
#include "store/events_log.h"
#include "store/state.h"

namespace warden::control {

// The longest reason a quarantine may carry (bytes of UTF-8).
inline constexpr size_t kMaxReason = 500;

struct QuarantineOrder {
    std::string mac;
    std::optional<std::string> level;     // isolate | restricted; default: the policy's
    std::optional<std::string> duration;  // "90s", "1h", "7d", "forever"; default: the policy's
    std::string reason;
};

struct ReleaseOrder {
    std::string mac;
    bool false_positive = false;          // the finding was wrong: teach the engine
    std::optional<std::string> detector;  // with false_positive: only this detector learns
    std::string why;                      // for the record; default from who asked
};

struct BlockOrder {
    struct Item {
        std::string prefix;
        std::optional<std::string> direction;  // default: the order's
    };
    std::vector<Item> items;
    std::string direction = "both";  // in | out | both
    bool force = false;              // block even what would cut the LAN off the gateway
};

class Control {
public:
    struct Settings {
        policy::QuarantineDefaults defaults;
        GatewayFacts gateway;
        engine::Config detectors;  // the policy's; the operator's adjustments go over them
    };

    Control(const store::StateDir& state, store::EventLog& events, Enforcement& enforcement, Learning& learning,
            Settings settings);

    void configure(Settings settings) { settings_ = std::move(settings); }

    // At start: reads the quarantine book and the operator's blocklist; a quarantine only the
    // kernel holds is kept when the book was damaged (its record may be what was lost) and
    // dropped when the book is intact (a release that stopped half-way). Returns problems.
    std::vector<std::string> load();

    Result quarantine(const QuarantineOrder& order, const Who& who);
    Result release(const ReleaseOrder& order, const Who& who);
    Result block(const BlockOrder& order, const Who& who);
    Result unblock(const std::string& prefix, const Who& who);
    // The operator's whole blocklist at once (the cloud's versioned list): all or nothing.
    Result replace_blocklist(const std::vector<blocklist::Entry>& entries, const std::string& version,
                             const Who& who);
    Result import_profiles(const nlohmann::json& profiles, const Who& who);
    // The operator adjusts detector settings: `settings` is the
    // text of a JSON object shaped as the policy's `detectors:` section, merged over earlier
    // adjustments (RFC 7386: null puts a key back to the policy's), checked by the policy's
    // reader, all or nothing; kept in the state dir, so it holds across restarts and reloads.
    Result adjust_detectors(const std::string& settings, const Who& who);
    // The policy's detector settings with the operator's adjustments over them, handed to the
    // engine: at start and after every reload. Returns a problem ("" when none).
    std::string apply_detector_settings();
    Result save_learning(const Who& who);
    // Quarantines as the book and the kernel hold them (detail: {"quarantines": [...]}).
    Result list_quarantines() const;

    // The operations as JSON requests ({"op": "quarantine", "mac": ..., ...}): what the
    // control socket and the cloud channel carry.
    Result execute(const nlohmann::json& request, const Who& who);
    // Whether an operation changes anything (the socket lets only root ask for those).
    static bool changes_state(const std::string& op);

    // Upkeep, in the controller's poll. Releases every quarantine whose time is up.
    std::vector<store::QuarantineRecord> expire(int64_t now_ms, const std::string& why = "expired");
    // The quarantine file as the book left it (quarantine::Book::guard_file); returns what was
    // done about a file someone else changed, "" when nothing was needed. Throws when the file
    // cannot be written again.
    std::string guard_state();
    // Makes the kernel's quarantine map agree with the book; returns what it changed.
    std::vector<std::string> reconcile();
    // Makes the operator's entries in the kernel's tries agree with the operator's list;
    // returns what it changed, throws when the kernel refuses.
    std::vector<std::string> reconcile_blocks();
    // Saves changes that could not be saved before (a full disk); returns the problem or "".
    std::string save_pending();
    // Applies what was asked of the engine while warden was down (control/learning.h).
    std::vector<std::string> apply_pending();

    // "" when every change is on disk; else why not.
    const std::string& unsaved_problem() const { return unsaved_problem_; }
    const quarantine::Book& book() const { return book_; }
    // The operator's blocklist as `warden status` shows it: its prefixes and the version the
    // cloud last replaced it with.
    const blocklist::OperatorList& operator_blocklist() const { return operator_list_; }

private:
    Result do_release(const net::Mac& mac, const std::string& why, const Who& who, bool teach_release);
    void log_event(nlohmann::json event, Result& result);
    Result teach(const net::Mac& mac, std::optional<engine::Detector> detector, const Who& who, Result result);
    std::vector<std::string> load_detector_settings();

    const store::StateDir& state_;
    store::EventLog& events_;
    Enforcement& enforcement_;
    Learning& learning_;
    Settings settings_;
    quarantine::Book book_;
    blocklist::OperatorList operator_list_;
    nlohmann::json detector_adjustments_ = nlohmann::json::object();  // merged, as saved
    std::string unsaved_problem_;
};

}  // namespace warden::control
