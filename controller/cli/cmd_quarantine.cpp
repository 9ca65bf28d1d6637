// warden quarantine add | del | list
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/format.h"
#include "daemon/requests.h"
#include "dataplane/pinned.h"
#include "engine/config.h"
#include "policy/units.h"
#include "quarantine/quarantine.h"
#include "view/devices.h"

namespace warden::cli {

using nlohmann::json;

namespace {

net::Mac mac_arg(const std::string& text) {
    auto mac = net::Mac::parse(text);
    if (!mac) throw UsageError("not a MAC address: \"" + text + "\" (expected aa:bb:cc:dd:ee:ff)");
    if (mac->is_multicast()) throw UsageError(mac->str() + " is a multicast/broadcast address, not a device");
    return *mac;
}

// Everything a quarantine command touches, opened once.
struct Quarantines {
    dataplane::PinnedMaps maps;
    store::StateDir state;
    store::EventLog events;
    quarantine::Manager manager;

    explicit Quarantines(Context& ctx)
        : maps(ctx.pin_dir()),
          state(ctx.state_dir()),
          events(state.events_file(), ctx.events_max_size(), ctx.events_keep()),
          manager(maps.quarantine(), state, events) {
        manager.on_problem([](const std::string& p) { std::cerr << "warning: state: " << p << "\n"; });
    }
};

}  // namespace

int cmd_quarantine_add(Context& ctx) {
    net::Mac mac = mac_arg(ctx.positional[0]);
    const auto* pol = ctx.policy();
    std::string level = pol ? std::string(policy::to_string(pol->quarantine.level)) : "isolate";
    if (ctx.vm.count("level")) level = ctx.vm["level"].as<std::string>();
    if (!quarantine::parse_level(level)) throw UsageError("--level must be isolate or restricted, not \"" + level + "\"");

    // How long, in ms; kForever: until released. (Not an optional: GCC 12 warns falsely.)
    constexpr int64_t kForever = -1;
    auto policy_duration = pol ? pol->quarantine.duration : policy::QuarantineDefaults{}.duration;
    int64_t duration_ms = policy_duration ? policy_duration->count() : kForever;
    if (ctx.vm.count("for")) {
        std::string text = ctx.vm["for"].as<std::string>();
        if (text == "forever") {
            duration_ms = kForever;
        } else {
            std::string why;
            auto d = policy::parse_duration(text, &why);
            if (!d) throw UsageError("--for \"" + text + "\": " + why);
            if (d->count() <= 0) throw UsageError("--for must be longer than 0s");
            duration_ms = d->count();
        }
    }

    Quarantines q(ctx);
    store::QuarantineRecord r;
    r.mac = mac;
    r.level = level;
    r.origin = "operator";
    r.reason = ctx.vm["reason"].as<std::string>();
    r.since_ms = store::now_unix_ms();
    if (duration_ms != kForever) r.expires_ms = r.since_ms + duration_ms;
    q.manager.add(r);
    if (ctx.json) {
        std::cout << store::to_json(r).dump(2) << "\n";
    } else {
        std::cout << "quarantined " << mac.str() << " (" << level << ", "
                  << (r.expires_ms ? "for " + policy::format_duration(std::chrono::milliseconds(*r.expires_ms - r.since_ms))
                                   : std::string("until released"))
                  << ")\n";
    }
    return 0;
}

int cmd_quarantine_del(Context& ctx) {
    net::Mac mac = mac_arg(ctx.positional[0]);
    bool false_positive = ctx.vm.count("false-positive") > 0;
    std::optional<std::string> detector;
    if (ctx.vm.count("detector")) {
        if (!false_positive) throw UsageError("--detector goes with --false-positive");
        detector = ctx.vm["detector"].as<std::string>();
        if (!engine::parse_detector(*detector)) {
            std::string names;
            for (auto d : engine::all_detectors) names += (names.empty() ? "" : ", ") + std::string(engine::to_string(d));
            throw UsageError("--detector \"" + *detector + "\": not a detector (" + names + ")");
        }
    }
    Quarantines q(ctx);
    bool released = q.manager.release(mac, false_positive ? "false positive" : "by the operator", "operator");
    if (!released && !false_positive) {
        std::cerr << "warden quarantine del: " << mac.str() << " is not quarantined\n";
        return 1;
    }
    // The behaviour engine lives in the controller: it is told through a request
    // (daemon/requests.h), so a release lets the device be found again, and a false positive
    // teaches its baseline. Without a controller the request waits for its start.
    json body{{"mac", mac.str()}};
    if (detector) body["detector"] = *detector;
    int64_t asked_ms = store::now_unix_ms();
    std::optional<daemon::Submitted> req;
    try {
        req = daemon::submit_request(q.state.path(), false_positive ? "false_positive" : "release", body);
    } catch (const std::exception& e) {
        if (false_positive) throw;
        std::cerr << "warning: the controller could not be told of the release: " << e.what() << "\n";
    }
    json out{{"released", released ? json(mac.str()) : json(nullptr)}};
    std::string learned;
    if (false_positive) {
        out["false_positive"] = mac.str();
        if (req->signalled && daemon::wait_handled(*req, std::chrono::seconds(10))) {
            // The controller recorded what it learned as an event.
            auto events = store::EventLog::read_all(q.state.events_file(), ctx.events_keep());
            for (auto it = events.rbegin(); it != events.rend(); ++it)
                if (it->value("kind", "") == "false_positive" && it->value("mac", "") == mac.str() &&
                    it->value("ts_ms", int64_t(0)) >= asked_ms) {
                    learned = it->value("text", "");
                    out["learned"] = *it;
                    break;
                }
        } else {
            learned = "the controller is not running: it learns this when it starts";
            out["pending"] = true;
        }
    }
    if (ctx.json) {
        std::cout << out.dump(2) << "\n";
    } else {
        std::cout << (released ? "released " + mac.str() : mac.str() + " was not quarantined") << "\n";
        if (false_positive) std::cout << "false positive: " << (learned.empty() ? "recorded" : learned) << "\n";
    }
    return 0;
}

int cmd_quarantine_list(Context& ctx) {
    Quarantines q(ctx);
    auto list = q.manager.list();
    int64_t now = store::now_unix_ms();
    if (ctx.json) {
        std::cout << view::quarantine_json(list).dump(2) << "\n";
        return 0;
    }
    if (list.empty()) {
        std::cout << "no device is quarantined\n";
        return 0;
    }
    Table t({"MAC", "LEVEL", "ORIGIN", "SINCE", "LEFT", "DROPPED FROM", "DROPPED TO", "REASON"},
            {false, false, false, true, true, true, true, false});
    for (const auto& s : list) {
        const auto& r = s.record;
        std::string left = r.expires_ms ? human_age(*r.expires_ms - now) : "until released";
        if (!s.enforced) left += " (NOT ENFORCED)";
        t.add({r.mac.str(), r.level, r.origin, r.since_ms ? human_age(now - r.since_ms) + " ago" : "?", left,
               s.kernel ? human_count(s.kernel->dropped_from_device.packets) : "-",
               s.kernel ? human_count(s.kernel->dropped_to_device.packets) : "-", r.reason.empty() ? "-" : r.reason});
    }
    t.print(std::cout);
    return 0;
}

}  // namespace warden::cli
