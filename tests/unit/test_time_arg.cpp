// --since and printed times (cli/time_arg.h), in a fixed time zone: CET, UTC+1 in winter and
// UTC+2 in summer, written as a POSIX TZ rule so that no zoneinfo file is needed.
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "cli/time_arg.h"

using namespace warden::cli;

namespace {

struct InZone {
    std::string before;
    bool had = false;
    explicit InZone(const char* tz) {
        if (const char* old = std::getenv("TZ")) {
            before = old;
            had = true;
        }
        setenv("TZ", tz, 1);
        tzset();
    }
    ~InZone() {
        if (had)
            setenv("TZ", before.c_str(), 1);
        else
            unsetenv("TZ");
        tzset();
    }
};

constexpr const char* kCet = "CET-1CEST,M3.5.0,M10.5.0/3";
// 2026-12-07 10:38:56 UTC (11:38:56 in CET).
constexpr int64_t kNow = 1796639936000;

int64_t since(const std::string& text) {
    std::string why;
    auto t = parse_since(text, kNow, &why);
    INFO(text << ": " << why);
    REQUIRE(t);
    return *t;
}

std::string refused(const std::string& text) {
    std::string why;
    auto t = parse_since(text, kNow, &why);
    CHECK_MESSAGE(!t, text << " was accepted");
    return why;
}

}  // namespace

TEST_CASE("--since: a duration ago, today, yesterday") {
    InZone zone(kCet);
    CHECK(since("15m") == kNow - 15 * 60'000);
    CHECK(since("7d") == kNow - 7 * 86'400'000LL);
    CHECK(since("today") == 1796598000000);  // 2026-12-07 00:00 CET = 2026-12-06 23:00 UTC
    CHECK(since("yesterday") == 1796598000000 - 86'400'000);
}

TEST_CASE("--since: absolute times, local unless they say otherwise") {
    InZone zone(kCet);
    CHECK(since("2026-12-07") == 1796598000000);
    CHECK(since("2026-12-07 11:38") == kNow - 56'000);
    CHECK(since("2026-12-07T11:38:56") == kNow);
    CHECK(since("2026-12-07T10:38:56Z") == kNow);
    CHECK(since("2026-12-07 12:38:56+02:00") == kNow);
    CHECK(since("2026-12-07 05:38:56-0500") == kNow);
    // Summer time: 2026-07-01 12:00 CEST is 10:00 UTC.
    CHECK(since("2026-07-01 12:00") == 1782900000000);
}

TEST_CASE("--since: what is wrong is said") {
    InZone zone(kCet);
    CHECK(refused("5x").find("unknown unit") != std::string::npos);
    CHECK(refused("last week").find("today, yesterday") != std::string::npos);
    CHECK(refused("2026-02-30") == "no such date");
    CHECK(refused("2026-13-01") == "no such date or time");
    CHECK(refused("2026-12-07 25:00") == "no such date or time");
    CHECK(refused("2026-12-07 11h").find("HH:MM") != std::string::npos);
    CHECK(refused("2026-12-07 11:00 CET").find("not Z nor an offset") != std::string::npos);
}

TEST_CASE("times print in local time with the offset, or in UTC") {
    InZone zone(kCet);
    CHECK(format_time(kNow, false) == "2026-12-07 11:38:56 +01:00");
    CHECK(format_time(kNow, true) == "2026-12-07 10:38:56 UTC");
    CHECK(format_time(1782900000000, false) == "2026-07-01 12:00:00 +02:00");
}
