#include <doctest/doctest.h>

#include <sstream>

#include "cli/format.h"

using namespace warden::cli;

TEST_CASE("byte counts and rates read like iperf3's") {
    CHECK(human_bytes(0) == "0 B");
    CHECK(human_bytes(999) == "999 B");
    CHECK(human_bytes(1500) == "1.50 kB");
    CHECK(human_bytes(12'345'678) == "12.3 MB");
    CHECK(human_bytes(123'456'789'000) == "123 GB");
    CHECK(human_rate(0) == "0 B/s");
    CHECK(human_rate(2'500) == "2.50 kB/s");
    CHECK(human_rate(117'000'000) == "117 MB/s");
    CHECK(human_rate(-5) == "0 B/s");
}

TEST_CASE("counts and ages are short") {
    CHECK(human_count(7) == "7");
    CHECK(human_count(1'234) == "1.2k");
    CHECK(human_count(56'000'000) == "56M");
    CHECK(human_age(59'999) == "59s");
    CHECK(human_age(60'000) == "1m");
    CHECK(human_age(3'600'000 + 5 * 60'000) == "1h05m");
    CHECK(human_age(2 * 86'400'000 + 3 * 3'600'000) == "2d03h");
    CHECK(human_age(-10) == "0s");
}

TEST_CASE("tables align text left and numbers right") {
    Table t({"MAC", "BYTES"}, {false, true});
    t.add({"02:00:00:00:00:01", "1.5 kB"});
    t.add({"x", "12 B"});
    std::ostringstream out;
    t.print(out);
    CHECK(out.str() ==
          "MAC                 BYTES\n"
          "02:00:00:00:00:01  1.5 kB\n"
          "x                    12 B\n");
}
