#include "servers.h"

#include <netinet/in.h>

#include <algorithm>
#include <cmath>

#include "warden/abi.h"

namespace warden::replay {

using engine::Sample;

namespace {

constexpr size_t max_contacts = 512;  // as the controller's sampler lists at most
constexpr uint8_t tcp = IPPROTO_TCP, udp = IPPROTO_UDP;
constexpr uint8_t syn = WD_TCP_SYN, ack = WD_TCP_ACK, fin = WD_TCP_FIN, psh = 0x08;

bool has_ports(uint8_t proto) { return proto == tcp || proto == udp; }

// The gateway's LAN address (DNS and time go to it) and the server's own cloud host.
const net::IpAddr gateway = lan_address(1);
const net::IpAddr cloud = internet_address(60'000);

}  // namespace

// ---- the data plane's accounting ----

void FlowModel::add(const SimFrame& f, Sample& s) {
    bool up = !f.to_device;
    if (f.to_device) {
        s.bytes_down += f.bytes;
        ++s.frames_down;
        if (f.proto == tcp && (f.tcp_flags & (syn | ack)) == (syn | ack)) ++s.synack_received;
    } else if (f.lateral) {
        s.bytes_lateral += f.bytes;
        ++s.frames_lateral;
    } else {
        s.bytes_up += f.bytes;
        ++s.frames_up;
    }
    bool attempt = up && f.proto == tcp && (f.tcp_flags & (syn | ack)) == syn;
    if (attempt) ++s.syn_sent;
    if (up && f.peer_port == 53 && (f.proto == udp || attempt)) ++s.dns_queries;

    uint16_t id = has_ports(f.proto) ? 0 : f.icmp_type;  // ICMP: keyed by the message
    Key key{f.peer, f.proto, has_ports(f.proto) ? f.device_port : id, has_ports(f.proto) ? f.peer_port : id};
    if (!flows_.insert(key).second || f.to_device) return;  // known, or the peer's flow
    if (!wd_device_opened_flow(f.proto, 1, f.tcp_flags, f.icmp_type, f.device_port, f.peer_port)) return;
    ++s.new_flows;
    engine::Contact c{f.peer, has_ports(f.proto) ? f.peer_port : uint16_t(0), f.proto, f.lateral, attempt,
                      f.time_ms, f.bytes};
    if (s.contacts.size() < max_contacts)
        s.contacts.push_back(c);
    else
        ++s.contacts_dropped;
}

// ---- servers ----

std::string_view to_string(ServerKind k) {
    static constexpr std::string_view names[] = {"bridge", "hub", "forwarded"};
    return names[size_t(k)];
}

ServerSim::ServerSim(ServerKind kind, uint64_t seed, int64_t start_ms)
    : kind_(kind), rng_(seed ^ 0x5e7e7ull ^ (uint64_t(kind) << 40)), next_client_ms_(start_ms),
      next_own_ms_(start_ms) {
    mac_ = *net::Mac::parse("02:57:5e:00:00:01");
    mac_.bytes[4] = uint8_t(kind);
}

double ServerSim::uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); }

// One client connection as the server's link shows it: the client's SYN is not seen, so the
// first frame is the server's SYN+ACK (or, for a connection under way, a data segment);
// then the request, the response and the close.
void ServerSim::serve(int64_t t, const net::IpAddr& client, bool lateral, uint16_t server_port,
                      uint16_t client_port, bool under_way, std::vector<SimFrame>& out) {
    auto frame = [&](int64_t at, bool to_device, uint8_t flags, uint32_t bytes) {
        out.push_back({at, to_device, client, lateral, tcp, server_port, client_port, flags, 0, bytes});
    };
    if (!under_way) frame(t, false, syn | ack, 74);
    frame(t + 2, true, ack | psh, 400);  // the request
    frame(t + 5, false, ack | psh, 1400);
    frame(t + 6, false, ack | psh | fin, 900);
    frame(t + 8, true, ack | fin, 66);
}

// What the server does of its own accord: a DNS query a minute, a connection to its cloud
// host every five minutes, the time every hour.
void ServerSim::own_traffic(int64_t from, int64_t to, std::vector<SimFrame>& out) {
    while (next_own_ms_ < to) {
        int64_t t = next_own_ms_;
        if (t >= from) {
            uint16_t port = next_port_++;
            if (next_port_ >= 60000) next_port_ = 40000;
            out.push_back({t, false, gateway, false, udp, port, 53, 0, 0, 80});
            out.push_back({t + 3, true, gateway, false, udp, 53, port, 0, 0, 120});
            int64_t minute = (t / 60'000) % 60;
            if (minute % 5 == 0) {
                uint16_t cport = next_port_++;
                out.push_back({t + 10, false, cloud, false, tcp, cport, 443, syn, 0, 74});
                out.push_back({t + 40, true, cloud, false, tcp, 443, cport, syn | ack, 0, 74});
                out.push_back({t + 41, false, cloud, false, tcp, cport, 443, ack | psh, 0, 600});
                out.push_back({t + 80, true, cloud, false, tcp, 443, cport, ack | psh, 0, 900});
            }
            if (minute == 0) out.push_back({t + 20, false, gateway, false, udp, 123, 123, 0, 0, 90});
        }
        next_own_ms_ += 60'000;
    }
}

void ServerSim::frames(int64_t end_ms, double seconds, std::vector<SimFrame>& out) {
    const int64_t from = end_ms - int64_t(seconds * 1000);
    own_traffic(from, end_ms, out);
    if (kind_ == ServerKind::forwarded && !started_) {
        // Warden starts while 200 connections are under way: their next segments come first.
        for (int i = 0; i < 200; ++i)
            serve(from + i * 4, internet_address(80'000 + clients_++), false, 443,
                  uint16_t(uniform(49152, 65535)), true, out);
    }
    started_ = true;
    while (next_client_ms_ < end_ms) {
        int64_t t = next_client_ms_;
        switch (kind_) {
            case ServerKind::bridge: {
                // An app session: a phone (one of three) opens 10..30 connections in a second.
                uint8_t phone = uint8_t(40 + int(uniform(0, 3)));
                int connections = int(uniform(10, 31));
                uint16_t base = uint16_t(uniform(32768, 60000));
                for (int i = 0; i < connections; ++i)
                    serve(t + i * 40, lan_address(phone), true, 80, uint16_t(base + i), false, out);
                next_client_ms_ += int64_t(uniform(60'000, 600'000));
                break;
            }
            case ServerKind::hub:
                // Eight tablets, each polling every 5 s from a new port.
                for (int tablet = 0; tablet < 8; ++tablet)
                    serve(t + tablet * 600, lan_address(uint8_t(50 + tablet)), true, 8123,
                          uint16_t(uniform(32768, 60999)), false, out);
                next_client_ms_ += 5'000;
                break;
            case ServerKind::forwarded:
                serve(t, internet_address(80'000 + clients_++ % 20'000), false, 443,
                      uint16_t(uniform(49152, 65535)), false, out);
                next_client_ms_ += int64_t(std::max(1.0, -std::log(uniform(1e-9, 1)) * 500));
                break;
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const SimFrame& a, const SimFrame& b) { return a.time_ms < b.time_ms; });
}

// ---- a server's own scans ----

std::string_view to_string(ServerAttack a) {
    static constexpr std::string_view names[] = {"syn_scan", "fin_scan", "udp_scan", "telnet_sweep"};
    return names[size_t(a)];
}

engine::Detector expected_detector(ServerAttack a) {
    return a == ServerAttack::telnet_sweep ? engine::Detector::propagation : engine::Detector::port_scan;
}

void attack_frames(ServerAttack attack, int64_t start_ms, int64_t end_ms, double seconds,
                   std::vector<SimFrame>& out) {
    const int64_t from = std::max(start_ms, end_ms - int64_t(seconds * 1000));
    const net::IpAddr target = lan_address(60);
    // Probe i happens at start + 10 ms * i.
    for (int64_t i = (from - start_ms + 9) / 10; start_ms + i * 10 < end_ms; ++i) {
        int64_t t = start_ms + i * 10;
        uint16_t port = uint16_t(1 + i % 1024);
        switch (attack) {
            case ServerAttack::syn_scan:
                out.push_back({t, false, target, true, tcp, 41000, port, syn, 0, 74});
                break;
            case ServerAttack::fin_scan:
                out.push_back({t, false, target, true, tcp, 41001, port, fin, 0, 60});
                break;
            case ServerAttack::udp_scan:
                out.push_back({t, false, target, true, udp, 41002, port, 0, 0, 60});
                break;
            case ServerAttack::telnet_sweep:
                if (i % 5 == 0)
                    out.push_back({t, false, internet_address(100'000 + uint32_t(i / 5)), false, tcp,
                                   uint16_t(41003 + i % 7), 23, syn, 0, 74});
                break;
        }
    }
}

}  // namespace warden::replay
