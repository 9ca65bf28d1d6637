// Typed access to warden's maps, for the controller, the CLI and the tests: each class
// wraps one map fd (from a loaded Dataplane or from a pin) and speaks Mac/IpAddr/Prefix.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "dataplane/maps.h"
#include "net/address.h"
#include "warden/abi.h"

namespace warden::dataplane {

// A device's counters summed over CPUs.
struct DeviceCounters {
    net::Mac mac;
    wd_counter up{}, lateral{}, bcast{}, down{};
    std::array<uint64_t, WD_PROTO_MAX> proto_packets{};
    uint64_t tcp_syn = 0;
    uint64_t blocklist_drops = 0;
    uint64_t flows_new = 0;    // flows the device opened
    uint64_t dns_queries = 0;
    uint64_t tcp_synack = 0;   // SYN+ACKs received: answered connection attempts
    uint64_t first_seen_ns = 0;  // CLOCK_MONOTONIC
    uint64_t last_seen_ns = 0;
    std::optional<net::IpAddr> ip4, ip6;
};

// Sums per-CPU values: counters add up, first_seen is the earliest stamp that is set,
// last_seen and the addresses come from the CPU that saw them last.
DeviceCounters sum_device_stats(const net::Mac& mac, std::span<const wd_device_stats> per_cpu);
wd_prog_stats sum_prog_stats(std::span<const wd_prog_stats> per_cpu);

int possible_cpus();

class StatsTable;

class DeviceTable {
public:
    explicit DeviceTable(int fd) : fd_(fd) {}
    std::vector<DeviceCounters> read_all() const;
    std::optional<DeviceCounters> read(const net::Mac& mac) const;
    // Removes the device's entry and records the removal in stats, so that it is not taken
    // for an eviction (see dataplane/evictions.h).
    bool remove(const net::Mac& mac, const StatsTable& stats);
    int fd() const { return fd_; }

private:
    int fd_;
};

struct FlowEntry {
    wd_flow_key key{};
    wd_flow_stats stats{};
};

// Reads a hash map in batches (bpf_map_lookup_batch), one batch a step, so a large map can
// be walked a part at a time; maps without batch reads are read key by key in one step.
class BatchWalk {
public:
    using Visit = std::function<void(const uint8_t* key, const uint8_t* value)>;
    BatchWalk(int fd, size_t key_size, size_t value_size);
    // Reads and visits the next batch; returns how many entries it visited.
    size_t step(const Visit& visit);
    bool done() const { return done_; }
    void restart();

private:
    void walk_key_by_key(const Visit& visit);

    int fd_;
    size_t key_size_, value_size_;
    uint32_t batch_ = 256;
    std::vector<uint8_t> keys_, values_, in_, out_;
    bool first_ = true, done_ = false;
};

class FlowTable {
public:
    using FlowVisit = std::function<void(const wd_flow_key&, const wd_flow_stats&)>;
    explicit FlowTable(int fd) : fd_(fd) {}
    int fd() const { return fd_; }
    std::vector<FlowEntry> read_all() const;
    // Visits every flow where the batch read put it, without copying the table.
    void for_each(const FlowVisit& visit) const;
    std::optional<wd_flow_stats> read(const wd_flow_key& key) const;

private:
    int fd_;
};

// A walk over the flow table spread across calls: each advance() visits at least the given
// number of flows (whole batches) and says whether the pass is complete; the next call then
// starts the next pass. The controller's poll walks a slice a second instead of all at once.
class FlowScan {
public:
    explicit FlowScan(const FlowTable& table);
    bool advance(size_t at_least, const FlowTable::FlowVisit& visit);

private:
    BatchWalk walk_;
};

// A quarantine as the kernel holds it, its per-CPU drop counters summed.
struct QuarantineEntry {
    net::Mac mac;
    uint32_t level = WD_LEVEL_NONE;  // enum wd_quarantine_level
    uint32_t origin = WD_ORIGIN_UNSPEC;
    uint64_t since_ns = 0;    // CLOCK_MONOTONIC
    uint64_t expires_ns = 0;  // CLOCK_MONOTONIC, 0 = until released
    wd_counter dropped_from_device{}, dropped_to_device{};
    uint64_t last_drop_ns = 0;
};

class QuarantineTable {
public:
    explicit QuarantineTable(int fd) : fd_(fd) {}
    // Adds or changes a quarantine; an existing entry keeps its drop counters.
    // Throws when the map is full or the kernel refuses.
    void put(const net::Mac& mac, uint32_t level, uint32_t origin, uint64_t since_ns,
             uint64_t expires_ns);
    bool remove(const net::Mac& mac);
    std::optional<QuarantineEntry> get(const net::Mac& mac) const;
    std::vector<QuarantineEntry> list() const;

private:
    int fd_;
};

struct BlockEntry {
    net::Prefix prefix;
    wd_block_value value{};
};

// Every change moves the blocklist generation on (wd_block_gen), after the trie changed, so
// flows that cached the old answer ask the trie again.
class Blocklist {
public:
    Blocklist(int v4_fd, int v6_fd, int gen_fd) : v4_fd_(v4_fd), v6_fd_(v6_fd), gen_fd_(gen_fd) {}
    void put(const net::Prefix& prefix, uint32_t flags, uint32_t list_id = 0);
    bool remove(const net::Prefix& prefix);
    std::vector<BlockEntry> list() const;
    // The longest prefix holding addr, as the kernel matches it.
    std::optional<BlockEntry> match(const net::IpAddr& addr) const;
    uint64_t generation() const;
    // Moves the generation on: every flow asks the trie again. warden run does this at
    // start, so a trie written by anyone (an older warden) is never skipped.
    void next_generation();

private:

    int v4_fd_, v6_fd_, gen_fd_;
};

// The gateway's own MACs (frames to them count as "up") and addresses (DNS to them is
// allowed for restricted devices): a few of each, in one map slot.
class GatewayTable {
public:
    explicit GatewayTable(int fd) : fd_(fd) {}
    // Throws when more than WD_GATEWAY_MACS_MAX / WD_GATEWAY_ADDRS_MAX would be held.
    void set(const std::vector<net::Mac>& macs, const std::vector<net::IpAddr>& addrs);
    void add_mac(const net::Mac& mac);
    void add_addr(const net::IpAddr& addr);
    std::vector<net::Mac> macs() const;
    std::vector<net::IpAddr> addrs() const;

private:
    int fd_;
};

class StatsTable {
public:
    explicit StatsTable(int fd) : fd_(fd) {}
    wd_prog_stats read(uint32_t slot) const;  // enum wd_prog_id, or WD_STATS_USERSPACE
    // Every slot summed: what the programs and userspace counted together.
    wd_prog_stats total() const;
    // Records entries userspace removed from wd_devices or wd_flows. A read-modify-write of
    // one slot: two processes removing at the same instant can lose one count.
    void count_removed(MapId map, uint64_t entries) const;

private:
    int fd_;
};

inline wd_device_key device_key(const net::Mac& mac) {
    wd_device_key k{};
    for (int i = 0; i < 6; ++i) k.mac[i] = mac.bytes[i];
    return k;
}

inline net::Mac mac_of(const uint8_t* bytes) {
    net::Mac m;
    for (int i = 0; i < 6; ++i) m.bytes[i] = bytes[i];
    return m;
}

}  // namespace warden::dataplane
