#include "web/service.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "log/log.h"
#include "net/interfaces.h"
#include "quarantine/quarantine.h"
#include "web/token.h"

namespace warden::web {

using dataplane::MapId;

namespace {

constexpr int64_t kSaveTodayEveryMs = 60'000;
constexpr int64_t kCountMapsEveryMs = 60'000;  // walking a big blocklist key by key is not free

uint64_t map_capacity(int fd) {
    bpf_map_info info{};
    uint32_t len = sizeof info;
    return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.max_entries : 0;
}

uint64_t count_keys(int fd) {
    bpf_map_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return 0;
    std::vector<uint8_t> key(info.key_size), next(info.key_size);
    uint64_t n = 0;
    bool have = false;
    while (bpf_map_get_next_key(fd, have ? key.data() : nullptr, next.data()) == 0 && n <= info.max_entries) {
        key.swap(next);
        have = true;
        ++n;
    }
    return n;
}

}  // namespace

// The API's view of the controller: the latest snapshot, and the control core.
class Service::LiveSource final : public Source {
public:
    LiveSource(const SnapshotBox& box, const Submit& submit) : box_(box), submit_(submit) {}

    std::shared_ptr<const Snapshot> snapshot() const override { return box_.get(); }
    control::Result submit(const nlohmann::json& request) override {
        return submit_(request, control::Who{control::Origin::page, "admin token"});
    }

private:
    const SnapshotBox& box_;
    const Submit& submit_;
};

Service::Service(const policy::Policy& policy, const std::filesystem::path& state_dir, MapFd map_fd, Submit submit)
    : policy_(policy),
      state_(state_dir),
      map_fd_(std::move(map_fd)),
      submit_(std::move(submit)),
      started_ms_(store::now_unix_ms()),
      today_(state_.path_of(store::layout::today), started_ms_),
      threats_(state_.events_file(), static_cast<int>(policy.events_log.keep)) {
    if (!today_.problem().empty()) log::warn("{}", today_.problem());
    if (policy_.status_page.enabled) {
        auto file = state_.path_of(store::layout::admin_token);
        auto t = load_or_create_token(file);
        if (!t.problem.empty()) log::warn("status page admin token {}: {}", file.string(), t.problem);
        if (t.created) log::info("status page: created the admin token in {} (mode 0600)", file.string());
        token_ = t.token;
    }
    for (MapId id : {MapId::devices, MapId::flows, MapId::quarantine, MapId::block_v4, MapId::block_v6,
                     MapId::evlimit, MapId::events})
        capacity_[id] = map_capacity(map_fd_(id));
}

Service::~Service() { stop(); }

void Service::open_listeners() {
    listeners_.clear();
    source_ = std::make_unique<LiveSource>(box_, submit_);
    std::vector<std::string> problems;
    std::vector<net::Interface> interfaces;
    try {
        interfaces = net::list_interfaces();
    } catch (const std::exception& e) {
        problems.push_back(std::string("cannot list the interfaces: ") + e.what());
    }
    endpoints_ = resolve_endpoints(policy_, interfaces, &problems);
    for (const auto& p : problems) log::warn("web: {}; it is not served (a policy reload tries again)", p);
    for (const auto& e : endpoints_) {
        RouterSettings settings;
        settings.metrics = e.metrics;
        settings.page = e.page;
        settings.token = token_;
        settings.hostnames = policy_.status_page.hostnames;
        try {
            listeners_.push_back(std::make_unique<Listener>(e, std::make_shared<Router>(*source_, settings)));
            log::info("web: serving {}", e.str());
        } catch (const std::exception& ex) {
            log::error("web: {}", ex.what());
        }
    }
}

void Service::start() { open_listeners(); }

void Service::reconfigure(const policy::Policy& policy) {
    bool page_was_off = !policy_.status_page.enabled;
    policy_ = policy;
    if (page_was_off && policy_.status_page.enabled && token_.empty()) {
        auto t = load_or_create_token(state_.path_of(store::layout::admin_token));
        token_ = t.token;
    }
    // Listeners are cheap to reopen; doing it every time also picks up LAN addresses that
    // appeared since the start.
    open_listeners();
}

void Service::stop() {
    listeners_.clear();  // joins the HTTP threads before what they use goes
    source_.reset();
    try {
        today_.save();
    } catch (const std::exception& e) {
        log::warn("cannot save today's traffic: {}", e.what());
    }
}

std::vector<MapFill> Service::map_fill(size_t devices, size_t flows, size_t quarantined, int64_t now_ms) {
    if (counted_.empty() || now_ms - counted_ms_ >= kCountMapsEveryMs) {
        for (MapId id : {MapId::block_v4, MapId::block_v6, MapId::evlimit}) counted_[id] = count_keys(map_fd_(id));
        counted_ms_ = now_ms;
    }
    auto fill = [&](MapId id, std::optional<uint64_t> entries) {
        return MapFill{std::string(dataplane::map_name(id)), entries, capacity_[id]};
    };
    return {fill(MapId::devices, devices),
            fill(MapId::flows, flows),
            fill(MapId::quarantine, quarantined),
            fill(MapId::block_v4, counted_[MapId::block_v4]),
            fill(MapId::block_v6, counted_[MapId::block_v6]),
            fill(MapId::evlimit, counted_[MapId::evlimit]),
            fill(MapId::events, std::nullopt)};
}

void Service::publish(PollData poll) {
    try {
        auto s = std::make_shared<Snapshot>();
        s->time_ms = store::now_unix_ms();
        s->started_ms = started_ms_;
        s->polls = poll.polls;
        s->poll_cpu_seconds = std::round(poll.poll_cpu_ms * 1000) / 1e6;  // to the microsecond
        s->health = poll.health;
        s->fleet = std::move(poll.fleet);

        s->mono_ns = quarantine::monotonic_ns();
        std::vector<dataplane::DeviceCounters> counters;
        counters.reserve(poll.counters.size());
        for (const auto& [mac, c] : poll.counters) counters.push_back(c);
        for (auto& q : dataplane::QuarantineTable(map_fd_(MapId::quarantine)).list()) s->quarantined[q.mac] = q;
        std::set<net::Mac> alerting;
        auto threats = threats_.refresh(s->time_ms);
        for (auto it = threats->recent.rbegin(); it != threats->recent.rend(); ++it) {
            if (it->time_ms < s->time_ms - view::kAlertingForMs) break;
            if (it->kind == "finding") alerting.insert(it->mac);
        }
        view::DeviceSources sources;
        sources.counters = &counters;
        sources.quarantined = &s->quarantined;
        sources.inventory = &poll.inventory;
        sources.policy = &policy_;
        sources.rates = &poll.rates;
        sources.alerting = &alerting;
        sources.now_ms = s->time_ms;
        sources.now_mono_ns = s->mono_ns;
        s->devices = view::join_devices(sources);
        // Busiest first, as `warden devices` lists them.
        std::stable_sort(s->devices.begin(), s->devices.end(),
                         [](const auto& a, const auto& b) { return a.total_bytes() > b.total_bytes(); });
        std::map<net::Mac, int64_t> first_seen;
        for (const auto& d : s->devices) first_seen[d.mac] = d.first_seen_ms;

        s->today = today_.update(poll.counters, first_seen, s->time_ms);
        s->midnight_ms = today_.midnight_ms();
        if (s->time_ms - today_saved_ms_ >= kSaveTodayEveryMs) {
            today_saved_ms_ = s->time_ms;
            try {
                today_.save();
            } catch (const std::exception& e) {
                log::warn("cannot save today's traffic: {}", e.what());
            }
        }
        s->threats = std::move(threats);
        dataplane::StatsTable stats(map_fd_(MapId::stats));
        for (uint32_t p = 0; p < WD_PROG_MAX; ++p) s->programs[p] = stats.read(p);
        s->maps = map_fill(poll.counters.size(), poll.flow_entries, s->quarantined.size(), s->time_ms);
        s->evictions = poll.evictions;
        s->ports = std::move(poll.ports);
        s->port_counts = poll.port_counts;
        box_.publish(std::move(s));
    } catch (const std::exception& e) {
        // The page shows the previous poll; enforcement and the next poll go on.
        log::warn("web: cannot publish this poll: {}", e.what());
    }
}

}  // namespace warden::web
