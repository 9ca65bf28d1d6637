// Typed access to warden's maps, for the controller, the CLI and the tests: each class
// wraps one map fd (from a loaded Dataplane or from a pin) and speaks Mac/IpAddr/Prefix.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "net/address.h"
#include "warden/abi.h"

namespace warden::dataplane {

// A device's counters summed over CPUs.
struct DeviceCounters {
    net::Mac mac;
    wd_counter up{}, lateral{}, bcast{}, down{};
    std::array<uint64_t, WD_PROTO_MAX> proto_packets{};
    uint64_t tcp_syn = 0;
    std::array<uint64_t, WD_DROP_MAX> drops{};
    uint64_t first_seen_ns = 0;  // CLOCK_MONOTONIC
    uint64_t last_seen_ns = 0;
    std::optional<net::IpAddr> ip4, ip6;
};

// Sums per-CPU values: counters add up, first_seen is the earliest stamp that is set,
// last_seen and the addresses come from the CPU that saw them last.
DeviceCounters sum_device_stats(const net::Mac& mac, std::span<const wd_device_stats> per_cpu);
wd_prog_stats sum_prog_stats(std::span<const wd_prog_stats> per_cpu);

int possible_cpus();

class DeviceTable {
public:
    explicit DeviceTable(int fd) : fd_(fd) {}
    std::vector<DeviceCounters> read_all() const;
    std::optional<DeviceCounters> read(const net::Mac& mac) const;
    bool remove(const net::Mac& mac);
    int fd() const { return fd_; }

private:
    int fd_;
};

struct FlowEntry {
    wd_flow_key key{};
    wd_flow_stats stats{};
};

class FlowTable {
public:
    explicit FlowTable(int fd) : fd_(fd) {}
    std::vector<FlowEntry> read_all() const;
    std::optional<wd_flow_stats> read(const wd_flow_key& key) const;

private:
    int fd_;
};

class QuarantineTable {
public:
    explicit QuarantineTable(int fd) : fd_(fd) {}
    // Throws when the map is full or the kernel refuses.
    void put(const net::Mac& mac, const wd_quarantine& entry);
    bool remove(const net::Mac& mac);
    std::optional<wd_quarantine> get(const net::Mac& mac) const;
    std::vector<std::pair<net::Mac, wd_quarantine>> list() const;

private:
    int fd_;
};

struct BlockEntry {
    net::Prefix prefix;
    wd_block_value value{};
};

class Blocklist {
public:
    Blocklist(int v4_fd, int v6_fd) : v4_fd_(v4_fd), v6_fd_(v6_fd) {}
    void put(const net::Prefix& prefix, uint32_t flags, uint32_t list_id = 0);
    bool remove(const net::Prefix& prefix);
    std::vector<BlockEntry> list() const;
    // The longest prefix holding addr, as the kernel matches it.
    std::optional<BlockEntry> match(const net::IpAddr& addr) const;

private:
    int v4_fd_, v6_fd_;
};

// The gateway's own MACs (frames to them count as "up") and addresses (DNS to them is
// allowed for restricted devices).
class GatewayTable {
public:
    GatewayTable(int macs_fd, int addrs_fd) : macs_fd_(macs_fd), addrs_fd_(addrs_fd) {}
    void add_mac(const net::Mac& mac, uint32_t ifindex);
    void add_addr(const net::IpAddr& addr);
    void clear();
    std::vector<net::Mac> macs() const;
    std::vector<net::IpAddr> addrs() const;

private:
    int macs_fd_, addrs_fd_;
};

class StatsTable {
public:
    explicit StatsTable(int fd) : fd_(fd) {}
    wd_prog_stats read(uint32_t prog) const;  // enum wd_prog_id

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
