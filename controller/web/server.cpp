#include "web/server.h"

#include <httplib.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace warden::web {

namespace {

constexpr size_t kMaxBody = 16 * 1024;  // a quarantine request is a few hundred bytes
constexpr time_t kTimeoutS = 5;         // to read a request or write a response
constexpr time_t kKeepAliveS = 2;
constexpr size_t kKeepAliveRequests = 20;
constexpr size_t kWorkers = 2;

bool is_link_local(const net::IpAddr& a) { return !a.is_v4() && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80; }

std::string host_of(const net::IpAddr& a) { return a.is_v4() ? a.str() : "[" + a.str() + "]"; }

}  // namespace

std::string Endpoint::str() const {
    std::string s = host_of(address) + ":" + std::to_string(port);
    if (!device.empty()) s += " on " + device;
    s += metrics && page ? " (metrics and status page)" : metrics ? " (metrics)" : " (status page)";
    return s;
}

std::vector<Endpoint> resolve_endpoints(const policy::Policy& policy, const std::vector<net::Interface>& interfaces,
                                        std::vector<std::string>* problems) {
    std::vector<Endpoint> out;
    auto add = [&](Endpoint e) {
        for (auto& have : out)
            if (have.address == e.address && have.port == e.port) {
                have.metrics |= e.metrics;
                have.page |= e.page;
                return;
            }
        out.push_back(std::move(e));
    };
    auto resolve = [&](const policy::Listen& listen, bool metrics, const char* what) {
        if (!listen.lan) {
            add({listen.address, listen.port, "", metrics, !metrics});
            return;
        }
        // The interfaces devices talk to: a port's bridge, or the port itself.
        std::vector<const net::Interface*> lan;
        for (const auto& name : policy.interfaces.lan) {
            auto port = std::find_if(interfaces.begin(), interfaces.end(), [&](auto& i) { return i.name == name; });
            if (port == interfaces.end()) continue;
            const net::Interface* itf = &*port;
            if (port->master)
                for (const auto& m : interfaces)
                    if (m.index == port->master) itf = &m;
            if (std::find(lan.begin(), lan.end(), itf) == lan.end()) lan.push_back(itf);
        }
        bool any = false;
        for (const auto* itf : lan)
            for (const auto& a : itf->addrs)
                if (!a.is_unspecified() && !is_link_local(a)) {
                    add({a, listen.port, itf->name, metrics, !metrics});
                    any = true;
                }
        if (!any && problems)
            problems->push_back(std::string(what) + ": listen " + listen.str() +
                                ", but the LAN interfaces have no address (IPv4 or non-link-local IPv6) to listen on");
    };
    if (policy.metrics.enabled) resolve(policy.metrics.listen, true, "metrics");
    if (policy.status_page.enabled) resolve(policy.status_page.listen, false, "status_page");
    return out;
}

Listener::Listener(const Endpoint& endpoint, std::shared_ptr<const Router> router)
    : endpoint_(endpoint), router_(std::move(router)), server_(std::make_unique<httplib::Server>()) {
    auto& s = *server_;
    s.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
    s.set_read_timeout(kTimeoutS, 0);
    s.set_write_timeout(kTimeoutS, 0);
    s.set_keep_alive_timeout(kKeepAliveS);
    s.set_keep_alive_max_count(kKeepAliveRequests);
    s.set_payload_max_length(kMaxBody);
    std::string device = endpoint_.device;
    // The binding to the device is what keeps the WAN side out: if it cannot be made, the
    // listener must not open (the callback cannot throw through the library; it leaves errno).
    auto device_errno = std::make_shared<int>(0);
    s.set_socket_options([device, device_errno](int sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        // Packets for this address that arrive on another interface (the WAN, routed to a
        // LAN address) never reach the listener.
        if (!device.empty() && setsockopt(sock, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), device.size() + 1) != 0)
            *device_errno = errno;
    });

    auto handler = [router = router_](const httplib::Request& in, httplib::Response& out) {
        Request request;
        request.method = in.method;
        request.path = in.path;
        request.body = in.body;
        for (const auto& [name, value] : in.headers) {
            std::string key = name;
            for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            request.headers.emplace(key, value);  // the first of repeated headers counts
        }
        Response response = router->handle(request);
        out.status = response.status;
        for (const auto& [name, value] : response.headers) out.set_header(name, value);
        out.set_content(response.body, response.content_type);
    };
    s.Get(".*", handler);
    s.Post(".*", handler);
    s.Put(".*", handler);
    s.Patch(".*", handler);
    s.Delete(".*", handler);
    s.Options(".*", handler);
    // Errors the library answers itself (413, 400, ...): plain text and the same headers.
    httplib::Server::HandlerWithResponse on_error = [](const httplib::Request&, httplib::Response& res) {
        if (res.has_header("X-Content-Type-Options")) return httplib::Server::HandlerResponse::Unhandled;
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_header("X-Frame-Options", "DENY");
        res.set_header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
        res.set_header("Cache-Control", "no-store");
        res.set_content(std::string("HTTP ") + std::to_string(res.status) + "\n", "text/plain; charset=utf-8");
        return httplib::Server::HandlerResponse::Handled;
    };
    s.set_error_handler(std::move(on_error));

    // Tried first on a socket of its own, so a refusal (EPERM, ENODEV) leaves nothing bound.
    if (!device.empty()) {
        int probe = socket(endpoint_.address.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0) {
            if (setsockopt(probe, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), device.size() + 1) != 0)
                *device_errno = errno;
            close(probe);
        }
    }
    auto refuse_unbound = [&] {
        if (*device_errno)
            throw std::runtime_error("cannot listen on " + endpoint_.str() + ": cannot bind the socket to " + device +
                                     " (SO_BINDTODEVICE: " + std::strerror(*device_errno) +
                                     "); without it the WAN side could reach it");
    };
    refuse_unbound();
    std::string host = endpoint_.address.str();
    if (endpoint_.port == 0) {
        int port = s.bind_to_any_port(host);
        refuse_unbound();
        if (port < 0) throw std::runtime_error("cannot listen on " + endpoint_.str() + ": " + std::strerror(errno));
        bound_port_ = static_cast<uint16_t>(port);
    } else {
        bool bound = s.bind_to_port(host, endpoint_.port);
        refuse_unbound();
        if (!bound)
            throw std::runtime_error("cannot listen on " + endpoint_.str() + ": " + std::strerror(errno) +
                                     " (another program on that port? change the listen address in the policy)");
        bound_port_ = endpoint_.port;
    }
    thread_ = std::thread([this] {
        server_->listen_after_bind();
        finished_ = true;
    });
}

Listener::~Listener() {
    // stop() does nothing until the accept loop runs: wait for it to start (or to have ended).
    while (!server_->is_running() && !finished_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    server_->stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace warden::web
