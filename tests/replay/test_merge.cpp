// Baselines and profiles merge exactly: merge(merge(A,B),C) == merge(A,merge(B,C)) == one
// baseline that saw A, B and C, bit for bit; and everything learned survives JSON.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <cmath>

#include "engine/engine.h"
#include "engine/profiles.h"
#include "replay.h"

using namespace warden;
using namespace warden::replay;

namespace {

// Where two JSON texts part, for a readable failure (the states are hundreds of kB).
std::string first_difference(const std::string& a, const std::string& b) {
    size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    if (i == a.size() && i == b.size()) return "identical";
    size_t from = i > 80 ? i - 80 : 0;
    return "at byte " + std::to_string(i) + ":\n  " + a.substr(from, 160) + "\n  " +
           b.substr(from, 160);
}

// Settings under which nothing can reach a threshold. The engine keeps a window that
// looks like an attack out of its baselines, and whether a window does depends on the
// normal it is judged against, which differs between a gateway with one laptop and one
// with three; without findings, learning is pure accumulation and the comparison below is
// between equals.
engine::Config learning_only() {
    engine::Config c;
    for (engine::Detector d : engine::all_detectors) c.response(d).enabled = false;
    c.port_scan.ports_per_host = 65'535;
    c.port_scan.hosts_per_port = c.propagation.hosts = c.new_destinations.per_minute =
        c.blocklist.hits = 1'000'000;
    c.lateral.peers = 65'535;
    c.flood.frames_per_second = 100'000'000;
    c.exfiltration.bytes_per_second = 10ull << 30;
    return c;
}

// Three gateways, each with one camera and one laptop of its own (different seeds), for a
// day; and one gateway that has all six devices.
struct Gateways {
    engine::Engine a{learning_only()}, b{learning_only()}, c{learning_only()},
        all{learning_only()};
};

const Gateways& three_gateways() {
    static const Gateways g = [] {
        Gateways g;
        const uint64_t seeds[] = {seed() + 11, seed() + 12, seed() + 13};
        engine::Engine* each[] = {&g.a, &g.b, &g.c};
        for (int i = 0; i < 3; ++i) {
            Home home(seeds[i], 1, Calendar{}, uint8_t(1 + i));
            // Only the camera and the laptop, so the run is short.
            std::vector<DeviceSim> keep;
            for (auto& d : home.devices)
                if (d.kind() == Kind::camera || d.kind() == Kind::laptop) keep.push_back(d);
            home.devices = keep;
            home.attacks.resize(keep.size());
            Home copy = home;
            home.name_types(*each[i]);
            home.run(*each[i], week_start_ms + day_ms, [](size_t, const engine::Finding&) { return true; });
            // The same streams, from the same devices, into the all-seeing engine.
            copy.name_types(g.all);
            copy.run(g.all, week_start_ms + day_ms, [](size_t, const engine::Finding&) { return true; });
        }
        return g;
    }();
    return g;
}

}  // namespace

TEST_CASE("type profiles merge exactly, in any order, to what one gateway that saw all learned") {
    INFO("seed " << seed() << " (WARDEN_SEED replays)");
    const Gateways& g = three_gateways();
    engine::Profiles A = g.a.export_profiles(), B = g.b.export_profiles(),
                     C = g.c.export_profiles(), ALL = g.all.export_profiles();
    REQUIRE(A.types.count("camera"));
    // A day of 10 s windows (the first one may close before or after the day's start).
    REQUIRE(A.types.at("camera").windows() >= 8'639);
    REQUIRE(A.types.at("camera").windows() <= 8'640);

    engine::Profiles ab_c = A;
    ab_c.merge(B);
    ab_c.merge(C);
    engine::Profiles bc = B;
    bc.merge(C);
    engine::Profiles a_bc = A;
    a_bc.merge(bc);
    engine::Profiles c_b_a = C;
    c_b_a.merge(B);
    c_b_a.merge(A);

    CHECK(ab_c == a_bc);
    CHECK(ab_c == c_b_a);
    CHECK(ab_c == ALL);
    // Bit for bit, as files: the same bytes.
    CHECK(ab_c.to_json().dump() == ALL.to_json().dump());
    CHECK(a_bc.to_json().dump() == ALL.to_json().dump());
    // The library function over a list.
    std::vector<engine::Profiles> list{A, B, C};
    CHECK(engine::merge(list) == ALL);
    // The merge is not vacuous: each part differs from the whole.
    CHECK_FALSE(A == ALL);
    CHECK(ALL.types.at("laptop").windows() == A.types.at("laptop").windows() +
                                                   B.types.at("laptop").windows() +
                                                   C.types.at("laptop").windows());

    // Derived statistics agree too (they are computed from the same integers).
    const auto& cell = ALL.types.at("camera").all_day(0);
    const auto& merged_cell = a_bc.types.at("camera").all_day(0);
    CHECK(cell.moments.mean() == merged_cell.moments.mean());
    CHECK(cell.moments.m2() == merged_cell.moments.m2());
    CHECK(cell.sketch.quantile(0.99) == merged_cell.sketch.quantile(0.99));
}

TEST_CASE("baselines merge exactly: (A+B)+C == A+(B+C) == one baseline fed A, B and C") {
    // Window features drawn over the whole range a feature can take: zeros, fractions,
    // counts, rates up to the clamp and beyond it.
    Rng rng(seed());
    auto value = [&]() {
        switch (rng() % 5) {
            case 0: return 0.0;
            case 1: return double(rng() % 1000) / 997.0;
            case 2: return double(rng() % 100);
            case 3: return double(rng() % 100'000'000);
            default: return std::ldexp(double(rng() % 1000 + 1), int(rng() % 40));
        }
    };
    auto stream = [&](engine::Baseline& b, engine::Baseline& everything, int windows) {
        for (int i = 0; i < windows; ++i) {
            std::array<engine::FeatureVector, engine::window_count> v;
            for (auto& window : v)
                for (auto& x : window.values) x = value();
            int hour = int(rng() % 24);
            b.add(v, hour);
            everything.add(v, hour);
        }
    };
    engine::Baseline A, B, C, everything;
    stream(A, everything, 5'000);
    stream(B, everything, 3'000);
    stream(C, everything, 7'000);

    engine::Baseline ab_c = A;
    ab_c.merge(B);
    ab_c.merge(C);
    engine::Baseline bc = B;
    bc.merge(C);
    engine::Baseline a_bc = A;
    a_bc.merge(bc);
    CHECK(ab_c == a_bc);
    CHECK(ab_c == everything);
    CHECK(ab_c.to_json().dump() == everything.to_json().dump());
    CHECK(engine::Baseline::from_json(everything.to_json()) == everything);
    CHECK(everything.windows() == 15'000);
    CHECK_FALSE(A == everything);
}

TEST_CASE("exported profiles hold no MACs and no addresses") {
    const Gateways& g = three_gateways();
    std::string text = g.a.export_profiles().to_json().dump();
    REQUIRE_FALSE(g.a.devices().empty());
    for (const auto& mac : g.a.devices()) CHECK(text.find(mac.str()) == std::string::npos);
    CHECK(text.find("02:57:") == std::string::npos);
    CHECK(text.find("198.") == std::string::npos);
    CHECK(text.find("fd00") == std::string::npos);
    CHECK(text.find("\"mac\"") == std::string::npos);
    // ...while the engine's own state does hold its devices.
    CHECK(g.a.to_json().dump().find(g.a.devices()[0].str()) != std::string::npos);
}

TEST_CASE("profiles through a file, and what a profile file refuses") {
    const Gateways& g = three_gateways();
    auto dir = std::filesystem::temp_directory_path() / ("warden-replay-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string path = (dir / "profiles.json").string();
    g.a.export_profiles().write_file(path);
    CHECK(engine::Profiles::read_file(path) == g.a.export_profiles());

    auto refuses = [](const std::string& json, const std::string& why) {
        CAPTURE(json);
        try {
            engine::Profiles::from_json(nlohmann::json::parse(json));
            FAIL("accepted");
        } catch (const std::invalid_argument& e) {
            CHECK_MESSAGE(std::string(e.what()).find(why) != std::string::npos, e.what());
        }
    };
    refuses(R"({"types": {}})", "not a profiles file");
    refuses(R"({"format": "warden-profiles", "version": 2, "types": {}})", "version 2");
    refuses(R"({"format": "warden-profiles", "version": 1, "types": {"Cam era": {}}})",
            "not a device type name");
    refuses(R"({"format": "warden-profiles", "version": 1, "types": {"camera": {"all_day": {"nope@10s": [0, "0", "0", []]}}}})",
            "unknown feature 'nope@10s'");
    refuses(R"({"format": "warden-profiles", "version": 1, "types": {"camera": {"all_day": {"bytes_up@10s": [2, "0", "0", [0, 1]]}}}})",
            "holds 1 values but its count says 2");
    refuses(R"({"format": "warden-profiles", "version": 1, "types": {"camera": {"all_day": {"bytes_up@10s": [2, "0", "0", [5, 1, 3, 1]]}}}})",
            "out of order");
    refuses(R"({"format": "warden-profiles", "version": 1, "types": {"camera": {"hourly": {"upload@10s": []}}}})",
            "expected 24 cells");
    {
        std::FILE* f = std::fopen((dir / "bad.json").c_str(), "w");
        std::fputs("{not json", f);
        std::fclose(f);
    }
    CHECK_THROWS_WITH_AS(engine::Profiles::read_file((dir / "bad.json").string()),
                         doctest::Contains("not JSON"), std::runtime_error);
    CHECK_THROWS_AS(engine::Profiles::read_file((dir / "missing.json").string()), std::runtime_error);
    std::filesystem::remove_all(dir);
}

TEST_CASE("everything learned survives to_json and load_json") {
    const TrainedHome& t = trained_home();
    nlohmann::json saved = t.engine.to_json();
    engine::Engine restored;
    restored.load_json(saved);
    {
        std::string again = restored.to_json().dump(), before = saved.dump();
        CHECK_MESSAGE(again == before, first_difference(again, before));
    }
    for (const auto& mac : t.engine.devices()) {
        CAPTURE(mac.str());
        REQUIRE(restored.device_baseline(mac));
        CHECK(*restored.device_baseline(mac) == *t.engine.device_baseline(mac));
        CHECK(restored.device(mac)->known_destinations == t.engine.device(mac)->known_destinations);
        CHECK(restored.device(mac)->learning == false);
    }
    CHECK(restored.export_profiles() == t.engine.export_profiles());
    // Compact enough for a state dir: a few kB per device.
    size_t bytes = saved.dump().size();
    MESSAGE("state of " << t.engine.devices().size() << " devices after a week: " << bytes / 1024
                        << " kB of JSON");
    CHECK(bytes < t.engine.devices().size() * 64 * 1024);

    // A damaged state is refused as a whole, naming what is wrong; the engine keeps its own.
    nlohmann::json broken = saved;
    broken["devices"][1]["mac"] = "not a mac";
    engine::Engine keeps = t.engine;
    CHECK_THROWS_WITH_AS(keeps.load_json(broken), doctest::Contains("devices[1].mac"),
                         std::invalid_argument);
    CHECK_MESSAGE(keeps.to_json() == saved, "the failed load changed the engine");
    broken = saved;
    broken["devices"][0]["known"][0] = "xyz";
    CHECK_THROWS_WITH_AS(keeps.load_json(broken), doctest::Contains("known destinations"),
                         std::invalid_argument);
    broken = saved;
    broken["version"] = 7;
    CHECK_THROWS_WITH_AS(keeps.load_json(broken), doctest::Contains("version 7"),
                         std::invalid_argument);
}
