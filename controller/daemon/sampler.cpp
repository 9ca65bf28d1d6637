#include "daemon/sampler.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace warden::daemon {

void Sampler::on_new_flow(const wd_event_flow& e, int64_t time_ms) {
    auto& p = pending_[dataplane::mac_of(e.hdr.mac)];
    if (p.contacts.size() >= max_contacts_) {
        ++p.dropped;
        return;
    }
    engine::Contact c;
    std::memcpy(c.peer.bytes.data(), e.hdr.addr, 16);
    // Only TCP and UDP have ports; the data plane keys ICMP flows by the echo identifier
    // or the message type, which are not ports a scan could try.
    bool has_ports = e.proto == IPPROTO_TCP || e.proto == IPPROTO_UDP;
    c.port = has_ports ? ntohs(e.dport) : 0;
    c.proto = e.proto;
    c.lateral = e.lateral != 0;
    c.syn = e.proto == IPPROTO_TCP && (e.tcp_flags & (WD_TCP_SYN | WD_TCP_ACK)) == WD_TCP_SYN;
    c.time_ms = time_ms;
    c.bytes = e.hdr.frame_len;
    p.contacts.push_back(c);
}

void Sampler::on_peer_bytes(const net::Mac& device, const engine::PeerBytes& bytes) {
    auto& list = pending_[device].peer_bytes;
    if (list.size() < max_peers) {
        list.push_back(bytes);
        return;
    }
    auto least = std::min_element(list.begin(), list.end(), [](const auto& a, const auto& b) {
        return a.bytes_up < b.bytes_up;
    });
    if (least->bytes_up < bytes.bytes_up) *least = bytes;
}

std::vector<std::pair<net::Mac, engine::Sample>> Sampler::tick(
    const std::vector<dataplane::DeviceCounters>& counters, const std::map<net::Mac, uint64_t>& active_flows,
    int64_t now_ms) {
    std::vector<std::pair<net::Mac, engine::Sample>> out;
    double seconds = last_ms_ ? (now_ms - last_ms_) / 1000.0 : 0;
    std::map<net::Mac, dataplane::DeviceCounters> now;
    for (const auto& d : counters) {
        now[d.mac] = d;
        auto prev = last_.find(d.mac);
        if (prev == last_.end() || seconds <= 0) continue;
        const auto& b = prev->second;
        // Every counter only grows; a smaller one means the entry was evicted and made anew.
        if (d.up.bytes < b.up.bytes || d.down.bytes < b.down.bytes || d.lateral.bytes < b.lateral.bytes ||
            d.flows_new < b.flows_new)
            continue;
        engine::Sample s;
        s.time_ms = now_ms;
        s.seconds = seconds;
        s.bytes_up = d.up.bytes - b.up.bytes;
        s.frames_up = d.up.packets - b.up.packets;
        s.bytes_down = d.down.bytes - b.down.bytes;
        s.frames_down = d.down.packets - b.down.packets;
        s.bytes_lateral = d.lateral.bytes - b.lateral.bytes;
        s.frames_lateral = d.lateral.packets - b.lateral.packets;
        s.new_flows = d.flows_new - b.flows_new;
        s.syn_sent = d.tcp_syn >= b.tcp_syn ? d.tcp_syn - b.tcp_syn : 0;
        s.synack_received = d.tcp_synack >= b.tcp_synack ? d.tcp_synack - b.tcp_synack : 0;
        s.dns_queries = d.dns_queries >= b.dns_queries ? d.dns_queries - b.dns_queries : 0;
        s.blocklist_hits = d.blocklist_drops >= b.blocklist_drops ? d.blocklist_drops - b.blocklist_drops : 0;
        if (auto a = active_flows.find(d.mac); a != active_flows.end()) s.active_flows = a->second;
        if (auto p = pending_.find(d.mac); p != pending_.end()) {
            s.contacts = std::move(p->second.contacts);
            s.peer_bytes = std::move(p->second.peer_bytes);
        }
        // New flows the events did not name (the data plane's budget, a full ring, the bound
        // here) are still counted: new_flows is exact.
        s.contacts_dropped = s.new_flows > s.contacts.size() ? s.new_flows - s.contacts.size() : 0;
        out.emplace_back(d.mac, std::move(s));
    }
    pending_.clear();
    last_ = std::move(now);
    last_ms_ = now_ms;
    return out;
}

}  // namespace warden::daemon
