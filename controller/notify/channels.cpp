#include "notify/channels.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

extern char** environ;

namespace warden::notify {

namespace {

using Clock = std::chrono::steady_clock;

struct Url {
    bool tls = false;
    std::string host, port, path;  // host without brackets
    std::string host_header;
};

std::optional<Url> parse_url(const std::string& text, std::string* why) {
    Url u;
    std::string rest;
    if (text.rfind("http://", 0) == 0) {
        rest = text.substr(7);
    } else if (text.rfind("https://", 0) == 0) {
        u.tls = true;
        rest = text.substr(8);
    } else {
        *why = "not an http:// or https:// URL";
        return std::nullopt;
    }
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    u.path = slash == std::string::npos ? "/" : rest.substr(slash);
    u.host_header = authority;
    if (!authority.empty() && authority[0] == '[') {
        size_t close = authority.find(']');
        if (close == std::string::npos) {
            *why = "an IPv6 address without its closing ]";
            return std::nullopt;
        }
        u.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':') u.port = authority.substr(close + 2);
    } else {
        size_t colon = authority.rfind(':');
        u.host = authority.substr(0, colon);
        if (colon != std::string::npos) u.port = authority.substr(colon + 1);
    }
    if (u.port.empty()) u.port = u.tls ? "443" : "80";
    if (u.host.empty()) {
        *why = "no host in the URL";
        return std::nullopt;
    }
    return u;
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) close(fd);
    }
};

int ms_left(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// A TCP connection to the URL's host within the deadline; -1 with why.
int connect_to(const Url& url, Clock::time_point deadline, std::string* why) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int rc = getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found);
    if (rc != 0) {
        *why = "cannot resolve " + url.host + ": " + gai_strerror(rc);
        return -1;
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
    *why = "no address for " + url.host;
    for (addrinfo* a = found; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            int err = 0;
            socklen_t len = sizeof err;
            if (poll(&p, 1, ms_left(deadline)) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
                int flags = fcntl(fd, F_GETFL);
                fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
                timeval tv{ms_left(deadline) / 1000, (ms_left(deadline) % 1000) * 1000};
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                return fd;
            }
            *why = "cannot connect to " + url.host_header + ": " + (err ? std::strerror(err) : "timed out");
        } else {
            *why = "cannot connect to " + url.host_header + ": " + std::strerror(errno);
        }
        close(fd);
    }
    return -1;
}

// Reads the answer's status line; returns its code or 0.
template <typename Read>
int status_code(Read read_some) {
    std::string head;
    char buf[512];
    while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
        long n = read_some(buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
    }
    if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) return 0;
    return std::atoi(head.substr(9, 3).c_str());
}

std::string tls_error() {
    unsigned long e = ERR_get_error();
    if (!e) return "TLS failed";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

std::string post(const policy::NotifyChannel& channel, const Message& message, std::chrono::milliseconds limit) {
    std::string why;
    auto url = parse_url(channel.target, &why);
    if (!url) return why;
    auto deadline = Clock::now() + limit;
    Fd sock{connect_to(*url, deadline, &why)};
    if (sock.fd < 0) return why;

    std::string body = channel.text_body ? message.text : message.to_json().dump();
    std::string request = "POST " + url->path + " HTTP/1.1\r\nHost: " + url->host_header +
                          "\r\nUser-Agent: warden\r\nConnection: close\r\nContent-Type: " +
                          (channel.text_body ? "text/plain; charset=utf-8" : "application/json") +
                          "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    if (channel.text_body) {  // ntfy shows it as the title; a device's name (its DHCP host name) ends no header
        std::string title = message.title;
        for (char& c : title)
            if (c == '\r' || c == '\n') c = ' ';
        request += "Title: " + title + "\r\n";
    }
    for (const auto& [name, value] : channel.headers) request += name + ": " + value + "\r\n";
    request += "\r\n" + body;

    int code = 0;
    if (!url->tls) {
        size_t sent = 0;
        while (sent < request.size()) {
            ssize_t n = send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return std::string("sending failed: ") + (n < 0 ? std::strerror(errno) : "closed");
            sent += static_cast<size_t>(n);
        }
        code = status_code([&](char* b, size_t n) { return static_cast<long>(recv(sock.fd, b, n, 0)); });
    } else {
        // The receiver's certificate is checked against the system's CAs and the URL's host.
        std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
        if (!ctx) return tls_error();
        SSL_CTX_set_default_verify_paths(ctx.get());
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
        std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
        if (!ssl) return tls_error();
        SSL_set_fd(ssl.get(), sock.fd);
        SSL_set_tlsext_host_name(ssl.get(), url->host.c_str());
        SSL_set1_host(ssl.get(), url->host.c_str());
        if (SSL_connect(ssl.get()) != 1) {
            long verify = SSL_get_verify_result(ssl.get());
            return verify != X509_V_OK ? std::string("TLS: ") + X509_verify_cert_error_string(verify)
                                       : "TLS: " + tls_error();
        }
        if (SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) != static_cast<int>(request.size()))
            return "TLS: sending failed";
        code = status_code([&](char* b, size_t n) { return static_cast<long>(SSL_read(ssl.get(), b, static_cast<int>(n))); });
    }
    if (code == 0) return "no HTTP answer from " + url->host_header;
    if (code < 200 || code > 299) return "HTTP " + std::to_string(code);
    return "";
}

std::string run_hook(const policy::NotifyChannel& channel, const Message& message, std::chrono::milliseconds limit) {
    int in[2];
    if (pipe2(in, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // The daemon blocks these for its signalfd and ignores SIGPIPE: the hook gets defaults.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    std::vector<std::string> args{channel.target};
    args.insert(args.end(), channel.args.begin(), channel.args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, channel.target.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(in[0]);
    if (rc != 0) {
        close(in[1]);
        return "cannot run " + channel.target + ": " + std::strerror(rc);
    }
    std::string body = message.to_json().dump() + "\n";
    size_t sent = 0;
    while (sent < body.size()) {  // a hook that does not read its stdin gets EPIPE, not a signal
        ssize_t n = write(in[1], body.data() + sent, body.size() - sent);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
    }
    close(in[1]);
    auto deadline = Clock::now() + limit;
    int status = 0;
    while (true) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0) return std::string("waitpid: ") + std::strerror(errno);
        if (Clock::now() >= deadline) {
            kill(-pid, SIGKILL);  // its process group: what it started goes too
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return channel.target + " took longer than " + std::to_string(limit.count() / 1000) + " s and was killed";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
    if (WIFSIGNALED(status)) return channel.target + " was killed by signal " + std::to_string(WTERMSIG(status));
    return channel.target + " ended with exit status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

std::string deliver(const policy::NotifyChannel& channel, const Message& message, const DeliveryLimits& limits) {
    try {
        return channel.type == policy::NotifyChannel::Type::webhook ? post(channel, message, limits.webhook)
                                                                    : run_hook(channel, message, limits.exec);
    } catch (const std::exception& e) {
        return e.what();
    }
}

}  // namespace warden::notify
