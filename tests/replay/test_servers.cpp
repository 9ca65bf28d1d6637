// Servers on the LAN: a device that answers many clients whose own first frames warden does
// not see (a lighting bridge serving its app, a hub polled by tablets, a server forwarded
// from the WAN right after warden starts) is never taken for a scanner, a worm or a device
// meeting many new hosts; and when such a server scans itself, it is caught as any device is.
#include <doctest/doctest.h>

#include <map>

#include "replay.h"
#include "servers.h"

using namespace warden;
using namespace warden::replay;

namespace {

struct Run {
    engine::Engine engine;
    ServerSim server;
    FlowModel flows;
    int64_t now;

    Run(ServerKind kind, int64_t start) : server(kind, seed(), start), now(start) {}

    // One tick of 1 s: the server's frames (and an attack's) through the data plane's
    // accounting into the engine.
    std::vector<engine::Finding> tick(std::optional<std::pair<ServerAttack, int64_t>> attack = {}) {
        int64_t end = now + 1'000;
        std::vector<SimFrame> frames;
        server.frames(end, 1.0, frames);
        if (attack) attack_frames(attack->first, attack->second, end, 1.0, frames);
        engine::Sample s;
        s.time_ms = end;
        s.seconds = 1.0;
        for (const auto& f : frames) flows.add(f, s);
        now = end;
        return engine.observe(server.mac(), s);
    }
};

}  // namespace

TEST_CASE("servers: a day of answering many clients raises no finding") {
    for (ServerKind kind : all_servers) {
        INFO("seed " << seed() << " (WARDEN_SEED replays): the " << to_string(kind) << " server");
        Run run(kind, week_start_ms);
        std::map<std::string, int> by_detector;
        for (int64_t t = 0; t < day_ms; t += 1'000)
            for (const auto& f : run.tick()) {
                if (by_detector[std::string(engine::to_string(f.detector))]++ == 0)
                    CHECK_MESSAGE(false, f.summary());
            }
        MESSAGE("the " << to_string(kind) << " server, 24 device-hours at 1 s ticks: "
                       << std::string(by_detector.empty() ? "no finding" : "findings (above)"));
    }
}

TEST_CASE("servers: a server's own scans are caught within 10 s") {
    for (ServerKind kind : all_servers)
        for (ServerAttack attack : all_server_attacks) {
            INFO("seed " << seed() << ": " << to_string(attack) << " by the " << to_string(kind) << " server");
            Run run(kind, week_start_ms);
            for (int64_t t = 0; t < hour_ms; t += 1'000)
                for (const auto& f : run.tick()) CHECK_MESSAGE(false, "before the attack: " << f.summary());
            const int64_t start = run.now + 500;
            std::optional<engine::Finding> found;
            while (!found && run.now < start + 30'000)
                for (const auto& f : run.tick(std::pair{attack, start}))
                    if (f.detector == expected_detector(attack)) found = f;
            REQUIRE_MESSAGE(found, "not detected");
            CHECK(found->time_ms - start <= 10'000);
            MESSAGE(to_string(attack) << " by the " << to_string(kind) << " server in "
                                      << (found->time_ms - start) / 1000.0 << " s: " << found->summary());
        }
}
