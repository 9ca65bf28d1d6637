#include "web/server.h"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "log/log.h"
#include "web/http.h"

namespace warden::web {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBacklog = 128;
constexpr size_t kReadChunk = 4096;
constexpr int kAcceptsPerWakeup = 64;  // then the connections already open get their turn
// After the answer the connection is half-closed and what the client still sends is read
// and dropped for a moment: closing with unread bytes would reset the connection and could
// destroy the answer (a 413 sent before the body) before the client read it.
constexpr auto kLinger = std::chrono::seconds(1);
constexpr size_t kLingerBytes = 64 * 1024;
constexpr auto kAcceptPause = std::chrono::milliseconds(100);  // when out of descriptors
constexpr auto kReportEvery = std::chrono::seconds(60);

// epoll's tag of each descriptor: these two, then one number per connection (never reused,
// unlike descriptors, so an answer cannot reach the wrong client).
constexpr uint64_t kListenTag = 0, kWakeTag = 1, kFirstConnectionTag = 2;

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

namespace {

// What happens to one connection: its request is read, answered by a worker, the answer
// written, then the connection lingers until the client closes (or the deadline).
struct Connection {
    enum class Stage { reading, handling, writing, lingering };

    int fd = -1;
    net::IpAddr peer;
    Clock::time_point opened, deadline;
    Stage stage = Stage::reading;
    uint32_t watching = 0;  // the epoll events registered; 0: not registered
    RequestReader reader;
    std::string out;  // the answer
    size_t sent = 0;  // of out; while lingering, the bytes dropped

    Connection(int fd, const net::IpAddr& peer, Clock::time_point now, const ListenerLimits& limits)
        : fd(fd),
          peer(peer),
          opened(now),
          deadline(now + limits.request_time),
          reader(limits.max_head, limits.max_body) {}
};

}  // namespace

class Listener::Loop {
public:
    Loop(int listen_fd, std::shared_ptr<const Router> router, const ListenerLimits& limits, std::string name)
        : listen_fd_(listen_fd), router_(std::move(router)), limits_(limits), name_(std::move(name)) {
        epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
        wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (epoll_fd_ < 0 || wake_fd_ < 0) {
            int e = errno;
            close_fds();
            throw std::runtime_error("cannot listen on " + name_ + ": " + std::strerror(e));
        }
        watch_fd(listen_fd_, kListenTag, EPOLLIN);
        watch_fd(wake_fd_, kWakeTag, EPOLLIN);
        events_ = std::thread([this] { run(); });
        for (size_t i = 0; i < std::max<size_t>(limits_.workers, 1); ++i) workers_.emplace_back([this] { work(); });
    }

    ~Loop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        work_ready_.notify_all();
        wake();
        events_.join();
        for (auto& w : workers_) w.join();
        for (auto& [tag, c] : connections_) close(c.fd);
        close_fds();
    }

private:
    struct Job {
        uint64_t tag;
        Request request;
    };
    struct Answer {
        uint64_t tag;
        std::string bytes;
    };

    void close_fds() {
        for (int fd : {epoll_fd_, wake_fd_, listen_fd_})
            if (fd >= 0) close(fd);
    }

    void watch_fd(int fd, uint64_t tag, uint32_t events, uint32_t was = 0) {
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = tag;
        epoll_ctl(epoll_fd_, !events ? EPOLL_CTL_DEL : was ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    }

    // Registered only for what its stage waits for: not at all while a worker has it, so a
    // client that hangs up meanwhile does not wake the loop again and again.
    void watch(uint64_t tag, Connection& c, uint32_t events) {
        if (events != c.watching) watch_fd(c.fd, tag, events, c.watching);
        c.watching = events;
    }

    void wake() {
        uint64_t one = 1;
        [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
    }

    bool stopping() {
        std::lock_guard lock(mutex_);
        return stopping_;
    }

    // ---- the event thread ------------------------------------------------------------------

    void run() {
        epoll_event ready[64];
        while (!stopping()) {
            int n = epoll_wait(epoll_fd_, ready, static_cast<int>(std::size(ready)), wait_ms());
            if (n < 0 && errno != EINTR) {
                log::error("web: {}: epoll_wait: {}; the listener stops", name_, std::strerror(errno));
                return;
            }
            for (int i = 0; i < n; ++i) {
                uint64_t tag = ready[i].data.u64;
                if (tag == kListenTag) {
                    accept_all();
                } else if (tag == kWakeTag) {
                    uint64_t count;
                    [[maybe_unused]] auto r = read(wake_fd_, &count, sizeof count);
                    take_answers();
                } else if (auto it = connections_.find(tag); it != connections_.end()) {
                    advance(tag, it->second);
                }
            }
            expire();
            if (accept_paused_ && Clock::now() >= accept_resume_) {
                watch_fd(listen_fd_, kListenTag, EPOLLIN);
                accept_paused_ = false;
            }
            report(false);
        }
        report(true);  // what the last minute held, before a reload replaces the listener
    }

    // Until the nearest deadline (or the end of a pause in accepting, or the next report).
    int wait_ms() const {
        auto now = Clock::now();
        auto next = Clock::time_point::max();
        for (const auto& [tag, c] : connections_)
            if (c.stage != Connection::Stage::handling) next = std::min(next, c.deadline);
        if (accept_paused_) next = std::min(next, accept_resume_);
        if (refused_ || timed_out_ || evicted_) next = std::min(next, reported_ + kReportEvery);
        if (next == Clock::time_point::max()) return -1;
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
        return static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000));
    }

    void accept_all() {
        for (int i = 0; i < kAcceptsPerWakeup; ++i) {
            sockaddr_storage from{};
            socklen_t len = sizeof from;
            int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&from), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                admit(fd, peer_of(from));
                continue;
            }
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            // Out of descriptors or memory: the pending connection stays in the queue and would
            // wake the loop at once, again and again. Pause accepting for a moment instead.
            log::warn("web: {}: cannot accept a connection: {}", name_, std::strerror(errno));
            watch_fd(listen_fd_, kListenTag, 0, EPOLLIN);
            accept_paused_ = true;
            accept_resume_ = Clock::now() + kAcceptPause;
            return;
        }
    }

    static net::IpAddr peer_of(const sockaddr_storage& from) {
        net::IpAddr a;
        if (from.ss_family == AF_INET) return net::IpAddr::from_v4(reinterpret_cast<const sockaddr_in&>(from).sin_addr.s_addr);
        if (from.ss_family == AF_INET6)
            std::memcpy(a.bytes.data(), reinterpret_cast<const sockaddr_in6&>(from).sin6_addr.s6_addr, 16);
        return a;
    }

    void admit(int fd, const net::IpAddr& peer) {
        auto from_peer = per_address_.find(peer);
        if (from_peer != per_address_.end() && from_peer->second >= limits_.connections_per_address)
            return refuse_at_once(fd, peer, "too many connections from " + peer.str() + " (at most " +
                                                std::to_string(limits_.connections_per_address) + " at once)");
        if (connections_.size() >= limits_.connections && !evict())
            return refuse_at_once(fd, peer, "too many connections (at most " + std::to_string(limits_.connections) +
                                                " at once)");
        ++per_address_[peer];
        uint64_t tag = next_tag_++;
        auto& c = connections_.try_emplace(tag, fd, peer, Clock::now(), limits_).first->second;
        watch(tag, c, EPOLLIN | EPOLLRDHUP);
    }

    // When every slot is taken, a new client gets the slot of the connection that has been
    // reading longest among those of the address holding the most: the slowest of the
    // greediest. One that a worker has or that is being answered keeps its slot.
    bool evict() {
        auto victim = connections_.end();
        for (auto it = connections_.begin(); it != connections_.end(); ++it) {
            if (it->second.stage != Connection::Stage::reading) continue;
            if (victim == connections_.end()) {
                victim = it;
                continue;
            }
            size_t mine = per_address_[it->second.peer], theirs = per_address_[victim->second.peer];
            if (mine > theirs || (mine == theirs && it->second.opened < victim->second.opened)) victim = it;
        }
        if (victim == connections_.end()) return false;
        ++evicted_;
        last_offender_ = victim->second.peer;
        finish(victim->first);
        return true;
    }

    void refuse_at_once(int fd, const net::IpAddr& peer, const std::string& why) {
        close_with(fd, serialize(refusal(503, why), false));  // it takes no slot
        ++refused_;
        last_offender_ = peer;
    }

    // Answers and closes at once, without waiting: what the client sent is read first (as
    // much as has arrived), since closing with unread bytes would reset the connection and
    // could destroy the answer before the client reads it.
    static void close_with(int fd, const std::string& bytes) {
        char scratch[kReadChunk];
        for (int i = 0; i < 4 && recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) > 0; ++i) {
        }
        [[maybe_unused]] auto n = send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        close(fd);
    }

    void advance(uint64_t tag, Connection& c) {
        switch (c.stage) {
            case Connection::Stage::reading: return read_request(tag, c);
            case Connection::Stage::writing: return write_answer(tag, c);
            case Connection::Stage::lingering: return drain(tag, c);
            case Connection::Stage::handling: return;
        }
    }

    void read_request(uint64_t tag, Connection& c) {
        char buffer[kReadChunk];
        while (c.reader.state() == RequestReader::State::incomplete) {
            ssize_t n = recv(c.fd, buffer, std::min(sizeof buffer, c.reader.room()), 0);
            if (n > 0) {
                c.reader.add(std::string_view(buffer, static_cast<size_t>(n)));
                if (c.reader.take_continue()) {
                    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
                    [[maybe_unused]] auto sent = send(c.fd, kContinue.data(), kContinue.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
                }
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            return finish(tag);  // the client went away before its request was whole
        }
        if (c.reader.state() == RequestReader::State::refused)
            return answer(tag, c, serialize(refusal(c.reader.refused_status(), c.reader.refused_why()), false));
        c.stage = Connection::Stage::handling;
        watch(tag, c, 0);
        {
            std::lock_guard lock(mutex_);
            jobs_.push_back({tag, c.reader.request()});
        }
        work_ready_.notify_one();
    }

    void take_answers() {
        std::vector<Answer> answers;
        {
            std::lock_guard lock(mutex_);
            answers.swap(answers_);
        }
        for (auto& a : answers)
            if (auto it = connections_.find(a.tag); it != connections_.end()) answer(a.tag, it->second, std::move(a.bytes));
    }

    void answer(uint64_t tag, Connection& c, std::string bytes) {
        c.stage = Connection::Stage::writing;
        c.deadline = Clock::now() + limits_.response_time;
        c.out = std::move(bytes);
        c.sent = 0;
        write_answer(tag, c);
    }

    void write_answer(uint64_t tag, Connection& c) {
        while (c.sent < c.out.size()) {
            ssize_t n = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
            if (n > 0) {
                c.sent += static_cast<size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return watch(tag, c, EPOLLOUT);
            return finish(tag);
        }
        shutdown(c.fd, SHUT_WR);
        c.stage = Connection::Stage::lingering;
        c.deadline = Clock::now() + kLinger;
        c.out = std::string();
        c.sent = 0;
        watch(tag, c, EPOLLIN | EPOLLRDHUP);
    }

    void drain(uint64_t tag, Connection& c) {
        char buffer[kReadChunk];
        for (;;) {
            ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
            if (n > 0 && (c.sent += static_cast<size_t>(n)) <= kLingerBytes) continue;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            return finish(tag);  // the client closed (or sends too much)
        }
    }

    void expire() {
        auto now = Clock::now();
        std::vector<uint64_t> late;
        for (const auto& [tag, c] : connections_)
            if (c.stage != Connection::Stage::handling && c.deadline <= now) late.push_back(tag);
        for (uint64_t tag : late) {
            auto it = connections_.find(tag);
            if (it->second.stage == Connection::Stage::reading) {
                ++timed_out_;
                last_offender_ = it->second.peer;
                auto why = "the request did not arrive whole within " + request_time();
                close_with(it->second.fd, serialize(refusal(408, why), false));
                it->second.fd = -1;
            }
            finish(tag);
        }
    }

    void finish(uint64_t tag) {
        auto it = connections_.find(tag);
        if (it->second.fd >= 0) close(it->second.fd);  // also takes it out of the epoll set
        if (auto p = per_address_.find(it->second.peer); p != per_address_.end() && --p->second == 0) per_address_.erase(p);
        connections_.erase(it);
    }

    std::string request_time() const {
        auto ms = limits_.request_time.count();
        return ms % 1000 ? std::to_string(ms) + " ms" : std::to_string(ms / 1000) + " s";
    }

    // At most one line a minute about clients kept out, so an attack does not flood the log.
    void report(bool now_or_never) {
        auto now = Clock::now();
        if ((!refused_ && !timed_out_ && !evicted_) || (now < reported_ + kReportEvery && !now_or_never)) return;
        std::vector<std::string> what;
        if (refused_)
            what.push_back(fmt::format("refused {} connection(s) over the limits ({} at once from one address, {} in all)",
                                       refused_, limits_.connections_per_address, limits_.connections));
        if (timed_out_)
            what.push_back(fmt::format("closed {} whose request did not arrive whole within {}", timed_out_, request_time()));
        if (evicted_) what.push_back(fmt::format("closed {} slow one(s) to make room for others", evicted_));
        log::warn("web: {}: {}; the latest from {}", name_, fmt::join(what, "; "), last_offender_.str());
        refused_ = timed_out_ = evicted_ = 0;
        reported_ = now;
    }

    // ---- the workers -----------------------------------------------------------------------

    void work() {
        for (;;) {
            Job job;
            {
                std::unique_lock lock(mutex_);
                work_ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
                if (stopping_) return;
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            std::string bytes;
            try {
                bytes = serialize(router_->handle(job.request), job.request.method == "HEAD");
            } catch (const std::exception& e) {  // handle() answers its own errors; this is memory
                bytes = serialize(refusal(500, e.what()), false);
            }
            {
                std::lock_guard lock(mutex_);
                answers_.push_back({job.tag, std::move(bytes)});
            }
            wake();
        }
    }

    int listen_fd_ = -1, epoll_fd_ = -1, wake_fd_ = -1;
    std::shared_ptr<const Router> router_;
    ListenerLimits limits_;
    std::string name_;

    // The event thread's own.
    std::unordered_map<uint64_t, Connection> connections_;
    std::map<net::IpAddr, size_t> per_address_;
    uint64_t next_tag_ = kFirstConnectionTag;
    bool accept_paused_ = false;
    Clock::time_point accept_resume_;
    uint64_t refused_ = 0, timed_out_ = 0, evicted_ = 0;  // since the last report
    net::IpAddr last_offender_;
    Clock::time_point reported_ = Clock::now() - kReportEvery;

    // Shared with the workers, under mutex_.
    std::mutex mutex_;
    std::condition_variable work_ready_;
    bool stopping_ = false;
    std::deque<Job> jobs_;
    std::vector<Answer> answers_;

    std::thread events_;
    std::vector<std::thread> workers_;
};

Listener::Listener(const Endpoint& endpoint, std::shared_ptr<const Router> router, ListenerLimits limits)
    : endpoint_(endpoint) {
    auto fail = [&](const std::string& why) { return std::runtime_error("cannot listen on " + endpoint_.str() + ": " + why); };
    bool v4 = endpoint_.address.is_v4();
    int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw fail(std::string("socket: ") + std::strerror(errno));
    auto give_up = [&](const std::string& why) {
        close(fd);
        return fail(why);
    };
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    // Packets for this address that arrive on another interface (the WAN, routed to a LAN
    // address) never reach the listener; without the binding the WAN side could reach it.
    const std::string& device = endpoint_.device;
    if (!device.empty() && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), device.size() + 1) != 0)
        throw give_up("cannot bind the socket to " + device + " (SO_BINDTODEVICE: " + std::strerror(errno) +
                      "); without it the WAN side could reach it");
    sockaddr_storage address{};
    socklen_t length;
    if (v4) {
        auto& in = reinterpret_cast<sockaddr_in&>(address);
        in.sin_family = AF_INET;
        in.sin_port = htons(endpoint_.port);
        std::memcpy(&in.sin_addr, &endpoint_.address.bytes[12], 4);
        length = sizeof in;
    } else {
        auto& in6 = reinterpret_cast<sockaddr_in6&>(address);
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(endpoint_.port);
        std::memcpy(&in6.sin6_addr, endpoint_.address.bytes.data(), 16);
        length = sizeof in6;
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
        int e = errno;
        throw give_up(std::string(std::strerror(e)) +
                      (e == EADDRINUSE ? " (another program on that port? change the listen address in the policy)" : ""));
    }
    if (listen(fd, kBacklog) != 0) throw give_up(std::string("listen: ") + std::strerror(errno));
    length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    bound_port_ = ntohs(v4 ? reinterpret_cast<sockaddr_in&>(address).sin_port
                           : reinterpret_cast<sockaddr_in6&>(address).sin6_port);
    Endpoint named = endpoint_;  // the port bound, when asked for any
    named.port = bound_port_;
    loop_ = std::make_unique<Loop>(fd, std::move(router), limits, named.str());
}

Listener::~Listener() = default;  // the Loop stops and joins its threads

}  // namespace warden::web
