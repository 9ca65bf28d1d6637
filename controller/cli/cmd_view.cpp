// warden status, devices, flows: what the maps say now, joined with the controller's
// snapshot (rates) and the inventory (names); devices through the join in device_view.h.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/device_view.h"
#include "cli/explain.h"
#include "cli/format.h"
#include "control/socket.h"
#include "store/owner.h"
#include "dataplane/evictions.h"
#include "dataplane/pinned.h"
#include "identity/types.h"
#include "quarantine/quarantine.h"
#include "store/state.h"
#include "version/version.h"

namespace warden::cli {

using nlohmann::json;
using dataplane::MapId;

namespace {

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

}  // namespace

// The ports as the controller last checked them against the kernel: what each has, and
// what is wrong where something is.
static void print_ports(const json& ports) {
    std::cout << "\n";
    Table table({"PORT", "ROLE", "STATE", "THE KERNEL HAS"});
    std::vector<std::string> problems;
    for (const auto& p : ports) {
        std::string name = p.value("interface", "?"), state = p.value("state", "?"), has;
        for (const auto& k : p.value("kernel", json::array())) {
            std::string how = k.value("hook", "") == "xdp" ? k.value("mode", "") + ", " : "";
            has += (has.empty() ? "" : ", ") + k.value("hook", "") + " " + k.value("program", "") + " (" + how + "id " +
                   std::to_string(k.value("id", 0u)) + (k.value("ours", false) ? "" : ", not warden's") + ")";
        }
        if (state == "waiting")
            has = p.value("optional", false) ? "- (not there; optional)" : "- (not there: nothing enforced until it appears)";
        table.add({name, p.value("role", "?"), state == "fault" ? "FAULT" : state, has.empty() ? "nothing" : has});
        for (const auto& f : p.value("faults", json::array())) problems.push_back(f.get<std::string>());
    }
    table.print(std::cout);
    for (const auto& f : problems) std::cout << "  fault: " << f << "\n";
}

int cmd_status(Context& ctx) {
    std::string pin_dir = ctx.pin_dir(), state_dir = ctx.state_dir();
    store::StateDir state(state_dir);
    auto pid = store::running_controller(state.pid_file().string());
    bool pinned = dataplane::maps_pinned(pin_dir);
    // A running controller says how it is now (even when it cannot write its state dir);
    // else the last status it wrote.
    json snapshot;
    if (pid) {
        try {
            auto live = control::ask(state.path_of(store::layout::control_socket), {{"op", "status"}},
                                     std::chrono::seconds(5));
            if (live && live->ok()) snapshot = live->detail;
        } catch (const std::exception& e) {
            std::cerr << "warning: " << e.what() << "\n";
        }
    }
    if (!snapshot.is_object()) snapshot = read_json_file(state.status_file());

    json out{{"controller", pid ? json{{"running", true}, {"pid", *pid}} : json{{"running", false}}},
             {"pin_dir", pin_dir},
             {"state_dir", state_dir},
             {"maps_pinned", pinned},
             {"build", version::to_json()}};  // this command's; the controller's is under controller
    if (!pinned) {
        if (ctx.json) {
            std::cout << out.dump(2) << "\n";
        } else {
            std::cout << "warden is not running: no maps pinned under " << pin_dir << " (start it with `warden run`)\n";
        }
        return 1;
    }
    dataplane::PinnedMaps maps(pin_dir);
    auto stats = maps.stats();
    // Evictions of the LRU maps (dataplane/evictions.h): what this walk proves, or what the
    // running controller's walks proved, whichever is more.
    const wd_prog_stats before_walk = stats.total();
    json map_list = json::array();
    uint64_t total_memory = 0;
    for (const auto& row : kMapRows) {
        int fd = maps.fd(row.id);
        uint64_t mem = map_memory(fd);
        total_memory += mem;
        json m{{"name", std::string(dataplane::map_name(row.id))}, {"capacity", maps.capacity(row.id)}, {"memory_bytes", mem}};
        if (row.key_size) m["entries"] = count_entries(fd, row.key_size);
        if (row.id == MapId::devices || row.id == MapId::flows) {
            uint64_t evicted = dataplane::evicted_at_least(dataplane::churn(before_walk, row.id),
                                                           m["entries"].get<uint64_t>(),
                                                           dataplane::churn(stats.total(), row.id));
            if (pid && snapshot.is_object() && snapshot.contains("evicted")) {
                const char* key = row.id == MapId::devices ? "devices" : "flows";
                evicted = std::max(evicted, snapshot["evicted"].value(key, uint64_t(0)));
            }
            m["evicted"] = evicted;
        }
        map_list.push_back(m);
    }
    out["maps"] = map_list;
    out["map_memory_bytes"] = total_memory;
    json progs = json::array();
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
                         {"map_full", s.map_full},
                         {"added", {{"devices", s.devices_added}, {"flows", s.flows_added}}}});
    }
    out["programs"] = progs;
    auto quarantined = maps.quarantine().list();
    out["quarantined"] = {{"isolate", std::count_if(quarantined.begin(), quarantined.end(), [](auto& q) { return q.level == WD_LEVEL_ISOLATE; })},
                          {"restricted", std::count_if(quarantined.begin(), quarantined.end(), [](auto& q) { return q.level == WD_LEVEL_RESTRICTED; })}};
    if (snapshot.is_object()) {
        out["ports"] = snapshot.value("ports", json::array());
        out["attachments"] = snapshot.value("attachments", json::array());
        out["policy"] = snapshot.value("policy", "");
        out["started_ms"] = snapshot.value("started_ms", int64_t(0));
        out["interval_ms"] = snapshot.value("interval_ms", int64_t(0));
        out["last_poll_cpu_ms"] = snapshot.value("last_poll_cpu_ms", 0.0);
        out["snapshot_age_ms"] = store::now_unix_ms() - snapshot.value("updated_ms", int64_t(0));
        if (snapshot.contains("health")) out["health"] = snapshot["health"];
        if (snapshot.contains("inventory")) out["inventory"] = snapshot["inventory"];
        if (snapshot.contains("blocklist")) out["blocklist"] = snapshot["blocklist"];
        if (pid && snapshot.contains("build")) out["controller"]["build"] = snapshot["build"];
        out["polls"] = snapshot.value("polls", uint64_t(0));
        if (snapshot.contains("notify") && snapshot["notify"].is_object()) out["notify"] = snapshot["notify"];
    }

    if (ctx.json) {
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (pid) {
        int64_t up = store::now_unix_ms() - out.value("started_ms", store::now_unix_ms());
        std::cout << "controller: running (pid " << *pid << ", up " << human_age(up) << "), policy "
                  << out.value("policy", std::string("?")) << "\n";
        if (out["controller"].contains("build")) {
            const auto& b = out["controller"]["build"];
            std::cout << "build: warden " << b.value("version", "?") << ", commit " << b.value("commit", "?")
                      << ", libbpf " << b.value("libbpf", "?") << "\n";
        }
        json health = out.value("health", json::object());
        if (health.value("state", "ok") == "ok") {
            std::cout << "health: ok\n";
        } else {
            std::cout << "health: DEGRADED (enforcement goes on; what follows does not work):\n";
            for (const auto& p : health.value("problems", json::array()))
                std::cout << "  " << p.value("step", "") << ": " << p.value("error", "") << " (since "
                          << human_age(store::now_unix_ms() - p.value("since_ms", int64_t(0))) << ", "
                          << p.value("count", 0) << " time(s))\n";
        }
        if (out.contains("inventory")) {
            const auto& inv = out["inventory"];
            std::cout << "inventory: " << inv.value("devices", 0) << " device(s) of at most " << inv.value("limit", 0);
            if (inv.value("evicted", 0) > 0) std::cout << "; " << inv.value("evicted", 0) << " idle device(s) forgotten";
            std::cout << "\n";
        }
        if (out.contains("notify")) {
            const auto& n = out["notify"];
            std::cout << "notifications: " << n.value("channels", 0) << " channel(s), " << n.value("sent", 0)
                      << " sent, " << n.value("queued", 0) << " waiting, " << n.value("failed_attempts", 0)
                      << " failed attempt(s), " << n.value("dropped", 0) << " dropped";
            if (n.contains("last_error") && n["last_error"].is_string())
                std::cout << " (last problem: " << n["last_error"].get<std::string>() << ")";
            std::cout << "\n";
        }
    } else {
        std::cout << "controller: NOT running — programs stay attached and keep enforcing; start `warden run`\n";
    }
    if (out.contains("blocklist")) {
        const auto& b = out["blocklist"];
        std::string version = b.value("operator_version", "");
        std::cout << "operator's blocklist: " << b.value("operator_prefixes", 0) << " prefix(es)"
                  << (version.empty() ? "" : ", version " + version) << "\n";
    }
    if (out.contains("ports")) print_ports(out["ports"]);
    std::cout << "\n";
    Table mt({"MAP", "ENTRIES", "CAPACITY", "EVICTED", "MEMORY"}, {false, true, true, true, true});
    for (const auto& m : map_list)
        mt.add({m["name"], m.contains("entries") ? std::to_string(m["entries"].get<uint64_t>()) : "-",
                std::to_string(m["capacity"].get<uint64_t>()),
                m.contains("evicted") ? std::to_string(m["evicted"].get<uint64_t>()) : "-", human_bytes(m["memory_bytes"])});
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

namespace {

// `warden devices --explain MAC`: from the state dir and the files, so it works whether or
// not the controller runs.
int explain(Context& ctx, const std::string& mac_text) {
    auto mac = net::Mac::parse(mac_text);
    if (!mac) throw UsageError("--explain: not a MAC address: \"" + mac_text + "\" (expected aa:bb:cc:dd:ee:ff)");
    store::StateDir state(ctx.state_dir());
    std::optional<store::DeviceRecord> record;
    for (auto& r : state.load_inventory().records)
        if (r.mac == *mac) record = std::move(r);
    if (!record)
        throw std::runtime_error("no device " + mac->str() + " in the inventory (" + state.inventory_file().string() +
                                 "): warden has not seen it; `warden devices` lists the devices it knows");

    const policy::Policy* policy = ctx.policy();
    policy::IdentitySources sources = policy ? policy->identity : policy::IdentitySources{};
    ExplainInput in;
    in.mac = *mac;
    in.ip4 = record->ip4;
    in.ip6 = record->ip6;
    in.identity = record->identity;
    in.named = policy ? policy->find_device(*mac) : nullptr;
    in.name = in.named && !in.named->name.empty() ? in.named->name : record->name;
    if (in.name.empty()) in.name = record->identity.is_object() ? record->identity.value("hostname", "") : "";
    in.ieee_data = sources.ieee_data;
    in.rules_path = sources.device_types;
    std::optional<identity::DeviceTypes> rules;
    auto loaded = identity::DeviceTypes::load_file(sources.device_types);
    if (loaded.rules) {
        rules = std::move(loaded.rules);
        in.rules = &*rules;
    } else {
        in.rules_error = loaded.errors.empty() ? "not loaded" : loaded.errors.front().str();
        if (loaded.errors.size() > 1) in.rules_error += " (and " + std::to_string(loaded.errors.size() - 1) + " more)";
    }
    auto names = view::parse_peer_names(read_json_file(state.path_of(store::layout::names)));
    if (auto it = names.find(*mac); it != names.end()) in.peer_names = it->second;

    json explanation = explain_device(in);
    if (ctx.json)
        std::cout << explanation.dump(2) << "\n";
    else
        print_explanation(explanation, std::cout);
    return 0;
}

// The device's vendor column: the maker, or why there is none to show.
std::string vendor_cell(const DeviceView& d) {
    if (!d.vendor.empty()) return shorten(d.vendor, 20);
    return d.random_mac ? "(random MAC)" : "-";
}

}  // namespace

int cmd_devices(Context& ctx) {
    if (ctx.vm.count("explain")) return explain(ctx, ctx.vm["explain"].as<std::string>());
    RecentEvents events(store::StateDir(ctx.state_dir()).events_file());
    events.update();
    NetworkView view = look(ctx, &events, /*require_pins=*/true);
    auto& devices = view.devices;
    std::sort(devices.begin(), devices.end(), [](auto& a, auto& b) { return a.total_bytes() > b.total_bytes(); });
    if (ctx.json) {
        json list = json::array();
        for (const auto& d : devices) list.push_back(to_json(d));
        std::cout << list.dump(2) << "\n";
        return 0;
    }
    if (devices.empty()) {
        std::cout << "no devices seen yet\n";
        return 0;
    }
    // Fits ~120 columns: lateral bytes and flow counts are in --json and `warden top`.
    Table t({"MAC", "NAME", "IPV4", "VENDOR", "TYPE", "UP", "DOWN", "RATE", "SEEN", "STATE"},
            {false, false, false, false, false, true, true, true, true, false});
    int64_t now = store::now_unix_ms();
    for (const auto& d : devices) {
        const auto& r = d.rates;
        t.add({d.mac.str(), d.name.empty() ? "-" : shorten(d.name, 18), d.ip4 ? d.ip4->str() : "-", vendor_cell(d),
               d.type.empty() ? "unknown" : d.type, human_bytes(d.counters.up.bytes), human_bytes(d.counters.down.bytes),
               r ? human_rate(r->up_bps + r->down_bps) : "-",
               d.last_seen_ms ? human_age(now - d.last_seen_ms) : "-", d.state});
    }
    t.print(std::cout);
    if (!view.rates_fresh) std::cout << "(no rates: the controller is not running or its snapshot is stale)\n";
    std::cout << "(`warden devices --explain MAC` says why a device has its name, vendor and type)\n";
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
    // The name the device looked the peer up as (while its DNS TTL lasts), from `warden run`.
    auto names = view::parse_peer_names(read_json_file(store::StateDir(ctx.state_dir()).path_of(store::layout::names)));
    std::vector<std::string> peer_names(shown);
    json list = json::array();
    for (size_t i = 0; i < shown; ++i) {
        const auto& f = flows[i];
        net::IpAddr local, remote;
        std::memcpy(local.bytes.data(), f.key.saddr, 16);
        std::memcpy(remote.bytes.data(), f.key.daddr, 16);
        if (auto device = names.find(dataplane::mac_of(f.key.mac)); device != names.end())
            if (auto name = device->second.find(remote.str()); name != device->second.end()) peer_names[i] = name->second;
        list.push_back({{"device", dataplane::mac_of(f.key.mac).str()},
                        {"protocol", proto_name(f.key.proto)},
                        {"local", local.str()},
                        {"local_port", ntohs(f.key.sport)},
                        {"remote", remote.str()},
                        {"remote_port", ntohs(f.key.dport)},
                        {"peer_name", peer_names[i].empty() ? json(nullptr) : json(peer_names[i])},
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
    Table t({"DEVICE", "PROTO", "LOCAL", "REMOTE", "PEER NAME", "UP", "DOWN", "PACKETS", "FLAGS", "AGE", "IDLE"},
            {false, false, false, false, false, true, true, true, false, true, true});
    for (size_t i = 0; i < shown; ++i) {
        const auto& f = flows[i];
        t.add({dataplane::mac_of(f.key.mac).str(), proto_name(f.key.proto), endpoint(f.key.saddr, f.key.sport, f.key.proto),
               endpoint(f.key.daddr, f.key.dport, f.key.proto), peer_names[i].empty() ? "-" : shorten(peer_names[i], 28),
               human_bytes(f.stats.bytes[0]), human_bytes(f.stats.bytes[1]),
               human_count(total_packets(f)),
               f.key.proto == IPPROTO_TCP ? tcp_flags(f.stats.tcp_flags[0]) + "/" + tcp_flags(f.stats.tcp_flags[1]) : "-",
               human_age(now - mono_to_wall_ms(f.stats.first_seen_ns)), human_age(now - mono_to_wall_ms(f.stats.last_seen_ns))});
    }
    t.print(std::cout);
    if (shown < flows.size()) std::cout << "(" << flows.size() - shown << " more; --top 0 shows all)\n";
    return 0;
}

}  // namespace warden::cli
