// The bench's own tiny XDP programs, loaded from raw instructions so nothing but the kernel
// stands between them and the measurement: the floor (return XDP_DROP), the baseline
// receiver (return XDP_PASS) and the traffic generator (redirect every frame out of one
// interface, run with BPF_F_TEST_XDP_LIVE_FRAMES).
#pragma once

#include <string>

namespace warden::bench {

// An owned program fd, closed on destruction.
class ProgramFd {
public:
    ProgramFd() = default;
    explicit ProgramFd(int fd) : fd_(fd) {}
    ~ProgramFd();
    ProgramFd(ProgramFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    ProgramFd& operator=(ProgramFd&& other) noexcept;
    ProgramFd(const ProgramFd&) = delete;
    ProgramFd& operator=(const ProgramFd&) = delete;
    int fd() const { return fd_; }

private:
    int fd_ = -1;
};

ProgramFd load_xdp_return(int verdict, const std::string& name);  // mov r0, verdict; exit
// bpf_redirect(ifindex, 0): ifindex is the interface in the namespace the program is run in.
ProgramFd load_xdp_redirect(int ifindex);
// Takes a reference to a program someone else loaded (e.g. xdp-filter), by its id.
ProgramFd program_by_id(unsigned id);
// The program's name as the kernel knows it.
std::string program_name(int fd);

}  // namespace warden::bench
