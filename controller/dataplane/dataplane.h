// Loads warden's three kernel programs with one shared set of maps, sized from the policy,
// optionally pinned (and reused from pins left by an earlier run, so a restart loses
// nothing). Attaching to interfaces is the caller's business (see attach.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/maps.h"
#include "warden/abi.h"

struct lan_ingress_bpf;
struct lan_egress_bpf;
struct wan_ingress_bpf;

namespace warden::dataplane {

struct MapSizes {
    uint32_t devices = WD_DEFAULT_DEVICES;
    uint32_t flows = WD_DEFAULT_FLOWS;
    uint32_t blocklist_v4 = WD_DEFAULT_BLOCKLIST;
    uint32_t blocklist_v6 = WD_DEFAULT_BLOCKLIST;
    uint32_t quarantine = WD_DEFAULT_QUARANTINE;
    uint32_t events_bytes = WD_DEFAULT_EVENTS_BYTES;  // rounded up to a power of two
};

struct LoadOptions {
    MapSizes sizes;
    std::string pin_dir;  // empty: nothing is pinned or reused
    uint64_t event_interval_ns = WD_EVENT_INTERVAL_NS;
    uint32_t flow_events_per_s = WD_FLOW_EVENTS_PER_S;  // new-flow events a device a second (a CPU)
};

enum class Program { lan_ingress, lan_egress, wan_ingress };

class Dataplane {
public:
    // Throws std::runtime_error saying what failed and what to do about it.
    explicit Dataplane(const LoadOptions& options);
    ~Dataplane();
    Dataplane(const Dataplane&) = delete;
    Dataplane& operator=(const Dataplane&) = delete;

    int program_fd(Program p) const;
    // The kernel's id of the program: what an interface holds when warden's program is there.
    uint32_t program_id(Program p) const;
    int map_fd(MapId id) const;
    // How many maps were taken over from pins of an earlier run (0 on a fresh start).
    int reused_maps() const { return reused_; }
    // Pins every map not pinned yet under the pin dir.
    void pin_maps();

private:
    void destroy();

    LoadOptions options_;
    lan_ingress_bpf* lan_ingress_ = nullptr;
    lan_egress_bpf* lan_egress_ = nullptr;
    wan_ingress_bpf* wan_ingress_ = nullptr;
    int reused_ = 0;
};

// Routes libbpf's own messages: warnings and errors to stderr, debug only when asked.
void set_libbpf_verbose(bool verbose);

// Silences libbpf on this thread while it lives: for probes whose failure is an answer
// (is there a filter here?) rather than an error worth printing.
class QuietLibbpf {
public:
    QuietLibbpf();
    ~QuietLibbpf();
    QuietLibbpf(const QuietLibbpf&) = delete;
    QuietLibbpf& operator=(const QuietLibbpf&) = delete;

private:
    bool was_;
};

}  // namespace warden::dataplane
