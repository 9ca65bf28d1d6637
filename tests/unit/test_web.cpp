// The metrics text, the status page's API (JSON, token, cross-site refusal, headers), the
// threat log, today's counters and the listen addresses, against a fake source: no kernel,
// no root.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "policy/policy.h"
#include "view/devices.h"
#include "web/api.h"
#include "web/metrics.h"
#include "web/server.h"
#include "web/threats.h"
#include "web/today.h"
#include "web/token.h"
#include "support/control_rig.h"
#include "support/temp_dir.h"

using namespace warden;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct WebTempDir : test::TempDir {
    WebTempDir() : test::TempDir("warden-web") {}
};

const std::string kToken(64, 'a');
const net::Mac kCamera = *net::Mac::parse("a4:cf:12:00:00:01");
const net::Mac kLaptop = *net::Mac::parse("02:00:00:00:01:02");

dataplane::DeviceCounters counters(const net::Mac& mac, uint64_t up_bytes, uint64_t down_bytes) {
    dataplane::DeviceCounters c;
    c.mac = mac;
    c.up = {up_bytes / 100, up_bytes};
    c.down = {down_bytes / 100, down_bytes};
    c.lateral = {1, 60};
    c.bcast = {2, 120};
    c.blocklist_drops = 3;
    c.first_seen_ns = 1'000'000'000;
    c.last_seen_ns = 2'000'000'000;
    c.ip4 = net::IpAddr::parse("198.18.0.101");
    return c;
}

// A snapshot as a poll would publish it: a named camera (quarantined) and an unnamed laptop.
std::shared_ptr<web::Snapshot> sample_snapshot() {
    auto s = std::make_shared<web::Snapshot>();
    s->time_ms = 1'796'000'000'000;
    s->mono_ns = 10'000'000'000;
    s->started_ms = s->time_ms - 60'000;
    s->polls = 60;
    s->poll_cpu_seconds = 0.0012;
    s->midnight_ms = s->time_ms - 3'600'000;

    std::vector<dataplane::DeviceCounters> kernel = {counters(kCamera, 5'000, 7'000), counters(kLaptop, 100, 200)};
    dataplane::QuarantineEntry q;
    q.mac = kCamera;
    q.level = WD_LEVEL_ISOLATE;
    q.dropped_from_device = {4, 400};
    q.dropped_to_device = {1, 100};
    s->quarantined[kCamera] = q;
    std::map<net::Mac, store::DeviceRecord> inventory;
    inventory[kLaptop].mac = kLaptop;
    inventory[kLaptop].identity = {{"vendor", "Laptop Maker"}, {"hostname", "lap\"top\\1\nx"}, {"type", "laptop"}};
    policy::Policy pol;
    pol.devices.push_back({kCamera, "Hall camera", policy::DeviceType::camera, ""});
    std::map<net::Mac, view::DeviceRates> rates{{kCamera, {10, 20, 0, 3}}};
    view::DeviceSources sources;
    sources.counters = &kernel;
    sources.quarantined = &s->quarantined;
    sources.inventory = &inventory;
    sources.policy = &pol;
    sources.rates = &rates;
    sources.now_ms = s->time_ms;
    sources.now_mono_ns = s->mono_ns;
    s->devices = view::join_devices(sources);

    s->today[kCamera] = {1'000, 2'000, 0};
    auto threats = std::make_shared<web::ThreatLog>();
    threats->recent.push_back({s->time_ms - 8 * 86'400'000ll, "blocklist_hit", kLaptop, "", "too old"});
    threats->recent.push_back({s->time_ms - 2 * 86'400'000ll, "blocklist_hit", kLaptop, "", "Stopped a connection"});
    threats->recent.push_back({s->time_ms - 60'000, "finding", kCamera, "port_scan", "tried 300 ports"});
    threats->recent.push_back({s->time_ms - 50'000, "quarantine", kCamera, "", "Isolated by warden"});
    // Incidents: the camera's quarantine (with its finding and 1,440 blocked minutes), the
    // laptop's blocklist hits two days ago, one eight days old, and the administrator's own.
    threats->incidents.push_back({s->time_ms - 8 * 86'400'000ll, s->time_ms - 8 * 86'400'000ll, kLaptop, "blocklist",
                                  "", "too old", "Blocked by warden", 1, 0, false, true});
    threats->incidents.push_back({s->time_ms - 2 * 86'400'000ll, s->time_ms - 2 * 86'400'000ll, kLaptop, "blocklist",
                                  "", "Stopped a connection", "Blocked by warden", 3, 0, false, true});
    threats->incidents.push_back({s->time_ms - 100'000, s->time_ms - 90'000, kLaptop, "quarantine", "", "testing",
                                  "Isolated by the administrator", 0, 0, false, false});
    threats->incidents.push_back({s->time_ms - 60'000, s->time_ms, kCamera, "quarantine", "port_scan",
                                  "tried 300 ports", "Isolated by warden", 1'440, 1, true, true});
    threats->findings.push_back({{"kind", "finding"}, {"mac", kCamera.str()}, {"detector", "port_scan"}});
    threats->findings_by_detector["port_scan"] = 2;
    s->threats = threats;
    s->programs[WD_PROG_LAN_INGRESS].seen = 1000;
    s->programs[WD_PROG_LAN_INGRESS].passed = 990;
    s->programs[WD_PROG_LAN_INGRESS].dropped[WD_DROP_ISOLATED] = 10;
    s->programs[WD_PROG_LAN_INGRESS].flows_added = 5'000;
    s->programs[WD_PROG_LAN_EGRESS].flows_added = 40;
    s->maps = {{"wd_devices", 2, 1024}, {"wd_events", std::nullopt, 262144}};
    s->evictions = {3, 1'234};
    return s;
}

// The API's source: a sample snapshot, and a real control core over maps in memory, with the
// requests the page made written down.
class FakeSource : public web::Source {
public:
    explicit FakeSource(policy::QuarantineDefaults defaults = {}) : rig(defaults) {}
    std::shared_ptr<const web::Snapshot> snap = sample_snapshot();
    test::ControlRig rig;
    std::vector<json> requests;

    std::shared_ptr<const web::Snapshot> snapshot() const override { return snap; }
    control::Result submit(const json& request) override {
        requests.push_back(request);
        return rig.core.execute(request, control::Who{control::Origin::page, "admin token"});
    }
    // What the page changed: requests other than listings.
    size_t changes() const {
        size_t n = 0;
        for (const auto& r : requests) n += r.value("op", "") != "list_quarantines";
        return n;
    }
    std::vector<store::QuarantineRecord> recorded() { return rig.state.load_quarantines().records; }
    void quarantine(const net::Mac& mac) {
        REQUIRE(rig.core.quarantine({mac.str(), std::nullopt, std::nullopt, "test"}, {control::Origin::cli, ""}).ok());
    }
};

web::RouterSettings page_settings() {
    web::RouterSettings s;
    s.page = true;
    s.metrics = true;
    s.token = kToken;
    return s;
}

web::Request get(const std::string& path) {
    web::Request r;
    r.method = "GET";
    r.path = path;
    r.headers["host"] = "198.18.0.1:8080";
    return r;
}

// A change as the page sends it: same origin, token, JSON.
web::Request change(const std::string& method, const std::string& path, const std::string& body) {
    web::Request r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.headers = {{"host", "198.18.0.1:8080"},
                 {"origin", "http://198.18.0.1:8080"},
                 {"sec-fetch-site", "same-origin"},
                 {"content-type", "application/json"},
                 {"authorization", "Bearer " + kToken}};
    return r;
}

std::string header(const web::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return "";
}

// Each sample line of the exposition, by metric family: "name{labels} value".
std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
    return out;
}

}  // namespace

// ---- metrics ----

TEST_CASE("label values escape backslash, quote and newline, and replace bytes that are not UTF-8") {
    CHECK(web::escape_label_value("plain") == "plain");
    CHECK(web::escape_label_value("a\"b") == "a\\\"b");
    CHECK(web::escape_label_value("a\\b") == "a\\\\b");
    CHECK(web::escape_label_value("a\nb") == "a\\nb");
    CHECK(web::escape_label_value("caf\xc3\xa9 \xe2\x9c\x93") == "caf\xc3\xa9 \xe2\x9c\x93");  // UTF-8 kept
    CHECK(web::escape_label_value("bad\xff") == "bad\xef\xbf\xbd");
    CHECK(web::escape_label_value("\xc3") == "\xef\xbf\xbd");            // cut short
    CHECK(web::escape_label_value("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");  // overlong '/'
    CHECK(web::escape_label_value("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
}

TEST_CASE("the metrics text: one HELP and TYPE per family, its samples together, valid names, the numbers") {
    auto s = sample_snapshot();
    std::string text = web::render_metrics(*s);
    auto lines = lines_of(text);
    REQUIRE(!lines.empty());

    std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
    std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge))");
    std::regex sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN))");
    std::set<std::string> families;
    std::string current, current_type;
    for (size_t i = 0; i < lines.size(); ++i) {
        std::smatch m;
        if (std::regex_match(lines[i], m, help)) {
            INFO(lines[i]);
            CHECK(families.insert(m[1]).second);  // never a second HELP for a family
            current = m[1];
            REQUIRE(i + 1 < lines.size());
            std::smatch t;
            REQUIRE(std::regex_match(lines[i + 1], t, type));
            CHECK(t[1] == current);
            current_type = t[2];
            ++i;
            continue;
        }
        INFO(lines[i]);
        REQUIRE(std::regex_match(lines[i], m, sample));
        CHECK(m[1] == current);  // a family's samples follow its HELP and TYPE
        if (current_type == "counter") CHECK(current.size() > 6);
        if (current_type == "counter") CHECK(current.substr(current.size() - 6) == "_total");
    }
    for (const char* f : {"warden_device_bytes_total", "warden_device_frames_total", "warden_device_dropped_frames_total",
                          "warden_quarantined_devices", "warden_findings_total", "warden_program_seen_frames_total",
                          "warden_program_passed_frames_total", "warden_program_dropped_frames_total",
                          "warden_map_entries", "warden_map_capacity", "warden_poll_cpu_seconds"})
        CHECK_MESSAGE(families.count(f), f);

    auto has = [&](const std::string& line) {
        bool found = std::find(lines.begin(), lines.end(), line) != lines.end();
        CHECK_MESSAGE(found, line);
    };
    has(R"(warden_device_bytes_total{mac="a4:cf:12:00:00:01",name="Hall camera",type="camera",direction="up"} 5000)");
    has(R"(warden_device_bytes_total{mac="a4:cf:12:00:00:01",name="Hall camera",type="camera",direction="down"} 7000)");
    has(R"(warden_device_frames_total{mac="a4:cf:12:00:00:01",name="Hall camera",type="camera",direction="broadcast"} 2)");
    has(R"(warden_device_dropped_frames_total{mac="a4:cf:12:00:00:01",name="Hall camera",type="camera",reason="quarantine"} 5)");
    has(R"(warden_device_dropped_frames_total{mac="a4:cf:12:00:00:01",name="Hall camera",type="camera",reason="blocklist"} 3)");
    // The laptop has no name: the DHCP host name stands in, escaped; type from its identity.
    has(R"(warden_device_bytes_total{mac="02:00:00:00:01:02",name="lap\"top\\1\nx",type="laptop",direction="up"} 100)");
    has(R"(warden_quarantined_devices{level="isolate"} 1)");
    has(R"(warden_quarantined_devices{level="restricted"} 0)");
    has(R"(warden_findings_total{detector="port_scan"} 2)");
    has(R"(warden_findings_total{detector="flood"} 0)");  // every detector, zero until it finds
    has(R"(warden_program_seen_frames_total{program="lan_ingress"} 1000)");
    has(R"(warden_program_dropped_frames_total{program="lan_ingress",reason="isolated"} 10)");
    has(R"(warden_map_entries{map="wd_devices"} 2)");
    has(R"(warden_map_capacity{map="wd_events"} 262144)");
    has(R"(warden_program_map_added_entries_total{program="lan_ingress",map="wd_flows"} 5000)");
    has(R"(warden_program_map_added_entries_total{program="lan_egress",map="wd_flows"} 40)");
    has(R"(warden_map_evicted_entries_total{map="wd_devices"} 3)");
    has(R"(warden_map_evicted_entries_total{map="wd_flows"} 1234)");
    has("warden_poll_cpu_seconds 0.0012");
    has("warden_devices 2");
}

TEST_CASE("the fleet channel's metrics come from its status; none when the channel is off") {
    auto s = sample_snapshot();
    CHECK(web::render_metrics(*s).find("warden_fleet_") == std::string::npos);
    s->fleet = json::parse(R"({"enabled": true, "connected": true, "connections": 3, "queue_depth": 7,
        "queue_bytes": 1200, "queue_budget": 1048576, "dropped": {"health": 4, "event:finding": 1},
        "refused": {"profile": 2}, "sent": {"messages": 90, "bytes": 45000},
        "acks": {"applied": 5, "duplicate": 1}, "last_broker_ack_ms": 0})");
    s->fleet["last_broker_ack_ms"] = s->time_ms - 2'500;
    auto lines = lines_of(web::render_metrics(*s));
    auto has = [&](const std::string& line) {
        bool found = std::find(lines.begin(), lines.end(), line) != lines.end();
        CHECK_MESSAGE(found, line);
    };
    has("warden_fleet_connected 1");
    has("warden_fleet_connections_total 3");
    has("warden_fleet_queue_messages 7");
    has("warden_fleet_queue_bytes 1200");
    has("warden_fleet_queue_budget_bytes 1048576");
    has(R"(warden_fleet_dropped_messages_total{kind="health"} 4)");
    has(R"(warden_fleet_dropped_messages_total{kind="event:finding"} 1)");
    has(R"(warden_fleet_refused_messages_total{kind="profile"} 2)");
    has("warden_fleet_sent_messages_total 90");
    has("warden_fleet_sent_bytes_total 45000");
    has(R"(warden_fleet_acks_total{result="applied"} 5)");
    has(R"(warden_fleet_acks_total{result="duplicate"} 1)");
    has("warden_fleet_last_broker_ack_age_seconds 2.5");

    // A channel that could not start: disconnected, and nothing else made up.
    s->fleet = json{{"enabled", true}, {"connected", false}, {"error", "no certificate"}};
    lines = lines_of(web::render_metrics(*s));
    has("warden_fleet_connected 0");
    for (const auto& line : lines) {
        bool sample = line.rfind("warden_fleet_", 0) == 0;
        CHECK_MESSAGE((!sample || line == "warden_fleet_connected 0"), line);
    }
}

TEST_CASE("counters beyond 2^53 are written exactly") {
    auto s = sample_snapshot();
    s->programs[WD_PROG_WAN_INGRESS].seen = 18'446'744'073'709'551'615ull;
    std::string text = web::render_metrics(*s);
    CHECK(text.find("warden_program_seen_frames_total{program=\"wan_ingress\"} 18446744073709551615\n") !=
          std::string::npos);
}

// ---- the JSON API ----

TEST_CASE("GET /api/devices is exactly what `warden devices --json` prints for the same devices") {
    FakeSource src;
    web::Router router(src, page_settings());
    auto r = router.handle(get("/api/devices"));
    CHECK(r.status == 200);
    CHECK(r.content_type.rfind("application/json", 0) == 0);
    json expected = json::array();
    for (const auto& d : src.snap->devices) expected.push_back(view::to_json(d));
    CHECK(json::parse(r.body) == expected);
    auto list = json::parse(r.body);
    REQUIRE(list.size() == 2);
    CHECK(list[0]["name"] == "Hall camera");
    CHECK(list[0]["state"] == "isolated");
    CHECK(list[0]["drops"]["quarantine"] == 5);
    CHECK(list[0]["rate"]["active_flows"] == 3);
    CHECK(list[1]["vendor"] == "Laptop Maker");
    CHECK(list[1]["rate"]["up_bps"] == 0.0);  // fresh rates: absent means idle
}

TEST_CASE("GET /api/quarantine is `warden quarantine list --json`; /api/findings the logged findings") {
    FakeSource src;
    src.quarantine(kCamera);
    src.rig.kernel.quarantined[kCamera].dropped_from_device = {7, 700};
    web::Router router(src, page_settings());
    auto q = router.handle(get("/api/quarantine"));
    CHECK(q.status == 200);
    CHECK(json::parse(q.body) == src.rig.core.list_quarantines().detail["quarantines"]);
    CHECK(json::parse(q.body)[0]["dropped"]["from_device"]["packets"] == 7);
    auto f = router.handle(get("/api/findings"));
    CHECK(json::parse(f.body) == json(src.snap->threats->findings));
}

TEST_CASE("GET /api/summary: today's traffic, threats today and in the week, evidence for quarantines") {
    FakeSource src;
    web::Router router(src, page_settings());
    auto j = json::parse(router.handle(get("/api/summary")).body);
    CHECK(j["today"][kCamera.str()]["down"] == 2000);
    // Incidents, not log lines: the camera's quarantine with its 1,440 blocked minutes is one;
    // the administrator's own quarantine is none.
    CHECK(j["threats"]["today"] == 1);
    CHECK(j["threats"]["week"] == 2);  // and the blocklist hits two days ago; not the 8-day-old one
    CHECK(j["threats"]["week_by_kind"]["blocklist"] == 1);
    CHECK(j["threats"]["recent"][0]["kind"] == "quarantine");  // newest first
    CHECK(j["threats"]["recent"][0]["blocked"] == 1440);
    CHECK(j["threats"]["recent"][1]["threat"] == false);
    CHECK(j["evidence"][kCamera.str()] == "tried 300 ports");
}

TEST_CASE("before the first poll the API says so (503) instead of showing nothing") {
    FakeSource src;
    src.snap = nullptr;
    web::Router router(src, page_settings());
    CHECK(router.handle(get("/api/devices")).status == 503);
    CHECK(router.handle(get("/metrics")).status == 503);
}

// ---- changes: token, cross-site, content type ----

TEST_CASE("a quarantine from the page goes through the control core, with the policy's defaults and its terms") {
    policy::QuarantineDefaults defaults;
    defaults.level = policy::QuarantineLevel::restricted;
    defaults.duration = std::chrono::milliseconds(3'600'000);
    FakeSource src(defaults);
    web::Router router(src, page_settings());

    auto r = router.handle(change("POST", "/api/quarantine", R"({"mac":"02:00:00:00:01:02"})"));
    CHECK(r.status == 200);
    auto added = src.recorded();
    REQUIRE(added.size() == 1);
    CHECK(added[0].mac == kLaptop);
    CHECK(added[0].level == text::QuarantineLevel::restricted);
    CHECK(added[0].origin == "operator");
    CHECK(added[0].by == "page:admin token");
    REQUIRE(added[0].expires_ms);
    CHECK(*added[0].expires_ms - added[0].since_ms == 3'600'000);
    CHECK(json::parse(r.body)["mac"] == kLaptop.str());

    r = router.handle(change("POST", "/api/quarantine",
                             R"({"mac":"02-00-00-00-01-02","level":"isolate","duration":"forever","reason":"odd"})"));
    CHECK(r.status == 200);
    added = src.recorded();
    REQUIRE(added.size() == 1);  // the same device, new terms
    CHECK(added[0].level == text::QuarantineLevel::isolate);
    CHECK(!added[0].expires_ms);
    CHECK(added[0].reason == "odd");

    // What the core refuses, the page refuses with its reason.
    r = router.handle(change("POST", "/api/quarantine", R"({"mac":"02:00:00:00:00:01"})"));
    CHECK(r.status == 409);
    CHECK(json::parse(r.body)["error"].get<std::string>().find("gateway's own MAC") != std::string::npos);
}

TEST_CASE("a change without the token is refused with 401 and changes nothing") {
    FakeSource src;
    web::Router router(src, page_settings());
    auto request = change("POST", "/api/quarantine", R"({"mac":"02:00:00:00:01:02"})");
    request.headers.erase("authorization");
    auto r = router.handle(request);
    CHECK(r.status == 401);
    CHECK(header(r, "WWW-Authenticate").find("Bearer") == 0);
    request.headers["authorization"] = "Bearer " + std::string(64, 'b');
    CHECK(router.handle(request).status == 401);
    request.headers["authorization"] = "Basic " + kToken;
    CHECK(router.handle(request).status == 401);
    auto release = change("POST", "/api/quarantine/a4:cf:12:00:00:01/release", "{}");
    release.headers.erase("authorization");
    CHECK(router.handle(release).status == 401);
    CHECK(src.changes() == 0);
}

TEST_CASE("a change from another site is refused with 403 even with the token") {
    FakeSource src;
    web::Router router(src, page_settings());
    auto foreign = change("POST", "/api/quarantine", R"({"mac":"02:00:00:00:01:02"})");
    foreign.headers["origin"] = "http://evil.example";
    foreign.headers.erase("sec-fetch-site");
    CHECK(router.handle(foreign).status == 403);
    auto null_origin = change("POST", "/api/quarantine", R"({"mac":"02:00:00:00:01:02"})");
    null_origin.headers["origin"] = "null";
    CHECK(router.handle(null_origin).status == 403);
    auto cross = change("DELETE", "/api/quarantine/a4:cf:12:00:00:01", "{}");
    cross.headers["sec-fetch-site"] = "cross-site";
    CHECK(router.handle(cross).status == 403);
    auto same_site = change("DELETE", "/api/quarantine/a4:cf:12:00:00:01", "{}");
    same_site.headers["sec-fetch-site"] = "same-site";  // a sibling host is another site's page
    CHECK(router.handle(same_site).status == 403);
    CHECK(src.changes() == 0);
}

TEST_CASE("a change must be JSON; tools without Origin headers (curl) may change things with the token") {
    FakeSource src;
    web::Router router(src, page_settings());
    auto form = change("POST", "/api/quarantine", "mac=02:00:00:00:01:02");
    form.headers["content-type"] = "application/x-www-form-urlencoded";
    CHECK(router.handle(form).status == 415);
    auto plain = change("POST", "/api/quarantine", R"({"mac":"02:00:00:00:01:02"})");
    plain.headers["content-type"] = "text/plain";
    CHECK(router.handle(plain).status == 415);
    CHECK(src.changes() == 0);
    auto tool = change("POST", "/api/quarantine", R"({"mac":"02:00:00:00:01:02"})");
    tool.headers.erase("origin");
    tool.headers.erase("sec-fetch-site");
    tool.headers["content-type"] = "application/json; charset=utf-8";
    CHECK(router.handle(tool).status == 200);
    CHECK(src.recorded().size() == 1);
}

TEST_CASE("bad quarantine requests say what is wrong (400) and change nothing") {
    FakeSource src;
    web::Router router(src, page_settings());
    for (const char* body : {R"({})", R"({"mac":"nope"})", R"({"mac":"ff:ff:ff:ff:ff:ff"})",
                             R"({"mac":"02:00:00:00:01:02","level":"drop"})", R"({"mac":"02:00:00:00:01:02","duration":"5x"})",
                             R"({"mac":"02:00:00:00:01:02","colour":"red"})", R"({"mac":2})", "[1]", "{not json",
                             R"({"mac":"02:00:00:00:01:02","reason":"two\nlines"})"}) {
        auto r = router.handle(change("POST", "/api/quarantine", body));
        CHECK_MESSAGE(r.status == 400, body);
        CHECK(json::parse(r.body).contains("error"));
    }
    CHECK(src.recorded().empty());
}

TEST_CASE("release by POST .../release or DELETE, with the MAC in the path (percent-encoded or not)") {
    FakeSource src;
    web::Router router(src, page_settings());
    src.quarantine(kCamera);
    auto r = router.handle(change("POST", "/api/quarantine/a4%3Acf%3A12%3A00%3A00%3A01/release", "{}"));
    CHECK(r.status == 200);
    CHECK(json::parse(r.body)["released"] == kCamera.str());
    src.quarantine(kCamera);
    CHECK(router.handle(change("DELETE", "/api/quarantine/a4:cf:12:00:00:01", "")).status == 200);
    CHECK(src.rig.kernel.quarantined.empty());
    auto released = src.rig.events_of("release");
    REQUIRE(released.size() == 2);
    CHECK(released[0]["by"] == "page:admin token");
    CHECK(router.handle(change("POST", "/api/quarantine/02:00:00:00:01:02/release", "{}")).status == 404);
    CHECK(router.handle(change("POST", "/api/quarantine/zz/release", "{}")).status == 400);
    CHECK(router.handle(change("GET", "/api/quarantine/a4:cf:12:00:00:01/release", "")).status == 405);
}

TEST_CASE("GET /api/auth tells a right token from a wrong one") {
    FakeSource src;
    web::Router router(src, page_settings());
    auto r = get("/api/auth");
    CHECK(router.handle(r).status == 401);
    r.headers["authorization"] = "bearer " + kToken;  // the scheme is case-insensitive
    CHECK(router.handle(r).status == 200);
}

// ---- the page, hosts, headers ----

TEST_CASE("the page and its files are served from the binary; nothing else is") {
    FakeSource src;
    web::Router router(src, page_settings());
    auto index = router.handle(get("/"));
    CHECK(index.status == 200);
    CHECK(index.content_type.rfind("text/html", 0) == 0);
    CHECK(index.body.find("/app.js") != std::string::npos);
    CHECK(router.handle(get("/app.js")).content_type.rfind("text/javascript", 0) == 0);
    CHECK(router.handle(get("/style.css")).status == 200);
    for (const char* path : {"/etc/passwd", "/../CMakeLists.txt", "/static/", "/index.html/", "/api/nothing"})
        CHECK_MESSAGE(router.handle(get(path)).status == 404, path);
    auto post = change("POST", "/", "{}");
    CHECK(router.handle(post).status == 405);
}

TEST_CASE("every answer carries the security headers, errors too") {
    FakeSource src;
    web::Router router(src, page_settings());
    for (const auto& r : {router.handle(get("/")), router.handle(get("/nothing")), router.handle(get("/metrics")),
                          router.handle(change("POST", "/api/quarantine", "{"))}) {
        CHECK(header(r, "Content-Security-Policy").find("default-src 'self'") != std::string::npos);
        CHECK(header(r, "Content-Security-Policy").find("frame-ancestors 'none'") != std::string::npos);
        CHECK(header(r, "X-Content-Type-Options") == "nosniff");
        CHECK(header(r, "X-Frame-Options") == "DENY");
        CHECK(header(r, "Cache-Control") == "no-store");
    }
}

TEST_CASE("the page answers only to names a DNS rebinding attacker cannot use") {
    CHECK(web::host_allowed("198.18.0.1:8080", {}));
    CHECK(web::host_allowed("[fd00:1::1]:8080", {}));
    CHECK(web::host_allowed("gateway", {}));
    CHECK(web::host_allowed("Gateway.LAN:8080", {}));
    CHECK(web::host_allowed("router.home.arpa", {}));
    CHECK(web::host_allowed("router.home.arpa.", {}));
    CHECK(!web::host_allowed("evil.example.com", {}));
    CHECK(!web::host_allowed("198.18.0.1.evil.example", {}));
    CHECK(!web::host_allowed("", {}));
    CHECK(!web::host_allowed("[not-an-address]:80", {}));
    CHECK(web::host_allowed("gw.example.net:8080", {"gw.example.net"}));

    FakeSource src;
    web::Router router(src, page_settings());
    auto r = get("/api/devices");
    r.headers["host"] = "attacker.example.com";
    CHECK(router.handle(r).status == 421);
    r.headers["host"] = "198.18.0.1:8080";
    CHECK(router.handle(r).status == 200);
}

TEST_CASE("a metrics-only listener serves /metrics and nothing of the page") {
    FakeSource src;
    web::RouterSettings settings;
    settings.metrics = true;
    web::Router router(src, settings);
    auto m = router.handle(get("/metrics"));
    CHECK(m.status == 200);
    CHECK(m.content_type == web::kMetricsContentType);
    CHECK(router.handle(get("/api/devices")).status == 404);
    CHECK(router.handle(get("/index.html")).status == 404);
    CHECK(router.handle(change("POST", "/api/quarantine", R"({"mac":"02:00:00:00:01:02"})")).status == 404);
    CHECK(src.changes() == 0);
}

// ---- the token ----

TEST_CASE("the admin token: made once, 0600, 64 hex digits; kept; repaired when loosened or damaged") {
    WebTempDir d;
    auto file = d.path / "admin-token";
    auto first = web::load_or_create_token(file);
    CHECK(first.created);
    CHECK(first.token.size() == 64);
    CHECK(first.token.find_first_not_of("0123456789abcdef") == std::string::npos);
    struct stat st {};
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    auto again = web::load_or_create_token(file);
    CHECK(!again.created);
    CHECK(again.token == first.token);
    CHECK(web::load_or_create_token(d.path / "other").token != first.token);  // random, not fixed

    chmod(file.c_str(), 0644);
    auto tightened = web::load_or_create_token(file);
    CHECK(tightened.token == first.token);
    CHECK(tightened.problem.find("0644") != std::string::npos);
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    std::ofstream(file) << "not a token\n";
    auto replaced = web::load_or_create_token(file);
    CHECK(replaced.created);
    CHECK(replaced.token != first.token);
    CHECK(replaced.problem.find("kept as") != std::string::npos);
}

TEST_CASE("token comparison and the Bearer header") {
    CHECK(web::token_matches(kToken, kToken));
    CHECK(!web::token_matches(kToken.substr(1), kToken));
    CHECK(!web::token_matches("", ""));  // no token configured: nothing matches
    CHECK(web::bearer_token("Bearer abc") == "abc");
    CHECK(web::bearer_token("bEaReR  abc ") == "abc");
    CHECK(web::bearer_token("Basic abc").empty());
    CHECK(web::bearer_token("Bearer").empty());
}

// ---- the threat log ----

TEST_CASE("the threat log follows the events log: appends, half-written lines, rotation, findings by detector") {
    WebTempDir d;
    auto file = d.path / "events.jsonl";
    auto line = [](const json& j) { return j.dump() + "\n"; };
    int64_t now = 1'796'000'000'000;
    {
        std::ofstream(d.path / "events.jsonl.1")
            << line({{"kind", "finding"}, {"mac", "02:00:00:00:01:02"}, {"detector", "flood"}, {"evidence", "old"},
                     {"ts_ms", now - 1000}});
        std::ofstream(file) << line({{"kind", "start"}, {"ts_ms", now}})
                            << line({{"kind", "blocklist_hit"}, {"mac", "02:00:00:00:01:02"}, {"direction", "from device"},
                                     {"address", "198.18.200.7"}, {"ts_ms", now}});
    }
    web::ThreatTracker tracker(file, 2);
    auto log = tracker.refresh(now);
    REQUIRE(log->recent.size() == 2);
    CHECK(log->recent[0].kind == "finding");
    CHECK(log->recent[1].text == "Stopped a connection to 198.18.200.7, which is on the blocklist");
    CHECK(log->findings_by_detector.at("flood") == 1);
    CHECK(tracker.refresh(now) == log);  // nothing new: the same object

    // A line written in two parts counts once, when whole.
    json finding = {{"kind", "finding"}, {"mac", "a4:cf:12:00:00:01"}, {"detector", "port_scan"},
                    {"evidence", "tried 300 ports"}, {"ts_ms", now + 10}};
    std::string text = line(finding);
    std::ofstream(file, std::ios::app) << text.substr(0, 20);
    CHECK(tracker.refresh(now + 20)->recent.size() == 2);
    std::ofstream(file, std::ios::app) << text.substr(20);
    log = tracker.refresh(now + 20);
    REQUIRE(log->recent.size() == 3);
    CHECK(log->recent[2].text == "tried 300 ports");
    CHECK(log->findings.back()["detector"] == "port_scan");

    // Rotation: the file moves to .1 and a new one starts; both halves are read, once.
    std::ofstream(file, std::ios::app) << line({{"kind", "quarantine"}, {"mac", "a4:cf:12:00:00:01"}, {"level", "isolate"},
                                                {"origin", "detector"}, {"reason", "port scan"}, {"ts_ms", now + 30}});
    fs::rename(d.path / "events.jsonl.1", d.path / "events.jsonl.2");
    fs::rename(file, d.path / "events.jsonl.1");
    std::ofstream(file) << line({{"kind", "finding"}, {"mac", "a4:cf:12:00:00:01"}, {"detector", "port_scan"},
                                 {"ts_ms", now + 40}});
    log = tracker.refresh(now + 50);
    REQUIRE(log->recent.size() == 5);
    CHECK(log->recent[3].text == "Isolated by warden: port scan");
    CHECK(log->findings_by_detector.at("port_scan") == 2);

    // A week later the old ones are gone from the list but still counted.
    log = tracker.refresh(now + web::kThreatWindowMs + 35);
    CHECK(log->recent.size() == 1);
    CHECK(log->findings_by_detector.at("flood") == 1);
}

TEST_CASE("incidents: a finding, its quarantine and the traffic blocked after it are one; the explanation stays") {
    WebTempDir d;
    auto file = d.path / "events.jsonl";
    int64_t now = 1'796'000'000'000;
    const std::string cam = "a4:cf:12:00:00:01", laptop = "02:00:00:00:01:02";
    {
        std::ofstream out(file);
        auto line = [&](const json& j) { out << j.dump() << "\n"; };
        line({{"kind", "finding"}, {"mac", cam}, {"detector", "propagation"}, {"action_taken", "isolate"},
              {"evidence", "57 hosts on telnet ports"}, {"ts_ms", now}});
        line({{"kind", "quarantine"}, {"mac", cam}, {"level", "isolate"}, {"origin", "detector"},
              {"reason", "propagation: 57 hosts"}, {"ts_ms", now + 1}});
        // A chatty camera, cut off for a day: a blocked-traffic event a minute.
        for (int m = 1; m <= 1440; ++m)
            line({{"kind", "quarantine_drop"}, {"mac", cam}, {"direction", "from device"}, {"level", "isolate"},
                  {"ts_ms", now + m * 60'000ll}});
        line({{"kind", "finding"}, {"mac", cam}, {"detector", "port_scan"}, {"action_taken", "none"},
              {"ts_ms", now + 70'000}});
        // The administrator's own quarantine of the laptop: listed, not a threat.
        line({{"kind", "quarantine"}, {"mac", laptop}, {"level", "isolate"}, {"origin", "operator"},
              {"reason", "homework"}, {"ts_ms", now + 100}});
        line({{"kind", "release"}, {"mac", laptop}, {"why", "by the operator"}, {"ts_ms", now + 200}});
        // An alert and its blocklist hits, close together: one.
        line({{"kind", "blocklist_hit"}, {"mac", laptop}, {"direction", "from device"}, {"address", "198.18.64.66"},
              {"ts_ms", now + 300}});
        line({{"kind", "finding"}, {"mac", laptop}, {"detector", "blocklist"}, {"action_taken", "alert"},
              {"evidence", "frames to 198.18.64.66"}, {"ts_ms", now + 400}});
        line({{"kind", "blocklist_hit"}, {"mac", laptop}, {"direction", "from device"}, {"address", "198.18.64.66"},
              {"ts_ms", now + 60'400}});
    }
    web::ThreatTracker tracker(file, 0);
    auto log = tracker.refresh(now + 1441 * 60'000ll);
    REQUIRE(log->incidents.size() == 3);
    const auto& camera = log->incidents[0];
    CHECK(camera.kind == "quarantine");
    CHECK(camera.open);
    CHECK(camera.threat);
    CHECK(camera.blocked == 1440);
    CHECK(camera.findings == 2);
    CHECK(camera.text == "57 hosts on telnet ports");  // the explanation, never pushed out
    CHECK(camera.action == "Isolated by warden");
    CHECK_FALSE(log->incidents[1].threat);
    CHECK_FALSE(log->incidents[1].open);
    CHECK(log->incidents[2].kind == "alert");
    CHECK(log->incidents[2].blocked == 2);
    CHECK(log->incidents[2].text == "frames to 198.18.64.66");
}

// ---- today's traffic ----

TEST_CASE("today's traffic: counted from midnight, across restarts, reboots and the next midnight") {
    WebTempDir d;
    auto file = d.path / "today.json";
    int64_t noon = web::local_midnight_ms(1'796'000'000'000) + 12 * 3'600'000ll;
    int64_t midnight = web::local_midnight_ms(noon);
    std::map<net::Mac, dataplane::DeviceCounters> kernel{{kCamera, counters(kCamera, 10'000, 20'000)}};
    std::map<net::Mac, int64_t> first_seen{{kCamera, midnight - 86'400'000}};  // yesterday

    web::TodayCounters today(file, noon);
    auto t = today.update(kernel, first_seen, noon);
    CHECK(t[kCamera].up == 0);  // what it sent before warden started today is not known to be today's
    kernel[kCamera] = counters(kCamera, 10'500, 21'000);
    t = today.update(kernel, first_seen, noon + 1000);
    CHECK(t[kCamera].up == 500);
    CHECK(t[kCamera].down == 1000);

    // A device first seen today: all of its counts are today's.
    kernel[kLaptop] = counters(kLaptop, 300, 400);
    first_seen[kLaptop] = noon;
    t = today.update(kernel, first_seen, noon + 2000);
    CHECK(t[kLaptop].up == 300);

    // A restart: the saved numbers carry on.
    today.save();
    web::TodayCounters restarted(file, noon + 3000);
    kernel[kCamera] = counters(kCamera, 11'000, 22'000);
    t = restarted.update(kernel, first_seen, noon + 3000);
    CHECK(t[kCamera].up == 1000);

    // A reboot: the kernel counts from zero again; today's total goes on from where it was.
    kernel[kCamera] = counters(kCamera, 200, 0);
    t = restarted.update(kernel, first_seen, noon + 4000);
    CHECK(t[kCamera].up == 1200);
    CHECK(t[kCamera].down == 2000);

    // The next midnight starts from zero.
    int64_t tomorrow = midnight + 86'400'000 + 60'000;
    kernel[kCamera] = counters(kCamera, 900, 100);
    t = restarted.update(kernel, first_seen, tomorrow);
    CHECK(t[kCamera].up == 0);
    CHECK(restarted.midnight_ms() == web::local_midnight_ms(tomorrow));

    // Yesterday's file is not today's.
    restarted.save();
    web::TodayCounters next_day(file, tomorrow + 86'400'000);
    CHECK(next_day.update(kernel, first_seen, tomorrow + 86'400'000)[kCamera].up == 0);

    std::ofstream(file) << "{broken";
    web::TodayCounters damaged(file, noon);
    CHECK(!damaged.problem().empty());
}

// ---- policy keys and where to listen ----

TEST_CASE("policy: metrics and status_page keys, their defaults and their errors") {
    auto ok = policy::load_text("interfaces: {wan: eth0, lan: [eth1]}\n", "p.yaml");
    REQUIRE(ok.policy);
    CHECK(ok.policy->metrics.enabled);
    CHECK(ok.policy->metrics.listen.str() == "127.0.0.1:9464");
    CHECK(ok.policy->status_page.enabled);
    CHECK(ok.policy->status_page.listen.str() == "lan:8080");

    auto set = policy::load_text(
        "interfaces: {wan: eth0, lan: [eth1]}\n"
        "metrics:\n  enabled: false\n  listen: \"[::1]:9100\"\n"
        "status_page:\n  listen: 198.18.0.1:80\n  hostnames: [Gateway.Example.NET]\n",
        "p.yaml");
    REQUIRE(set.policy);
    CHECK(!set.policy->metrics.enabled);
    CHECK(set.policy->metrics.listen.str() == "[::1]:9100");
    CHECK(!set.policy->status_page.listen.lan);
    CHECK(set.policy->status_page.listen.port == 80);
    CHECK(set.policy->status_page.hostnames == std::vector<std::string>{"gateway.example.net"});

    auto bad = policy::load_text(
        "interfaces: {wan: eth0, lan: [eth1]}\n"
        "metrics:\n  listen: 127.0.0.1\n"
        "status_page:\n  listen: lan:70000\n  hostnames: [\"bad name\"]\n  enable: true\n",
        "p.yaml");
    REQUIRE(bad.errors.size() == 4);
    CHECK(bad.errors[0].str().find("p.yaml:3:11: metrics.listen:") == 0);
    CHECK(bad.errors[0].message.find("no port") != std::string::npos);
    CHECK(bad.errors[1].key == "status_page.listen");
    CHECK(bad.errors[1].message.find("1 to 65535") != std::string::npos);
    CHECK(bad.errors[2].key == "status_page.hostnames[0]");
    CHECK(bad.errors[3].message.find("did you mean 'enabled'") != std::string::npos);

    std::string why;
    CHECK(!policy::parse_listen("fd00::1:80", &why));
    CHECK(why.find("brackets") != std::string::npos);
    CHECK(!policy::parse_listen("gateway:80", &why));
}

TEST_CASE("listen addresses: lan is the bridge's addresses (not link-local), bound to it; shared ports merge") {
    policy::Policy p;
    p.interfaces.wan = "wan0";
    p.interfaces.lan = {"lan1", "lan2", "wlan0"};
    std::vector<net::Interface> itfs(5);
    itfs[0] = {1, "br-lan", std::nullopt, 0, true,
               {*net::IpAddr::parse("198.18.0.1"), *net::IpAddr::parse("fe80::1"), *net::IpAddr::parse("fd00:1::1")}};
    itfs[1] = {2, "lan1", std::nullopt, 1, true, {*net::IpAddr::parse("fe80::2")}};
    itfs[2] = {3, "lan2", std::nullopt, 1, true, {}};
    itfs[3] = {4, "wlan0", std::nullopt, 0, true, {*net::IpAddr::parse("198.18.1.1")}};  // outside the bridge
    itfs[4] = {5, "wan0", std::nullopt, 0, true, {*net::IpAddr::parse("198.19.0.2")}};
    std::vector<std::string> problems;
    auto eps = web::resolve_endpoints(p, itfs, &problems);
    CHECK(problems.empty());
    REQUIRE(eps.size() == 4);
    CHECK(eps[0].str() == "127.0.0.1:9464 (metrics)");
    CHECK(eps[1].str() == "198.18.0.1:8080 on br-lan (status page)");
    CHECK(eps[2].str() == "[fd00:1::1]:8080 on br-lan (status page)");
    CHECK(eps[3].str() == "198.18.1.1:8080 on wlan0 (status page)");
    for (const auto& e : eps) CHECK(e.address != *net::IpAddr::parse("198.19.0.2"));  // never the WAN's

    p.metrics.listen = *policy::parse_listen("lan:8080");  // both on the LAN port: one listener each
    eps = web::resolve_endpoints(p, itfs, &problems);
    CHECK(problems.empty());
    REQUIRE(eps.size() == 3);
    CHECK(eps[0].metrics);
    CHECK(eps[0].page);

    p.metrics.enabled = false;
    itfs[0].addrs = {*net::IpAddr::parse("fe80::1")};
    itfs[3].addrs = {};
    problems.clear();
    eps = web::resolve_endpoints(p, itfs, &problems);
    CHECK(eps.empty());
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find("no address") != std::string::npos);
}

TEST_CASE("config/policy.yaml documents metrics and status_page with their defaults") {
    auto r = policy::load_file(std::string(WARDEN_SOURCE_DIR) + "/config/policy.yaml");
    REQUIRE(r.policy);
    policy::Policy defaults;
    CHECK(r.policy->metrics.enabled == defaults.metrics.enabled);
    CHECK(r.policy->metrics.listen == defaults.metrics.listen);
    CHECK(r.policy->status_page.enabled == defaults.status_page.enabled);
    CHECK(r.policy->status_page.listen == defaults.status_page.listen);
    CHECK(r.policy->status_page.hostnames.empty());
}
