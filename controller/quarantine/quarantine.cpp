#include "quarantine/quarantine.h"

#include <time.h>

#include <algorithm>
#include <map>

#include "store/files.h"

namespace warden::quarantine {

using nlohmann::json;
using store::QuarantineRecord;

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

std::optional<uint32_t> parse_level(const std::string& name) {
    if (name == "isolate") return WD_LEVEL_ISOLATE;
    if (name == "restricted") return WD_LEVEL_RESTRICTED;
    return std::nullopt;
}

const char* level_name(uint32_t level) {
    switch (level) {
        case WD_LEVEL_ISOLATE: return "isolate";
        case WD_LEVEL_RESTRICTED: return "restricted";
        default: return "none";
    }
}

uint32_t origin_code(const std::string& origin) {
    if (origin == "operator") return WD_ORIGIN_OPERATOR;
    if (origin == "detector") return WD_ORIGIN_DETECTOR;
    if (origin == "policy") return WD_ORIGIN_POLICY;
    return WD_ORIGIN_UNSPEC;
}

namespace {

// A record for a quarantine the kernel holds but the state file lost.
QuarantineRecord unrecorded(const net::Mac& mac) {
    QuarantineRecord r;
    r.mac = mac;
    return r;
}

json event_for(const char* kind, const QuarantineRecord& r) {
    json e = store::to_json(r);
    e["kind"] = kind;
    return e;
}

}  // namespace

Manager::Manager(dataplane::QuarantineTable table, const store::StateDir& state, store::EventLog& events)
    : table_(table), state_(state), events_(events) {}

std::vector<QuarantineRecord> Manager::load_records(std::vector<std::string>* problems) const {
    auto loaded = state_.load_quarantines();
    // Damage moves the file aside: the valid records go back into a fresh file at once, or
    // the first reader to find the damage (a `quarantine list`, a poll) would leave no state
    // file and a reboot would lose every quarantine in it. Callers hold the state dir's lock.
    if (loaded.moved_aside) state_.save_quarantines(loaded.records);
    if (loaded.moved_aside) loaded.problems.push_back("damaged file kept as " + loaded.moved_aside->string());
    if (problems)
        problems->insert(problems->end(), loaded.problems.begin(), loaded.problems.end());
    else if (on_problem_)
        for (const auto& p : loaded.problems) on_problem_(p);
    return loaded.records;
}

// Writes the record into the kernel map, converting wall-clock expiry to CLOCK_MONOTONIC.
void Manager::enforce(const QuarantineRecord& r) {
    uint64_t mono_now = monotonic_ns();
    int64_t wall_now = store::now_unix_ms();
    uint64_t since = mono_now - std::min<uint64_t>(mono_now, uint64_t(std::max<int64_t>(0, wall_now - r.since_ms)) * 1000000ull);
    uint64_t expires = 0;
    if (r.expires_ms) {
        int64_t left_ms = std::max<int64_t>(*r.expires_ms - wall_now, 1);
        expires = mono_now + uint64_t(left_ms) * 1000000ull;
    }
    table_.put(r.mac, *parse_level(r.level), origin_code(r.origin), since, expires);
}

void Manager::add(const QuarantineRecord& record) {
    store::DirLock lock(state_.path());
    auto records = load_records(nullptr);
    enforce(record);  // enforcement first: if the map refuses, nothing else changes
    auto it = std::find_if(records.begin(), records.end(), [&](auto& r) { return r.mac == record.mac; });
    if (it != records.end())
        *it = record;
    else
        records.push_back(record);
    state_.save_quarantines(records);
    events_.append(event_for("quarantine", record));
}

bool Manager::release(const net::Mac& mac, const std::string& why, const std::string& by) {
    store::DirLock lock(state_.path());
    auto records = load_records(nullptr);
    bool in_map = table_.remove(mac);
    auto it = std::find_if(records.begin(), records.end(), [&](auto& r) { return r.mac == mac; });
    if (!in_map && it == records.end()) return false;
    QuarantineRecord released = it != records.end() ? *it : unrecorded(mac);
    if (it != records.end()) records.erase(it);
    state_.save_quarantines(records);
    json e = event_for("release", released);
    e["why"] = why;
    e["by"] = by;
    events_.append(e);
    return true;
}

std::vector<QuarantineRecord> Manager::expire() {
    uint64_t mono_now = monotonic_ns();
    int64_t wall_now = store::now_unix_ms();
    std::map<net::Mac, QuarantineRecord> due;
    {
        store::DirLock lock(state_.path());
        auto records = load_records(nullptr);
        auto record_of = [&](const net::Mac& mac) {
            auto it = std::find_if(records.begin(), records.end(), [&](auto& r) { return r.mac == mac; });
            return it != records.end() ? *it : unrecorded(mac);
        };
        for (const auto& q : table_.list())
            if (q.expires_ns && q.expires_ns <= mono_now) due.emplace(q.mac, record_of(q.mac));
        // Records whose wall-clock expiry passed, even if the map lost them.
        for (const auto& r : records)
            if (r.expires_ms && *r.expires_ms <= wall_now) due.emplace(r.mac, r);
    }
    std::vector<QuarantineRecord> released;
    for (const auto& [mac, rec] : due)
        if (release(mac, "expired", "warden")) released.push_back(rec);
    return released;
}

std::vector<Status> Manager::list() const {
    store::DirLock lock(state_.path());  // reading may repair a damaged file (load_records)
    std::map<net::Mac, Status> by_mac;
    for (const auto& r : load_records(nullptr)) by_mac[r.mac].record = r;
    for (const auto& q : table_.list()) {
        auto& s = by_mac[q.mac];
        if (s.record.since_ms == 0) {  // enforced but unrecorded: describe it from the map
            s.record.mac = q.mac;
            s.record.level = level_name(q.level);
            s.record.origin = q.origin == WD_ORIGIN_DETECTOR ? "detector" : "operator";
            s.record.reason = "(not in the state file)";
        }
        s.enforced = true;
        s.kernel = q;
    }
    std::vector<Status> out;
    for (auto& [mac, s] : by_mac) out.push_back(std::move(s));
    return out;
}

Manager::RestoreReport Manager::restore(bool maps_fresh) {
    RestoreReport report;
    store::DirLock lock(state_.path());
    auto records = load_records(&report.problems);
    int64_t wall_now = store::now_unix_ms();
    std::vector<QuarantineRecord> kept;

    if (maps_fresh) {
        for (const auto& r : records) {
            if (r.expires_ms && *r.expires_ms <= wall_now) {
                ++report.expired_while_down;
                json e = event_for("release", r);
                e["why"] = "expired while warden was down";
                e["by"] = "warden";
                events_.append(e);
                continue;
            }
            enforce(r);
            kept.push_back(r);
            ++report.restored;
        }
    } else {
        auto in_map = table_.list();
        for (const auto& r : records) {
            bool present = std::any_of(in_map.begin(), in_map.end(), [&](auto& q) { return q.mac == r.mac; });
            if (present) {
                kept.push_back(r);
            } else {
                ++report.dropped;
                report.dropped_macs.push_back(r.mac.str());
            }
        }
        for (const auto& q : in_map) {
            bool recorded = std::any_of(kept.begin(), kept.end(), [&](auto& r) { return r.mac == q.mac; });
            if (recorded) continue;
            QuarantineRecord r;
            r.mac = q.mac;
            r.level = level_name(q.level);
            r.origin = q.origin == WD_ORIGIN_DETECTOR ? "detector" : "operator";
            r.reason = "found in the kernel map at start-up";
            uint64_t mono_now = monotonic_ns();
            r.since_ms = wall_now - int64_t((mono_now - std::min(mono_now, q.since_ns)) / 1000000ull);
            if (q.expires_ns) r.expires_ms = wall_now + int64_t((q.expires_ns - std::min(q.expires_ns, mono_now)) / 1000000ull);
            kept.push_back(r);
            ++report.adopted;
        }
    }
    if (!records.empty() || !kept.empty() || !report.problems.empty()) state_.save_quarantines(kept);
    return report;
}

}  // namespace warden::quarantine
