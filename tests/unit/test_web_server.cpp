// The HTTP listener for real, on 127.0.0.1 and a port the kernel picks: the Router is
// reached (through cpp-httplib's client, an HTTP client that is not ours) with headers
// intact, bodies are bounded, refusals carry the same headers, and stopping is prompt; slow,
// idle and many clients are held to their limits while others are served.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "web/server.h"

using namespace warden;

namespace {

// A source that only counts the changes it is asked for.
class CountingSource : public web::Source {
public:
    std::shared_ptr<const web::Snapshot> snap = std::make_shared<web::Snapshot>();
    int changes = 0;
    std::shared_ptr<const web::Snapshot> snapshot() const override { return snap; }
    control::Result submit(const nlohmann::json&) override {
        ++changes;
        return control::Result::done("done");
    }
};

struct Running {
    CountingSource source;
    std::unique_ptr<web::Listener> listener;
    std::unique_ptr<httplib::Client> client;

    Running() {
        web::RouterSettings settings;
        settings.metrics = settings.page = true;
        settings.token = std::string(64, 'c');
        web::Endpoint e{*net::IpAddr::parse("127.0.0.1"), 0, "", true, true};
        listener = std::make_unique<web::Listener>(e, std::make_shared<web::Router>(source, settings));
        client = std::make_unique<httplib::Client>("127.0.0.1", listener->port());
        client->set_connection_timeout(2);
        client->set_read_timeout(5);
    }
};

}  // namespace

TEST_CASE("listener: GET /metrics and the page over a real socket, with the security headers") {
    Running r;
    auto m = r.client->Get("/metrics");
    REQUIRE(m);
    CHECK(m->status == 200);
    CHECK(m->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
    CHECK(m->body.find("# TYPE warden_polls_total counter") != std::string::npos);
    auto page = r.client->Get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(page->get_header_value("X-Frame-Options") == "DENY");
    CHECK(page->get_header_value("Content-Security-Policy").find("frame-ancestors 'none'") != std::string::npos);
}

TEST_CASE("listener: headers reach the router (token and origin checks work through it)") {
    Running r;
    httplib::Headers no_token = {{"Origin", "http://evil.example"}};
    auto refused = r.client->Post("/api/quarantine", no_token, R"({"mac":"02:00:00:00:01:02"})", "application/json");
    REQUIRE(refused);
    CHECK(refused->status == 403);
    auto unauthorised = r.client->Post("/api/quarantine", R"({"mac":"02:00:00:00:01:02"})", "application/json");
    REQUIRE(unauthorised);
    CHECK(unauthorised->status == 401);
    httplib::Headers token = {{"Authorization", "Bearer " + std::string(64, 'c')}};
    auto ok = r.client->Post("/api/quarantine", token, R"({"mac":"02:00:00:00:01:02"})", "application/json");
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(r.source.changes == 1);
}

TEST_CASE("listener: a body past 16 KiB is refused before it is read, with the headers") {
    Running r;
    httplib::Headers token = {{"Authorization", "Bearer " + std::string(64, 'c')}};
    std::string big(64 * 1024, 'x');
    auto res = r.client->Post("/api/quarantine", token, big, "application/json");
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
    CHECK(r.source.changes == 0);
}

TEST_CASE("listener: stops promptly, even right after it started") {
    for (int i = 0; i < 5; ++i) {
        auto started = std::chrono::steady_clock::now();
        { Running r; }
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
    }
}

TEST_CASE("listener: one that cannot be bound to its interface does not open at all") {
    // The page on "lan" is bound to the LAN interface; without that binding the WAN side
    // could reach it, so a device that cannot be bound (here: one that does not exist) is an
    // error, and nothing listens on the port afterwards.
    CountingSource source;
    web::RouterSettings settings;
    settings.page = true;
    settings.token = std::string(64, 'c');
    web::Endpoint unbound{*net::IpAddr::parse("127.0.0.1"), 0, "wd-no-such0", false, true};
    CHECK_THROWS_WITH_AS(web::Listener(unbound, std::make_shared<web::Router>(source, settings)),
                         doctest::Contains("SO_BINDTODEVICE"), std::runtime_error);
    web::Endpoint bound{*net::IpAddr::parse("127.0.0.1"), 0, "lo", false, true};
    web::Listener on_lo(bound, std::make_shared<web::Router>(source, settings));
    httplib::Client client("127.0.0.1", on_lo.port());
    client.set_connection_timeout(2);
    auto page = client.Get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
}

// Clients that are slow, idle or many, from addresses of loopback's 127/8 (each address is
// a client of its own), written with raw sockets so that a test can send half a request.

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One connection from `from` to the listener on 127.0.0.1.
class RawClient {
public:
    RawClient(uint16_t port, const char* from = "127.0.0.1") {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        inet_pton(AF_INET, from, &local.sin_addr);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
        sockaddr_in server{};
        server.sin_family = AF_INET;
        server.sin_port = htons(port);
        inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
        REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&server), sizeof server) == 0);
    }
    ~RawClient() { close(fd_); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool send_text(std::string_view text) {
        return send(fd_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
    }

    // What the server sends until it closes the connection (closed) or `wait` passes.
    struct Received {
        std::string text;
        bool closed = false;
        std::string status() const { return text.substr(0, text.find('\r')); }
    };
    Received receive(milliseconds wait) {
        Received r;
        auto until = Clock::now() + wait;
        for (;;) {
            auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
            pollfd p{fd_, POLLIN, 0};
            if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) return r;
            char buffer[4096];
            ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0) {  // the end, or a reset (also the end)
                r.closed = true;
                return r;
            }
            r.text.append(buffer, static_cast<size_t>(n));
        }
    }

private:
    int fd_ = -1;
};

// A whole GET from `from`, and how long until the answer was complete.
RawClient::Received get(uint16_t port, const char* from, double* took = nullptr) {
    auto started = Clock::now();
    RawClient c(port, from);
    c.send_text("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    auto r = c.receive(milliseconds(3000));
    if (took) *took = seconds_since(started);
    return r;
}

struct Limited {
    CountingSource source;
    std::unique_ptr<web::Listener> listener;

    explicit Limited(const web::ListenerLimits& limits) {
        web::RouterSettings settings;
        settings.metrics = true;
        web::Endpoint e{*net::IpAddr::parse("127.0.0.1"), 0, "", true, false};
        listener = std::make_unique<web::Listener>(e, std::make_shared<web::Router>(source, settings), limits);
    }
    uint16_t port() const { return listener->port(); }
};

}  // namespace

TEST_CASE("listener: a request dribbled in a header line at a time is cut off at its deadline, not per read") {
    web::ListenerLimits limits;
    limits.request_time = milliseconds(1000);
    Limited l(limits);
    RawClient slow(l.port());
    auto started = Clock::now();
    REQUIRE(slow.send_text("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    // A line every 100 ms: no single read waits long, the request as a whole does. Bounded:
    // at most 4 s of lines.
    RawClient::Received r;
    for (int line = 0; line < 40 && !r.closed; ++line) {
        slow.send_text("X-Slow-" + std::to_string(line) + ": 1\r\n");
        auto part = slow.receive(milliseconds(100));
        r.text += part.text;
        r.closed = part.closed;
    }
    double after = seconds_since(started);
    CHECK(r.closed);
    CHECK(after >= 0.9);
    CHECK(after < 1.8);
    CHECK(r.status() == "HTTP/1.1 408 Request Timeout");
    CHECK(r.text.find("within 1 s") != std::string::npos);
}

TEST_CASE("listener: the deadline covers the body too, and an idle connection") {
    web::ListenerLimits limits;
    limits.request_time = milliseconds(800);
    Limited l(limits);
    RawClient idle(l.port()), half_body(l.port());
    half_body.send_text("POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789");
    auto started = Clock::now();
    auto a = idle.receive(milliseconds(3000));
    auto b = half_body.receive(milliseconds(3000));
    CHECK(a.closed);
    CHECK(b.closed);
    CHECK(b.status() == "HTTP/1.1 408 Request Timeout");
    CHECK(seconds_since(started) < 1.6);
}

TEST_CASE("listener: slow clients hold connections, not workers: another client is answered at once") {
    // The defaults: 2 workers, 8 connections an address. A worker per connection (the
    // server before) was held by the first two slow clients until they gave up.
    Limited l({});
    std::vector<std::unique_ptr<RawClient>> slow;
    for (int i = 0; i < 8; ++i) {
        slow.push_back(std::make_unique<RawClient>(l.port(), "127.0.0.1"));
        slow.back()->send_text(i % 2 ? "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                     : "POST /metrics HTTP/1.1\r\nContent-Length: 50\r\n\r\nhalf");
    }
    for (int round = 0; round < 3; ++round) {
        double took = 0;
        auto r = get(l.port(), "127.0.0.2", &took);
        CHECK(r.status() == "HTTP/1.1 200 OK");
        CHECK(took < 0.5);
    }
}

TEST_CASE("listener: connections from one address are capped; the next is refused at once, others are not") {
    web::ListenerLimits limits;
    limits.connections_per_address = 3;
    Limited l(limits);
    auto a = std::make_unique<RawClient>(l.port(), "127.0.0.1");
    RawClient b(l.port(), "127.0.0.1"), c(l.port(), "127.0.0.1");
    double took = 0;
    auto fourth = get(l.port(), "127.0.0.1", &took);
    CHECK(fourth.closed);
    CHECK(fourth.status() == "HTTP/1.1 503 Service Unavailable");
    CHECK(fourth.text.find("too many connections from 127.0.0.1 (at most 3 at once)") != std::string::npos);
    CHECK(took < 0.5);
    CHECK(get(l.port(), "127.0.0.2").status() == "HTTP/1.1 200 OK");
    // A slot comes back when a connection ends.
    a->send_text("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    CHECK(a->receive(milliseconds(2000)).status() == "HTTP/1.1 200 OK");
    a.reset();
    std::this_thread::sleep_for(milliseconds(50));
    CHECK(get(l.port(), "127.0.0.1").status() == "HTTP/1.1 200 OK");
}

TEST_CASE("listener: when every slot is taken, a new client gets the slowest slot of the greediest address") {
    web::ListenerLimits limits;
    limits.connections = 4;
    limits.connections_per_address = 3;
    Limited l(limits);
    RawClient oldest(l.port(), "127.0.0.1");
    std::this_thread::sleep_for(milliseconds(20));
    RawClient b(l.port(), "127.0.0.1"), c(l.port(), "127.0.0.1"), other(l.port(), "127.0.0.3");
    std::this_thread::sleep_for(milliseconds(50));  // all four admitted
    auto r = get(l.port(), "127.0.0.2");
    CHECK(r.status() == "HTTP/1.1 200 OK");
    CHECK(oldest.receive(milliseconds(500)).closed);
    CHECK_FALSE(other.receive(milliseconds(100)).closed);
    CHECK_FALSE(b.receive(milliseconds(100)).closed);
}

TEST_CASE("listener: 200 idle connections from one address do not keep another client out") {
    Limited l({});
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 200; ++i) idle.push_back(std::make_unique<RawClient>(l.port(), "127.0.0.1"));
    double took = 0;
    auto r = get(l.port(), "127.0.0.2", &took);
    CHECK(r.status() == "HTTP/1.1 200 OK");
    CHECK(took < 0.5);
}

TEST_CASE("listener: Expect: 100-continue is answered before the body; HEAD gets no body") {
    Limited l({});
    RawClient c(l.port());
    c.send_text("POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    auto interim = c.receive(milliseconds(300));
    CHECK(interim.text == "HTTP/1.1 100 Continue\r\n\r\n");
    c.send_text("{}");
    auto final_answer = c.receive(milliseconds(2000));
    CHECK(final_answer.status() == "HTTP/1.1 405 Method Not Allowed");

    RawClient h(l.port());
    h.send_text("HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    auto head = h.receive(milliseconds(2000));
    CHECK(head.status() == "HTTP/1.1 200 OK");
    CHECK(head.text.ends_with("\r\n\r\n"));  // the head, and nothing after it
    CHECK(head.text.find("Content-Length: ") != std::string::npos);
    CHECK(head.text.find("Content-Length: 0\r\n") == std::string::npos);
}

TEST_CASE("listener: stops promptly while clients hold connections") {
    auto l = std::make_unique<Limited>(web::ListenerLimits{});
    RawClient slow(l->port());
    slow.send_text("GET /metrics HTTP/1.1\r\n");
    auto started = Clock::now();
    l.reset();
    CHECK(seconds_since(started) < 1.0);
    CHECK(slow.receive(milliseconds(500)).closed);
}
