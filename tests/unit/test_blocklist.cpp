#include <doctest/doctest.h>

#include "blocklist/blocklist.h"
#include "support/deadline.h"
#include "support/temp_dir.h"

using namespace warden;

TEST_CASE("blocklist files: prefixes, directions, comments and blank lines") {
    auto r = blocklist::parse_text(
        "# known-bad hosts\n"
        "198.18.200.0/24\n"
        "\n"
        "198.18.201.7 in   # one host, inbound only\n"
        "fd00:bad::/48 out\n"
        "198.18.200.0/24\n",  // repeated: harmless
        "bad.txt", WD_BLOCK_IN | WD_BLOCK_OUT, blocklist::kPolicyFileBase);
    CHECK(r.errors.empty());
    REQUIRE(r.entries.size() == 3);
    CHECK(r.entries[0].prefix.str() == "198.18.200.0/24");
    CHECK(r.entries[0].flags == (WD_BLOCK_IN | WD_BLOCK_OUT));
    CHECK(r.entries[1].prefix.str() == "198.18.201.7/32");
    CHECK(r.entries[1].flags == WD_BLOCK_IN);
    CHECK(r.entries[2].prefix.str() == "fd00:bad::/48");
    CHECK(r.entries[2].flags == WD_BLOCK_OUT);
    CHECK(r.entries[2].list_id == blocklist::kPolicyFileBase);
}

TEST_CASE("every bad blocklist line is reported with its number") {
    auto r = blocklist::parse_text("198.18.0.0/15\n198.18.0.1/15\nexample.com\n198.18.9.0/24 sideways\n"
                                   "198.18.9.0/24 in out\n",
                                   "list.txt", WD_BLOCK_OUT, 0);
    REQUIRE(r.errors.size() == 4);
    CHECK(r.errors[0] == "list.txt:2: \"198.18.0.1/15\": host bits set below the prefix length");
    CHECK(r.errors[1] == "list.txt:3: \"example.com\": not an IPv4 or IPv6 address");
    CHECK(r.errors[2] == "list.txt:4: direction \"sideways\": expected in, out or both");
    CHECK(r.errors[3] == "list.txt:5: unexpected \"out\" after the direction");
}

TEST_CASE("a bad line is quoted printably: no control byte reaches the terminal") {
    auto r = blocklist::parse_text("\x1b[2J\n198.18.0.0/15 \x07\n198.18.0.0/16 in caf\xe9\n", "junk.txt", WD_BLOCK_OUT, 0);
    REQUIRE(r.errors.size() == 3);
    CHECK(r.errors[0] == "junk.txt:1: \"\\x1b[2J\": not an IPv4 or IPv6 address");
    CHECK(r.errors[1] == "junk.txt:2: direction \"\\x07\": expected in, out or both");
    CHECK(r.errors[2] == "junk.txt:3: unexpected \"caf\\xe9\" after the direction");
}

TEST_CASE("an unreadable blocklist file is one error naming it") {
    auto r = blocklist::parse_file("/nonexistent/warden-blocklist.txt", WD_BLOCK_OUT, 0);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].find("/nonexistent/warden-blocklist.txt") != std::string::npos);
    CHECK(r.entries.empty());

    test::TempDir d;
    REQUIRE(test::make_fifo(d.path / "blocklist.txt"));
    test::Deadline deadline(10);
    r = blocklist::parse_file(d.path / "blocklist.txt", WD_BLOCK_OUT, 0);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0] == (d.path / "blocklist.txt").string() + " is a FIFO (named pipe), not a file");
}

TEST_CASE("directions round-trip") {
    for (const char* d : {"in", "out", "both"}) CHECK(blocklist::direction_name(*blocklist::parse_direction(d)) == d);
    CHECK_FALSE(blocklist::parse_direction("inbound"));
}
