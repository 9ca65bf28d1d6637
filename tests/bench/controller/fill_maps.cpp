// bench_fill_maps: puts a busy home's worth of entries into the maps of a running warden, so
// scripts/bench-controller.sh can measure one poll cycle at full size. Writes the pinned
// device map (per-CPU values) and flow map directly, the way the programs would have after
// hours of traffic: plausible counters, CLOCK_MONOTONIC stamps of the last few seconds.
// Checks afterwards that every entry is there (an LRU map evicts silently) and exits 1 if not.
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <tuple>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/pinned.h"
#include "dataplane/tables.h"
#include "net/address.h"

using namespace warden;

namespace {

const char* kUsage = R"(usage: bench_fill_maps --pin-dir DIR [--devices N] [--flows N] [--seed N]
  --pin-dir DIR   where the running warden pinned its maps
  --devices N     device entries to write (default 1024)
  --flows N       flow entries to write, spread evenly over the devices (default 65536)
  --seed N        seed for the counters and stamps (default 1), so runs are comparable
Needs root. Prints one line: what was written and what the maps hold now.)";

struct Options {
    std::string pin_dir;
    uint32_t devices = 1024;
    uint32_t flows = 65536;
    uint64_t seed = 1;
};

uint32_t parse_count(const std::string& flag, const char* text, uint32_t min) {
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(text, &end, 10);
    if (errno || !end || *end || v < min || v > (1u << 24))
        throw std::invalid_argument(flag + ": expected a whole number from " + std::to_string(min) +
                                    " to 16777216, got '" + text + "'");
    return static_cast<uint32_t>(v);
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (flag == "-h" || flag == "--help") {
            std::puts(kUsage);
            std::exit(0);
        }
        if (i + 1 >= argc) throw std::invalid_argument(flag + ": expected a value after it\n" + kUsage);
        const char* value = argv[++i];
        if (flag == "--pin-dir") o.pin_dir = value;
        else if (flag == "--devices") o.devices = parse_count(flag, value, 1);
        else if (flag == "--flows") o.flows = parse_count(flag, value, 0);
        else if (flag == "--seed") o.seed = parse_count(flag, value, 0);
        else throw std::invalid_argument("unknown option " + flag + "\n" + kUsage);
    }
    if (o.pin_dir.empty()) throw std::invalid_argument(std::string("--pin-dir is required\n") + kUsage);
    if (o.devices > 0xffffff) throw std::invalid_argument("--devices: at most 16777215 (24 bits of MAC)");
    return o;
}

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

// Device i: a locally administered unicast MAC, an address in 198.18.0.0/15 and one in fd00::/8.
net::Mac device_mac(uint32_t i) {
    return net::Mac{{0x02, 0x5e, 0x00, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)}};
}
std::array<uint8_t, 4> device_ip4(uint32_t i) { return {198, 18, uint8_t(1 + i / 254 % 254), uint8_t(1 + i % 254)}; }
std::array<uint8_t, 16> device_ip6(uint32_t i) {
    return {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)};
}

std::array<uint8_t, 16> v4_mapped(std::array<uint8_t, 4> a) {
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a[0], a[1], a[2], a[3]};
}

class Filler {
public:
    Filler(const Options& o) : o_(o), rng_(o.seed), now_(monotonic_ns()) {}

    // A stamp between lo and hi nanoseconds ago, never before boot.
    uint64_t ago(uint64_t lo, uint64_t hi) {
        uint64_t back = std::uniform_int_distribution<uint64_t>(lo, hi)(rng_);
        return now_ > back ? now_ - back : 1;
    }
    uint64_t between(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); }

    void fill_devices(int fd) {
        const int cpus = dataplane::possible_cpus();
        std::vector<wd_device_stats> per_cpu(cpus);
        for (uint32_t i = 0; i < o_.devices; ++i) {
            uint64_t first = ago(600'000'000'000ull, 3'600'000'000'000ull);  // 10 min .. 1 h ago
            uint64_t last = ago(0, 2'000'000'000ull);                        // the last 2 s
            auto ip4 = device_ip4(i);
            auto ip6 = device_ip6(i);
            for (int c = 0; c < cpus; ++c) {
                auto& s = per_cpu[c];
                s = {};
                auto count = [&](wd_counter& k, uint64_t max_packets) {
                    k.packets = between(0, max_packets);
                    k.bytes = k.packets * between(60, 1500);
                };
                count(s.up, 200'000);
                count(s.lateral, 5'000);
                count(s.bcast, 2'000);
                count(s.down, 400'000);
                s.proto_packets[WD_PROTO_TCP] = s.up.packets * 7 / 10;
                s.proto_packets[WD_PROTO_UDP] = s.up.packets - s.proto_packets[WD_PROTO_TCP];
                s.proto_packets[WD_PROTO_ICMP] = between(0, 50);
                s.proto_packets[WD_PROTO_ARP] = between(0, 200);
                s.tcp_syn = between(0, 3'000);
                s.first_seen_ns = first + between(0, 1'000'000'000ull);
                // One CPU saw the device last; the others a little earlier.
                s.last_seen_ns = c == int(i % cpus) ? last : ago(2'000'000'000ull, 30'000'000'000ull);
                s.ip4_seen_ns = s.last_seen_ns;
                s.ip6_seen_ns = s.last_seen_ns;
                std::memcpy(s.last_ip4, ip4.data(), 4);
                std::memcpy(s.last_ip6, ip6.data(), 16);
            }
            auto key = dataplane::device_key(device_mac(i));
            if (bpf_map_update_elem(fd, &key, per_cpu.data(), BPF_ANY))
                throw std::runtime_error("writing device " + device_mac(i).str() + ": " + std::strerror(errno));
        }
    }

    void fill_flows(int fd) {
        static constexpr uint16_t kServices[] = {443, 80, 53, 123, 8883, 1883, 5353, 8009};
        for (uint32_t f = 0; f < o_.flows; ++f) {
            uint32_t dev = f % o_.devices;
            uint32_t nth = f / o_.devices;  // this device's nth flow: makes the key unique
            wd_flow_key key{};
            auto mac = device_mac(dev);
            std::copy(mac.bytes.begin(), mac.bytes.end(), key.mac);
            bool v6 = nth % 4 == 3;
            uint16_t dport = kServices[nth % std::size(kServices)];
            key.proto = (dport == 53 || dport == 123 || dport == 5353) ? 17 : 6;
            auto saddr = v6 ? device_ip6(dev) : v4_mapped(device_ip4(dev));
            // Peers in 198.19.0.0/16 or fd00:1::/32, a different one per flow of the device.
            auto daddr = v6 ? std::array<uint8_t, 16>{0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                                                      uint8_t(nth >> 24), uint8_t(nth >> 16), uint8_t(nth >> 8), uint8_t(nth)}
                            : v4_mapped({198, 19, uint8_t(nth >> 8), uint8_t(nth)});
            std::copy(saddr.begin(), saddr.end(), key.saddr);
            std::copy(daddr.begin(), daddr.end(), key.daddr);
            key.sport = htons(uint16_t(32768 + nth % 28000));
            key.dport = htons(dport);

            wd_flow_stats s{};
            s.first_seen_ns = ago(5'000'000'000ull, 600'000'000'000ull);
            s.last_seen_ns = std::max(s.first_seen_ns, ago(0, 3'000'000'000ull));
            s.packets[WD_FLOW_UP] = between(1, 5'000);
            s.packets[WD_FLOW_DOWN] = between(0, 10'000);
            s.bytes[WD_FLOW_UP] = s.packets[WD_FLOW_UP] * between(60, 600);
            s.bytes[WD_FLOW_DOWN] = s.packets[WD_FLOW_DOWN] * between(60, 1500);
            if (key.proto == 6) {
                s.tcp_flags[WD_FLOW_UP] = 0x02 | 0x10 | 0x08;  // SYN, ACK, PSH
                s.tcp_flags[WD_FLOW_DOWN] = 0x02 | 0x10 | 0x08;
            }
            if (bpf_map_update_elem(fd, &key, &s, BPF_ANY))
                throw std::runtime_error("writing flow " + std::to_string(f) + ": " + std::strerror(errno));
        }
    }

private:
    const Options& o_;
    std::mt19937_64 rng_;
    uint64_t now_;
};

// Counts entries key by key: independent of the batch reads the controller itself uses.
uint32_t count_entries(int fd, size_t key_size) {
    std::vector<uint8_t> key(key_size), next(key_size);
    uint32_t n = 0;
    bool have = false;
    while (bpf_map_get_next_key(fd, have ? key.data() : nullptr, next.data()) == 0) {
        key.swap(next);
        have = true;
        ++n;
    }
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Options o = parse_options(argc, argv);
        dataplane::PinnedMaps maps(o.pin_dir);
        using dataplane::MapId;
        for (auto [id, want, flag] : {std::tuple{MapId::devices, o.devices, "--devices"},
                                      std::tuple{MapId::flows, o.flows, "--flows"}}) {
            uint32_t cap = maps.capacity(id);
            if (want > cap)
                throw std::invalid_argument(std::string(flag) + " " + std::to_string(want) + " is more than the map " +
                                            std::string(dataplane::map_name(id)) + " holds (" + std::to_string(cap) +
                                            "): raise map_sizes in the policy");
        }
        Filler filler(o);
        filler.fill_devices(maps.fd(MapId::devices));
        filler.fill_flows(maps.fd(MapId::flows));

        uint32_t devices = count_entries(maps.fd(MapId::devices), sizeof(wd_device_key));
        uint32_t flows = count_entries(maps.fd(MapId::flows), sizeof(wd_flow_key));
        std::printf("wrote %u devices and %u flows; the maps hold %u devices and %u flows\n", o.devices, o.flows,
                    devices, flows);
        if (devices < o.devices || flows < o.flows) {
            std::fprintf(stderr,
                         "bench_fill_maps: entries are missing (an LRU map evicted them?): make map_sizes larger "
                         "than the fill\n");
            return 1;
        }
        return 0;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "bench_fill_maps: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_fill_maps: %s\n", e.what());
        return 1;
    }
}
