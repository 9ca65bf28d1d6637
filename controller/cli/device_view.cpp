#include "cli/device_view.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "store/owner.h"
#include "dataplane/pinned.h"
#include "quarantine/quarantine.h"
#include "store/state.h"

namespace warden::cli {

using nlohmann::json;

json read_json_file(const std::filesystem::path& file) {
    try {
        std::ifstream in(file);
        if (!in) return json();
        return json::parse(in);
    } catch (const std::exception&) {
        return json();  // missing, or caught half-written: the caller treats it as no snapshot
    }
}

int64_t mono_to_wall_ms(uint64_t mono_ns) {
    uint64_t now = quarantine::monotonic_ns();
    return store::now_unix_ms() - int64_t((now - std::min(now, mono_ns)) / 1000000);
}

// ---- RecentEvents ----

namespace {

// The most a read takes from the log: the first look, or a catch-up after a long pause.
constexpr uint64_t kTailBytes = 512 * 1024;

bool shown_kind(const std::string& kind) {
    return kind == "finding" || kind == "quarantine" || kind == "release" || kind == "blocklist_hit";
}

std::filesystem::path rotated_once(const std::filesystem::path& file) {
    std::filesystem::path p = file;
    p += ".1";
    return p;
}

}  // namespace

RecentEvents::RecentEvents(std::filesystem::path file, size_t keep) : file_(std::move(file)), keep_(keep) {}

void RecentEvents::take(const std::string& line) {
    // Most lines are other kinds (new devices, drops): a substring test spares parsing them.
    if (line.find("finding") == std::string::npos && line.find("quarantine") == std::string::npos &&
        line.find("release") == std::string::npos && line.find("blocklist_hit") == std::string::npos)
        return;
    json e;
    try {
        e = json::parse(line);
    } catch (const json::exception&) {
        return;  // `warden events` reports damaged lines; a view skips them
    }
    std::string kind = event_kind(e);
    if (!shown_kind(kind)) return;
    if (kind == "finding")
        if (auto mac = net::Mac::parse(e.value("mac", std::string()))) findings_.emplace_back(*mac, event_time_ms(e));
    events_.push_back(std::move(e));
    if (events_.size() > keep_) events_.pop_front();
}

void RecentEvents::read_from(const std::filesystem::path& file, uint64_t offset, bool skip_partial) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return;
    in.seekg(0, std::ios::end);
    uint64_t size = static_cast<uint64_t>(in.tellg());
    if (size > offset + kTailBytes) {  // too far behind: only the tail matters to a view
        offset = size - kTailBytes;
        skip_partial = true;
    }
    if (offset >= size) return;
    std::string text(size - offset, '\0');
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    size_t pos = 0;
    if (skip_partial) {  // started mid-line
        size_t nl = text.find('\n');
        pos = nl == std::string::npos ? text.size() : nl + 1;
    }
    size_t consumed = pos;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) break;  // a line still being written: next time
        if (nl > pos) take(text.substr(pos, nl - pos));
        pos = consumed = nl + 1;
    }
    if (file == file_) offset_ = offset + consumed;
}

void RecentEvents::update() {
    struct stat st {};
    if (stat(file_.c_str(), &st) != 0) {  // no log yet, or rotated away with keep 0
        started_ = true;
        inode_ = 0;
        offset_ = 0;
        return;
    }
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (!started_) {
        started_ = true;
        if (size < kTailBytes) {  // a young log: the newest events may be in the rotated one
            struct stat older {};
            auto previous = rotated_once(file_);
            if (stat(previous.c_str(), &older) == 0) {
                uint64_t want = kTailBytes - size, older_size = static_cast<uint64_t>(older.st_size);
                uint64_t from = older_size > want ? older_size - want : 0;
                read_from(previous, from, from > 0);
            }
        }
        inode_ = st.st_ino;
        uint64_t from = size > kTailBytes ? size - kTailBytes : 0;
        read_from(file_, from, from > 0);
    } else {
        if (st.st_ino != inode_) {
            // Rotated: finish the old file (now .1, if kept), then read the new one from its start.
            struct stat older {};
            auto previous = rotated_once(file_);
            if (inode_ && stat(previous.c_str(), &older) == 0 && older.st_ino == inode_)
                read_from(previous, offset_, false);
            inode_ = st.st_ino;
            offset_ = 0;
        } else if (size < offset_) {
            offset_ = 0;  // truncated in place
        }
        if (size > offset_) read_from(file_, offset_, false);
    }
    int64_t forget_before = store::now_unix_ms() - kAlertingForMs;
    while (!findings_.empty() && findings_.front().second < forget_before) findings_.pop_front();
}

std::vector<net::Mac> RecentEvents::alerting(int64_t since_ms) const {
    std::set<net::Mac> macs;
    for (const auto& [mac, ts] : findings_)
        if (ts >= since_ms) macs.insert(mac);
    return {macs.begin(), macs.end()};
}

// ---- the join: what look() reads, joined in view/devices.cpp ----

NetworkView look(Context& ctx, const RecentEvents* events, bool require_pins) {
    NetworkView view;
    view.pin_dir = ctx.pin_dir();
    view.state_dir = ctx.state_dir();
    store::StateDir state(view.state_dir);
    view.controller = store::running_controller(state.pid_file().string());

    std::vector<dataplane::DeviceCounters> counters;
    std::map<net::Mac, dataplane::QuarantineEntry> quarantined;
    if (require_pins || dataplane::maps_pinned(view.pin_dir)) {
        dataplane::PinnedMaps maps(view.pin_dir);  // throws "warden is not running ..." without pins
        view.maps_pinned = true;
        counters = maps.devices().read_all();
        for (auto& q : maps.quarantine().list()) quarantined[q.mac] = q;
    }
    std::map<net::Mac, store::DeviceRecord> inventory;
    for (auto& r : state.load_inventory().records) inventory[r.mac] = r;
    json snapshot = read_json_file(state.status_file());
    int64_t now = store::now_unix_ms();
    view.rates_fresh = snapshot.is_object() && now - snapshot.value("updated_ms", int64_t(0)) < 10'000;
    if (view.rates_fresh) view.controller_started_ms = snapshot.value("started_ms", int64_t(0));
    std::map<net::Mac, DeviceRates> rates;
    if (view.rates_fresh)
        for (const auto& d : snapshot.value("devices", json::array())) {
            if (!d.is_object() || !d.contains("mac") || !d["mac"].is_string()) continue;
            auto mac = net::Mac::parse(d["mac"].get<std::string>());
            if (!mac) continue;
            rates[*mac] = {d.value("up_bps", 0.0), d.value("down_bps", 0.0), d.value("lateral_bps", 0.0),
                           d.value("active_flows", uint64_t(0))};
        }
    // The names devices looked their peers up as: a cache `warden run` rewrites every few seconds.
    auto peer_names = warden::view::parse_peer_names(read_json_file(state.path_of(store::layout::names)));
    std::set<net::Mac> alerting;
    if (events)
        for (const auto& mac : events->alerting(now - kAlertingForMs)) alerting.insert(mac);

    warden::view::DeviceSources sources;
    sources.counters = &counters;
    sources.quarantined = &quarantined;
    sources.inventory = &inventory;
    sources.policy = ctx.policy();
    sources.rates = view.rates_fresh ? &rates : nullptr;
    sources.alerting = &alerting;
    sources.peer_names = &peer_names;
    sources.maps_pinned = view.maps_pinned;
    sources.now_ms = now;
    sources.now_mono_ns = quarantine::monotonic_ns();
    view.devices = warden::view::join_devices(sources);
    return view;
}

}  // namespace warden::cli
