// What the kernel really has attached on an interface (its XDP program and every BPF tc
// filter), and how that compares with what warden expects there: the faults of a port, in
// words ("lan_ingress missing on lan2", "foreign XDP program on lan2"). Asking is cheap (a
// few netlink round trips), so the controller asks often.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace warden::dataplane {

// One BPF program on a hook of an interface, as the kernel reports it.
struct HookProgram {
    std::string hook;  // "xdp", "tc egress" or "tc ingress"
    uint32_t id = 0;   // the kernel's program id
    std::string name;  // the program's name ("?" when it cannot be read)
    std::string mode;  // xdp: native, generic, offload or multi; tc: "tc"
    unsigned tc_handle = 0, tc_priority = 0;  // tc filters only

    bool operator==(const HookProgram&) const = default;
};

struct KernelHooks {
    std::vector<HookProgram> programs;  // XDP first, then tc filters in the kernel's order
    std::string error;                  // set when the kernel could not be asked

    // Warden's place on a hook: the XDP program, or the tc filter at warden's handle and
    // priority (kTcHandle, kTcPriority). Null when nothing is there.
    const HookProgram* at(const std::string& hook) const;
};

// The name of the kernel's program `prog_id` ("?" when it cannot be read).
std::string program_name(uint32_t prog_id);

// Asks the kernel (bpf_xdp_query and a tc filter dump on the clsact hooks).
KernelHooks inspect_interface(int ifindex);

// What warden attaches to a hook of an interface and the id the program has in the kernel.
struct ExpectedProgram {
    std::string hook;     // "xdp" or "tc egress"
    std::string program;  // lan_ingress, lan_egress, wan_ingress
    uint32_t id = 0;
};

struct Fault {
    enum class Kind {
        missing,  // nothing at warden's place on the hook: someone removed it, or it never got there
        stale,    // warden's place holds an older program of warden's (same name, another id)
        foreign,  // another program holds the hook (XDP): warden does not replace it
    };
    Kind kind;
    std::string hook;
    std::string program;  // the one expected
    std::string text;     // "lan_ingress missing on lan2"

    bool operator==(const Fault&) const = default;
};

// The faults of interface `ifname` given what the kernel has; none when all is in place.
std::vector<Fault> compare(const std::string& ifname, std::span<const ExpectedProgram> expected,
                           const KernelHooks& kernel);

}  // namespace warden::dataplane
