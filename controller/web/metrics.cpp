#include "web/metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <concepts>
#include <initializer_list>
#include <utility>

#include "engine/config.h"
#include "text/level.h"
#include "version/version.h"
#include "text/text.h"

namespace warden::web {

namespace {

using Label = std::pair<const char*, std::string_view>;

// Writes one metric family at a time: HELP and TYPE, then its samples, as the format requires.
class Exposition {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }

    void sample(std::string_view name, std::initializer_list<Label> labels, double value) {
        head(name, labels);
        if (std::isnan(value))
            out_ += "NaN";
        else if (std::isinf(value))
            out_ += value > 0 ? "+Inf" : "-Inf";
        else
            fmt::format_to(std::back_inserter(out_), "{}", value);
        out_ += '\n';
    }

    // Kernel counters, written exactly (a double would round them past 2^53).
    template <std::unsigned_integral Count>  // uint64_t and the kernel's __u64 (unsigned long long)
    void sample(std::string_view name, std::initializer_list<Label> labels, Count value) {
        head(name, labels);
        fmt::format_to(std::back_inserter(out_), "{}\n", value);
    }

    std::string take() { return std::move(out_); }

private:
    void head(std::string_view name, std::initializer_list<Label> labels) {
        out_ += name;
        if (labels.size()) {
            out_ += '{';
            bool first = true;
            for (const auto& [key, v] : labels) {
                if (!first) out_ += ',';
                first = false;
                out_ += key;
                out_ += "=\"";
                out_ += escape_label_value(v);
                out_ += '"';
            }
            out_ += '}';
        }
        out_ += ' ';
    }

    std::string out_;
};

// The operator's channel (docs/FLEET.md), from the status object `warden fleet status` shows;
// nothing when the channel is off. Ages are as of the snapshot's poll.
void render_fleet(Exposition& e, const nlohmann::json& f, int64_t now_ms) {
    if (!f.is_object()) return;
    // A figure the status does not hold (a channel that could not start) is left out, not 0.
    auto one = [&](const char* family, const char* type, const char* help, const nlohmann::json& value) {
        e.family(family, type, help);
        if (value.is_number_unsigned()) e.sample(family, {}, value.get<uint64_t>());
    };
    auto by_label = [&](const char* family, const char* help, const char* key, const char* label) {
        e.family(family, "counter", help);
        if (!f.contains(key) || !f[key].is_object()) return;
        for (const auto& [name, n] : f[key].items())
            if (n.is_number_unsigned()) e.sample(family, {{label, name}}, n.get<uint64_t>());
    };
    auto field = [&](const char* key) { return f.contains(key) ? f[key] : nlohmann::json(); };
    auto sent = f.value("sent", nlohmann::json::object());
    e.family("warden_fleet_connected", "gauge", "1 while the channel to the operator's broker is up, else 0.");
    e.sample("warden_fleet_connected", {}, uint64_t(f.value("connected", false) ? 1 : 0));
    one("warden_fleet_connections_total", "counter", "Connections to the operator's broker since the start.",
        field("connections"));
    one("warden_fleet_queue_messages", "gauge", "Messages waiting in the on-disk queue for the broker's PUBACK.",
        field("queue_depth"));
    one("warden_fleet_queue_bytes", "gauge", "Bytes (topics and payloads) in the on-disk queue.", field("queue_bytes"));
    one("warden_fleet_queue_budget_bytes", "gauge", "The queue's budget (policy fleet.queue_size).",
        field("queue_budget"));
    by_label("warden_fleet_dropped_messages_total",
             "Messages dropped from the queue beyond its budget, by kind (health, event:finding, ...).", "dropped", "kind");
    by_label("warden_fleet_refused_messages_total",
             "Messages the broker refused (PUBACK reason code 0x80 or above) that left the queue, by kind.", "refused",
             "kind");
    one("warden_fleet_sent_messages_total", "counter", "Messages handed to the broker, resends included.",
        sent.value("messages", nlohmann::json()));
    one("warden_fleet_sent_bytes_total", "counter", "Bytes (topics and payloads) handed to the broker.",
        sent.value("bytes", nlohmann::json()));
    by_label("warden_fleet_acks_total",
             "Acks this gateway sent for the operator's commands and broadcasts, by result (applied, rejected, "
             "expired, duplicate).",
             "acks", "result");
    e.family("warden_fleet_last_broker_ack_age_seconds", "gauge",
             "Seconds since the broker last acknowledged a message (absent until it first does).");
    if (f.contains("last_broker_ack_ms") && f["last_broker_ack_ms"].is_number_integer())
        e.sample("warden_fleet_last_broker_ack_age_seconds", {},
                 std::max(0.0, double(now_ms - f["last_broker_ack_ms"].get<int64_t>()) / 1000.0));
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (size_t i = 0; i < value.size();) {
        char c = value[i];
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            size_t n = text::utf8_length(value, i);
            if (n == 0) {
                out += "\xef\xbf\xbd";  // U+FFFD REPLACEMENT CHARACTER
                ++i;
                continue;
            }
            out.append(value.substr(i, n));
            i += n;
            continue;
        }
        ++i;
    }
    return out;
}

std::string render_metrics(const Snapshot& s) {
    Exposition e;
    e.family("warden_build_info", "gauge", "The build of the running warden: release, commit and the libbpf it runs with (always 1).");
    e.sample("warden_build_info",
             {{"version", version::release()}, {"commit", version::commit()}, {"libbpf", version::libbpf()}}, uint64_t{1});
    // Devices the kernel counts now (one only the inventory remembers has no counters).
    std::vector<const view::DeviceView*> devices;
    for (const auto& d : s.devices)
        if (d.counted) devices.push_back(&d);
    std::vector<std::string> macs;
    for (const auto* d : devices) macs.push_back(d->mac.str());

    e.family("warden_device_bytes_total", "counter",
             "Bytes of a device: sent up (to the gateway and beyond), received down, sent laterally (to "
             "other LAN devices), sent as broadcast/multicast.");
    for (size_t i = 0; i < devices.size(); ++i) {
        const auto& d = *devices[i];
        const auto& c = d.counters;
        for (auto [dir, n] : {std::pair{"up", &c.up}, {"down", &c.down}, {"lateral", &c.lateral}, {"broadcast", &c.bcast}})
            e.sample("warden_device_bytes_total", {{"mac", macs[i]}, {"name", d.name}, {"type", d.type}, {"direction", dir}},
                     n->bytes);
    }
    e.family("warden_device_frames_total", "counter", "Frames of a device, by direction (as warden_device_bytes_total).");
    for (size_t i = 0; i < devices.size(); ++i) {
        const auto& d = *devices[i];
        const auto& c = d.counters;
        for (auto [dir, n] : {std::pair{"up", &c.up}, {"down", &c.down}, {"lateral", &c.lateral}, {"broadcast", &c.bcast}})
            e.sample("warden_device_frames_total", {{"mac", macs[i]}, {"name", d.name}, {"type", d.type}, {"direction", dir}},
                     n->packets);
    }
    e.family("warden_device_dropped_frames_total", "counter",
             "Frames of a device dropped by warden: blocklist (to or from a blocked address), quarantine (from and "
             "to the device while quarantined; starts again at 0 with each quarantine).");
    for (size_t i = 0; i < devices.size(); ++i) {
        const auto& d = *devices[i];
        e.sample("warden_device_dropped_frames_total",
                 {{"mac", macs[i]}, {"name", d.name}, {"type", d.type}, {"reason", "blocklist"}}, d.counters.blocklist_drops);
        e.sample("warden_device_dropped_frames_total",
                 {{"mac", macs[i]}, {"name", d.name}, {"type", d.type}, {"reason", "quarantine"}}, d.quarantine_drops);
    }
    e.family("warden_devices", "gauge", "Devices warden counts in its device map now.");
    e.sample("warden_devices", {}, uint64_t(devices.size()));

    e.family("warden_quarantined_devices", "gauge", "Devices in quarantine now, by level, as the kernel enforces it.");
    uint64_t isolated = 0, restricted = 0;
    for (const auto& [mac, q] : s.quarantined) {
        if (q.expires_ns && q.expires_ns <= s.mono_ns) continue;  // released at the next poll
        (q.level == WD_LEVEL_ISOLATE ? isolated : restricted)++;
    }
    e.sample("warden_quarantined_devices", {{"level", text::name(text::QuarantineLevel::isolate)}}, isolated);
    e.sample("warden_quarantined_devices", {{"level", text::name(text::QuarantineLevel::restricted)}}, restricted);

    e.family("warden_findings_total", "counter", "Findings of the behaviour engine, by detector (from the events log).");
    std::map<std::string, uint64_t> findings;
    for (auto d : engine::all_detectors) findings[std::string(engine::to_string(d))] = 0;
    if (s.threats)
        for (const auto& [detector, n] : s.threats->findings_by_detector) findings[detector] = n;
    for (const auto& [detector, n] : findings) e.sample("warden_findings_total", {{"detector", detector}}, n);

    e.family("warden_program_seen_frames_total", "counter", "Frames each warden program saw.");
    for (uint32_t p = 0; p < WD_PROG_MAX; ++p)
        e.sample("warden_program_seen_frames_total", {{"program", program_name(p)}}, s.programs[p].seen);
    e.family("warden_program_passed_frames_total", "counter", "Frames each warden program let pass.");
    for (uint32_t p = 0; p < WD_PROG_MAX; ++p)
        e.sample("warden_program_passed_frames_total", {{"program", program_name(p)}}, s.programs[p].passed);
    e.family("warden_program_dropped_frames_total", "counter", "Frames each warden program dropped, by reason.");
    for (uint32_t p = 0; p < WD_PROG_MAX; ++p)
        for (uint32_t r = 0; r < WD_DROP_MAX; ++r)
            e.sample("warden_program_dropped_frames_total", {{"program", program_name(p)}, {"reason", drop_reason_name(r)}},
                     s.programs[p].dropped[r]);
    e.family("warden_program_bytes_total", "counter", "Bytes of the frames each warden program saw.");
    for (uint32_t p = 0; p < WD_PROG_MAX; ++p)
        e.sample("warden_program_bytes_total", {{"program", program_name(p)}}, s.programs[p].bytes);
    e.family("warden_program_unparsed_frames_total", "counter", "Frames a program could not parse (passed uncounted).");
    for (uint32_t p = 0; p < WD_PROG_MAX; ++p)
        e.sample("warden_program_unparsed_frames_total", {{"program", program_name(p)}}, s.programs[p].unparsed);
    e.family("warden_program_events_lost_total", "counter", "Events a program could not queue (ring buffer full).");
    for (uint32_t p = 0; p < WD_PROG_MAX; ++p)
        e.sample("warden_program_events_lost_total", {{"program", program_name(p)}}, s.programs[p].events_lost);
    e.family("warden_program_map_full_total", "counter",
             "Device or flow inserts a program could not make (map full; the LRU maps evict instead).");
    for (uint32_t p = 0; p < WD_PROG_MAX; ++p)
        e.sample("warden_program_map_full_total", {{"program", program_name(p)}}, s.programs[p].map_full);
    e.family("warden_program_map_added_entries_total", "counter", "Entries each program added to the device and flow maps.");
    for (uint32_t p = 0; p < WD_PROG_MAX; ++p) {
        e.sample("warden_program_map_added_entries_total", {{"program", program_name(p)}, {"map", WD_MAP_DEVICES}},
                 s.programs[p].devices_added);
        e.sample("warden_program_map_added_entries_total", {{"program", program_name(p)}, {"map", WD_MAP_FLOWS}},
                 s.programs[p].flows_added);
    }
    e.family("warden_map_evicted_entries_total", "counter",
             "Entries the device and flow maps (LRU) evicted to make room, at least: added, minus present, minus removed.");
    e.sample("warden_map_evicted_entries_total", {{"map", WD_MAP_DEVICES}}, s.evictions.devices);
    e.sample("warden_map_evicted_entries_total", {{"map", WD_MAP_FLOWS}}, s.evictions.flows);

    e.family("warden_map_entries", "gauge", "Entries in each of warden's kernel maps.");
    for (const auto& m : s.maps)
        if (m.entries) e.sample("warden_map_entries", {{"map", m.name}}, *m.entries);
    e.family("warden_map_capacity", "gauge", "Capacity of each of warden's kernel maps (bytes for the ring buffer).");
    for (const auto& m : s.maps) e.sample("warden_map_capacity", {{"map", m.name}}, m.capacity);

    // Ports as the kernel has them, checked a few times a second (controller/ports).
    e.family("warden_port_fault", "gauge",
             "1 while a port's interface is there without the programs warden expects on it (removed and not put "
             "back, or another program in the way), else 0.");
    for (const auto& p : s.ports)
        e.sample("warden_port_fault", {{"interface", p.interface}, {"role", ports::to_string(p.role)}},
                 uint64_t(p.state == ports::State::fault));
    e.family("warden_port_waiting", "gauge",
             "1 while a port the policy names is absent (warden attaches the moment it appears), else 0.");
    for (const auto& p : s.ports)
        e.sample("warden_port_waiting",
                 {{"interface", p.interface}, {"role", ports::to_string(p.role)}, {"optional", p.optional ? "true" : "false"}},
                 uint64_t(p.state == ports::State::waiting));
    e.family("warden_port_attaches_total", "counter", "Ports that got warden's programs: at start, or when they appeared.");
    e.sample("warden_port_attaches_total", {}, s.port_counts.attaches);
    e.family("warden_port_detaches_total", "counter",
             "Ports that lost warden's programs: their interface went away, was renamed or left the policy.");
    e.sample("warden_port_detaches_total", {}, s.port_counts.detaches);
    e.family("warden_port_reattaches_total", "counter",
             "Programs put back on a port: its interface was re-created, or someone had removed them.");
    e.sample("warden_port_reattaches_total", {}, s.port_counts.reattaches);
    e.family("warden_port_faults_total", "counter",
             "Times a port was found without warden's programs and they could not be put back.");
    e.sample("warden_port_faults_total", {}, s.port_counts.faults);

    e.family("warden_poll_cpu_seconds", "gauge", "CPU time the controller spent on its last poll of the maps.");
    e.sample("warden_poll_cpu_seconds", {}, s.poll_cpu_seconds);
    e.family("warden_polls_total", "counter", "Polls of the maps since the controller started.");
    e.sample("warden_polls_total", {}, s.polls);
    e.family("warden_degraded", "gauge",
             "1 while a step of the poll fails (warden status says which and why); enforcement goes on.");
    e.sample("warden_degraded", {}, uint64_t(s.health.degraded ? 1 : 0));
    e.family("warden_poll_step_failures_total", "counter", "Failures of each step of the poll since the start.");
    for (const auto& [step, n] : s.health.step_failures) e.sample("warden_poll_step_failures_total", {{"step", step}}, n);
    e.family("warden_inventory_evicted_total", "counter",
             "Idle devices the inventory forgot to stay within its bound (a MAC flood fills it).");
    e.sample("warden_inventory_evicted_total", {}, s.health.inventory_evicted);
    e.family("warden_mac_floods_total", "counter", "MAC floods found: many new source MACs on one port in a minute.");
    e.sample("warden_mac_floods_total", {}, s.health.mac_floods);
    e.family("warden_last_poll_timestamp_seconds", "gauge", "Unix time of the poll these numbers come from.");
    e.sample("warden_last_poll_timestamp_seconds", {}, s.time_ms / 1000.0);
    e.family("warden_start_time_seconds", "gauge", "Unix time the controller started.");
    e.sample("warden_start_time_seconds", {}, s.started_ms / 1000.0);
    render_fleet(e, s.fleet, s.time_ms);
    return e.take();
}

}  // namespace warden::web
