// Ports' Kernel on the real kernel: the link watcher (net/link_watcher.h), a timer for the
// regular check, bpf_xdp_query and the tc filter dump (dataplane/inspect.h), and warden's
// attach and detach (dataplane/attach.h) with the loaded programs.
#pragma once

#include <string>

#include "dataplane/dataplane.h"
#include "net/link_watcher.h"
#include "ports/ports.h"

namespace warden::ports {

// How often the ports are checked against the kernel. A program removed without a link
// notification (a bpf_link detached through its id or pin) is put back within this; the
// check costs a few netlink round trips a port.
inline constexpr int kCheckEveryMs = 250;

class LiveKernel : public Kernel {
public:
    // Throws when the netlink socket or the timer cannot be made.
    LiveKernel(const dataplane::Dataplane& dataplane, std::string pin_dir);
    ~LiveKernel() override;
    LiveKernel(const LiveKernel&) = delete;
    LiveKernel& operator=(const LiveKernel&) = delete;

    int fd() const override { return epoll_; }
    const std::map<int, net::Interface>& links() const override { return watcher_.table().links(); }
    std::vector<net::LinkEvent> changes(bool& check_due) override;
    dataplane::KernelHooks inspect(int ifindex) override;
    uint32_t program_id(dataplane::Program program) const override;
    dataplane::Attachment attach(dataplane::Program program, const std::string& ifname, int ifindex,
                                 dataplane::XdpMode mode) override;
    dataplane::DetachReport detach(const std::string& ifname, int ifindex) override;
    int64_t now_ms() const override;

private:
    const dataplane::Dataplane& dataplane_;
    std::string pin_dir_;
    net::LinkWatcher watcher_;
    int timer_ = -1;
    int epoll_ = -1;  // the watcher's socket and the timer, as one fd for the daemon's loop
};

}  // namespace warden::ports
