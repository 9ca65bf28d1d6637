// The engine's decisions on small, hand-made streams: escalation, exemptions, releases,
// false positives that teach, and the pieces underneath (windows, sketch, known set).
#include <doctest/doctest.h>

#include <netinet/in.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/beacon.h"
#include "engine/engine.h"
#include "engine/features.h"
#include "engine/known_set.h"
#include "engine/stats.h"
#include "replay.h"

using namespace warden;
using namespace warden::replay;
using engine::Action;
using engine::Detector;
using engine::Finding;
using engine::Sample;
using namespace std::chrono_literals;

namespace {

const net::Mac device_a = *net::Mac::parse("02:00:00:00:00:0a");
const net::Mac device_b = *net::Mac::parse("02:00:00:00:00:0b");
constexpr int64_t t0 = week_start_ms;

Sample idle(int64_t end_ms) {
    Sample s;
    s.time_ms = end_ms;
    s.seconds = 1;
    s.frames_up = s.frames_down = 2;
    s.bytes_up = s.bytes_down = 200;
    return s;
}

// A telnet sweep: `hosts` new addresses on port 23 within the tick, unanswered.
Sample telnet_sweep(int64_t end_ms, int hosts, uint32_t first = 100'000) {
    Sample s = idle(end_ms);
    for (int i = 0; i < hosts; ++i) {
        s.contacts.push_back({internet_address(first + uint32_t(i)), 23, IPPROTO_TCP, false, true,
                              end_ms - 500, 74});
        ++s.new_flows;
        ++s.syn_sent;
    }
    return s;
}

// An upload of `bytes_per_second` during the tick.
Sample upload(int64_t end_ms, double bytes_per_second) {
    Sample s = idle(end_ms);
    s.bytes_up += uint64_t(bytes_per_second);
    s.frames_up += uint64_t(bytes_per_second / 1400);
    s.frames_down += uint64_t(bytes_per_second / 2800);
    s.bytes_down += uint64_t(bytes_per_second / 2800 * 66);
    return s;
}

// Feeds idle ticks from `from` to `to` (1 s) and returns the findings.
std::vector<Finding> idle_run(engine::Engine& e, const net::Mac& mac, int64_t from, int64_t to) {
    std::vector<Finding> out;
    for (int64_t t = from + 1'000; t <= to; t += 1'000) e.observe(mac, idle(t), out);
    return out;
}

}  // namespace

// ---- decisions ----

TEST_CASE("a quarantine repeated within the window lasts longer, and then isolates") {
    engine::Config c;  // exfiltration: restricted for 1h; escalation x4, isolate at the 3rd
    engine::Engine e(c);
    e.set_type(device_a, "camera");
    idle_run(e, device_a, t0, t0 + 30'000);

    auto first = e.observe(device_a, upload(t0 + 31'000, 50e6));
    REQUIRE(first.size() == 1);
    CHECK(first[0].detector == Detector::exfiltration);
    CHECK(first[0].action == Action::restricted);
    CHECK(first[0].duration == 1h);
    CHECK(first[0].repeat == 0);
    CHECK(first[0].note.empty());
    CHECK(first[0].evidence.normal_from == "default while learning");
    CHECK(first[0].evidence.text.find("uploaded ") == 0);

    // Quiet while the quarantine lasts, even if the device goes on.
    std::vector<Finding> during;
    for (int64_t t = t0 + 32'000; t < t0 + 31'000 + 3'600'000; t += 60'000)
        e.observe(device_a, upload(t, 50e6), during);
    CHECK(during.empty());

    // Released by expiry, found again: four times as long.
    int64_t again = t0 + 31'000 + 3'600'000 + 1'000;
    auto second = e.observe(device_a, upload(again, 50e6));
    REQUIRE(second.size() == 1);
    CHECK(second[0].action == Action::restricted);
    CHECK(second[0].duration == 4h);
    CHECK(second[0].repeat == 1);
    CHECK(second[0].note.find("escalated") == 0);

    // The third within the escalation window isolates.
    int64_t third_at = again + 4 * 3'600'000 + 1'000;
    auto third = e.observe(device_a, upload(third_at, 50e6));
    REQUIRE(third.size() == 1);
    CHECK(third[0].action == Action::isolate);
    CHECK(third[0].duration == 16h);
    CHECK(third[0].note.find("escalated to isolate") == 0);
    CHECK(e.device(device_a)->quarantined_until_ms == third_at + 16 * 3'600'000);

    // Outside the escalation window the count starts over.
    int64_t later = e.device(device_a)->quarantined_until_ms + 2 * 86'400'000;
    auto fresh = e.observe(device_a, upload(later, 50e6));
    REQUIRE(fresh.size() == 1);
    CHECK(fresh[0].repeat == 0);
    CHECK(fresh[0].duration == 1h);
}

TEST_CASE("escalated durations stop at max_duration") {
    engine::Config c;
    c.escalation.window = std::chrono::milliseconds(30 * 86'400'000ll);
    c.escalation.isolate_after = 100;
    engine::Engine e(c);
    idle_run(e, device_a, t0, t0 + 30'000);
    std::vector<std::chrono::milliseconds> durations;
    int64_t t = t0 + 31'000;
    for (int i = 0; i < 6; ++i) {
        auto f = e.observe(device_a, upload(t, 50e6));
        REQUIRE(f.size() == 1);
        durations.push_back(*f[0].duration);
        t = e.device(device_a)->quarantined_until_ms + 1'000;
    }
    CHECK(durations == std::vector<std::chrono::milliseconds>{1h, 4h, 16h, 64h, 168h, 168h});
}

TEST_CASE("an operator's release lets a repeat be found at once, and it escalates") {
    engine::Engine e;
    idle_run(e, device_a, t0, t0 + 20'000);
    auto first = e.observe(device_a, telnet_sweep(t0 + 21'000, 12));
    REQUIRE(first.size() == 1);
    CHECK(first[0].detector == Detector::propagation);
    CHECK(first[0].evidence.text.find("contacted 12 addresses on ports 22/23/2323 in 10 s") == 0);
    CHECK(first[0].evidence.threshold == 5);
    e.released(device_a, t0 + 30'000);
    auto second = e.observe(device_a, telnet_sweep(t0 + 31'000, 12, 200'000));
    REQUIRE(second.size() == 1);
    CHECK(second[0].repeat == 1);
    CHECK(second[0].duration == 4h);
}

TEST_CASE("exempt devices and never-quarantined types get alerts, with the reason") {
    engine::Config c;
    c.never_quarantine = {"laptop"};
    engine::Engine e(c, {device_a});
    e.set_type(device_b, "laptop");
    idle_run(e, device_a, t0, t0 + 20'000);
    idle_run(e, device_b, t0, t0 + 20'000);
    auto a = e.observe(device_a, telnet_sweep(t0 + 21'000, 12));
    REQUIRE(a.size() == 1);
    CHECK(a[0].action == Action::alert);
    CHECK_FALSE(a[0].duration);
    CHECK(a[0].note == "exempt in the policy: stays an alert instead of isolate");
    auto b = e.observe(device_b, telnet_sweep(t0 + 21'000, 12));
    REQUIRE(b.size() == 1);
    CHECK(b[0].action == Action::alert);
    CHECK(b[0].note.find("devices of type laptop are never quarantined") == 0);
    // An alert is not a quarantine: nothing to escalate later.
    CHECK(e.device(device_b)->quarantined_until_ms == 0);
}

TEST_CASE("a new device judged by a fleet prior: its evidence names the prior and its homes") {
    // A camera type profile of 9,000 quiet windows (more than a type needs to be trusted).
    engine::Baseline quiet;
    std::array<engine::FeatureVector, engine::window_count> zero{};
    for (int i = 0; i < 9'000; ++i) quiet.add(zero, i % 24);
    engine::Profiles prior;
    prior.types.emplace("camera", quiet);
    auto sweep_normal_from = [&](const engine::Profiles& imported, engine::Engine* keep = nullptr) {
        engine::Engine e;
        e.import_profiles(imported);
        if (keep) {  // through the state file, as after a restart
            keep->import_profiles(imported);
            e.load_json(keep->to_json());
        }
        e.set_type(device_a, "camera");
        idle_run(e, device_a, t0, t0 + 20'000);
        auto found = e.observe(device_a, telnet_sweep(t0 + 21'000, 12));
        REQUIRE(found.size() == 1);
        CHECK(found[0].evidence.text.find("(" + found[0].evidence.normal_from + ")") != std::string::npos);
        return found[0].evidence.normal_from;
    };
    // Imported from a file (`warden profile import`): how many homes is not known.
    CHECK(sweep_normal_from(prior) == "camera profile");
    // From the fleet's aggregator: the homes it was merged from.
    prior.homes["camera"] = 3;
    CHECK(sweep_normal_from(prior) == "camera profile, fleet prior, 3 homes");
    engine::Engine saved;
    CHECK(sweep_normal_from(prior, &saved) == "camera profile, fleet prior, 3 homes");
    // A device of another type is not judged by the camera prior.
    engine::Engine e;
    e.import_profiles(prior);
    e.set_type(device_b, "plug");
    idle_run(e, device_b, t0, t0 + 20'000);
    auto plug = e.observe(device_b, telnet_sweep(t0 + 21'000, 12));
    REQUIRE(plug.size() == 1);
    CHECK(plug[0].evidence.normal_from == "default while learning");
}

TEST_CASE("a disabled detector stays silent; a reconfigured engine keeps what it learned") {
    engine::Config c;
    c.propagation.response.enabled = false;
    engine::Engine e(c);
    idle_run(e, device_a, t0, t0 + 20'000);
    CHECK(e.observe(device_a, telnet_sweep(t0 + 21'000, 6)).empty());
    uint64_t windows = e.device(device_a)->windows;
    CHECK(windows >= 2);
    e.configure(engine::Config{}, {});
    CHECK(e.device(device_a)->windows == windows);
    auto found = e.observe(device_a, telnet_sweep(t0 + 22'000, 6, 300'000));
    REQUIRE(found.size() == 1);
    CHECK(found[0].detector == Detector::propagation);
    CHECK(found[0].evidence.value == 12);
}

TEST_CASE("the most severe finding of a tick quarantines; the rest say it already is") {
    engine::Engine e;
    idle_run(e, device_a, t0, t0 + 20'000);
    // A telnet sweep that is also a horizontal scan (30 unanswered hosts on port 23).
    auto found = e.observe(device_a, telnet_sweep(t0 + 21'000, 30));
    REQUIRE(found.size() == 2);
    CHECK(found[0].action == Action::isolate);
    CHECK(found[0].detector == Detector::propagation);  // the higher score
    CHECK(found[1].detector == Detector::port_scan);
    CHECK(found[1].action == Action::alert);
    CHECK(found[1].note == "already quarantined by an earlier finding");
    auto json = found[0].to_json();
    CHECK(json["kind"] == "finding");
    CHECK(json["detector"] == "propagation");
    CHECK(json["action"] == "isolate");
    CHECK(json["duration_ms"] == 3'600'000);
    CHECK(json["mac"] == device_a.str());
    CHECK(found[0].summary().find("propagation on 02:00:00:00:00:0a (unknown): contacted 30") == 0);
}

TEST_CASE("a false positive teaches the device: the same behaviour stays quiet, more does not") {
    INFO("seed " << seed() << " (WARDEN_SEED replays)");
    const TrainedHome& trained = trained_home();
    engine::Engine e = trained.engine;
    Home home = trained.home;
    size_t laptop = 4;
    REQUIRE(home.devices[laptop].kind() == Kind::laptop);
    const net::Mac mac = home.devices[laptop].mac();
    // Its first cloud backup: 3 MB/s for 5 minutes, on a weekday afternoon.
    auto backup = [&](int64_t start, double rate, std::vector<Finding>& out) {
        home.now = start - 60'000;
        while (home.now < start + 300'000) {
            int64_t end = home.now + 1'000;
            Sample s = home.devices[laptop].tick(end, 1.0);
            if (end > start) s.bytes_up += uint64_t(rate);
            e.observe(mac, s, out);
            home.now = end;
        }
    };
    int64_t day8 = week_start_ms + 7 * day_ms;
    home.run(e, day8 + 15 * hour_ms, [](size_t, const Finding&) { return true; });
    std::vector<Finding> first;
    backup(day8 + 15 * hour_ms + 60'000, 3e6, first);
    REQUIRE(first.size() >= 1);
    CHECK(first[0].detector == Detector::exfiltration);
    CHECK(first[0].action == Action::restricted);

    auto taught = e.false_positive(mac, std::nullopt, first[0].time_ms + 60'000);
    REQUIRE(taught.detectors == std::vector<Detector>{Detector::exfiltration});
    MESSAGE(taught.text);
    CHECK(taught.text.find("exfiltration: this device's threshold raised from") == 0);
    CHECK(e.device(mac)->tolerance[size_t(Detector::exfiltration)] > 3e6);
    CHECK(e.device(mac)->quarantined_until_ms <= first[0].time_ms + 60'000);

    // The next day, the same backup: nothing.
    std::vector<Finding> second;
    home.run(e, day8 + day_ms + 15 * hour_ms, [](size_t, const Finding&) { return true; });
    backup(day8 + day_ms + 15 * hour_ms + 60'000, 3e6, second);
    for (const auto& f : second) CHECK_MESSAGE(f.detector != Detector::exfiltration, f.summary());

    // Three times as much is still found, and is a first offence (the wrong one was struck).
    std::vector<Finding> third;
    backup(day8 + day_ms + 17 * hour_ms, 9e6, third);
    auto exfil = std::find_if(third.begin(), third.end(),
                              [](const Finding& f) { return f.detector == Detector::exfiltration; });
    REQUIRE(exfil != third.end());
    CHECK(exfil->repeat == 0);
    CHECK(exfil->duration == 1h);

    // The taught threshold is part of what is saved.
    engine::Engine restored;
    restored.load_json(e.to_json());
    CHECK(restored.device(mac)->tolerance == e.device(mac)->tolerance);
    // Without a finding there is nothing to teach, and it says so.
    auto nothing = e.false_positive(*net::Mac::parse("02:99:00:00:00:01"), std::nullopt, 0);
    CHECK(nothing.detectors.empty());
    CHECK(nothing.text.find("nothing to learn") == 0);
}

TEST_CASE("a false positive covers the long horizons too: the release is not followed by the same finding") {
    engine::Engine e;
    idle_run(e, device_a, t0, t0 + 20'000);
    // 40 new addresses a second on port 23 for 10 s: over the 10 s checks and, with 400
    // unanswered attempts, over the 10 min one as well.
    std::vector<Finding> found;
    for (int i = 0; i < 10; ++i)
        e.observe(device_a, telnet_sweep(t0 + 21'000 + i * 1'000, 40, 100'000 + uint32_t(i) * 40), found);
    REQUIRE(!found.empty());
    int64_t now = t0 + 31'000;
    auto taught = e.false_positive(device_a, std::nullopt, now);
    REQUIRE(!taught.detectors.empty());
    MESSAGE(taught.text);
    // Back on the network, quiet: nothing of what was forgiven comes back from the 10 min count.
    auto after = idle_run(e, device_a, now, now + 120'000);
    for (const auto& f : after) CHECK_MESSAGE(false, f.summary());
    // The same sweep again, run to its end this time (the first was cut off by the
    // quarantine): still nothing, over 10 s nor over 10 min.
    std::vector<Finding> again;
    now += 121'000;
    for (int i = 0; i < 20; ++i)
        e.observe(device_a, telnet_sweep(now + i * 1'000, 40, 200'000 + uint32_t(i) * 40), again);
    for (const auto& f : again) CHECK_MESSAGE(false, f.summary());
}

TEST_CASE("a false positive on beaconing makes that destination part of the history") {
    const TrainedHome& trained = trained_home();
    engine::Engine e = trained.engine;
    Home home = trained.home;
    size_t plug = 3;
    REQUIRE(home.devices[plug].kind() == Kind::plug);
    int64_t start = home.now + 30'000;
    // A new periodic check-in (say, a new firmware's second cloud host): a beacon by shape.
    home.attacks[plug] = Attack(AttackKind::beaconing, start, seed());
    std::vector<Finding> found;
    home.run(e, start + 6 * 60'000, [&](size_t, const Finding& f) {
        found.push_back(f);
        return true;
    }, true, plug);
    REQUIRE(found.size() == 1);
    CHECK(found[0].detector == Detector::beaconing);
    // The evidence names the destination, so the controller can add the name it was looked
    // up as.
    REQUIRE(found[0].evidence.peer.has_value());
    CHECK(found[0].evidence.text.find(found[0].evidence.peer->str()) != std::string::npos);
    CHECK(found[0].to_json().value("peer", "") == found[0].evidence.peer->str());
    auto taught = e.false_positive(home.devices[plug].mac(), Detector::beaconing, home.now);
    CHECK(taught.text.find("is part of this device's history now") != std::string::npos);
    std::vector<Finding> after;
    home.run(e, start + 40 * 60'000, [&](size_t, const Finding& f) {
        after.push_back(f);
        return true;
    }, true, plug);
    CHECK(after.empty());
}

TEST_CASE("devices are forgotten when unseen for forget_after, or on request") {
    engine::Engine e;
    idle_run(e, device_a, t0, t0 + 5'000);
    idle_run(e, device_b, t0, t0 + 5'000);
    idle_run(e, device_b, t0 + 31 * day_ms, t0 + 31 * day_ms + 2'000);
    CHECK(e.forget_unseen(t0 + 31 * day_ms) == 1);
    CHECK_FALSE(e.device(device_a));
    CHECK(e.device(device_b));
    e.forget(device_b);
    CHECK(e.devices().empty());
}

// ---- the pieces ----

TEST_CASE("windows: rates over 10 s whatever the tick length, and the last 60 s") {
    for (double tick : {1.0, 2.0, 5.0, 10.0, 60.0}) {
        CAPTURE(tick);
        engine::Windows w;
        engine::WindowFeatures f;
        int64_t t = t0;
        for (int i = 0; i < int(120 / tick); ++i) {
            t += int64_t(tick * 1000);
            Sample s;
            s.time_ms = t;
            s.seconds = tick;
            s.bytes_up = uint64_t(1'000 * tick);  // 1 kB/s
            s.frames_up = uint64_t(10 * tick);
            s.new_flows = uint64_t(tick);  // one a second
            w.add_tick(s);
        }
        w.last_10s(t, {}, f);
        CHECK(f.values[engine::Feature::bytes_up] == doctest::Approx(1'000));
        CHECK(f.values[engine::Feature::frames_up] == doctest::Approx(10));
        CHECK(f.values[engine::Feature::new_flows] == doctest::Approx(10));
        w.last_60s(t, {}, f);
        CHECK(f.values[engine::Feature::new_flows] == doctest::Approx(60));
    }
}

TEST_CASE("windows: the shape of connections (ports per host, hosts per port, LAN peers)") {
    engine::Windows w;
    int64_t t = t0 + 10'000;
    auto contact = [&](uint32_t host, uint16_t port, bool lateral, int64_t at) {
        engine::LoggedContact c;
        c.peer = lateral ? lan_address(uint8_t(host)) : internet_address(host);
        c.fingerprint = engine::fingerprint(c.peer);
        c.port = port;
        c.time_ms = at;
        c.flags = lateral ? engine::LoggedContact::lateral : 0;
        w.log(c);
    };
    contact(9, 80, false, t - 30'000);                                       // outside 10 s
    for (uint16_t p = 1; p <= 30; ++p)                           // 28 ports on one host
        if (p != 22 && p != 23) contact(7, p, false, t - 5'000);
    for (uint32_t h = 0; h < 12; ++h) contact(1'000 + h, 23, false, t - 2'000);  // 12 on telnet
    contact(1'000, 2323, false, t - 1'000);                                   // same host, 2323
    for (uint32_t h = 1; h <= 3; ++h) contact(h, 445, true, t - 1'000);      // 3 LAN peers
    Sample s;
    s.time_ms = t;
    s.seconds = 10;
    w.add_tick(s);
    engine::WindowFeatures f;
    const std::vector<uint16_t> remote{22, 23, 2323};
    w.last_10s(t, remote, f);
    CHECK(f.values[engine::Feature::ports_per_host] == 28);
    CHECK(f.busiest_host == internet_address(7));
    CHECK(f.values[engine::Feature::hosts_per_port] == 12);
    CHECK(f.busiest_port == 23);
    CHECK(f.values[engine::Feature::remote_access_hosts] == 12);  // distinct hosts
    CHECK(f.values[engine::Feature::lan_peers] == 3);
    CHECK(f.values[engine::Feature::destinations] == 1 + 12 + 3);
    w.last_60s(t, remote, f);
    CHECK(f.values[engine::Feature::destinations] == 1 + 12 + 3 + 1);
    w.expire(t + 60'000);
    w.last_60s(t + 60'000, remote, f);
    CHECK(f.values[engine::Feature::destinations] == 0);
}

TEST_CASE("sketch: bucket edges from integers, quantiles within a quarter octave") {
    using engine::Sketch;
    CHECK(Sketch::bucket_of(0) == 0);
    CHECK(Sketch::bucket_of(1) == 1);
    // Each bucket is [2^((b-1)/4), 2^(b/4)) in thousandths; the edges are exact.
    for (unsigned b = 2; b < 160; ++b) {
        double edge = std::exp2(double(b - 1) / 4);
        auto below = uint64_t(std::ceil(edge)) - 1, at = uint64_t(std::ceil(edge));
        if (below >= 1 && double(below) < edge && double(at) >= edge && at != below) {
            CHECK(Sketch::bucket_of(below) < b);
            CHECK(Sketch::bucket_of(at) >= b);
        }
    }
    Sketch s;
    for (int i = 1; i <= 10'000; ++i) s.add(engine::quantise(i));
    for (double p : {0.5, 0.9, 0.99}) {
        double q = s.quantile(p), truth = p * 10'000;
        CHECK(q >= truth);
        CHECK(q <= truth * 1.19 + 1);
    }
    CHECK(engine::quantise(-5) == 0);
    CHECK(engine::quantise(1e30) == engine::max_quantised);
    CHECK(engine::quantise(std::nan("")) == 0);
}

TEST_CASE("known destinations: the most recent are remembered, one in use is never lost") {
    engine::KnownSet set(4'096);
    auto fp = [](uint32_t n) { return engine::fingerprint(internet_address(n % 120'000)) ^ (n / 120'000); };
    CHECK(set.insert(fp(1)));
    CHECK_FALSE(set.insert(fp(1)));
    // 2,048 others later it is still there (previous generation) ...
    for (uint32_t i = 2; i < 2'050; ++i) set.insert(fp(i));
    CHECK(set.contains(fp(1)));
    // ... and 4,096 later it is gone.
    for (uint32_t i = 2'050; i < 4'100; ++i) set.insert(fp(i));
    CHECK_FALSE(set.contains(fp(1)));
    CHECK(set.size() <= 4'096);
    // An address used now and then stays.
    engine::KnownSet used(4'096);
    for (uint32_t i = 10; i < 20'000; ++i) {
        used.insert(fp(i));
        if (i % 1'000 == 0) used.insert(fp(5));
        if (i == 10) used.insert(fp(5));
    }
    CHECK(used.contains(fp(5)));
    // Saved and restored, it is the same set.
    auto again = engine::KnownSet::from_hex(4'096, used.current_hex(), used.previous_hex());
    CHECK(again.current_hex() == used.current_hex());
    CHECK(again.previous_hex() == used.previous_hex());
    CHECK_THROWS_AS(engine::KnownSet::from_hex(4'096, "12345", ""), std::invalid_argument);
    // Memory follows use.
    engine::KnownSet small(4'096);
    for (uint32_t i = 0; i < 5; ++i) small.insert(fp(i));
    CHECK(small.heap_bytes() <= 64);
}

TEST_CASE("what a device costs in memory") {
    // Each device of the home after a week: its baselines, known destinations and windows.
    const TrainedHome& trained = trained_home();
    std::map<std::string, size_t> by_type;
    for (const auto& mac : trained.engine.devices()) {
        engine::Engine alone = trained.engine;
        for (const auto& other : trained.engine.devices())
            if (!(other == mac)) alone.forget(other);
        size_t bytes = alone.memory().devices;
        auto type = alone.device(mac)->type;
        by_type[type] = std::max(by_type[type], bytes);
    }
    std::string line;
    for (const auto& [type, bytes] : by_type) line += " " + type + " " + std::to_string(bytes) + " B;";
    MESSAGE("per device after a week:" << line << " 6 types: "
                                       << trained.engine.memory().types / 1024 << " kB");
    // An appliance (camera, plug, speaker, TV) costs 14 to 21 kB (of which 1.7 kB the
    // evidence over 10 min and 1 h, and 0.5 kB its baselines), a phone or laptop that meets
    // thousands of addresses twice that. 1,024 devices, a fifth of them phones and laptops,
    // come to about 18 MB: half the controller's 32 MB with room for the rest.
    for (const char* appliance : {"camera", "plug", "speaker", "tv"})
        CHECK(by_type[appliance] < 22 * 1024);
    CHECK(by_type["laptop"] < 48 * 1024);
    size_t mix = (by_type["camera"] + by_type["plug"] + by_type["speaker"] + by_type["tv"]) / 4 * 4 / 5 +
                 (by_type["laptop"] + by_type["phone"]) / 2 / 5;
    MESSAGE("1,024 devices, a fifth phones and laptops: " << mix * 1'024 / 1024 / 1024 << " MB");
    CHECK(mix * 1'024 < 19u << 20);
}
