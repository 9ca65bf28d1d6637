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

Harness::Harness(const dataplane::LoadOptions& options)
    : dp_(std::make_unique<dataplane::Dataplane>(options)) {
    reader_ = std::make_unique<dataplane::EventReader>(
        dp_->map_fd(MapId::events), [this](const wd_event& ev, std::span<const uint8_t> pkt) {
            pending_.push_back({ev, Bytes(pkt.begin(), pkt.end())});
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
    return dataplane::Blocklist(dp_->map_fd(MapId::block_v4), dp_->map_fd(MapId::block_v6));
}
dataplane::GatewayTable Harness::gateway() const {
    return dataplane::GatewayTable(dp_->map_fd(MapId::gateway));
}
dataplane::StatsTable Harness::stats() const { return dataplane::StatsTable(dp_->map_fd(MapId::stats)); }

std::vector<CapturedEvent> Harness::take_events() {
    reader_->drain();
    return std::exchange(pending_, {});
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
