#include "control/control.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "log/log.h"
#include "store/files.h"
#include "text/level.h"
#include "text/units.h"
#include "text/text.h"

namespace warden::control {

using nlohmann::json;
using Status = Result::Status;
using store::QuarantineRecord;

namespace {

std::optional<net::Mac> mac_of(const std::string& text, Result* error) {
    auto mac = net::Mac::parse(text);
    if (!mac) *error = Result::error(Status::invalid, "not a MAC address: \"" + text.substr(0, 40) +
                                                          "\" (expected aa:bb:cc:dd:ee:ff)");
    return mac;
}

// Whose judgement a quarantine is, as the kernel and the listings name it.
std::string judgement_of(const Who& who) {
    switch (who.origin) {
        case Origin::detector: return "detector";
        case Origin::warden: return "policy";
        default: return "operator";
    }
}

json by_of(const Who& who) {
    return who.user.empty() ? json(std::string(origin_name(who.origin)))
                            : json(std::string(origin_name(who.origin)) + ":" + who.user);
}

json event_for(const char* kind, const QuarantineRecord& r) {
    json e = store::to_json(r);
    e["kind"] = kind;
    return e;
}

std::optional<std::string> string_field(const json& req, const char* key, Result* error) {
    if (!req.contains(key) || req[key].is_null()) return std::nullopt;
    if (!req[key].is_string()) {
        *error = Result::error(Status::invalid, std::string("\"") + key + "\" must be a string");
        return std::nullopt;
    }
    return req[key].get<std::string>();
}

QuarantineRecord record_from_kernel(const dataplane::QuarantineEntry& q, int64_t wall_now, uint64_t mono_now) {
    QuarantineRecord r;
    r.mac = q.mac;
    // An entry at a level this build does not know (an older or newer warden wrote it) is
    // shown as the stricter one: that is what such an entry most likely is.
    r.level = text::level_of_kernel(q.level).value_or(text::QuarantineLevel::isolate);
    r.origin = quarantine::origin_of_code(q.origin);
    r.since_ms = wall_now - int64_t((mono_now - std::min(mono_now, q.since_ns)) / 1000000ull);
    if (q.expires_ns) r.expires_ms = wall_now + int64_t((q.expires_ns - std::min(q.expires_ns, mono_now)) / 1000000ull);
    return r;
}

}  // namespace

Control::Control(const store::StateDir& state, store::EventLog& events, Enforcement& enforcement, Learning& learning,
                 Settings settings)
    : state_(state),
      events_(events),
      enforcement_(enforcement),
      learning_(learning),
      settings_(std::move(settings)),
      book_(state),
      operator_list_(state) {}

std::vector<std::string> Control::load() {
    auto report = book_.load();
    std::vector<std::string> problems = report.problems;
    auto block_problems = operator_list_.load();
    problems.insert(problems.end(), block_problems.begin(), block_problems.end());
    auto detector_problems = load_detector_settings();
    problems.insert(problems.end(), detector_problems.begin(), detector_problems.end());
    if (!report.intact && enforcement_.present()) {
        // The book lost records: a quarantine the kernel still enforces is kept, with what the
        // kernel knows of it, rather than silently ended.
        int64_t wall_now = store::now_unix_ms();
        uint64_t mono_now = quarantine::monotonic_ns();
        for (const auto& q : enforcement_.quarantines()) {
            if (book_.find(q.mac)) continue;
            QuarantineRecord r = record_from_kernel(q, wall_now, mono_now);
            r.reason = "kept from the kernel map: its record was lost with the damaged state file";
            r.by = std::string(origin_name(Origin::warden));
            try {
                book_.put(r);
            } catch (const std::exception& e) {
                book_.put_unsaved(r);
                unsaved_problem_ = e.what();
            }
            problems.push_back("kept the quarantine of " + q.mac.str() + " that only the kernel map held");
        }
    }
    return problems;
}

void Control::log_event(json event, Result& result) {
    try {
        events_.append(std::move(event));
    } catch (const std::exception& e) {
        result.warnings.push_back(std::string("done, but the event could not be written: ") + e.what());
    }
}

Result Control::quarantine(const QuarantineOrder& order, const Who& who) {
    Result bad;
    auto mac = mac_of(order.mac, &bad);
    if (!mac) return bad;
    if (auto why = quarantine_refusal(*mac, settings_.gateway); !why.empty())
        return Result::error(mac->is_multicast() || *mac == net::Mac{} ? Status::invalid : Status::refused, why);

    QuarantineRecord r;
    r.mac = *mac;
    r.level = settings_.defaults.level;
    if (order.level) {
        auto level = text::parse_quarantine_level(*order.level);
        if (!level)
            return Result::error(Status::invalid, "level must be isolate or restricted, not \"" +
                                                      order.level->substr(0, 40) + "\"");
        r.level = *level;
    }
    auto duration = settings_.defaults.duration;
    if (order.duration) {
        if (*order.duration == "forever") {
            duration.reset();
        } else {
            std::string why;
            auto d = text::parse_duration(*order.duration, &why);
            if (!d) return Result::error(Status::invalid, "duration \"" + order.duration->substr(0, 40) + "\": " + why);
            if (d->count() <= 0) return Result::error(Status::invalid, "duration must be longer than 0s");
            duration = *d;
        }
    }
    if (order.reason.size() > kMaxReason)
        return Result::error(Status::invalid, "reason is longer than " + std::to_string(kMaxReason) + " bytes");
    if (auto flaw = text::first_flaw(order.reason))
        return Result::error(Status::invalid, "reason must be one line of UTF-8 text without control characters (" +
                                                  flaw->str() + ")");
    r.reason = order.reason;
    r.origin = judgement_of(who);
    r.by = by_of(who).get<std::string>();
    r.since_ms = store::now_unix_ms();
    if (duration) r.expires_ms = r.since_ms + duration->count();

    std::optional<QuarantineRecord> before;
    if (auto* b = book_.find(r.mac)) before = *b;
    Result result = Result::done("quarantined " + r.mac.str() + " (" + std::string(text::name(r.level)) + ", " +
                                     (duration ? "for " + text::format_duration(*duration) : "until released") + ")",
                                 store::to_json(r));
    // 1. The state file: if it cannot be written, nothing changes — except that a detector's
    //    quarantine holds anyway (kept in memory, saved when the disk allows), because an
    //    attack does not wait for free space.
    bool saved = true;
    try {
        book_.put(r);
    } catch (const std::exception& e) {
        if (who.origin != Origin::detector)
            return Result::error(Status::failed, std::string("cannot record the quarantine, so nothing changed: ") +
                                                     e.what());
        book_.put_unsaved(r);
        unsaved_problem_ = e.what();
        saved = false;
        result.warnings.push_back(std::string("enforced, but not saved (it is kept in memory and saved when the "
                                              "state dir can be written): ") +
                                  e.what());
    }
    // 2. The kernel; if it refuses, the book is put back as it was.
    try {
        enforcement_.put_quarantine(r);
    } catch (const std::exception& e) {
        try {
            if (before)
                saved ? book_.put(*before) : book_.put_unsaved(*before);
            else
                saved ? (void)book_.erase(r.mac) : (void)book_.erase_unsaved(r.mac);
        } catch (const std::exception& undo) {
            // The book says quarantined while the kernel does not: reconcile() enforces it at
            // the next poll, which is the safe side to err on.
            log::error("quarantine of {}: could not undo the state file: {}", r.mac.str(), undo.what());
        }
        return Result::error(Status::failed,
                             std::string("the kernel refused the quarantine, so nothing changed: ") + e.what());
    }
    if (!enforcement_.present())
        result.warnings.push_back("warden is not running: the quarantine is recorded and enforced when it starts");
    // 3. The event.
    json e = event_for("quarantine", r);
    log_event(e, result);
    return result;
}

Result Control::do_release(const net::Mac& mac, const std::string& why, const Who& who, bool teach_release) {
    const QuarantineRecord* rec = book_.find(mac);
    auto in_kernel = enforcement_.quarantine(mac);
    if (!rec && !in_kernel) return Result::error(Status::not_found, mac.str() + " is not quarantined");
    QuarantineRecord released;
    if (rec) {
        released = *rec;
    } else {
        released = record_from_kernel(*in_kernel, store::now_unix_ms(), quarantine::monotonic_ns());
    }
    bool saved = true;
    if (rec) {
        try {
            book_.erase(mac);
        } catch (const std::exception& e) {
            // An expiry must end the quarantine even on a full disk; an operator is told instead.
            if (who.origin != Origin::warden && who.origin != Origin::detector)
                return Result::error(Status::failed,
                                     std::string("cannot record the release, so nothing changed: ") + e.what());
            book_.erase_unsaved(mac);
            unsaved_problem_ = e.what();
            saved = false;
        }
    }
    try {
        enforcement_.remove_quarantine(mac);
    } catch (const std::exception& e) {
        if (rec) {
            try {
                saved ? book_.put(released) : book_.put_unsaved(released);
            } catch (const std::exception& undo) {
                log::error("release of {}: could not undo the state file: {}", mac.str(), undo.what());
            }
        }
        return Result::error(Status::failed, std::string("the kernel refused the release, so nothing changed: ") +
                                                 e.what());
    }
    Result result = Result::done("released " + mac.str(), {{"released", mac.str()}});
    if (!saved) result.warnings.push_back("released, but the state file could not be written: " + unsaved_problem_);
    json e = event_for("release", released);
    e["why"] = why;
    e["by"] = by_of(who);
    log_event(e, result);
    if (teach_release) {
        try {
            learning_.released(mac, store::now_unix_ms());
        } catch (const std::exception& ex) {
            result.warnings.push_back(std::string("the behaviour engine was not told of the release: ") + ex.what());
        }
    }
    return result;
}

Result Control::teach(const net::Mac& mac, std::optional<engine::Detector> detector, const Who& who, Result result) {
    Taught taught;
    try {
        taught = learning_.false_positive(mac, detector, store::now_unix_ms());
    } catch (const std::exception& e) {
        result.status = Status::failed;
        result.message = std::string("the behaviour engine could not learn the false positive: ") + e.what();
        return result;
    }
    result.detail["false_positive"] = {{"mac", mac.str()}, {"detectors", taught.detectors}, {"text", taught.text},
                                       {"pending", taught.pending}};
    if (!taught.pending) {
        log_event({{"kind", "false_positive"}, {"mac", mac.str()}, {"detectors", taught.detectors},
                   {"text", taught.text}, {"by", by_of(who)}},
                  result);
    }
    return result;
}

Result Control::release(const ReleaseOrder& order, const Who& who) {
    Result bad;
    auto mac = mac_of(order.mac, &bad);
    if (!mac) return bad;
    std::optional<engine::Detector> detector;
    if (order.detector) {
        if (!order.false_positive) return Result::error(Status::invalid, "a detector goes with a false positive");
        detector = engine::parse_detector(*order.detector);
        if (!detector) {
            std::string names;
            for (auto d : engine::all_detectors) names += (names.empty() ? "" : ", ") + std::string(engine::to_string(d));
            return Result::error(Status::invalid, "\"" + order.detector->substr(0, 40) + "\" is not a detector (" +
                                                      names + ")");
        }
    }
    std::string why = !order.why.empty()           ? order.why
                      : order.false_positive        ? "false positive"
                      : who.origin == Origin::page  ? "by the operator, from the status page"
                                                    : "by the operator";
    if (why.size() > kMaxReason)
        return Result::error(Status::invalid, "why is longer than " + std::to_string(kMaxReason) + " bytes");
    if (auto flaw = text::first_flaw(why))
        return Result::error(Status::invalid,
                             "why must be one line of UTF-8 text without control characters (" + flaw->str() + ")");
    // A false positive teaches the engine instead of a plain release's "may be found again".
    Result result = do_release(*mac, why, who, !order.false_positive);
    if (!order.false_positive) return result;
    if (result.status == Status::not_found) {
        // An alert-only finding: nothing to release, something to learn.
        result = Result::done(mac->str() + " was not quarantined", {{"released", nullptr}});
    } else if (!result.ok()) {
        return result;
    }
    return teach(*mac, detector, who, std::move(result));
}

Result Control::block(const BlockOrder& order, const Who& who) {
    if (order.items.empty()) return Result::error(Status::invalid, "no prefix to block");
    std::vector<blocklist::Entry> entries;
    Result result;
    for (const auto& item : order.items) {
        const std::string& dir = item.direction.value_or(order.direction);
        auto flags = blocklist::parse_direction(dir);
        if (!flags)
            return Result::error(Status::invalid, "direction must be in, out or both, not \"" + dir.substr(0, 20) + "\"");
        std::string why;
        auto p = net::Prefix::parse(item.prefix, &why);
        if (!p) return Result::error(Status::invalid, "\"" + item.prefix.substr(0, 60) + "\": " + why);
        auto check = check_block(*p, settings_.gateway);
        if (!check.refusal.empty()) {
            if (!order.force)
                return Result::error(Status::refused, check.refusal + " (add --force if that is what you want)");
            result.warnings.push_back("forced: " + check.refusal);
        }
        for (auto& w : check.warnings) result.warnings.push_back(std::move(w));
        entries.push_back({*p, *flags, blocklist::kOperatorList});
    }
    try {
        operator_list_.add(entries);
    } catch (const std::exception& e) {
        return Result::error(Status::failed, std::string("cannot record the block, so nothing changed: ") + e.what());
    }
    // The kernel; a refusal (a full trie) undoes what this call put in, in both places.
    auto kernel_before = enforcement_.blocks();
    std::vector<net::Prefix> put;
    try {
        for (const auto& e : entries) {
            enforcement_.put_block(e);
            put.push_back(e.prefix);
        }
    } catch (const std::exception& ex) {
        for (const auto& p : put) {
            auto was = std::find_if(kernel_before.begin(), kernel_before.end(), [&](auto& k) { return k.prefix == p; });
            try {
                if (was != kernel_before.end())
                    enforcement_.put_block({p, was->value.flags, was->value.list_id});
                else
                    enforcement_.remove_block(p);
            } catch (const std::exception&) {
            }
        }
        try {
            std::vector<blocklist::Entry> restored;
            for (const auto& e : operator_list_.entries())
                if (std::none_of(entries.begin(), entries.end(), [&](auto& n) { return n.prefix == e.prefix; }))
                    restored.push_back(e);
            operator_list_.replace(restored, operator_list_.version());
        } catch (const std::exception& undo) {
            log::error("block: could not undo the state file: {}", undo.what());
        }
        return Result::error(Status::failed, std::string("the kernel refused the block, so nothing changed: ") + ex.what());
    }
    json list = json::array();
    for (const auto& e : entries) list.push_back({{"prefix", e.prefix.str()}, {"direction", blocklist::direction_name(e.flags)}});
    result.message = entries.size() == 1 ? "blocked " + entries[0].prefix.str() + " (" +
                                               blocklist::direction_name(entries[0].flags) + ")"
                                         : "blocked " + std::to_string(entries.size()) + " prefixes";
    result.detail = {{"blocked", list}};
    if (entries.size() == 1)
        result.detail.update({{"prefix", entries[0].prefix.str()}, {"direction", blocklist::direction_name(entries[0].flags)}});
    if (!enforcement_.present())
        result.warnings.push_back("warden is not running: the block is recorded and enforced when it starts");
    log_event({{"kind", "block_added"}, {"prefixes", list}, {"forced", order.force}, {"by", by_of(who)}}, result);
    return result;
}

Result Control::unblock(const std::string& text, const Who& who) {
    std::string why;
    auto prefix = net::Prefix::parse(text, &why);
    if (!prefix) return Result::error(Status::invalid, "\"" + text.substr(0, 60) + "\": " + why);
    bool listed = std::any_of(operator_list_.entries().begin(), operator_list_.entries().end(),
                              [&](auto& e) { return e.prefix == *prefix; });
    std::optional<dataplane::BlockEntry> in_kernel;
    for (const auto& e : enforcement_.blocks())
        if (e.prefix == *prefix) in_kernel = e;
    if (in_kernel && in_kernel->value.list_id != blocklist::kOperatorList)
        return Result::error(Status::refused, prefix->str() +
                                                  " comes from the policy's blocklist; remove it there and run "
                                                  "`warden policy reload`");
    if (!listed && !in_kernel) return Result::error(Status::not_found, prefix->str() + " is not blocked");
    if (listed) {
        try {
            operator_list_.remove(*prefix);
        } catch (const std::exception& e) {
            return Result::error(Status::failed, std::string("cannot record the unblock, so nothing changed: ") + e.what());
        }
    }
    try {
        if (in_kernel) enforcement_.remove_block(*prefix);
    } catch (const std::exception& e) {
        try {
            if (listed) operator_list_.add({{*prefix, in_kernel->value.flags, blocklist::kOperatorList}});
        } catch (const std::exception&) {
        }
        return Result::error(Status::failed, std::string("the kernel refused, so nothing changed: ") + e.what());
    }
    Result result = Result::done("unblocked " + prefix->str(), {{"removed", prefix->str()}});
    log_event({{"kind", "block_removed"}, {"prefixes", json::array({prefix->str()})}, {"by", by_of(who)}}, result);
    return result;
}

Result Control::replace_blocklist(const std::vector<blocklist::Entry>& entries, const std::string& version,
                                  const Who& who) {
    Result result;
    for (const auto& e : entries) {
        auto check = check_block(e.prefix, settings_.gateway);
        if (!check.refusal.empty()) return Result::error(Status::refused, check.refusal);
    }
    auto before = operator_list_.entries();
    std::string before_version = operator_list_.version();
    // The version is shown by `warden status` and written in the state file: one printable line.
    std::string shown_version = text::printable(version, 64);
    try {
        operator_list_.replace(entries, shown_version);
    } catch (const std::exception& e) {
        return Result::error(Status::failed, std::string("cannot record the blocklist, so nothing changed: ") + e.what());
    }
    try {
        reconcile_blocks();
    } catch (const std::exception& e) {
        try {
            operator_list_.replace(before, before_version);
            reconcile_blocks();
        } catch (const std::exception& undo) {
            log::error("blocklist replace: could not undo: {}", undo.what());
        }
        return Result::error(Status::failed, std::string("the kernel refused the blocklist, so nothing changed: ") +
                                                 e.what());
    }
    result.message = "the operator's blocklist is now " + std::to_string(entries.size()) + " prefix(es)" +
                     (version.empty() ? "" : " (version " + version + ")");
    result.detail = {{"prefixes", entries.size()}, {"version", version}};
    log_event({{"kind", "blocklist_replaced"}, {"prefixes", entries.size()}, {"version", version}, {"by", by_of(who)}},
              result);
    return result;
}

Result Control::import_profiles(const json& profiles, const Who& who) {
    engine::Profiles priors;
    try {
        priors = engine::Profiles::from_json(profiles);
    } catch (const std::exception& e) {
        return Result::error(Status::invalid, std::string("not a profiles file: ") + e.what());
    }
    size_t types = 0;
    try {
        types = learning_.import_profiles(priors);
    } catch (const std::exception& e) {
        return Result::error(Status::failed, std::string("the profiles could not be imported: ") + e.what());
    }
    std::string list;
    for (const auto& [type, b] : priors.types) list += (list.empty() ? "" : ", ") + type;
    Result result = Result::done("imported profiles of " + std::to_string(types) + " device type(s) (" +
                                     (list.empty() ? "none" : list) + ") as priors",
                                 {{"types", types}, {"imported", true}});
    if (dynamic_cast<PendingLearning*>(&learning_)) {
        result.message = "profiles of " + std::to_string(types) +
                         " device type(s) are kept for the behaviour engine: it imports them when warden starts";
        result.detail["imported"] = false;
        result.detail["pending"] = true;
        return result;
    }
    log_event({{"kind", "profiles_imported"}, {"types", types}, {"by", by_of(who)}}, result);
    return result;
}

Result Control::save_learning(const Who&) {
    try {
        if (!learning_.save()) return Result::done("warden is not running: what was learned is already on disk");
    } catch (const std::exception& e) {
        return Result::error(Status::failed, std::string("cannot save what the engine learned: ") + e.what());
    }
    return Result::done("saved what the behaviour engine learned");
}

Result Control::list_quarantines() const {
    int64_t wall_now = store::now_unix_ms();
    uint64_t mono_now = quarantine::monotonic_ns();
    std::map<net::Mac, quarantine::Status> by_mac;
    for (const auto& r : book_.records()) by_mac[r.mac].record = r;
    for (const auto& q : enforcement_.quarantines()) {
        auto& s = by_mac[q.mac];
        if (s.record.since_ms == 0) {
            // Only the kernel has it (a change under way, or one the next poll undoes): its
            // real terms, from the kernel.
            s.record = record_from_kernel(q, wall_now, mono_now);
            s.record.reason = "(only in the kernel map)";
            s.recorded = false;
        }
        s.enforced = true;
        s.kernel = q;
    }
    json list = json::array();
    for (const auto& [mac, s] : by_mac) {
        json j = store::to_json(s.record);
        j["enforced"] = s.enforced;
        j["recorded"] = s.recorded;
        if (s.kernel)
            j["dropped"] = {{"from_device", {{"packets", s.kernel->dropped_from_device.packets},
                                             {"bytes", s.kernel->dropped_from_device.bytes}}},
                            {"to_device", {{"packets", s.kernel->dropped_to_device.packets},
                                           {"bytes", s.kernel->dropped_to_device.bytes}}}};
        list.push_back(std::move(j));
    }
    Result r = Result::done(std::to_string(list.size()) + " quarantined", {{"quarantines", list}});
    if (!enforcement_.present()) r.warnings.push_back("warden is not running: nothing is enforced now");
    return r;
}

bool Control::changes_state(const std::string& op) { return op != "list_quarantines"; }

Result Control::execute(const json& req, const Who& who) {
    if (!req.is_object() || !req.contains("op") || !req["op"].is_string())
        return Result::error(Status::invalid, "a request is a JSON object with an \"op\"");
    std::string op = req["op"].get<std::string>();
    try {
        guard_state();
    } catch (const std::exception& e) {
        log::error("state: {}", e.what());
    }
    Result bad;
    auto str = [&](const char* key) { return string_field(req, key, &bad); };
    auto flag = [&](const char* key) { return req.contains(key) && req[key].is_boolean() && req[key].get<bool>(); };
    if (op == "quarantine") {
        QuarantineOrder o;
        o.mac = str("mac").value_or("");
        o.level = str("level");
        o.duration = str("duration");
        o.reason = str("reason").value_or("");
        if (!bad.ok()) return bad;
        return quarantine(o, who);
    }
    if (op == "release") {
        ReleaseOrder o;
        o.mac = str("mac").value_or("");
        o.false_positive = flag("false_positive");
        o.detector = str("detector");
        o.why = str("why").value_or("");
        if (!bad.ok()) return bad;
        return release(o, who);
    }
    if (op == "block") {
        BlockOrder o;
        if (!req.contains("prefixes") || !req["prefixes"].is_array())
            return Result::error(Status::invalid, "\"prefixes\" must be a list of prefixes");
        for (const auto& p : req["prefixes"]) {
            if (p.is_string()) {
                o.items.push_back({p.get<std::string>(), std::nullopt});
            } else if (p.is_object() && p.contains("prefix") && p["prefix"].is_string()) {
                auto dir = string_field(p, "direction", &bad);
                o.items.push_back({p["prefix"].get<std::string>(), dir});
            } else {
                return Result::error(Status::invalid, "\"prefixes\" must hold prefixes or {prefix, direction}");
            }
        }
        o.direction = str("direction").value_or("both");
        o.force = flag("force");
        if (!bad.ok()) return bad;
        return block(o, who);
    }
    if (op == "unblock") {
        auto p = str("prefix");
        if (!bad.ok()) return bad;
        return unblock(p.value_or(""), who);
    }
    if (op == "replace_blocklist") {
        if (!req.contains("prefixes") || !req["prefixes"].is_array())
            return Result::error(Status::invalid, "\"prefixes\" must be a list of {prefix, direction}");
        std::vector<blocklist::Entry> entries;
        for (const auto& item : req["prefixes"]) {
            std::string text = item.is_string() ? item.get<std::string>()
                               : item.is_object() && item.contains("prefix") && item["prefix"].is_string()
                                   ? item["prefix"].get<std::string>()
                                   : "";
            std::string why;
            auto p = net::Prefix::parse(text, &why);
            if (!p) return Result::error(Status::invalid, "\"" + text.substr(0, 60) + "\": " + why);
            uint32_t flags = WD_BLOCK_IN | WD_BLOCK_OUT;
            if (item.is_object() && item.contains("direction")) {
                auto d = item["direction"].is_string() ? blocklist::parse_direction(item["direction"].get<std::string>())
                                                       : std::nullopt;
                if (!d) return Result::error(Status::invalid, text + ": direction must be in, out or both");
                flags = *d;
            }
            entries.push_back({*p, flags, blocklist::kOperatorList});
        }
        auto version = str("version");
        if (!bad.ok()) return bad;
        return replace_blocklist(entries, version.value_or(""), who);
    }
    if (op == "import_profiles") {
        if (!req.contains("profiles")) return Result::error(Status::invalid, "\"profiles\" is missing");
        return import_profiles(req["profiles"], who);
    }
    if (op == "adjust_detectors") {
        auto settings = str("settings");
        if (!bad.ok()) return bad;
        if (!settings) return Result::error(Status::invalid, "\"settings\" is missing");
        return adjust_detectors(*settings, who);
    }
    if (op == "save_learning") return save_learning(who);
    if (op == "list_quarantines") return list_quarantines();
    return Result::error(Status::invalid, "unknown operation \"" + op.substr(0, 40) + "\"");
}

std::string Control::guard_state() {
    std::string what = book_.guard_file();
    if (!what.empty()) log::warn("state: {}: {}", state_.quarantine_file().string(), what);
    return what;
}

std::vector<QuarantineRecord> Control::expire(int64_t now_ms, const std::string& why) {
    uint64_t mono_now = quarantine::monotonic_ns();
    std::set<net::Mac> due;
    for (const auto& r : book_.records())
        if (r.expires_ms && *r.expires_ms <= now_ms) due.insert(r.mac);
    for (const auto& q : enforcement_.quarantines())
        if (q.expires_ns && q.expires_ns <= mono_now && !book_.find(q.mac)) due.insert(q.mac);
    std::vector<QuarantineRecord> released;
    for (const auto& mac : due) {
        QuarantineRecord rec;
        if (auto* r = book_.find(mac)) rec = *r;
        rec.mac = mac;
        if (do_release(mac, why, Who{Origin::warden, ""}, true).ok()) released.push_back(rec);
    }
    return released;
}

std::vector<std::string> Control::reconcile() {
    std::vector<std::string> changes;
    if (!enforcement_.present()) return changes;
    auto kernel = enforcement_.quarantines();
    for (const auto& r : book_.records()) {
        auto k = std::find_if(kernel.begin(), kernel.end(), [&](auto& q) { return q.mac == r.mac; });
        if (k != kernel.end() && k->level == text::kernel_value(r.level)) continue;
        try {
            enforcement_.put_quarantine(r);
            changes.push_back("enforced the quarantine of " + r.mac.str() + " (" + std::string(text::name(r.level)) +
                              ") that the kernel map " + (k == kernel.end() ? "did not hold" : "held at another level"));
        } catch (const std::exception& e) {
            changes.push_back("could not enforce the quarantine of " + r.mac.str() + ": " + e.what());
        }
    }
    for (const auto& q : kernel) {
        if (book_.find(q.mac)) continue;
        enforcement_.remove_quarantine(q.mac);
        changes.push_back("removed the quarantine of " + q.mac.str() + " from the kernel map: no record holds it");
    }
    for (const auto& c : changes) log::warn("reconcile: {}", c);
    if (!changes.empty()) {
        try {
            events_.append({{"kind", "reconciled"}, {"changes", changes}, {"by", "warden"}});
        } catch (const std::exception&) {
        }
    }
    return changes;
}

std::vector<std::string> Control::reconcile_blocks() {
    std::vector<std::string> changes;
    if (!enforcement_.present()) return changes;
    auto kernel = enforcement_.blocks();
    const auto& wanted = operator_list_.entries();
    {
        for (const auto& k : kernel) {
            if (k.value.list_id != blocklist::kOperatorList) continue;
            if (std::none_of(wanted.begin(), wanted.end(), [&](auto& w) { return w.prefix == k.prefix; })) {
                enforcement_.remove_block(k.prefix);
                changes.push_back("unblocked " + k.prefix.str());
            }
        }
        for (const auto& w : wanted) {
            auto k = std::find_if(kernel.begin(), kernel.end(), [&](auto& e) { return e.prefix == w.prefix; });
            if (k != kernel.end() && k->value.list_id == blocklist::kOperatorList && k->value.flags == w.flags) continue;
            enforcement_.put_block(w);
            changes.push_back("blocked " + w.prefix.str());
        }
    }
    return changes;
}

std::string Control::save_pending() {
    if (!book_.has_unsaved()) {
        unsaved_problem_.clear();
        return "";
    }
    try {
        book_.save_pending();
        log::info("state: quarantine changes that could not be saved are saved now");
        unsaved_problem_.clear();
    } catch (const std::exception& e) {
        unsaved_problem_ = e.what();
    }
    return unsaved_problem_;
}

std::vector<std::string> Control::apply_pending() {
    std::vector<std::string> done;
    for (auto& r : pending_requests(state_.path())) {
        std::string kind = r.body.is_null() ? "" : r.body.value("kind", "");
        try {
            if (r.body.is_null()) throw std::invalid_argument(r.problem);
            auto mac = net::Mac::parse(r.body.value("mac", ""));
            Who who{Origin::cli, "while warden was down"};
            if (kind == "release") {
                if (!mac) throw std::invalid_argument("no valid \"mac\"");
                learning_.released(*mac, r.body.value("ts_ms", store::now_unix_ms()));
                done.push_back("the engine heard of the release of " + mac->str());
            } else if (kind == "false_positive") {
                if (!mac) throw std::invalid_argument("no valid \"mac\"");
                std::optional<engine::Detector> detector;
                if (r.body.contains("detector") && r.body["detector"].is_string()) {
                    detector = engine::parse_detector(r.body["detector"].get<std::string>());
                    if (!detector) throw std::invalid_argument("unknown detector " + r.body["detector"].dump());
                }
                auto result = teach(*mac, detector, who, Result::done(""));
                done.push_back("false positive on " + mac->str() + ": " +
                               result.detail.value("/false_positive/text"_json_pointer, result.message));
            } else if (kind == "import_profiles") {
                auto result = import_profiles(r.body.at("profiles"), who);
                done.push_back(result.message);
            } else {
                throw std::invalid_argument("unknown kind of request \"" + kind + "\"");
            }
        } catch (const std::exception& e) {
            done.push_back("dropped the request " + r.file.filename().string() + ": " + e.what());
        }
        std::error_code ec;
        std::filesystem::remove(r.file, ec);
    }
    return done;
}

// ---- the operator's adjustments of the detector settings ----
// <state dir>/detectors.json: {"format": "warden-detector-settings", "version": 1,
// "settings": {...the merged adjustments, shaped as the policy's detectors: section...}}.

namespace {

constexpr const char* kDetectorSettingsFormat = "warden-detector-settings";

// The merged adjustments over the policy's settings, through the policy's own reader; the
// problems as "detectors.flood.factor: expected ..." (the text is generated: no line to show).
policy::DetectorSettings detectors_over(const engine::Config& policy, const json& adjustments) {
    return policy::read_detector_settings(adjustments.dump(), policy, "detector settings");
}

std::string problems_of(const std::vector<policy::Diagnostic>& errors) {
    std::string out;
    for (const auto& d : errors) out += (out.empty() ? "" : "; ") + (d.key.empty() ? "" : d.key + ": ") + d.message;
    return out;
}

}  // namespace

std::vector<std::string> Control::load_detector_settings() {
    auto file = state_.path_of(store::layout::detector_settings);
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return {};
    try {
        json j = json::parse(store::read_file(file));
        if (!j.is_object() || j.value("format", "") != kDetectorSettingsFormat || j.value("version", 0) != 1 ||
            !j.contains("settings") || !j["settings"].is_object())
            throw std::invalid_argument(std::string("not a ") + kDetectorSettingsFormat + " file of version 1");
        detector_adjustments_ = j["settings"];
        return {};
    } catch (const std::exception& e) {
        // Kept for a person to look at; the policy's settings hold meanwhile.
        std::string problem = file.string() + ": " + e.what();
        try {
            problem += "; moved aside as " + store::move_aside(file).string() +
                       ": the policy's detector settings hold without the operator's adjustments";
        } catch (const std::exception& m) {
            problem += std::string("; ") + m.what();
        }
        return {problem};
    }
}

std::string Control::apply_detector_settings() {
    if (detector_adjustments_.empty()) return "";
    auto read = detectors_over(settings_.detectors, detector_adjustments_);
    if (!read.config) return "the operator's detector adjustments are not valid over this policy (" +
                             problems_of(read.errors) + "): the policy's settings hold";
    learning_.adjust_detectors(*read.config);
    return "";
}

Result Control::adjust_detectors(const std::string& settings, const Who& who) {
    json patch = json::parse(settings, nullptr, false);
    if (patch.is_discarded() || !patch.is_object())
        return Result::error(Status::invalid, "\"settings\" must be the text of a JSON object (as the policy's "
                                              "detectors: section, e.g. {\"flood\": {\"frames_per_second\": 5000}})");
    json merged = detector_adjustments_;
    merged.merge_patch(patch);
    // All or nothing: every key checked before anything changes.
    auto read = detectors_over(settings_.detectors, merged);
    if (!read.config) return Result::error(Status::invalid, problems_of(read.errors));
    auto file = state_.path_of(store::layout::detector_settings);
    try {
        if (merged.empty())
            std::filesystem::remove(file);
        else
            store::write_atomically(
                file, json{{"format", kDetectorSettingsFormat}, {"version", 1}, {"settings", merged}}.dump(2) + "\n");
    } catch (const std::exception& e) {
        return Result::error(Status::failed, std::string("the detector settings could not be saved: ") + e.what());
    }
    detector_adjustments_ = merged;
    bool running = learning_.adjust_detectors(*read.config);
    std::string keys;
    for (const auto& [key, value] : patch.items()) keys += (keys.empty() ? "" : ", ") + key;
    Result result = Result::done("detector settings adjusted (" + keys + ")" +
                                     (running ? "" : "; the engine takes them when warden starts"),
                                 {{"adjusted", patch}, {"adjustments", merged}, {"pending", !running}});
    log_event({{"kind", "detectors_adjusted"}, {"settings", patch}, {"by", by_of(who)}}, result);
    return result;
}

}  // namespace warden::control
