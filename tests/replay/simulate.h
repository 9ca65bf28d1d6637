// Simulated home devices and attacks for the replay tests: seeded generators of the samples
// the controller would take from the data plane, tick by tick. Each device type has its
// daily rhythm (a camera uploads all day, a TV streams in the evening, a laptop works
// office hours and browses), noise, and its special days (a firmware update, a laptop's
// heavy day). Attacks add what a compromised device would send on top of its normal traffic.
// Addresses are from the benchmarking range 198.18.0.0/15 (nothing is sent anywhere).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "engine/config.h"
#include "engine/sample.h"
#include "net/address.h"

namespace warden::replay {

using Rng = std::mt19937_64;

enum class Kind : uint8_t { camera, speaker, tv, plug, laptop, phone };
inline constexpr std::array<Kind, 6> all_kinds{Kind::camera, Kind::speaker, Kind::tv,
                                               Kind::plug,   Kind::laptop,  Kind::phone};
std::string_view to_string(Kind);  // the device type name: "camera", ...

// 198.18.0.0 + n, for internet hosts (n below 130,000); the LAN is 198.19.255.0/24.
net::IpAddr internet_address(uint32_t n);
net::IpAddr lan_address(uint8_t host);

// Monday 2024-01-01 00:00 UTC: simulated weeks start here (the engine's hours are UTC).
inline constexpr int64_t week_start_ms = 1'704'067'200'000;
inline constexpr int64_t hour_ms = 3'600'000;
inline constexpr int64_t day_ms = 24 * hour_ms;

// The special days of a simulated week (days counted from week_start_ms).
struct Calendar {
    int firmware_day = 2;  // IoT devices update their firmware that night, around 03:00
    int heavy_day = 3;     // the laptop's heavy day: twice the browsing, a game download
};

class DeviceSim {
public:
    // `home` tells homes apart in the MAC: 02:57:<home>:<kind>:<index, 2 bytes>.
    DeviceSim(Kind kind, int index, uint64_t seed, Calendar calendar = {}, uint8_t home = 0x44);

    Kind kind() const { return kind_; }
    const net::Mac& mac() const { return mac_; }
    net::IpAddr lan() const { return lan_address(lan_host_); }

    // The device's benign activity during (end_ms - seconds, end_ms].
    engine::Sample tick(int64_t end_ms, double seconds);

private:
    enum class Event : uint8_t {
        heartbeat, reconnect, ntp, motion, music, voice, stream, telemetry, beacon, page,
        call, download, sync_upload, ssh, printer, nas_backup, app_session, refresh,
        photo_backup, cast, firmware, game
    };
    struct Timer {
        Event event;
        int64_t next_ms;
    };
    struct Transfer {
        int64_t start_ms, end_ms;
        double up_per_s, down_per_s;  // bytes
        bool lateral;
        net::IpAddr peer;
    };

    void schedule(Event e, int64_t first_ms);
    int64_t fire(Event e, int64_t t, engine::Sample& s);  // returns the next time
    double activity(int64_t t) const;                     // 0..1: how awake the device is
    bool heavy(int64_t t) const;
    void connect(engine::Sample& s, int64_t t, const net::IpAddr& peer, uint16_t port,
                 uint8_t proto, bool lateral = false, uint32_t first_frame = 74);
    // With the far end of the connection opened last, unless `peer` says otherwise.
    void transfer(int64_t start, double seconds, double up_per_s, double down_per_s,
                  bool lateral = false, std::optional<net::IpAddr> peer = std::nullopt);
    net::IpAddr popular_host();  // a site from the shared Zipf-weighted pool
    net::IpAddr fresh_host();    // an address never used before
    double uniform(double a, double b);
    double exponential(double mean);
    bool chance(double p);

    Kind kind_;
    int index_;
    Rng rng_;
    Calendar calendar_;
    net::Mac mac_;
    uint8_t lan_host_;
    uint32_t host_base_;  // this device's own cloud hosts start here
    std::vector<Timer> timers_;
    std::vector<Transfer> transfers_;
    int persistent_flows_ = 0;
    uint32_t fresh_counter_ = 0;
    net::IpAddr last_peer_;
};

// ---- attacks ----

enum class AttackKind : uint8_t {
    vertical_scan,     // 100 ports a second on one new host
    horizontal_scan,   // port 80 or 8080 on 50 new addresses a second
    propagation,       // Mirai-like: 20 addresses a second on 23, 2323, 22
    flood,             // 30,000 small frames a second to one target
    exfiltration,      // 8 MB/s upload to a new host
    lateral,           // 3 LAN devices a second on 22, 23, 80, 445
    beaconing,         // a new host every 20..60 s (2 % jitter)
    blocklist,         // a frame to a blocklisted address every 3 s
    new_destinations,  // 5 new addresses a second, answered (a proxy bot)
    // Low and slow: each stays under every 10 s threshold; only what accumulates shows it.
    slow_vertical_scan,  // 1 port a second on one new host
    slow_sweep,          // telnet/SSH: one new address every 5 s
    upload_to_new,       // 100 MB at 2-3 MB/s to a host the device never contacted
    slow_beacon,         // a new host every 60 s
    // Slower still: under the 10 min horizon's floor too; only the hour shows it.
    slower_vertical_scan,  // 1 port every 20 s on one new host
};
inline constexpr std::array<AttackKind, 14> all_attacks{
    AttackKind::vertical_scan,      AttackKind::horizontal_scan, AttackKind::propagation,
    AttackKind::flood,              AttackKind::exfiltration,    AttackKind::lateral,
    AttackKind::beaconing,          AttackKind::blocklist,       AttackKind::new_destinations,
    AttackKind::slow_vertical_scan, AttackKind::slow_sweep,      AttackKind::upload_to_new,
    AttackKind::slow_beacon,        AttackKind::slower_vertical_scan};
std::string_view to_string(AttackKind);
engine::Detector expected_detector(AttackKind);
// 10 s; beaconing 5 min; new destinations 60 s; the slow ones: vertical scan and upload 2 min,
// sweep 5 min, beacon 10 min; the slower scan (over the hour) 1 h.
int64_t detection_deadline_ms(AttackKind);
int64_t attack_duration_ms(AttackKind);

class Attack {
public:
    Attack(AttackKind kind, int64_t start_ms, uint64_t seed);
    AttackKind kind() const { return kind_; }
    int64_t start_ms() const { return start_ms_; }
    int64_t end_ms() const { return start_ms_ + attack_duration_ms(kind_); }
    // Adds the attack's traffic during (end_ms - seconds, end_ms] to a benign sample.
    void add(engine::Sample& s, int64_t end_ms, double seconds);

private:
    AttackKind kind_;
    int64_t start_ms_;
    Rng rng_;
    uint32_t next_index_ = 0;
    int64_t next_beacon_ms_;
    double beacon_period_ms_;
    net::IpAddr target_;
    uint16_t scan_port_ = 80;
    double upload_rate_ = 0;  // upload_to_new: bytes a second
    double uploaded_ = 0;
};

}  // namespace warden::replay
