// warden alerts: the behaviour engine's findings, from the events log, in plain words.
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/time_arg.h"
#include "cli/format.h"
#include "text/units.h"
#include "store/events_log.h"
#include "store/state.h"

namespace warden::cli {

using nlohmann::json;

namespace {

std::string text(const json& e, const char* key) {
    auto it = e.find(key);
    if (it == e.end() || it->is_null()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
}

// What was done about the finding, as a person would say it.
std::string action_words(const json& e) {
    std::string action = text(e, "action"), taken = text(e, "action_taken");
    std::string words;
    if (taken == "none") {
        words = "none (already quarantined)";
    } else if (action == "isolate" || action == "restricted") {
        words = action == "isolate" ? "isolated" : "restricted";
        auto d = e.find("duration_ms");
        if (d != e.end() && d->is_number_integer())
            words += " for " + text::format_duration(std::chrono::milliseconds(d->get<int64_t>()));
        else
            words += " until released";
    } else {
        words = "alert only";
    }
    if (!text(e, "note").empty()) words += " (" + text(e, "note") + ")";
    return words;
}

}  // namespace

int cmd_alerts(Context& ctx) {
    std::optional<net::Mac> device;
    if (ctx.vm.count("device")) {
        std::string t = ctx.vm["device"].as<std::string>();
        device = net::Mac::parse(t);
        if (!device) throw UsageError("--device: not a MAC address: \"" + t + "\" (expected aa:bb:cc:dd:ee:ff)");
    }
    int64_t now = store::now_unix_ms();
    std::optional<int64_t> since_ms;
    if (ctx.vm.count("since")) {
        std::string t = ctx.vm["since"].as<std::string>(), why;
        since_ms = parse_since(t, now, &why);
        if (!since_ms) throw UsageError("--since \"" + t + "\": " + why);
    }

    store::StateDir state(ctx.state_dir());
    std::vector<std::string> problems;
    auto events = store::EventLog::read_all(state.events_file(), ctx.events_keep(), &problems);
    for (const auto& p : problems) std::cerr << "warning: events log: " << p << "\n";

    // Names: the policy's, else the inventory's.
    std::map<std::string, std::string> names;
    auto inventory = state.load_inventory();
    for (const auto& r : inventory.records)
        if (!r.name.empty()) names[r.mac.str()] = r.name;
    if (const auto* pol = ctx.policy())
        for (const auto& d : pol->devices) names[d.mac.str()] = d.name;

    json out = json::array();
    Table t({"TIME", "DEVICE", "DETECTOR", "EVIDENCE", "ACTION"});
    for (auto& e : events) {  // oldest first, so newest last
        if (!e.is_object() || text(e, "kind") != "finding") continue;
        std::string mac = text(e, "mac");
        if (device && mac != device->str()) continue;
        int64_t ts = e.value("ts_ms", int64_t(0));
        if (since_ms && ts < *since_ms) continue;
        auto name = names.find(mac);
        if (ctx.json) {
            if (name != names.end()) e["name"] = name->second;
            out.push_back(e);
            continue;
        }
        std::string who = name != names.end() ? name->second + " (" + mac + ")" : mac;
        std::string type = text(e, "type");
        if (!type.empty() && type != "unknown") who += ", " + type;
        t.add({store::iso_time(ts), who, text(e, "detector"), text(e, "evidence"), action_words(e)});
    }
    if (ctx.json) {
        std::cout << out.dump(2) << "\n";
    } else if (t.empty()) {
        std::cout << "no findings" << (device ? " for " + device->str() : "") << (since_ms ? " in that time" : "")
                  << "\n";
    } else {
        t.print(std::cout);
    }
    return 0;
}

}  // namespace warden::cli
