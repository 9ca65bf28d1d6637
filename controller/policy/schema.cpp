#include "policy/schema.h"

#include <cstdio>

#include "policy/policy.h"

namespace warden::policy {

namespace {

using text::format_duration;
using text::format_size;

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

template <typename T>
std::string whole(T v) {
    return std::to_string(v);
}

std::string boolean(bool v) { return v ? "true" : "false"; }

std::string duration(milliseconds d) { return format_duration(d); }

std::string optional_duration(const std::optional<milliseconds>& d) { return d ? format_duration(*d) : "forever"; }

std::string range(SizeBounds b) { return "a whole number from " + whole(b.min) + " to " + whole(b.max); }

std::string duration_range(milliseconds lo, milliseconds hi) {
    return "a duration from " + format_duration(lo) + " to " + format_duration(hi);
}

std::string list_of(const std::vector<uint16_t>& ports) {
    std::string out;
    for (auto p : ports) out += (out.empty() ? "" : ", ") + std::to_string(p);
    return "[" + out + "]";
}

std::string device_types() {
    std::string out;
    for (auto t : {DeviceType::camera, DeviceType::speaker, DeviceType::tv, DeviceType::plug, DeviceType::thermostat,
                   DeviceType::hub, DeviceType::phone, DeviceType::laptop, DeviceType::printer, DeviceType::console,
                   DeviceType::unknown})
        out += (out.empty() ? "" : ", ") + std::string(to_string(t));
    return out;
}

// The keys every detector has: whether it runs, what it does, how long a quarantine lasts.
void add_response(std::vector<SchemaKey>& keys, const std::string& detector, const engine::Response& r) {
    keys.push_back({"detectors." + detector + ".enabled", "true or false", boolean(r.enabled),
                    "Whether this detector runs at all."});
    keys.push_back({"detectors." + detector + ".action", "alert, restricted or isolate",
                    std::string(engine::to_string(r.action)),
                    "What a finding leads to: an alert only, or a quarantine at that level."});
    keys.push_back({"detectors." + detector + ".duration", "a duration from 1s to 365d, or forever",
                    optional_duration(r.duration),
                    "How long the quarantine of a first finding lasts (escalation lengthens repeats)."});
}

std::vector<SchemaKey> build() {
    const Policy p;
    const engine::Config& d = p.detectors;
    const std::string factor_type = "a number (at least 1)";
    std::vector<SchemaKey> k = {
        {"interfaces", "a mapping (required)", "", "The gateway's ports: which is the WAN and which are LAN."},
        {"interfaces.wan", "an interface name", "", "The port towards the internet (wan_ingress checks the blocklist).",
         "eth0"},
        {"interfaces.lan", "a list of interface names or shell patterns (wlan*)", "",
         "The ports towards the devices; a pattern takes every interface it matches except the WAN.",
         "[eth1, wlan*]"},
        {"interfaces.optional", "a list of entries of interfaces.lan (or the wan)", "",
         "Entries that may be absent without a warning, such as radios that come and go.", "[]"},
        {"xdp_mode", "native, generic or auto", std::string(dataplane::xdp_mode_name(p.xdp_mode)),
         "How the XDP programs attach: driver mode, generic mode, or native where possible."},
        {"interval", duration_range(interval_min, interval_max), duration(p.interval),
         "How often the controller reads the maps."},
        {"detach_on_exit", "true or false", boolean(p.detach_on_exit),
         "Remove the programs when warden stops (false: they keep enforcing while it is stopped)."},
        {"log_level", "debug, info, warn or error", std::string(to_string(p.log_level)),
         "How much warden run logs (the --log-level flag overrides it)."},
        {"paths", "a mapping", "", "Where warden keeps its pins and its state."},
        {"paths.pin_dir", "an absolute path on a bpf filesystem", p.paths.pin_dir,
         "Where the maps and links are pinned."},
        {"paths.state_dir", "an absolute path", p.paths.state_dir,
         "Quarantines, the inventory, the events log and the status snapshot."},
        {"map_sizes", "a mapping", "",
         "Kernel map capacities, fixed when the programs load (a change takes effect after warden detach and a "
         "restart)."},
        {"map_sizes.devices", range(devices_bounds), whole(p.map_sizes.devices), "Devices counted (an LRU map)."},
        {"map_sizes.flows", range(flows_bounds), whole(p.map_sizes.flows), "Flows tracked (an LRU map)."},
        {"map_sizes.blocklist_v4", range(blocklist_bounds), whole(p.map_sizes.blocklist_v4),
         "IPv4 prefixes the blocklist holds."},
        {"map_sizes.blocklist_v6", range(blocklist_bounds), whole(p.map_sizes.blocklist_v6),
         "IPv6 prefixes the blocklist holds."},
        {"map_sizes.quarantine", range(quarantine_bounds), whole(p.map_sizes.quarantine),
         "Devices that can be quarantined at once."},
        {"map_sizes.events_kb", range(events_kb_bounds) + " (KiB)", whole(p.map_sizes.events_bytes / 1024),
         "The events ring buffer in KiB (1,024 bytes), rounded up to a power of two."},
        {"quarantine", "a mapping", "", "What `warden quarantine add` does when it is not told."},
        {"quarantine.default_level", "isolate or restricted", std::string(text::name(p.quarantine.level)),
         "isolate cuts the device off; restricted leaves it DHCP and DNS only."},
        {"quarantine.default_duration", duration_range(quarantine_duration_min, quarantine_duration_max) + ", or forever",
         optional_duration(p.quarantine.duration), "How long a quarantine lasts."},
        {"events_log", "a mapping", "", "The events log (events.jsonl in the state dir) and its rotation."},
        {"events_log.max_size", "a size from " + format_size(events_log_min_size) + " to " + format_size(events_log_max_size),
         format_size(p.events_log.max_size), "The log is rotated when it passes this size."},
        {"events_log.keep", "a whole number from 0 to " + whole(events_log_max_keep), whole(p.events_log.keep),
         "Rotated files kept (0: rotation just truncates)."},
        {"exempt", "a list of MAC addresses", "", "Devices never quarantined automatically (an operator still may).",
         "[02:00:00:00:00:01]"},
        {"devices", "a list of mappings", "", "Names and types for devices, shown everywhere warden shows them.",
         "[]"},
        {"devices[].mac", "a unicast MAC address (required)", "", "The device.", "02:00:00:00:00:01"},
        {"devices[].name", "text of 1 to " + whole(device_name_max) + " characters on one line (required)", "",
         "Its name in tables, events, metrics and the status page.", "Kitchen speaker"},
        {"devices[].type", device_types(), "unknown", "Its type, which the behaviour engine's profiles go by."},
        {"devices[].notes", "free text", "", "Anything worth knowing about it.", "bought 2024"},
        {"blocklist", "a mapping", "", "Addresses no device may reach, or be reached from."},
        {"blocklist.files", "a list of mappings", "", "Files of prefixes, one a line, read by the controller.",
         "[]"},
        {"blocklist.files[].path", "an absolute path (required)", "", "The file.", "/etc/warden/blocklist.txt"},
        {"blocklist.files[].direction", "in, out or both", "both",
         "out: devices cannot reach them; in: they cannot reach in from the WAN."},
        {"blocklist.prefixes", "a list of mappings", "", "Prefixes written in the policy itself.", "[]"},
        {"blocklist.prefixes[].prefix", "an IPv4 or IPv6 prefix (required)", "", "The prefix (or one address).",
         "198.18.200.0/24"},
        {"blocklist.prefixes[].direction", "in, out or both", "both", "As for files."},
        {"identity", "a mapping", "", "Where device identity comes from."},
        {"identity.ieee_data", "an absolute path", p.identity.ieee_data,
         "The IEEE registry of MAC prefixes (Debian's ieee-data): vendors."},
        {"identity.device_types", "an absolute path", p.identity.device_types,
         "The rules that tell a device's type from what it says on the network."},
        {"metrics", "a mapping", "", "Prometheus metrics (GET /metrics)."},
        {"metrics.enabled", "true or false", boolean(p.metrics.enabled), "Whether warden serves metrics."},
        {"metrics.listen", "lan:PORT or ADDRESS:PORT", p.metrics.listen.str(), "Where the metrics are served."},
        {"status_page", "a mapping", "", "The household status page and its JSON API."},
        {"status_page.enabled", "true or false", boolean(p.status_page.enabled), "Whether warden serves the page."},
        {"status_page.listen", "lan:PORT or ADDRESS:PORT", p.status_page.listen.str(),
         "Where the page is served (lan: every LAN address, never the WAN)."},
        {"status_page.hostnames", "a list of host names", "",
         "Names the page answers to besides addresses and local names (a guard against DNS rebinding).",
         "[gateway.example.net]"},
        {"new_devices", "allow, notify or restricted_until_approved", std::string(to_string(p.new_devices)),
         "A device never seen before: let it be, tell the household, or hold it at the restricted level until "
         "someone approves it."},
        {"notify", "a mapping", "", "Notifications to the household (docs/NOTIFY.md)."},
        {"notify.channels", "a list of channels", "", "Where messages go; none by default."},
        {"notify.channels[].webhook", "an http:// or https:// URL", "", "POSTs the message's JSON body to this URL.",
         "http://192.168.1.10:8123/api/webhook/warden"},
        {"notify.channels[].exec", "an absolute path", "", "Runs this command with the JSON body on its stdin.",
         "/usr/local/bin/warden-alarm"},
        {"notify.channels[].args", "a list of arguments", "", "The exec command's arguments.", "[--quiet]"},
        {"notify.channels[].headers", "a mapping of header names to values", "", "Extra headers for a webhook (tokens).",
         "{Authorization: Bearer tk_example}"},
        {"notify.channels[].format", "json or text", "json", "text: the webhook gets the sentence alone (as ntfy takes it)."},
        {"notify.channels[].kinds", "a list of new_device, quarantine, release, alert, digest",
         "[new_device, quarantine, release, alert]", "What this channel is told."},
        {"notify.page_url", "an http:// or https:// URL", "", "The link in each message (default: the status page's first address).",
         "https://gateway.example.net:8080/"},
        {"notify.rate_limit", "a duration from 0s to 7d", duration(p.notify.rate_limit),
         "Per device: what follows one message within this is told as one summary."},
        {"notify.digest_at", "a time of day HH:MM", "20:00", "When the daily digest is sent (local time)."},
        {"notify.queue_size", "a whole number from 1 to " + whole(notify_queue_max), whole(p.notify.queue_size),
         "Messages kept on disk for a receiver that is down; the oldest beyond it are dropped and counted."},
        {"notify.mute", "a mapping", "", "What no channel is told about."},
        {"notify.mute.devices", "a list of MAC addresses", "", "Devices never told about.", "[02:00:00:00:00:10]"},
        {"notify.mute.kinds", "a list of kinds", "", "Kinds never told.", "[release]"},
        {"fleet", "a mapping", "", "The operator's channel: MQTT to the provider's broker (docs/FLEET.md); off by default."},
        {"fleet.enabled", "true or false", boolean(p.fleet.enabled), "Whether the gateway reports to and takes orders from the broker."},
        {"fleet.host", "a host name or address", "", "The broker.", "broker.example.net"},
        {"fleet.port", "a port (1 to 65535)", std::to_string(p.fleet.port), "The broker's port."},
        {"fleet.ca", "an absolute path", "", "The broker's CA (PEM).", "/etc/warden/fleet/ca.pem"},
        {"fleet.cert", "an absolute path", "", "This gateway's client certificate (PEM); its CN is the gateway id.", "/etc/warden/fleet/gateway.pem"},
        {"fleet.key", "an absolute path", "", "The certificate's private key (PEM).", "/etc/warden/fleet/gateway.key"},
        {"fleet.operator_key", "an absolute path", "",
         "The operator's Ed25519 public key (PEM): a command that does not verify against it is rejected.", "/etc/warden/fleet/operator.pub"},
        {"fleet.insecure", "true or false", boolean(p.fleet.insecure), "Plain TCP without certificates (labs only; logged loudly)."},
        {"fleet.gateway_id", "1 to 64 letters, digits, '-', '_' or '.'", "",
         "The gateway id, only with insecure: true (else the certificate's CN).", "lab-1"},
        {"fleet.queue_size", "a size from " + format_size(fleet_queue_min) + " to " + format_size(fleet_queue_max),
         format_size(p.fleet.queue_bytes), "The on-disk queue of messages for the broker while it cannot be reached."},
        {"fleet.health_every", "a duration from 5s to 1d", duration(p.fleet.health_every), "How often health is reported."},
        {"fleet.inventory_every", "a duration from 5s to 1d", duration(p.fleet.inventory_every),
         "How often the whole inventory is reported (besides on each change)."},
        {"fleet.profiles_every", "a duration from 5s to 7d", duration(p.fleet.profiles_every),
         "How often the per-type profiles are published."},
        {"fleet.reconnect_max", "a duration from 1s to 1h", duration(p.fleet.reconnect_max),
         "The longest wait between two attempts to reach the broker (the waits double from 1 s, jittered)."},
        {"detectors", "a mapping", "", "The behaviour engine: what each detector looks for and what it does."},
        {"detectors.learning_period", duration_range(engine::learning_period_min, engine::learning_period_max),
         duration(d.learning_period), "How long a device's own history is learned before it is trusted."},
        {"detectors.cooldown", "a duration from 1s to 1d", duration(d.cooldown),
         "A detector's silence on a device after a finding."},
        {"detectors.forget_after", "a duration from 1h to 365d", duration(d.forget_after),
         "A device unseen this long is forgotten."},
        {"detectors.known_destinations",
         "a whole number from " + whole(engine::known_destinations_min) + " to " + whole(engine::known_destinations_max),
         whole(d.known_destinations), "Destinations remembered per device (the most recent)."},
        {"detectors.never_quarantine", "a list of device types", "",
         "Types whose findings stay alerts (never quarantined automatically).", "[laptop, phone]"},
        {"detectors.escalation", "a mapping", "", "Repeat findings: longer quarantines, then isolation."},
        {"detectors.escalation.window", "a duration from 1m to 365d", duration(d.escalation.window),
         "A finding this soon after an earlier one escalates."},
        {"detectors.escalation.factor", "a number from 1 to 100", number(d.escalation.factor),
         "Each repeat multiplies the quarantine's duration by this."},
        {"detectors.escalation.isolate_after", "a whole number from 1 to 100", whole(d.escalation.isolate_after),
         "The Nth quarantine in the window isolates."},
        {"detectors.escalation.max_duration", "a duration from 1s to 365d", duration(d.escalation.max_duration),
         "The longest an escalated quarantine lasts."},
    };

    k.push_back({"detectors.port_scan", "a mapping", "", "Many ports on one host, or one port on many hosts."});
    add_response(k, "port_scan", d.port_scan.response);
    k.push_back({"detectors.port_scan.ports_per_host", "a whole number from 2 to 65535", whole(d.port_scan.ports_per_host),
                 "Distinct ports on one host in 10 s (a vertical scan)."});
    k.push_back({"detectors.port_scan.hosts_per_port", "a whole number (at least 2)", whole(d.port_scan.hosts_per_port),
                 "Distinct hosts on one port in 10 s (a horizontal scan)."});
    k.push_back({"detectors.port_scan.unanswered_share", "a number from 0 to 1", number(d.port_scan.unanswered_share),
                 "The share of a horizontal scan's attempts left unanswered."});
    k.push_back({"detectors.port_scan.factor", factor_type, number(d.port_scan.factor),
                 "The threshold is the larger of the floor and this times the device's normal."});
    k.push_back({"detectors.port_scan.ports_per_host_10m", "a whole number from 2 to 65535",
                 whole(d.port_scan.ports_per_host_10m), "Distinct ports on one host over 10 min (a slow vertical scan)."});
    k.push_back({"detectors.port_scan.ports_per_host_1h", "a whole number from 2 to 65535",
                 whole(d.port_scan.ports_per_host_1h), "Distinct ports on one host over 1 h."});
    k.push_back({"detectors.port_scan.unanswered_10m", "a whole number from 1 to 1000000",
                 whole(d.port_scan.unanswered_10m), "Connection attempts left unanswered over 10 min."});
    k.push_back({"detectors.port_scan.unanswered_1h", "a whole number from 1 to 1000000",
                 whole(d.port_scan.unanswered_1h), "Connection attempts left unanswered over 1 h."});

    k.push_back({"detectors.propagation", "a mapping", "", "Many hosts on telnet and SSH ports, as worms spread."});
    add_response(k, "propagation", d.propagation.response);
    k.push_back({"detectors.propagation.ports", "a list of 1 to 32 ports", list_of(d.propagation.ports),
                 "The ports watched."});
    k.push_back({"detectors.propagation.hosts", "a whole number (at least 1)", whole(d.propagation.hosts),
                 "Distinct hosts on those ports in 10 s."});
    k.push_back({"detectors.propagation.factor", factor_type, number(d.propagation.factor), "As for port_scan."});
    k.push_back({"detectors.propagation.hosts_10m", "a whole number from 1 to 1000000", whole(d.propagation.hosts_10m),
                 "Distinct hosts on those ports over 10 min (a slow sweep)."});
    k.push_back({"detectors.propagation.hosts_1h", "a whole number from 1 to 1000000", whole(d.propagation.hosts_1h),
                 "Distinct hosts on those ports over 1 h."});

    k.push_back({"detectors.flood", "a mapping", "", "Frames sent far beyond those received: taking part in a DDoS."});
    add_response(k, "flood", d.flood.response);
    k.push_back({"detectors.flood.frames_per_second", "a whole number (at least 1)", whole(d.flood.frames_per_second),
                 "Small frames a second sent beyond those received, over 10 s."});
    k.push_back({"detectors.flood.factor", factor_type, number(d.flood.factor), "As for port_scan."});

    k.push_back({"detectors.exfiltration", "a mapping", "", "An upload far above the device's normal."});
    add_response(k, "exfiltration", d.exfiltration.response);
    k.push_back({"detectors.exfiltration.bytes_per_second", "a size from 1KiB to 10GiB (a second)",
                 format_size(d.exfiltration.bytes_per_second),
                 "Upload to the internet a second, over 10 s, beyond 1/20 of the download."});
    k.push_back({"detectors.exfiltration.factor", factor_type, number(d.exfiltration.factor), "As for port_scan."});

    k.push_back({"detectors.upload_to_new", "a mapping", "", "Upload to destinations the device never used before."});
    add_response(k, "upload_to_new", d.upload_to_new.response);
    k.push_back({"detectors.upload_to_new.bytes_per_minute", "a size from 1MiB to 1000GiB",
                 format_size(d.upload_to_new.bytes_per_minute), "Bytes to new destinations over 60 s."});
    k.push_back({"detectors.upload_to_new.bytes_1h", "a size from 1MiB to 1000GiB", format_size(d.upload_to_new.bytes_1h),
                 "Bytes to new destinations over 1 h."});
    k.push_back({"detectors.upload_to_new.factor", factor_type, number(d.upload_to_new.factor), "As for port_scan."});

    k.push_back({"detectors.new_destinations", "a mapping", "", "A burst of addresses the device never contacted."});
    add_response(k, "new_destinations", d.new_destinations.response);
    k.push_back({"detectors.new_destinations.per_minute", "a whole number (at least 1)",
                 whole(d.new_destinations.per_minute), "New addresses in 60 s."});
    k.push_back({"detectors.new_destinations.factor", factor_type, number(d.new_destinations.factor),
                 "As for port_scan."});

    k.push_back({"detectors.blocklist", "a mapping", "", "Frames to blocklisted addresses."});
    add_response(k, "blocklist", d.blocklist.response);
    k.push_back({"detectors.blocklist.hits", "a whole number (at least 1)", whole(d.blocklist.hits),
                 "Frames to blocklisted addresses in 10 s."});

    k.push_back({"detectors.lateral", "a mapping", "", "Contacting many other devices on the LAN."});
    add_response(k, "lateral", d.lateral.response);
    k.push_back({"detectors.lateral.peers", "a whole number from 1 to 65535", whole(d.lateral.peers),
                 "Distinct LAN devices contacted in 10 s."});
    k.push_back({"detectors.lateral.factor", factor_type, number(d.lateral.factor), "As for port_scan."});

    k.push_back({"detectors.beaconing", "a mapping", "", "Regular connections to a destination new to the device."});
    add_response(k, "beaconing", d.beaconing.response);
    k.push_back({"detectors.beaconing.repeats", "a whole number from 2 to 7", whole(d.beaconing.repeats),
                 "Regular intervals in a row."});
    k.push_back({"detectors.beaconing.jitter", "a number from 0 to 0.5", number(d.beaconing.jitter),
                 "The largest deviation of an interval from their mean, as a share."});
    k.push_back({"detectors.beaconing.min_interval", "a duration from 1s to 1d", duration(d.beaconing.min_interval),
                 "Shorter intervals are not beacons."});
    k.push_back({"detectors.beaconing.max_interval", "a duration from 1s to 1d, longer than min_interval",
                 duration(d.beaconing.max_interval), "Longer intervals are not beacons."});
    return k;
}

std::string parent_of(const std::string& path) {
    auto dot = path.rfind('.');
    return dot == std::string::npos ? "" : path.substr(0, dot);
}

}  // namespace

const std::vector<SchemaKey>& schema() {
    static const std::vector<SchemaKey> keys = build();
    return keys;
}

std::vector<const SchemaKey*> children(const std::string& parent) {
    std::vector<const SchemaKey*> out;
    for (const auto& k : schema())
        if (parent_of(k.path) == parent) out.push_back(&k);
    return out;
}

bool is_section(const SchemaKey& key) {
    for (const auto& k : schema())
        if (k.path.starts_with(key.path + ".") || k.path.starts_with(key.path + "[]."))
            return true;
    return false;
}

}  // namespace warden::policy
