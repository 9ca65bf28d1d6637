#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "text/text.h"

using namespace warden;

TEST_CASE("printable keeps valid UTF-8 and writes every other byte as \\xNN") {
    CHECK(text::printable("plain") == "plain");
    CHECK(text::printable("K\xc3\xbc" "che \xf0\x9f\x93\xb7") == "K\xc3\xbc" "che \xf0\x9f\x93\xb7");
    CHECK(text::printable("tab\there") == "tab\\x09here");
    CHECK(text::printable("\x1b[2J") == "\\x1b[2J");          // a terminal escape
    CHECK(text::printable("Caf\xe9") == "Caf\\xe9");           // Latin-1
    CHECK(text::printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
    CHECK(text::printable("\xc0\xaf") == "\\xc0\\xaf");          // an overlong '/'
    CHECK(text::printable("\xc2\x9b") == "\\xc2\\x9b");          // C1 CSI, which terminals obey
    CHECK(text::printable("\xe2\x82") == "\\xe2\\x82");          // a sequence cut short
    CHECK(text::printable(std::string("a\0b", 3)) == "a\\x00b");
}

TEST_CASE("printable cuts on a character boundary, and printable text stays as it is") {
    CHECK(text::printable("\xe2\x82\xac", 2).empty());  // a 3-byte character does not fit in 2
    CHECK(text::printable("a\xe2\x82\xac", 3) == "a");
    CHECK(text::printable("a\xff", 4) == "a");  // nor does a 4-byte escape in 3
    for (std::string s : {"plain", "Caf\xe9\x1b", "\xf0\x9f\x93\xb7\xff"}) {
        std::string once = text::printable(s);
        CHECK(text::printable(once) == once);
        CHECK(text::is_safe(once));
    }
}

TEST_CASE("first_flaw says what is wrong and where") {
    CHECK_FALSE(text::first_flaw("K\xc3\xbc" "che"));
    auto latin1 = text::first_flaw("Caf\xe9");
    REQUIRE(latin1);
    CHECK(latin1->offset == 3);
    CHECK(latin1->str() == "byte 0xe9 is not valid UTF-8");
    auto escape = text::first_flaw("a\x1b[2J");
    REQUIRE(escape);
    CHECK(escape->offset == 1);
    CHECK(escape->str() == "control character 0x1b (escape)");
    CHECK(text::first_flaw("a\tb")->str() == "a tab");
    CHECK(text::first_flaw("a\nb")->str() == "a line end");
    CHECK(text::first_flaw("\xc2\x85")->str() == "control character U+0085");
    CHECK(text::first_flaw("\x7f")->str() == "control character 0x7f");
    // A YAML file may hold tabs and line ends; still no other control characters.
    CHECK_FALSE(text::first_flaw("a\tb\r\nc", text::Allow::tabs_and_newlines));
    CHECK(text::first_flaw("a\x01", text::Allow::tabs_and_newlines));
}

TEST_CASE("safe text always dumps as JSON; invalid UTF-8 is what makes a dump throw") {
    using nlohmann::json;
    for (std::string s : {"Caf\xe9", "\xed\xa0\x80", "\xc0\xaf", "ok\xff"}) {
        CHECK_THROWS((void)json(s).dump());
        CHECK_NOTHROW((void)json(text::printable(s)).dump());
    }
}

TEST_CASE("printable_strings makes every string of read-back JSON printable, at any depth") {
    nlohmann::json j = {{"reason", "a\x1b[2Jb"}, {"list", {"ok", 1, {{"deep", "\x07"}}}}, {"n", 5}};
    text::printable_strings(j);
    CHECK(j["reason"] == "a\\x1b[2Jb");
    CHECK(j["list"][0] == "ok");
    CHECK(j["list"][2]["deep"] == "\\x07");
    CHECK(j["n"] == 5);
}
