#include "daemon/traffic.h"

#include <algorithm>
#include <cstring>

namespace warden::daemon {

uint64_t mac_key(const uint8_t* mac) {
    uint64_t v = 0;
    for (int i = 0; i < 6; ++i) v = v << 8 | mac[i];
    return v;
}

void Traffic::update_rates(const std::vector<dataplane::DeviceCounters>& devices, double dt) {
    std::map<net::Mac, Rates> rates;
    std::map<net::Mac, dataplane::DeviceCounters> now;
    for (const auto& d : devices) {
        Rates r;
        auto prev = counters_.find(d.mac);
        if (dt > 0 && prev != counters_.end()) {
            const auto& b = prev->second;
            // A counter that went backwards (the device was evicted and seen again) is 0.
            auto rate = [&](uint64_t after, uint64_t before) { return after >= before ? (after - before) / dt : 0.0; };
            r.up = rate(d.up.bytes, b.up.bytes);
            r.down = rate(d.down.bytes, b.down.bytes);
            r.lateral = rate(d.lateral.bytes, b.lateral.bytes);
            r.bcast = rate(d.bcast.bytes, b.bcast.bytes);
            r.packets = rate(d.up.packets + d.down.packets + d.lateral.packets + d.bcast.packets,
                             b.up.packets + b.down.packets + b.lateral.packets + b.bcast.packets);
        }
        rates[d.mac] = r;
        now[d.mac] = d;
    }
    rates_ = std::move(rates);
    counters_ = std::move(now);
}

void Traffic::scan_flows(const dataplane::FlowTable& table, uint64_t now_ns, int64_t interval_ms, size_t capacity,
                         dataplane::Evictions& evictions) {
    if (!scan_) scan_ = std::make_unique<dataplane::FlowScan>(table);
    if (!scan_started_ns_) {
        scan_started_ns_ = now_ns;
        evictions.walk_started(dataplane::MapId::flows);
    }
    uint64_t polls_per_pass = std::max<uint64_t>(1, kFlowPassMs / std::max<int64_t>(1, interval_ms));
    size_t slice = capacity / polls_per_pass + 1;
    uint64_t interval_ns = uint64_t(std::max<int64_t>(0, interval_ms)) * 1000000ull;
    uint64_t since = scan_started_ns_ - std::min(scan_started_ns_, interval_ns);
    bool pass_done = scan_->advance(slice, [&](const wd_flow_key& k, const wd_flow_stats& f) {
        ++scan_entries_;
        if (f.last_seen_ns >= since) ++scan_active_[mac_key(k.mac)];
        if (f.bytes[WD_FLOW_UP] >= kPeerFlowMinBytes) follow_bytes(k, f);
    });
    if (!pass_done) return;
    std::erase_if(flow_bytes_, [&](const auto& entry) { return entry.second.pass != pass_; });
    ++pass_;
    evictions.walk_ended(dataplane::MapId::flows, scan_entries_);
    active_ = std::move(scan_active_);
    entries_ = scan_entries_;
    scan_active_.clear();
    scan_entries_ = 0;
    scan_started_ns_ = 0;
}

void Traffic::follow_bytes(const wd_flow_key& k, const wd_flow_stats& f) {
    // FNV-1a over the key: the flow's identity for as long as it lives.
    uint64_t id = 0xcbf29ce484222325ull;
    const auto* bytes = reinterpret_cast<const uint8_t*>(&k);
    for (size_t i = 0; i < sizeof(k); ++i) id = (id ^ bytes[i]) * 0x100000001b3ull;
    FlowBytes& seen = flow_bytes_[id];
    // A counter below what was seen: the entry was evicted and made anew.
    uint64_t up = f.bytes[WD_FLOW_UP] >= seen.up ? f.bytes[WD_FLOW_UP] - seen.up : f.bytes[WD_FLOW_UP];
    uint64_t down = f.bytes[WD_FLOW_DOWN] >= seen.down ? f.bytes[WD_FLOW_DOWN] - seen.down
                                                       : f.bytes[WD_FLOW_DOWN];
    seen = {f.bytes[WD_FLOW_UP], f.bytes[WD_FLOW_DOWN], pass_};
    if (up == 0 && down == 0) return;
    net::IpAddr peer;
    std::memcpy(peer.bytes.data(), k.daddr, 16);
    auto& total = peer_bytes_[{dataplane::mac_of(k.mac), peer}];
    total.peer = peer;
    total.bytes_up += up;
    total.bytes_down += down;
}

std::vector<std::pair<net::Mac, engine::PeerBytes>> Traffic::take_peer_bytes() {
    std::vector<std::pair<net::Mac, engine::PeerBytes>> out;
    out.reserve(peer_bytes_.size());
    for (auto& [key, bytes] : peer_bytes_) out.emplace_back(key.first, bytes);
    peer_bytes_.clear();
    return out;
}

size_t Traffic::active_flows(const net::Mac& mac) const {
    auto it = active_.find(mac_key(mac.bytes.data()));
    return it != active_.end() ? it->second : 0;
}

}  // namespace warden::daemon
