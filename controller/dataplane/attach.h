// Attaching warden's programs to interfaces so they outlive the controller: XDP through
// bpf_links pinned under <pin dir>/links (a restart swaps the program in place, with no gap
// in enforcement), tc egress through a clsact filter at warden's own handle and priority.
#pragma once

#include <string>
#include <vector>

#include "dataplane/choices.h"

namespace warden::dataplane {

struct Attachment {
    std::string ifname;
    int ifindex = 0;
    std::string hook;  // "xdp" or "tc egress"
    std::string mode;  // "native", "generic" or "tc"
    std::string program;
    bool replaced = false;  // an earlier attachment of warden's was updated in place
};

// tc filter identity: warden's filter on a clsact egress hook is the one at this
// handle/priority, so warden never touches anyone else's filters.
inline constexpr unsigned kTcHandle = 0x57d;
inline constexpr unsigned kTcPriority = 0x57d;

// Attaches prog_fd at XDP on the interface, or updates warden's existing link there.
// automatic tries native (driver) mode first and falls back to generic (the caller logs
// which one it got). Throws with an actionable message, e.g. when another XDP program owns
// the interface.
Attachment attach_xdp(int prog_fd, const std::string& program, const std::string& ifname,
                      int ifindex, XdpMode mode, const std::string& pin_dir);

// Attaches prog_fd as warden's tc egress filter on the interface (replacing an older one).
Attachment attach_tc_egress(int prog_fd, const std::string& program, const std::string& ifname,
                            int ifindex);

struct DetachReport {
    std::vector<std::string> removed;   // what was detached or unpinned, for the log
    std::vector<std::string> problems;  // what could not be removed, and why
};

// Removes every XDP link pinned under pin_dir, warden's tc egress filter from every
// interface of this namespace that has one, and then the map pins and the pin dir itself.
DetachReport detach_all(const std::string& pin_dir);

// Removes warden's XDP link and tc filter from one interface (for an interface dropped from
// the policy on reload).
DetachReport detach_interface(const std::string& pin_dir, const std::string& ifname, int ifindex);

}  // namespace warden::dataplane
