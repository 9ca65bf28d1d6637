#include "raw_programs.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace warden::bench {

namespace {

bpf_insn mov64_imm(uint8_t reg, int32_t imm) {
    bpf_insn i{};
    i.code = BPF_ALU64 | BPF_MOV | BPF_K;
    i.dst_reg = reg;
    i.imm = imm;
    return i;
}

bpf_insn call(int32_t helper) {
    bpf_insn i{};
    i.code = BPF_JMP | BPF_CALL;
    i.imm = helper;
    return i;
}

bpf_insn exit_insn() {
    bpf_insn i{};
    i.code = BPF_JMP | BPF_EXIT;
    return i;
}

ProgramFd load(const std::string& name, const std::vector<bpf_insn>& insns) {
    std::vector<char> log(4096);
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_size = (__u32)log.size(),
                .log_buf = log.data());
    int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name.c_str(), "GPL", insns.data(), insns.size(), &opts);
    if (fd < 0) {
        int err = errno;
        throw std::runtime_error("cannot load the bench's " + name + " program: " +
                                 std::strerror(err) + " (run as root; verifier said: " +
                                 std::string(log.data()) + ")");
    }
    return ProgramFd(fd);
}

}  // namespace

ProgramFd::~ProgramFd() {
    if (fd_ >= 0) close(fd_);
}

ProgramFd& ProgramFd::operator=(ProgramFd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) close(fd_);
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

ProgramFd load_xdp_return(int verdict, const std::string& name) {
    return load(name, {mov64_imm(BPF_REG_0, verdict), exit_insn()});
}

ProgramFd load_xdp_redirect(int ifindex) {
    return load("wdb_redirect", {mov64_imm(BPF_REG_1, ifindex), mov64_imm(BPF_REG_2, 0),
                                 call(BPF_FUNC_redirect), exit_insn()});
}

ProgramFd program_by_id(unsigned id) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) {
        int err = errno;
        throw std::runtime_error("no BPF program with id " + std::to_string(id) + ": " +
                                 std::strerror(err) + " (is xdp-filter still loaded?)");
    }
    return ProgramFd(fd);
}

std::string program_name(int fd) {
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len)) return "";
    return info.name;
}

}  // namespace warden::bench
