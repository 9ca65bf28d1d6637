// The HTTP listener for real, on 127.0.0.1 and a port the kernel picks: the Router is
// reached through cpp-httplib with headers intact, bodies are bounded, errors the library
// answers itself carry the same headers, and stopping is prompt.
#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>

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
