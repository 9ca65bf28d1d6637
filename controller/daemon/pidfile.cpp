#include "daemon/pidfile.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace warden::daemon {

namespace {

std::optional<pid_t> read_pid(int fd) {
    char buf[32] = {};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return std::nullopt;
    long pid = std::strtol(buf, nullptr, 10);
    if (pid <= 0) return std::nullopt;
    return static_cast<pid_t>(pid);
}

}  // namespace

PidFile::PidFile(const std::string& path) : path_(path) {
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        auto pid = read_pid(fd_);
        close(fd_);
        fd_ = -1;
        throw std::runtime_error("warden is already running" +
                                 (pid ? " (pid " + std::to_string(*pid) + ")" : std::string()) +
                                 " with this state dir");
    }
    std::string text = std::to_string(getpid()) + "\n";
    if (ftruncate(fd_, 0) != 0 || pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}

PidFile::~PidFile() {
    if (fd_ >= 0) {
        unlink(path_.c_str());
        close(fd_);
    }
}

std::optional<pid_t> running_controller(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::optional<pid_t> pid;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) pid = read_pid(fd);
    close(fd);
    return pid;
}

}  // namespace warden::daemon
