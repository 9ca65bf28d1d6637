#include <doctest/doctest.h>

#include "net/address.h"

using namespace warden::net;

TEST_CASE("MAC addresses parse in both separators and print lower case with colons") {
    auto m = Mac::parse("A4:CF:12:0b:00:FF");
    REQUIRE(m);
    CHECK(m->str() == "a4:cf:12:0b:00:ff");
    CHECK(Mac::parse("a4-cf-12-0b-00-ff") == m);
    CHECK_FALSE(m->is_multicast());
    CHECK(Mac::parse("ff:ff:ff:ff:ff:ff")->is_multicast());
    CHECK(Mac::parse("02:00:00:00:00:01")->is_locally_administered());
}

TEST_CASE("malformed MAC addresses are rejected") {
    for (const char* bad : {"", "a4:cf:12:0b:00", "a4:cf:12:0b:00:ff:11", "a4:cf-12:0b:00:ff",
                            "g4:cf:12:0b:00:ff", "a4cf120b00ff", "a4:cf:12:0b:00:f", " a4:cf:12:0b:00:ff"}) {
        CAPTURE(bad);
        CHECK_FALSE(Mac::parse(bad));
    }
}

TEST_CASE("IP addresses keep IPv4 as v4-mapped IPv6") {
    auto a = IpAddr::parse("198.18.0.1");
    REQUIRE(a);
    CHECK(a->is_v4());
    CHECK(a->bytes[10] == 0xff);
    CHECK(a->bytes[11] == 0xff);
    CHECK(a->bytes[12] == 198);
    CHECK(a->str() == "198.18.0.1");
    auto b = IpAddr::parse("fd00::1");
    REQUIRE(b);
    CHECK_FALSE(b->is_v4());
    CHECK(b->str() == "fd00::1");
    CHECK(IpAddr::parse("0.0.0.0")->is_unspecified());
    CHECK(IpAddr::parse("::")->is_unspecified());
    CHECK_FALSE(IpAddr::parse("198.18.0.256"));
    CHECK_FALSE(IpAddr::parse("fd00:::1"));
}

TEST_CASE("prefixes parse, default to host length, and reject host bits and bad lengths") {
    auto p = Prefix::parse("198.18.0.0/15");
    REQUIRE(p);
    CHECK(p->len == 15);
    CHECK(p->str() == "198.18.0.0/15");
    CHECK(Prefix::parse("198.18.0.7")->len == 32);
    CHECK(Prefix::parse("fd00::/8")->len == 8);
    CHECK(Prefix::parse("fd00::1")->len == 128);

    std::string why;
    CHECK_FALSE(Prefix::parse("198.18.0.1/15", &why));
    CHECK(why == "host bits set below the prefix length");
    CHECK_FALSE(Prefix::parse("198.18.0.0/33", &why));
    CHECK(why == "IPv4 prefix length above 32");
    CHECK_FALSE(Prefix::parse("fd00::/129", &why));
    CHECK_FALSE(Prefix::parse("198.18.0.0/", &why));
    CHECK(why == "prefix length is not a number");
    CHECK_FALSE(Prefix::parse("198.18.0.0/1x", &why));
    CHECK_FALSE(Prefix::parse("example.com/8", &why));
    CHECK(why == "not an IPv4 or IPv6 address");
}
