// warden status, devices, flows: what the maps say now, joined with the controller's
// snapshot (rates) and the inventory (names).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/format.h"
#include "daemon/pidfile.h"
#include "dataplane/pinned.h"
#include "quarantine/quarantine.h"
#include "store/state.h"

namespace warden::cli {

using nlohmann::json;
using dataplane::MapId;

namespace {

json read_json(const std::filesystem::path& file) {
    try {
        std::ifstream in(file);
        if (!in) return json();
        return json::parse(in);
    } catch (const std::exception&) {
        return json();
    }
}

// The kernel's own account of a map's memory, from /proc/self/fdinfo.
uint64_t map_memory(int fd) {
    std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
    std::string key;
    uint64_t value = 0;
    while (in >> key) {
        if (key == "memlock:") {
            in >> value;
            return value;
        }
        in.ignore(4096, '\n');
    }
    return 0;
}

uint64_t count_entries(int fd, size_t key_size) {
    std::vector<uint8_t> key(key_size), next(key_size);
    uint64_t n = 0;
    bool have = false;
    while (bpf_map_get_next_key(fd, have ? key.data() : nullptr, next.data()) == 0) {
        key = next;
        have = true;
        ++n;
    }
    return n;
}

struct MapRow {
    MapId id;
    size_t key_size;  // 0: not a keyed map (ring buffer)
};

const MapRow kMapRows[] = {
    {MapId::devices, sizeof(wd_device_key)},   {MapId::flows, sizeof(wd_flow_key)},
    {MapId::quarantine, sizeof(wd_device_key)}, {MapId::block_v4, sizeof(wd_lpm_v4_key)},
    {MapId::block_v6, sizeof(wd_lpm_v6_key)},  {MapId::evlimit, sizeof(wd_evlimit_key)},
    {MapId::events, 0},
};

const char* kProgNames[] = {"lan_ingress", "lan_egress", "wan_ingress"};

std::string state_of(const std::map<net::Mac, dataplane::QuarantineEntry>& q, const net::Mac& mac) {
    auto it = q.find(mac);
    if (it == q.end()) return "ok";
    uint64_t now = quarantine::monotonic_ns();
    if (it->second.expires_ns && it->second.expires_ns <= now) return "ok (expiring)";
    return it->second.level == WD_LEVEL_ISOLATE ? "isolated" : "restricted";
}

int64_t mono_to_wall_ms(uint64_t mono_ns) {
    uint64_t now = quarantine::monotonic_ns();
    return store::now_unix_ms() - int64_t((now - std::min(now, mono_ns)) / 1000000);
}

}  // namespace

int cmd_status(Context& ctx) {
    std::string pin_dir = ctx.pin_dir(), state_dir = ctx.state_dir();
    auto pid = daemon::running_controller((std::filesystem::path(state_dir) / "warden.pid").string());
    bool pinned = dataplane::maps_pinned(pin_dir);
    json snapshot = read_json(std::filesystem::path(state_dir) / "status.json");

    json out{{"controller", pid ? json{{"running", true}, {"pid", *pid}} : json{{"running", false}}},
             {"pin_dir", pin_dir},
             {"state_dir", state_dir},
             {"maps_pinned", pinned}};
    if (!pinned) {
        if (ctx.json) {
            std::cout << out.dump(2) << "\n";
        } else {
            std::cout << "warden is not running: no maps pinned under " << pin_dir << " (start it with `warden run`)\n";
        }
        return 1;
    }
    dataplane::PinnedMaps maps(pin_dir);
    json map_list = json::array();
    uint64_t total_memory = 0;
    for (const auto& row : kMapRows) {
        int fd = maps.fd(row.id);
        uint64_t mem = map_memory(fd);
        total_memory += mem;
        json m{{"name", std::string(dataplane::map_name(row.id))}, {"capacity", maps.capacity(row.id)}, {"memory_bytes", mem}};
        if (row.key_size) m["entries"] = count_entries(fd, row.key_size);
        map_list.push_back(m);
    }
    out["maps"] = map_list;
    out["map_memory_bytes"] = total_memory;
    json progs = json::array();
    auto stats = maps.stats();
    for (uint32_t p = 0; p < WD_PROG_MAX; ++p) {
        auto s = stats.read(p);
        progs.push_back({{"program", kProgNames[p]},
                         {"seen", s.seen},
                         {"passed", s.passed},
                         {"bytes", s.bytes},
                         {"unparsed", s.unparsed},
                         {"dropped", {{"isolated", s.dropped[WD_DROP_ISOLATED]},
                                      {"restricted", s.dropped[WD_DROP_RESTRICTED]},
                                      {"blocklist", s.dropped[WD_DROP_BLOCKLIST]}}},
                         {"events_lost", s.events_lost},
                         {"map_full", s.map_full}});
    }
    out["programs"] = progs;
    auto quarantined = maps.quarantine().list();
    out["quarantined"] = {{"isolate", std::count_if(quarantined.begin(), quarantined.end(), [](auto& q) { return q.level == WD_LEVEL_ISOLATE; })},
                          {"restricted", std::count_if(quarantined.begin(), quarantined.end(), [](auto& q) { return q.level == WD_LEVEL_RESTRICTED; })}};
    if (snapshot.is_object()) {
        out["attachments"] = snapshot.value("attachments", json::array());
        out["policy"] = snapshot.value("policy", "");
        out["started_ms"] = snapshot.value("started_ms", int64_t(0));
        out["interval_ms"] = snapshot.value("interval_ms", int64_t(0));
        out["last_poll_cpu_ms"] = snapshot.value("last_poll_cpu_ms", 0.0);
        out["snapshot_age_ms"] = store::now_unix_ms() - snapshot.value("updated_ms", int64_t(0));
    }

    if (ctx.json) {
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (pid) {
        int64_t up = store::now_unix_ms() - out.value("started_ms", store::now_unix_ms());
        std::cout << "controller: running (pid " << *pid << ", up " << human_age(up) << "), policy "
                  << out.value("policy", std::string("?")) << "\n";
    } else {
        std::cout << "controller: NOT running — programs stay attached and keep enforcing; start `warden run`\n";
    }
    if (out.contains("attachments")) {
        std::cout << "attached:";
        for (const auto& a : out["attachments"])
            std::cout << "  " << a["interface"].get<std::string>() << " " << a["program"].get<std::string>() << " ("
                      << (a["hook"] == "xdp" ? "xdp " + a["mode"].get<std::string>() : a["hook"].get<std::string>()) << ")";
        std::cout << "\n";
    }
    std::cout << "\n";
    Table mt({"MAP", "ENTRIES", "CAPACITY", "MEMORY"}, {false, true, true, true});
    for (const auto& m : map_list)
        mt.add({m["name"], m.contains("entries") ? std::to_string(m["entries"].get<uint64_t>()) : "-",
                std::to_string(m["capacity"].get<uint64_t>()), human_bytes(m["memory_bytes"])});
    mt.print(std::cout);
    std::cout << "map memory in all: " << human_bytes(total_memory) << "\n\n";
    Table pt({"PROGRAM", "SEEN", "PASSED", "ISOLATED", "RESTRICTED", "BLOCKLIST", "UNPARSED", "EVENTS LOST"},
             {false, true, true, true, true, true, true, true});
    for (const auto& p : progs)
        pt.add({p["program"], human_count(p["seen"]), human_count(p["passed"]), human_count(p["dropped"]["isolated"]),
                human_count(p["dropped"]["restricted"]), human_count(p["dropped"]["blocklist"]),
                human_count(p["unparsed"]), human_count(p["events_lost"])});
    pt.print(std::cout);
    std::cout << "\nquarantined: " << out["quarantined"]["isolate"] << " isolated, " << out["quarantined"]["restricted"]
              << " restricted\n";
    if (out.contains("last_poll_cpu_ms"))
        std::cout << "last poll: " << out["last_poll_cpu_ms"].get<double>() << " ms CPU, every "
                  << out["interval_ms"].get<int64_t>() << " ms\n";
    return 0;
}

int cmd_devices(Context& ctx) {
    std::string pin_dir = ctx.pin_dir(), state_dir = ctx.state_dir();
    dataplane::PinnedMaps maps(pin_dir);
    auto counters = maps.devices().read_all();
    std::map<net::Mac, dataplane::QuarantineEntry> quarantined;
    for (auto& q : maps.quarantine().list()) quarantined[q.mac] = q;
    store::StateDir state(state_dir);
    std::map<net::Mac, store::DeviceRecord> inventory;
    for (auto& r : state.load_inventory().records) inventory[r.mac] = r;
    json snapshot = read_json(state.status_file());
    bool fresh = snapshot.is_object() && store::now_unix_ms() - snapshot.value("updated_ms", int64_t(0)) < 10'000;
    std::map<std::string, json> rates;
    if (fresh)
        for (const auto& d : snapshot.value("devices", json::array())) rates[d["mac"]] = d;

    // Devices the kernel counts now, and those the inventory remembers (after a reboot, a
    // quarantined device sends nothing that is counted, but it is still a device).
    for (const auto& [mac, rec] : inventory) {
        bool counted = std::any_of(counters.begin(), counters.end(), [&](auto& d) { return d.mac == mac; });
        if (!counted) {
            dataplane::DeviceCounters d;
            d.mac = mac;
            d.ip4 = rec.ip4;
            d.ip6 = rec.ip6;
            counters.push_back(d);
        }
    }
    std::sort(counters.begin(), counters.end(), [](auto& a, auto& b) {
        return a.up.bytes + a.down.bytes + a.lateral.bytes > b.up.bytes + b.down.bytes + b.lateral.bytes;
    });
    const auto* pol = ctx.policy();
    json list = json::array();
    for (const auto& d : counters) {
        std::string name;
        if (pol)
            if (auto* n = pol->find_device(d.mac)) name = n->name;
        auto inv = inventory.find(d.mac);
        if (name.empty() && inv != inventory.end()) name = inv->second.name;
        auto q = quarantined.find(d.mac);
        // Last seen: the kernel's stamp, a dropped frame of a quarantined device, or the
        // inventory's memory, whichever is latest.
        int64_t last_seen = d.last_seen_ns ? mono_to_wall_ms(d.last_seen_ns) : 0;
        if (q != quarantined.end() && q->second.last_drop_ns)
            last_seen = std::max(last_seen, mono_to_wall_ms(q->second.last_drop_ns));
        if (inv != inventory.end()) last_seen = std::max(last_seen, inv->second.last_seen_ms);
        int64_t first_seen = inv != inventory.end() && inv->second.first_seen_ms ? inv->second.first_seen_ms
                             : d.first_seen_ns                                 ? mono_to_wall_ms(d.first_seen_ns)
                                                                               : 0;
        json j{{"mac", d.mac.str()},
               {"name", name},
               {"ip4", d.ip4 ? json(d.ip4->str()) : json(nullptr)},
               {"ip6", d.ip6 ? json(d.ip6->str()) : json(nullptr)},
               {"state", state_of(quarantined, d.mac)},
               {"counted", d.last_seen_ns != 0},
               {"up", {{"packets", d.up.packets}, {"bytes", d.up.bytes}}},
               {"down", {{"packets", d.down.packets}, {"bytes", d.down.bytes}}},
               {"lateral", {{"packets", d.lateral.packets}, {"bytes", d.lateral.bytes}}},
               {"bcast", {{"packets", d.bcast.packets}, {"bytes", d.bcast.bytes}}},
               {"tcp_syn", d.tcp_syn},
               {"protocols", {{"tcp", d.proto_packets[WD_PROTO_TCP]}, {"udp", d.proto_packets[WD_PROTO_UDP]},
                              {"icmp", d.proto_packets[WD_PROTO_ICMP]}, {"arp", d.proto_packets[WD_PROTO_ARP]},
                              {"other", d.proto_packets[WD_PROTO_OTHER]}}},
               {"drops", {{"blocklist", d.blocklist_drops},
                          {"quarantine", q != quarantined.end() ? q->second.dropped_from_device.packets + q->second.dropped_to_device.packets : 0}}},
               {"first_seen_ms", first_seen},
               {"last_seen_ms", last_seen}};
        // The snapshot lists only busy devices: with a fresh one, absence means idle.
        if (auto r = rates.find(d.mac.str()); r != rates.end())
            j["rate"] = {{"up_bps", r->second["up_bps"]}, {"down_bps", r->second["down_bps"]},
                         {"lateral_bps", r->second["lateral_bps"]}, {"active_flows", r->second["active_flows"]}};
        else if (fresh)
            j["rate"] = {{"up_bps", 0.0}, {"down_bps", 0.0}, {"lateral_bps", 0.0}, {"active_flows", 0}};
        list.push_back(j);
    }
    if (ctx.json) {
        std::cout << list.dump(2) << "\n";
        return 0;
    }
    if (list.empty()) {
        std::cout << "no devices seen yet\n";
        return 0;
    }
    Table t({"MAC", "NAME", "IPV4", "UP", "DOWN", "LATERAL", "RATE UP", "RATE DOWN", "FLOWS", "LAST SEEN", "STATE"},
            {false, false, false, true, true, true, true, true, true, true, false});
    int64_t now = store::now_unix_ms();
    for (const auto& j : list) {
        bool has_rate = j.contains("rate");
        t.add({j["mac"], j["name"].get<std::string>().empty() ? "-" : j["name"].get<std::string>(),
               j["ip4"].is_null() ? "-" : j["ip4"].get<std::string>(), human_bytes(j["up"]["bytes"]),
               human_bytes(j["down"]["bytes"]), human_bytes(j["lateral"]["bytes"]),
               has_rate ? human_rate(j["rate"]["up_bps"]) : "-", has_rate ? human_rate(j["rate"]["down_bps"]) : "-",
               has_rate ? std::to_string(j["rate"]["active_flows"].get<int>()) : "-",
               j["last_seen_ms"].get<int64_t>() ? human_age(now - j["last_seen_ms"].get<int64_t>()) + " ago" : "-",
               j["state"]});
    }
    t.print(std::cout);
    if (!fresh) std::cout << "(no rates: the controller is not running or its snapshot is stale)\n";
    return 0;
}

namespace {

const char* proto_name(uint8_t p) {
    switch (p) {
        case IPPROTO_TCP: return "tcp";
        case IPPROTO_UDP: return "udp";
        case IPPROTO_ICMP: return "icmp";
        case IPPROTO_ICMPV6: return "icmp6";
        default: return "ip";
    }
}

std::string endpoint(const uint8_t* addr, uint16_t port_be, uint8_t proto) {
    net::IpAddr a;
    std::memcpy(a.bytes.data(), addr, 16);
    std::string s = a.is_v4() ? a.str() : "[" + a.str() + "]";
    if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) s += ":" + std::to_string(ntohs(port_be));
    return s;
}

std::string tcp_flags(uint32_t f) {
    std::string s;
    if (f & 0x02) s += 'S';
    if (f & 0x10) s += 'A';
    if (f & 0x01) s += 'F';
    if (f & 0x04) s += 'R';
    return s.empty() ? "-" : s;
}

}  // namespace

int cmd_flows(Context& ctx) {
    std::optional<net::Mac> only;
    if (ctx.vm.count("device")) {
        only = net::Mac::parse(ctx.vm["device"].as<std::string>());
        if (!only) throw UsageError("--device: not a MAC address: " + ctx.vm["device"].as<std::string>());
    }
    int top = ctx.vm["top"].as<int>();
    if (top < 0) throw UsageError("--top must be 0 (all) or more");
    std::string sort = ctx.vm["sort"].as<std::string>();
    if (sort != "bytes" && sort != "packets" && sort != "recent")
        throw UsageError("--sort must be bytes, packets or recent");

    dataplane::PinnedMaps maps(ctx.pin_dir());
    auto flows = maps.flows().read_all();
    if (only)
        std::erase_if(flows, [&](auto& f) { return dataplane::mac_of(f.key.mac) != *only; });
    auto total_bytes = [](const dataplane::FlowEntry& f) { return f.stats.bytes[0] + f.stats.bytes[1]; };
    auto total_packets = [](const dataplane::FlowEntry& f) { return f.stats.packets[0] + f.stats.packets[1]; };
    std::sort(flows.begin(), flows.end(), [&](auto& a, auto& b) {
        if (sort == "packets") return total_packets(a) > total_packets(b);
        if (sort == "recent") return a.stats.last_seen_ns > b.stats.last_seen_ns;
        return total_bytes(a) > total_bytes(b);
    });
    size_t shown = top == 0 ? flows.size() : std::min<size_t>(flows.size(), top);
    int64_t now = store::now_unix_ms();
    json list = json::array();
    for (size_t i = 0; i < shown; ++i) {
        const auto& f = flows[i];
        net::IpAddr local, remote;
        std::memcpy(local.bytes.data(), f.key.saddr, 16);
        std::memcpy(remote.bytes.data(), f.key.daddr, 16);
        list.push_back({{"device", dataplane::mac_of(f.key.mac).str()},
                        {"protocol", proto_name(f.key.proto)},
                        {"local", local.str()},
                        {"local_port", ntohs(f.key.sport)},
                        {"remote", remote.str()},
                        {"remote_port", ntohs(f.key.dport)},
                        {"up", {{"packets", f.stats.packets[WD_FLOW_UP]}, {"bytes", f.stats.bytes[WD_FLOW_UP]}, {"tcp_flags", f.stats.tcp_flags[WD_FLOW_UP]}}},
                        {"down", {{"packets", f.stats.packets[WD_FLOW_DOWN]}, {"bytes", f.stats.bytes[WD_FLOW_DOWN]}, {"tcp_flags", f.stats.tcp_flags[WD_FLOW_DOWN]}}},
                        {"first_seen_ms", mono_to_wall_ms(f.stats.first_seen_ns)},
                        {"last_seen_ms", mono_to_wall_ms(f.stats.last_seen_ns)}});
    }
    if (ctx.json) {
        std::cout << list.dump(2) << "\n";
        return 0;
    }
    if (list.empty()) {
        std::cout << (only ? "no flows for " + only->str() : std::string("no flows")) << "\n";
        return 0;
    }
    Table t({"DEVICE", "PROTO", "LOCAL", "REMOTE", "UP", "DOWN", "PACKETS", "FLAGS", "AGE", "IDLE"},
            {false, false, false, false, true, true, true, false, true, true});
    for (size_t i = 0; i < shown; ++i) {
        const auto& f = flows[i];
        t.add({dataplane::mac_of(f.key.mac).str(), proto_name(f.key.proto), endpoint(f.key.saddr, f.key.sport, f.key.proto),
               endpoint(f.key.daddr, f.key.dport, f.key.proto), human_bytes(f.stats.bytes[0]), human_bytes(f.stats.bytes[1]),
               human_count(total_packets(f)),
               f.key.proto == IPPROTO_TCP ? tcp_flags(f.stats.tcp_flags[0]) + "/" + tcp_flags(f.stats.tcp_flags[1]) : "-",
               human_age(now - mono_to_wall_ms(f.stats.first_seen_ns)), human_age(now - mono_to_wall_ms(f.stats.last_seen_ns))});
    }
    t.print(std::cout);
    if (shown < flows.size()) std::cout << "(" << flows.size() - shown << " more; --top 0 shows all)\n";
    return 0;
}

}  // namespace warden::cli
