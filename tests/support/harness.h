// Runs warden's real BPF programs on crafted frames with BPF_PROG_TEST_RUN: loads them
// through the controller's own loader (no pins, no interfaces) and gives typed access to
// the maps and the events they wrote. Needs root (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dataplane/dataplane.h"
#include "dataplane/events.h"
#include "dataplane/tables.h"
#include "support/packet_builder.h"

namespace warden::testing {

struct CapturedEvent {
    wd_event hdr{};
    Bytes packet;  // the copied frame, for WD_EV_PACKET_COPY
};

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

    dataplane::Dataplane& dataplane() { return *dp_; }

private:
    std::unique_ptr<dataplane::Dataplane> dp_;
    std::vector<CapturedEvent> pending_;
    std::unique_ptr<dataplane::EventReader> reader_;
};

uint64_t monotonic_ns();

// Why the packet tests cannot run here, or empty when they can.
std::string why_no_bpf();

// The flow key lan_ingress builds for a frame the device sent (test-side reference).
wd_flow_key flow_key(const net::Mac& device, uint8_t proto, const net::IpAddr& device_addr,
                     const net::IpAddr& peer, uint16_t device_port, uint16_t peer_port);

}  // namespace warden::testing
