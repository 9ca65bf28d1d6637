// The behaviour engine's cost per tick: N simulated devices (default 1,024, a fifth of them
// phones and laptops), learned for some simulated hours first so their baselines and known
// destinations are those of a running gateway, then timed at 1 s ticks. Only the engine is
// timed (the samples are made before the clock starts). The baseline, measured in the same
// run on the same samples: a copy of the learned engine with every detector off, which still
// builds the windows and learns the baselines, so the difference is what detection costs.
// The two are timed alternately within each tick (in turns first), so both see the same
// machine. Also reported: the engine's memory per device and per type profile, and the size
// of its state file (to_json, compact). Prints one line of key=value results;
// scripts/bench-engine.sh runs it several times and makes the table.
//
//   bench_engine [--devices N] [--warmup-hours H] [--ticks T] [--seed S]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "simulate.h"

using namespace warden;
using namespace warden::replay;

namespace {

long rss_kb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "bench_engine: %s\nusage: bench_engine [--devices N] [--warmup-hours H] "
                 "[--ticks T] [--seed S]\n",
                 why);
    std::exit(2);
}

// A fifth phones and laptops, the rest appliances.
Kind kind_for(size_t i) {
    static constexpr Kind mix[] = {Kind::camera, Kind::plug,  Kind::speaker, Kind::tv,
                                   Kind::plug,   Kind::camera, Kind::speaker, Kind::tv,
                                   Kind::phone,  Kind::laptop};
    return mix[i % std::size(mix)];
}

}  // namespace

int main(int argc, char** argv) {
    size_t devices = 1'024;
    int warmup_hours = 6, ticks = 60;
    uint64_t seed = 1;
    for (int i = 1; i < argc; ++i) {
        auto value = [&]() -> long {
            if (i + 1 >= argc) usage((std::string(argv[i]) + " needs a value").c_str());
            char* end = nullptr;
            long v = std::strtol(argv[++i], &end, 10);
            if (*end || v < 0) usage((std::string("not a number: ") + argv[i]).c_str());
            return v;
        };
        if (!std::strcmp(argv[i], "--devices")) devices = size_t(value());
        else if (!std::strcmp(argv[i], "--warmup-hours")) warmup_hours = int(value());
        else if (!std::strcmp(argv[i], "--ticks")) ticks = int(value());
        else if (!std::strcmp(argv[i], "--seed")) seed = uint64_t(value());
        else usage((std::string("unknown argument ") + argv[i]).c_str());
    }
    if (devices == 0 || devices > 65'536) usage("--devices: 1 to 65536");
    if (ticks < 10) usage("--ticks: at least 10 (the median needs them)");

    long rss_before = rss_kb();
    std::vector<DeviceSim> sims;
    std::vector<size_t> per_kind(all_kinds.size());
    for (size_t i = 0; i < devices; ++i) {
        Kind k = kind_for(i);
        sims.emplace_back(k, int(per_kind[size_t(k)]++), seed);
    }
    engine::Engine engine;
    for (const auto& d : sims) engine.set_type(d.mac(), std::string(to_string(d.kind())));

    // Learning: 10 s ticks from the start of the simulated week; the busy evening hours
    // then begin, so the timed ticks see streaming, browsing and page loads.
    std::vector<engine::Finding> findings;
    const int64_t start = week_start_ms + 20 * hour_ms - int64_t(warmup_hours) * hour_ms;
    for (auto& d : sims)  // the simulators start at the week's start; catch up unobserved
        for (int64_t t = week_start_ms + 10'000; t <= start; t += 10'000) d.tick(t, 10);
    int64_t now = start;
    size_t found = 0;
    auto learn_started = std::chrono::steady_clock::now();
    while (now < week_start_ms + 20 * hour_ms) {
        now += 10'000;
        for (auto& d : sims) {
            findings.clear();
            engine.observe(d.mac(), d.tick(now, 10), findings);
            found += findings.size();
        }
    }
    double learn_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - learn_started).count();

    // The baseline: the same learned state, every detector off.
    engine::Engine quiet = engine;
    {
        engine::Config off = quiet.config();
        for (auto detector : engine::all_detectors) off.response(detector).enabled = false;
        quiet.configure(off, {});
    }

    // Timed: 1 s ticks, samples made first.
    std::vector<double> tick_ms, wall_ms, quiet_ms;
    std::vector<engine::Sample> samples(devices);
    uint64_t contacts = 0;
    size_t quiet_found = 0;
    auto run_tick = [&](engine::Engine& e, size_t& count) {
        for (size_t i = 0; i < devices; ++i) {
            findings.clear();
            e.observe(sims[i].mac(), samples[i], findings);
            count += findings.size();
        }
    };
    for (int t = 0; t < ticks; ++t) {
        now += 1'000;
        for (size_t i = 0; i < devices; ++i) {
            samples[i] = sims[i].tick(now, 1);
            contacts += samples[i].contacts.size();
        }
        for (int turn = 0; turn < 2; ++turn) {
            bool full = (turn == 0) == (t % 2 == 0);
            double cpu_began = thread_cpu_ms();
            auto began = std::chrono::steady_clock::now();
            if (full) {
                run_tick(engine, found);
                wall_ms.push_back(std::chrono::duration<double, std::milli>(
                                      std::chrono::steady_clock::now() - began)
                                      .count());
                tick_ms.push_back(thread_cpu_ms() - cpu_began);
            } else {
                run_tick(quiet, quiet_found);
                quiet_ms.push_back(thread_cpu_ms() - cpu_began);
            }
        }
    }
    // CPU time of this thread is what the engine costs; wall time also counts whatever else
    // the machine ran meanwhile (reported for reference).
    std::vector<double> sorted = tick_ms, wall = wall_ms, quiet_sorted = quiet_ms;
    std::sort(sorted.begin(), sorted.end());
    std::sort(wall.begin(), wall.end());
    std::sort(quiet_sorted.begin(), quiet_sorted.end());
    auto at = [&](double p) { return sorted[std::min(sorted.size() - 1, size_t(p * double(sorted.size())))]; };
    long rss_after = rss_kb();  // both engines: the learned one and its copy
    auto memory = engine.memory();
    size_t types = engine.export_profiles().types.size();
    size_t state_bytes = engine.to_json().dump().size();
    std::printf(
        "devices=%zu warmup_hours=%d ticks=%d tick_ms_median=%.3f tick_ms_p90=%.3f "
        "tick_ms_max=%.3f wall_ms_median=%.3f ns_per_device=%.0f "
        "baseline_tick_ms_median=%.3f contacts_per_tick=%.0f "
        "engine_kb=%zu device_bytes=%zu largest_device_bytes=%zu types=%zu type_bytes=%zu "
        "state_bytes=%zu rss_growth_kb=%ld learn_s=%.2f findings=%zu baseline_findings=%zu\n",
        devices, warmup_hours, ticks, at(0.5), at(0.9), sorted.back(), wall[wall.size() / 2],
        at(0.5) * 1e6 / double(devices), quiet_sorted[quiet_sorted.size() / 2],
        double(contacts) / ticks, memory.total() / 1024, memory.devices / devices,
        memory.largest_device, types, types ? memory.types / types : 0, state_bytes,
        rss_after - rss_before, learn_s, found, quiet_found);
    return 0;
}
