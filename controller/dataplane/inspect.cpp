#include "dataplane/inspect.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <system_error>

#include "dataplane/attach.h"
#include "net/rtnetlink.h"

namespace warden::dataplane {

namespace {

const char* xdp_mode_of(uint8_t attach_mode) {
    switch (attach_mode) {
        case XDP_ATTACHED_DRV: return "native";
        case XDP_ATTACHED_SKB: return "generic";
        case XDP_ATTACHED_HW: return "offload";
        case XDP_ATTACHED_MULTI: return "multi";
        default: return "none";
    }
}

// Every BPF filter on one clsact hook (the kernel's answer to `tc filter show dev X egress`).
void tc_filters(int ifindex, bool egress, std::vector<HookProgram>& out) {
    struct {
        nlmsghdr hdr;
        tcmsg tc;
    } req{};
    req.hdr.nlmsg_len = sizeof req;
    req.hdr.nlmsg_type = RTM_GETTFILTER;
    req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.hdr.nlmsg_seq = 1;
    req.tc.tcm_family = AF_UNSPEC;
    req.tc.tcm_ifindex = ifindex;
    req.tc.tcm_parent = TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
    net::rtnl_dump(&req, sizeof req, "RTM_GETTFILTER", [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWTFILTER) return;
        auto* tc = static_cast<const tcmsg*>(NLMSG_DATA(h));
        HookProgram p;
        p.hook = egress ? "tc egress" : "tc ingress";
        p.mode = "tc";
        p.tc_handle = tc->tcm_handle;
        p.tc_priority = TC_H_MAJ(tc->tcm_info) >> 16;
        bool bpf = false;
        net::for_each_attribute(h, sizeof(tcmsg), [&](unsigned short type, const void* data, size_t len) {
            if (type == TCA_KIND) bpf = std::strncmp(static_cast<const char*>(data), "bpf", len) == 0;
            if (type != TCA_OPTIONS) return;
            net::for_each_nested(data, len, [&](unsigned short t, const void* d, size_t l) {
                if (t == TCA_BPF_ID && l >= 4) std::memcpy(&p.id, d, 4);
            });
        });
        // (each priority also has a header entry without a handle or a program: skipped)
        if (bpf && p.id) {
            p.name = program_name(p.id);
            out.push_back(std::move(p));
        }
    });
}

}  // namespace

std::string program_name(uint32_t prog_id) {
    // Ports are inspected a few times a second and the programs on them rarely change: a
    // program's name is asked once (an id is not reused while the kernel has ids to spare).
    thread_local std::map<uint32_t, std::string> known;
    if (auto it = known.find(prog_id); it != known.end()) return it->second;
    int fd = bpf_prog_get_fd_by_id(prog_id);
    if (fd < 0) return "?";
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    std::string name = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.name : "?";
    close(fd);
    if (known.size() > 256) known.clear();  // bounded: programs come and go over months
    if (name != "?") known[prog_id] = name;
    return name;
}

const HookProgram* KernelHooks::at(const std::string& hook) const {
    for (const auto& p : programs) {
        if (p.hook != hook) continue;
        if (hook == "xdp" || (p.tc_handle == kTcHandle && p.tc_priority == kTcPriority)) return &p;
    }
    return nullptr;
}

KernelHooks inspect_interface(int ifindex) {
    KernelHooks k;
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (int err = bpf_xdp_query(ifindex, 0, &q); err) {
        k.error = std::string("cannot query XDP: ") + std::strerror(-err);
    } else if (q.attach_mode != XDP_ATTACHED_NONE) {
        HookProgram p;
        p.hook = "xdp";
        p.mode = xdp_mode_of(q.attach_mode);
        // One mode: prog_id. Several at once (multi): the driver's is the one that runs first.
        p.id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
        p.name = program_name(p.id);
        k.programs.push_back(std::move(p));
    }
    for (bool egress : {false, true}) {
        try {
            tc_filters(ifindex, egress, k.programs);
        } catch (const std::system_error& e) {
            // No clsact qdisc: nothing attached there, not an error.
            if (e.code().value() != EINVAL && e.code().value() != ENOENT)
                k.error += (k.error.empty() ? "" : "; ") + std::string("cannot list tc filters: ") + e.what();
        }
    }
    return k;
}

std::vector<Fault> compare(const std::string& ifname, std::span<const ExpectedProgram> expected,
                           const KernelHooks& kernel) {
    std::vector<Fault> out;
    for (const auto& want : expected) {
        const HookProgram* have = kernel.at(want.hook);
        std::string where = " on " + ifname;
        if (!have) {
            out.push_back({Fault::Kind::missing, want.hook, want.program, want.program + " missing" + where});
        } else if (have->id != want.id) {
            std::string what = have->name + " (id " + std::to_string(have->id) + ")";
            if (have->name == want.program)
                out.push_back({Fault::Kind::stale, want.hook, want.program,
                               "an older " + want.program + " " + what.substr(have->name.size() + 1) + where});
            else
                out.push_back({Fault::Kind::foreign, want.hook, want.program,
                               "foreign " + (want.hook == "xdp" ? std::string("XDP") : want.hook) + " program " + what +
                                   where + " instead of " + want.program});
        }
    }
    return out;
}

}  // namespace warden::dataplane
