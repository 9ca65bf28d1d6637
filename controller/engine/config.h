// What the behaviour engine looks for and what it does about it: the `detectors:` section of
// the policy, with its defaults. Plain values; the policy loader checks and fills them, and
// config/policy.yaml and docs/DETECTION.md explain each one.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::engine {

using std::chrono::milliseconds;

enum class Detector : uint8_t {
    port_scan,         // many ports on one host, or one port on many hosts, mostly unanswered
    propagation,       // Mirai-like: many hosts on telnet/SSH ports
    flood,             // frames sent far beyond those received: DDoS participation
    exfiltration,      // upload far above the device's normal
    new_destinations,  // a burst of addresses the device never contacted before
    blocklist,         // frames to blocklisted addresses
    lateral,           // contacting many other devices on the LAN
    beaconing,         // regular connections to a destination new to the device
    upload_to_new,     // upload to destinations the device never used, over 10 min and 1 h
};
inline constexpr size_t detector_count = 9;
inline constexpr std::array<Detector, detector_count> all_detectors{
    Detector::port_scan,        Detector::propagation, Detector::flood,
    Detector::exfiltration,     Detector::new_destinations, Detector::blocklist,
    Detector::lateral,          Detector::beaconing,   Detector::upload_to_new};

// As written in the policy and the events log: "port_scan", "propagation", ...
std::string_view to_string(Detector);
std::optional<Detector> parse_detector(std::string_view);

enum class Action : uint8_t { alert, restricted, isolate };
std::string_view to_string(Action);
std::optional<Action> parse_action(std::string_view);

// What a detector's finding leads to.
struct Response {
    bool enabled = true;
    Action action = Action::alert;
    // How long a quarantine lasts before escalation; nullopt: until released. Unused for
    // alerts.
    std::optional<milliseconds> duration = milliseconds(3'600'000);
    bool operator==(const Response&) const = default;
};

// Thresholds are max(floor, factor x the device's normal): the floor keeps a quiet device
// from tripping on a little activity, the factor lets a busy device be busy. "Normal" is the
// 99th percentile of the feature in the device's own history at this hour (after the
// learning period), else its type's profile, else a conservative default.
//
// The `_10m` and `_1h` floors judge evidence that accumulates over those horizons (see
// engine/horizons.h): behaviour kept under every 10 s threshold still adds up. Their
// distinct counts come from sketches with a 13 % standard error, so a floor is reached
// somewhere between 0.75 and 1.3 times its value (three standard errors either way).

struct PortScan {
    Response response{true, Action::isolate};
    uint32_t ports_per_host = 24;    // distinct ports on one host in 10 s (vertical)
    uint32_t hosts_per_port = 24;    // distinct hosts on one port in 10 s (horizontal)
    double unanswered_share = 0.5;   // horizontal: share of those attempts left unanswered
    uint32_t ports_per_host_10m = 40;   // distinct ports on one host over 10 min
    uint32_t ports_per_host_1h = 100;   // ... over 1 h
    uint32_t unanswered_10m = 300;      // connection attempts left unanswered over 10 min
    uint32_t unanswered_1h = 1'200;     // ... over 1 h
    double factor = 3;
    bool operator==(const PortScan&) const = default;
};

struct Propagation {
    Response response{true, Action::isolate};
    std::vector<uint16_t> ports{22, 23, 2323};  // telnet and SSH, where Mirai and kin spread
    uint32_t hosts = 5;                         // distinct hosts on those ports in 10 s
    uint32_t hosts_10m = 12;                    // ... over 10 min
    uint32_t hosts_1h = 30;                     // ... over 1 h
    double factor = 3;
    bool operator==(const Propagation&) const = default;
};

struct Flood {
    Response response{true, Action::isolate};
    // Small frames per second sent beyond those received (over 10 s): frames sent, minus
    // frames received, minus the full-size frames the bytes sent fill. A download's ACKs
    // and an upload's data are answered; a flood of small frames is not. (A flood of
    // full-size frames is an abnormal upload: the exfiltration detector's.)
    uint64_t frames_per_second = 5'000;
    double factor = 10;
    bool operator==(const Flood&) const = default;
};

struct Exfiltration {
    Response response{true, Action::restricted};
    // Upload to the internet over 10 s, beyond 1/20 of the download (which its ACKs take).
    uint64_t bytes_per_second = 1 << 20;
    double factor = 4;
    bool operator==(const Exfiltration&) const = default;
};

struct NewDestinations {
    Response response{true, Action::alert};
    uint32_t per_minute = 60;  // addresses never contacted before, in 60 s
    double factor = 4;
    bool operator==(const NewDestinations&) const = default;
};

struct BlocklistHits {
    Response response{true, Action::alert};
    uint32_t hits = 1;  // frames to blocklisted addresses in 10 s
    bool operator==(const BlocklistHits&) const = default;
};

struct Lateral {
    Response response{true, Action::isolate};
    uint32_t peers = 6;  // distinct LAN devices contacted in 10 s
    double factor = 3;
    bool operator==(const Lateral&) const = default;
};

struct Beaconing {
    Response response{true, Action::alert};
    uint32_t repeats = 4;  // regular intervals in a row
    double jitter = 0.2;   // largest deviation of an interval from their mean, as a share
    milliseconds min_interval{5'000};
    milliseconds max_interval{600'000};
    bool operator==(const Beaconing&) const = default;
};

struct UploadToNew {
    Response response{true, Action::restricted};
    // Bytes sent to destinations the device had never contacted (new for an hour after its
    // first connection to them; those met in its first 10 minutes are its own), beyond the
    // acknowledgements of what they sent back. Upload to its usual destinations is the
    // exfiltration detector's.
    uint64_t bytes_per_minute = 64ull << 20;  // over 60 s: about 1.1 MB/s for a minute
    uint64_t bytes_1h = 2ull << 30;           // over 1 h: about 600 kB/s for an hour
    double factor = 4;
    bool operator==(const UploadToNew&) const = default;
};

struct Escalation {
    milliseconds window{86'400'000};  // a finding this soon after an earlier one escalates
    double factor = 4;                // each repeat multiplies the duration
    uint32_t isolate_after = 3;       // the Nth quarantine in the window isolates
    milliseconds max_duration{7 * 86'400'000ll};
    bool operator==(const Escalation&) const = default;
};

struct Config {
    milliseconds learning_period{86'400'000};  // before a device's own history is trusted
    milliseconds cooldown{600'000};            // a detector's silence on a device after a finding
    milliseconds forget_after{30 * 86'400'000ll};  // a device unseen this long is forgotten
    uint32_t known_destinations = 4'096;           // remembered per device (most recent)
    Escalation escalation;
    // Device types whose findings stay alerts (never quarantined automatically).
    std::vector<std::string> never_quarantine;
    PortScan port_scan;
    Propagation propagation;
    Flood flood;
    Exfiltration exfiltration;
    NewDestinations new_destinations;
    BlocklistHits blocklist;
    Lateral lateral;
    Beaconing beaconing;
    UploadToNew upload_to_new;

    bool operator==(const Config&) const = default;
    const Response& response(Detector) const;
    Response& response(Detector);
};

// Bounds the policy loader enforces (documented in config/policy.yaml).
inline constexpr milliseconds learning_period_min{60'000};
inline constexpr milliseconds learning_period_max{90 * 86'400'000ll};
inline constexpr uint32_t known_destinations_min = 64;
inline constexpr uint32_t known_destinations_max = 65'536;

}  // namespace warden::engine
