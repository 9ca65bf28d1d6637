#include "daemon/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "log/log.h"

namespace warden::daemon {

SystemdNotifier::SystemdNotifier() {
    const char* where = std::getenv("NOTIFY_SOCKET");
    if (!where || !*where) return;
    std::string path = where;
    if (path[0] != '/' && path[0] != '@') {
        log::warn("NOTIFY_SOCKET={} is neither a path nor @name: systemd is not told when warden is ready", path);
        return;
    }
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
        log::warn("NOTIFY_SOCKET is too long ({} bytes): systemd is not told when warden is ready", path.size());
        return;
    }
    if (path[0] == '@') path[0] = '\0';
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        log::warn("cannot open a socket for NOTIFY_SOCKET: {}", std::strerror(errno));
        return;
    }
    address_ = path;
    // The controller's own children (none today) must not notify in its name.
    unsetenv("NOTIFY_SOCKET");
}

SystemdNotifier::~SystemdNotifier() {
    if (fd_ >= 0) close(fd_);
}

void SystemdNotifier::send(const std::string& message) {
    if (fd_ < 0) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, address_.data(), address_.size());
    socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + address_.size());
    if (sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len) < 0)
        log::warn("cannot notify systemd ({}): {}", message.substr(0, message.find('\n')), std::strerror(errno));
}

void SystemdNotifier::ready(const std::string& status) {
    last_status_ = status;
    send("READY=1\nSTATUS=" + status);
}

void SystemdNotifier::status(const std::string& status) {
    if (status == last_status_) return;
    last_status_ = status;
    send("STATUS=" + status);
}

void SystemdNotifier::stopping() { send("STOPPING=1\nSTATUS=stopping"); }

std::string status_line(size_t ports_attached, size_t devices, size_t quarantined) {
    return std::to_string(ports_attached) + (ports_attached == 1 ? " port" : " ports") + " attached, " +
           std::to_string(devices) + (devices == 1 ? " device" : " devices") + ", " + std::to_string(quarantined) +
           " quarantined";
}

}  // namespace warden::daemon
