#include "daemon/inventory.h"

#include <algorithm>

#include "log/log.h"

namespace warden::daemon {

using nlohmann::json;

namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kFloodReportEveryMs = 10 * kMinuteMs;
// A device the kernel counted within this long is "active" and goes after the idle ones.
constexpr int64_t kActiveMs = 10 * kMinuteMs;

}  // namespace

std::vector<std::string> Inventory::restore(const policy::Policy& policy) {
    auto loaded = state_.load_inventory();
    std::vector<std::string> problems = loaded.problems;
    if (loaded.moved_aside) problems.push_back("damaged inventory kept as " + loaded.moved_aside->string());
    for (auto& r : loaded.records) records_[r.mac] = std::move(r);
    if (!loaded.problems.empty()) dirty_ = true;
    configure(policy);
    return problems;
}

void Inventory::configure(const policy::Policy& policy) {
    names_.clear();
    for (const auto& d : policy.devices) names_[d.mac] = d.name;
    // Twice the kernel's device map: every device the kernel counts fits, with room for the
    // ones it forgot.
    limit_ = std::max<size_t>(2 * policy.map_sizes.devices, 64);
    for (auto& [mac, rec] : records_) {
        auto it = names_.find(mac);
        std::string name = it != names_.end() ? it->second : "";
        if (rec.name != name) {
            rec.name = name;
            dirty_ = true;
        }
    }
}

store::DeviceRecord& Inventory::entry(const net::Mac& mac, int64_t first_seen_ms, const std::string& interface) {
    auto [it, added] = records_.try_emplace(mac);
    if (!added) return it->second;
    auto& rec = it->second;
    rec.mac = mac;
    rec.first_seen_ms = rec.last_seen_ms = first_seen_ms;
    if (auto n = names_.find(mac); n != names_.end()) rec.name = n->second;
    dirty_ = true;
    json e{{"kind", "new_device"}, {"mac", mac.str()}};
    if (!interface.empty()) e["interface"] = interface;
    log::info("new device {}{}", mac.str(), interface.empty() ? "" : " on " + interface);
    try {
        events_.append(e);
    } catch (const std::exception& ex) {
        log::warn("cannot write the new_device event of {}: {}", mac.str(), ex.what());
    }
    count_new_mac(interface.empty() ? "(port unknown)" : interface, first_seen_ms);
    if (on_new_) on_new_(mac);
    return rec;
}

void Inventory::count_new_mac(const std::string& interface, int64_t now_ms) {
    auto& w = ports_[interface];
    if (now_ms - w.start_ms >= kMinuteMs) {
        w.start_ms = now_ms;
        w.new_macs = 0;
    }
    ++w.new_macs;
    if (w.new_macs < kMacFloodPerMinute || now_ms - w.flood_reported_ms < kFloodReportEveryMs) return;
    w.flood_reported_ms = now_ms;
    ++mac_floods_;
    std::string text = std::to_string(w.new_macs) + " new MAC addresses on " + interface +
                       " within a minute: a device there is flooding source MACs (or a switch loop)";
    log::warn("finding: mac_flood: {}", text);
    try {
        events_.append({{"kind", "mac_flood"}, {"interface", interface}, {"new_macs", w.new_macs}, {"text", text}});
    } catch (const std::exception& ex) {
        log::warn("cannot write the mac_flood event: {}", ex.what());
    }
}

void Inventory::observe(const dataplane::DeviceCounters& d, int64_t now_ms, uint64_t now_ns) {
    auto ms_of = [&](uint64_t stamp_ns) { return now_ms - int64_t((now_ns - std::min(now_ns, stamp_ns)) / 1000000); };
    auto& rec = entry(d.mac, ms_of(d.first_seen_ns), "");
    if (d.last_seen_ns) rec.last_seen_ms = std::max(rec.last_seen_ms, ms_of(d.last_seen_ns));
    if (d.ip4 && rec.ip4 != d.ip4) {
        rec.ip4 = d.ip4;
        dirty_ = true;
    }
    if (d.ip6 && rec.ip6 != d.ip6) {
        rec.ip6 = d.ip6;
        dirty_ = true;
    }
}

bool Inventory::set_identity(const net::Mac& mac, const json& identity, int64_t now_ms) {
    auto& rec = entry(mac, now_ms, "");
    if (rec.identity == identity) return false;
    rec.identity = identity;
    identities_unsaved_ = true;
    return true;
}

size_t Inventory::keep_bound(const std::function<bool(const net::Mac&)>& is_protected,
                             const std::set<net::Mac>& counted, int64_t now_ms) {
    if (records_.size() <= limit_) return 0;
    // Tiers, first evicted first: idle devices; devices active lately or counted now; named
    // or quarantined devices, which are never evicted (the bound may be passed for them).
    struct Candidate {
        int tier;
        int64_t last_seen_ms;
        net::Mac mac;
    };
    std::vector<Candidate> candidates;
    for (const auto& [mac, rec] : records_) {
        if (!rec.name.empty() || is_protected(mac)) continue;
        bool active = counted.count(mac) || now_ms - rec.last_seen_ms < kActiveMs;
        candidates.push_back({active ? 1 : 0, rec.last_seen_ms, mac});
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
        return a.tier != b.tier ? a.tier < b.tier : a.last_seen_ms < b.last_seen_ms;
    });
    size_t excess = records_.size() - limit_;
    size_t n = std::min(excess, candidates.size());
    for (size_t i = 0; i < n; ++i) records_.erase(candidates[i].mac);
    if (n == 0) return 0;
    evicted_ += n;
    dirty_ = true;
    log::warn("inventory: {} device(s) over its bound of {}: forgot the {} least recently seen", excess, limit_, n);
    try {
        events_.append({{"kind", "inventory_evicted"}, {"devices", n}, {"limit", limit_}});
    } catch (const std::exception& ex) {
        log::warn("cannot write the inventory_evicted event: {}", ex.what());
    }
    return n;
}

void Inventory::save_if_due(int64_t now_ms, bool force) {
    int64_t since = now_ms - saved_ms_;
    if (!force && !dirty_ && !(identities_unsaved_ && since >= kIdentityEveryMs) && since <= kStampsEveryMs) return;
    std::vector<store::DeviceRecord> list;
    list.reserve(records_.size());
    for (const auto& [mac, r] : records_) list.push_back(r);
    saved_ms_ = now_ms;  // a failed save stays due (dirty) and is tried again next poll
    state_.save_inventory(list);
    dirty_ = identities_unsaved_ = false;
}

}  // namespace warden::daemon
