// Evidence that accumulates over the long horizons (10 min and 1 h) in bounded memory, so
// that behaviour kept below every 10 s threshold still adds up: the most distinct ports tried
// on one host, the distinct addresses tried on the propagation ports, connection attempts
// left unanswered, and bytes uploaded to destinations new to the device (with the one that
// took the most, for the evidence; which destinations are new is decided here, for the
// minute's window as well).
//
// Each horizon is two halves: the open one and the one before it, so a value covers between
// half the horizon and all of it (never less than the last half, which is what a slow
// attack under way fills). Distinct counts are HyperLogLog sketches of 64 one-byte
// registers: a standard error of 1.04/sqrt(64) = 13 % (the small-range estimate, which
// counts empty registers, does better below a hundred). Memory does not grow with traffic: about
// 1.7 kB a device whatever it does.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "engine/features.h"
#include "net/address.h"

namespace warden::engine {

// A HyperLogLog distinct counter: 64 registers of one byte (64 bytes).
class DistinctCount {
public:
    static constexpr size_t registers = 64;
    // Returns true when a register rose (the count may have grown).
    bool add(uint64_t hash);
    void merge(const DistinctCount& other);
    double estimate() const;
    bool empty() const;

private:
    std::array<uint8_t, registers> rank_{};
};

// A well-mixed 64-bit hash of a 64-bit key (splitmix64's finaliser).
uint64_t mix64(uint64_t key);

inline constexpr std::array<Window, 2> long_windows{Window::m10, Window::h1};

// What the long horizons say now, for one window (Window::m10 or Window::h1).
struct HorizonFeatures {
    FeatureVector values;  // ports_per_host, remote_access_hosts, unanswered_syns,
                           // new_destination_upload (bytes; the 1 h horizon's is judged, the
                           // minute's comes from Windows); the rest 0
    net::IpAddr busiest_host;       // the host with the most ports
    net::IpAddr top_new_peer;       // the new destination that took the most upload
    double top_new_bytes = 0;       // and how much (over its whole time as new)
};

class Horizons {
public:
    // How long a destination stays "new" after the device first contacted it.
    static constexpr int64_t new_for_ms = 3'600'000;
    static constexpr size_t host_slots = 3;     // hosts followed for their ports, a half
    static constexpr size_t ledger_slots = 6;   // new destinations followed for their upload

    // A connection the device opened; `fresh`: its address was not in the device's history,
    // `own`: still one of the device's own (met in its first minutes), not counted as new.
    void contact(const LoggedContact& c, std::span<const uint16_t> remote_access_ports,
                 bool fresh, bool own);
    // Connection attempts left unanswered this tick (SYNs sent minus SYN+ACKs received; may
    // be negative when answers arrive a tick late).
    void attempts(double unanswered, int64_t now_ms);
    // Bytes exchanged with one far end this tick; counted when that end is new (in the
    // ledger, or `unknown` to the device's history) and beyond the ACKs of what it received.
    // Returns the bytes that counted as upload to a new destination.
    double bytes_with(const net::IpAddr& peer, uint32_t fingerprint, double up, double down,
                    bool unknown, bool own, int64_t now_ms);
    // Moves the halves on; call before reading, at every tick.
    void advance(int64_t now_ms);
    void features(Window w, HorizonFeatures& out) const;
    bool empty() const;
    // An operator said what was counted was normal (a false positive): the evidence so far
    // goes, so that the behaviour it showed is judged afresh against the raised threshold
    // rather than stay over it for up to an hour. The ledger of new destinations stays.
    void forget_evidence();

private:
    struct HostPorts {
        uint32_t fingerprint = 0;  // 0: free
        net::IpAddr peer;
        uint32_t raised = 0;  // adds that raised a register: a cheap order for eviction
        DistinctCount ports;
    };
    struct Half {
        int64_t start_ms = 0;
        DistinctCount remote_access;
        std::array<HostPorts, host_slots> hosts{};
        double unanswered = 0;
        double new_upload = 0;
        void clear(int64_t start) { *this = Half{}; start_ms = start; }
        void note_port(const LoggedContact& c);
    };
    struct Horizon {
        std::array<Half, 2> halves{};  // [0] the open one
        int64_t half_ms = 0;
    };
    struct NewPeer {
        uint32_t fingerprint = 0;  // 0: free
        net::IpAddr peer;
        int64_t first_ms = 0;
        double bytes = 0;
    };
    NewPeer* ledger_entry(uint32_t fingerprint);
    void ledger_add(const net::IpAddr& peer, uint32_t fingerprint, int64_t now_ms);

    std::array<Horizon, long_windows.size()> horizons_{
        {{{}, window_ms(Window::m10) / 2}, {{}, window_ms(Window::h1) / 2}}};
    std::array<NewPeer, ledger_slots> ledger_{};
};

}  // namespace warden::engine
