#include "dataplane/pinned.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace warden::dataplane {

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
