#include "daemon/detection.h"

#include <ctime>

#include "daemon/traffic.h"
#include "identity/identity.h"
#include "text/units.h"
#include "log/log.h"
#include "store/files.h"
#include "store/state.h"
#include "text/text.h"

namespace warden::daemon {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// daemon::mac_key backwards.
net::Mac mac_of_key(uint64_t key) {
    net::Mac m;
    for (int i = 5; i >= 0; --i, key >>= 8) m.bytes[i] = uint8_t(key & 0xff);
    return m;
}

// Local time's offset from UTC now, so the engine's hours of the day are the household's.
std::chrono::seconds utc_offset() {
    time_t now = time(nullptr);
    tm local{};
    localtime_r(&now, &local);
    return std::chrono::seconds(local.tm_gmtoff);
}

// This thread's CPU time: the poll's own steps measure the process, web threads included.
double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

std::string detectors_text(const std::vector<std::string>& detectors) {
    std::string s;
    for (const auto& d : detectors) s += (s.empty() ? "" : ",") + d;
    return s;
}

}  // namespace

Detection::Detection(const store::StateDir& state, store::EventLog& events)
    : file_(state.path_of(store::layout::engine)), events_(events) {
    engine_.set_utc_offset(utc_offset());
}

void Detection::configure(const policy::Policy& policy) {
    exempt_ = policy.exempt;
    engine_.configure(policy.detectors, policy.exempt);
    engine_.set_utc_offset(utc_offset());
}

bool Detection::adjust_detectors(const engine::Config& settings) {
    engine_.configure(settings, exempt_);
    return true;
}

void Detection::load() {
    std::error_code ec;
    if (!fs::exists(file_, ec)) {
        log::info("engine: nothing learned yet ({} does not exist): learning starts now", file_.string());
        return;
    }
    try {
        engine_.load_json(json::parse(store::read_file(file_)));
        log::info("engine: {} device(s) restored from {}", engine_.devices().size(), file_.string());
    } catch (const std::exception& e) {
        // Like the other state files: keep the damaged file for a person to look at, start
        // with what can be had (nothing, here), and do not trip over it at the next start.
        log::error("state: {}: {}", file_.string(), e.what());
        try {
            auto aside = store::move_aside(file_);
            log::error("state: damaged engine state kept as {}; learning starts afresh", aside.string());
        } catch (const std::exception& m) {
            log::error("state: cannot move {} aside: {}", file_.string(), m.what());
        }
    }
}

bool Detection::save() {
    store::write_atomically(file_, engine_.to_json().dump());
    saved_ms_ = store::now_unix_ms();
    return true;
}

size_t Detection::tick(const std::vector<dataplane::DeviceCounters>& counters,
                       const std::unordered_map<uint64_t, size_t>& active_flows, int64_t now_ms) {
    double t0 = thread_cpu_ms();
    active_.clear();
    for (const auto& [key, n] : active_flows) active_.emplace(mac_of_key(key), n);
    auto samples = sampler_.tick(counters, active_, now_ms);
    double t1 = thread_cpu_ms();
    findings_.clear();
    for (const auto& [mac, sample] : samples) engine_.observe(mac, sample, findings_);
    double t2 = thread_cpu_ms();
    for (const auto& f : findings_) act(f, now_ms);
    log::debug("engine tick: {} samples, {} findings; thread CPU ms: sampler {:.2f}, engine {:.2f}, acting {:.2f}",
               samples.size(), findings_.size(), t1 - t0, t2 - t1, thread_cpu_ms() - t2);
    if (!saved_ms_) saved_ms_ = now_ms;  // the first save is a full interval after start
    if (now_ms - saved_ms_ >= save_every_ms) {
        try {
            save();
        } catch (const std::exception& e) {
            saved_ms_ = now_ms;  // try again in a minute, not every poll
            log::error("engine: cannot save what was learned: {}", e.what());
        }
    }
    return findings_.size();
}

void Detection::act(const engine::Finding& found, int64_t now_ms) {
    engine::Finding f = found;
    std::string peer_name;
    // An address the evidence names gets the name the device looked it up as.
    if (f.evidence.peer && name_of_) {
        if (auto name = name_of_(f.device, *f.evidence.peer)) {
            std::string addr = f.evidence.peer->str();
            if (auto at = f.evidence.text.find(addr); at != std::string::npos)
                f.evidence.text.insert(at + addr.size(), " (" + *name + ")");
            peer_name = *name;
        }
    }
    json e = f.to_json();
    if (!peer_name.empty()) e["peer_name"] = peer_name;
    bool quarantined = control_ && control_->book().find(f.device);
    if (f.action != engine::Action::alert && quarantined) {
        // Quarantined already (by the operator, or earlier): its terms are not overwritten.
        e["note"] = std::string(e.value("note", "")) + (e.contains("note") ? "; " : "") +
                    "already quarantined: terms left as they are";
        e["action_taken"] = "none";
        events_.append(e);
        log::warn("finding: {} (already quarantined)", f.summary());
        return;
    }
    e["action_taken"] = f.action == engine::Action::alert ? "alert" : std::string(engine::to_string(f.action));
    events_.append(e);
    log::warn("finding: {}", f.summary());
    if (f.action == engine::Action::alert) return;
    if (!control_) return;
    control::QuarantineOrder order;
    order.mac = f.device.str();
    order.level = std::string(engine::to_string(f.action));  // restricted | isolate
    order.duration = f.duration ? text::format_duration(*f.duration) : "forever";
    // Evidence can hold names the device looked up: cleaned and cut on a character boundary.
    order.reason = text::printable(std::string(engine::to_string(f.detector)) + ": " + f.evidence.text,
                                   control::kMaxReason);
    auto result = control_->quarantine(order, control::Who{control::Origin::detector, ""});
    if (result.ok())
        log::warn("quarantined {} ({}, {}): {}", f.device.str(), *order.level,
                  f.duration ? "for " + *order.duration : "until released", order.reason);
    else
        log::error("cannot quarantine {} after its finding: {}", f.device.str(), result.message);
    for (const auto& w : result.warnings) log::warn("quarantine of {}: {}", f.device.str(), w);
}

control::Taught Detection::false_positive(const net::Mac& mac, std::optional<engine::Detector> detector,
                                          int64_t now_ms) {
    engine::Taught taught = engine_.false_positive(mac, detector, now_ms);
    control::Taught out;
    for (auto d : taught.detectors) out.detectors.push_back(std::string(engine::to_string(d)));
    out.text = taught.text;
    log::info("false positive on {} ({}): {}", mac.str(), detectors_text(out.detectors), out.text);
    save();  // an operator's correction is not left to the next minute
    return out;
}

size_t Detection::import_profiles(const engine::Profiles& priors) {
    engine_.import_profiles(priors);
    save();
    log::info("engine: imported profiles of {} device type(s) as priors", priors.types.size());
    return priors.types.size();
}

}  // namespace warden::daemon
