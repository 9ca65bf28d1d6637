#include "web/threats.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "view/devices.h"

namespace warden::web {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string text_of(const json& e, const char* key) {
    auto it = e.find(key);
    if (it == e.end() || it->is_null()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
}

constexpr size_t kMaxLine = 64 * 1024;  // longer lines are not events warden wrote

}  // namespace

std::optional<Threat> threat_of(const json& e) {
    if (!e.is_object()) return std::nullopt;
    Threat t;
    t.kind = view::event_kind(e);
    if (t.kind != "quarantine_drop" && t.kind != "blocklist_hit" && t.kind != "finding" && t.kind != "quarantine")
        return std::nullopt;
    auto ts = e.find("ts_ms");
    t.time_ms = ts != e.end() && ts->is_number_integer() ? ts->get<int64_t>() : 0;
    if (auto mac = net::Mac::parse(text_of(e, "mac"))) t.mac = *mac;
    std::string direction = text_of(e, "direction");
    if (t.kind == "quarantine_drop") {
        t.text = direction == "to device" ? "Blocked traffic to this quarantined device"
                                          : "Blocked traffic from this quarantined device";
    } else if (t.kind == "blocklist_hit") {
        std::string address = text_of(e, "address");
        t.text = direction == "from device" ? "Stopped a connection to " + address + ", which is on the blocklist"
                                            : "Blocked " + address + " (on the blocklist) from reaching the network";
    } else if (t.kind == "finding") {
        t.detector = text_of(e, "detector");
        t.text = text_of(e, "evidence");
        if (t.text.empty()) t.text = "Unusual behaviour (" + t.detector + ")";
    } else {
        std::string level = text_of(e, "level"), reason = text_of(e, "reason");
        t.text = std::string(level == "restricted" ? "Restricted" : "Isolated") + " by " +
                 (text_of(e, "origin") == "detector" ? "warden" : "the administrator");
        if (!reason.empty()) t.text += ": " + reason;
    }
    return t;
}

ThreatTracker::ThreatTracker(fs::path events_file, int keep) : file_(std::move(events_file)), keep_(keep) {}

ThreatTracker::~ThreatTracker() {
    if (fd_ >= 0) close(fd_);
}

Incident* ThreatTracker::open_incident(const net::Mac& mac) {
    auto it = latest_.find(mac);
    if (it == latest_.end() || it->second < first_incident_) return nullptr;
    return &incidents_[it->second - first_incident_];
}

Incident& ThreatTracker::start_incident(Incident incident) {
    if (Incident* before = open_incident(incident.mac)) before->open = false;
    latest_[incident.mac] = first_incident_ + incidents_.size();
    incidents_.push_back(std::move(incident));
    if (incidents_.size() > kMaxIncidents) {
        incidents_.pop_front();
        ++first_incident_;
    }
    return incidents_.back();
}

// Folds one event into the incidents: a finding that leads to a quarantine waits for it; the
// quarantine starts an incident that its blocked traffic and later findings join, until the
// release; an alert and blocklist hits join the device's incident while they come within
// kIncidentGapMs of each other.
void ThreatTracker::take_incident(const json& e, const Threat& t) {
    std::string kind = view::event_kind(e);
    Incident* open = open_incident(t.mac);
    bool quarantined = open && open->open;
    bool recent = open && !open->open && open->kind != "quarantine" && t.time_ms - open->last_ms < kIncidentGapMs;
    if (kind == "release") {
        if (quarantined) {
            open->open = false;
            open->last_ms = std::max(open->last_ms, t.time_ms);
            changed_ = true;
        }
        return;
    }
    if (kind == "finding") {
        std::string taken = text_of(e, "action_taken");
        if (taken == "isolate" || taken == "restricted") {
            explaining_[t.mac] = e;
            return;
        }
        if (quarantined || recent) {
            ++open->findings;
            open->last_ms = t.time_ms;
            if (open->text.empty() || open->kind == "blocklist") {
                open->text = t.text;
                open->detector = t.detector;
                if (open->kind == "blocklist") open->kind = "alert";
            }
            return;
        }
        start_incident({t.time_ms, t.time_ms, t.mac, "alert", t.detector, t.text, "Noticed by warden", 0, 1, false, true});
        return;
    }
    if (kind == "quarantine") {
        std::string origin = text_of(e, "origin"), level = text_of(e, "level");
        bool by_warden = origin == "detector" || origin == "policy";
        Incident i{t.time_ms, t.time_ms, t.mac, "quarantine", "", "", "", 0, 0, true, by_warden};
        i.action = std::string(level == "restricted" ? "Restricted" : "Isolated") + " by " +
                   (by_warden ? "warden" : "the administrator");
        auto finding = explaining_.find(t.mac);
        if (finding != explaining_.end()) {
            i.detector = text_of(finding->second, "detector");
            i.text = text_of(finding->second, "evidence");
            i.findings = 1;
            explaining_.erase(finding);
        }
        if (i.text.empty()) i.text = text_of(e, "reason");
        start_incident(std::move(i));
        return;
    }
    // Blocked traffic: part of the quarantine, or of the alert, it belongs to.
    if (quarantined || recent) {
        ++open->blocked;
        open->last_ms = t.time_ms;
        return;
    }
    if (kind == "quarantine_drop") {  // its quarantine is older than the log warden read
        start_incident({t.time_ms, t.time_ms, t.mac, "quarantine", "", "", "Quarantined", 1, 0, true, true});
        return;
    }
    start_incident({t.time_ms, t.time_ms, t.mac, "blocklist", "", t.text, "Blocked by warden", 1, 0, false, true});
}

void ThreatTracker::take(const json& event) {
    if (view::event_kind(event) == "release") {
        Threat release;
        if (auto mac = net::Mac::parse(text_of(event, "mac"))) release.mac = *mac;
        auto ts = event.find("ts_ms");
        release.time_ms = ts != event.end() && ts->is_number_integer() ? ts->get<int64_t>() : 0;
        take_incident(event, release);
        return;
    }
    auto t = threat_of(event);
    if (!t) return;
    take_incident(event, *t);
    if (t->kind == "finding") {
        ++by_detector_[t->detector.empty() ? "unknown" : t->detector];
        findings_.push_back(event);
        if (findings_.size() > kMaxFindings) findings_.pop_front();
    }
    threats_.push_back(std::move(*t));
    if (threats_.size() > kMaxThreats) threats_.pop_front();
    changed_ = true;
}

void ThreatTracker::take_line(const std::string& line) {
    if (line.empty() || line.size() > kMaxLine) return;
    try {
        take(json::parse(line));
    } catch (const json::exception&) {
        // A damaged line is `warden events`'s to report; here it is just not a threat.
    }
}

void ThreatTracker::read_whole(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) take_line(line);
}

// Reads the open file from offset_ to its end; keeps a last line without its newline for
// the next time (the writer may be halfway through it).
void ThreatTracker::read_appended() {
    char buf[65536];
    for (;;) {
        ssize_t n = pread(fd_, buf, sizeof buf, offset_);
        if (n <= 0) break;
        offset_ += n;
        for (ssize_t i = 0; i < n; ++i) {
            if (buf[i] == '\n') {
                take_line(partial_);
                partial_.clear();
            } else if (partial_.size() <= kMaxLine) {
                partial_ += buf[i];
            }
        }
    }
}

std::shared_ptr<const ThreatLog> ThreatTracker::refresh(int64_t now_ms) {
    if (!started_) {
        started_ = true;
        for (int n = keep_; n >= 1; --n) {
            fs::path rotated = file_;
            rotated += "." + std::to_string(n);
            read_whole(rotated);
        }
    }
    struct stat st {};
    bool exists = stat(file_.c_str(), &st) == 0;
    if (fd_ >= 0) {
        read_appended();
        struct stat open_st {};
        bool truncated = fstat(fd_, &open_st) == 0 && open_st.st_size < offset_;
        if (!exists || st.st_ino != inode_ || truncated) {  // rotated away (or started afresh)
            close(fd_);
            fd_ = -1;
        }
    }
    if (fd_ < 0 && exists) {
        fd_ = open(file_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ >= 0) {
            struct stat open_st {};
            fstat(fd_, &open_st);
            inode_ = open_st.st_ino;
            offset_ = 0;
            partial_.clear();
            read_appended();
        }
    }

    while (!threats_.empty() && threats_.front().time_ms < now_ms - kThreatWindowMs) {
        threats_.pop_front();
        changed_ = true;
    }
    while (!incidents_.empty() && !incidents_.front().open && incidents_.front().last_ms < now_ms - kThreatWindowMs) {
        incidents_.pop_front();
        ++first_incident_;
        changed_ = true;
    }
    if (changed_ || !current_) {
        auto log = std::make_shared<ThreatLog>();
        log->recent.assign(threats_.begin(), threats_.end());
        log->incidents.assign(incidents_.begin(), incidents_.end());
        log->findings.assign(findings_.begin(), findings_.end());
        log->findings_by_detector = by_detector_;
        current_ = std::move(log);
        changed_ = false;
    }
    return current_;
}

}  // namespace warden::web
