#include "store/owner.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "store/files.h"

namespace warden::store {

namespace {

struct Holder {
    pid_t pid = 0;
    bool controller = true;  // a file without a role is an older controller's
};

std::optional<Holder> read_holder(int fd) {
    char buf[64] = {};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return std::nullopt;
    char* end = nullptr;
    long pid = std::strtol(buf, &end, 10);
    if (pid <= 0) return std::nullopt;
    Holder h;
    h.pid = static_cast<pid_t>(pid);
    h.controller = std::string(end).find("cli") == std::string::npos;
    return h;
}

int open_pid_file(const std::string& path) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        if (errno == EACCES || errno == EPERM)
            throw std::runtime_error("cannot open " + path + ": " + permission_hint());
        throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    }
    return fd;
}

}  // namespace

void Owner::write_pid() {
    std::string text = std::to_string(getpid()) + (role_ == Role::cli ? " cli" : " controller") + "\n";
    if (ftruncate(fd_, 0) != 0 || pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        throw std::runtime_error("cannot write " + path_ + ": " + std::strerror(errno));
}

Owner::Owner(const std::string& path, Role role, std::chrono::milliseconds wait) : path_(path), role_(role) {
    fd_ = open_pid_file(path);
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        auto holder = read_holder(fd_);
        bool cli_holds = holder && !holder->controller;
        if (!cli_holds || std::chrono::steady_clock::now() >= deadline) {
            close(fd_);
            fd_ = -1;
            if (cli_holds)
                throw std::runtime_error("a warden command (pid " + std::to_string(holder->pid) +
                                         ") holds the state dir; try again");
            throw std::runtime_error("warden is already running" +
                                     (holder ? " (pid " + std::to_string(holder->pid) + ")" : std::string()) +
                                     " with this state dir");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    write_pid();
}

std::optional<Owner> Owner::try_take(const std::string& path, Role role) {
    int fd = open_pid_file(path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return std::nullopt;
    }
    Owner o(path, fd, role);
    o.write_pid();
    return o;
}

Owner::~Owner() {
    if (fd_ < 0) return;
    // Emptied, never removed: a process that opened the file before a removal would lock a
    // file nobody else can see, and two owners would follow.
    if (ftruncate(fd_, 0) != 0) {
    }
    close(fd_);
}

std::optional<pid_t> running_controller(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::optional<pid_t> pid;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        auto holder = read_holder(fd);
        if (holder && holder->controller) pid = holder->pid;
    }
    close(fd);
    return pid;
}

}  // namespace warden::store
