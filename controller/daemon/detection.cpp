#include "daemon/detection.h"

#include <ctime>

#include "daemon/requests.h"
#include "log/log.h"
#include "store/files.h"
#include "store/state.h"

namespace warden::daemon {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

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

std::string detectors_text(const std::vector<engine::Detector>& detectors) {
    std::string s;
    for (auto d : detectors) s += (s.empty() ? "" : ",") + std::string(engine::to_string(d));
    return s;
}

}  // namespace

Detection::Detection(fs::path state_dir, store::EventLog& events, quarantine::Manager& quarantines,
                     dataplane::QuarantineTable table)
    : state_dir_(std::move(state_dir)),
      file_(state_dir_ / "engine.json"),
      events_(events),
      quarantines_(quarantines),
      table_(table) {
    engine_.set_utc_offset(utc_offset());
}

void Detection::configure(const policy::Policy& policy) {
    engine_.configure(policy.detectors, policy.exempt);
    engine_.set_utc_offset(utc_offset());
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

void Detection::save() {
    store::write_atomically(file_, engine_.to_json().dump());
    saved_ms_ = store::now_unix_ms();
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
    e.erase("event");
    e["kind"] = "finding";  // what the events log's readers (views, alerts, web) key on
    if (!peer_name.empty()) e["peer_name"] = peer_name;
    if (f.action != engine::Action::alert && table_.get(f.device)) {
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
    store::QuarantineRecord r;
    r.mac = f.device;
    r.level = std::string(engine::to_string(f.action));  // restricted | isolate
    r.origin = "detector";
    r.reason = std::string(engine::to_string(f.detector)) + ": " + f.evidence.text;
    r.since_ms = now_ms;
    if (f.duration) r.expires_ms = now_ms + f.duration->count();
    try {
        quarantines_.add(r);
        log::warn("quarantined {} ({}, {}): {}", f.device.str(), r.level,
                  f.duration ? "for " + std::to_string(f.duration->count() / 1000) + " s" : "until released",
                  r.reason);
    } catch (const std::exception& ex) {
        log::error("cannot quarantine {} after its finding: {}", f.device.str(), ex.what());
    }
}

void Detection::handle_requests(int64_t now_ms) {
    for (auto& r : pending_requests(state_dir_)) {
        if (r.body.is_null()) {
            log::error("request {}: {}; dropped", r.file.string(), r.problem);
        } else {
            try {
                handle(r.body, now_ms);
            } catch (const std::exception& e) {
                log::error("request {} ({}): {}", r.file.filename().string(), r.body.value("kind", ""), e.what());
            }
        }
        std::error_code ec;
        fs::remove(r.file, ec);
    }
}

void Detection::handle(const json& req, int64_t now_ms) {
    std::string kind = req.value("kind", "");
    auto mac_field = [&] {
        auto mac = net::Mac::parse(req.value("mac", ""));
        if (!mac) throw std::invalid_argument("no valid \"mac\"");
        return *mac;
    };
    if (kind == "release") {
        engine_.released(mac_field(), now_ms);
    } else if (kind == "false_positive") {
        net::Mac mac = mac_field();
        std::optional<engine::Detector> detector;
        if (req.contains("detector") && req["detector"].is_string()) {
            detector = engine::parse_detector(req["detector"].get<std::string>());
            if (!detector) throw std::invalid_argument("unknown detector " + req["detector"].dump());
        }
        engine::Taught taught = engine_.false_positive(mac, detector, now_ms);
        json names = json::array();
        for (auto d : taught.detectors) names.push_back(std::string(engine::to_string(d)));
        events_.append({{"kind", "false_positive"}, {"mac", mac.str()}, {"detectors", names}, {"text", taught.text}});
        log::info("false positive on {} ({}): {}", mac.str(), detectors_text(taught.detectors), taught.text);
        save();  // an operator's correction is not left to the next minute
    } else if (kind == "save") {
        save();
        log::info("engine: state saved to {} on request", file_.string());
    } else if (kind == "import_profiles") {
        auto priors = engine::Profiles::from_json(req.at("profiles"));
        engine_.import_profiles(priors);
        save();
        events_.append({{"kind", "profiles_imported"}, {"types", priors.types.size()}});
        log::info("engine: imported profiles of {} device type(s) as priors", priors.types.size());
    } else {
        throw std::invalid_argument("unknown kind of request");
    }
}

}  // namespace warden::daemon
