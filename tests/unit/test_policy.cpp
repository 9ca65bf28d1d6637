#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "policy/policy.h"
#include "policy/show.h"
#include "support/deadline.h"
#include "support/temp_dir.h"
#include "text/text.h"

using namespace warden;
using namespace warden::policy;
using namespace warden::text;
using namespace std::chrono_literals;

namespace {

const std::string example_path = std::string(WARDEN_SOURCE_DIR) + "/config/policy.yaml";

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in, "cannot open " << path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The smallest valid policy, for tests that add one key to it.
const std::string minimal = "interfaces:\n  wan: eth0\n  lan: [eth1]\n";

std::string all_errors(const LoadResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += e.str() + "\n";
    return out;
}

// The only error of a load; fails the test if there is not exactly one.
Diagnostic only_error(const LoadResult& r) {
    INFO(all_errors(r));
    REQUIRE(r.errors.size() == 1);
    CHECK_FALSE(r.policy);
    return r.errors[0];
}

void check_at(const Diagnostic& d, int line, int column, const std::string& key) {
    INFO(d.str());
    CHECK(d.line == line);
    CHECK(d.column == column);
    CHECK(d.key == key);
}

Policy valid(const std::string& text) {
    auto r = load_text(text, "test.yaml");
    INFO(all_errors(r));
    REQUIRE(r.errors.empty());
    REQUIRE(r.policy);
    return *r.policy;
}

}  // namespace

// ---- durations and sizes ----

TEST_CASE("durations: single units, combinations, and the round trip through format") {
    CHECK(parse_duration("100ms") == 100ms);
    CHECK(parse_duration("90s") == 90s);
    CHECK(parse_duration("15m") == 15min);
    CHECK(parse_duration("1h") == 1h);
    CHECK(parse_duration("7d") == 7 * 24h);
    CHECK(parse_duration("1h30m") == 90min);
    CHECK(parse_duration("1d12h30m15s250ms") == 24h + 12h + 30min + 15s + 250ms);
    CHECK(parse_duration("0s") == 0ms);

    CHECK(format_duration(90min) == "1h30m");
    CHECK(format_duration(45s) == "45s");
    CHECK(format_duration(1500ms) == "1s500ms");
    CHECK(format_duration(0ms) == "0s");
    CHECK(format_duration(7 * 24h) == "7d");
    CHECK(format_duration(-90s) == "-1m30s");
    for (milliseconds d : {1ms, 999ms, 61000ms, 3601000ms, 90000000ms, 100ms, 90061001ms}) {
        CAPTURE(d.count());
        CHECK(parse_duration(format_duration(d)) == d);
    }
}

TEST_CASE("durations: every malformed form is refused with a reason") {
    struct Case {
        const char* text;
        const char* reason_part;
    };
    for (auto [text, reason_part] : {
             Case{"", "empty"},
             Case{"90", "without a unit"},
             Case{"-5s", "no sign"},
             Case{"+5s", "no sign"},
             Case{"1.5h", "fractions"},
             Case{"1h 30m", "unexpected ' '"},
             Case{" 1h", "unexpected ' '"},
             Case{"30m1h", "largest to smallest"},
             Case{"1h1h", "largest to smallest"},
             Case{"5y", "unknown unit 'y'"},
             Case{"5sec", "unknown unit 'sec'"},
             Case{"5S", "unknown unit 'S'"},
             Case{"h", "unexpected 'h'"},
             Case{"forever", "unexpected 'f'"},
             Case{"99999999999999999999s", "too large"},
             Case{"36600d", "too large"},
         }) {
        CAPTURE(text);
        std::string why;
        CHECK_FALSE(parse_duration(text, &why));
        CHECK(why.find(reason_part) != std::string::npos);
    }
}

TEST_CASE("sizes: bytes and binary units, canonical formatting") {
    CHECK(parse_size("4096") == 4096u);
    CHECK(parse_size("4096B") == 4096u);
    CHECK(parse_size("512kB") == 512u * 1024);
    CHECK(parse_size("512KB") == 512u * 1024);
    CHECK(parse_size("512KiB") == 512u * 1024);
    CHECK(parse_size("10MB") == 10u << 20);
    CHECK(parse_size("10MiB") == 10u << 20);
    CHECK(parse_size("1GB") == 1u << 30);
    CHECK(parse_size("0") == 0u);
    CHECK(format_size(10u << 20) == "10MB");
    CHECK(format_size(512u * 1024) == "512kB");
    CHECK(format_size(1536) == "1536B");
    CHECK(format_size(1u << 30) == "1GB");
    CHECK(format_size(0) == "0B");
    for (uint64_t n : {1ull, 1023ull, 1024ull, 3ull << 20, 5ull << 30, 123456789ull})
        CHECK(parse_size(format_size(n)) == n);

    for (const char* bad : {"", "MB", "10mb", "10 MB", "1.5MB", "-1", "10M", "10XB",
                            "99999999999999999999", "20000000000GB"}) {
        CAPTURE(bad);
        std::string why;
        CHECK_FALSE(parse_size(bad, &why));
        CHECK_FALSE(why.empty());
    }
}

TEST_CASE("enum names read back") {
    CHECK(std::string_view(dataplane::xdp_mode_name(XdpMode::automatic)) == "auto");
    CHECK(parse_quarantine_level("restricted") == QuarantineLevel::restricted);
    CHECK(name(QuarantineLevel::isolate) == "isolate");
    CHECK_FALSE(parse_quarantine_level("Isolate"));
    CHECK(parse_block_direction("both") == BlockDirection::both);
    CHECK(parse_device_type("thermostat") == DeviceType::thermostat);
    CHECK(to_string(DeviceType::console) == "console");
    CHECK(to_string(LogLevel::warn) == "warn");
}

// ---- the example and the defaults ----

TEST_CASE("config/policy.yaml loads without errors and says what it says") {
    auto r = load_file(example_path);
    INFO(all_errors(r));
    REQUIRE(r.errors.empty());
    REQUIRE(r.policy);
    const Policy& p = *r.policy;
    CHECK(r.warnings.empty());
    CHECK(p.source == example_path);
    CHECK(p.interfaces.wan == "eth0");
    CHECK(p.interfaces.lan == std::vector<std::string>{"eth1", "wlan0"});
    CHECK(p.xdp_mode == XdpMode::automatic);
    CHECK(p.interval == 1s);
    CHECK(p.map_sizes.events_bytes == 256u * 1024);
    CHECK(p.quarantine.duration == 1h);
    CHECK(p.events_log.max_size == 10u << 20);
    REQUIRE(p.exempt.size() == 1);
    CHECK(p.is_exempt(*net::Mac::parse("00:11:32:aa:bb:01")));
    REQUIRE(p.devices.size() == 3);
    CHECK(p.devices[0].name == "Living-room camera");
    CHECK(p.devices[0].type == DeviceType::camera);
    CHECK(p.devices[0].notes == "mounted above the door; cloud recording on");
    auto* plug = p.find_device(*net::Mac::parse("68:ff:7b:10:20:30"));
    REQUIRE(plug);
    CHECK(plug->type == DeviceType::plug);
    REQUIRE(p.blocklist.files.size() == 1);
    CHECK(p.blocklist.files[0].path == "/etc/warden/blocklist.txt");
    REQUIRE(p.blocklist.prefixes.size() == 2);
    CHECK(p.blocklist.prefixes[0].prefix.str() == "198.18.200.0/24");
    CHECK(p.blocklist.prefixes[0].direction == BlockDirection::out);
    CHECK(p.blocklist.prefixes[1].prefix.str() == "fd00:bad::/32");
    CHECK(p.blocklist.prefixes[1].direction == BlockDirection::both);
    // Its detectors section spells out every default.
    CHECK(p.detectors == engine::Config{});
}

TEST_CASE("the example blocklist file holds only valid prefixes") {
    // The controller reads these files; here we make sure the example itself is right.
    std::istringstream lines(
        read_file(std::string(WARDEN_SOURCE_DIR) + "/config/blocklist.example.txt"));
    std::string line;
    int prefixes = 0;
    while (std::getline(lines, line)) {
        line = line.substr(0, line.find('#'));
        auto first = line.find_first_not_of(" \t");
        if (first == std::string::npos) continue;
        auto text = line.substr(first, line.find_last_not_of(" \t") - first + 1);
        std::string why;
        CAPTURE(text);
        CHECK_MESSAGE(net::Prefix::parse(text, &why), why);
        ++prefixes;
    }
    CHECK(prefixes == 5);
}

TEST_CASE("absent keys take their defaults") {
    Policy p = valid(minimal);
    Policy d;
    CHECK(p.interfaces.wan == "eth0");
    CHECK(p.interfaces.lan == std::vector<std::string>{"eth1"});
    CHECK(p.xdp_mode == XdpMode::automatic);
    CHECK(p.interval == 1s);
    CHECK(p.detach_on_exit == false);
    CHECK(p.log_level == LogLevel::info);
    CHECK(p.paths.pin_dir == "/sys/fs/bpf/warden");
    CHECK(p.paths.state_dir == "/var/lib/warden");
    CHECK(p.map_sizes.devices == 1024);
    CHECK(p.map_sizes.flows == 65536);
    CHECK(p.map_sizes.blocklist_v4 == 65536);
    CHECK(p.map_sizes.blocklist_v6 == 65536);
    CHECK(p.map_sizes.quarantine == 1024);
    CHECK(p.map_sizes.events_bytes == 256u * 1024);
    CHECK(p.quarantine.level == QuarantineLevel::isolate);
    CHECK(p.quarantine.duration == 1h);
    CHECK(p.events_log.max_size == 10u << 20);
    CHECK(p.events_log.keep == 5);
    CHECK(p.exempt.empty());
    CHECK(p.devices.empty());
    CHECK(p.blocklist.files.empty());
    CHECK(p.blocklist.prefixes.empty());
    CHECK(p.detectors == engine::Config{});
    CHECK(p.source == "test.yaml");
}

TEST_CASE("every key can be set") {
    Policy p = valid(minimal + R"(xdp_mode: generic
interval: 250ms
detach_on_exit: true
log_level: debug
paths: {pin_dir: /sys/fs/bpf/wd-test, state_dir: /tmp/wd-state}
map_sizes: {devices: 64, flows: 2048, blocklist_v4: 16, blocklist_v6: 32, quarantine: 16, events_kb: 128}
quarantine: {default_level: restricted, default_duration: forever}
events_log: {max_size: 512kB, keep: 0}
exempt: [02:00:00:00:00:01, 02-00-00-00-00-02]
)");
    CHECK(p.xdp_mode == XdpMode::generic);
    CHECK(p.interval == 250ms);
    CHECK(p.detach_on_exit);
    CHECK(p.log_level == LogLevel::debug);
    CHECK(p.paths.pin_dir == "/sys/fs/bpf/wd-test");
    CHECK(p.paths.state_dir == "/tmp/wd-state");
    CHECK(p.map_sizes.devices == 64);
    CHECK(p.map_sizes.flows == 2048);
    CHECK(p.map_sizes.blocklist_v4 == 16);
    CHECK(p.map_sizes.blocklist_v6 == 32);
    CHECK(p.map_sizes.quarantine == 16);
    CHECK(p.map_sizes.events_bytes == 128u * 1024);
    CHECK(p.quarantine.level == QuarantineLevel::restricted);
    CHECK_FALSE(p.quarantine.duration);  // forever
    CHECK(p.events_log.max_size == 512u * 1024);
    CHECK(p.events_log.keep == 0);
    CHECK(p.exempt.size() == 2);
    CHECK(p.is_exempt(*net::Mac::parse("02:00:00:00:00:02")));
}

TEST_CASE("empty values mean empty lists and sections; booleans are YAML 1.2 only") {
    Policy p = valid(minimal +
                     "exempt:\ndevices:\nblocklist:\n  files:\ndetectors:\ndetach_on_exit: True\n");
    CHECK(p.exempt.empty());
    CHECK(p.devices.empty());
    CHECK(p.detach_on_exit);
    CHECK(p.detectors == engine::Config{});

    auto e = only_error(load_text(minimal + "detach_on_exit: yes\n", "p.yaml"));
    check_at(e, 4, 17, "detach_on_exit");
    CHECK(e.message == "expected true or false, found 'yes'");
}

TEST_CASE("identity sources: defaults, absolute paths, and errors where they are") {
    Policy d = valid(minimal);
    CHECK(d.identity.ieee_data == "/usr/share/ieee-data");
    CHECK(d.identity.device_types == "/etc/warden/device-types.yaml");
    Policy p = valid(minimal + "identity:\n  ieee_data: /opt/ieee\n  device_types: /opt/types.yaml\n");
    CHECK(p.identity.ieee_data == "/opt/ieee");
    CHECK(p.identity.device_types == "/opt/types.yaml");

    auto e = only_error(load_text(minimal + "identity:\n  device_types: types.yaml\n", "p.yaml"));
    check_at(e, 5, 17, "identity.device_types");
    auto u = only_error(load_text(minimal + "identity:\n  oui: /x\n", "p.yaml"));
    check_at(u, 5, 3, "identity.oui");
}

TEST_CASE("events_kb is rounded up to a power of two, with a warning") {
    auto r = load_text(minimal + "map_sizes:\n  events_kb: 300\n", "p.yaml");
    REQUIRE(r.policy);
    CHECK(r.policy->map_sizes.events_bytes == 512u * 1024);
    REQUIRE(r.warnings.size() == 1);
    check_at(r.warnings[0], 5, 14, "map_sizes.events_kb");
    CHECK(r.warnings[0].message.find("rounded up to 512 KiB") != std::string::npos);
}

TEST_CASE("detectors: every key can be set") {
    Policy p = valid(minimal + R"(detectors:
  learning_period: 2h
  cooldown: 30s
  forget_after: 7d
  known_destinations: 1024
  never_quarantine: [laptop, phone]
  escalation: {window: 12h, factor: 2.5, isolate_after: 2, max_duration: 1d}
  port_scan: {enabled: false, action: alert, duration: 15m, ports_per_host: 10,
              hosts_per_port: 12, unanswered_share: 0.75, factor: 2}
  propagation: {ports: [23, 2323], hosts: 3, factor: 1.5, duration: forever}
  flood: {frames_per_second: 20000, factor: 20, action: restricted}
  exfiltration: {bytes_per_second: 512kB, factor: 8}
  new_destinations: {per_minute: 100, factor: 2, action: restricted, duration: 2h}
  blocklist: {hits: 3, action: isolate}
  lateral: {peers: 4, factor: 5}
  beaconing: {repeats: 6, jitter: 0.1, min_interval: 10s, max_interval: 1h}
)");
    const engine::Config& d = p.detectors;
    CHECK(d.learning_period == 2h);
    CHECK(d.cooldown == 30s);
    CHECK(d.forget_after == 7 * 24h);
    CHECK(d.known_destinations == 1024);
    CHECK(d.never_quarantine == std::vector<std::string>{"laptop", "phone"});
    CHECK(d.escalation.window == 12h);
    CHECK(d.escalation.factor == 2.5);
    CHECK(d.escalation.isolate_after == 2);
    CHECK(d.escalation.max_duration == 24h);
    CHECK_FALSE(d.port_scan.response.enabled);
    CHECK(d.port_scan.response.action == engine::Action::alert);
    CHECK(d.port_scan.response.duration == 15min);
    CHECK(d.port_scan.ports_per_host == 10);
    CHECK(d.port_scan.hosts_per_port == 12);
    CHECK(d.port_scan.unanswered_share == 0.75);
    CHECK(d.port_scan.factor == 2);
    CHECK(d.propagation.ports == std::vector<uint16_t>{23, 2323});
    CHECK(d.propagation.hosts == 3);
    CHECK(d.propagation.factor == 1.5);
    CHECK_FALSE(d.propagation.response.duration);  // forever
    CHECK(d.propagation.response.action == engine::Action::isolate);  // the default stays
    CHECK(d.flood.frames_per_second == 20000);
    CHECK(d.flood.factor == 20);
    CHECK(d.flood.response.action == engine::Action::restricted);
    CHECK(d.exfiltration.bytes_per_second == 512 * 1024);
    CHECK(d.exfiltration.factor == 8);
    CHECK(d.new_destinations.per_minute == 100);
    CHECK(d.new_destinations.response.action == engine::Action::restricted);
    CHECK(d.new_destinations.response.duration == 2h);
    CHECK(d.blocklist.hits == 3);
    CHECK(d.blocklist.response.action == engine::Action::isolate);
    CHECK(d.lateral.peers == 4);
    CHECK(d.lateral.factor == 5);
    CHECK(d.beaconing.repeats == 6);
    CHECK(d.beaconing.jitter == 0.1);
    CHECK(d.beaconing.min_interval == 10s);
    CHECK(d.beaconing.max_interval == 1h);
}

TEST_CASE("detectors: errors name the key, its position and what was expected") {
    auto at = [](const std::string& yaml) { return only_error(load_text(minimal + yaml, "p.yaml")); };

    auto e = at("detectors: [scan]\n");
    check_at(e, 4, 12, "detectors");
    CHECK(e.message.find("found a list") != std::string::npos);

    e = at("detectors:\n  port_scna: {}\n");
    check_at(e, 5, 3, "detectors.port_scna");
    CHECK(e.message.find("did you mean 'port_scan'?") != std::string::npos);

    e = at("detectors:\n  flood:\n    pps: 1000\n");
    check_at(e, 6, 5, "detectors.flood.pps");
    CHECK(e.message.find("frames_per_second") != std::string::npos);

    e = at("detectors:\n  lateral: {action: quarantine}\n");
    check_at(e, 5, 21, "detectors.lateral.action");
    CHECK(e.message == "expected alert, restricted or isolate, found 'quarantine'");

    e = at("detectors:\n  flood: {factor: 0}\n");
    check_at(e, 5, 19, "detectors.flood.factor");
    CHECK(e.message == "expected a number from 1 to 1000, found '0'");

    for (const char* bad : {"1e3", "-2", ".5", "2.", "0x10", "nan", "inf", "1_5"}) {
        CAPTURE(bad);
        e = at(std::string("detectors:\n  exfiltration: {factor: ") + bad + "}\n");
        CHECK(e.key == "detectors.exfiltration.factor");
    }
    e = at("detectors:\n  port_scan: {unanswered_share: \"0.5\"}\n");
    CHECK(e.key == "detectors.port_scan.unanswered_share");
    CHECK(e.message.find("write it without quotes") != std::string::npos);

    e = at("detectors:\n  port_scan: {unanswered_share: 1.5}\n");
    CHECK(e.message == "expected a number from 0 to 1, found '1.5'");

    e = at("detectors:\n  propagation: {ports: [23, 2323, 23]}\n");
    check_at(e, 5, 35, "detectors.propagation.ports[2]");
    CHECK(e.message.find("listed twice") != std::string::npos);

    e = at("detectors:\n  propagation: {ports: [0]}\n");
    CHECK(e.key == "detectors.propagation.ports[0]");

    e = at("detectors:\n  propagation: {ports: []}\n");
    CHECK(e.message == "expected 1 to 32 ports, found 0");

    e = at("detectors:\n  never_quarantine: [laptop, toaster]\n");
    check_at(e, 5, 30, "detectors.never_quarantine[1]");
    CHECK(e.message.find("found 'toaster'") != std::string::npos);

    e = at("detectors:\n  beaconing: {min_interval: 10m, max_interval: 5m}\n");
    check_at(e, 5, 48, "detectors.beaconing.max_interval");
    CHECK(e.message == "max_interval (5m) must be longer than min_interval (10m)");

    e = at("detectors:\n  beaconing: {repeats: 8}\n");
    CHECK(e.message == "expected a whole number from 2 to 7, found '8'");

    e = at("detectors:\n  learning_period: 10s\n");
    CHECK(e.key == "detectors.learning_period");
    CHECK(e.message == "expected a duration from 1m to 90d, found '10s'");

    e = at("detectors:\n  exfiltration: {bytes_per_second: 1mb}\n");
    CHECK(e.key == "detectors.exfiltration.bytes_per_second");

    e = at("detectors:\n  blocklist: {enabled: yes}\n");
    CHECK(e.message == "expected true or false, found 'yes'");

    e = at("detectors:\n  escalation: {isolate_after: 0}\n");
    CHECK(e.key == "detectors.escalation.isolate_after");

    // Every problem is reported, not only the first.
    auto r = load_text(minimal + "detectors:\n  flood: {factor: 0}\n  lateral: {peers: -1}\n",
                       "p.yaml");
    CHECK(r.errors.size() == 2);
}

TEST_CASE("detectors: a type listed twice in never_quarantine is a warning") {
    auto r = load_text(minimal + "detectors:\n  never_quarantine: [laptop, laptop]\n", "p.yaml");
    REQUIRE(r.policy);
    CHECK(r.policy->detectors.never_quarantine == std::vector<std::string>{"laptop"});
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].key == "detectors.never_quarantine[1]");
}

// ---- each kind of error, with its exact position ----

TEST_CASE("an empty file, a comment-only file and a null document miss interfaces") {
    for (const char* text : {"", "# nothing here\n", "~\n"}) {
        CAPTURE(text);
        auto e = only_error(load_text(text, "empty.yaml"));
        check_at(e, 1, 1, "interfaces");
        CHECK(e.message.find("missing") == 0);
        CHECK(e.str().find("empty.yaml:1:1: interfaces: missing") == 0);
    }
}

TEST_CASE("missing interfaces, wan or lan are reported where they belong") {
    auto e = only_error(load_text("interval: 2s\n", "p.yaml"));
    check_at(e, 1, 1, "interfaces");
    CHECK(e.message == "missing; expected a mapping with wan and lan");

    auto r = load_text("interval: 2s\ninterfaces:\n  lan: [eth1]\n", "p.yaml");
    check_at(only_error(r), 3, 3, "interfaces.wan");

    r = load_text("interfaces:\n  wan: eth0\n", "p.yaml");
    check_at(only_error(r), 2, 3, "interfaces.lan");

    r = load_text("interfaces:\n  wan: eth0\n  lan: []\n", "p.yaml");
    e = only_error(r);
    check_at(e, 3, 8, "interfaces.lan");
    CHECK(e.message == "expected at least one LAN interface, found none");

    // An empty interfaces section misses both: two errors at the key.
    r = load_text("interfaces:\n", "p.yaml");
    REQUIRE(r.errors.size() == 2);
    check_at(r.errors[0], 1, 1, "interfaces.wan");
    check_at(r.errors[1], 1, 1, "interfaces.lan");
}

TEST_CASE("interface names: kernel rules, no duplicates, not the WAN port") {
    auto r = load_text(
        "interfaces:\n  wan: eth0/1\n  lan: [eth1, averyveryverylongname, eth1, eth0, 'a b']\n",
        "p.yaml");
    INFO(all_errors(r));
    REQUIRE(r.errors.size() == 4);
    check_at(r.errors[0], 2, 8, "interfaces.wan");
    CHECK(r.errors[0].message.find("found 'eth0/1'") != std::string::npos);
    check_at(r.errors[1], 3, 15, "interfaces.lan[1]");
    check_at(r.errors[2], 3, 38, "interfaces.lan[2]");
    CHECK(r.errors[2].message == "'eth1' is listed twice (first at line 3)");
    // eth0 is not reported as the WAN port because the wan value itself was invalid.
    check_at(r.errors[3], 3, 50, "interfaces.lan[4]");

    auto e = only_error(load_text("interfaces:\n  wan: eth0\n  lan: [eth1, eth0]\n", "p.yaml"));
    check_at(e, 3, 15, "interfaces.lan[1]");
    CHECK(e.message == "'eth0' is the WAN interface; a port is either WAN or LAN");

    e = only_error(load_text("interfaces:\n  wan: eth0\n  lan: eth1\n", "p.yaml"));
    check_at(e, 3, 8, "interfaces.lan");
    CHECK(e.message ==
          "expected a list of LAN interface names, found 'eth1' (write [eth1] for a list of one)");
}

TEST_CASE("unknown keys anywhere, with a suggestion for near misses") {
    auto r = load_text(
        minimal +
            "intervall: 2s\nmap_sizes:\n  device: 10\ndevices:\n  - mac: 02:00:00:00:00:01\n"
            "    name: x\n    colour: red\n",
        "p.yaml");
    INFO(all_errors(r));
    REQUIRE(r.errors.size() == 3);
    check_at(r.errors[0], 4, 1, "intervall");
    CHECK(r.errors[0].message.find(
              "unknown key (did you mean 'interval'?); expected one of: interfaces, ") == 0);
    check_at(r.errors[1], 6, 3, "map_sizes.device");
    CHECK(r.errors[1].message.find("did you mean 'devices'?") != std::string::npos);
    check_at(r.errors[2], 10, 5, "devices[0].colour");
    CHECK(r.errors[2].message.find("did you mean") == std::string::npos);
}

TEST_CASE("duplicate keys are errors, not silently one or the other") {
    auto e = only_error(load_text(minimal + "interval: 1s\ninterval: 2s\n", "p.yaml"));
    check_at(e, 5, 1, "interval");
    CHECK(e.message == "duplicate key (first at line 4)");
}

TEST_CASE("wrong types: a list for a mapping, a mapping for a scalar, text for a number") {
    auto r = load_text(minimal +
                           "paths: [/a, /b]\ninterval: {s: 1}\nmap_sizes:\n  devices: lots\n"
                           "  flows: '2048'\n  quarantine: 1e3\n",
                       "p.yaml");
    INFO(all_errors(r));
    REQUIRE(r.errors.size() == 5);
    check_at(r.errors[0], 4, 8, "paths");
    CHECK(r.errors[0].message == "expected a mapping with pin_dir and state_dir, found a list");
    check_at(r.errors[1], 5, 11, "interval");
    CHECK(r.errors[1].message.find("found a mapping") != std::string::npos);
    check_at(r.errors[2], 7, 12, "map_sizes.devices");
    CHECK(r.errors[2].message == "expected a whole number from 16 to 65536, found 'lots'");
    check_at(r.errors[3], 8, 10, "map_sizes.flows");
    CHECK(r.errors[3].message.find("found the quoted text '2048' (write it without quotes)") !=
          std::string::npos);
    check_at(r.errors[4], 9, 15, "map_sizes.quarantine");

    auto e = only_error(load_text("- interfaces\n", "p.yaml"));
    check_at(e, 1, 1, "");
    CHECK(e.message.find("expected a mapping of policy keys") == 0);
}

TEST_CASE("numbers out of their bounds") {
    auto r = load_text(minimal +
                           "map_sizes:\n  devices: 8\n  flows: 99999999\n  events_kb: 32\n"
                           "events_log: {max_size: 1kB, keep: 101}\n",
                       "p.yaml");
    INFO(all_errors(r));
    REQUIRE(r.errors.size() == 5);
    check_at(r.errors[0], 5, 12, "map_sizes.devices");
    CHECK(r.errors[0].message == "expected a whole number from 16 to 65536, found '8'");
    check_at(r.errors[1], 6, 10, "map_sizes.flows");
    check_at(r.errors[2], 7, 14, "map_sizes.events_kb");
    check_at(r.errors[3], 8, 24, "events_log.max_size");
    CHECK(r.errors[3].message == "expected a size from 64kB to 16GB, found '1kB'");
    check_at(r.errors[4], 8, 35, "events_log.keep");
}

TEST_CASE("bad durations and sizes name the key and the reason") {
    auto r = load_text(minimal +
                           "interval: 90\nquarantine:\n  default_duration: 1.5h\n"
                           "events_log:\n  max_size: 10 MB\n",
                       "p.yaml");
    INFO(all_errors(r));
    REQUIRE(r.errors.size() == 3);
    check_at(r.errors[0], 4, 11, "interval");
    CHECK(r.errors[0].message.find("'90' is not a duration: a number without a unit") == 0);
    check_at(r.errors[1], 6, 21, "quarantine.default_duration");
    CHECK(r.errors[1].message.find("fractions are not allowed") != std::string::npos);
    check_at(r.errors[2], 8, 13, "events_log.max_size");

    auto e = only_error(load_text(minimal + "interval: 10ms\n", "p.yaml"));
    check_at(e, 4, 11, "interval");
    CHECK(e.message == "expected a duration from 100ms to 1h, found '10ms'");
    e = only_error(load_text(minimal + "interval: 2h\n", "p.yaml"));
    CHECK(e.message == "expected a duration from 100ms to 1h, found '2h'");
}

TEST_CASE("bad enum values list what is accepted") {
    auto r = load_text(
        minimal + "xdp_mode: driver\nlog_level: INFO\nquarantine:\n  default_level: block\n",
        "p.yaml");
    INFO(all_errors(r));
    REQUIRE(r.errors.size() == 3);
    check_at(r.errors[0], 4, 11, "xdp_mode");
    CHECK(r.errors[0].message == "expected native, generic or auto, found 'driver'");
    check_at(r.errors[1], 5, 12, "log_level");
    CHECK(r.errors[1].message == "expected debug, info, warn or error, found 'INFO'");
    check_at(r.errors[2], 7, 18, "quarantine.default_level");
}

TEST_CASE("bad and duplicate MACs, devices missing what they need") {
    std::string text = minimal + R"(exempt:
  - 02:00:00:00:00:01
  - 02:00:00:00:0x:01
  - ff:ff:ff:ff:ff:ff
  - 02:00:00:00:00:01
devices:
  - mac: a4:cf:12:00:00:01
    name: Camera
    type: camera
  - mac: A4:CF:12:00:00:01
    name: Camera again
  - name: No MAC
  - mac: a4:cf:12:00:00:02
    name: ""
    type: fridge
  - just a string
)";
    auto r = load_text(text, "p.yaml");
    INFO(all_errors(r));
    REQUIRE(r.errors.size() == 7);
    check_at(r.errors[0], 6, 5, "exempt[1]");
    CHECK(r.errors[0].message ==
          "expected a MAC address like a4:cf:12:00:00:01, found '02:00:00:00:0x:01'");
    check_at(r.errors[1], 7, 5, "exempt[2]");
    CHECK(r.errors[1].message.find("multicast") != std::string::npos);
    check_at(r.errors[2], 13, 10, "devices[1].mac");
    CHECK(r.errors[2].message == "a4:cf:12:00:00:01 is already named at line 10");
    check_at(r.errors[3], 15, 5, "devices[2].mac");
    CHECK(r.errors[3].message == "missing; expected the device's MAC address");
    check_at(r.errors[4], 17, 11, "devices[3].name");
    check_at(r.errors[5], 18, 11, "devices[3].type");
    CHECK(r.errors[5].message ==
          "expected camera, speaker, tv, plug, thermostat, hub, phone, laptop, printer, console or "
          "unknown, found 'fridge'");
    check_at(r.errors[6], 19, 5, "devices[4]");
    // The repeated exempt MAC is only a warning.
    REQUIRE(r.warnings.size() == 1);
    check_at(r.warnings[0], 8, 5, "exempt[3]");
}

TEST_CASE("bad prefixes carry net::Prefix's reason; blocklist entries are checked") {
    std::string text = minimal + R"(blocklist:
  files:
    - path: relative/list.txt
    - path: /etc/warden/a.txt
      direction: sideways
    - path: /etc/warden/a.txt
    - direction: in
  prefixes:
    - prefix: 198.18.0.1/15
    - prefix: 198.18.0.0/33
    - prefix: example.com
    - prefix: 198.18.0.0/15
    - prefix: 198.18.0.0/15
      direction: in
    - 198.18.9.0/24
)";
    auto r = load_text(text, "p.yaml");
    INFO(all_errors(r));
    REQUIRE(r.errors.size() == 9);
    check_at(r.errors[0], 6, 13, "blocklist.files[0].path");
    CHECK(r.errors[0].message ==
          "expected an absolute path (starting with '/'), found 'relative/list.txt'");
    check_at(r.errors[1], 8, 18, "blocklist.files[1].direction");
    check_at(r.errors[2], 9, 13, "blocklist.files[2].path");
    CHECK(r.errors[2].message == "/etc/warden/a.txt is listed twice (first at line 7)");
    check_at(r.errors[3], 10, 7, "blocklist.files[3].path");
    check_at(r.errors[4], 12, 15, "blocklist.prefixes[0].prefix");
    CHECK(r.errors[4].message.find(
              "'198.18.0.1/15' is not a prefix: host bits set below the prefix length") == 0);
    check_at(r.errors[5], 13, 15, "blocklist.prefixes[1].prefix");
    CHECK(r.errors[5].message.find("IPv4 prefix length above 32") != std::string::npos);
    check_at(r.errors[6], 14, 15, "blocklist.prefixes[2].prefix");
    CHECK(r.errors[6].message.find("not an IPv4 or IPv6 address") != std::string::npos);
    check_at(r.errors[7], 16, 15, "blocklist.prefixes[4].prefix");
    CHECK(r.errors[7].message == "198.18.0.0/15 is listed twice (first at line 15)");
    check_at(r.errors[8], 18, 7, "blocklist.prefixes[5]");
    CHECK(r.errors[8].message.find("found '198.18.9.0/24'") != std::string::npos);
}

TEST_CASE("a prefix of length zero is allowed but draws a warning") {
    auto r = load_text(
        minimal + "blocklist:\n  prefixes:\n    - prefix: 0.0.0.0/0\n      direction: out\n",
        "p.yaml");
    REQUIRE(r.policy);
    REQUIRE(r.warnings.size() == 1);
    check_at(r.warnings[0], 6, 15, "blocklist.prefixes[0].prefix");
    CHECK(r.warnings[0].message == "0.0.0.0/0 matches every IPv4 address");
}

TEST_CASE("a YAML syntax error is one error with its position") {
    auto e = only_error(
        load_text("interfaces:\n  wan: eth0\n  lan: [eth1\nmap_sizes: {}\n", "bad.yaml"));
    CHECK(e.key.empty());
    CHECK(e.line >= 3);
    CHECK(e.column >= 1);
    CHECK(e.message == "a '[' is not closed by a ']'");
    CHECK(e.str().find("bad.yaml:") == 0);

    e = only_error(load_text("interfaces:\n  wan: eth0\n   lan: [eth1]\n", "bad.yaml"));
    check_at(e, 3, 7, "");
    CHECK(e.message.find("a key must line up with the keys beside it") != std::string::npos);

    e = only_error(load_text(minimal + "---\ninterval: 2s\n", "two.yaml"));
    check_at(e, 5, 1, "");
    CHECK(e.message.find("second YAML document") != std::string::npos);
    // A trailing '---' makes an empty second document: harmless.
    CHECK(load_text(minimal + "---\n", "p.yaml").policy);

    // A stray ',' outside brackets makes yaml-cpp 0.7 return empty documents forever; it
    // must come back as a syntax error at the comma, not exhaust memory.
    e = only_error(load_text(",\ninterfaces: {wan: eth0, lan: [eth1]}\n", "comma.yaml"));
    check_at(e, 1, 1, "");
    CHECK(e.message == "unexpected ','; commas separate items only inside [ ] or { }");
    e = only_error(load_text("- eth1\n, eth2\n", "comma.yaml"));
    check_at(e, 2, 1, "");
}

TEST_CASE("text that is not UTF-8, or holds control characters, is refused at its line") {
    // The bug: a Latin-1 name passed the check, then made every poll's JSON dump throw.
    auto e = only_error(load_text(
        minimal + "devices:\n  - mac: 02:00:00:00:00:01\n    name: \"Caf\xe9\"\n", "latin1.yaml"));
    check_at(e, 6, 15, "");
    CHECK(e.message == "byte 0xe9 is not valid UTF-8; a YAML file is UTF-8 text (save it as UTF-8)");
    // A raw control byte anywhere (here in a comment) is named, not echoed.
    e = only_error(load_text(minimal + "# ring \x07 the bell\n", "bell.yaml"));
    check_at(e, 4, 8, "");
    CHECK(e.message == "control character 0x07 is not allowed in a YAML file");
    CHECK(e.str().find('\x07') == std::string::npos);
    // Valid characters count as one column each.
    e = only_error(load_text("# K\xc3\xbc" "che\xff\n" + minimal, "col.yaml"));
    check_at(e, 1, 8, "");
    // A UTF-16 file says so once.
    e = only_error(load_text(std::string("\xff\xfei\0n\0", 6), "utf16.yaml"));
    CHECK(e.message == "the file is UTF-16 text; save it as UTF-8");
    // A quoted scalar's escapes can make a control character or an invalid code point from
    // valid text: the value is refused at its key.
    e = only_error(load_text(minimal + "devices:\n  - mac: 02:00:00:00:00:01\n    name: \"a\\x1b[2J\"\n", "esc.yaml"));
    check_at(e, 6, 11, "devices[0].name");
    CHECK(e.message.find("control character 0x1b (escape)") != std::string::npos);
    CHECK(text::is_safe(e.str()));
    e = only_error(load_text(minimal + "paths:\n  state_dir: \"/var/\\x01\"\n", "esc.yaml"));
    CHECK(e.key == "paths.state_dir");
    // A tab belongs in no one-line value (found by fuzz_policy: the listen address's reason
    // echoed it raw); notes may run over lines.
    e = only_error(load_text(minimal + "metrics:\n  listen: 127.0.\t\t0.1:9464\n", "tab.yaml"));
    CHECK(e.key == "metrics.listen");
    CHECK(e.message.find("which holds a tab") != std::string::npos);
    CHECK(text::is_safe(e.str()));
    auto notes = valid(minimal + "devices:\n  - mac: 02:00:00:00:00:01\n    name: TV\n    notes: |\n      line one\n      line\ttwo\n");
    CHECK(notes.devices[0].notes == "line one\nline\ttwo\n");
    // A duration's reason quotes the whole character, not its first byte (fuzz_policy).
    e = only_error(load_text(minimal + "interval: 25\xe2\x80\x99s\n", "quote.yaml"));
    CHECK(e.message.find("unexpected '\xe2\x80\x99'") != std::string::npos);
    CHECK(text::is_safe(e.str()));
    // An unknown key made of escapes is named printably.
    auto r = load_text(minimal + "\"k\\x1b\": 1\n", "key.yaml");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].key == "k\\x1b");
}

TEST_CASE("what yaml-cpp calls \"bad file\" or \"illegal map value\" is said in words") {
    // Tabs for indentation: yaml-cpp said "illegal map value" at the next line's ':'.
    auto e = only_error(load_text("interfaces:\n\twan: eth0\n\tlan: [eth1]\n", "tab.yaml"));
    check_at(e, 2, 1, "");
    CHECK(e.message == "a tab character used for indentation; YAML needs spaces");
    e = only_error(load_text("interfaces:\n  wan: eth0\n  lan:\n  \t- eth1\n", "tab.yaml"));
    check_at(e, 4, 3, "");
    // A tab after the indentation is fine (a separator), and in a comment.
    valid("interfaces:\n  wan:\teth0\n  lan: [eth1]\n\t# a comment\n");

    // Deep nesting: past the checker's limit, and past yaml-cpp's own guard, which said
    // "bad file". Both are reported where the 33rd level opens (the top mapping is the first).
    for (int depth : {40, 3000}) {
        CAPTURE(depth);
        e = only_error(load_text("a: " + std::string(depth, '[') + std::string(depth, ']') + "\n", "deep.yaml"));
        check_at(e, 1, 35, "");
        CHECK(e.message.find("nesting deeper than 32 levels") == 0);
    }

    e = only_error(load_text(minimal + "metrics: {enabled: true\n", "brace.yaml"));
    CHECK(e.message == "a '{' is not closed by a '}'");
}

TEST_CASE("random bytes never put a control byte or a broken character in a message") {
    std::mt19937 rng(9);
    int refused = 0;
    for (int i = 0; i < 300; ++i) {
        std::string junk(1 + rng() % 400, '\0');
        for (auto& c : junk) c = static_cast<char>(rng() % 256);
        if (i % 2) junk = minimal + junk;  // after a valid start too
        auto r = load_text(junk, "junk.yaml");
        refused += !r.policy;
        for (const auto& d : r.errors) {
            INFO(d.str());
            CHECK(text::is_safe(d.str()));
        }
    }
    CHECK(refused > 290);  // the junk was junk
}

TEST_CASE("many errors in one file are all reported, in file order") {
    std::string text = R"(interfaces:
  wan: eth0
  lan: [eth0]
xdp_mode: fast
interval: soon
detach_on_exit: maybe
map_sizes:
  devices: -1
  colour: blue
quarantine:
  default_duration: 0s
devices:
  - mac: nope
    name: thing
blocklist:
  prefixes:
    - prefix: 300.1.1.1
)";
    auto r = load_text(text, "many.yaml");
    CHECK_FALSE(r.policy);
    std::vector<std::pair<int, std::string>> expected = {{3, "interfaces.lan[0]"},
                                                         {4, "xdp_mode"},
                                                         {5, "interval"},
                                                         {6, "detach_on_exit"},
                                                         {8, "map_sizes.devices"},
                                                         {9, "map_sizes.colour"},
                                                         {11, "quarantine.default_duration"},
                                                         {13, "devices[0].mac"},
                                                         {17, "blocklist.prefixes[0].prefix"}};
    INFO(all_errors(r));
    REQUIRE(r.errors.size() == expected.size());
    std::vector<std::pair<int, std::string>> found;
    for (const auto& e : r.errors) found.emplace_back(e.line, e.key);
    CHECK(found == expected);  // already in file order
    for (const auto& e : r.errors) CHECK(e.file == "many.yaml");
}

TEST_CASE("load_file: an unreadable file is one error without a position") {
    auto r = load_file("/nonexistent/warden/policy.yaml");
    auto e = only_error(r);
    CHECK(e.line == 0);
    CHECK(e.str() == "/nonexistent/warden/policy.yaml: the policy file does not exist");

    e = only_error(load_file(WARDEN_SOURCE_DIR));
    CHECK(e.message == "the policy file is a directory, not a file");
    e = only_error(load_file("/dev/zero"));  // endless: refused before reading
    CHECK(e.message == "the policy file is a device, not a file");
    {
        // A FIFO hung policy check, policy reload and the controller's loop.
        test::TempDir d;
        REQUIRE(test::make_fifo(d.path / "policy.yaml"));
        test::Deadline deadline(10);
        e = only_error(load_file(d.path / "policy.yaml"));
        CHECK(e.message == "the policy file is a FIFO (named pipe), not a file");
        std::ofstream(d.path / "big.yaml") << "# " << std::string(2 << 20, 'x') << "\n";
        e = only_error(load_file(d.path / "big.yaml"));
        CHECK(e.message == "the policy file is larger than 1 MiB");
    }

    char path[] = "/tmp/warden-policy-test-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    std::string text = minimal + "interval: 3s\n";
    REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    close(fd);
    auto ok = load_file(path);
    unlink(path);
    REQUIRE(ok.policy);
    CHECK(ok.policy->interval == 3s);
    CHECK(ok.policy->source == path);
}

// ---- robustness ----

TEST_CASE("truncated and mutated versions of the example never crash and always give an answer") {
    const std::string example = read_file(example_path);
    auto check_answer = [](const std::string& text) {
        auto r = load_text(text, "fuzz.yaml");
        // Either a policy and no errors, or errors and no policy; every error positioned.
        CHECK(r.policy.has_value() == r.errors.empty());
        for (const auto& e : r.errors) {
            CHECK(e.line >= 1);
            CHECK(e.column >= 1);
            CHECK_FALSE(e.message.empty());
        }
        return r.policy.has_value();
    };

    int loaded = 0, refused = 0;
    for (size_t cut = 0; cut <= example.size(); cut += 7)
        (check_answer(example.substr(0, cut)) ? loaded : refused)++;

    std::mt19937 rng(20240611);  // fixed seed: a failure reproduces
    const std::string alphabet = ":-[]{}#,'\"&*!|>? \n\t0123456789abcxyz/%@`\\~";
    for (int round = 0; round < 1500; ++round) {
        std::string text = example;
        int edits = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < edits; ++i) {
            size_t at = rng() % text.size();
            switch (rng() % 4) {
                case 0:
                    text[at] = alphabet[rng() % alphabet.size()];
                    break;
                case 1:
                    text.insert(at, 1, alphabet[rng() % alphabet.size()]);
                    break;
                case 2:
                    text.erase(at, 1 + rng() % 8);
                    break;
                case 3: {  // duplicate a line elsewhere: makes duplicate keys and bad indentation
                    size_t start = text.rfind('\n', at);
                    start = start == std::string::npos ? 0 : start + 1;
                    size_t end = text.find('\n', at);
                    std::string line =
                        text.substr(start, end == std::string::npos ? end : end - start + 1);
                    text.insert(rng() % text.size(), line);
                    break;
                }
            }
            if (text.empty()) text = "x";
        }
        (check_answer(text) ? loaded : refused)++;
    }
    // Both outcomes occur, so the loop exercised the loader rather than one early exit.
    CHECK(loaded > 0);
    CHECK(refused > 0);
    MESSAGE("fuzz: " << loaded << " loaded, " << refused << " refused");

    // Deep nesting and binary junk.
    check_answer(std::string(5000, '[') + std::string(5000, ']'));
    check_answer(minimal + "detectors: " + std::string(3000, '{') + std::string(3000, '}') + "\n");
    check_answer(std::string("interfaces:\n  wan: e\0th0\n  lan: [eth1]\n", 36));
    check_answer("\xff\xfe\x00\x01 garbage: [");
}

// ---- fleet: the operator's cloud channel ----

TEST_CASE("fleet: off by default; an enabled channel names its broker, certificates and the operator's key") {
    Policy d = valid(minimal);
    CHECK_FALSE(d.fleet.enabled);
    CHECK(d.fleet.port == 8883);
    CHECK(d.fleet.queue_bytes == 1u << 20);

    Policy p = valid(minimal +
                     "fleet:\n  enabled: true\n  host: broker.example.net\n  port: 18883\n"
                     "  ca: /etc/ca.pem\n  cert: /etc/gw.pem\n  key: /etc/gw.key\n"
                     "  operator_key: /etc/op.pub\n  queue_size: 64KB\n  health_every: 30s\n  reconnect_max: 5s\n");
    CHECK(p.fleet.enabled);
    CHECK(p.fleet.host == "broker.example.net");
    CHECK(p.fleet.port == 18883);
    CHECK(p.fleet.ca == "/etc/ca.pem");
    CHECK(p.fleet.cert == "/etc/gw.pem");
    CHECK(p.fleet.key == "/etc/gw.key");
    CHECK(p.fleet.operator_key == "/etc/op.pub");
    CHECK(p.fleet.queue_bytes == 64u << 10);
    CHECK(p.fleet.health_every == 30s);
    CHECK(p.fleet.reconnect_max == 5s);
    CHECK(d.fleet.reconnect_max == 60s);
    CHECK_FALSE(p.fleet.insecure);

    // Enabled without certificates: each missing one named at the section.
    auto r = load_text(minimal + "fleet:\n  enabled: true\n  host: b\n  operator_key: /k\n", "p.yaml");
    INFO(all_errors(r));
    REQUIRE(r.errors.size() == 3);
    CHECK(r.errors[0].key == "fleet.ca");
    CHECK(r.errors[1].key == "fleet.cert");
    CHECK(r.errors[2].key == "fleet.key");
    // Without the operator's key no command could ever be trusted.
    auto k = only_error(load_text(minimal + "fleet:\n  enabled: true\n  host: b\n  insecure: true\n  gateway_id: g\n",
                                  "p.yaml"));
    CHECK(k.key == "fleet.operator_key");
}

TEST_CASE("fleet: insecure is plain TCP with a warning, and only then is gateway_id set by hand") {
    auto r = load_text(minimal + "fleet:\n  enabled: true\n  host: 127.0.0.1\n  port: 1883\n  insecure: true\n"
                                 "  gateway_id: lab-1\n  operator_key: /k.pub\n",
                       "p.yaml");
    INFO(all_errors(r));
    REQUIRE(r.policy);
    CHECK(r.policy->fleet.insecure);
    CHECK(r.policy->fleet.gateway_id == "lab-1");
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].message.find("plain TCP") != std::string::npos);

    auto e = only_error(load_text(minimal + "fleet:\n  gateway_id: gw-1\n", "p.yaml"));
    check_at(e, 5, 15, "fleet.gateway_id");
    CHECK(e.message.find("certificate's CN") != std::string::npos);
    // A topic's wildcards or separators can never be part of the id.
    auto w = only_error(load_text(minimal + "fleet:\n  insecure: true\n  gateway_id: a/#\n", "p.yaml"));
    CHECK(w.key == "fleet.gateway_id");
    auto m = only_error(load_text(minimal + "fleet:\n  operator_kye: /k\n", "p.yaml"));
    CHECK(m.message.find("did you mean 'operator_key'?") != std::string::npos);
    auto q = only_error(load_text(minimal + "fleet:\n  queue_size: 1KB\n", "p.yaml"));
    CHECK(q.key == "fleet.queue_size");
    auto b = only_error(load_text(minimal + "fleet:\n  reconnect_max: 500ms\n", "p.yaml"));
    CHECK(b.key == "fleet.reconnect_max");
}

TEST_CASE("policy show: the effective policy loads back to the same policy, defaults filled in") {
    // The example sets almost everything; a minimal file sets nearly nothing.
    for (std::string text : {read_file(example_path), std::string("interfaces: {wan: eth0, lan: [eth1]}\n")}) {
        auto first = load_text(text, "first.yaml");
        REQUIRE(first.policy);
        std::string shown = to_yaml(*first.policy);
        auto again = load_text(shown, "shown.yaml");
        INFO(shown);
        REQUIRE(again.errors.empty());
        CHECK(again.warnings.empty());
        CHECK(to_json(*again.policy) == to_json(*first.policy));
        CHECK(again.policy->detectors == first.policy->detectors);
    }
    auto minimal = load_text("interfaces: {wan: eth0, lan: [eth1]}\n", "minimal.yaml");
    REQUIRE(minimal.policy);
    auto j = to_json(*minimal.policy);
    CHECK(j["map_sizes"]["flows"] == WD_DEFAULT_FLOWS);
    CHECK(j["quarantine"]["default_duration"] == "1h");
    CHECK(j["detectors"]["port_scan"]["ports_per_host"] == 24);
    CHECK(j["detectors"]["exfiltration"]["bytes_per_second"] == "1MB");
}
