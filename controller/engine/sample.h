// What one device did during one tick (one poll interval), as the controller measures it
// from the data plane: counters, and a bounded sample of the new connections it opened. The
// behaviour engine consumes only these plain values (no kernel, no clock of its own), so it
// is tested by replaying streams of samples.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/address.h"

namespace warden::engine {

// A connection the device opened during the tick (its first frame), from the data plane's
// new-flow events.
struct Contact {
    net::IpAddr peer;       // the far end (IPv4 as v4-mapped)
    uint16_t port = 0;      // the far end's port; 0 when the protocol has none
    uint8_t proto = 0;      // IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, ...
    bool lateral = false;   // to another device on the LAN, not through the gateway
    bool syn = false;       // a TCP SYN without ACK (a connection attempt)
    int64_t time_ms = 0;    // when (unix ms); within the tick
    uint32_t bytes = 0;     // size of the first frame
};

// What the device exchanged with one far end on the internet during the tick (from the
// data plane's flow records), for the ends it sent the most to.
struct PeerBytes {
    net::IpAddr peer;
    uint64_t bytes_up = 0;    // sent by the device
    uint64_t bytes_down = 0;  // sent to it
};

struct Sample {
    int64_t time_ms = 0;   // end of the tick, unix ms: the engine's only clock
    double seconds = 1.0;  // length of the tick
    // Counters over the tick (frames on the wire, headers included).
    uint64_t bytes_up = 0, frames_up = 0;            // to the gateway (the internet)
    uint64_t bytes_down = 0, frames_down = 0;        // to the device
    uint64_t bytes_lateral = 0, frames_lateral = 0;  // to other LAN devices
    uint64_t new_flows = 0;        // exact; contacts may hold fewer (see contacts_dropped)
    uint64_t active_flows = 0;     // flows with traffic in the tick
    uint64_t syn_sent = 0;         // TCP SYN without ACK sent
    uint64_t synack_received = 0;  // TCP SYN+ACK received: answered attempts
    uint64_t dns_queries = 0;
    uint64_t blocklist_hits = 0;   // frames to blocklisted addresses (dropped)
    std::vector<Contact> contacts;  // the tick's new connections, at most a bounded number
    uint64_t contacts_dropped = 0;  // new connections beyond that bound (counted, not listed)
    // Bytes by far end, at most a bounded number of ends (those the device sent the most
    // to); may cover a longer time than the tick (the flow table is read in passes).
    std::vector<PeerBytes> peer_bytes;
};

}  // namespace warden::engine
