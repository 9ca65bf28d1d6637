#include "cli/event_text.h"

#include "cli/device_view.h"
#include "store/events_log.h"

namespace warden::cli {

using nlohmann::json;

namespace {

std::string field(const json& e, const char* key) {
    if (!e.contains(key) || e[key].is_null()) return "";
    return e[key].is_string() ? e[key].get<std::string>() : e[key].dump();
}

}  // namespace

std::string event_sentence(const json& e) {
    std::string kind = event_kind(e), mac = field(e, "mac");
    if (kind == "quarantine") {
        std::string s = mac + " quarantined (" + field(e, "level") + ") by " +
                        (field(e, "by").empty() ? field(e, "origin") : field(e, "by"));
        if (!field(e, "reason").empty()) s += ": " + field(e, "reason");
        if (e.contains("expires_ms") && e["expires_ms"].is_number())
            s += ", until " + store::iso_time(e["expires_ms"].get<int64_t>());
        return s;
    }
    if (kind == "finding") {
        std::string s = field(e, "detector") + " on " + mac;
        if (!field(e, "evidence").empty()) s += ": " + field(e, "evidence");
        if (!field(e, "action").empty()) s += " -> " + field(e, "action");
        return s;
    }
    if (kind == "new_device")
        return "new device " + mac + (e.contains("interface") ? " on " + field(e, "interface") : "");
    if (kind == "quarantine_drop")
        return "blocked traffic " + field(e, "direction") + " " + mac + " (quarantined, " + field(e, "level") + ")";
    if (kind == "blocklist_hit")
        return "blocked " + field(e, "address") + " (blocklist), " + field(e, "direction") + (mac.empty() ? "" : " " + mac);
    if (kind == "block_added" || kind == "block_removed") {
        std::string list;
        for (const auto& p : e.value("prefixes", json::array())) {
            std::string one = p.is_object() ? p.value("prefix", "") + " (" + p.value("direction", "") + ")"
                                            : p.is_string() ? p.get<std::string>() : p.dump();
            list += (list.empty() ? "" : ", ") + one;
        }
        return std::string(kind == "block_added" ? "blocked " : "unblocked ") + list + " by " + field(e, "by");
    }
    if (kind == "release") return mac + " released (" + field(e, "why") + ") by " + field(e, "by");
    if (kind == "policy_reloaded" || kind == "policy_rejected")
        return std::string(kind == "policy_reloaded" ? "policy reloaded" : "policy REJECTED") + " (" + field(e, "policy") + ")";
    if (kind == "false_positive") return "false positive on " + mac + ": " + field(e, "text");
    if (kind == "reconciled") return "kernel map brought in line with the state: " + field(e, "changes");
    if (kind == "mac_flood") return field(e, "text");
    if (kind == "inventory_evicted")
        return "inventory full (" + field(e, "limit") + " devices): forgot " + field(e, "devices") + " idle device(s)";
    if (kind == "port_attached" || kind == "port_reattached" || kind == "port_detached") {
        std::string port = field(e, "role") + " port " + field(e, "interface");
        std::string why = " (" + field(e, "why") + ")";
        if (kind == "port_detached") return port + ": warden's programs are off it" + why;
        if (e.contains("program")) return port + ": " + field(e, "program") + " put back" + why;
        return port + ": warden's programs " + (kind == "port_attached" ? "attached" : "re-attached") + why;
    }
    if (kind == "port_fault")
        return field(e, "role") + " port " + field(e, "interface") + " NOT GUARDED: " + e.value("faults", json::array()).dump();
    if (kind == "start" || kind == "stop") return "controller " + kind + " (pid " + field(e, "pid") + ")";
    return kind + " " + e.dump();
}

std::string event_line(const json& e) { return field(e, "time") + "  " + event_sentence(e); }

}  // namespace warden::cli
