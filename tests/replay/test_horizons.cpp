// The long horizons' evidence (engine/horizons.h): the distinct-count sketch's error as the
// docs state it, memory that does not grow with traffic, evidence that leaves after one
// horizon, and upload counted only towards destinations new to the device.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/horizons.h"
#include "engine/known_set.h"
#include "simulate.h"

using namespace warden;
using namespace warden::engine;
using warden::replay::internet_address;

namespace {

LoggedContact contact_to(const net::IpAddr& peer, uint16_t port, int64_t t) {
    LoggedContact c;
    c.peer = peer;
    c.fingerprint = fingerprint(peer);
    c.port = port;
    c.proto = 6;
    c.time_ms = t;
    c.flags = LoggedContact::syn;
    return c;
}

const uint16_t remote_access[] = {22, 23, 2323};

}  // namespace

TEST_CASE("the distinct-count sketch has the error the docs state (13 %)") {
    for (uint64_t n : {5, 12, 40, 100, 1'000, 20'000}) {
        // Many independent sketches: their root-mean-square error is the standard error
        // (13 %, with a little slack for 200 trials) and the worst of them within 4 of it.
        double worst = 0, squares = 0;
        const int trials = 200;
        for (uint64_t trial = 0; trial < trials; ++trial) {
            DistinctCount d;
            for (uint64_t i = 0; i < n; ++i) d.add(mix64(trial << 32 | i));
            double error = (d.estimate() - double(n)) / double(n);
            worst = std::max(worst, std::abs(error));
            squares += error * error;
        }
        double rms = std::sqrt(squares / trials);
        INFO(n << " distinct: rms relative error " << rms << ", worst " << worst);
        CHECK(rms <= 0.15);
        CHECK(worst <= 4 * 0.13);
    }
}

TEST_CASE("a slow vertical scan adds up over 10 min; it is gone an hour after it stopped") {
    Horizons h;
    const auto target = internet_address(100'123);
    int64_t t = 1'000'000;
    for (uint16_t port = 1; port <= 120; ++port, t += 1'000) {
        h.advance(t);
        h.contact(contact_to(target, port, t), remote_access, true, false);
        h.attempts(1, t);
    }
    HorizonFeatures f;
    h.features(Window::m10, f);
    CHECK(f.values[Feature::ports_per_host] >= 120 * 0.6);
    CHECK(f.values[Feature::ports_per_host] <= 120 * 1.4);
    CHECK(f.busiest_host == target);
    CHECK(f.values[Feature::unanswered_syns] == 120);
    // Many other hosts on one port each do not push the scanned host out.
    for (uint32_t i = 0; i < 500; ++i, t += 100) {
        h.advance(t);
        h.contact(contact_to(internet_address(2'000 + i), 443, t), remote_access, false, false);
    }
    h.features(Window::m10, f);
    CHECK(f.busiest_host == target);
    // A horizon later, nothing is left of it.
    h.advance(t + window_ms(Window::h1) + 1);
    h.features(Window::h1, f);
    CHECK(f.values[Feature::ports_per_host] == 0);
    CHECK(f.values[Feature::unanswered_syns] == 0);
    CHECK(h.empty());
}

TEST_CASE("upload counts towards new destinations only, and names the one that took most") {
    Horizons h;
    const auto cloud = internet_address(10'000), stranger = internet_address(100'456);
    int64_t t = 5'000'000;
    h.advance(t);
    h.contact(contact_to(stranger, 443, t), remote_access, true, false);
    for (int i = 0; i < 30; ++i, t += 1'000) {
        h.advance(t);
        // The usual cloud (known to the device) takes 5 MB a second, the stranger 2 MB.
        CHECK_FALSE(h.bytes_with(cloud, fingerprint(cloud), 5e6, 1e5, false, false, t));
        CHECK(h.bytes_with(stranger, fingerprint(stranger), 2e6, 20e3, false, false, t));
    }
    HorizonFeatures f;
    h.features(Window::m10, f);
    // Beyond 1/20 of what came back (the ACKs of a download).
    CHECK(f.values[Feature::new_destination_upload] == doctest::Approx(30 * (2e6 - 1e3)));
    CHECK(f.top_new_peer == stranger);
    // A download from a new host is not upload: its ACKs stay under 1/20 of it.
    Horizons d;
    d.advance(t);
    CHECK_FALSE(d.bytes_with(stranger, fingerprint(stranger), 1e6, 40e6, true, false, t));
    // Met in the device's first minutes: its own, not new.
    CHECK_FALSE(d.bytes_with(cloud, fingerprint(cloud), 5e6, 0, true, true, t));
}

TEST_CASE("a horizon's memory is fixed, whatever the traffic") {
    // The state is plain arrays: nothing on the heap, so its size is its memory.
    CHECK(sizeof(Horizons) < 1'800);
    MESSAGE("per device: " << sizeof(Horizons) << " bytes");
}
