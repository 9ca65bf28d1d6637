// Features of one device over a window of 10 s or 60 s, built from its per-tick samples:
// rates, counts of flows and attempts, and the shape of its new connections (how many
// addresses, ports, LAN peers; the most ports tried on one host, the most hosts tried on one
// port). The detectors compare these with the device's normal.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/sample.h"
#include "net/address.h"

namespace warden::engine {

enum class Feature : uint8_t {
    // per second
    bytes_up,
    frames_up,
    bytes_down,
    frames_down,
    excess_frames,  // small frames sent beyond those received (see Windows), >= 0
    upload_ratio,   // bytes up / bytes down (bytes down counted as at least 1 kB/s)
    upload,         // bytes up beyond 1/20 of bytes down (a download's ACKs), >= 0
    // per window
    new_flows,
    active_flows,     // mean number of flows with traffic in a tick
    unanswered_syns,  // TCP SYNs sent minus SYN+ACKs received, >= 0
    dns_queries,
    blocklist_hits,
    // from the window's new connections
    destinations,           // distinct addresses
    ports,                  // distinct destination ports
    lan_peers,              // distinct LAN devices
    new_destinations,       // addresses never contacted before (see KnownSet)
    new_destination_share,  // new_destinations / connections, 0..1
    ports_per_host,         // the most distinct ports on one address
    hosts_per_port,         // the most distinct addresses on one port
    remote_access_hosts,    // distinct addresses on the propagation ports (telnet, SSH)
    new_destination_upload,  // bytes (not per second) sent to destinations new to the device
};
inline constexpr size_t feature_count = 21;
std::string_view to_string(Feature);

// The short windows are exact (Windows, below); the long horizons accumulate in sketches
// (engine/horizons.h).
enum class Window : uint8_t { s10, s60, m10, h1 };
inline constexpr size_t window_count = 4;
inline constexpr int64_t window_ms(Window w) {
    switch (w) {
        case Window::s10: return 10'000;
        case Window::s60: return 60'000;
        case Window::m10: return 600'000;
        case Window::h1: return 3'600'000;
    }
    return 10'000;
}
std::string_view to_string(Window);  // "10s", "60s", "10m", "1h"

struct FeatureVector {
    std::array<double, feature_count> values{};
    double operator[](Feature f) const { return values[size_t(f)]; }
    double& operator[](Feature f) { return values[size_t(f)]; }
};

// What a window's numbers refer to, for a finding's evidence.
struct WindowFeatures {
    FeatureVector values;
    net::IpAddr busiest_host;      // the address with the most ports (ports_per_host)
    uint16_t busiest_port = 0;     // the port with the most addresses (hosts_per_port)
    uint64_t connections = 0;      // new connections listed in the window
    bool truncated = false;        // the data plane listed fewer connections than it saw
};

// Sums of a sample's counters over some ticks. Doubles: they hold exact integers far past
// any window's totals, and a share of a block can be taken.
struct Counters {
    double ms = 0;  // time covered by the ticks
    double bytes_up = 0, frames_up = 0, bytes_down = 0, frames_down = 0;
    double bytes_lateral = 0, frames_lateral = 0;
    double new_flows = 0, active_flow_ms = 0, syn_sent = 0, synack_received = 0;
    double dns_queries = 0, blocklist_hits = 0;
    double contacts_dropped = 0;
    double new_destination_upload = 0;  // bytes to destinations new to the device

    void add(const Sample& tick);
    // Nothing counted but time and active flows.
    bool only_time() const;
    void add(const Counters& other, double share = 1.0);
};

// A new connection, as remembered for the window (32 bytes).
struct LoggedContact {
    net::IpAddr peer;
    int64_t time_ms = 0;
    uint32_t fingerprint = 0;  // of peer
    uint16_t port = 0;
    uint8_t proto = 0;
    uint8_t flags = 0;
    static constexpr uint8_t lateral = 1, syn = 2, new_destination = 4;
};

// The last 60 s of one device: the current 10 s block, the six before it, and the new
// connections. Blocks end every 10 s of the sample clock, at the device's own phase (so
// the devices of a gateway do not all close a block in the same tick); a tick belongs to
// the block its end falls in, and a tick longer than a block fills one block by itself.
class Windows {
public:
    explicit Windows(int64_t phase_ms = 0) : phase_ms_(phase_ms) {}

    // Adds the tick's counters; returns true when the tick closed a 10 s block.
    bool add_tick(const Sample& tick);
    // Remembers a connection (call in time order, before add_tick of the same tick).
    void log(const LoggedContact& contact);
    // Bytes sent to destinations new to the device (engine/horizons.h decides), this tick.
    void add_new_destination_upload(double bytes) { current_.new_destination_upload += bytes; }
    // The same over the last 50 to 60 s (the open block and the closed ones of the last 50 s),
    // at any tick.
    double new_destination_upload_60s(int64_t now_ms) const;
    // Drops what is older than 60 s before now.
    void expire(int64_t now_ms);

    // The last 10 s (features at any tick). The counters of the block before the current
    // one are taken in proportion to the part of it inside the window.
    void last_10s(int64_t now_ms, std::span<const uint16_t> remote_access_ports,
                  WindowFeatures& out) const;
    // The last 60 s (six closed blocks); meaningful right after a block closed.
    void last_60s(int64_t now_ms, std::span<const uint16_t> remote_access_ports,
                  WindowFeatures& out) const;

    // New destinations among the connections of the last 60 s (kept up to date as
    // connections come and go).
    uint64_t new_destinations_60s() const { return new_in_log_; }
    int64_t block_end_ms() const { return block_end_ms_; }

    // Nothing but time (and the flows held open) in the open block and in the newest closed
    // one, and no connection logged: until the open block closes, ticks that add nothing
    // else leave every feature of the last 10 s at zero except active_flows.
    bool quiet() const;
    // The open block's time and active-flow time. While the device stays quiet the engine
    // keeps adding ticks to copies of these in its compact per-device state (the same
    // additions in the same order, so the sums are the same bits) and puts them back here
    // before anything else reads the windows.
    double open_ms() const { return current_.ms; }
    double open_active_flow_ms() const { return current_.active_flow_ms; }
    void set_open_time(double ms, double active_flow_ms) {
        current_.ms = ms;
        current_.active_flow_ms = active_flow_ms;
    }
    size_t heap_bytes() const;

    // Connections kept at most (a scan adds thousands; the oldest go first).
    static constexpr size_t max_logged = 8'192;

private:
    static void counter_features(const Counters& c, Window w, FeatureVector& out);
    static void contact_features(std::span<const LoggedContact> contacts,
                                 std::span<const uint16_t> remote_access_ports,
                                 WindowFeatures& out);
    std::span<const LoggedContact> since(int64_t from_ms) const;
    void drop_front(size_t n);

    Counters current_;                 // the open block
    std::array<Counters, 6> closed_;   // the last six closed blocks, ring
    std::array<int64_t, 6> closed_end_ms_{};  // when each closed
    size_t newest_closed_ = 0;         // index of the newest in closed_
    int64_t phase_ms_;                 // blocks end at phase + multiples of 10 s
    int64_t block_end_ms_ = 0;         // 0 until the first tick
    std::vector<LoggedContact> log_;   // ascending time from head_
    size_t head_ = 0;
    uint64_t new_in_log_ = 0;
};

}  // namespace warden::engine
