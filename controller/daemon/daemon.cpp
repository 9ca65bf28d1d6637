#include "daemon/daemon.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <memory>
#include <set>

#include "control/control.h"
#include "control/enforcement.h"
#include "control/gateway.h"
#include "control/socket.h"
#include "daemon/detection.h"
#include "daemon/health.h"
#include "daemon/identification.h"
#include "daemon/inventory.h"
#include "daemon/loop_queue.h"
#include "daemon/sd_notify.h"
#include "daemon/status.h"
#include "daemon/traffic.h"
#include "dataplane/attach.h"
#include "dataplane/dataplane.h"
#include "dataplane/events.h"
#include "dataplane/evictions.h"
#include "dataplane/pinned.h"
#include "fleet/agent.h"
#include "net/interfaces.h"
#include "notify/notifier.h"
#include "policy/policy.h"
#include "ports/live_kernel.h"
#include "ports/ports.h"
#include "quarantine/quarantine.h"
#include "store/events_log.h"
#include "store/files.h"
#include "store/owner.h"
#include "store/state.h"
#include "web/service.h"

namespace warden::daemon {

using nlohmann::json;
using dataplane::MapId;
using dataplane::Program;

namespace {

constexpr int64_t kDropLogEveryMs = 60'000;  // one "blocked" event per device and kind a minute
constexpr std::chrono::seconds kRequestTimeout{20};

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

// `warden run`: the parts, each named for what it does, and the loop that drives them.
class Controller {
public:
    Controller(std::string config_path, Overrides overrides)
        : config_path_(std::move(config_path)), overrides_(std::move(overrides)) {}

    int run();

private:
    // Start-up, in order.
    void start();
    bool load_policy(policy::Policy& out, bool at_start);
    void apply_log_level();
    void load_dataplane();
    void learn_gateway(const std::vector<net::Interface>& all);
    void start_control(bool maps_fresh);
    void load_blocklists();
    void start_engine();
    void open_surfaces();
    void open_fleet(const std::function<control::Result(const json&, const control::Who&)>& submit);
    json fleet_snapshot(const std::string& what) const;
    json fleet_status() const;  // the channel's status; null when the policy does not enable it
    void start_notifier();

    // The poll, as its steps.
    void poll();
    // Everything else the loop does.
    void on_event(const dataplane::EventRecord& record);
    control::Result handle_request(const json& request, const control::Who& who);
    control::Result reload();
    json status_now() const;
    void stop();
    void arm_timer();
    std::string ifname(uint32_t ifindex) const;
    // The household is told (controller/notify): events as logged, devices by their names.
    void tell(const json& event);
    // new_devices: restricted_until_approved holds a device never seen before.
    void hold_new_device(const net::Mac& mac);
    notify::DeviceName household_name(const net::Mac& mac) const;
    std::string page_url() const;

    std::string config_path_;
    Overrides overrides_;
    policy::Policy policy_;
    std::string pin_dir_, state_dir_;
    int64_t started_ms_ = 0;

    // The state dir: owned while running, written through the parts below.
    std::unique_ptr<store::StateDir> state_;
    std::unique_ptr<store::Owner> owner_;
    std::unique_ptr<store::EventLog> events_;

    // The data plane: programs, maps, attachments, the events ring; the pins held locked.
    std::unique_ptr<dataplane::PinDirLock> pin_lock_;
    std::unique_ptr<dataplane::Dataplane> dp_;
    std::unique_ptr<ports::Ports> ports_;  // warden's programs on the policy's interfaces
    std::unique_ptr<dataplane::EventReader> reader_;

    // What warden enforces, changed only through the control core.
    std::unique_ptr<control::KernelEnforcement> enforcement_;
    std::unique_ptr<Detection> detection_;  // the behaviour engine; what the core teaches
    std::unique_ptr<control::Control> control_;

    // What warden knows of the devices.
    std::unique_ptr<Inventory> inventory_;
    std::unique_ptr<Identification> identification_;
    Traffic traffic_;
    std::unique_ptr<dataplane::Evictions> evictions_;  // what the LRU maps evicted, from the walks
    Health health_;
    std::map<std::pair<net::Mac, uint32_t>, int64_t> drop_logged_ms_;

    // The surfaces: the control socket (the CLI) and the status page, both reaching the
    // control core through the loop.
    LoopQueue queue_;
    std::unique_ptr<control::SocketServer> socket_;
    std::unique_ptr<web::Service> web_;
    std::unique_ptr<fleet::Agent> fleet_;  // the operator's channel, when the policy enables it
    std::string fleet_problem_;            // why it could not start

    // systemd (Type=notify): ready once enforcing, then a status line as it changes.
    SystemdNotifier systemd_;
    std::string systemd_status() const;
    // The household's notifications (notify: in the policy), on their own thread.
    std::unique_ptr<notify::Notifier> notifier_;

    // Figures for status and metrics.
    PollFigures figures_;
    ReloadOutcome reload_;
    uint64_t last_poll_ns_ = 0;
    int timer_fd_ = -1;
    std::chrono::milliseconds armed_interval_{0};
};

bool Controller::load_policy(policy::Policy& out, bool at_start) {
    auto result = policy::load_file(config_path_);
    for (const auto& w : result.warnings) log::warn("policy: {}", w.str());
    if (!result.policy) {
        reload_.errors.clear();
        for (const auto& e : result.errors) {
            log::error("policy: {}", e.str());
            reload_.errors.push_back(e.str());
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
    // Frames to any of these MACs count as "up"; DNS to these addresses is allowed for
    // restricted devices. The same facts guard the control core's operations.
    auto facts = control::gateway_facts(all, policy_.interfaces.lan, policy_.interfaces.wan);
    auto macs = facts.macs;
    auto addrs = facts.lan_addrs;
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
    if (control_) control_->configure({policy_.quarantine, facts, policy_.detectors});
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

void Controller::load_dataplane() {
    // The memlock limit cannot be raised on some systems and this kernel does not need it.
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_MEMLOCK, &unlimited) != 0)
        log::debug("could not raise RLIMIT_MEMLOCK ({}); continuing", std::strerror(errno));
    dataplane::LoadOptions load;
    load.sizes = policy_.map_sizes;
    load.pin_dir = pin_dir_;
    pin_lock_ = std::make_unique<dataplane::PinDirLock>(pin_dir_);
    dp_ = std::make_unique<dataplane::Dataplane>(load);
}

// The control core over the kernel maps, its books restored: quarantines made or ended while
// warden was down (by the CLI) are enforced now, expired ones released.
void Controller::start_control(bool maps_fresh) {
    enforcement_ = std::make_unique<control::KernelEnforcement>(
        dataplane::QuarantineTable(dp_->map_fd(MapId::quarantine)),
        dataplane::Blocklist(dp_->map_fd(MapId::block_v4), dp_->map_fd(MapId::block_v6),
                             dp_->map_fd(MapId::block_gen)));
    detection_ = std::make_unique<Detection>(*state_, *events_);
    control_ = std::make_unique<control::Control>(*state_, *events_, *enforcement_, *detection_,
                                                  control::Control::Settings{policy_.quarantine, {}, policy_.detectors});
    detection_->act_through(control_.get());
    for (const auto& p : control_->load()) log::error("state: {}", p);
    auto expired = control_->expire(store::now_unix_ms(), "expired while warden was down");
    for (const auto& r : expired)
        log::info("released {} ({}): its quarantine expired while warden was down", r.mac.str(), text::name(r.level));
    auto changes = control_->reconcile();
    dataplane::Blocklist(dp_->map_fd(MapId::block_v4), dp_->map_fd(MapId::block_v6), dp_->map_fd(MapId::block_gen))
        .next_generation();
    try {
        auto blocks = control_->reconcile_blocks();
        if (!blocks.empty()) log::info("blocklist: {} operator prefix(es) restored or removed", blocks.size());
    } catch (const std::exception& e) {
        log::error("blocklist: cannot restore the operator's prefixes: {}", e.what());
    }
    log::info("quarantine: {} restored from {} ({} maps; {} brought in line), {} expired while down",
              control_->book().records().size(), state_->quarantine_file().string(), maps_fresh ? "new" : "reused",
              changes.size(), expired.size());
}

void Controller::start_engine() {
    detection_->configure(policy_);
    if (auto problem = control_->apply_detector_settings(); !problem.empty()) log::error("detectors: {}", problem);
    detection_->name_peers_with([this](const net::Mac& mac, const net::IpAddr& addr) {
        return identification_->name_for(mac, addr, store::now_unix_ms());
    });
    detection_->load();
    identification_->tell_types(*detection_);
    for (const auto& line : control_->apply_pending()) log::info("asked while warden was down: {}", line);
}

// The control socket (the CLI) and the status page, last: they reach the core through the
// loop, which runs once start() returns.
void Controller::open_surfaces() {
    auto submit = [this](const json& request, const control::Who& who) -> control::Result {
        try {
            auto r = queue_.run<control::Result>([&, request, who] { return handle_request(request, who); },
                                                 kRequestTimeout);
            if (r) return *r;
            return control::Result::error(control::Result::Status::failed,
                                          "the controller did not get to the request within 20 s");
        } catch (const std::exception& e) {
            return control::Result::error(control::Result::Status::failed, e.what());
        }
    };
    socket_ = std::make_unique<control::SocketServer>(state_->path_of(store::layout::control_socket), submit,
                                                      [](const std::string& op) {
                                                          return op != "status" && control::Control::changes_state(op);
                                                      });
    web_ = std::make_unique<web::Service>(policy_, state_dir_, [this](MapId id) { return dp_->map_fd(id); }, submit);
    web_->start();
    if (policy_.fleet.enabled) open_fleet(submit);
}

// The operator's channel (controller/fleet): its own thread, reaching the core as one more
// client, and the events as they are written. A channel that cannot start (a certificate or
// key missing) is logged and shown in status; enforcement goes on without it.
void Controller::open_fleet(const std::function<control::Result(const json&, const control::Who&)>& submit) {
    fleet::Hooks hooks;
    hooks.execute = submit;
    hooks.read = [this](const std::string& what) -> json {
        auto r = queue_.run<json>([this, what] { return fleet_snapshot(what); }, kRequestTimeout);
        return r ? *r : json();
    };
    try {
        fleet_ = std::make_unique<fleet::Agent>(policy_.fleet, state_->path_of(store::layout::fleet_queue),
                                                state_->path_of(store::layout::fleet_commands), std::move(hooks));
    } catch (const std::exception& e) {
        fleet_problem_ = e.what();
        log::error("fleet: the operator's channel is off: {}", fleet_problem_);
        return;
    }
    events_->observe([agent = fleet_.get()](const json& event) { agent->on_event(event); });
    fleet_->start();
    log::info("fleet: gateway {} reports to {}:{}", fleet_->gateway(), policy_.fleet.host, policy_.fleet.port);
}

json Controller::fleet_status() const {
    if (fleet_) return fleet_->status();
    if (policy_.fleet.enabled) return {{"enabled", true}, {"connected", false}, {"error", fleet_problem_}};
    return nullptr;
}

json Controller::fleet_snapshot(const std::string& what) const {
    if (what == "health") return status_now();
    if (what == "inventory") {
        json devices = json::array();
        for (const auto& [mac, record] : inventory_->records()) devices.push_back(store::to_json(record));
        return devices;
    }
    if (what == "profiles") return detection_->engine().export_profiles().to_json();
    return nullptr;
}

void Controller::start() {
    if (!load_policy(policy_, true)) throw std::runtime_error("invalid policy");
    apply_log_level();
    pin_dir_ = overrides_.pin_dir.value_or(policy_.paths.pin_dir);
    state_dir_ = overrides_.state_dir.value_or(policy_.paths.state_dir);
    state_ = std::make_unique<store::StateDir>(state_dir_);
    owner_ = std::make_unique<store::Owner>(state_->pid_file().string(), store::Owner::Role::controller);
    events_ = std::make_unique<store::EventLog>(state_->events_file(), policy_.events_log.max_size,
                                                static_cast<int>(policy_.events_log.keep));
    started_ms_ = store::now_unix_ms();
    start_notifier();
    for (const auto& p : store::remove_stale_temp_files(state_->path()))
        log::info("state: removed {}, left by a writer that was killed", p.string());

    load_dataplane();
    bool fresh = dp_->reused_maps() == 0;
    const auto& s = policy_.map_sizes;
    if (fresh)
        log::info("created maps (devices {}, flows {}, quarantine {}, blocklist {}+{})", s.devices, s.flows,
                  s.quarantine, s.blocklist_v4, s.blocklist_v6);
    else
        log::info("reusing {} maps pinned under {}: counters and quarantines carry on", dp_->reused_maps(), pin_dir_);
    dp_->pin_maps();

    start_control(fresh);
    // Attached now where the interfaces are, the moment they appear elsewhere (controller/ports).
    ports_ = std::make_unique<ports::Ports>(std::make_unique<ports::LiveKernel>(*dp_, pin_dir_),
                                            [this](const json& e) { events_->append(e); });
    ports_->apply(policy_.interfaces, policy_.xdp_mode);
    learn_gateway(net::list_interfaces());
    load_blocklists();

    inventory_ = std::make_unique<Inventory>(*state_, *events_);
    inventory_->on_new_device([this](const net::Mac& mac) { hold_new_device(mac); });
    for (const auto& p : inventory_->restore(policy_)) log::error("state: {}", p);
    log::info("inventory: {} device(s) known", inventory_->records().size());
    identification_ = std::make_unique<Identification>(policy_, *inventory_);
    start_engine();

    reader_ = std::make_unique<dataplane::EventReader>(
        dp_->map_fd(MapId::events), [this](const dataplane::EventRecord& r) { on_event(r); });
    events_->append({{"kind", "start"}, {"pid", getpid()}, {"policy", config_path_}, {"maps_reused", !fresh}});
    open_surfaces();
    notifier_->configure(policy_.notify, page_url(), policy_.new_devices);  // the page's own address is known now
}

// Told from the start, so the new devices and quarantines of the start-up reach the household.
void Controller::start_notifier() {
    notifier_ = std::make_unique<notify::Notifier>(state_->path_of(store::layout::notify_queue), policy_.notify,
                                                   policy_.notify.page_url, policy_.new_devices);
    events_->observe([this](const json& e) { tell(e); });
    if (!policy_.notify.channels.empty())
        log::info("notify: {} channel(s); messages link to {}", policy_.notify.channels.size(),
                  policy_.notify.page_url.empty() ? "the status page" : policy_.notify.page_url);
}

void Controller::tell(const json& event) {
    if (!notifier_ || policy_.notify.channels.empty()) return;
    std::string kind = event.value("kind", "");
    if (kind != "new_device" && kind != "finding" && kind != "quarantine" && kind != "release") return;
    auto mac = net::Mac::parse(event.value("mac", ""));
    if (!mac) return;
    notifier_->tell(event, household_name(*mac));
}

void Controller::hold_new_device(const net::Mac& mac) {
    if (policy_.new_devices != policy::NewDevices::restricted_until_approved || policy_.is_exempt(mac) ||
        policy_.find_device(mac))  // a device the policy names is known, not new
        return;
    control::QuarantineOrder order;
    order.mac = mac.str();
    order.level = "restricted";
    order.duration = "forever";
    order.reason = std::string(notify::kNewDeviceReason);
    auto result = control_->quarantine(order, control::Who{control::Origin::warden, "new_devices"});
    if (result.ok())
        log::info("new device {} held at the restricted level until it is approved", mac.str());
    else
        log::warn("cannot hold the new device {}: {}", mac.str(), result.message);
}

notify::DeviceName Controller::household_name(const net::Mac& mac) const {
    notify::DeviceName d;
    if (const auto* named = policy_.find_device(mac)) {
        d.name = named->name;
        if (named->type != policy::DeviceType::unknown) d.type = std::string(policy::to_string(named->type));
    }
    if (!inventory_) return d;
    auto it = inventory_->records().find(mac);
    if (it == inventory_->records().end()) return d;
    const json& id = it->second.identity;
    auto text = [&](const char* key) {
        return id.is_object() && id.contains(key) && id[key].is_string() ? id[key].get<std::string>() : "";
    };
    if (d.name.empty()) d.name = it->second.name;
    if (d.name.empty()) d.name = text("hostname");
    if (d.type.empty()) d.type = text("type");
    d.vendor = text("vendor");
    return d;
}

// The link in every message: the policy's, else the status page's first address (IPv4 first).
std::string Controller::page_url() const {
    if (!policy_.notify.page_url.empty()) return policy_.notify.page_url;
    if (!web_) return "";
    std::string v6;
    for (const auto& l : web_->listeners()) {
        const auto& e = l->endpoint();
        if (!e.page) continue;
        std::string port = std::to_string(l->port());
        if (e.address.is_v4()) return "http://" + e.address.str() + ":" + port + "/";
        if (v6.empty()) v6 = "http://[" + e.address.str() + "]:" + port + "/";
    }
    return v6;
}

void Controller::on_event(const dataplane::EventRecord& record) {
    const wd_event& ev = record.hdr;
    net::Mac mac = dataplane::mac_of(ev.mac);
    int64_t now_ms = store::now_unix_ms();
    switch (ev.kind) {
        case WD_EV_NEW_DEVICE:
            inventory_->entry(mac, now_ms, ifname(ev.ifindex));
            break;
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
            ++figures_.packet_copies;
            identification_->observe(ev, record.frame, now_ms);
            break;
        case WD_EV_NEW_FLOW:
            ++figures_.flow_events;
            if (record.flow) detection_->on_new_flow(*record.flow, now_ms);
            break;
        default:
            log::debug("unknown event kind {}", ev.kind);
    }
}

// One poll. Each step fails on its own: a full disk stops the saving steps, not the
// counting, the engine, expiry or the page; `warden status` then says degraded, and why.
void Controller::poll() {
    uint64_t now_ns = quarantine::monotonic_ns();
    int64_t now_ms = store::now_unix_ms();
    double dt = last_poll_ns_ ? (now_ns - last_poll_ns_) / 1e9 : 0;
    PollSteps steps(health_, now_ms);
    std::vector<dataplane::DeviceCounters> devices;

    if (!evictions_) evictions_ = std::make_unique<dataplane::Evictions>(dataplane::StatsTable(dp_->map_fd(MapId::stats)));
    bool counted = steps.run("read counters", [&] {
        evictions_->walk_started(MapId::devices);
        devices = dataplane::DeviceTable(dp_->map_fd(MapId::devices)).read_all();
        evictions_->walk_ended(MapId::devices, devices.size());
    });
    if (counted) {
        steps.run("engine", [&] {
            for (const auto& [mac, bytes] : traffic_.take_peer_bytes()) detection_->on_peer_bytes(mac, bytes);
            detection_->tick(devices, traffic_.active_flows(), now_ms);
        });
        steps.run("rates", [&] { traffic_.update_rates(devices, dt); });
        steps.run("inventory", [&] {
            for (const auto& d : devices) inventory_->observe(d, now_ms, now_ns);
        });
    }
    steps.run("flows", [&] {
        traffic_.scan_flows(dataplane::FlowTable(dp_->map_fd(MapId::flows)), now_ns, policy_.interval.count(),
                            policy_.map_sizes.flows, *evictions_);
    });
    steps.run("quarantine", [&] {
        control_->guard_state();
        for (const auto& r : control_->expire(now_ms)) log::info("released {} ({}): its quarantine expired", r.mac.str(), text::name(r.level));
        control_->reconcile();
    });
    steps.run("identity", [&] { identification_->sync(*inventory_, detection_.get(), now_ms); });
    steps.run("inventory bound", [&] {
        std::set<net::Mac> counted_now;
        for (const auto& d : devices) counted_now.insert(d.mac);
        inventory_->keep_bound([&](const net::Mac& mac) { return control_->book().find(mac) != nullptr; },
                               counted_now, now_ms);
    });
    // What must reach the disk. Each on its own: one unwritable file does not stop the rest.
    steps.run("save quarantines", [&] {
        if (auto problem = control_->save_pending(); !problem.empty())
            throw std::runtime_error("quarantine changes are not saved: " + problem);
    });
    steps.run("save inventory", [&] { inventory_->save_if_due(now_ms); });
    steps.run("save names", [&] { identification_->write_names(*state_, now_ms); });
    std::erase_if(drop_logged_ms_, [&](const auto& e) { return now_ms - e.second >= kDropLogEveryMs; });
    last_poll_ns_ = now_ns;
    ++figures_.polls;
    figures_.flow_entries = traffic_.flow_entries();
    steps.run("status", [&] { write_status(*state_, status_now(), traffic_); });
    if (web_) {
        steps.run("page", [&] {
            std::map<net::Mac, view::DeviceRates> rates;
            for (const auto& [mac, r] : traffic_.rates())
                rates[mac] = {r.up, r.down, r.lateral, traffic_.active_flows(mac)};
            web::ControllerHealth health{health_.degraded(), health_.failures(), inventory_->evicted(),
                                         inventory_->mac_floods()};
            web_->publish({traffic_.counters(), inventory_->records(), std::move(rates), traffic_.flow_entries(),
                           figures_.last_poll_cpu_ms, figures_.polls, std::move(health), evictions_->totals(),
                           ports_->status(), ports_->counts(), fleet_status()});
        });
    }
    figures_.last_poll_cpu_ms = steps.cpu_ms();  // the status written is the previous poll's
    log::debug("poll {}: {:.2f} ms CPU ({})", figures_.polls, figures_.last_poll_cpu_ms, steps.timings());
}

json Controller::status_now() const {
    StatusInputs in;
    in.started_ms = started_ms_;
    in.policy = config_path_;
    in.pin_dir = pin_dir_;
    in.state_dir = state_dir_;
    in.interval_ms = policy_.interval.count();
    in.figures = figures_;
    if (ports_) {
        auto ports = ports_->status();  // what the kernel has, as checked (controller/ports)
        in.ports = ports::ports_json(ports);
        in.attachments = ports::attachments_json(ports);
    }
    in.reload = &reload_;
    in.health = &health_;
    in.inventory_devices = inventory_ ? inventory_->records().size() : 0;
    in.inventory_limit = inventory_ ? inventory_->limit() : 0;
    in.inventory_evicted = inventory_ ? inventory_->evicted() : 0;
    in.quarantined = control_ ? control_->book().records().size() : 0;
    if (evictions_) in.evicted = evictions_->totals();
    if (notifier_ && !policy_.notify.channels.empty()) in.notify = notifier_->figures();
    json s = status_json(in);
    if (control_) {
        const auto& list = control_->operator_blocklist();
        s["blocklist"] = {{"operator_prefixes", list.entries().size()}, {"operator_version", list.version()}};
    }
    if (auto fleet = fleet_status(); !fleet.is_null()) s["fleet"] = std::move(fleet);
    return s;
}

control::Result Controller::handle_request(const json& request, const control::Who& who) {
    std::string op = request.is_object() ? request.value("op", "") : "";
    if (op == "reload") return reload();
    if (op == "status") return control::Result::done(health_.summary(), status_now());
    auto result = control_->execute(request, who);
    if (!result.ok() && result.status != control::Result::Status::not_found)
        log::warn("{} from {}: {}", op, std::string(control::origin_name(who.origin)) +
                                            (who.user.empty() ? "" : " (" + who.user + ")"),
                  result.message);
    return result;
}

control::Result Controller::reload() {
    log::info("reloading policy from {}", config_path_);
    reload_.ms = store::now_unix_ms();
    ++reload_.generation;
    policy::Policy next;
    if (!load_policy(next, false)) {
        reload_.ok = false;
        events_->append({{"kind", "policy_rejected"}, {"policy", config_path_}, {"errors", reload_.errors}});
        auto r = control::Result::error(control::Result::Status::invalid,
                                        "policy rejected; the running policy stays in force");
        r.detail = {{"errors", reload_.errors}, {"generation", reload_.generation}};
        return r;
    }
    auto old = std::move(policy_);
    policy_ = std::move(next);
    reload_.ok = true;
    reload_.errors.clear();
    apply_log_level();
    arm_timer();

    if (old.map_sizes != policy_.map_sizes)
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
        reload_.ok = false;
        reload_.errors.push_back(e.what());
    }
    load_blocklists();
    detection_->configure(policy_);  // learned state is kept
    if (auto problem = control_->apply_detector_settings(); !problem.empty()) log::error("detectors: {}", problem);
    identification_->configure(policy_);
    inventory_->configure(policy_);
    events_->append({{"kind", "policy_reloaded"}, {"policy", config_path_}, {"ok", reload_.ok}});
    log::info("policy reloaded");
    if (web_) web_->reconfigure(policy_);  // names, defaults, listeners (controller/web)
    notifier_->configure(policy_.notify, page_url(), policy_.new_devices);
    try {
        write_status(*state_, status_now(), traffic_);
    } catch (const std::exception& e) {
        log::warn("cannot write status: {}", e.what());
    }
    control::Result r = reload_.ok ? control::Result::done("policy reloaded (" + config_path_ + ")")
                                   : control::Result::error(control::Result::Status::failed,
                                                            "the policy was reloaded, but applying it failed");
    r.detail = {{"errors", reload_.errors}, {"generation", reload_.generation}};
    return r;
}

void Controller::stop() {
    socket_.reset();  // no new requests
    queue_.close();   // requests still waiting are answered "warden is stopping"
    web_.reset();     // HTTP threads before what they use
    events_->stop_observing();  // the fleet channel and the notifier go before the log
    fleet_.reset();   // says "offline" on its status topic; what waits stays queued on disk
    try {
        inventory_->save_if_due(store::now_unix_ms(), /*force=*/true);
    } catch (const std::exception& e) {
        log::error("saving the inventory: {}", e.what());
    }
    try {
        detection_->save();
    } catch (const std::exception& e) {
        log::error("saving what the engine learned: {}", e.what());
    }
    if (auto problem = control_->save_pending(); !problem.empty())
        log::error("quarantine changes could not be saved before stopping: {}", problem);
    try {
        events_->append({{"kind", "stop"}, {"pid", getpid()}, {"detached", policy_.detach_on_exit}});
    } catch (const std::exception& e) {
        log::warn("cannot write the stop event: {}", e.what());
    }
    notifier_.reset();  // what no channel took yet stays in its queue file for the next start
    if (policy_.detach_on_exit) {
        reader_.reset();
        dp_.reset();
        pin_lock_.reset();
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

// The poll timer, at the policy's interval (again after a reload that changed it).
void Controller::arm_timer() {
    if (timer_fd_ < 0 || armed_interval_ == policy_.interval) return;
    armed_interval_ = policy_.interval;
    auto ms = policy_.interval.count();
    itimerspec its{};
    its.it_interval.tv_sec = ms / 1000;
    its.it_interval.tv_nsec = (ms % 1000) * 1000000;
    its.it_value = its.it_interval;
    timerfd_settime(timer_fd_, 0, &its, nullptr);
}

int Controller::run() {
    // Signals arrive through a signalfd, in the loop, never in a handler.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);

    try {
        start();
    } catch (const std::exception& e) {
        log::error("cannot start: {}", e.what());
        return 1;
    }

    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    int tfd = timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    arm_timer();
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int fd : {sfd, tfd, reader_->epoll_fd(), queue_.fd(), ports_->fd()}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    log::info("running: polling every {} ms", policy_.interval.count());
    poll();
    systemd_.ready(systemd_status());

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
                    systemd_.status(systemd_status());
                } else if (fd == queue_.fd()) {
                    queue_.drain();
                } else if (fd == ports_->fd()) {
                    // Links came, went or changed, or the ports' check is due (controller/ports).
                    if (ports_->on_ready()) {
                        learn_gateway(net::list_interfaces());
                        write_status(*state_, status_now(), traffic_);
                    }
                } else if (fd == sfd) {
                    signalfd_siginfo si{};
                    if (read(sfd, &si, sizeof si) != sizeof si) continue;
                    if (si.ssi_signo == SIGHUP) {
                        reload();
                    } else {
                        log::info("{} received: stopping", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                        running = false;
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
    timer_fd_ = -1;
    close(sfd);
    systemd_.stopping();
    stop();
    return 0;
}

std::string Controller::systemd_status() const {
    size_t attached = 0;
    for (const auto& p : ports_->status()) attached += p.state == ports::State::attached;
    return status_line(attached, inventory_->records().size(), control_->book().records().size());
}

}  // namespace

int run(const std::string& config_path, const Overrides& overrides) {
    if (overrides.log_level) log::set_level(*overrides.log_level);
    Controller c(config_path, overrides);
    return c.run();
}

}  // namespace warden::daemon
