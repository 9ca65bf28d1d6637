#include "daemon/daemon.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "blocklist/blocklist.h"
#include "dataplane/attach.h"
#include "dataplane/dataplane.h"
#include "dataplane/events.h"
#include "dataplane/pinned.h"
#include "daemon/detection.h"
#include "daemon/pidfile.h"
#include "identity/identity.h"
#include "identity/observer.h"
#include "identity/oui.h"
#include "identity/types.h"
#include "net/interfaces.h"
#include "policy/policy.h"
#include "ports/live_kernel.h"
#include "ports/ports.h"
#include "quarantine/quarantine.h"
#include "store/events_log.h"
#include "store/files.h"
#include "store/state.h"
#include "web/service.h"

namespace warden::daemon {

using nlohmann::json;
using dataplane::MapId;
using dataplane::Program;

namespace {

constexpr int64_t kInventorySaveEveryMs = 60'000;  // last-seen stamps; new devices save at once
constexpr int64_t kIdentitySaveEveryMs = 5'000;     // identity changes reach `warden devices` this soon
constexpr int64_t kDropLogEveryMs = 60'000;        // one "blocked" log line per device a minute
constexpr int64_t kFlowScanEveryMs = 5'000;        // one pass over the flow table (see poll())

log::Level to_log_level(policy::LogLevel l) {
    switch (l) {
        case policy::LogLevel::debug: return log::Level::debug;
        case policy::LogLevel::info: return log::Level::info;
        case policy::LogLevel::warn: return log::Level::warn;
        case policy::LogLevel::error: return log::Level::error;
    }
    return log::Level::info;
}

uint32_t block_flags(policy::BlockDirection d) {
    switch (d) {
        case policy::BlockDirection::in: return WD_BLOCK_IN;
        case policy::BlockDirection::out: return WD_BLOCK_OUT;
        case policy::BlockDirection::both: return WD_BLOCK_IN | WD_BLOCK_OUT;
    }
    return WD_BLOCK_IN | WD_BLOCK_OUT;
}

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

// CPU milliseconds of each step of a poll, for `--log-level debug`: where a busy poll goes.
class PollSteps {
public:
    void mark(const char* step) {
        double now = cpu_seconds();
        if (!steps_.empty()) steps_ += ", ";
        steps_ += fmt::format("{} {:.2f}", step, (now - last_) * 1000);
        last_ = now;
    }
    const std::string& str() const { return steps_; }

private:
    double last_ = cpu_seconds();
    std::string steps_;
};

// A MAC as an integer, for hashing.
uint64_t mac_key(const uint8_t* mac) {
    uint64_t v = 0;
    for (int i = 0; i < 6; ++i) v = v << 8 | mac[i];
    return v;
}

struct Rates {
    double up = 0, down = 0, lateral = 0, bcast = 0;  // bytes/s
    double packets = 0;                               // frames/s, both directions
};

class Controller {
public:
    Controller(std::string config_path, Overrides overrides)
        : config_path_(std::move(config_path)), overrides_(std::move(overrides)) {}

    int run();

private:
    bool load_policy(policy::Policy& out, bool at_start);
    void apply_log_level();
    void start();
    void learn_gateway(const std::vector<net::Interface>& all);
    void load_blocklists();
    void restore_inventory();
    void load_identity_rules();
    void sync_identities(int64_t now_ms);
    store::DeviceRecord& inventory_entry(const net::Mac& mac, int64_t first_seen_ms, const std::string& interface);
    void write_names(int64_t now_ms);
    void poll();
    void on_event(const dataplane::EventRecord& record);
    void reload();
    void write_status();
    void save_inventory();
    void stop();
    std::string ifname(uint32_t ifindex) const;

    std::string config_path_;
    Overrides overrides_;
    policy::Policy policy_;
    std::string pin_dir_, state_dir_;

    std::unique_ptr<store::StateDir> state_;
    std::unique_ptr<PidFile> pidfile_;
    std::unique_ptr<store::EventLog> events_;
    std::unique_ptr<dataplane::Dataplane> dp_;
    std::unique_ptr<quarantine::Manager> quarantines_;
    std::unique_ptr<dataplane::EventReader> reader_;
    std::unique_ptr<web::Service> web_;  // metrics and the status page (controller/web)
    std::unique_ptr<ports::Ports> ports_;  // warden's programs on the policy's interfaces

    std::unique_ptr<identity::OuiRegistry> oui_;
    std::unique_ptr<identity::DeviceTypes> device_types_;  // outlives identities_' use of it
    std::unique_ptr<identity::IdentityStore> identities_;
    std::unique_ptr<identity::Observer> observer_;
    int64_t names_written_ms_ = 0;
    // The behaviour engine and what feeds it (daemon/detection.h).
    std::unique_ptr<Detection> detection_;

    std::map<net::Mac, store::DeviceRecord> inventory_;
    bool inventory_dirty_ = false;
    bool identities_unsaved_ = false;  // identity changes not yet on disk (sync_identities)
    int64_t inventory_saved_ms_ = 0;
    std::map<net::Mac, dataplane::DeviceCounters> last_counters_;
    std::map<net::Mac, Rates> rates_;
    std::unordered_map<uint64_t, size_t> active_flows_;  // by mac_key
    size_t flow_entries_ = 0;
    std::unique_ptr<dataplane::FlowScan> flow_scan_;  // the pass under way
    std::unordered_map<uint64_t, size_t> scan_active_;
    size_t scan_entries_ = 0;
    uint64_t scan_started_ns_ = 0;
    uint64_t last_poll_ns_ = 0;
    std::map<std::pair<net::Mac, uint32_t>, int64_t> drop_logged_ms_;

    int64_t started_ms_ = 0;
    uint64_t polls_ = 0;
    double last_poll_cpu_ms_ = 0;
    uint64_t packet_copies_ = 0;
    uint64_t flow_events_ = 0;
    int reload_generation_ = 0;
    bool reload_ok_ = true;
    std::vector<std::string> reload_errors_;
    int64_t reload_ms_ = 0;
};

bool Controller::load_policy(policy::Policy& out, bool at_start) {
    auto result = policy::load_file(config_path_);
    for (const auto& w : result.warnings) log::warn("policy: {}", w.str());
    if (!result.policy) {
        reload_errors_.clear();
        for (const auto& e : result.errors) {
            log::error("policy: {}", e.str());
            reload_errors_.push_back(e.str());
        }
        log::error("{}: {} error(s); {}", config_path_, result.errors.size(),
                   at_start ? "not starting" : "the running policy stays in force");
        return false;
    }
    out = std::move(*result.policy);
    return true;
}

void Controller::apply_log_level() {
    log::set_level(overrides_.log_level ? *overrides_.log_level : to_log_level(policy_.log_level));
    dataplane::set_libbpf_verbose(log::level() == log::Level::debug);
}

std::string Controller::ifname(uint32_t ifindex) const {
    if (!ports_) return std::to_string(ifindex);
    auto it = ports_->links().find(static_cast<int>(ifindex));
    return it != ports_->links().end() ? it->second.name : std::to_string(ifindex);
}

void Controller::learn_gateway(const std::vector<net::Interface>& all) {
    // Frames to any of these MACs count as "up": the LAN ports, the bridges they belong to
    // (devices address the bridge), and the WAN port.
    std::vector<net::Mac> macs;
    std::vector<net::IpAddr> addrs;
    auto add = [&](const net::Interface& itf) {
        if (itf.mac && std::find(macs.begin(), macs.end(), *itf.mac) == macs.end()) macs.push_back(*itf.mac);
        for (const auto& a : itf.addrs)
            if (std::find(addrs.begin(), addrs.end(), a) == addrs.end()) addrs.push_back(a);
    };
    auto is_lan = [&](const net::Interface& itf) {
        return itf.name != policy_.interfaces.wan &&
               std::any_of(policy_.interfaces.lan.begin(), policy_.interfaces.lan.end(),
                           [&](const std::string& entry) { return policy::interface_matches(entry, itf.name); });
    };
    // Bridges first: their addresses are the ones devices use (DNS, DHCP), and the list is
    // bounded; the ports' own (link-local) addresses come after.
    for (const auto& itf : all)
        if (is_lan(itf) && itf.master)
            for (const auto& m : all)
                if (m.index == itf.master) add(m);
    for (const auto& itf : all)
        if (is_lan(itf)) add(itf);
    if (auto wan = net::find_interface(all, policy_.interfaces.wan); wan && wan->mac &&
        std::find(macs.begin(), macs.end(), *wan->mac) == macs.end())
        macs.push_back(*wan->mac);
    if (macs.size() > WD_GATEWAY_MACS_MAX) macs.resize(WD_GATEWAY_MACS_MAX);
    if (addrs.size() > WD_GATEWAY_ADDRS_MAX) {
        log::warn("the gateway has {} LAN addresses; DNS for restricted devices is allowed to the first {}",
                  addrs.size(), WD_GATEWAY_ADDRS_MAX);
        addrs.resize(WD_GATEWAY_ADDRS_MAX);
    }
    dataplane::GatewayTable(dp_->map_fd(MapId::gateway)).set(macs, addrs);
    std::string list;
    for (const auto& m : macs) list += (list.empty() ? "" : ", ") + m.str();
    log::info("gateway MACs: {}; {} gateway address(es)", list, addrs.size());
}

void Controller::load_blocklists() {
    std::vector<blocklist::Entry> wanted;
    for (const auto& p : policy_.blocklist.prefixes)
        wanted.push_back({p.prefix, block_flags(p.direction), blocklist::kPolicyInline});
    for (size_t i = 0; i < policy_.blocklist.files.size(); ++i) {
        const auto& f = policy_.blocklist.files[i];
        auto parsed = blocklist::parse_file(f.path, block_flags(f.direction),
                                            blocklist::kPolicyFileBase + static_cast<uint32_t>(i));
        if (!parsed.errors.empty()) {
            for (const auto& e : parsed.errors) log::error("blocklist: {}", e);
            log::error("blocklist file {} not loaded ({} error(s))", f.path, parsed.errors.size());
            continue;
        }
        wanted.insert(wanted.end(), parsed.entries.begin(), parsed.entries.end());
    }
    dataplane::Blocklist table(dp_->map_fd(MapId::block_v4), dp_->map_fd(MapId::block_v6),
                                  dp_->map_fd(MapId::block_gen));
    auto [added, removed] = blocklist::sync_policy_entries(table, wanted);
    log::info("blocklist: {} policy prefix(es) in force ({} added, {} removed)", wanted.size(), added, removed);
}

void Controller::restore_inventory() {
    auto loaded = state_->load_inventory();
    for (const auto& p : loaded.problems) log::error("state: {}", p);
    if (loaded.moved_aside) log::error("state: damaged inventory kept as {}", loaded.moved_aside->string());
    for (auto& r : loaded.records) inventory_[r.mac] = std::move(r);
    for (const auto& d : policy_.devices) {
        auto it = inventory_.find(d.mac);
        if (it != inventory_.end() && it->second.name != d.name) {
            it->second.name = d.name;
            inventory_dirty_ = true;
        }
    }
    if (!loaded.problems.empty()) inventory_dirty_ = true;
    log::info("inventory: {} device(s) known", inventory_.size());
}

void Controller::save_inventory() {
    std::vector<store::DeviceRecord> records;
    for (const auto& [mac, r] : inventory_) records.push_back(r);
    store::DirLock lock(state_->path());
    state_->save_inventory(records);
    inventory_dirty_ = identities_unsaved_ = false;
    inventory_saved_ms_ = store::now_unix_ms();
}

// The device-type rules; on a reload the old rules stay in force when the new file is bad.
void Controller::load_identity_rules() {
    const std::string& path = policy_.identity.device_types;
    if (!std::filesystem::exists(path)) {
        log::warn("device types: no rules at {}: types come only from the policy's devices", path);
        return;
    }
    auto loaded = identity::DeviceTypes::load_file(path);
    if (!loaded.rules) {
        for (const auto& e : loaded.errors) log::error("device types: {}", e.str());
        log::error("{}: {} error(s); {}", path, loaded.errors.size(),
                   device_types_ ? "the rules in force stay" : "no type rules");
        return;
    }
    auto next = std::make_unique<identity::DeviceTypes>(std::move(*loaded.rules));
    if (identities_) identities_->set_types(next.get());
    device_types_ = std::move(next);
    log::info("device types: rules from {}", path);
}

// A device enters the inventory the first time warden hears of it, whichever way that is (its
// new-device event, its counters in a poll, its DHCP/DNS traffic): recorded and announced once.
store::DeviceRecord& Controller::inventory_entry(const net::Mac& mac, int64_t first_seen_ms,
                                                 const std::string& interface) {
    auto [it, added] = inventory_.try_emplace(mac);
    if (!added) return it->second;
    auto& rec = it->second;
    rec.mac = mac;
    rec.first_seen_ms = rec.last_seen_ms = first_seen_ms;
    if (auto* named = policy_.find_device(mac)) rec.name = named->name;
    inventory_dirty_ = true;
    json e{{"kind", "new_device"}, {"mac", mac.str()}};
    if (!interface.empty()) e["interface"] = interface;
    log::info("new device {}{}", mac.str(), interface.empty() ? "" : " on " + interface);
    events_->append(e);
    return rec;
}

// Identities that changed go into the inventory, and to disk at most every
// kIdentitySaveEveryMs: a device's looked-up names change all day, and writing the inventory
// with fsync at every DNS query would be constant I/O. A new device is saved at once.
void Controller::sync_identities(int64_t now_ms) {
    if (!identities_ || !identities_->dirty()) return;
    for (const auto& [mac, j] : identities_->save_changed()) {
        auto& rec = inventory_entry(mac, now_ms, "");
        if (rec.identity != j) {
            rec.identity = j;
            identities_unsaved_ = true;
        }
        // The engine judges a device against its type's profile until it knows the device.
        if (detection_) detection_->set_type(mac, j.value("type", std::string("unknown")));
    }
    identities_->clear_dirty();
}

// The names devices looked their peers up as, for `warden flows` (rewritten now and then,
// not durably: it is a cache).
void Controller::write_names(int64_t now_ms) {
    constexpr int64_t kEveryMs = 5'000;
    if (!identities_ || now_ms - names_written_ms_ < kEveryMs) return;
    names_written_ms_ = now_ms;
    identities_->expire_names(now_ms);
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [mac, names] : identities_->names(now_ms)) {
        auto& j = out[mac.str()];
        for (const auto& [addr, name] : names) j[addr.str()] = name;
    }
    try {
        store::write_atomically(state_->path() / "names.json", out.dump(), /*durable=*/false);
    } catch (const std::exception& e) {
        log::warn("cannot write names: {}", e.what());
    }
}

void Controller::start() {
    if (!load_policy(policy_, true)) throw std::runtime_error("invalid policy");
    apply_log_level();
    pin_dir_ = overrides_.pin_dir.value_or(policy_.paths.pin_dir);
    state_dir_ = overrides_.state_dir.value_or(policy_.paths.state_dir);
    state_ = std::make_unique<store::StateDir>(state_dir_);
    pidfile_ = std::make_unique<PidFile>(state_->pid_file().string());
    events_ = std::make_unique<store::EventLog>(state_->events_file(), policy_.events_log.max_size,
                                                static_cast<int>(policy_.events_log.keep));
    started_ms_ = store::now_unix_ms();

    // The memlock limit cannot be raised on some systems and this kernel does not need it.
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_MEMLOCK, &unlimited) != 0)
        log::debug("could not raise RLIMIT_MEMLOCK ({}); continuing", std::strerror(errno));

    dataplane::LoadOptions load;
    const auto& s = policy_.map_sizes;
    load.sizes = {s.devices, s.flows, s.blocklist_v4, s.blocklist_v6, s.quarantine, s.events_bytes};
    load.pin_dir = pin_dir_;
    dp_ = std::make_unique<dataplane::Dataplane>(load);
    bool fresh = dp_->reused_maps() == 0;
    if (fresh)
        log::info("created maps (devices {}, flows {}, quarantine {}, blocklist {}+{})", s.devices, s.flows,
                  s.quarantine, s.blocklist_v4, s.blocklist_v6);
    else
        log::info("reusing {} maps pinned under {}: counters and quarantines carry on", dp_->reused_maps(),
                  pin_dir_);
    dp_->pin_maps();

    // Attached now where the interfaces are, the moment they appear elsewhere (controller/ports).
    ports_ = std::make_unique<ports::Ports>(std::make_unique<ports::LiveKernel>(*dp_, pin_dir_),
                                            [this](const json& e) { events_->append(e); });
    ports_->apply(policy_.interfaces, policy_.xdp_mode);
    learn_gateway(net::list_interfaces());

    quarantines_ = std::make_unique<quarantine::Manager>(
        dataplane::QuarantineTable(dp_->map_fd(MapId::quarantine)), *state_, *events_);
    quarantines_->on_problem([](const std::string& p) { log::error("state: {}", p); });
    auto restored = quarantines_->restore(fresh);
    for (const auto& p : restored.problems) log::error("state: {}", p);
    for (const auto& mac : restored.dropped_macs)
        log::warn("quarantine of {} is in the state file but not in the reused kernel map (released while "
                  "warden was down?): the map is what is enforced, the record is dropped",
                  mac);
    log::info("quarantine: {} restored from {}, {} expired while down, {} adopted from the map, {} dropped",
              restored.restored, state_->quarantine_file().string(), restored.expired_while_down,
              restored.adopted, restored.dropped);

    std::vector<std::string> problems;
    auto operator_entries = blocklist::load_operator_entries(state_dir_, &problems);
    for (const auto& p : problems) log::error("state: {}", p);
    dataplane::Blocklist table(dp_->map_fd(MapId::block_v4), dp_->map_fd(MapId::block_v6),
                              dp_->map_fd(MapId::block_gen));
    table.next_generation();
    if (fresh) {
        for (const auto& e : operator_entries) table.put(e.prefix, e.flags, e.list_id);
        if (!operator_entries.empty()) log::info("blocklist: {} operator prefix(es) restored", operator_entries.size());
    }
    load_blocklists();
    restore_inventory();

    try {
        oui_ = std::make_unique<identity::OuiRegistry>(identity::OuiRegistry::load(policy_.identity.ieee_data));
        log::info("vendors: {} MAC prefixes from {}", oui_->size(), policy_.identity.ieee_data);
    } catch (const std::exception& e) {
        log::warn("vendors unknown: {} (install Debian's ieee-data, or set identity.ieee_data)", e.what());
    }
    load_identity_rules();
    identities_ = std::make_unique<identity::IdentityStore>(oui_.get(), device_types_.get());
    std::map<net::Mac, nlohmann::json> saved;
    for (const auto& [mac, rec] : inventory_)
        if (!rec.identity.empty()) saved[mac] = rec.identity;
    identities_->load(saved);
    for (const auto& d : policy_.devices) identities_->set_policy_type(d.mac, d.type);
    observer_ = std::make_unique<identity::Observer>(*identities_);

    detection_ = std::make_unique<Detection>(state_->path(), *events_, *quarantines_,
                                             dataplane::QuarantineTable(dp_->map_fd(MapId::quarantine)));
    detection_->configure(policy_);
    detection_->name_peers_with([this](const net::Mac& mac, const net::IpAddr& addr) {
        return identities_->name_for(mac, addr, store::now_unix_ms());
    });
    detection_->load();
    for (const auto& [mac, j] : identities_->save()) detection_->set_type(mac, j.value("type", std::string("unknown")));
    detection_->handle_requests(store::now_unix_ms());  // made while warden was down

    reader_ = std::make_unique<dataplane::EventReader>(
        dp_->map_fd(MapId::events), [this](const dataplane::EventRecord& r) { on_event(r); });
    events_->append({{"kind", "start"}, {"pid", getpid()}, {"policy", config_path_}, {"maps_reused", !fresh}});

    // Metrics and the status page (controller/web): HTTP threads of their own that read the
    // snapshot each poll publishes; quarantine changes go through their own Manager.
    web_ = std::make_unique<web::Service>(policy_, state_dir_, [this](MapId id) { return dp_->map_fd(id); });
    web_->start();
}

void Controller::on_event(const dataplane::EventRecord& record) {
    const wd_event& ev = record.hdr;
    net::Mac mac = dataplane::mac_of(ev.mac);
    int64_t now_ms = store::now_unix_ms();
    switch (ev.kind) {
        case WD_EV_NEW_DEVICE: {
            inventory_entry(mac, now_ms, ifname(ev.ifindex));
            break;
        }
        case WD_EV_QUARANTINE_DROP:
        case WD_EV_BLOCKLIST_HIT: {
            auto& last = drop_logged_ms_[{mac, ev.kind}];
            if (now_ms - last < kDropLogEveryMs) break;
            last = now_ms;
            json e{{"kind", ev.kind == WD_EV_BLOCKLIST_HIT ? "blocklist_hit" : "quarantine_drop"},
                   {"mac", mac.str()},
                   {"interface", ifname(ev.ifindex)},
                   {"direction", ev.direction == WD_DIR_FROM_DEVICE ? "from device"
                                 : ev.direction == WD_DIR_TO_DEVICE ? "to device"
                                                                    : "from wan"}};
            if (ev.kind == WD_EV_BLOCKLIST_HIT) {
                net::IpAddr a;
                std::memcpy(a.bytes.data(), ev.addr, 16);
                e["address"] = a.str();
            } else {
                e["level"] = ev.detail == WD_DROP_RESTRICTED ? "restricted" : "isolate";
            }
            events_->append(e);
            break;
        }
        case WD_EV_PACKET_COPY:
            ++packet_copies_;
            if (observer_) observer_->observe(ev, record.frame, now_ms);
            break;
        case WD_EV_NEW_FLOW:
            ++flow_events_;
            if (record.flow && detection_) detection_->on_new_flow(*record.flow, now_ms);
            break;
        default:
            log::debug("unknown event kind {}", ev.kind);
    }
}

void Controller::poll() {
    double cpu0 = cpu_seconds();
    PollSteps steps;
    uint64_t now_ns = quarantine::monotonic_ns();
    int64_t now_ms = store::now_unix_ms();
    double dt = last_poll_ns_ ? (now_ns - last_poll_ns_) / 1e9 : 0;

    auto devices = dataplane::DeviceTable(dp_->map_fd(MapId::devices)).read_all();
    steps.mark("read");
    // Each device's tick to the behaviour engine; findings are acted on at once.
    if (detection_) {
        detection_->handle_requests(now_ms);
        detection_->tick(devices, active_flows_, now_ms);
        steps.mark("engine");
    }
    std::map<net::Mac, dataplane::DeviceCounters> current;
    for (auto& d : devices) {
        auto prev = last_counters_.find(d.mac);
        Rates r;
        if (dt > 0 && prev != last_counters_.end()) {
            auto rate = [&](uint64_t now, uint64_t before) { return now >= before ? (now - before) / dt : 0.0; };
            r.up = rate(d.up.bytes, prev->second.up.bytes);
            r.down = rate(d.down.bytes, prev->second.down.bytes);
            r.lateral = rate(d.lateral.bytes, prev->second.lateral.bytes);
            r.bcast = rate(d.bcast.bytes, prev->second.bcast.bytes);
            uint64_t p_now = d.up.packets + d.down.packets + d.lateral.packets + d.bcast.packets;
            const auto& b = prev->second;
            uint64_t p_before = b.up.packets + b.down.packets + b.lateral.packets + b.bcast.packets;
            r.packets = rate(p_now, p_before);
        }
        rates_[d.mac] = r;

        // Counted before its new-device event arrived (or the event was lost: a full ring).
        auto& rec = inventory_entry(d.mac, now_ms - int64_t((now_ns - std::min(now_ns, d.first_seen_ns)) / 1000000), "");
        int64_t seen_ms = now_ms - int64_t((now_ns - std::min(now_ns, d.last_seen_ns)) / 1000000);
        if (d.last_seen_ns) rec.last_seen_ms = std::max(rec.last_seen_ms, seen_ms);
        if (d.ip4 && rec.ip4 != d.ip4) {
            rec.ip4 = d.ip4;
            inventory_dirty_ = true;
        }
        if (d.ip6 && rec.ip6 != d.ip6) {
            rec.ip6 = d.ip6;
            inventory_dirty_ = true;
        }
        current[d.mac] = std::move(d);
    }
    last_counters_ = std::move(current);
    steps.mark("devices");

    // Active flows per device over the last pass. Walking tens of thousands of flows costs
    // more than the rest of a poll (the kernel's batch walk alone), so each poll walks a
    // slice: a whole pass takes about kFlowScanEveryMs, and the counts then move over.
    if (!flow_scan_) flow_scan_ = std::make_unique<dataplane::FlowScan>(dataplane::FlowTable(dp_->map_fd(MapId::flows)));
    if (!scan_started_ns_) scan_started_ns_ = now_ns;
    uint64_t polls_per_pass = std::max<uint64_t>(1, kFlowScanEveryMs / std::max<int64_t>(1, policy_.interval.count()));
    size_t slice = policy_.map_sizes.flows / polls_per_pass + 1;
    uint64_t since = scan_started_ns_ - std::min<uint64_t>(scan_started_ns_, uint64_t(policy_.interval.count()) * 1000000ull);
    bool pass_done = flow_scan_->advance(slice, [&](const wd_flow_key& k, const wd_flow_stats& f) {
        ++scan_entries_;
        if (f.last_seen_ns >= since) ++scan_active_[mac_key(k.mac)];
    });
    if (pass_done) {
        active_flows_ = std::move(scan_active_);
        flow_entries_ = scan_entries_;
        scan_active_.clear();
        scan_entries_ = 0;
        scan_started_ns_ = 0;
    }
    steps.mark("flows");

    for (const auto& r : quarantines_->expire()) {
        log::info("released {} ({}): its quarantine expired", r.mac.str(), r.level);
        if (detection_) detection_->released(r.mac, now_ms);
    }
    steps.mark("quarantine");

    sync_identities(now_ms);
    write_names(now_ms);
    int64_t since_saved_ms = now_ms - inventory_saved_ms_;
    if (inventory_dirty_ || (identities_unsaved_ && since_saved_ms >= kIdentitySaveEveryMs) ||
        since_saved_ms > kInventorySaveEveryMs)
        save_inventory();
    steps.mark("inventory");
    last_poll_ns_ = now_ns;
    ++polls_;
    write_status();
    steps.mark("status");
    if (web_) {  // this poll, as metrics and the status page show it (controller/web)
        std::map<net::Mac, view::DeviceRates> rates;
        for (const auto& [mac, r] : rates_) {
            auto it = active_flows_.find(mac_key(mac.bytes.data()));
            rates[mac] = {r.up, r.down, r.lateral, it != active_flows_.end() ? it->second : 0};
        }
        web_->publish({last_counters_, inventory_, std::move(rates), flow_entries_, last_poll_cpu_ms_, polls_,
                       ports_->status(), ports_->counts()});
        steps.mark("web");
    }
    last_poll_cpu_ms_ = (cpu_seconds() - cpu0) * 1000;  // the status written is the previous poll's
    log::debug("poll {}: {:.2f} ms CPU ({})", polls_, last_poll_cpu_ms_, steps.str());
}

void Controller::write_status() {
    // Only devices doing something: an idle one reads as zero (the CLI knows). Formatted
    // by hand: for a thousand busy devices a JSON library costs more than the flow walk.
    std::string devices = "[";
    for (const auto& [mac, r] : rates_) {
        auto it = active_flows_.find(mac_key(mac.bytes.data()));
        size_t active = it != active_flows_.end() ? it->second : 0;
        if (active == 0 && r.up == 0 && r.down == 0 && r.lateral == 0 && r.bcast == 0) continue;
        fmt::format_to(std::back_inserter(devices),
                       "{}{{\"mac\":\"{}\",\"up_bps\":{:.1f},\"down_bps\":{:.1f},\"lateral_bps\":{:.1f},"
                       "\"bcast_bps\":{:.1f},\"pps\":{:.1f},\"active_flows\":{}}}",
                       devices.size() > 1 ? "," : "", mac.str(), r.up, r.down, r.lateral, r.bcast, r.packets,
                       active);
    }
    devices += "]";
    auto ports = ports_->status();  // what the kernel has, as checked (controller/ports)
    json status{{"pid", getpid()},
                {"started_ms", started_ms_},
                {"updated_ms", store::now_unix_ms()},
                {"policy", config_path_},
                {"pin_dir", pin_dir_},
                {"state_dir", state_dir_},
                {"interval_ms", policy_.interval.count()},
                {"polls", polls_},
                {"last_poll_cpu_ms", last_poll_cpu_ms_},
                {"flow_entries", flow_entries_},
                {"packet_copies", packet_copies_},
                {"ports", ports::ports_json(ports)},
                {"attachments", ports::attachments_json(ports)},
                {"reload", {{"generation", reload_generation_}, {"ok", reload_ok_}, {"ms", reload_ms_},
                            {"errors", reload_errors_}}},
                {"flow_scan_every_ms", kFlowScanEveryMs}};
    std::string text = status.dump();
    text.back() = ',';  // splice the hand-made devices array into the object
    text += "\"devices\":" + devices + "}";
    try {
        store::write_atomically(state_->status_file(), text, /*durable=*/false);
    } catch (const std::exception& e) {
        log::warn("cannot write status: {}", e.what());
    }
}

void Controller::reload() {
    log::info("reloading policy from {}", config_path_);
    reload_ms_ = store::now_unix_ms();
    ++reload_generation_;
    policy::Policy next;
    if (!load_policy(next, false)) {
        reload_ok_ = false;
        events_->append({{"kind", "policy_rejected"}, {"policy", config_path_}, {"errors", reload_errors_}});
        write_status();
        return;
    }
    auto old = std::move(policy_);
    policy_ = std::move(next);
    reload_ok_ = true;
    reload_errors_.clear();
    apply_log_level();

    auto& s = old.map_sizes;
    auto& n = policy_.map_sizes;
    if (s.devices != n.devices || s.flows != n.flows || s.quarantine != n.quarantine ||
        s.blocklist_v4 != n.blocklist_v4 || s.blocklist_v6 != n.blocklist_v6 || s.events_bytes != n.events_bytes)
        log::warn("map_sizes changed: they take effect after `warden detach` and a restart");
    if (!overrides_.pin_dir && old.paths.pin_dir != policy_.paths.pin_dir)
        log::warn("paths.pin_dir changed: takes effect after a restart");
    if (!overrides_.state_dir && old.paths.state_dir != policy_.paths.state_dir)
        log::warn("paths.state_dir changed: takes effect after a restart");

    try {
        // Ports dropped from the policy lose warden's programs; the rest are (re)attached.
        ports_->apply(policy_.interfaces, policy_.xdp_mode);
        learn_gateway(net::list_interfaces());
    } catch (const std::exception& e) {
        log::error("applying interfaces: {}", e.what());
        reload_ok_ = false;
        reload_errors_.push_back(e.what());
    }
    load_blocklists();
    if (detection_) detection_->configure(policy_);  // learned state is kept
    load_identity_rules();
    if (identities_) {
        identities_->clear_policy_types();
        for (const auto& d : policy_.devices) identities_->set_policy_type(d.mac, d.type);
    }
    for (auto& [mac, rec] : inventory_) {
        auto* named = policy_.find_device(mac);
        std::string name = named ? named->name : "";
        if (rec.name != name) {
            rec.name = name;
            inventory_dirty_ = true;
        }
    }
    events_->append({{"kind", "policy_reloaded"}, {"policy", config_path_}, {"ok", reload_ok_}});
    log::info("policy reloaded");
    if (web_) web_->reconfigure(policy_);  // names, defaults, listeners (controller/web)
    write_status();
}

void Controller::stop() {
    web_.reset();  // HTTP threads first: they use the maps (controller/web)
    try {
        save_inventory();
    } catch (const std::exception& e) {
        log::error("saving the inventory: {}", e.what());
    }
    try {
        if (detection_) detection_->save();
    } catch (const std::exception& e) {
        log::error("saving what the engine learned: {}", e.what());
    }
    events_->append({{"kind", "stop"}, {"pid", getpid()}, {"detached", policy_.detach_on_exit}});
    if (policy_.detach_on_exit) {
        reader_.reset();
        dp_.reset();
        auto r = dataplane::detach_all(pin_dir_);
        for (const auto& m : r.removed) log::info("removed {}", m);
        for (const auto& p : r.problems) log::error("{}", p);
        log::info("stopped; programs detached (detach_on_exit)");
    } else {
        log::info("stopped; programs stay attached and keep enforcing (warden detach removes them)");
    }
    std::error_code ec;
    std::filesystem::remove(state_->status_file(), ec);
}

int Controller::run() {
    // Signals arrive through a signalfd, in the loop, never in a handler.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGUSR1);  // operator requests are waiting (daemon/requests.h)
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);

    try {
        start();
    } catch (const std::exception& e) {
        log::error("cannot start: {}", e.what());
        return 1;
    }

    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    auto arm = [&] {
        auto ms = policy_.interval.count();
        itimerspec its{};
        its.it_interval.tv_sec = ms / 1000;
        its.it_interval.tv_nsec = (ms % 1000) * 1000000;
        its.it_value = its.it_interval;
        timerfd_settime(tfd, 0, &its, nullptr);
    };
    arm();
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int fd : {sfd, tfd, reader_->epoll_fd(), ports_->fd()}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    log::info("running: polling every {} ms", policy_.interval.count());
    poll();

    bool running = true;
    while (running) {
        epoll_event ready[4];
        int n = epoll_wait(ep, ready, 4, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            log::error("epoll_wait: {}", std::strerror(errno));
            break;
        }
        for (int i = 0; i < n; ++i) {
            int fd = ready[i].data.fd;
            try {
                if (fd == tfd) {
                    uint64_t ticks;
                    if (read(tfd, &ticks, sizeof ticks) < 0) continue;
                    reader_->drain();
                    poll();
                } else if (fd == sfd) {
                    signalfd_siginfo si{};
                    if (read(sfd, &si, sizeof si) != sizeof si) continue;
                    if (si.ssi_signo == SIGHUP) {
                        auto interval = policy_.interval;
                        reload();
                        if (policy_.interval != interval) arm();
                    } else if (si.ssi_signo == SIGUSR1) {
                        if (detection_) detection_->handle_requests(store::now_unix_ms());
                    } else {
                        log::info("{} received: stopping", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                        running = false;
                    }
                } else if (fd == ports_->fd()) {
                    // Links came, went or changed, or the ports' check is due (controller/ports).
                    if (ports_->on_ready()) {
                        learn_gateway(net::list_interfaces());
                        write_status();
                    }
                } else {
                    reader_->drain();
                }
            } catch (const std::exception& e) {
                // One failed cycle must not stop enforcement or the next cycle.
                log::error("{}", e.what());
            }
        }
    }
    close(ep);
    close(tfd);
    close(sfd);
    stop();
    return 0;
}

}  // namespace

int run(const std::string& config_path, const Overrides& overrides) {
    if (overrides.log_level) log::set_level(*overrides.log_level);
    Controller c(config_path, overrides);
    return c.run();
}

}  // namespace warden::daemon
