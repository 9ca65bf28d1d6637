// Runs warden's real BPF programs on crafted frames with BPF_PROG_TEST_RUN: loads them
// through the controller's own loader (no pins, no interfaces) and gives typed access to
// the maps and the events they wrote. Needs root (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON).
#pragma once

#include <memory>
#include <sched.h>
#include <string>
#include <vector>

#include "dataplane/dataplane.h"
#include "dataplane/events.h"
#include "dataplane/tables.h"
#include "support/packet_builder.h"

namespace warden::testing {

struct CapturedEvent {
    wd_event hdr{};
    Bytes packet;                        // the copied frame, for WD_EV_PACKET_COPY
    std::optional<wd_event_flow> flow;   // for WD_EV_NEW_FLOW
};

// The home network every packet test uses: the gateway (two LAN MACs, an address in each
// family), two devices, a resolver and a peer on "the internet". Only 198.18.0.0/15 and
// fd00::/8, as DESIGN.md asks, so nothing here could ever name a real host.
struct TestLan {
    net::Mac gateway = mac("02:00:00:00:00:fe");
    net::Mac gateway_wlan = mac("02:00:00:00:01:fe");  // the gateway's second LAN port
    net::Mac device = mac("02:00:00:00:00:01");
    net::Mac other = mac("02:00:00:00:00:02");  // a second device on the LAN
    net::Mac broadcast = mac("ff:ff:ff:ff:ff:ff");
    net::IpAddr gateway4 = ip("198.18.0.1"), gateway6 = ip("fd00::1");
    net::IpAddr device4 = ip("198.18.0.10"), device6 = ip("fd00::10");
    net::IpAddr device6_link = ip("fe80::10");
    net::IpAddr other4 = ip("198.18.0.11"), other6 = ip("fd00::11");
    net::IpAddr peer4 = ip("198.19.0.80"), peer6 = ip("fd00:1::80");
    net::IpAddr resolver4 = ip("198.19.0.53"), resolver6 = ip("fd00:1::53");  // not the gateway
};
const TestLan& lan();

struct RunResult {
    int verdict = -1;
    Bytes out;  // the frame after the program ran
};

class Harness {
public:
    explicit Harness(const dataplane::LoadOptions& options = dataplane::LoadOptions{});

    // Runs the program once on frame and returns its verdict (XDP_* or TC_ACT_*).
    // Throws if the kernel refuses to run it.
    int run(dataplane::Program program, const Bytes& frame);
    RunResult run_full(dataplane::Program program, const Bytes& frame);
    // Runs it repeat times in the kernel; returns the mean ns per run the kernel measured.
    double time_ns(dataplane::Program program, const Bytes& frame, uint32_t repeat);

    dataplane::DeviceTable devices() const;
    dataplane::FlowTable flows() const;
    dataplane::QuarantineTable quarantine() const;
    dataplane::Blocklist blocklist() const;
    dataplane::GatewayTable gateway() const;
    dataplane::StatsTable stats() const;

    // Every event written since the last call, oldest first.
    std::vector<CapturedEvent> take_events();

    // Writes the gateway's MACs and addresses of the test LAN into the gateway map.
    void set_gateway(const TestLan& lan = testing::lan());
    // Quarantines a device from now on (expires_ns: CLOCK_MONOTONIC, 0 = until released).
    void quarantine_device(const net::Mac& mac, uint32_t level, uint64_t expires_ns = 0);
    // The program's slot of wd_stats, summed over CPUs.
    wd_prog_stats prog_stats(dataplane::Program program) const;
    // A device's counters exactly as each CPU holds them (empty when the device is unknown).
    std::vector<wd_device_stats> device_stats_per_cpu(const net::Mac& mac) const;
    // Empties every map and drops unread events, so one load serves several cases.
    void reset();

    dataplane::Dataplane& dataplane() { return *dp_; }

private:
    std::unique_ptr<dataplane::Dataplane> dp_;
    std::vector<CapturedEvent> pending_;
    std::unique_ptr<dataplane::EventReader> reader_;
};

// One Harness loaded with the default options, shared by the cases that need nothing
// else: a load costs ~0.2 s (the verifier), a reset() a few ms. Returned reset.
Harness& shared_harness();

uint64_t monotonic_ns();

// Events of one kind (enum wd_event_kind), in order.
std::vector<CapturedEvent> events_of_kind(const std::vector<CapturedEvent>& events, uint32_t kind);

int program_id(dataplane::Program program);  // enum wd_prog_id

// Keeps the calling thread on one CPU while it lives (BPF_PROG_TEST_RUN runs the program
// on the caller's CPU, so per-CPU map slots are chosen this way). Throws when the CPU is
// not usable; restores the previous affinity on destruction.
class PinToCpu {
public:
    explicit PinToCpu(int cpu);
    ~PinToCpu();
    PinToCpu(const PinToCpu&) = delete;
    PinToCpu& operator=(const PinToCpu&) = delete;

private:
    cpu_set_t previous_{};
};

// CPUs this thread may run on (the affinity mask), so a test knows which ones it can pin to.
std::vector<int> usable_cpus();

// Why the packet tests cannot run here, or empty when they can.
std::string why_no_bpf();

// The flow key lan_ingress builds for a frame the device sent (test-side reference).
wd_flow_key flow_key(const net::Mac& device, uint8_t proto, const net::IpAddr& device_addr,
                     const net::IpAddr& peer, uint16_t device_port, uint16_t peer_port);

}  // namespace warden::testing
