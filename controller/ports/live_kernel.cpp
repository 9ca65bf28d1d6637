#include "ports/live_kernel.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace warden::ports {

LiveKernel::LiveKernel(const dataplane::Dataplane& dataplane, std::string pin_dir)
    : dataplane_(dataplane), pin_dir_(std::move(pin_dir)) {
    timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (timer_ < 0 || epoll_ < 0) {
        int err = errno;
        if (timer_ >= 0) close(timer_);
        if (epoll_ >= 0) close(epoll_);
        throw std::runtime_error(std::string("cannot set up the port checks: ") + std::strerror(err));
    }
    itimerspec every{};
    every.it_interval.tv_nsec = kCheckEveryMs * 1'000'000L;
    every.it_value = every.it_interval;
    timerfd_settime(timer_, 0, &every, nullptr);
    for (int fd : {watcher_.fd(), timer_}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    }
}

LiveKernel::~LiveKernel() {
    close(timer_);
    close(epoll_);
}

std::vector<net::LinkEvent> LiveKernel::changes(bool& check_due) {
    uint64_t expirations = 0;
    check_due = read(timer_, &expirations, sizeof expirations) == sizeof expirations && expirations > 0;
    return watcher_.read();
}

dataplane::KernelHooks LiveKernel::inspect(int ifindex) { return dataplane::inspect_interface(ifindex); }

uint32_t LiveKernel::program_id(dataplane::Program program) const { return dataplane_.program_id(program); }

dataplane::Attachment LiveKernel::attach(dataplane::Program program, const std::string& ifname, int ifindex,
                                         dataplane::XdpMode mode) {
    int fd = dataplane_.program_fd(program);
    switch (program) {
        case dataplane::Program::lan_ingress:
            return dataplane::attach_xdp(fd, "lan_ingress", ifname, ifindex, mode, pin_dir_);
        case dataplane::Program::wan_ingress:
            return dataplane::attach_xdp(fd, "wan_ingress", ifname, ifindex, mode, pin_dir_);
        case dataplane::Program::lan_egress:
            return dataplane::attach_tc_egress(fd, "lan_egress", ifname, ifindex);
    }
    throw std::logic_error("unknown program");
}

dataplane::DetachReport LiveKernel::detach(const std::string& ifname, int ifindex) {
    return dataplane::detach_interface(pin_dir_, ifname, ifindex);
}

int64_t LiveKernel::now_ms() const {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace warden::ports
