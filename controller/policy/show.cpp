#include "policy/show.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "text/units.h"

namespace warden::policy {

using nlohmann::ordered_json;
using text::format_duration;
using text::format_size;

namespace {

std::string duration_text(const std::optional<milliseconds>& d) { return d ? format_duration(*d) : "forever"; }

ordered_json response(const engine::Response& r) {
    return {{"enabled", r.enabled}, {"action", engine::to_string(r.action)}, {"duration", duration_text(r.duration)}};
}

// A detector's settings: the common ones, then its own.
ordered_json detector(const engine::Response& r, ordered_json own) {
    ordered_json out = response(r);
    for (auto& [key, value] : own.items()) out[key] = value;
    return out;
}

ordered_json detectors(const engine::Config& d) {
    ordered_json out;
    out["learning_period"] = format_duration(d.learning_period);
    out["cooldown"] = format_duration(d.cooldown);
    out["forget_after"] = format_duration(d.forget_after);
    out["known_destinations"] = d.known_destinations;
    out["never_quarantine"] = d.never_quarantine;
    out["escalation"] = {{"window", format_duration(d.escalation.window)},
                         {"factor", d.escalation.factor},
                         {"isolate_after", d.escalation.isolate_after},
                         {"max_duration", format_duration(d.escalation.max_duration)}};
    out["port_scan"] = detector(d.port_scan.response, {{"ports_per_host", d.port_scan.ports_per_host},
                                                       {"hosts_per_port", d.port_scan.hosts_per_port},
                                                       {"unanswered_share", d.port_scan.unanswered_share},
                                                       {"factor", d.port_scan.factor}});
    out["propagation"] = detector(d.propagation.response, {{"ports", d.propagation.ports},
                                                           {"hosts", d.propagation.hosts},
                                                           {"factor", d.propagation.factor}});
    out["flood"] = detector(d.flood.response,
                            {{"frames_per_second", d.flood.frames_per_second}, {"factor", d.flood.factor}});
    out["exfiltration"] = detector(d.exfiltration.response, {{"bytes_per_second", format_size(d.exfiltration.bytes_per_second)},
                                                             {"factor", d.exfiltration.factor}});
    out["new_destinations"] = detector(d.new_destinations.response, {{"per_minute", d.new_destinations.per_minute},
                                                                     {"factor", d.new_destinations.factor}});
    out["blocklist"] = detector(d.blocklist.response, {{"hits", d.blocklist.hits}});
    out["lateral"] = detector(d.lateral.response, {{"peers", d.lateral.peers}, {"factor", d.lateral.factor}});
    out["beaconing"] = detector(d.beaconing.response, {{"repeats", d.beaconing.repeats},
                                                       {"jitter", d.beaconing.jitter},
                                                       {"min_interval", format_duration(d.beaconing.min_interval)},
                                                       {"max_interval", format_duration(d.beaconing.max_interval)}});
    return out;
}

ordered_json effective(const Policy& p) {
    ordered_json out;
    out["interfaces"] = {{"wan", p.interfaces.wan}, {"lan", p.interfaces.lan}, {"optional", p.interfaces.optional}};
    out["xdp_mode"] = dataplane::xdp_mode_name(p.xdp_mode);
    out["interval"] = format_duration(p.interval);
    out["detach_on_exit"] = p.detach_on_exit;
    out["log_level"] = to_string(p.log_level);
    out["paths"] = {{"pin_dir", p.paths.pin_dir}, {"state_dir", p.paths.state_dir}};
    out["map_sizes"] = {{"devices", p.map_sizes.devices},
                        {"flows", p.map_sizes.flows},
                        {"blocklist_v4", p.map_sizes.blocklist_v4},
                        {"blocklist_v6", p.map_sizes.blocklist_v6},
                        {"quarantine", p.map_sizes.quarantine},
                        {"events_kb", p.map_sizes.events_bytes / 1024}};
    out["quarantine"] = {{"default_level", text::name(p.quarantine.level)},
                         {"default_duration", duration_text(p.quarantine.duration)}};
    out["events_log"] = {{"max_size", format_size(p.events_log.max_size)}, {"keep", p.events_log.keep}};
    out["exempt"] = ordered_json::array();
    for (const auto& mac : p.exempt) out["exempt"].push_back(mac.str());
    out["devices"] = ordered_json::array();
    for (const auto& d : p.devices)
        out["devices"].push_back({{"mac", d.mac.str()}, {"name", d.name}, {"type", to_string(d.type)}, {"notes", d.notes}});
    out["blocklist"] = {{"files", ordered_json::array()}, {"prefixes", ordered_json::array()}};
    for (const auto& f : p.blocklist.files)
        out["blocklist"]["files"].push_back({{"path", f.path}, {"direction", to_string(f.direction)}});
    for (const auto& b : p.blocklist.prefixes)
        out["blocklist"]["prefixes"].push_back({{"prefix", b.prefix.str()}, {"direction", to_string(b.direction)}});
    out["identity"] = {{"ieee_data", p.identity.ieee_data}, {"device_types", p.identity.device_types}};
    out["metrics"] = {{"enabled", p.metrics.enabled}, {"listen", p.metrics.listen.str()}};
    out["status_page"] = {{"enabled", p.status_page.enabled},
                          {"listen", p.status_page.listen.str()},
                          {"hostnames", p.status_page.hostnames}};
    out["detectors"] = detectors(p.detectors);
    return out;
}

void emit(YAML::Emitter& out, const ordered_json& j) {
    if (j.is_object()) {
        out << YAML::BeginMap;
        for (const auto& [key, value] : j.items()) {
            out << YAML::Key << key << YAML::Value;
            emit(out, value);
        }
        out << YAML::EndMap;
    } else if (j.is_array()) {
        // Lists of plain values on one line ([eth1, eth2]), lists of mappings a block each.
        bool flat = std::none_of(j.begin(), j.end(), [](const ordered_json& e) { return e.is_structured(); });
        out << (flat ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
        for (const auto& e : j) emit(out, e);
        out << YAML::EndSeq;
    } else if (j.is_string()) {
        out << j.get<std::string>();
    } else {
        out << j.dump();  // numbers and booleans as JSON writes them, which YAML reads the same
    }
}

}  // namespace

ordered_json to_json(const Policy& policy) { return effective(policy); }

std::string to_yaml(const Policy& policy) {
    YAML::Emitter out;
    emit(out, effective(policy));
    return std::string(out.c_str()) + "\n";
}

}  // namespace warden::policy
