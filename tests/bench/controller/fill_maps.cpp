// bench_fill_maps: puts a busy home's worth of entries into the maps of a running warden, so
// scripts/bench-controller.sh can measure one poll cycle at full size. Writes the pinned
// device map (per-CPU values) and flow map directly, the way the programs would have after
// hours of traffic: plausible counters, CLOCK_MONOTONIC stamps of the last few seconds.
// Checks afterwards that every entry is there (an LRU map evicts silently) and exits 1 if not.
//
// A bench lasts longer than a flow stays "active" for the controller (seen within the last
// interval), and rewriting a stamp from userspace would evict other entries of a full LRU
// hash (an update takes a new slot before it frees the old one). So --active-for S dates the
// last-seen stamps of the active share of flows and of the devices up to S seconds ahead:
// they stay active for S seconds, as on a network whose data plane keeps touching them.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "dataplane/pinned.h"
#include "dataplane/tables.h"
#include "net/address.h"

using namespace warden;

namespace {

const char* kUsage = R"(usage: bench_fill_maps --pin-dir DIR [options]
  --pin-dir DIR       where the running warden pinned its maps
  --devices N         device entries to write (default 1024)
  --flows N           flow entries to write, spread evenly over the devices (default 65536)
  --active-for S      keep devices and the active flows "seen" for S seconds (default 0: the
                      stamps are of the last 3 seconds and age from there)
  --active-share PCT  percentage of flows that are active (default 100); the others were
                      last seen 5 s to 10 min ago
  --seed N            seed for the counters and stamps (default 1), so runs are comparable
  --time-reads N      then time N full reads of the filled maps from cold caches (the floor
                      under a poll)
  --reads-json FILE   write those timings there as JSON (medians, ms of this thread's CPU)
Needs root. Prints what it wrote and what the maps hold then (and the read timings). Exit
code 1 when entries are missing afterwards or a write fails, 2 on a usage error.)";

struct Options {
    std::string pin_dir;
    uint32_t devices = 1024;
    uint32_t flows = 65536;
    uint32_t active_for_s = 0;
    uint32_t active_share = 100;
    uint64_t seed = 1;
    uint32_t time_reads = 0;
    std::string reads_json;
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
        else if (flag == "--active-for") o.active_for_s = parse_count(flag, value, 0);
        else if (flag == "--active-share") o.active_share = parse_count(flag, value, 0);
        else if (flag == "--seed") o.seed = parse_count(flag, value, 0);
        else if (flag == "--time-reads") o.time_reads = parse_count(flag, value, 0);
        else if (flag == "--reads-json") o.reads_json = value;
        else throw std::invalid_argument("unknown option " + flag + "\n" + kUsage);
    }
    if (o.pin_dir.empty()) throw std::invalid_argument(std::string("--pin-dir is required\n") + kUsage);
    if (o.devices > 0xffffff) throw std::invalid_argument("--devices: at most 16777215 (24 bits of MAC)");
    if (o.active_share > 100) throw std::invalid_argument("--active-share: a percentage, 0 to 100");
    if (o.flows / o.devices > 65536)  // the peer address holds the flow's number in 16 bits
        throw std::invalid_argument("--flows: at most 65536 flows per device");
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
    explicit Filler(const Options& o) : o_(o), rng_(o.seed), now_(monotonic_ns()), lead_(o.active_for_s * 1'000'000'000ull) {}

    // A stamp between lo and hi nanoseconds ago, never before boot.
    uint64_t ago(uint64_t lo, uint64_t hi) {
        uint64_t back = std::uniform_int_distribution<uint64_t>(lo, hi)(rng_);
        return now_ > back ? now_ - back : 1;
    }
    uint64_t between(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); }
    // A last-seen stamp of something active: within the last lo..hi ns, moved ahead by the lead.
    uint64_t seen(uint64_t lo, uint64_t hi) { return ago(lo, hi) + lead_; }

    void fill_devices(int fd) {
        const int cpus = dataplane::possible_cpus();
        std::vector<wd_device_stats> per_cpu(cpus);
        for (uint32_t i = 0; i < o_.devices; ++i) {
            uint64_t first = ago(600'000'000'000ull, 3'600'000'000'000ull);  // 10 min .. 1 h ago
            uint64_t last = seen(0, 2'000'000'000ull);                       // the last 2 s
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
            uint64_t age = between(10'000'000'000ull, 600'000'000'000ull);  // started 10 s .. 10 min ago
            s.first_seen_ns = ago(age, age);
            bool active = uint64_t(f) * 2654435761u % 100 < o_.active_share;  // spread over the devices
            s.last_seen_ns = active ? seen(0, 3'000'000'000ull) : ago(5'000'000'000ull, age);
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
    uint64_t lead_;  // --active-for, in ns
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

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// A poll comes a second after the last one, when other work has pushed the map out of the
// CPU caches; back-to-back reads would find it warm and look cheaper. Writing a buffer
// larger than the last-level cache before each timed read puts the caches in that state.
void evict_caches() {
    static std::vector<uint8_t> junk(64u << 20);
    for (size_t i = 0; i < junk.size(); i += 64) junk[i]++;
}

template <typename Work>
double median_ms(uint32_t runs, Work&& work) {
    std::vector<double> times;
    for (uint32_t i = 0; i < runs; ++i) {
        evict_caches();
        double t0 = thread_cpu_ms();
        work();
        times.push_back(thread_cpu_ms() - t0);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

// The floor under a poll: reading the flow map with nothing kept (kernel walk and copy-out
// only, 256 entries a call as the controller asks), then the library reads a poll makes;
// each from cold caches.
void time_reads(const dataplane::PinnedMaps& maps, const Options& o) {
    using dataplane::MapId;
    const int flows_fd = maps.fd(MapId::flows);
    std::vector<wd_flow_key> keys(256);
    std::vector<wd_flow_stats> values(256);
    size_t seen = 0;
    double scan = median_ms(o.time_reads, [&] {
        uint64_t cursor = 0;
        bool first = true;
        seen = 0;
        for (;;) {
            uint32_t count = keys.size();
            int err = bpf_map_lookup_batch(flows_fd, first ? nullptr : &cursor, &cursor, keys.data(),
                                           values.data(), &count, nullptr);
            seen += count;
            if (err && errno == ENOENT) break;
            if (err) throw std::runtime_error(std::string("batch read of the flow map: ") + std::strerror(errno));
            first = false;
        }
    });
    size_t read_all_flows = 0, read_all_devices = 0;
    double flows = median_ms(o.time_reads, [&] { read_all_flows = maps.flows().read_all().size(); });
    double devices = median_ms(o.time_reads, [&] { read_all_devices = maps.devices().read_all().size(); });
    if (seen < o.flows || read_all_flows < o.flows || read_all_devices < o.devices)
        throw std::runtime_error("a timed read saw fewer entries than were written");
    std::printf("reads (median of %u, ms of CPU): flow map batch walk %.2f, FlowTable::read_all %.2f, "
                "DeviceTable::read_all %.2f\n",
                o.time_reads, scan, flows, devices);
    if (!o.reads_json.empty()) {
        FILE* f = std::fopen(o.reads_json.c_str(), "w");
        if (!f) throw std::runtime_error("cannot write " + o.reads_json + ": " + std::strerror(errno));
        std::fprintf(f, "{\"runs\": %u, \"flow_scan_ms\": %.3f, \"flow_read_all_ms\": %.3f, \"device_read_all_ms\": %.3f}\n",
                     o.time_reads, scan, flows, devices);
        std::fclose(f);
    }
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
        // An LRU map hands each CPU its own batch of free slots: writing from one CPU only
        // keeps the others' batches untouched, so a map sized to the fill holds all of it.
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu(), &one);
        if (sched_setaffinity(0, sizeof one, &one))
            std::fprintf(stderr, "bench_fill_maps: cannot stay on one CPU (%s); an LRU map may evict\n",
                         std::strerror(errno));
        Filler filler(o);
        filler.fill_devices(maps.fd(MapId::devices));
        filler.fill_flows(maps.fd(MapId::flows));

        uint32_t devices = count_entries(maps.fd(MapId::devices), sizeof(wd_device_key));
        uint32_t flows = count_entries(maps.fd(MapId::flows), sizeof(wd_flow_key));
        std::printf("wrote %u devices and %u flows; the maps hold %u devices and %u flows\n", o.devices, o.flows,
                    devices, flows);
        if (devices < o.devices || flows < o.flows) {
            std::fprintf(stderr,
                         "bench_fill_maps: entries are missing: the LRU maps evicted them (traffic from "
                         "another CPU holds free slots); give the maps room above the fill (map_sizes)\n");
            return 1;
        }
        if (o.time_reads) time_reads(maps, o);
        return 0;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "bench_fill_maps: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_fill_maps: %s\n", e.what());
        return 1;
    }
}
