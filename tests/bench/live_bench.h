// Part 2 of the data-plane benchmark: frames per second through a veth pair between two
// namespaces the script made. A generator (an XDP bpf_redirect program run with
// BPF_F_TEST_XDP_LIVE_FRAMES in the generator's namespace) sends small UDP frames out of
// its veth end; the DUT end runs (f) a bare XDP_PASS, (g) lan_ingress passing a known
// device, (h) lan_ingress dropping an isolated one, (i) the bare XDP_PASS plus an nftables
// netdev-ingress `ether saddr` drop rule. Cases run interleaved, like part 1.
#pragma once

#include <cstdint>
#include <string>

#include "net/address.h"
#include "support/harness.h"

namespace warden::bench {

struct LiveSetup {
    std::string gen_netns, gen_dev;  // the generator's namespace and veth end
    std::string dut_netns, dut_dev;  // the receiving namespace and veth end
    std::string gen_ip, dut_ip;      // IPv4 addresses of the two ends (198.18.0.0/15)
    net::Mac device;                 // the known device the frames of (f) and (g) come from
    net::Mac isolated;               // quarantined (isolate) in the harness's maps
    uint32_t frames = 1000000;       // frames the generator sends per measurement
    int runs = 5;
    double time_limit_s = 5;         // per measurement: the generator is interrupted after it
    int cpu = -1;                    // the CPU the bench is pinned to, or -1 (then: wall time)
};

// The DUT veth's MAC: the gateway MAC lan_ingress must know for (g)'s frames to count "up".
net::Mac dut_mac(const LiveSetup& setup);

// Why part 2 cannot run on this kernel, or "" when it can: the generator sends one frame the
// way it will in the measurements, and a kernel that refuses BPF_F_TEST_XDP_LIVE_FRAMES
// (too old, or forbidden here: EPERM on some VMs) says so with an error. Throws only when
// the setup itself is broken (no such namespace or interface).
std::string why_no_live_frames(const LiveSetup& setup);

// Runs the cases and returns the Markdown report; `no_blocklist` (like `warden` but with an
// empty blocklist) runs a context row. Throws when the counters show frames went where the
// case says they do not (e.g. a dropped case's frames reached the IP stack).
std::string run_live_bench(testing::Harness& warden, testing::Harness& no_blocklist,
                           const LiveSetup& setup);

}  // namespace warden::bench
