#include "view/devices.h"

#include <algorithm>

#include "identity/identity.h"

namespace warden::view {

using nlohmann::json;

namespace {

std::string identity_text(const json& identity, const char* key) {
    if (!identity.is_object()) return "";
    auto it = identity.find(key);
    return it != identity.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

int state_severity(const std::string& state) {
    if (state == "isolated") return 3;
    if (state == "restricted") return 2;
    if (state == "alerting") return 1;
    return 0;
}

std::string event_kind(const json& e) {
    if (!e.is_object()) return "";
    auto it = e.find("kind");
    return it != e.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t event_time_ms(const json& e) {
    if (!e.is_object()) return 0;
    auto it = e.find("ts_ms");
    return it != e.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::vector<DeviceView> join_devices(const DeviceSources& s) {
    static const std::vector<dataplane::DeviceCounters> no_counters;
    static const std::map<net::Mac, dataplane::QuarantineEntry> no_quarantines;
    static const std::map<net::Mac, store::DeviceRecord> no_inventory;
    const auto& counted = s.counters ? *s.counters : no_counters;
    const auto& quarantined = s.quarantined ? *s.quarantined : no_quarantines;
    const auto& inventory = s.inventory ? *s.inventory : no_inventory;
    auto mono_to_wall_ms = [&](uint64_t mono_ns) {
        return s.now_ms - int64_t((s.now_mono_ns - std::min(s.now_mono_ns, mono_ns)) / 1000000);
    };

    std::vector<const dataplane::DeviceCounters*> rows;
    rows.reserve(counted.size() + inventory.size());
    std::set<net::Mac> seen;
    for (const auto& c : counted) {
        rows.push_back(&c);
        seen.insert(c.mac);
    }
    // Devices only the inventory remembers get zero counters and its last addresses.
    std::vector<dataplane::DeviceCounters> remembered;
    remembered.reserve(inventory.size());
    for (const auto& [mac, rec] : inventory) {
        if (seen.count(mac)) continue;
        dataplane::DeviceCounters d;
        d.mac = mac;
        d.ip4 = rec.ip4;
        d.ip6 = rec.ip6;
        remembered.push_back(d);
    }
    for (const auto& d : remembered) rows.push_back(&d);

    std::vector<DeviceView> out;
    out.reserve(rows.size());
    for (const auto* cp : rows) {
        const auto& c = *cp;
        DeviceView d;
        d.mac = c.mac;
        d.counters = c;
        d.ip4 = c.ip4;
        d.ip6 = c.ip6;
        d.counted = c.last_seen_ns != 0;
        auto inv = inventory.find(c.mac);
        if (inv != inventory.end()) {
            d.vendor = identity_text(inv->second.identity, "vendor");
            d.hostname = identity_text(inv->second.identity, "hostname");
            d.type = identity_text(inv->second.identity, "type");
            const json& saved = inv->second.identity;
            if (saved.is_object() && !saved.empty()) {
                // Through the identity code, so a hand-edited inventory prints checked values.
                d.identity = identity::to_json(identity::identity_from_json(saved));
                d.random_mac = d.identity.value("random_mac", false);
            }
        }
        if (s.peer_names)
            if (auto names = s.peer_names->find(c.mac); names != s.peer_names->end()) d.peer_names = names->second;
        const policy::NamedDevice* named = s.policy ? s.policy->find_device(c.mac) : nullptr;
        if (named) {
            d.name = named->name;
            if (named->type != policy::DeviceType::unknown) d.type = std::string(policy::to_string(named->type));
        }
        if (d.name.empty() && inv != inventory.end()) d.name = inv->second.name;
        if (d.name.empty()) d.name = d.hostname;

        auto q = quarantined.find(c.mac);
        if (q != quarantined.end())
            d.quarantine_drops = q->second.dropped_from_device.packets + q->second.dropped_to_device.packets;
        if (!s.maps_pinned)
            d.state = "unknown";
        else if (q == quarantined.end())
            d.state = "ok";
        else if (q->second.expires_ns && q->second.expires_ns <= s.now_mono_ns)
            d.state = "ok (expiring)";
        else
            d.state = q->second.level == WD_LEVEL_ISOLATE ? "isolated" : "restricted";
        if (state_severity(d.state) < 1 && s.alerting && s.alerting->count(c.mac)) d.state = "alerting";

        // Last seen: the kernel's stamp, a dropped frame of a quarantined device, or the
        // inventory's memory, whichever is latest.
        d.last_seen_ms = c.last_seen_ns ? mono_to_wall_ms(c.last_seen_ns) : 0;
        if (q != quarantined.end() && q->second.last_drop_ns)
            d.last_seen_ms = std::max(d.last_seen_ms, mono_to_wall_ms(q->second.last_drop_ns));
        if (inv != inventory.end()) d.last_seen_ms = std::max(d.last_seen_ms, inv->second.last_seen_ms);
        d.first_seen_ms = inv != inventory.end() && inv->second.first_seen_ms ? inv->second.first_seen_ms
                          : c.first_seen_ns                                 ? mono_to_wall_ms(c.first_seen_ns)
                                                                            : 0;
        // Rates list only busy devices: with fresh rates, absence means idle.
        if (s.rates) {
            auto r = s.rates->find(c.mac);
            d.rates = r != s.rates->end() ? r->second : DeviceRates{};
        }
        out.push_back(std::move(d));
    }
    return out;
}

json to_json(const DeviceView& d) {
    const auto& c = d.counters;
    auto text_or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
    json j{{"mac", d.mac.str()},
           {"name", d.name},
           {"vendor", text_or_null(d.vendor)},
           {"hostname", text_or_null(d.hostname)},
           {"type", text_or_null(d.type)},
           {"ip4", d.ip4 ? json(d.ip4->str()) : json(nullptr)},
           {"ip6", d.ip6 ? json(d.ip6->str()) : json(nullptr)},
           {"state", d.state},
           {"counted", d.counted},
           {"up", {{"packets", c.up.packets}, {"bytes", c.up.bytes}}},
           {"down", {{"packets", c.down.packets}, {"bytes", c.down.bytes}}},
           {"lateral", {{"packets", c.lateral.packets}, {"bytes", c.lateral.bytes}}},
           {"bcast", {{"packets", c.bcast.packets}, {"bytes", c.bcast.bytes}}},
           {"tcp_syn", c.tcp_syn},
           {"protocols", {{"tcp", c.proto_packets[WD_PROTO_TCP]}, {"udp", c.proto_packets[WD_PROTO_UDP]},
                          {"icmp", c.proto_packets[WD_PROTO_ICMP]}, {"arp", c.proto_packets[WD_PROTO_ARP]},
                          {"other", c.proto_packets[WD_PROTO_OTHER]}}},
           {"drops", {{"blocklist", c.blocklist_drops}, {"quarantine", d.quarantine_drops}}},
           {"first_seen_ms", d.first_seen_ms},
           {"last_seen_ms", d.last_seen_ms},
           {"random_mac", d.random_mac},
           {"identity", d.identity},
           {"type_reason", text_or_null(type_reason(d.identity))},
           {"peer_names", d.peer_names}};
    if (d.rates)
        j["rate"] = {{"up_bps", d.rates->up_bps}, {"down_bps", d.rates->down_bps},
                     {"lateral_bps", d.rates->lateral_bps}, {"active_flows", d.rates->active_flows}};
    return j;
}

std::string type_reason(const json& identity) {
    if (!identity.is_object()) return "";
    std::string source = identity_text(identity, "type_source");
    std::vector<std::string> evidence;
    if (auto it = identity.find("type_evidence"); it != identity.end() && it->is_array())
        for (const auto& line : *it)
            if (line.is_string()) evidence.push_back(line.get<std::string>());
    if (source == "policy") return "policy: " + (evidence.empty() ? "named in the policy" : evidence.front());
    auto joined = [&] {
        std::string out;
        for (const auto& line : evidence) out += (out.empty() ? "" : "; ") + line;
        return out;
    };
    if (source == "rules") {
        auto score = identity.find("type_score");
        std::string text = "rules: score ";
        text += score != identity.end() && score->is_number_integer() ? std::to_string(score->get<int64_t>()) : "?";
        return evidence.empty() ? text : text + " (" + joined() + ")";
    }
    return evidence.empty() ? "" : "rules: " + joined();
}

std::map<net::Mac, std::map<std::string, std::string>> parse_peer_names(const json& names) {
    std::map<net::Mac, std::map<std::string, std::string>> out;
    if (!names.is_object()) return out;
    for (const auto& [mac_text, peers] : names.items()) {
        auto mac = net::Mac::parse(mac_text);
        if (!mac || !peers.is_object()) continue;
        for (const auto& [addr_text, name] : peers.items()) {
            auto addr = net::IpAddr::parse(addr_text);
            if (!addr || !name.is_string() || name.get_ref<const std::string&>().empty()) continue;
            // Keyed by the address as warden prints it, so `warden flows` finds it by its text.
            out[*mac][addr->str()] = identity::clean_text(name.get_ref<const std::string&>());
        }
    }
    return out;
}

json quarantine_json(const std::vector<quarantine::Status>& list) {
    json out = json::array();
    for (const auto& s : list) {
        json j = store::to_json(s.record);
        j["enforced"] = s.enforced;
        if (s.kernel) {
            j["dropped"] = {{"from_device", {{"packets", s.kernel->dropped_from_device.packets},
                                             {"bytes", s.kernel->dropped_from_device.bytes}}},
                            {"to_device", {{"packets", s.kernel->dropped_to_device.packets},
                                           {"bytes", s.kernel->dropped_to_device.bytes}}}};
        }
        out.push_back(std::move(j));
    }
    return out;
}

}  // namespace warden::view
