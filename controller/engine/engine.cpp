#include "engine/engine.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/beacon.h"
#include "engine/features.h"
#include "engine/horizons.h"
#include "engine/known_set.h"
#include "text/units.h"

namespace warden::engine {

namespace {

// ---- tuning that is not policy (docs/DETECTION.md explains each) ----

constexpr double normal_quantile = 0.99;
// A device's own history counts once it is past the learning period AND has this many
// 10 s windows (an hour of being on); an hour slot of it once that slot has 15 minutes.
constexpr uint64_t device_min_windows = 360;
constexpr uint64_t device_min_hour_windows = 90;
// A type's profile counts with a device-day of windows (an hour slot: a device-hour).
constexpr uint64_t type_min_windows = 8'640;
constexpr uint64_t type_min_hour_windows = 360;
// New addresses remembered per device per 10 s: a scan of thousands of addresses must not
// push the device's real history out of its known set.
constexpr uint32_t remembered_per_block = 64;
// A device this young has met few addresses yet: the new-destinations check waits.
constexpr int64_t young_device_ms = 3'600'000;
// Destinations a device meets in its first minutes are its own (its cloud, met as it starts
// up): upload to them is not upload to the unknown.
constexpr int64_t own_destinations_ms = 600'000;
constexpr double learning_beacon_jitter = 0.05;
// A false positive raises the detector's threshold for the device to the value that
// triggered it times this, so the same behaviour stays quiet and twice as much does not.
constexpr double false_positive_margin = 1.25;
// Beyond this many devices (MAC randomisation can make many), the longest unseen goes.
constexpr size_t max_devices = 16'384;
constexpr int64_t never = std::numeric_limits<int64_t>::max();

// ---- checks: one measured value against one threshold; a detector has one or two ----

enum class Check : uint8_t {
    propagation,
    vertical_scan,
    horizontal_scan,
    lateral,
    flood,
    exfiltration,
    blocklist,
    new_destinations,
    // over the long horizons (engine/horizons.h)
    vertical_scan_10m,
    vertical_scan_1h,
    unanswered_10m,
    unanswered_1h,
    propagation_10m,
    propagation_1h,
    upload_to_new_60s,
    upload_to_new_1h,
};
constexpr size_t check_count = 16;

struct CheckSpec {
    const char* name;  // in the state file
    Detector detector;
    Key key;
    double default_normal;  // the conservative normal used before any history counts
    const char* unit;
};

constexpr CheckSpec check_specs[check_count] = {
    {"propagation", Detector::propagation, {Feature::remote_access_hosts, Window::s10}, 1,
     "addresses"},
    {"port_scan_vertical", Detector::port_scan, {Feature::ports_per_host, Window::s10}, 4,
     "ports"},
    {"port_scan_horizontal", Detector::port_scan, {Feature::hosts_per_port, Window::s10}, 8,
     "addresses"},
    {"lateral", Detector::lateral, {Feature::lan_peers, Window::s10}, 2, "LAN devices"},
    // 500 while learning: the threshold is then the policy floor (5,000/s with factor 10),
    // so a flood of ~20k frames/s (what hping3 manages on the testbed) is caught within 3 s.
    {"flood", Detector::flood, {Feature::excess_frames, Window::s10}, 500, "frames/s"},
    {"exfiltration", Detector::exfiltration, {Feature::upload, Window::s10}, 1 << 20, "B/s"},
    {"blocklist", Detector::blocklist, {Feature::blocklist_hits, Window::s10}, 0, "frames"},
    {"new_destinations", Detector::new_destinations, {Feature::new_destinations, Window::s60},
     20, "addresses"},
    {"port_scan_vertical_10m", Detector::port_scan, {Feature::ports_per_host, Window::m10}, 4,
     "ports"},
    {"port_scan_vertical_1h", Detector::port_scan, {Feature::ports_per_host, Window::h1}, 6,
     "ports"},
    {"port_scan_unanswered_10m", Detector::port_scan, {Feature::unanswered_syns, Window::m10},
     20, "attempts"},
    {"port_scan_unanswered_1h", Detector::port_scan, {Feature::unanswered_syns, Window::h1}, 60,
     "attempts"},
    {"propagation_10m", Detector::propagation, {Feature::remote_access_hosts, Window::m10}, 1,
     "addresses"},
    {"propagation_1h", Detector::propagation, {Feature::remote_access_hosts, Window::h1}, 2,
     "addresses"},
    {"upload_to_new_60s", Detector::upload_to_new,
     {Feature::new_destination_upload, Window::s60}, 1 << 20, "bytes"},
    {"upload_to_new_1h", Detector::upload_to_new, {Feature::new_destination_upload, Window::h1},
     16 << 20, "bytes"},
};

const CheckSpec& spec(size_t check) { return check_specs[check]; }

// Judged on what accumulates over 10 min or 1 h (engine/horizons.h), not on a short window.
bool long_horizon(size_t check) {
    Window w = spec(check).key.window;
    return w == Window::m10 || w == Window::h1;
}

std::string_view horizon_words(Window w) { return w == Window::m10 ? "10 min" : "1 h"; }

double floor_of(size_t check, const Config& c) {
    switch (Check(check)) {
        case Check::propagation: return c.propagation.hosts;
        case Check::vertical_scan: return c.port_scan.ports_per_host;
        case Check::horizontal_scan: return c.port_scan.hosts_per_port;
        case Check::lateral: return c.lateral.peers;
        case Check::flood: return double(c.flood.frames_per_second);
        case Check::exfiltration: return double(c.exfiltration.bytes_per_second);
        case Check::blocklist: return c.blocklist.hits;
        case Check::new_destinations: return c.new_destinations.per_minute;
        case Check::vertical_scan_10m: return c.port_scan.ports_per_host_10m;
        case Check::vertical_scan_1h: return c.port_scan.ports_per_host_1h;
        case Check::unanswered_10m: return c.port_scan.unanswered_10m;
        case Check::unanswered_1h: return c.port_scan.unanswered_1h;
        case Check::propagation_10m: return c.propagation.hosts_10m;
        case Check::propagation_1h: return c.propagation.hosts_1h;
        case Check::upload_to_new_60s: return double(c.upload_to_new.bytes_per_minute);
        case Check::upload_to_new_1h: return double(c.upload_to_new.bytes_1h);
    }
    return 0;
}

double factor_of(size_t check, const Config& c) {
    switch (Check(check)) {
        case Check::propagation:
        case Check::propagation_10m:
        case Check::propagation_1h: return c.propagation.factor;
        case Check::vertical_scan:
        case Check::horizontal_scan:
        case Check::vertical_scan_10m:
        case Check::vertical_scan_1h:
        case Check::unanswered_10m:
        case Check::unanswered_1h: return c.port_scan.factor;
        case Check::upload_to_new_60s:
        case Check::upload_to_new_1h: return c.upload_to_new.factor;
        case Check::lateral: return c.lateral.factor;
        case Check::flood: return c.flood.factor;
        case Check::exfiltration: return c.exfiltration.factor;
        case Check::blocklist: return 0;  // any hit counts, whatever the device did before
        case Check::new_destinations: return c.new_destinations.factor;
    }
    return 0;
}

std::optional<size_t> check_by_name(std::string_view name) {
    for (size_t i = 0; i < check_count; ++i)
        if (check_specs[i].name == name) return i;
    return std::nullopt;
}

enum class Source : uint8_t { own_hour, own, type_hour, type, fallback, none };

struct Normal {
    double value = 0;
    Source source = Source::fallback;
    bool from_prior = false;  // the type's profile held an imported prior's windows (in
                              // source's padding: a device caches one Normal per check)
    int hour = 0;
};
static_assert(sizeof(Normal) == 16, "a device caches one Normal per check");

struct Cached {
    Normal normal;
    double threshold = 0;
};

uint16_t bit(Detector d) { return uint16_t(1u << unsigned(d)); }

int severity(Action a) {
    return a == Action::isolate ? 2 : a == Action::restricted ? 1 : 0;
}

// ---- words and numbers for evidence ----

std::string grouped(double v) {
    auto n = static_cast<long long>(std::llround(v));
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

// Counts read as counts; a normal of 1.19 (a sketch's bucket edge) reads as 1.2.
std::string amount(double v) {
    if (v >= 10 || std::abs(v - std::round(v)) < 0.05) return grouped(v);
    return fmt::format("{:.1f}", v);
}

// Binary units, as in the policy (1 kB = 1024 bytes).
std::string bytes_rate(double v) {
    if (v < 1024) return grouped(v) + " B/s";
    if (v < 1024.0 * 1024) return fmt::format("{:.0f} kB/s", v / 1024);
    if (v < 1024.0 * 1024 * 1024) return fmt::format("{:.1f} MB/s", v / 1024 / 1024);
    return fmt::format("{:.1f} GB/s", v / 1024 / 1024 / 1024);
}

std::string bytes_amount(double v) {
    std::string rate = bytes_rate(v);
    return rate.substr(0, rate.size() - 2);  // "12.3 MB/s" without "/s"
}

std::string in_unit(double v, const char* unit) {
    std::string_view u = unit;
    if (u == "B/s") return bytes_rate(v);
    if (u == "bytes") return bytes_amount(v);
    if (u == "frames/s") return amount(v) + "/s";
    return amount(v);
}

std::string hour_span(int hour) { return fmt::format("{:02d}:00-{:02d}:00", hour, (hour + 1) % 24); }

std::string source_words(const Normal& n, const std::string& type) {
    switch (n.source) {
        case Source::own_hour: return "its own history, " + hour_span(n.hour);
        case Source::own: return "its own history";
        case Source::type_hour: return type + " profile, " + hour_span(n.hour);
        case Source::type: return type + " profile";
        case Source::fallback: return "default while learning";
        case Source::none: return "";
    }
    return "";
}

std::string join_ports(const std::vector<uint16_t>& ports) {
    std::string out;
    for (size_t i = 0; i < ports.size(); ++i) out += (i ? "/" : "") + std::to_string(ports[i]);
    return out;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

uint32_t capped_windows(const Baseline& b) {
    return uint32_t(std::min<uint64_t>(b.windows(), std::numeric_limits<uint32_t>::max()));
}

}  // namespace

// ---- the state of a device and of the engine ----

namespace {

// A device's state is in two parts. What every tick reads and writes is DeviceHot, 48 bytes,
// in one array for all devices; the rest (baselines, known destinations, windows, beacons,
// a few kB) is DeviceState, read only when the device does something, when one of its 10 s
// blocks closes (every 10 s, at its own phase) or its thresholds must be worked out again.
// A tick of 1,024 idle devices so touches 48 kB plus a tenth of the devices' cold state,
// not all of it: on a virtual machine, memory left untouched for a second can cost tens of
// microseconds a page to touch again, and a poll's CPU time follows the pages it touches.
struct DeviceHot {
    int64_t first_seen_ms = 0;  // start of its first tick; 0 until a sample arrives
    int64_t last_seen_ms = 0;
    // While `quiet` (see Engine::State::observe): the open block's end, and its time and
    // active-flow time, which idle ticks add to here instead of in the windows.
    int64_t block_end_ms = 0;
    double open_ms = 0;
    double open_active_flow_ms = 0;
    uint32_t baseline_windows = 0;  // the baseline's windows(), capped (for trusted)
    int8_t cached_hour = -1;
    bool cached_trusted = false;
    bool cache_dirty = true;
    // Its windows hold nothing but time, and every check's latest value was 0: a tick that
    // brings nothing but time, before the open block closes, changes nothing but the
    // fields above.
    bool quiet = false;
};
static_assert(sizeof(DeviceHot) <= 64, "a device's hot state is one cache line");

struct DeviceState {
    net::Mac mac;
    std::string type = "unknown";
    Baseline baseline;
    KnownSet known;
    Windows windows;
    Horizons horizons;
    BeaconTracker beacons;
    std::array<int64_t, detector_count> quiet_until{};
    std::array<double, check_count> tolerance{};
    std::array<double, check_count> last_value{};
    // Each check's value at the previous tick, and what its latest rise amounts to over a
    // whole window (see false_positive).
    std::array<double, check_count> previous_value{};
    std::array<double, check_count> projected{};
    std::array<int64_t, check_count> last_fired_ms{};
    std::vector<int64_t> quarantines;  // times of the engine's quarantines, for escalation
    int64_t quarantined_until = 0;
    int64_t last_finding_ms = 0;
    uint16_t last_finding_detectors = 0;  // bit per detector
    net::IpAddr last_beacon_peer;
    int64_t last_beacon_ms = 0;
    uint32_t remembered_in_block = 0;
    bool hold_block = false;  // something exceeded a threshold: keep the block out of baselines
    std::array<Cached, check_count> cached{};

    DeviceState(const net::Mac& m, uint32_t known_capacity)
        : mac(m), known(known_capacity), windows(block_phase(m)) {}

    // Where in each 10 s this device's blocks end: spread over the devices, so closing
    // blocks (the costly tick: baselines, 60 s features) is not every device at once.
    static int64_t block_phase(const net::Mac& m) {
        return int64_t(std::hash<net::Mac>{}(m) * 0x9e3779b97f4a7c15ull >> 60) % 10 * 1'000;
    }
};

// A device's cold state in a heap block of its own: it stays where it is while devices
// come and go (no array of several MB grows by copying), and copies with the engine.
class ColdBox {
public:
    ColdBox(const net::Mac& mac, uint32_t known_capacity)
        : state_(std::make_unique<DeviceState>(mac, known_capacity)) {}
    ColdBox(const ColdBox& other) : state_(std::make_unique<DeviceState>(*other.state_)) {}
    ColdBox& operator=(const ColdBox& other) {
        if (this != &other) state_ = std::make_unique<DeviceState>(*other.state_);
        return *this;
    }
    ColdBox(ColdBox&&) noexcept = default;
    ColdBox& operator=(ColdBox&&) noexcept = default;
    DeviceState& operator*() { return *state_; }
    const DeviceState& operator*() const { return *state_; }
    DeviceState* operator->() { return state_.get(); }
    const DeviceState* operator->() const { return state_.get(); }

private:
    std::unique_ptr<DeviceState> state_;
};

}  // namespace

struct Engine::State {
    Config config;
    std::vector<net::Mac> exempt;  // sorted
    int64_t utc_offset_s = 0;
    // The devices: hot and cold parts at the same index (see DeviceHot), and the index by MAC.
    std::vector<DeviceHot> hot;
    std::vector<ColdBox> cold;
    std::vector<std::pair<net::Mac, uint32_t>> index;  // ascending by MAC
    std::map<std::string, Baseline, std::less<>> learned;  // by type
    std::map<std::string, Baseline, std::less<>> priors;   // by type, imported
    std::map<std::string, uint64_t, std::less<>> prior_homes;  // by type: the homes a fleet prior came from

    int hour_of(int64_t time_ms) const {
        int64_t hours = floor_div(floor_div(time_ms, 1000) + utc_offset_s, 3600);
        return int(((hours % 24) + 24) % 24);
    }

    bool trusted(const DeviceHot& h, int64_t now) const {
        return h.first_seen_ms != 0 && now - h.first_seen_ms >= config.learning_period.count() &&
               h.baseline_windows >= device_min_windows;
    }

    bool needs_refresh(const DeviceHot& h, int64_t now) const {
        return h.cache_dirty || h.cached_hour != hour_of(now) || h.cached_trusted != trusted(h, now);
    }

    bool is_exempt(const net::Mac& mac) const {
        return std::binary_search(exempt.begin(), exempt.end(), mac);
    }

    bool never_quarantined(const std::string& type) const {
        return std::find(config.never_quarantine.begin(), config.never_quarantine.end(), type) !=
               config.never_quarantine.end();
    }

    std::optional<size_t> find(const net::Mac& mac) const {
        auto it = std::lower_bound(index.begin(), index.end(), mac,
                                   [](const auto& entry, const net::Mac& m) { return entry.first < m; });
        if (it == index.end() || !(it->first == mac)) return std::nullopt;
        return it->second;
    }

    // The device's slot in hot and cold, made if it is new.
    size_t slot(const net::Mac& mac) {
        if (auto at = find(mac)) return *at;
        if (hot.size() >= max_devices) {
            size_t oldest = size_t(std::min_element(hot.begin(), hot.end(),
                                                    [](const DeviceHot& a, const DeviceHot& b) {
                                                        return a.last_seen_ms < b.last_seen_ms;
                                                    }) -
                                   hot.begin());
            erase_devices([&](size_t at) { return at == oldest; }, /*keep_room=*/true);
        }
        size_t at = hot.size();
        hot.emplace_back();
        cold.emplace_back(mac, config.known_destinations);
        auto pos = std::lower_bound(index.begin(), index.end(), mac,
                                    [](const auto& entry, const net::Mac& m) { return entry.first < m; });
        index.insert(pos, {mac, uint32_t(at)});
        return at;
    }

    // Removes the devices whose slot `gone` names; returns how many. Their room goes back
    // to the heap unless a new device is about to take it (forgetting is rare; a device
    // costs several kB of room).
    template <typename Gone>
    size_t erase_devices(Gone gone, bool keep_room = false) {
        size_t kept = 0;
        for (size_t at = 0; at < hot.size(); ++at) {
            if (gone(at)) continue;
            if (kept != at) {
                hot[kept] = hot[at];
                cold[kept] = std::move(cold[at]);
            }
            ++kept;
        }
        size_t removed = hot.size() - kept;
        if (removed == 0) return 0;
        hot.resize(kept);
        cold.erase(cold.begin() + ptrdiff_t(kept), cold.end());
        if (!keep_room) {
            hot.shrink_to_fit();
            cold.shrink_to_fit();
        }
        index.clear();
        for (size_t at = 0; at < cold.size(); ++at) index.emplace_back(cold[at]->mac, uint32_t(at));
        std::sort(index.begin(), index.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        if (!keep_room) index.shrink_to_fit();
        return removed;
    }

    // The type's profile for one cell: what this gateway learned plus imported priors,
    // when together they hold at least `min` windows. `from_prior` says whether the prior
    // had a part in it.
    template <typename CellOf>
    std::optional<double> type_quantile(const std::string& type, CellOf cell_of,
                                        uint64_t min, bool& from_prior) const {
        auto l = learned.find(type);
        auto p = priors.find(type);
        const Cell* a = l != learned.end() ? &cell_of(l->second) : nullptr;
        const Cell* b = p != priors.end() ? &cell_of(p->second) : nullptr;
        uint64_t total = (a ? a->count() : 0) + (b ? b->count() : 0);
        if (total < min || total == 0) return std::nullopt;
        from_prior = b && b->count() > 0;
        if (!a) std::swap(a, b);
        return a->sketch.quantile(normal_quantile, b ? &b->sketch : nullptr);
    }

    Normal normal_for(const DeviceHot& h, const DeviceState& d, size_t check, int64_t now) const {
        const CheckSpec& s = spec(check);
        int hour = hour_of(now);
        if (Check(check) == Check::blocklist) return {0, Source::none, false, hour};
        size_t all_day = *baselined_index(s.key);
        auto hourly = hourly_index(s.key);
        // The hour of the day can raise the normal above the whole day's (a nightly backup
        // is normal at 2 am) but not lower it: a rare benign burst in a quiet hour (a camera
        // seeing motion at night) is still within the device's normal.
        if (trusted(h, now)) {
            double whole_day = d.baseline.all_day(all_day).sketch.quantile(normal_quantile);
            if (hourly) {
                const Cell& c = d.baseline.hour(*hourly, hour);
                if (c.count() >= device_min_hour_windows) {
                    double at_hour = c.sketch.quantile(normal_quantile);
                    if (at_hour > whole_day) return {at_hour, Source::own_hour, false, hour};
                }
            }
            return {whole_day, Source::own, false, hour};
        }
        // Before that, the type's profile; before that, the conservative default. An hour
        // of the type's profile only raises either.
        bool day_prior = false, hour_prior = false;
        auto whole_day = type_quantile(
            d.type, [&](const Baseline& b) -> const Cell& { return b.all_day(all_day); },
            type_min_windows, day_prior);
        Normal base = whole_day ? Normal{*whole_day, Source::type, day_prior, hour}
                                : Normal{s.default_normal, Source::fallback, false, hour};
        if (hourly) {
            auto at_hour = type_quantile(
                d.type, [&](const Baseline& b) -> const Cell& { return b.hour(*hourly, hour); },
                type_min_hour_windows, hour_prior);
            if (at_hour && *at_hour > base.value)
                return {*at_hour, Source::type_hour, hour_prior, hour};
        }
        return base;
    }

    // Where a normal came from, in words; a fleet prior's part names the homes it came
    // from, so the operator reading a finding knows what the device was judged against.
    std::string normal_words(const Normal& n, const std::string& type) const {
        std::string words = source_words(n, type);
        if (!n.from_prior) return words;
        auto homes = prior_homes.find(type);
        if (homes == prior_homes.end()) return words;
        return words + fmt::format(", fleet prior, {} home{}", homes->second, homes->second == 1 ? "" : "s");
    }

    void refresh(DeviceHot& h, DeviceState& d, int64_t now) {
        for (size_t c = 0; c < check_count; ++c) {
            Normal n = normal_for(h, d, c, now);
            double threshold = std::max(floor_of(c, config), factor_of(c, config) * n.value);
            d.cached[c] = {n, std::max(threshold, d.tolerance[c])};
        }
        h.cached_hour = int8_t(hour_of(now));
        h.cached_trusted = trusted(h, now);
        h.cache_dirty = false;
    }

    void observe(const net::Mac& mac, const Sample& tick, std::vector<Finding>& out);
    Finding decide(DeviceState& d, Detector detector, double value, const Cached& cached,
                   std::string text, const char* unit, int64_t now);
};

// ---- observing one tick ----

namespace {

// A tick that brings nothing but time: no counter moved (flows held open aside), no
// connection.
bool only_time(const Sample& t) {
    return t.bytes_up == 0 && t.frames_up == 0 && t.bytes_down == 0 && t.frames_down == 0 &&
           t.bytes_lateral == 0 && t.frames_lateral == 0 && t.new_flows == 0 &&
           t.syn_sent == 0 && t.synack_received == 0 && t.dns_queries == 0 &&
           t.blocklist_hits == 0 && t.contacts.empty() && t.contacts_dropped == 0 &&
           t.peer_bytes.empty();
}

struct Fired {
    Detector detector;
    size_t check;  // check_count for beaconing
    double value;
    double threshold;
    double score;
};

}  // namespace

void Engine::State::observe(const net::Mac& mac, const Sample& tick, std::vector<Finding>& out) {
    const size_t at = slot(mac);
    DeviceHot& h = hot[at];
    const int64_t now = tick.time_ms;
    // An idle tick of a quiet device: its windows hold only time and every check's latest
    // value was 0, so the full path below would find every value 0 again, fire nothing,
    // change no check's state and (the block staying open) teach nothing; what it would
    // change is the open block's time, added here with the same arithmetic as
    // Counters::add. The cold state is not touched at all.
    if (h.quiet && now < h.block_end_ms && only_time(tick) && !needs_refresh(h, now)) {
        h.last_seen_ms = now;
        double tick_ms = tick.seconds > 0 ? tick.seconds * 1000.0 : 0.0;
        h.open_ms += tick_ms;
        h.open_active_flow_ms += double(tick.active_flows) * tick_ms;
        return;
    }
    DeviceState& d = *cold[at];
    if (h.quiet) {
        d.windows.set_open_time(h.open_ms, h.open_active_flow_ms);
        h.quiet = false;
    }
    if (h.first_seen_ms == 0)
        h.first_seen_ms = now - static_cast<int64_t>(std::max(0.0, tick.seconds) * 1000);
    h.last_seen_ms = now;
    d.horizons.advance(now);
    bool trusted_now = trusted(h, now);
    if (needs_refresh(h, now)) refresh(h, d, now);

    // New connections, in time order: known or new, into the window, past the beacon watch.
    thread_local std::vector<const Contact*> contacts;
    contacts.clear();
    for (const auto& c : tick.contacts) contacts.push_back(&c);
    if (!std::is_sorted(contacts.begin(), contacts.end(),
                        [](auto* a, auto* b) { return a->time_ms < b->time_ms; }))
        std::stable_sort(contacts.begin(), contacts.end(),
                         [](auto* a, auto* b) { return a->time_ms < b->time_ms; });
    const int64_t tick_start = now - static_cast<int64_t>(std::max(0.0, tick.seconds) * 1000);
    const bool watch_beacons = config.beaconing.response.enabled &&
                               now >= d.quiet_until[size_t(Detector::beaconing)] &&
                               now >= d.quarantined_until;
    // A new address can start a beacon once the device has a history to compare with: past
    // its learning period, or, while it learns, past its first hour (the hosts it met then
    // are its own: a plug's check-in with its cloud starts in its first minutes).
    const bool beacon_eligible = trusted_now || now - h.first_seen_ms >= young_device_ms;
    // While it learns, almost every address is new to it, so chance regularity (a laptop's
    // pages every half minute) is likelier: the intervals must be tighter (5 %; malware's
    // timers are tighter still) and two more of them in a row.
    Beaconing beacon_shape = config.beaconing;
    if (!trusted_now) {
        beacon_shape.jitter = std::min(beacon_shape.jitter, learning_beacon_jitter);
        beacon_shape.repeats = std::min<uint32_t>(beacon_shape.repeats + 2,
                                                  uint32_t(BeaconTracker::max_times - 1));
    }
    std::optional<BeaconMatch> beacon;
    for (const Contact* c : contacts) {
        LoggedContact logged;
        logged.peer = c->peer;
        logged.fingerprint = fingerprint(c->peer);
        logged.port = c->port;
        logged.proto = c->proto;
        // A missing or stray time is taken as the tick's end.
        logged.time_ms = c->time_ms >= tick_start && c->time_ms <= now ? c->time_ms : now;
        bool fresh = !d.known.contains(logged.fingerprint);
        if (!fresh) {
            d.known.insert(logged.fingerprint);  // moves it forward if it was fading
        } else if (d.remembered_in_block < remembered_per_block) {
            d.known.insert(logged.fingerprint);
            ++d.remembered_in_block;
        }
        logged.flags = (c->lateral ? LoggedContact::lateral : 0) |
                       (c->syn ? LoggedContact::syn : 0) |
                       (fresh ? LoggedContact::new_destination : 0);
        d.windows.log(logged);
        d.horizons.contact(logged, config.propagation.ports, fresh,
                           logged.time_ms - h.first_seen_ms < own_destinations_ms);
        if (watch_beacons)
            if (auto m = d.beacons.observe(logged, fresh, beacon_eligible, beacon_shape))
                beacon = m;
    }
    // What went where: upload to destinations new to the device is counted on its own.
    for (const PeerBytes& p : tick.peer_bytes) {
        uint32_t fp = fingerprint(p.peer);
        d.windows.add_new_destination_upload(d.horizons.bytes_with(
            p.peer, fp, double(p.bytes_up), double(p.bytes_down), !d.known.contains(fp),
            now - h.first_seen_ms < own_destinations_ms, now));
    }
    d.horizons.attempts(double(tick.syn_sent) - double(tick.synack_received), now);

    bool closed = d.windows.add_tick(tick);
    d.windows.expire(now);

    thread_local WindowFeatures w10;
    d.windows.last_10s(now, config.propagation.ports, w10);
    thread_local std::array<HorizonFeatures, long_windows.size()> longer;
    for (size_t i = 0; i < long_windows.size(); ++i) d.horizons.features(long_windows[i], longer[i]);
    auto horizon_of = [&](Window w) -> const HorizonFeatures& {
        return longer[w == Window::m10 ? 0 : 1];
    };

    // Every check against its threshold.
    Fired fired[check_count + 1];
    size_t n_fired = 0;
    for (size_t c = 0; c < check_count; ++c) {
        const CheckSpec& s = spec(c);
        double value = Check(c) == Check::new_destinations ? double(d.windows.new_destinations_60s())
                       : Check(c) == Check::upload_to_new_60s
                           ? d.windows.new_destination_upload_60s(now)
                       : long_horizon(c) ? horizon_of(s.key.window).values[s.key.feature]
                                         : w10.values[s.key.feature];
        double threshold = d.cached[c].threshold;
        // A window's value keeps rising while a behaviour lasts, and a finding fires at the
        // first tick over the threshold: the rise of this tick, kept up for a whole window, is
        // what the behaviour amounts to. A false positive teaches that (a quarantined device
        // is not seen going further).
        double window_ticks =
            double(window_ms(s.key.window)) / std::max(1.0, tick.seconds * 1000);
        d.projected[c] = std::max(value, (value - d.previous_value[c]) * window_ticks);
        d.previous_value[c] = value;
        // While a finding's episode lasts, remember how far it went: a false positive
        // teaches the peak, not the moment it crossed the threshold.
        if (d.last_fired_ms[c] != 0 && now < d.quiet_until[size_t(s.detector)])
            d.last_value[c] = std::max(d.last_value[c], value);
        if (value <= 0 || value < threshold) continue;
        // "Never contacted before" means little until the device has a history at all: in
        // its first hour everything is new.
        if (Check(c) == Check::new_destinations && now - h.first_seen_ms < young_device_ms)
            continue;
        if (Check(c) == Check::horizontal_scan &&
            w10.values[Feature::unanswered_syns] < config.port_scan.unanswered_share * value)
            continue;  // answered: a busy web page, not a sweep
        d.hold_block = true;
        if (!config.response(s.detector).enabled || now < d.quiet_until[size_t(s.detector)])
            continue;
        // One finding per detector: the vertical or the horizontal scan, whichever is worse.
        double score = value / std::max(threshold, 1e-9);
        auto same = std::find_if(fired, fired + n_fired,
                                 [&](const Fired& f) { return f.detector == s.detector; });
        if (same != fired + n_fired) {
            if (score > same->score) *same = {s.detector, c, value, threshold, score};
            continue;
        }
        fired[n_fired++] = {s.detector, c, value, threshold, score};
    }
    if (beacon) {
        double threshold = config.beaconing.repeats;
        fired[n_fired++] = {Detector::beaconing, check_count, double(beacon->intervals), threshold,
                            double(beacon->intervals) / std::max(threshold, 1.0)};
    }

    // The most severe action first, so it is the one that quarantines.
    // (An insertion sort: at most nine entries, and GCC 12 misreads std::sort on an array.)
    auto before = [&](const Fired& a, const Fired& b) {
        int sa = severity(config.response(a.detector).action);
        int sb = severity(config.response(b.detector).action);
        return sa != sb ? sa > sb : a.score > b.score;
    };
    for (size_t i = 1; i < n_fired; ++i)
        for (size_t k = i; k > 0 && before(fired[k], fired[k - 1]); --k)
            std::swap(fired[k], fired[k - 1]);
    for (size_t i = 0; i < n_fired; ++i) {
        const Fired& f = fired[i];
        std::string text;
        std::optional<net::IpAddr> peer;
        Cached cached{};
        const char* unit = "intervals";
        if (f.check < check_count) {
            cached = d.cached[f.check];
            unit = spec(f.check).unit;
            std::string at_least = w10.truncated ? "at least " : "";
            std::string value = in_unit(f.value, unit);
            switch (Check(f.check)) {
                case Check::propagation:
                    text = fmt::format("contacted {}{} addresses on ports {} in 10 s", at_least,
                                       value, join_ports(config.propagation.ports));
                    break;
                case Check::vertical_scan:
                    text = fmt::format("tried {}{} ports on {} in 10 s", at_least, value,
                                       w10.busiest_host.str());
                    peer = w10.busiest_host;
                    break;
                case Check::horizontal_scan:
                    text = fmt::format(
                        "tried port {} on {}{} addresses in 10 s, {} connection attempts "
                        "unanswered",
                        w10.busiest_port, at_least, value,
                        grouped(w10.values[Feature::unanswered_syns]));
                    break;
                case Check::lateral:
                    text = fmt::format("contacted {}{} devices on the LAN in 10 s", at_least,
                                       value);
                    break;
                case Check::flood:
                    text = fmt::format("sent {} frames/s more than it received, over 10 s",
                                       amount(f.value));
                    break;
                case Check::exfiltration:
                    text = fmt::format("uploaded {} to the internet over 10 s (beyond the "
                                       "acknowledgements of its downloads)",
                                       value);
                    break;
                case Check::blocklist:
                    text = fmt::format("sent {} frames to blocklisted addresses in 10 s", value);
                    break;
                case Check::new_destinations:
                    text = fmt::format("contacted {}{} addresses it had never contacted before "
                                       "in 60 s",
                                       at_least, value);
                    break;
                case Check::vertical_scan_10m:
                case Check::vertical_scan_1h: {
                    const auto& hz = horizon_of(spec(f.check).key.window);
                    text = fmt::format("tried about {} ports on {} over {}", value,
                                       hz.busiest_host.str(),
                                       horizon_words(spec(f.check).key.window));
                    peer = hz.busiest_host;
                    break;
                }
                case Check::unanswered_10m:
                case Check::unanswered_1h:
                    text = fmt::format("left {} connection attempts unanswered over {}", value,
                                       horizon_words(spec(f.check).key.window));
                    break;
                case Check::propagation_10m:
                case Check::propagation_1h:
                    text = fmt::format("contacted about {} addresses on ports {} over {}", value,
                                       join_ports(config.propagation.ports),
                                       horizon_words(spec(f.check).key.window));
                    break;
                case Check::upload_to_new_60s:
                case Check::upload_to_new_1h: {
                    const auto& hz = horizon_of(Window::h1);
                    text = fmt::format("uploaded {} to addresses it had never contacted before, "
                                       "{}; the most to {}: {} since it first contacted it",
                                       value,
                                       Check(f.check) == Check::upload_to_new_60s ? "in 60 s"
                                                                                  : "over 1 h",
                                       hz.top_new_peer.str(), bytes_amount(hz.top_new_bytes));
                    peer = hz.top_new_peer;
                    break;
                }
            }
            if (cached.normal.source != Source::none)
                text += fmt::format("; its normal is {} ({})", in_unit(cached.normal.value, unit),
                                    normal_words(cached.normal, d.type));
            text += "; threshold " + in_unit(f.threshold, unit);
            d.last_value[f.check] = std::max(f.value, d.projected[f.check]);
            d.last_fired_ms[f.check] = now;
            // The detector's other checks measured the same behaviour (a scan's 10 s count
            // and its 10 min count): what each projected is what a false positive teaches it.
            for (size_t sibling = 0; sibling < check_count; ++sibling)
                if (sibling != f.check && spec(sibling).detector == spec(f.check).detector)
                    d.last_value[sibling] = d.projected[sibling];
        } else {
            cached.threshold = f.threshold;
            cached.normal = {0, Source::none, false, hour_of(now)};
            text = fmt::format(
                "connected to {} port {} every {:.0f} s, {} times in a row (within {:.0f} %), "
                "an address it had not contacted before; threshold {} in a row",
                beacon->peer.str(), beacon->port, beacon->mean_interval_s, beacon->intervals,
                beacon->jitter * 100, config.beaconing.repeats);
            d.last_beacon_peer = beacon->peer;
            d.last_beacon_ms = now;
            peer = beacon->peer;
        }
        Finding finding = decide(d, f.detector, f.value, cached, std::move(text), unit, now);
        finding.score = f.score;
        finding.evidence.peer = peer;
        if (f.check < check_count) finding.evidence.window = to_string(spec(f.check).key.window);
        out.push_back(std::move(finding));
    }

    if (closed) {
        // The window that just closed teaches the baselines, unless something in it looked
        // like an attack or the device was held in quarantine (silence is not its normal).
        if (!d.hold_block && now >= d.quarantined_until) {
            thread_local WindowFeatures w60;
            d.windows.last_60s(now, config.propagation.ports, w60);
            int hour = hour_of(now);
            thread_local std::array<FeatureVector, window_count> by_window;
            by_window[size_t(Window::s10)] = w10.values;
            by_window[size_t(Window::s60)] = w60.values;
            by_window[size_t(Window::m10)] = horizon_of(Window::m10).values;
            by_window[size_t(Window::h1)] = horizon_of(Window::h1).values;
            d.baseline.add(by_window, hour);
            h.baseline_windows = capped_windows(d.baseline);
            learned[d.type].add(by_window, hour);
        }
        d.hold_block = false;
        d.remembered_in_block = 0;
        d.beacons.expire(now, config.beaconing);
        refresh(h, d, now);
    }

    // Quiet from here on? Then the next idle ticks take the short way at the top. (What the
    // long horizons hold does not keep a device from being quiet: a tick that brings nothing
    // cannot raise it, and the next full tick catches up on its halves.)
    bool short_checks_zero = true;
    for (size_t c = 0; c < check_count; ++c)
        if (!long_horizon(c) && d.previous_value[c] != 0) short_checks_zero = false;
    if (h.first_seen_ms != 0 && d.windows.block_end_ms() != 0 && d.windows.quiet() &&
        short_checks_zero) {
        h.quiet = true;
        h.block_end_ms = d.windows.block_end_ms();
        h.open_ms = d.windows.open_ms();
        h.open_active_flow_ms = d.windows.open_active_flow_ms();
    }
}

Finding Engine::State::decide(DeviceState& d, Detector detector, double value,
                              const Cached& cached, std::string text, const char* unit,
                              int64_t now) {
    const Response& response = config.response(detector);
    Finding f;
    f.device = d.mac;
    f.type = d.type;
    f.detector = detector;
    f.time_ms = now;
    f.evidence = {value,
                  cached.normal.value,
                  cached.threshold,
                  unit,
                  normal_words(cached.normal, d.type),
                  std::move(text),
                  std::nullopt,
                  {}};
    f.action = response.action;
    f.duration = response.duration;
    const auto& esc = config.escalation;
    if (f.action != Action::alert) {
        if (is_exempt(d.mac)) {
            f.note = "exempt in the policy: stays an alert instead of " +
                     std::string(to_string(f.action));
            f.action = Action::alert;
        } else if (never_quarantined(d.type)) {
            f.note = "devices of type " + d.type + " are never quarantined automatically: " +
                     "stays an alert instead of " + std::string(to_string(f.action));
            f.action = Action::alert;
        } else if (now < d.quarantined_until) {
            f.note = "already quarantined by an earlier finding";
            f.action = Action::alert;
        } else {
            std::erase_if(d.quarantines, [&](int64_t t) { return t <= now - esc.window.count(); });
            f.repeat = unsigned(d.quarantines.size());
            if (f.duration && f.repeat > 0) {
                double scaled = double(f.duration->count()) * std::pow(esc.factor, f.repeat);
                f.duration = milliseconds(int64_t(std::min(scaled, double(esc.max_duration.count()))));
            }
            if (f.repeat + 1 >= esc.isolate_after && f.action != Action::isolate) {
                f.note = fmt::format("escalated to isolate: quarantine number {} within {}",
                                     f.repeat + 1, text::format_duration(esc.window));
                f.action = Action::isolate;
            } else if (f.repeat > 0) {
                f.note = fmt::format("escalated: quarantine number {} within {}, duration x{}",
                                     f.repeat + 1, text::format_duration(esc.window),
                                     amount(std::pow(esc.factor, f.repeat)));
            }
            d.quarantines.push_back(now);
            d.quarantined_until = f.duration ? now + f.duration->count() : never;
        }
    }
    if (f.action == Action::alert) f.duration.reset();
    // Quiet while the quarantine lasts (then a repeat is a new finding and escalates), and
    // at least the cooldown, so an ongoing behaviour is one finding, not one per tick.
    int64_t quiet = now + config.cooldown.count();
    if (f.action != Action::alert) quiet = std::max(quiet, d.quarantined_until);
    d.quiet_until[size_t(detector)] = quiet;
    if (d.last_finding_ms != now) d.last_finding_detectors = 0;
    d.last_finding_ms = now;
    d.last_finding_detectors |= bit(detector);
    return f;
}

// ---- Finding ----

std::string Finding::summary() const {
    std::string out = fmt::format("{} on {} ({}): {}; {}", to_string(detector), device.str(), type,
                                  evidence.text, to_string(action));
    if (action != Action::alert)
        out += duration ? " for " + text::format_duration(*duration) : " until released";
    if (!note.empty()) out += " (" + note + ")";
    return out;
}

nlohmann::json Finding::to_json() const {
    nlohmann::json j = {{"kind", "finding"},
                        {"mac", device.str()},
                        {"type", type},
                        {"detector", to_string(detector)},
                        {"score", std::round(score * 100) / 100},
                        {"value", evidence.value},
                        {"normal", evidence.normal},
                        {"threshold", evidence.threshold},
                        {"unit", evidence.unit},
                        {"normal_from", evidence.normal_from},
                        {"evidence", evidence.text},
                        {"action", to_string(action)},
                        {"repeat", repeat},
                        {"ts_ms", time_ms}};
    if (action != Action::alert)
        j["duration_ms"] = duration ? nlohmann::json(duration->count()) : nlohmann::json(nullptr);
    if (!note.empty()) j["note"] = note;
    if (evidence.peer) j["peer"] = evidence.peer->str();
    if (!evidence.window.empty()) j["window"] = evidence.window;
    return j;
}

// ---- Engine ----

Engine::Engine(Config config, std::vector<net::Mac> exempt) : state_(std::make_unique<State>()) {
    configure(std::move(config), std::move(exempt));
}
Engine::~Engine() = default;
Engine::Engine(const Engine& other) : state_(std::make_unique<State>(*other.state_)) {}
Engine& Engine::operator=(const Engine& other) {
    if (this != &other) state_ = std::make_unique<State>(*other.state_);
    return *this;
}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

void Engine::configure(Config config, std::vector<net::Mac> exempt) {
    std::sort(exempt.begin(), exempt.end());
    bool capacity_changed = config.known_destinations != state_->config.known_destinations;
    state_->config = std::move(config);
    state_->exempt = std::move(exempt);
    for (auto& h : state_->hot) h.cache_dirty = true;
    for (auto& box : state_->cold) {
        DeviceState& d = *box;
        if (capacity_changed)
            d.known = KnownSet::from_hex(state_->config.known_destinations, d.known.current_hex(),
                                         d.known.previous_hex());
    }
}

const Config& Engine::config() const { return state_->config; }

void Engine::set_utc_offset(std::chrono::seconds offset) {
    state_->utc_offset_s = offset.count();
    for (auto& h : state_->hot) h.cache_dirty = true;
}

void Engine::set_type(const net::Mac& mac, std::string type) {
    if (type.empty()) type = "unknown";
    size_t at = state_->slot(mac);
    DeviceState& d = *state_->cold[at];
    if (d.type == type) return;
    d.type = std::move(type);
    state_->hot[at].cache_dirty = true;
}

void Engine::observe(const net::Mac& mac, const Sample& tick, std::vector<Finding>& out) {
    state_->observe(mac, tick, out);
}

std::vector<Finding> Engine::observe(const net::Mac& mac, const Sample& tick) {
    std::vector<Finding> out;
    state_->observe(mac, tick, out);
    return out;
}

void Engine::released(const net::Mac& mac, int64_t now_ms) {
    auto at = state_->find(mac);
    if (!at) return;
    DeviceState& d = *state_->cold[*at];
    d.quarantined_until = std::min(d.quarantined_until, now_ms);
    for (auto& q : d.quiet_until) q = std::min(q, now_ms);
}

Taught Engine::false_positive(const net::Mac& mac, std::optional<Detector> detector,
                              int64_t now_ms) {
    auto at = state_->find(mac);
    if (!at) return {{}, "nothing to learn: the engine has no history of " + mac.str()};
    DeviceState& d = *state_->cold[*at];
    uint16_t mask = detector ? bit(*detector) : d.last_finding_detectors;
    Taught taught;
    for (Detector det : all_detectors) {
        if (!(mask & bit(det))) continue;
        // The check of this detector that fired last (port_scan has two).
        std::optional<size_t> latest;
        for (size_t c = 0; c < check_count; ++c)
            if (spec(c).detector == det && d.last_fired_ms[c] != 0 &&
                (!latest || d.last_fired_ms[c] > d.last_fired_ms[*latest]))
                latest = c;
        std::string line;
        if (det == Detector::beaconing) {
            if (d.last_beacon_peer.is_unspecified()) continue;
            d.beacons.forget(d.last_beacon_peer);
            line = "beaconing: " + d.last_beacon_peer.str() +
                   " is part of this device's history now";
        } else if (latest) {
            size_t c = *latest;
            double before = d.cached[c].threshold;
            d.tolerance[c] = std::max(d.tolerance[c], d.last_value[c] * false_positive_margin);
            // The detector's other checks saw the same behaviour: each learns what it
            // projected when the finding fired, or it fires the moment the release lets the
            // device back (or the same behaviour again crosses the count of a longer horizon).
            for (size_t other = 0; other < check_count; ++other)
                if (other != c && spec(other).detector == det)
                    d.tolerance[other] = std::max(d.tolerance[other], d.last_value[other] * false_positive_margin);
            line = fmt::format("{}: this device's threshold raised from {} to {}",
                               to_string(det), in_unit(before, spec(c).unit),
                               in_unit(std::max(before, d.tolerance[c]), spec(c).unit));
            if (std::string_view(spec(c).unit) != "B/s" &&
                std::string_view(spec(c).unit) != "frames/s" &&
                std::string_view(spec(c).unit) != "bytes")
                line += std::string(" ") + spec(c).unit;
        } else {
            continue;
        }
        taught.detectors.push_back(det);
        taught.text += (taught.text.empty() ? "" : "; ") + line;
        d.quiet_until[size_t(det)] = std::min(d.quiet_until[size_t(det)], now_ms);
    }
    if (taught.detectors.empty()) {
        taught.text = "nothing to learn: no finding of " +
                      (detector ? std::string(to_string(*detector)) + " " : std::string()) +
                      "on " + mac.str();
        return taught;
    }
    // The wrong finding does not count towards escalation, and its quarantine is over.
    for (size_t c = 0; c < check_count; ++c) {
        if (std::find(taught.detectors.begin(), taught.detectors.end(), spec(c).detector) ==
            taught.detectors.end())
            continue;
        auto wrong = std::find(d.quarantines.begin(), d.quarantines.end(), d.last_fired_ms[c]);
        if (wrong != d.quarantines.end()) d.quarantines.erase(wrong);
    }
    if (d.last_beacon_ms != 0 && std::find(taught.detectors.begin(), taught.detectors.end(),
                                           Detector::beaconing) != taught.detectors.end()) {
        auto wrong = std::find(d.quarantines.begin(), d.quarantines.end(), d.last_beacon_ms);
        if (wrong != d.quarantines.end()) d.quarantines.erase(wrong);
    }
    d.horizons.forget_evidence();
    d.quarantined_until = std::min(d.quarantined_until, now_ms);
    state_->hot[*at].cache_dirty = true;
    return taught;
}

void Engine::forget(const net::Mac& mac) {
    if (auto at = state_->find(mac)) state_->erase_devices([&](size_t i) { return i == *at; });
}

size_t Engine::forget_unseen(int64_t now_ms) {
    int64_t horizon = now_ms - state_->config.forget_after.count();
    return state_->erase_devices([&](size_t i) { return state_->hot[i].last_seen_ms < horizon; });
}

std::optional<DeviceView> Engine::device(const net::Mac& mac) const {
    auto at = state_->find(mac);
    if (!at) return std::nullopt;
    const DeviceHot& h = state_->hot[*at];
    const DeviceState& d = *state_->cold[*at];
    DeviceView v;
    v.mac = mac;
    v.type = d.type;
    v.first_seen_ms = h.first_seen_ms;
    v.last_seen_ms = h.last_seen_ms;
    v.learning = !state_->trusted(h, h.last_seen_ms);
    v.windows = d.baseline.windows();
    v.known_destinations = d.known.size();
    v.quarantined_until_ms = d.quarantined_until;
    for (size_t c = 0; c < check_count; ++c) {
        double& t = v.tolerance[size_t(spec(c).detector)];
        t = std::max(t, d.tolerance[c]);
    }
    return v;
}

std::vector<net::Mac> Engine::devices() const {
    std::vector<net::Mac> out;
    for (const auto& [mac, at] : state_->index) out.push_back(mac);
    return out;
}

const Baseline* Engine::device_baseline(const net::Mac& mac) const {
    auto at = state_->find(mac);
    return at ? &state_->cold[*at]->baseline : nullptr;
}

const Baseline* Engine::type_baseline(std::string_view type) const {
    auto it = state_->learned.find(type);
    return it == state_->learned.end() ? nullptr : &it->second;
}

Engine::Memory Engine::memory() const {
    Memory m;
    const State& s = *state_;
    // The arrays' unused room is the state's; each device pays its own entries.
    m.devices = sizeof(State) +
                (s.hot.capacity() - s.hot.size()) * sizeof(DeviceHot) +
                (s.cold.capacity() - s.cold.size()) * sizeof(ColdBox) +
                (s.index.capacity() - s.index.size()) * sizeof(s.index[0]);
    for (const auto& box : s.cold) {
        const DeviceState& d = *box;
        size_t n = sizeof(DeviceHot) + sizeof(ColdBox) + allocation_bytes(sizeof(d)) +
                   sizeof(s.index[0]);
        n += d.baseline.heap_bytes() + d.known.heap_bytes() + d.windows.heap_bytes() +
             d.beacons.heap_bytes() + allocation_bytes(d.quarantines.capacity() * sizeof(int64_t));
        if (d.type.capacity() > 15) n += allocation_bytes(d.type.capacity() + 1);
        m.devices += n;
        m.largest_device = std::max(m.largest_device, n);
    }
    for (const auto* types : {&state_->learned, &state_->priors})
        for (const auto& [name, b] : *types) m.types += sizeof(b) + b.heap_bytes() + 64;
    return m;
}

// ---- persistence ----

namespace {

constexpr const char* state_format = "warden-engine";
constexpr int state_version = 1;

const nlohmann::json& member(const nlohmann::json& j, const char* key, const std::string& where) {
    if (!j.contains(key)) throw std::invalid_argument(where + ": missing \"" + key + "\"");
    return j[key];
}

int64_t integer(const nlohmann::json& j, const char* key, const std::string& where) {
    const auto& v = member(j, key, where);
    if (!v.is_number_integer())
        throw std::invalid_argument(where + "." + key + ": expected a whole number");
    return v.get<int64_t>();
}

}  // namespace

nlohmann::json Engine::to_json() const {
    const State& s = *state_;
    auto devices = nlohmann::json::array();
    for (const net::Mac& mac : this->devices()) {
        size_t at = *s.find(mac);
        const DeviceHot& h = s.hot[at];
        const DeviceState& d = *s.cold[at];
        nlohmann::json tolerance = nlohmann::json::object(), quiet = nlohmann::json::object();
        for (size_t c = 0; c < check_count; ++c)
            if (d.tolerance[c] > 0) tolerance[spec(c).name] = d.tolerance[c];
        for (Detector det : all_detectors)
            if (d.quiet_until[size_t(det)] > 0) quiet[to_string(det)] = d.quiet_until[size_t(det)];
        devices.push_back({{"mac", mac.str()},
                           {"type", d.type},
                           {"first_seen_ms", h.first_seen_ms},
                           {"last_seen_ms", h.last_seen_ms},
                           {"baseline", d.baseline.to_json()},
                           {"known", {d.known.current_hex(), d.known.previous_hex()}},
                           {"tolerance", std::move(tolerance)},
                           {"quiet_until", std::move(quiet)},
                           {"quarantines", d.quarantines},
                           {"quarantined_until", d.quarantined_until}});
    }
    nlohmann::json learned = nlohmann::json::object(), priors = nlohmann::json::object();
    for (const auto& [type, b] : s.learned) learned[type] = b.to_json();
    for (const auto& [type, b] : s.priors) priors[type] = b.to_json();
    nlohmann::json out{{"format", state_format}, {"version", state_version}, {"devices", std::move(devices)},
                       {"types", std::move(learned)},  {"priors", std::move(priors)}};
    if (!s.prior_homes.empty()) out["prior_homes"] = s.prior_homes;
    return out;
}

void Engine::load_json(const nlohmann::json& j) {
    if (!j.is_object() || j.value("format", "") != state_format)
        throw std::invalid_argument(std::string("not an engine state: expected \"format\": \"") +
                                    state_format + "\"");
    if (integer(j, "version", "engine state") != state_version)
        throw std::invalid_argument("engine state version " + j["version"].dump() +
                                    " is not supported (expected 1)");
    State fresh;
    fresh.config = state_->config;
    fresh.exempt = state_->exempt;
    fresh.utc_offset_s = state_->utc_offset_s;

    const auto& devices = member(j, "devices", "engine state");
    if (!devices.is_array()) throw std::invalid_argument("engine state.devices: expected a list");
    for (size_t i = 0; i < devices.size(); ++i) {
        const auto& e = devices[i];
        std::string where = "engine state.devices[" + std::to_string(i) + "]";
        if (!e.is_object()) throw std::invalid_argument(where + ": expected an object");
        const auto& mac_text = member(e, "mac", where);
        auto mac = mac_text.is_string() ? net::Mac::parse(mac_text.get<std::string>()) : std::nullopt;
        if (!mac) throw std::invalid_argument(where + ".mac: expected a MAC address");
        where += " (" + mac->str() + ")";
        if (fresh.find(*mac)) throw std::invalid_argument(where + ": listed twice");
        size_t at = fresh.slot(*mac);
        DeviceHot& h = fresh.hot[at];
        DeviceState& d = *fresh.cold[at];
        const auto& type = member(e, "type", where);
        if (!type.is_string()) throw std::invalid_argument(where + ".type: expected a name");
        d.type = type.get<std::string>();
        h.first_seen_ms = integer(e, "first_seen_ms", where);
        h.last_seen_ms = integer(e, "last_seen_ms", where);
        d.quarantined_until = integer(e, "quarantined_until", where);
        try {
            d.baseline = Baseline::from_json(member(e, "baseline", where));
            h.baseline_windows = capped_windows(d.baseline);
            const auto& known = member(e, "known", where);
            if (!known.is_array() || known.size() != 2 || !known[0].is_string() ||
                !known[1].is_string())
                throw std::invalid_argument("known: expected [current, previous] hex strings");
            d.known = KnownSet::from_hex(fresh.config.known_destinations, known[0], known[1]);
        } catch (const std::invalid_argument& err) {
            throw std::invalid_argument(where + ": " + err.what());
        }
        for (const auto& [name, value] : member(e, "tolerance", where).items()) {
            auto c = check_by_name(name);
            if (!c || !value.is_number() || value.get<double>() < 0)
                throw std::invalid_argument(where + ".tolerance." + name +
                                            ": unknown check or not a number");
            d.tolerance[*c] = value.get<double>();
        }
        for (const auto& [name, value] : member(e, "quiet_until", where).items()) {
            auto det = parse_detector(name);
            if (!det || !value.is_number_integer())
                throw std::invalid_argument(where + ".quiet_until." + name +
                                            ": unknown detector or not a time");
            d.quiet_until[size_t(*det)] = value.get<int64_t>();
        }
        const auto& quarantines = member(e, "quarantines", where);
        if (!quarantines.is_array())
            throw std::invalid_argument(where + ".quarantines: expected a list of times");
        for (const auto& t : quarantines) {
            if (!t.is_number_integer())
                throw std::invalid_argument(where + ".quarantines: expected a list of times");
            d.quarantines.push_back(t.get<int64_t>());
        }
    }
    auto read_types = [&](const char* key, auto& into) {
        const auto& types = member(j, key, "engine state");
        if (!types.is_object())
            throw std::invalid_argument(std::string("engine state.") + key +
                                        ": expected an object of types");
        for (const auto& [type, b] : types.items()) {
            try {
                into[type] = Baseline::from_json(b);
            } catch (const std::invalid_argument& err) {
                throw std::invalid_argument(std::string("engine state.") + key + "." + type +
                                            ": " + err.what());
            }
        }
    };
    read_types("types", fresh.learned);
    read_types("priors", fresh.priors);
    if (j.contains("prior_homes")) {  // absent from a state saved before priors named their homes
        if (!j["prior_homes"].is_object())
            throw std::invalid_argument("engine state.prior_homes: expected an object of types");
        for (const auto& [type, n] : j["prior_homes"].items()) {
            if (!fresh.priors.count(type) || !n.is_number_integer() || n.get<int64_t>() < 1)
                throw std::invalid_argument("engine state.prior_homes." + type +
                                            ": expected a whole number for an imported type");
            fresh.prior_homes[type] = n.get<uint64_t>();
        }
    }
    *state_ = std::move(fresh);
}

Profiles Engine::export_profiles() const {
    Profiles p;
    for (const auto& [type, b] : state_->learned) p.types[type] = b;
    return p;
}

void Engine::import_profiles(const Profiles& priors) {
    state_->priors.clear();
    state_->prior_homes.clear();
    for (const auto& [type, b] : priors.types) state_->priors[type] = b;
    for (const auto& [type, n] : priors.homes)
        if (priors.types.count(type)) state_->prior_homes[type] = n;
    for (auto& h : state_->hot) h.cache_dirty = true;
}

}  // namespace warden::engine
