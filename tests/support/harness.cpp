#include "support/harness.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <utility>

#include "dataplane/events.h"

namespace warden::testing {

using dataplane::MapId;

const TestLan& lan() {
    static const TestLan the_lan;
    return the_lan;
}

Harness::Harness(const dataplane::LoadOptions& options)
    : dp_(std::make_unique<dataplane::Dataplane>(options)) {
    reader_ = std::make_unique<dataplane::EventReader>(
        dp_->map_fd(MapId::events), [this](const dataplane::EventRecord& r) {
            pending_.push_back({r.hdr, Bytes(r.frame.begin(), r.frame.end()), r.flow});
        });
}

RunResult Harness::run_full(dataplane::Program program, const Bytes& frame) {
    RunResult r;
    r.out.resize(frame.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = r.out.data(),
                .data_size_in = (__u32)frame.size(), .data_size_out = (__u32)r.out.size(),
                .repeat = 1);
    int err = bpf_prog_test_run_opts(dp_->program_fd(program), &opts);
    if (err)
        throw std::runtime_error(std::string("BPF_PROG_TEST_RUN failed: ") + std::strerror(errno) +
                                 " (frame of " + std::to_string(frame.size()) + " bytes)");
    r.verdict = static_cast<int>(opts.retval);
    r.out.resize(opts.data_size_out);
    return r;
}

int Harness::run(dataplane::Program program, const Bytes& frame) {
    return run_full(program, frame).verdict;
}

double Harness::time_ns(dataplane::Program program, const Bytes& frame, uint32_t repeat) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = (__u32)frame.size(),
                .repeat = static_cast<int>(repeat));
    if (bpf_prog_test_run_opts(dp_->program_fd(program), &opts))
        throw std::runtime_error(std::string("BPF_PROG_TEST_RUN failed: ") + std::strerror(errno));
    return opts.duration;
}

dataplane::DeviceTable Harness::devices() const { return dataplane::DeviceTable(dp_->map_fd(MapId::devices)); }
dataplane::FlowTable Harness::flows() const { return dataplane::FlowTable(dp_->map_fd(MapId::flows)); }
dataplane::QuarantineTable Harness::quarantine() const {
    return dataplane::QuarantineTable(dp_->map_fd(MapId::quarantine));
}
dataplane::Blocklist Harness::blocklist() const {
    return dataplane::Blocklist(dp_->map_fd(MapId::block_v4), dp_->map_fd(MapId::block_v6),
                                dp_->map_fd(MapId::block_gen));
}
dataplane::GatewayTable Harness::gateway() const {
    return dataplane::GatewayTable(dp_->map_fd(MapId::gateway));
}
dataplane::StatsTable Harness::stats() const { return dataplane::StatsTable(dp_->map_fd(MapId::stats)); }

std::vector<CapturedEvent> Harness::take_events() {
    reader_->drain();
    return std::exchange(pending_, {});
}

void Harness::set_gateway(const TestLan& lan) {
    gateway().set({lan.gateway, lan.gateway_wlan}, {lan.gateway4, lan.gateway6});
}

void Harness::quarantine_device(const net::Mac& mac, uint32_t level, uint64_t expires_ns) {
    quarantine().put(mac, level, WD_ORIGIN_OPERATOR, monotonic_ns(), expires_ns);
}

wd_prog_stats Harness::prog_stats(dataplane::Program program) const {
    return stats().read(program_id(program));
}

std::vector<wd_device_stats> Harness::device_stats_per_cpu(const net::Mac& mac) const {
    std::vector<wd_device_stats> per_cpu(dataplane::possible_cpus());
    auto key = dataplane::device_key(mac);
    if (bpf_map_lookup_elem(dp_->map_fd(MapId::devices), &key, per_cpu.data())) return {};
    return per_cpu;
}

namespace {

std::runtime_error reset_error(const bpf_map_info& info, const char* what) {
    return std::runtime_error(std::string("cannot ") + what + " map " + info.name + ": " + std::strerror(errno));
}

// Empties one map whatever its type: keys deleted from hashes, LRUs and tries; every slot
// of an array (each CPU's, for per-CPU arrays) written with zeros. Ring buffers are
// drained by the caller.
void empty_map(int fd) {
    bpf_map_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len))
        throw std::runtime_error(std::string("cannot inspect a map: ") + std::strerror(errno));
    switch (info.type) {
        case BPF_MAP_TYPE_RINGBUF:
            return;
        case BPF_MAP_TYPE_ARRAY:
        case BPF_MAP_TYPE_PERCPU_ARRAY: {
            size_t copies = info.type == BPF_MAP_TYPE_PERCPU_ARRAY ? dataplane::possible_cpus() : 1;
            // Per-CPU values are laid out in 8-byte-aligned slots.
            std::vector<uint8_t> zeros(((info.value_size + 7) / 8) * 8 * copies);
            for (uint32_t i = 0; i < info.max_entries; ++i)
                if (bpf_map_update_elem(fd, &i, zeros.data(), BPF_ANY)) throw reset_error(info, "zero");
            return;
        }
        default: {
            // The next key is always the first, since the previous one is gone.
            std::vector<uint8_t> key(info.key_size);
            while (bpf_map_get_next_key(fd, nullptr, key.data()) == 0)
                if (bpf_map_delete_elem(fd, key.data())) throw reset_error(info, "empty");
            return;
        }
    }
}

}  // namespace

void Harness::reset() {
    for (MapId id : dataplane::kAllMaps) empty_map(dp_->map_fd(id));
    take_events();
}

Harness& shared_harness() {
    static Harness harness;
    harness.reset();
    return harness;
}

std::vector<CapturedEvent> events_of_kind(const std::vector<CapturedEvent>& events, uint32_t kind) {
    std::vector<CapturedEvent> out;
    for (const auto& e : events)
        if (e.hdr.kind == kind) out.push_back(e);
    return out;
}

int program_id(dataplane::Program program) {
    switch (program) {
        case dataplane::Program::lan_ingress: return WD_PROG_LAN_INGRESS;
        case dataplane::Program::lan_egress: return WD_PROG_LAN_EGRESS;
        case dataplane::Program::wan_ingress: return WD_PROG_WAN_INGRESS;
    }
    throw std::logic_error("unknown program");
}

PinToCpu::PinToCpu(int cpu) {
    if (sched_getaffinity(0, sizeof previous_, &previous_))
        throw std::runtime_error(std::string("sched_getaffinity: ") + std::strerror(errno));
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one))
        throw std::runtime_error("cannot pin the test thread to CPU " + std::to_string(cpu) + ": " +
                                 std::strerror(errno));
}

PinToCpu::~PinToCpu() { sched_setaffinity(0, sizeof previous_, &previous_); }

std::vector<int> usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set))
        throw std::runtime_error(std::string("sched_getaffinity: ") + std::strerror(errno));
    std::vector<int> out;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) out.push_back(cpu);
    return out;
}

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

std::string why_no_bpf() {
    if (geteuid() != 0) return "not root: BPF_PROG_TEST_RUN needs CAP_BPF and CAP_NET_ADMIN";
    // A tiny array map proves the bpf() syscall is usable here.
    int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "wd_probe", 4, 4, 1, nullptr);
    if (fd < 0) return std::string("bpf() unavailable: ") + std::strerror(errno);
    close(fd);
    return "";
}

wd_flow_key flow_key(const net::Mac& device, uint8_t proto, const net::IpAddr& device_addr,
                     const net::IpAddr& peer, uint16_t device_port, uint16_t peer_port) {
    wd_flow_key k{};
    std::memcpy(k.mac, device.bytes.data(), 6);
    k.proto = proto;
    std::memcpy(k.saddr, device_addr.bytes.data(), 16);
    std::memcpy(k.daddr, peer.bytes.data(), 16);
    k.sport = htons(device_port);
    k.dport = htons(peer_port);
    return k;
}

}  // namespace warden::testing
