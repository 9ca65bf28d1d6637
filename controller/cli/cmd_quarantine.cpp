// warden quarantine add | del | list
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/format.h"
#include "dataplane/pinned.h"
#include "policy/units.h"
#include "quarantine/quarantine.h"

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
    Quarantines q(ctx);
    if (!q.manager.release(mac, "by the operator", "operator")) {
        std::cerr << "warden quarantine del: " << mac.str() << " is not quarantined\n";
        return 1;
    }
    if (ctx.json)
        std::cout << json{{"released", mac.str()}}.dump(2) << "\n";
    else
        std::cout << "released " << mac.str() << "\n";
    return 0;
}

int cmd_quarantine_list(Context& ctx) {
    Quarantines q(ctx);
    auto list = q.manager.list();
    int64_t now = store::now_unix_ms();
    json out = json::array();
    for (const auto& s : list) {
        json j = store::to_json(s.record);
        j["enforced"] = s.enforced;
        if (s.kernel) {
            j["dropped"] = {{"from_device", {{"packets", s.kernel->dropped_from_device.packets}, {"bytes", s.kernel->dropped_from_device.bytes}}},
                            {"to_device", {{"packets", s.kernel->dropped_to_device.packets}, {"bytes", s.kernel->dropped_to_device.bytes}}}};
        }
        out.push_back(j);
    }
    if (ctx.json) {
        std::cout << out.dump(2) << "\n";
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
