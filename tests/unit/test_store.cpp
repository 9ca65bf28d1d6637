#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/events_log.h"
#include "store/files.h"
#include "store/state.h"
#include "support/deadline.h"
#include "support/temp_dir.h"
#include "text/text.h"

using namespace warden;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

void write(const fs::path& p, const std::string& text) {
    std::ofstream(p) << text;
}

store::QuarantineRecord record(const char* mac, std::optional<int64_t> expires = std::nullopt) {
    store::QuarantineRecord r;
    r.mac = *net::Mac::parse(mac);
    r.level = text::QuarantineLevel::restricted;
    r.origin = "detector";
    r.reason = "port scan: 900 ports in 10 s";
    r.since_ms = 1'790'000'000'000;
    r.expires_ms = expires;
    return r;
}

}  // namespace

TEST_CASE("write_atomically replaces a file whole and leaves no temp file behind") {
    TempDir d;
    auto f = d.path / "state.json";
    store::write_atomically(f, "first");
    store::write_atomically(f, "second, longer");
    CHECK(store::read_file(f) == "second, longer");
    int files = 0;
    for (auto& e : fs::directory_iterator(d.path)) (void)e, ++files;
    CHECK(files == 1);
}

TEST_CASE("write_atomically into a missing directory fails with the path in the message") {
    TempDir d;
    CHECK_THROWS_WITH_AS(store::write_atomically(d.path / "nope" / "x.json", "x"),
                         doctest::Contains("nope/x.json"), std::runtime_error);
}

TEST_CASE("read_regular_file refuses what is not a regular file, without blocking") {
    TempDir d;
    auto fifo = d.path / "policy.yaml";
    REQUIRE(test::make_fifo(fifo));
    test::Deadline deadline(10);  // opening the FIFO used to wait for a writer, forever
    auto r = store::read_regular_file(fifo);
    CHECK(r.error == "is a FIFO (named pipe), not a file");
    CHECK(r.str(fifo) == fifo.string() + " is a FIFO (named pipe), not a file");
    CHECK_THROWS_WITH_AS(store::read_file(fifo), doctest::Contains("is a FIFO (named pipe), not a file"),
                         std::runtime_error);
    CHECK(store::read_regular_file("/dev/zero").error == "is a device, not a file");
    CHECK(store::read_regular_file(d.path).error == "is a directory, not a file");
    auto missing = store::read_regular_file(d.path / "missing");
    CHECK(missing.error == "does not exist");
    CHECK(missing.errno_value == ENOENT);

    write(d.path / "big", std::string(2000, 'x'));
    CHECK(store::read_regular_file(d.path / "big", 1024).error == "is larger than 1 KiB");
    auto whole = store::read_regular_file(d.path / "big");
    CHECK(whole.ok());
    CHECK(whole.text.size() == 2000);
}

TEST_CASE("a state file that is a directory is named as one, and left where it is") {
    TempDir d;
    store::StateDir state(d.path);
    fs::create_directory(state.inventory_file());
    auto loaded = state.load_inventory();
    REQUIRE(loaded.problems.size() == 1);
    CHECK(loaded.problems[0] == state.inventory_file().string() + " is a directory, not a file");
    CHECK_FALSE(loaded.moved_aside);
    CHECK(fs::is_directory(state.inventory_file()));
}

TEST_CASE("quarantine records round-trip through the state file") {
    TempDir d;
    store::StateDir state(d.path);
    std::vector<store::QuarantineRecord> in = {record("02:00:00:00:00:01"),
                                               record("02:00:00:00:00:02", 1'790'000'900'000)};
    state.save_quarantines(in);
    auto out = state.load_quarantines();
    CHECK(out.problems.empty());
    CHECK_FALSE(out.moved_aside);
    REQUIRE(out.records.size() == 2);
    CHECK(out.records[0].mac == in[0].mac);
    CHECK(out.records[0].level == text::QuarantineLevel::restricted);
    CHECK(out.records[0].origin == "detector");
    CHECK(out.records[0].reason == in[0].reason);
    CHECK_FALSE(out.records[0].expires_ms);
    CHECK(out.records[1].expires_ms == 1'790'000'900'000);
}

TEST_CASE("a damaged state file keeps every valid record, names each bad line and is moved aside") {
    TempDir d;
    store::StateDir state(d.path);
    state.save_quarantines({record("02:00:00:00:00:01"), record("02:00:00:00:00:02")});
    std::string text = store::read_file(state.quarantine_file());
    text += "{\"mac\": \"zz:00:00:00:00:03\", \"level\": \"isolate\", \"since_ms\": 1}\n";
    text += "garbage that is not json\n";
    text += "{\"mac\": \"02:00:00:00:00:04\", \"level\": \"sideways\", \"since_ms\": 1}\n";
    text += "{\"mac\": \"02:00:00:00:00:05\", \"level\": \"isolate\"}\n";
    text += "{\"mac\": \"02:00:00:00:00:06\", \"level\": \"isolate\", \"since_ms\": 5}";  // no newline: truncated write
    write(state.quarantine_file(), text);

    auto out = state.load_quarantines();
    REQUIRE(out.records.size() == 3);  // the two saved ones and the last, complete line
    CHECK(out.records[2].mac == *net::Mac::parse("02:00:00:00:00:06"));
    REQUIRE(out.problems.size() == 4);
    CHECK(out.problems[0].find("quarantine.jsonl:4:") == 0);
    CHECK(out.problems[0].find("bad \"mac\"") != std::string::npos);
    CHECK(out.problems[1].find("quarantine.jsonl:5: not JSON") == 0);
    CHECK(out.problems[2].find("bad \"level\": sideways") != std::string::npos);
    CHECK(out.problems[3].find("since_ms") != std::string::npos);
    REQUIRE(out.moved_aside);
    CHECK(fs::exists(*out.moved_aside));
    CHECK_FALSE(fs::exists(state.quarantine_file()));
    CHECK(store::read_file(*out.moved_aside) == text);  // nothing lost
}

TEST_CASE("a state file without its header is reported but its records are kept") {
    TempDir d;
    store::StateDir state(d.path);
    write(state.quarantine_file(),
          "{\"mac\": \"02:00:00:00:00:01\", \"level\": \"isolate\", \"since_ms\": 1}\n");
    auto out = state.load_quarantines();
    CHECK(out.records.size() == 1);
    REQUIRE(out.problems.size() == 1);
    CHECK(out.problems[0].find("no header") != std::string::npos);
}

TEST_CASE("a missing state file is an empty state, not a problem") {
    TempDir d;
    store::StateDir state(d.path);
    auto q = state.load_quarantines();
    auto i = state.load_inventory();
    CHECK(q.records.empty());
    CHECK(q.problems.empty());
    CHECK(i.records.empty());
    CHECK(i.problems.empty());
}

TEST_CASE("inventory records keep addresses, names and identity") {
    TempDir d;
    store::StateDir state(d.path);
    store::DeviceRecord r;
    r.mac = *net::Mac::parse("a4:cf:12:00:00:01");
    r.first_seen_ms = 1;
    r.last_seen_ms = 2;
    r.ip4 = net::IpAddr::parse("198.18.0.101");
    r.ip6 = net::IpAddr::parse("fd00:1::1");
    r.name = "Living-room camera";
    r.identity = {{"vendor", "Espressif"}};
    state.save_inventory({r});
    auto out = state.load_inventory();
    REQUIRE(out.records.size() == 1);
    CHECK(out.records[0].ip4 == r.ip4);
    CHECK(out.records[0].ip6 == r.ip6);
    CHECK(out.records[0].name == r.name);
    CHECK(out.records[0].identity["vendor"] == "Espressif");
}

TEST_CASE("the events log rotates by size and reads back oldest first across files") {
    TempDir d;
    auto file = d.path / "events.jsonl";
    store::EventLog log(file, 400, 2);
    for (int i = 0; i < 20; ++i) log.append({{"kind", "test"}, {"n", i}});
    CHECK(fs::exists(file));
    CHECK(fs::exists(d.path / "events.jsonl.1"));
    CHECK(fs::exists(d.path / "events.jsonl.2"));
    CHECK_FALSE(fs::exists(d.path / "events.jsonl.3"));
    CHECK(fs::file_size(file) <= 400);
    auto events = store::EventLog::read_all(file, 2);
    REQUIRE(events.size() >= 3);
    CHECK(events.back()["n"] == 19);
    for (size_t i = 1; i < events.size(); ++i) CHECK(events[i]["n"].get<int>() == events[i - 1]["n"].get<int>() + 1);
    CHECK(events.back().contains("time"));
}

TEST_CASE("events log readers skip damaged lines and say so") {
    TempDir d;
    auto file = d.path / "events.jsonl";
    write(file, "{\"kind\":\"a\"}\nnot json\n{\"kind\":\"b\"}\n");
    std::vector<std::string> problems;
    auto events = store::EventLog::read_all(file, 3, &problems);
    CHECK(events.size() == 2);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == "events.jsonl:2: not a JSON event, skipped");
}

TEST_CASE("an events log that exists but cannot be read is an error, not an empty log") {
    TempDir d;
    auto file = d.path / "events.jsonl";
    CHECK(store::EventLog::read_all(file, 3).empty());  // absent: no events yet
    REQUIRE(test::make_fifo(file));
    test::Deadline deadline(10);
    CHECK_THROWS_WITH_AS(store::EventLog::read_all(file, 3),
                         (file.string() + " is a FIFO (named pipe), not a file").c_str(), std::runtime_error);
    // Permission denied says what to do; tests/cli/test_cli.sh checks it as a real other user.
    CHECK(store::permission_hint() == "permission denied (run as root or as a member of the warden group)");
}

TEST_CASE("iso_time prints UTC with milliseconds") {
    CHECK(store::iso_time(0) == "1970-01-01T00:00:00.000Z");
    CHECK(store::iso_time(1'796'011'491'998) == "2026-11-30T04:04:51.998Z");
}

TEST_CASE("an events log that keeps no rotated files starts afresh when full") {
    TempDir d;
    auto file = d.path / "events.jsonl";
    store::EventLog log(file, 300, 0);
    for (int i = 0; i < 10; ++i) log.append({{"kind", "test"}, {"n", i}});
    CHECK_FALSE(fs::exists(d.path / "events.jsonl.1"));
    auto events = store::EventLog::read_all(file, 0);
    REQUIRE_FALSE(events.empty());
    CHECK(events.size() < 10);
    CHECK(events.back()["n"] == 9);
}

TEST_CASE("text read back from state files is made printable: no control byte reaches a terminal") {
    TempDir d;
    store::StateDir state(d.path);
    // A hand-edited line: valid JSON, but its reason would clear the operator's screen.
    write(state.quarantine_file(),
          "{\"format\":\"warden-quarantine\",\"version\":1}\n"
          "{\"mac\":\"02:00:00:00:00:01\",\"level\":\"isolate\",\"reason\":\"x\\u001b[2Jy\",\"since_ms\":1}\n"
          "{\"mac\":\"02:00:00:00:00:02\",\"level\":\"isolate\",\"reason\":\"Caf\xe9\",\"since_ms\":1}\n");
    auto loaded = state.load_quarantines();
    REQUIRE(loaded.records.size() == 1);
    CHECK(loaded.records[0].reason == "x\\x1b[2Jy");
    // The line that is not UTF-8 is not JSON; the parser's message quotes its bytes, escaped.
    REQUIRE(loaded.problems.size() == 1);
    CHECK(loaded.problems[0].find("quarantine.jsonl:3: not JSON") == 0);
    CHECK(text::is_safe(loaded.problems[0]));

    auto events = d.path / "events.jsonl";
    write(events, "{\"kind\":\"finding\",\"evidence\":\"\\u0007bell\",\"list\":[\"\\u001b\"]}\n");
    auto read = store::EventLog::read_all(events, 0);
    REQUIRE(read.size() == 1);
    CHECK(read[0]["evidence"] == "\\x07bell");
    CHECK(read[0]["list"][0] == "\\x1b");
}

TEST_CASE("temporary files of killed writers are removed; a live writer's are not") {
    TempDir d;
    write(d.path / "quarantine.jsonl.tmp.999999999", "half");  // no such pid
    write(d.path / ("inventory.jsonl.tmp." + std::to_string(getpid())), "mine, being written");
    write(d.path / "notes.tmp.txt", "not ours");
    auto removed = store::remove_stale_temp_files(d.path);
    REQUIRE(removed.size() == 1);
    CHECK(removed[0].filename() == "quarantine.jsonl.tmp.999999999");
    CHECK(fs::exists(d.path / ("inventory.jsonl.tmp." + std::to_string(getpid()))));
    CHECK(fs::exists(d.path / "notes.tmp.txt"));
}
