#include "control/socket.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "log/log.h"
#include "store/files.h"

namespace warden::control {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

sockaddr_un address_of(const std::filesystem::path& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.string().size() >= sizeof addr.sun_path)
        throw std::runtime_error("control socket path too long: " + path.string());
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    return addr;
}

// Waits for fd to be ready for events until deadline; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return false;
    }
}

bool write_all(int fd, const std::string& text, Clock::time_point deadline) {
    size_t done = 0;
    while (done < text.size()) {
        if (!wait_for(fd, POLLOUT, deadline)) return false;
        ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return false;
        }
        done += n;
    }
    return true;
}

// Reads until the peer shuts its writing side. nullopt on timeout, error or too much.
std::optional<std::string> read_all(int fd, size_t max, Clock::time_point deadline) {
    std::string out;
    char buf[16384];
    for (;;) {
        if (!wait_for(fd, POLLIN, deadline)) return std::nullopt;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0) return out;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return std::nullopt;
        }
        if (out.size() + n > max) return std::nullopt;
        out.append(buf, n);
    }
}

std::string user_name(uid_t uid) {
    passwd pw{}, *found = nullptr;
    char buf[1024];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) return pw.pw_name;
    return "uid " + std::to_string(uid);
}

// Whether the peer is root or in the warden group (as its primary group or one of the
// groups its process holds now, SO_PEERGROUPS): only they may ask anything. The socket's
// mode says the same (0660, group warden); this holds if that mode was ever widened.
bool may_ask(int fd, const ucred& cred) {
    if (cred.uid == 0) return true;
    group* g = getgrnam("warden");
    if (!g) return false;
    if (cred.gid == g->gr_gid) return true;
    std::vector<gid_t> groups(64);
    socklen_t len = groups.size() * sizeof(gid_t);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) != 0) {
        if (errno != ERANGE) return false;
        groups.resize(len / sizeof(gid_t));
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) != 0) return false;
    }
    groups.resize(len / sizeof(gid_t));
    return std::find(groups.begin(), groups.end(), g->gr_gid) != groups.end();
}

}  // namespace

SocketServer::SocketServer(std::filesystem::path path, Handler handler, NeedsRoot needs_root)
    : path_(std::move(path)), handler_(std::move(handler)), needs_root_(std::move(needs_root)) {
    sockaddr_un addr = address_of(path_);
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listen_fd_ < 0) throw std::runtime_error(std::string("control socket: ") + std::strerror(errno));
    // Only this process owns the state dir (store/owner.h), so a socket file there is a
    // crashed controller's.
    ::unlink(path_.c_str());
    mode_t old = umask(0177);
    int rc = bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    umask(old);
    if (rc != 0 || listen(listen_fd_, 16) != 0) {
        int e = errno;
        close(listen_fd_);
        throw std::runtime_error("cannot listen on " + path_.string() + ": " + std::strerror(e));
    }
    if (group* g = getgrnam("warden")) {
        if (chown(path_.c_str(), 0, g->gr_gid) == 0) chmod(path_.c_str(), 0660);
    }
    stop_fd_ = eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { serve(); });
}

SocketServer::~SocketServer() {
    uint64_t one = 1;
    if (stop_fd_ >= 0 && write(stop_fd_, &one, sizeof one) < 0) {
    }
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) close(listen_fd_);
    if (stop_fd_ >= 0) close(stop_fd_);
    ::unlink(path_.c_str());
}

void SocketServer::serve() {
    for (;;) {
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            log::error("control socket: poll: {}", std::strerror(errno));
            return;
        }
        if (fds[1].revents) return;
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) continue;
        serve_one(fd);
        close(fd);
    }
}

void SocketServer::serve_one(int fd) {
    auto deadline = Clock::now() + kReadDeadline;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return;
    Result result;
    auto text = read_all(fd, kMaxRequest, deadline);
    json request;
    if (!text) {
        result = Result::error(Result::Status::invalid, "the request was too large or too slow to arrive");
    } else {
        try {
            request = json::parse(*text);
        } catch (const json::exception&) {
            request = nullptr;
        }
        std::string op = request.is_object() && request.contains("op") && request["op"].is_string()
                             ? request["op"].get<std::string>()
                             : "";
        if (op.empty()) {
            result = Result::error(Result::Status::invalid, "a request is a JSON object with an \"op\"");
        } else if (!may_ask(fd, cred)) {
            result = Result::error(Result::Status::refused, "cannot ask the controller: " + store::permission_hint());
        } else if (cred.uid != 0 && needs_root_(op)) {
            result = Result::error(Result::Status::refused, needs_root_message(op));
        } else {
            try {
                result = handler_(request, Who{Origin::cli, user_name(cred.uid)});
            } catch (const std::exception& e) {
                result = Result::error(Result::Status::failed, e.what());
            }
        }
    }
    write_all(fd, result.to_json().dump(), Clock::now() + kReadDeadline);
}

std::string needs_root_message(const std::string& op) {
    return "permission denied: \"" + op + "\" changes what warden enforces (run as root)";
}

std::optional<Result> ask(const std::filesystem::path& path, const json& request, std::chrono::milliseconds timeout) {
    sockaddr_un addr = address_of(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT || e == ECONNREFUSED) return std::nullopt;  // no controller listens
        if (e == EACCES || e == EPERM)
            throw std::runtime_error("cannot reach the controller at " + path.string() + ": " + store::permission_hint());
        throw std::runtime_error("cannot reach the controller at " + path.string() + ": " + std::strerror(e));
    }
    auto deadline = Clock::now() + timeout;
    std::string text = request.dump();
    std::optional<std::string> reply;
    if (write_all(fd, text, deadline) && shutdown(fd, SHUT_WR) == 0) reply = read_all(fd, 64u << 20, deadline);
    close(fd);
    if (!reply)
        throw std::runtime_error("the controller did not answer within " +
                                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                                 " s (is it stuck? see its log)");
    try {
        return Result::from_json(json::parse(*reply));
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("the controller's answer is not a result: ") + e.what());
    }
}

}  // namespace warden::control
