// Simulated servers for the replay tests, described frame by frame. The devices of
// simulate.h are described by what the data plane reports (samples); what it reports for a
// server depends on which of its frames open a flow, so servers send frames, and FlowModel
// turns them into samples the way the data plane does.
#pragma once

#include <cstdint>
#include <set>
#include <string_view>
#include <tuple>
#include <vector>

#include "engine/sample.h"
#include "simulate.h"

namespace warden::replay {

// One frame on the device's link, sent by the device or to it.
struct SimFrame {
    int64_t time_ms = 0;
    bool to_device = false;  // sent to the device (lan_egress sees it) rather than by it
    net::IpAddr peer;
    bool lateral = false;    // the peer is a LAN device
    uint8_t proto = 0;       // IPPROTO_*
    uint16_t device_port = 0, peer_port = 0;  // ICMP: 0
    uint8_t tcp_flags = 0;
    uint8_t icmp_type = 0;
    uint32_t bytes = 66;
};

// The data plane's accounting of one device's frames: a flow table keyed from the device's
// side. A flow whose first frame went to the device was the peer's; one whose first frame
// the device sent counts as a flow it opened (new_flows, a contact) when
// wd_device_opened_flow says that frame opens it: the rule the kernel programs apply, from
// the same header (include/warden/abi.h). SYNs, SYN+ACKs and DNS queries are counted as
// lan_ingress and lan_egress count them.
class FlowModel {
public:
    void add(const SimFrame& frame, engine::Sample& s);

private:
    using Key = std::tuple<net::IpAddr, uint8_t, uint16_t, uint16_t>;
    std::set<Key> flows_;
};

enum class ServerKind : uint8_t {
    bridge,     // a lighting bridge serving its app over HTTP: bursts of 10..30 connections
                // from a phone's ephemeral ports to port 80, the app's side unseen
    hub,        // a home-automation hub (port 8123) polled by 8 wall tablets every 5 s
    forwarded,  // a web server forwarded from the WAN: internet clients, ~2 a second, each
                // from an address of its own; their SYNs unseen, and 200 connections under
                // way when the simulation starts (warden just started)
};
inline constexpr ServerKind all_servers[] = {ServerKind::bridge, ServerKind::hub, ServerKind::forwarded};
std::string_view to_string(ServerKind);

class ServerSim {
public:
    ServerSim(ServerKind kind, uint64_t seed, int64_t start_ms);
    ServerKind kind() const { return kind_; }
    const net::Mac& mac() const { return mac_; }

    // The server's frames during (end_ms - seconds, end_ms]: its clients' connections and
    // its own traffic (DNS, time, its cloud host).
    void frames(int64_t end_ms, double seconds, std::vector<SimFrame>& out);

private:
    void serve(int64_t t, const net::IpAddr& client, bool lateral, uint16_t server_port,
               uint16_t client_port, bool under_way, std::vector<SimFrame>& out);
    void own_traffic(int64_t from, int64_t to, std::vector<SimFrame>& out);
    double uniform(double a, double b);

    ServerKind kind_;
    Rng rng_;
    net::Mac mac_;
    int64_t next_client_ms_;
    int64_t next_own_ms_;
    uint32_t clients_ = 0;
    uint16_t next_port_ = 40000;
    bool started_ = false;
};

// Scans a compromised server could run, as frames (about 100 probes a second).
enum class ServerAttack : uint8_t {
    syn_scan,       // SYN to ports 1.. of one LAN host: port_scan
    fin_scan,       // FIN, no SYN, from one client port to ports 1.. of one host: port_scan
    udp_scan,       // UDP from a client port to ports 1.. of one host: port_scan
    telnet_sweep,   // SYN to port 23 of 20 new internet addresses a second: propagation
};
inline constexpr ServerAttack all_server_attacks[] = {ServerAttack::syn_scan, ServerAttack::fin_scan,
                                                      ServerAttack::udp_scan, ServerAttack::telnet_sweep};
std::string_view to_string(ServerAttack);
engine::Detector expected_detector(ServerAttack);
void attack_frames(ServerAttack attack, int64_t start_ms, int64_t end_ms, double seconds,
                   std::vector<SimFrame>& out);

}  // namespace warden::replay
