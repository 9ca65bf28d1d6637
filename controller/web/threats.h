// Follows the events log as `warden run` and operator commands append to it, and keeps what
// the status page and the metrics need from it: the threats of the last week (blocked
// traffic, blocklist hits, findings, quarantines) and every finding counted by detector.
// Reads only what was appended since the last call, and follows the file through rotation.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "web/snapshot.h"

namespace warden::web {

inline constexpr int64_t kThreatWindowMs = 8 * 86'400'000ll;  // a week, plus today
inline constexpr size_t kMaxThreats = 5'000;
inline constexpr size_t kMaxFindings = 1'000;
inline constexpr size_t kMaxIncidents = 1'000;
// Alerts and blocklist hits of one device this close together are one incident.
inline constexpr int64_t kIncidentGapMs = 3'600'000;

// The threat an event describes, or nullopt for events that are none (starts, new devices).
std::optional<Threat> threat_of(const nlohmann::json& event);

class ThreatTracker {
public:
    // keep: how many rotated files the log keeps (read once, at the first refresh).
    ThreatTracker(std::filesystem::path events_file, int keep);
    ~ThreatTracker();
    ThreatTracker(const ThreatTracker&) = delete;
    ThreatTracker& operator=(const ThreatTracker&) = delete;

    // Reads what was appended; returns the log, a new object only when something changed.
    std::shared_ptr<const ThreatLog> refresh(int64_t now_ms);

private:
    void read_whole(const std::filesystem::path& file);
    void read_appended();
    void take_line(const std::string& line);
    void take(const nlohmann::json& event);
    void take_incident(const nlohmann::json& event, const Threat& threat);
    Incident* open_incident(const net::Mac& mac);
    Incident& start_incident(Incident incident);

    std::filesystem::path file_;
    int keep_;
    bool started_ = false;
    int fd_ = -1;
    ino_t inode_ = 0;
    off_t offset_ = 0;
    std::string partial_;  // a line whose end has not been written yet
    std::deque<Threat> threats_;
    std::deque<nlohmann::json> findings_;
    std::map<std::string, uint64_t> by_detector_;
    std::deque<Incident> incidents_;
    uint64_t first_incident_ = 0;           // the number of incidents_.front()
    std::map<net::Mac, uint64_t> latest_;   // a device's latest incident, by number
    std::map<net::Mac, nlohmann::json> explaining_;  // a finding whose quarantine follows
    bool changed_ = true;
    std::shared_ptr<const ThreatLog> current_;
};

}  // namespace warden::web
