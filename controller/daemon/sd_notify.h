// systemd's service notification (Type=notify): READY=1 once warden enforces, STATUS= lines
// ("3 ports attached, 14 devices, 1 quarantined") as that changes, STOPPING=1 when it stops.
// One datagram each to the socket NOTIFY_SOCKET names; without NOTIFY_SOCKET (not started by
// systemd) nothing is sent. Written here rather than linked from libsystemd: the protocol is
// one sendmsg.
#pragma once

#include <string>

namespace warden::daemon {

class SystemdNotifier {
public:
    // Reads NOTIFY_SOCKET: a path, or "@name" for an abstract socket.
    SystemdNotifier();
    ~SystemdNotifier();
    SystemdNotifier(const SystemdNotifier&) = delete;
    SystemdNotifier& operator=(const SystemdNotifier&) = delete;

    bool enabled() const { return fd_ >= 0; }
    void ready(const std::string& status);
    // Sends STATUS= only when it differs from the last one sent.
    void status(const std::string& status);
    void stopping();

private:
    void send(const std::string& message);

    int fd_ = -1;
    std::string address_;  // the sockaddr_un path, '\0' first for an abstract socket
    std::string last_status_;
};

// "3 ports attached, 14 devices, 1 quarantined"
std::string status_line(size_t ports_attached, size_t devices, size_t quarantined);

}  // namespace warden::daemon
