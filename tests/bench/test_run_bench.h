// Part 1 of the data-plane benchmark: ns per frame under BPF_PROG_TEST_RUN for the floor
// (a bare XDP_DROP), lan_ingress's drop and pass paths, and xdp-filter as the peer, run
// interleaved (a b c d e, a b c d e, ...) so drift in the machine hits every case alike.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "net/address.h"
#include "support/harness.h"

namespace warden::bench {

struct TestRunSetup {
    uint32_t repeat = 1000000;  // frames per measurement (the kernel's repeat)
    int runs = 7;               // measurements per case; the table shows their median
    net::Mac device;            // a known device (its frames pass)
    net::Mac isolated;          // quarantined at level isolate in the harness's maps
    net::Mac gateway;           // one of the gateway's MACs in the harness's maps
    std::optional<unsigned> xdp_filter_prog_id;  // xdp-filter set to drop `isolated`
};

// Runs the cases and returns the Markdown report (settings, table, targets). `warden` holds
// the realistic blocklist; `no_blocklist` is configured the same but with an empty one, for
// context rows. Throws if a program's verdict is not the expected one, or if warden's
// counters show it did not do the work the case claims to measure.
std::string run_test_run_bench(testing::Harness& warden, testing::Harness& no_blocklist,
                               const TestRunSetup& setup);

}  // namespace warden::bench
