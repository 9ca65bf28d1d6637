#include "dataplane/attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "dataplane/dataplane.h"
#include "dataplane/inspect.h"
#include "dataplane/maps.h"

namespace warden::dataplane {

namespace fs = std::filesystem;

namespace {

std::string errstr(int err) { return std::strerror(err < 0 ? -err : err); }

std::string link_pin(const std::string& pin_dir, const std::string& ifname) {
    return pin_dir + "/links/xdp_" + ifname;
}

// The mode the kernel reports for the XDP program on ifindex.
std::string current_xdp_mode(int ifindex) {
    auto hooks = inspect_interface(ifindex);
    const HookProgram* xdp = hooks.at("xdp");
    return xdp ? xdp->mode : hooks.error.empty() ? "none" : "unknown";
}

// Our earlier link on this interface, if its pin is there and still points at it.
int reusable_link(const std::string& pin, int ifindex) {
    if (!fs::exists(pin)) return -1;
    int fd = bpf_obj_get(pin.c_str());
    if (fd < 0) return -1;
    bpf_link_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == BPF_LINK_TYPE_XDP &&
        static_cast<int>(info.xdp.ifindex) == ifindex)
        return fd;
    // A stale pin (the interface went away or was renumbered): let it go.
    bpf_link_detach(fd);
    close(fd);
    unlink(pin.c_str());
    return -1;
}

}  // namespace

const char* xdp_mode_name(XdpMode mode) {
    switch (mode) {
        case XdpMode::automatic: return "auto";
        case XdpMode::native: return "native";
        case XdpMode::generic: return "generic";
    }
    return "?";
}

Attachment attach_xdp(int prog_fd, const std::string& program, const std::string& ifname,
                      int ifindex, XdpMode mode, const std::string& pin_dir) {
    Attachment a{ifname, ifindex, "xdp", "", program, false};
    std::string pin = link_pin(pin_dir, ifname);
    std::error_code ec;
    fs::create_directories(pin_dir + "/links", ec);
    if (ec) throw std::runtime_error("cannot create " + pin_dir + "/links: " + ec.message());

    int link = reusable_link(pin, ifindex);
    if (link >= 0) {
        std::string have = current_xdp_mode(ifindex);
        bool mode_ok = mode == XdpMode::automatic || have == xdp_mode_name(mode);
        if (mode_ok) {
            int err = bpf_link_update(link, prog_fd, nullptr);
            close(link);
            if (err) throw std::runtime_error("cannot update warden's XDP program on " + ifname + ": " + errstr(err));
            a.mode = have;
            a.replaced = true;
            return a;
        }
        // The policy asks for another mode: replace the link (a brief gap).
        bpf_link_detach(link);
        close(link);
        unlink(pin.c_str());
    }

    std::vector<uint32_t> tries;
    if (mode != XdpMode::generic) tries.push_back(XDP_FLAGS_DRV_MODE);
    if (mode != XdpMode::native) tries.push_back(XDP_FLAGS_SKB_MODE);
    int err = 0;
    for (uint32_t flags : tries) {
        LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
        link = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
        if (link >= 0) break;
        err = errno;
        if (err == EBUSY || err == EEXIST) {
            LIBBPF_OPTS(bpf_xdp_query_opts, q);
            std::string other = "another XDP program";
            if (bpf_xdp_query(ifindex, 0, &q) == 0 && q.prog_id)
                other = "XDP program " + program_name(q.prog_id) + " (id " + std::to_string(q.prog_id) + ")";
            throw std::runtime_error(ifname + " already has " + other +
                                     " attached; warden will not replace it (remove it with "
                                     "`ip link set dev " + ifname + " xdp off`)");
        }
    }
    if (link < 0) {
        std::string hint = mode == XdpMode::native
                               ? " (the driver may lack native XDP: try xdp_mode: auto or generic)"
                               : "";
        throw std::runtime_error("cannot attach " + program + " to " + ifname + " in " +
                                 xdp_mode_name(mode) + " mode: " + errstr(err) + hint);
    }
    if (bpf_obj_pin(link, pin.c_str())) {
        int e = errno;
        bpf_link_detach(link);
        close(link);
        throw std::runtime_error("cannot pin the XDP link at " + pin + ": " + errstr(e));
    }
    close(link);
    a.mode = current_xdp_mode(ifindex);
    return a;
}

Attachment attach_tc_egress(int prog_fd, const std::string& program, const std::string& ifname,
                            int ifindex) {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
    int err;
    {
        QuietLibbpf quiet;  // an existing clsact qdisc (EEXIST) is fine
        err = bpf_tc_hook_create(&hook);
    }
    if (err && err != -EEXIST)
        throw std::runtime_error("cannot create the clsact qdisc on " + ifname + ": " + errstr(err));
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE,
                .handle = kTcHandle, .priority = kTcPriority);
    // BPF_TC_F_REPLACE swaps an earlier warden filter atomically: no gap in enforcement.
    err = bpf_tc_attach(&hook, &opts);
    if (err)
        throw std::runtime_error("cannot attach " + program + " to " + ifname + " tc egress: " + errstr(err));
    return Attachment{ifname, ifindex, "tc egress", "tc", program, false};
}

DetachReport detach_interface(const std::string& pin_dir, const std::string& ifname, int ifindex) {
    DetachReport r;
    std::string pin = link_pin(pin_dir, ifname);
    if (fs::exists(pin)) {
        int fd = bpf_obj_get(pin.c_str());
        if (fd >= 0) {
            bpf_link_detach(fd);
            close(fd);
        }
        if (unlink(pin.c_str()) == 0)
            r.removed.push_back("XDP link on " + ifname);
        else
            r.problems.push_back("cannot remove " + pin + ": " + errstr(errno));
    }
    if (ifindex > 0) {
        LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
        LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
        QuietLibbpf quiet;  // "no such filter" is the usual answer, not a problem
        if (bpf_tc_query(&hook, &opts) == 0) {
            LIBBPF_OPTS(bpf_tc_opts, del, .handle = kTcHandle, .priority = kTcPriority);
            int err = bpf_tc_detach(&hook, &del);
            if (err)
                r.problems.push_back("cannot remove the tc egress filter on " + ifname + ": " + errstr(err));
            else
                r.removed.push_back("tc egress filter on " + ifname);
        }
    }
    return r;
}

DetachReport detach_all(const std::string& pin_dir) {
    DetachReport r;
    auto merge = [&](DetachReport part) {
        r.removed.insert(r.removed.end(), part.removed.begin(), part.removed.end());
        r.problems.insert(r.problems.end(), part.problems.begin(), part.problems.end());
    };
    std::error_code ec;
    std::vector<std::string> linked;
    if (fs::is_directory(pin_dir + "/links", ec)) {
        for (const auto& e : fs::directory_iterator(pin_dir + "/links", ec)) {
            std::string name = e.path().filename();
            if (name.rfind("xdp_", 0) == 0) linked.push_back(name.substr(4));
        }
    }
    for (const auto& ifname : linked) merge(detach_interface(pin_dir, ifname, 0));

    // tc filters are not pinned: find ours on every interface of this namespace.
    if (auto* names = if_nameindex()) {
        for (auto* n = names; n->if_index; ++n) {
            LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(n->if_index),
                        .attach_point = BPF_TC_EGRESS);
            LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
            QuietLibbpf quiet;
            if (bpf_tc_query(&hook, &opts) == 0 && program_name(opts.prog_id) == "lan_egress")
                merge(detach_interface(pin_dir, n->if_name, n->if_index));
        }
        if_freenameindex(names);
    }

    for (MapId id : kAllMaps) {
        std::string pin = pin_dir + "/" + std::string(map_name(id));
        if (!fs::exists(pin)) continue;
        if (unlink(pin.c_str()) == 0)
            r.removed.push_back("map pin " + pin);
        else
            r.problems.push_back("cannot remove " + pin + ": " + errstr(errno));
    }
    fs::remove(pin_dir + "/links", ec);
    fs::remove(pin_dir, ec);
    if (ec && fs::exists(pin_dir))
        r.problems.push_back("left " + pin_dir + " in place: " + ec.message());
    return r;
}

}  // namespace warden::dataplane
