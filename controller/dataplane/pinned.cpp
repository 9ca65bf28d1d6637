#include "dataplane/pinned.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace warden::dataplane {

namespace {

// The pid holding an flock on path's inode, from /proc/locks ("1: FLOCK ADVISORY WRITE pid
// maj:min:inode 0 EOF"), for the message.
std::optional<long> flock_holder(const std::string& path) {
    struct stat st{};
    if (stat(path.c_str(), &st) != 0) return std::nullopt;
    std::ifstream in("/proc/locks");
    std::string line;
    char want[64];
    std::snprintf(want, sizeof want, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
                  static_cast<unsigned long>(st.st_ino));
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string n, type, advisory, mode, id;
        long pid = 0;
        if (!(words >> n >> type >> advisory >> mode >> pid >> id)) continue;
        if (type == "FLOCK" && id == want) return pid;
    }
    return std::nullopt;
}

std::runtime_error held_by(const std::string& pin_dir) {
    auto pid = flock_holder(pin_dir);
    return std::runtime_error("a running warden controller" + (pid ? " (pid " + std::to_string(*pid) + ")" : std::string()) +
                              " uses the programs and maps pinned under " + pin_dir +
                              "; stop it first (systemctl stop warden, or kill -TERM its pid)");
}

}  // namespace

PinDirLock::PinDirLock(const std::string& pin_dir) {
    std::error_code ec;
    std::filesystem::create_directories(pin_dir, ec);
    fd_ = open(pin_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error("cannot open pin dir " + pin_dir + ": " + std::strerror(errno));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        close(fd_);
        fd_ = -1;
        throw held_by(pin_dir);
    }
}

PinDirLock::~PinDirLock() {
    if (fd_ >= 0) close(fd_);
}

void PinDirLock::check_free(const std::string& pin_dir) {
    int fd = open(pin_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    bool busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    if (busy) throw held_by(pin_dir);
}

bool maps_pinned(const std::string& pin_dir) {
    for (MapId id : kAllMaps)
        if (!std::filesystem::exists(pin_dir + "/" + std::string(map_name(id)))) return false;
    return true;
}

PinnedMaps::PinnedMaps(const std::string& pin_dir) {
    fds_.fill(-1);
    for (MapId id : kAllMaps) {
        std::string path = pin_dir + "/" + std::string(map_name(id));
        int fd = bpf_obj_get(path.c_str());
        if (fd < 0) {
            int err = errno;
            for (int f : fds_)
                if (f >= 0) close(f);
            if (err == ENOENT)
                throw std::runtime_error("warden is not running: no maps pinned under " + pin_dir +
                                         " (start it with `warden run`, or pass --pin-dir)");
            throw std::runtime_error("cannot open " + path + ": " + std::strerror(err) +
                                     (err == EPERM || err == EACCES ? " (run as root)" : ""));
        }
        fds_[static_cast<size_t>(id)] = fd;
    }
}

PinnedMaps::~PinnedMaps() {
    for (int fd : fds_)
        if (fd >= 0) close(fd);
}

uint32_t PinnedMaps::capacity(MapId id) const {
    bpf_map_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd(id), &info, &len)) return 0;
    return info.max_entries;
}

}  // namespace warden::dataplane
