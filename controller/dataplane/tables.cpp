#include "dataplane/tables.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <ctime>
#include <string>

namespace warden::dataplane {

namespace {

std::runtime_error map_error(const std::string& what, int err) {
    return std::runtime_error(what + ": " + std::strerror(err));
}

}  // namespace

// ---- walking a map in batches, resumably ----

BatchWalk::BatchWalk(int fd, size_t key_size, size_t value_size)
    : fd_(fd), key_size_(key_size), value_size_(value_size),
      in_(std::max<size_t>(key_size, 8)), out_(in_.size()) {}

void BatchWalk::restart() {
    first_ = true;
    done_ = false;
}

size_t BatchWalk::step(const Visit& visit) {
    if (done_) return 0;
    for (;;) {
        keys_.resize(key_size_ * batch_);
        values_.resize(value_size_ * batch_);
        uint32_t count = batch_;
        int err = bpf_map_lookup_batch(fd_, first_ ? nullptr : in_.data(), out_.data(), keys_.data(),
                                       values_.data(), &count, nullptr);
        int e = err ? errno : 0;
        if (err && e == ENOSPC && batch_ < (1u << 20)) {  // one hash bucket held more than batch_
            batch_ *= 4;
            continue;
        }
        if (err && e != ENOENT) {
            if (first_ && (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP)) {
                walk_key_by_key(visit);  // maps without batch reads (LPM tries)
                return 0;
            }
            throw map_error("cannot read map", e);
        }
        for (uint32_t i = 0; i < count; ++i) visit(&keys_[i * key_size_], &values_[i * value_size_]);
        first_ = false;
        if (e == ENOENT)
            done_ = true;
        else
            in_ = out_;
        return count;
    }
}

void BatchWalk::walk_key_by_key(const Visit& visit) {
    std::vector<uint8_t> key(key_size_), next(key_size_), value(value_size_);
    bool have = false;
    while (bpf_map_get_next_key(fd_, have ? key.data() : nullptr, next.data()) == 0) {
        key = next;
        have = true;
        if (bpf_map_lookup_elem(fd_, key.data(), value.data()) == 0) visit(key.data(), value.data());
    }
    done_ = true;
}

namespace {

// Visits every entry of a map (value_size: for per-CPU maps, all CPUs' values).
template <typename Visit>
void for_each_entry(int fd, size_t key_size, size_t value_size, Visit&& visit) {
    BatchWalk walk(fd, key_size, value_size);
    while (!walk.done()) walk.step(visit);
}

}  // namespace

int possible_cpus() {
    static int n = [] {
        int cpus = libbpf_num_possible_cpus();
        if (cpus <= 0) throw std::runtime_error("cannot count the possible CPUs");
        return cpus;
    }();
    return n;
}

DeviceCounters sum_device_stats(const net::Mac& mac, std::span<const wd_device_stats> per_cpu) {
    DeviceCounters d;
    d.mac = mac;
    uint64_t ip4_at = 0, ip6_at = 0;
    for (const auto& s : per_cpu) {
        auto add = [](wd_counter& to, const wd_counter& from) {
            to.packets += from.packets;
            to.bytes += from.bytes;
        };
        add(d.up, s.up);
        add(d.lateral, s.lateral);
        add(d.bcast, s.bcast);
        add(d.down, s.down);
        for (int i = 0; i < WD_PROTO_MAX; ++i) d.proto_packets[i] += s.proto_packets[i];
        d.tcp_syn += s.tcp_syn;
        d.blocklist_drops += s.blocklist_drops;
        d.flows_new += s.flows_new;
        d.dns_queries += s.dns_queries;
        d.tcp_synack += s.tcp_synack;
        if (s.first_seen_ns && (!d.first_seen_ns || s.first_seen_ns < d.first_seen_ns))
            d.first_seen_ns = s.first_seen_ns;
        d.last_seen_ns = std::max<uint64_t>(d.last_seen_ns, s.last_seen_ns);
        if (s.ip4_seen_ns > ip4_at) {
            ip4_at = s.ip4_seen_ns;
            d.ip4 = net::IpAddr::v4(s.last_ip4);
        }
        // Newest wins, except that a link-local address never replaces a routable one
        // (the programs keep that rule per CPU; it must hold across CPUs as well).
        if (s.ip6_seen_ns) {
            auto link_local = [](const uint8_t* a) { return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; };
            bool mine_routable = !link_local(s.last_ip6);
            bool held_routable = d.ip6 && !link_local(d.ip6->bytes.data());
            if (mine_routable > held_routable ||
                (mine_routable == held_routable && s.ip6_seen_ns > ip6_at)) {
                ip6_at = s.ip6_seen_ns;
                net::IpAddr a;
                std::memcpy(a.bytes.data(), s.last_ip6, 16);
                d.ip6 = a;
            }
        }
    }
    return d;
}

wd_prog_stats sum_prog_stats(std::span<const wd_prog_stats> per_cpu) {
    wd_prog_stats t{};
    for (const auto& s : per_cpu) {
        t.seen += s.seen;
        t.passed += s.passed;
        t.bytes += s.bytes;
        t.unparsed += s.unparsed;
        for (int i = 0; i < WD_DROP_MAX; ++i) t.dropped[i] += s.dropped[i];
        for (int i = 0; i < WD_PROTO_MAX; ++i) t.proto_packets[i] += s.proto_packets[i];
        t.events_lost += s.events_lost;
        t.map_full += s.map_full;
        t.devices_added += s.devices_added;
        t.flows_added += s.flows_added;
        t.devices_removed += s.devices_removed;
        t.flows_removed += s.flows_removed;
    }
    return t;
}

// ---- devices ----

std::vector<DeviceCounters> DeviceTable::read_all() const {
    const int cpus = possible_cpus();
    std::vector<DeviceCounters> out;
    for_each_entry(fd_, sizeof(wd_device_key), sizeof(wd_device_stats) * cpus,
                   [&](const uint8_t* k, const uint8_t* v) {
                       auto* key = reinterpret_cast<const wd_device_key*>(k);
                       std::span per_cpu(reinterpret_cast<const wd_device_stats*>(v), cpus);
                       out.push_back(sum_device_stats(mac_of(key->mac), per_cpu));
                   });
    return out;
}

std::optional<DeviceCounters> DeviceTable::read(const net::Mac& mac) const {
    std::vector<wd_device_stats> per_cpu(possible_cpus());
    auto key = device_key(mac);
    if (bpf_map_lookup_elem(fd_, &key, per_cpu.data())) return std::nullopt;
    return sum_device_stats(mac, per_cpu);
}

bool DeviceTable::remove(const net::Mac& mac, const StatsTable& stats) {
    auto key = device_key(mac);
    if (bpf_map_delete_elem(fd_, &key)) return false;
    stats.count_removed(MapId::devices, 1);
    return true;
}

// ---- flows ----

std::vector<FlowEntry> FlowTable::read_all() const {
    std::vector<FlowEntry> out;
    for_each_entry(fd_, sizeof(wd_flow_key), sizeof(wd_flow_stats),
                   [&](const uint8_t* k, const uint8_t* v) {
                       FlowEntry e;
                       std::memcpy(&e.key, k, sizeof e.key);
                       std::memcpy(&e.stats, v, sizeof e.stats);
                       out.push_back(e);
                   });
    return out;
}

void FlowTable::for_each(const FlowVisit& visit) const {
    FlowScan scan(*this);
    while (!scan.advance(SIZE_MAX, visit)) {
    }
}

FlowScan::FlowScan(const FlowTable& table) : walk_(table.fd(), sizeof(wd_flow_key), sizeof(wd_flow_stats)) {}

bool FlowScan::advance(size_t at_least, const FlowTable::FlowVisit& visit) {
    auto unpack = [&](const uint8_t* k, const uint8_t* v) {
        wd_flow_key key;
        wd_flow_stats stats;
        std::memcpy(&key, k, sizeof key);  // the batch buffer packs entries unaligned
        std::memcpy(&stats, v, sizeof stats);
        visit(key, stats);
    };
    size_t seen = 0;
    while (!walk_.done() && seen < at_least) seen += walk_.step(unpack);
    if (!walk_.done()) return false;
    walk_.restart();
    return true;
}

std::optional<wd_flow_stats> FlowTable::read(const wd_flow_key& key) const {
    wd_flow_stats s{};
    if (bpf_map_lookup_elem(fd_, &key, &s)) return std::nullopt;
    return s;
}

// ---- quarantine ----

namespace {

QuarantineEntry sum_quarantine(const net::Mac& mac, std::span<const wd_quarantine> per_cpu) {
    QuarantineEntry e;
    e.mac = mac;
    // The policy fields are the same on every CPU (the controller writes them so).
    e.level = per_cpu[0].level;
    e.origin = per_cpu[0].origin;
    e.since_ns = per_cpu[0].since_ns;
    e.expires_ns = per_cpu[0].expires_ns;
    for (const auto& q : per_cpu) {
        e.dropped_from_device.packets += q.dropped[WD_FLOW_UP].packets;
        e.dropped_from_device.bytes += q.dropped[WD_FLOW_UP].bytes;
        e.dropped_to_device.packets += q.dropped[WD_FLOW_DOWN].packets;
        e.dropped_to_device.bytes += q.dropped[WD_FLOW_DOWN].bytes;
        e.last_drop_ns = std::max<uint64_t>(e.last_drop_ns, q.last_drop_ns);
    }
    return e;
}

}  // namespace

void QuarantineTable::put(const net::Mac& mac, uint32_t level, uint32_t origin, uint64_t since_ns,
                          uint64_t expires_ns) {
    auto key = device_key(mac);
    std::vector<wd_quarantine> per_cpu(possible_cpus());
    if (bpf_map_lookup_elem(fd_, &key, per_cpu.data())) per_cpu.assign(per_cpu.size(), {});
    for (auto& q : per_cpu) {
        q.level = level;
        q.origin = origin;
        q.since_ns = since_ns;
        q.expires_ns = expires_ns;
    }
    if (bpf_map_update_elem(fd_, &key, per_cpu.data(), BPF_ANY)) {
        int e = errno;
        if (e == E2BIG || e == ENOMEM)
            throw std::runtime_error("quarantine map is full; cannot quarantine " + mac.str() +
                                     " (raise map_sizes.quarantine in the policy)");
        throw map_error("cannot quarantine " + mac.str(), e);
    }
}

bool QuarantineTable::remove(const net::Mac& mac) {
    auto key = device_key(mac);
    return bpf_map_delete_elem(fd_, &key) == 0;
}

std::optional<QuarantineEntry> QuarantineTable::get(const net::Mac& mac) const {
    auto key = device_key(mac);
    std::vector<wd_quarantine> per_cpu(possible_cpus());
    if (bpf_map_lookup_elem(fd_, &key, per_cpu.data())) return std::nullopt;
    return sum_quarantine(mac, per_cpu);
}

std::vector<QuarantineEntry> QuarantineTable::list() const {
    const int cpus = possible_cpus();
    std::vector<QuarantineEntry> out;
    for_each_entry(fd_, sizeof(wd_device_key), sizeof(wd_quarantine) * cpus,
                   [&](const uint8_t* k, const uint8_t* v) {
                       std::span per_cpu(reinterpret_cast<const wd_quarantine*>(v), cpus);
                       out.push_back(sum_quarantine(
                           mac_of(reinterpret_cast<const wd_device_key*>(k)->mac), per_cpu));
                   });
    return out;
}

// ---- blocklist ----

namespace {

wd_lpm_v4_key v4_key(const net::IpAddr& a, unsigned len) {
    wd_lpm_v4_key k{};
    k.prefixlen = len;
    std::memcpy(k.addr, &a.bytes[12], 4);
    return k;
}

wd_lpm_v6_key v6_key(const net::IpAddr& a, unsigned len) {
    wd_lpm_v6_key k{};
    k.prefixlen = len;
    std::memcpy(k.addr, a.bytes.data(), 16);
    return k;
}

}  // namespace

uint64_t Blocklist::generation() const {
    uint32_t zero = 0;
    uint64_t gen = 0;
    if (bpf_map_lookup_elem(gen_fd_, &zero, &gen)) throw map_error("cannot read the blocklist generation", errno);
    return gen;
}

void Blocklist::next_generation() {
    // CLOCK_MONOTONIC ns: never repeats, so concurrent writers (controller, CLI) cannot
    // bring back a generation some flow cached; fits the 62 bits WD_BLOCK_STATE keeps.
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t gen = (uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec) & ((1ull << 62) - 1);
    if (gen <= generation()) gen = generation() + 1;
    uint32_t zero = 0;
    if (bpf_map_update_elem(gen_fd_, &zero, &gen, BPF_ANY))
        throw map_error("cannot move the blocklist generation on", errno);
}

void Blocklist::put(const net::Prefix& prefix, uint32_t flags, uint32_t list_id) {
    wd_block_value v{list_id, flags};
    int err;
    if (prefix.is_v4()) {
        auto k = v4_key(prefix.addr, prefix.len);
        err = bpf_map_update_elem(v4_fd_, &k, &v, BPF_ANY);
    } else {
        auto k = v6_key(prefix.addr, prefix.len);
        err = bpf_map_update_elem(v6_fd_, &k, &v, BPF_ANY);
    }
    if (err) {
        int e = errno;
        if (e == ENOSPC || e == E2BIG || e == ENOMEM)
            throw std::runtime_error("blocklist is full; cannot add " + prefix.str() +
                                     " (raise map_sizes.blocklist in the policy)");
        throw map_error("cannot add " + prefix.str() + " to the blocklist", e);
    }
    next_generation();
}

bool Blocklist::remove(const net::Prefix& prefix) {
    bool removed;
    if (prefix.is_v4()) {
        auto k = v4_key(prefix.addr, prefix.len);
        removed = bpf_map_delete_elem(v4_fd_, &k) == 0;
    } else {
        auto k = v6_key(prefix.addr, prefix.len);
        removed = bpf_map_delete_elem(v6_fd_, &k) == 0;
    }
    if (removed) next_generation();
    return removed;
}

std::vector<BlockEntry> Blocklist::list() const {
    std::vector<BlockEntry> out;
    for_each_entry(v4_fd_, sizeof(wd_lpm_v4_key), sizeof(wd_block_value),
                   [&](const uint8_t* k, const uint8_t* v) {
                       auto* key = reinterpret_cast<const wd_lpm_v4_key*>(k);
                       BlockEntry e{{net::IpAddr::v4(key->addr), key->prefixlen}, {}};
                       std::memcpy(&e.value, v, sizeof e.value);
                       out.push_back(e);
                   });
    for_each_entry(v6_fd_, sizeof(wd_lpm_v6_key), sizeof(wd_block_value),
                   [&](const uint8_t* k, const uint8_t* v) {
                       auto* key = reinterpret_cast<const wd_lpm_v6_key*>(k);
                       BlockEntry e;
                       std::memcpy(e.prefix.addr.bytes.data(), key->addr, 16);
                       e.prefix.len = key->prefixlen;
                       std::memcpy(&e.value, v, sizeof e.value);
                       out.push_back(e);
                   });
    std::sort(out.begin(), out.end(),
              [](const BlockEntry& a, const BlockEntry& b) { return a.prefix < b.prefix; });
    return out;
}

std::optional<BlockEntry> Blocklist::match(const net::IpAddr& addr) const {
    // An LPM lookup returns only the value; the entry (with its prefix) is the longest
    // listed prefix that covers addr, which is what the kernel matched.
    auto covers = [&](const net::Prefix& p) {
        if (p.is_v4() != addr.is_v4()) return false;
        unsigned offset = p.is_v4() ? 96 : 0;
        for (unsigned bit = offset; bit < offset + p.len; ++bit) {
            uint8_t mask = 0x80 >> (bit % 8);
            if ((p.addr.bytes[bit / 8] & mask) != (addr.bytes[bit / 8] & mask)) return false;
        }
        return true;
    };
    std::optional<BlockEntry> best;
    for (const auto& e : list())
        if (covers(e.prefix) && (!best || e.prefix.len > best->prefix.len)) best = e;
    return best;
}

// ---- gateway ----

namespace {

wd_gateway read_gateway(int fd) {
    uint32_t zero = 0;
    wd_gateway gw{};
    if (bpf_map_lookup_elem(fd, &zero, &gw)) throw map_error("cannot read the gateway map", errno);
    return gw;
}

}  // namespace

void GatewayTable::set(const std::vector<net::Mac>& macs, const std::vector<net::IpAddr>& addrs) {
    if (macs.size() > WD_GATEWAY_MACS_MAX)
        throw std::runtime_error("the gateway has " + std::to_string(macs.size()) +
                                 " MAC addresses; warden handles at most " +
                                 std::to_string(WD_GATEWAY_MACS_MAX));
    if (addrs.size() > WD_GATEWAY_ADDRS_MAX)
        throw std::runtime_error("the gateway has " + std::to_string(addrs.size()) +
                                 " LAN addresses; warden handles at most " +
                                 std::to_string(WD_GATEWAY_ADDRS_MAX));
    wd_gateway gw{};
    for (size_t i = 0; i < macs.size(); ++i) std::memcpy(gw.macs[i], macs[i].bytes.data(), 6);
    for (size_t i = 0; i < addrs.size(); ++i) std::memcpy(gw.addrs[i].addr, addrs[i].bytes.data(), 16);
    gw.n_macs = macs.size();
    gw.n_addrs = addrs.size();
    uint32_t zero = 0;
    if (bpf_map_update_elem(fd_, &zero, &gw, BPF_ANY))
        throw map_error("cannot write the gateway map", errno);
}

void GatewayTable::add_mac(const net::Mac& mac) {
    auto macs = this->macs();
    if (std::find(macs.begin(), macs.end(), mac) == macs.end()) macs.push_back(mac);
    set(macs, addrs());
}

void GatewayTable::add_addr(const net::IpAddr& addr) {
    auto addrs = this->addrs();
    if (std::find(addrs.begin(), addrs.end(), addr) == addrs.end()) addrs.push_back(addr);
    set(macs(), addrs);
}

std::vector<net::Mac> GatewayTable::macs() const {
    auto gw = read_gateway(fd_);
    std::vector<net::Mac> out;
    for (uint32_t i = 0; i < gw.n_macs && i < WD_GATEWAY_MACS_MAX; ++i) out.push_back(mac_of(gw.macs[i]));
    return out;
}

std::vector<net::IpAddr> GatewayTable::addrs() const {
    auto gw = read_gateway(fd_);
    std::vector<net::IpAddr> out;
    for (uint32_t i = 0; i < gw.n_addrs && i < WD_GATEWAY_ADDRS_MAX; ++i) {
        net::IpAddr a;
        std::memcpy(a.bytes.data(), gw.addrs[i].addr, 16);
        out.push_back(a);
    }
    return out;
}

// ---- program stats ----

wd_prog_stats StatsTable::read(uint32_t slot) const {
    std::vector<wd_prog_stats> per_cpu(possible_cpus());
    if (bpf_map_lookup_elem(fd_, &slot, per_cpu.data()))
        throw map_error("cannot read program stats", errno);
    return sum_prog_stats(per_cpu);
}

wd_prog_stats StatsTable::total() const {
    std::vector<wd_prog_stats> slots;
    for (uint32_t slot = 0; slot < WD_STATS_SLOTS; ++slot) slots.push_back(read(slot));
    return sum_prog_stats(slots);
}

void StatsTable::count_removed(MapId map, uint64_t entries) const {
    if (map != MapId::devices && map != MapId::flows)
        throw std::invalid_argument("only removals from the device and flow maps are counted");
    uint32_t slot = WD_STATS_USERSPACE;
    std::vector<wd_prog_stats> per_cpu(possible_cpus());
    if (bpf_map_lookup_elem(fd_, &slot, per_cpu.data()))
        throw map_error("cannot read the userspace stats slot", errno);
    (map == MapId::devices ? per_cpu[0].devices_removed : per_cpu[0].flows_removed) += entries;
    if (bpf_map_update_elem(fd_, &slot, per_cpu.data(), BPF_ANY))
        throw map_error("cannot count a removal in the userspace stats slot", errno);
}

}  // namespace warden::dataplane
