// The control core (control/control.h) without root: the kernel maps are a map in memory that
// can be made to refuse, the state dir a temporary directory that can be made unwritable.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "control/control.h"
#include "store/events_log.h"
#include "store/files.h"
#include "store/owner.h"
#include "support/control_rig.h"
#include "support/temp_dir.h"

using namespace warden;
using nlohmann::json;
using control::Origin;
using Status = control::Result::Status;
namespace fs = std::filesystem;

namespace {

const char* kCamera = "a4:cf:12:00:00:01";
using test::kGatewayMac;
using Rig = test::ControlRig;

control::QuarantineOrder order(const char* mac, std::string reason = "test") {
    control::QuarantineOrder o;
    o.mac = mac;
    o.reason = std::move(reason);
    return o;
}

const control::Who kOperator{Origin::cli, "root"};
const control::Who kDetector{Origin::detector, ""};

}  // namespace

TEST_CASE("quarantine: the state file, then the kernel, then the event; who asked is recorded") {
    Rig r;
    auto res = r.core.quarantine(order(kCamera), kOperator);
    REQUIRE(res.ok());
    CHECK(res.message.find("quarantined a4:cf:12:00:00:01 (isolate, for 1h)") == 0);
    auto disk = r.on_disk();
    REQUIRE(disk.size() == 1);
    CHECK(disk[0].by == "cli:root");
    CHECK(disk[0].origin == "operator");
    CHECK(r.kernel.quarantined.count(*net::Mac::parse(kCamera)));
    auto ev = r.events_of("quarantine");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0]["by"] == "cli:root");
}

TEST_CASE("quarantine: bad requests change nothing, and each says what is wrong") {
    Rig r;
    struct Case {
        control::QuarantineOrder o;
        Status status;
        const char* says;
    };
    auto with = [](control::QuarantineOrder o, auto f) {
        f(o);
        return o;
    };
    std::vector<Case> cases = {
        {order("00:00:00:00:00:00"), Status::invalid, "not a device"},
        {order("ff:ff:ff:ff:ff:ff"), Status::invalid, "multicast"},
        {order(kGatewayMac), Status::refused, "gateway's own MAC"},
        {order("not-a-mac"), Status::invalid, "not a MAC address"},
        {order(kCamera, "bad \xff byte"), Status::invalid, "UTF-8"},
        {order(kCamera, "two\nlines"), Status::invalid, "one line"},
        // A C1 control (U+009B, a terminal's CSI) is valid UTF-8 but no reason: text/text.h decides.
        {order(kCamera, "x\xc2\x9b" "2J"), Status::invalid, "control character U+009B"},
        {order(kCamera, std::string(600, 'x')), Status::invalid, "longer than"},
        {with(order(kCamera), [](auto& o) { o.level = "jail"; }), Status::invalid, "isolate or restricted"},
        {with(order(kCamera), [](auto& o) { o.duration = "soon"; }), Status::invalid, "duration"},
        {with(order(kCamera), [](auto& o) { o.duration = "0s"; }), Status::invalid, "longer than 0s"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.says);
        auto res = r.core.quarantine(c.o, kOperator);
        CHECK(res.status == c.status);
        CHECK(res.message.find(c.says) != std::string::npos);
    }
    CHECK(r.on_disk().empty());
    CHECK(r.kernel.quarantined.empty());
    CHECK(r.events_of("quarantine").empty());
}

TEST_CASE("quarantine: a kernel that refuses leaves the state file as it was") {
    Rig r;
    r.kernel.refuse = true;
    auto res = r.core.quarantine(order(kCamera), kOperator);
    CHECK(res.status == Status::failed);
    CHECK(res.message.find("nothing changed") != std::string::npos);
    CHECK(r.on_disk().empty());
    CHECK(r.core.book().records().empty());
    CHECK(r.events_of("quarantine").empty());
}

TEST_CASE("quarantine: an operator's that cannot be saved changes nothing; a detector's holds and is saved later") {
    Rig r;
    auto jam = r.jam(r.state.quarantine_file());
    auto res = r.core.quarantine(order(kCamera), kOperator);
    CHECK(res.status == Status::failed);
    CHECK(res.message.find("cannot record") != std::string::npos);
    CHECK(r.kernel.quarantined.empty());

    res = r.core.quarantine(order(kCamera, "port_scan: 900 ports"), kDetector);
    CHECK(res.ok());
    REQUIRE(res.warnings.size() == 1);
    CHECK(res.warnings[0].find("not saved") != std::string::npos);
    CHECK(r.kernel.quarantined.count(*net::Mac::parse(kCamera)));
    CHECK(!r.core.save_pending().empty());  // still jammed
    CHECK(!r.core.unsaved_problem().empty());
    fs::remove(jam);
    CHECK(r.core.save_pending().empty());
    REQUIRE(r.on_disk().size() == 1);
    CHECK(r.on_disk()[0].origin == "detector");
}

TEST_CASE("release: recorded first; an entry only the kernel holds is released too; none is not found") {
    Rig r;
    REQUIRE(r.core.quarantine(order(kCamera), kOperator).ok());
    auto res = r.core.release({kCamera, false, std::nullopt, ""}, kOperator);
    REQUIRE(res.ok());
    CHECK(r.on_disk().empty());
    CHECK(r.kernel.quarantined.empty());
    CHECK(r.engine.released_macs.size() == 1);
    auto ev = r.events_of("release");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0]["why"] == "by the operator");

    // A CLI killed after the book but before the kernel: the kernel holds what no record does.
    store::QuarantineRecord stray;
    stray.mac = *net::Mac::parse("a4:cf:12:00:00:02");
    stray.since_ms = store::now_unix_ms();
    r.kernel.put_quarantine(stray);
    CHECK(r.core.release({"a4:cf:12:00:00:02", false, std::nullopt, ""}, kOperator).ok());
    CHECK(r.kernel.quarantined.empty());

    CHECK(r.core.release({kCamera, false, std::nullopt, ""}, kOperator).status == Status::not_found);
}

TEST_CASE("release: a release that cannot be saved changes nothing for an operator") {
    Rig r;
    REQUIRE(r.core.quarantine(order(kCamera), kOperator).ok());
    auto jam = r.jam(r.state.quarantine_file());
    auto res = r.core.release({kCamera, false, std::nullopt, ""}, kOperator);
    CHECK(res.status == Status::failed);
    CHECK(r.kernel.quarantined.size() == 1);
    CHECK(r.on_disk().size() == 1);
    fs::remove(jam);
}

TEST_CASE("false positive: releases and teaches; for an alert-only finding it only teaches") {
    Rig r;
    REQUIRE(r.core.quarantine(order(kCamera), kDetector).ok());
    auto res = r.core.release({kCamera, true, std::string("port_scan"), ""}, kOperator);
    REQUIRE(res.ok());
    CHECK(res.detail["false_positive"]["text"] == "port_scan: threshold raised");
    CHECK(r.kernel.quarantined.empty());
    CHECK(r.engine.taught.size() == 1);
    CHECK(r.engine.released_macs.empty());  // taught, not "may be found again"
    CHECK(r.events_of("false_positive").size() == 1);

    res = r.core.release({"a4:cf:12:00:00:02", true, std::nullopt, ""}, kOperator);
    CHECK(res.ok());
    CHECK(res.detail["released"].is_null());
    CHECK(r.engine.taught.size() == 2);

    CHECK(r.core.release({kCamera, true, std::string("nonsense"), ""}, kOperator).status == Status::invalid);
    CHECK(r.core.release({kCamera, false, std::string("port_scan"), ""}, kOperator).status == Status::invalid);
}

TEST_CASE("block: prefixes that would cut the LAN off the gateway are refused unless forced") {
    Rig r;
    auto block = [&](std::vector<std::string> prefixes, bool force = false) {
        control::BlockOrder o;
        for (auto& p : prefixes) o.items.push_back({p, std::nullopt});
        o.force = force;
        return r.core.block(o, kOperator);
    };
    for (const char* p : {"0.0.0.0/0", "::/0", "198.18.0.1", "198.18.0.0/16", "198.18.0.128/25", "fd00::/8",
                          "198.19.0.0/24"}) {
        CAPTURE(p);
        auto res = block({p});
        CHECK(res.status == Status::refused);
        CHECK(res.message.find("--force") != std::string::npos);
    }
    CHECK(r.kernel.blocked.empty());
    CHECK(r.events_of("block_added").empty());

    auto wide = block({"100.0.0.0/6"});
    CHECK(wide.ok());
    REQUIRE(wide.warnings.size() == 1);
    CHECK(wide.warnings[0].find("very wide") != std::string::npos);

    auto forced = block({"198.18.0.0/24"}, true);
    CHECK(forced.ok());
    CHECK(!forced.warnings.empty());
    CHECK(r.kernel.blocked.count(*net::Prefix::parse("198.18.0.0/24")));

    CHECK(block({"203.0.113.0/24", "nonsense"}).status == Status::invalid);
    CHECK(!r.kernel.blocked.count(*net::Prefix::parse("203.0.113.0/24")));  // all or nothing
}

TEST_CASE("block: a kernel that refuses undoes the whole request, in the kernel and the file") {
    Rig r;
    control::BlockOrder o;
    o.items = {{"203.0.113.0/24", std::nullopt}, {"192.0.2.0/24", std::nullopt}};
    r.kernel.refuse = true;
    CHECK(r.core.block(o, kOperator).status == Status::failed);
    CHECK(r.kernel.blocked.empty());
    blocklist::OperatorList list(r.state);
    list.load();
    CHECK(list.entries().empty());
}

TEST_CASE("unblock: the operator's prefixes only; the policy's are removed in the policy") {
    Rig r;
    control::BlockOrder o;
    o.items = {{"203.0.113.0/24", std::nullopt}};
    REQUIRE(r.core.block(o, kOperator).ok());
    r.kernel.put_block({*net::Prefix::parse("192.0.2.0/24"), WD_BLOCK_OUT, blocklist::kPolicyInline});
    CHECK(r.core.unblock("192.0.2.0/24", kOperator).status == Status::refused);
    CHECK(r.core.unblock("203.0.113.0/24", kOperator).ok());
    CHECK(r.core.unblock("203.0.113.0/24", kOperator).status == Status::not_found);
    CHECK(r.core.unblock("10.0.0.1/8", kOperator).status == Status::invalid);
}

TEST_CASE("reconcile: the kernel is brought in line with the book, both ways") {
    Rig r;
    REQUIRE(r.core.quarantine(order(kCamera), kOperator).ok());
    r.kernel.quarantined.clear();  // e.g. someone deleted it with bpftool
    store::QuarantineRecord stray;
    stray.mac = *net::Mac::parse("a4:cf:12:00:00:02");
    r.kernel.put_quarantine(stray);  // a release that stopped half-way
    auto changes = r.core.reconcile();
    CHECK(changes.size() == 2);
    CHECK(r.kernel.quarantined.count(*net::Mac::parse(kCamera)));
    CHECK(!r.kernel.quarantined.count(stray.mac));
    CHECK(r.events_of("reconciled").size() == 1);
    CHECK(r.core.reconcile().empty());
}

TEST_CASE("load: a damaged book keeps what the kernel still enforces; an intact one does not adopt strays") {
    Rig r;
    store::QuarantineRecord kept;
    kept.mac = *net::Mac::parse(kCamera);
    kept.since_ms = store::now_unix_ms();
    r.state.save_quarantines({kept});
    store::QuarantineRecord stray;
    stray.mac = *net::Mac::parse("a4:cf:12:00:00:02");
    r.kernel.put_quarantine(stray);

    CHECK(r.core.load().empty());
    CHECK(r.core.book().records().size() == 1);

    // A damaged line: that record may be the stray's.
    std::ofstream(r.state.quarantine_file(), std::ios::app) << "{not json\n";
    auto problems = r.core.load();
    CHECK(problems.size() >= 2);
    CHECK(r.core.book().find(stray.mac) != nullptr);
    CHECK(r.on_disk().size() == 2);  // written back, with the kept stray
}

TEST_CASE("expire: due quarantines are released by warden, and the engine is told") {
    Rig r;
    auto o = order(kCamera);
    o.duration = "1s";
    REQUIRE(r.core.quarantine(o, kOperator).ok());
    CHECK(r.core.expire(store::now_unix_ms()).empty());
    auto released = r.core.expire(store::now_unix_ms() + 2'000);
    REQUIRE(released.size() == 1);
    CHECK(r.kernel.quarantined.empty());
    auto ev = r.events_of("release");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0]["why"] == "expired");
    CHECK(ev[0]["by"] == "warden");
}

TEST_CASE("list: a kernel-only entry shows its real time left, marked as not recorded") {
    Rig r;
    store::QuarantineRecord stray;
    stray.mac = *net::Mac::parse(kCamera);
    stray.since_ms = store::now_unix_ms();
    stray.expires_ms = stray.since_ms + 600'000;
    r.kernel.put_quarantine(stray);
    auto list = r.core.list_quarantines().detail["quarantines"];
    REQUIRE(list.size() == 1);
    CHECK(list[0]["recorded"] == false);
    CHECK(list[0]["enforced"] == true);
    int64_t left = list[0]["expires_ms"].get<int64_t>() - store::now_unix_ms();
    CHECK(left > 590'000);
    CHECK(left <= 600'000);
}

TEST_CASE("execute: JSON requests, with the wrong types named") {
    Rig r;
    CHECK(r.core.execute({{"op", "quarantine"}, {"mac", kCamera}, {"duration", "forever"}}, kOperator).ok());
    CHECK(!r.on_disk()[0].expires_ms);
    auto bad = r.core.execute({{"op", "quarantine"}, {"mac", 12}}, kOperator);
    CHECK(bad.status == Status::invalid);
    CHECK(bad.message.find("\"mac\" must be a string") != std::string::npos);
    CHECK(r.core.execute({{"op", "dance"}}, kOperator).status == Status::invalid);
    CHECK(r.core.execute(json::array(), kOperator).status == Status::invalid);
    CHECK(r.core.execute({{"op", "block"}, {"prefixes", json::array({{{"prefix", "203.0.113.0/24"}, {"direction", "out"}}})}},
                         kOperator)
              .ok());
    CHECK(r.kernel.blocked.at(*net::Prefix::parse("203.0.113.0/24")).flags == WD_BLOCK_OUT);
}

TEST_CASE("the operator's blocklist file: a bad line costs that line, and the rest is written back") {
    test::TempDir d;
    store::StateDir state(d.path);
    std::ofstream(state.path_of(store::layout::blocklist)) << "203.0.113.0/24 both\nnot-a-prefix\n192.0.2.0/24 out\n";
    blocklist::OperatorList list(state);
    auto problems = list.load();
    CHECK(problems.size() == 3);  // the line, where the damage went, what was written back
    CHECK(list.entries().size() == 2);
    blocklist::OperatorList again(state);  // the next start
    CHECK(again.load().empty());
    CHECK(again.entries().size() == 2);
    size_t aside = 0;
    for (const auto& e : fs::directory_iterator(d.path))
        aside += e.path().filename().string().find("blocklist.txt.corrupt-") == 0;
    CHECK(aside == 1);
}

TEST_CASE("the cloud's blocklist keeps its version: on disk, across a restart, through local changes") {
    Rig r;
    json list = json::array({{{"prefix", "203.0.113.0/24"}, {"direction", "out"}}});
    REQUIRE(r.core.execute({{"op", "replace_blocklist"}, {"prefixes", list}, {"version", "intel-7"}}, kOperator).ok());
    CHECK(r.core.operator_blocklist().version() == "intel-7");
    CHECK(r.core.execute({{"op", "block"}, {"prefixes", json::array({"192.0.2.0/24"})}}, kOperator).ok());
    CHECK(r.core.operator_blocklist().version() == "intel-7");
    blocklist::OperatorList again(r.state);  // the next start
    CHECK(again.load().empty());
    CHECK(again.version() == "intel-7");
    CHECK(again.entries().size() == 2);
    // A version from outside stays one printable line in the file, whatever it holds.
    REQUIRE(r.core.execute({{"op", "replace_blocklist"}, {"prefixes", list}, {"version", "v8\n198.51.100.0/24 both"}},
                           kOperator)
                .ok());
    blocklist::OperatorList third(r.state);
    CHECK(third.load().empty());
    CHECK(third.entries().size() == 1);
    CHECK(third.version() == "v8\\x0a198.51.100.0/24 both");
}

TEST_CASE("pending requests wait for the engine, oldest first, and are applied once") {
    Rig r;
    control::PendingLearning later(r.state.path());
    later.false_positive(*net::Mac::parse(kCamera), engine::Detector::port_scan, 1);
    later.released(*net::Mac::parse("a4:cf:12:00:00:02"), 2);
    auto done = r.core.apply_pending();
    CHECK(done.size() == 2);
    CHECK(r.engine.taught.size() == 1);
    CHECK(r.engine.released_macs.size() == 1);
    CHECK(r.events_of("false_positive").size() == 1);
    CHECK(r.core.apply_pending().empty());
}

TEST_CASE("state dir owner: a controller excludes commands and controllers; a command only for its moment") {
    test::TempDir d;
    std::string pid_file = (d.path / "warden.pid").string();
    {
        auto cli = store::Owner::try_take(pid_file, store::Owner::Role::cli);
        REQUIRE(cli);
        CHECK(!store::running_controller(pid_file));  // a command is not a controller
        CHECK(!store::Owner::try_take(pid_file, store::Owner::Role::cli));
    }
    store::Owner controller(pid_file, store::Owner::Role::controller);
    CHECK(store::running_controller(pid_file) == getpid());
    CHECK(!store::Owner::try_take(pid_file, store::Owner::Role::cli));
    CHECK_THROWS_WITH_AS(store::Owner(pid_file, store::Owner::Role::controller, std::chrono::milliseconds(0)),
                         doctest::Contains("already running"), std::runtime_error);
}

TEST_CASE("while warden runs the quarantine file is its own: an edit is moved aside and the file written again") {
    Rig r;
    REQUIRE(r.core.quarantine(order(kCamera), kOperator).ok());
    CHECK(r.core.guard_state().empty());
    std::ofstream(r.state.quarantine_file(), std::ios::app) << "more damage\n";
    auto what = r.core.guard_state();
    CHECK(what.find("kept as") != std::string::npos);
    auto disk = r.on_disk();
    REQUIRE(disk.size() == 1);
    CHECK(disk[0].mac == *net::Mac::parse(kCamera));
    CHECK(r.state.load_quarantines().problems.empty());
    fs::remove(r.state.quarantine_file());
    CHECK(r.core.guard_state().find("removed") != std::string::npos);
    CHECK(r.on_disk().size() == 1);
}

TEST_CASE("the operator adjusts detector settings: checked by the policy's reader, all or nothing, kept on disk") {
    test::ControlRig r;
    engine::Config policy;  // the policy's settings: the defaults here
    policy.flood.frames_per_second = 20'000;
    r.core.configure({{}, test::gateway(), policy});
    control::Who cloud{control::Origin::cloud, "cmd:c-1"};
    auto file = r.state.path_of(store::layout::detector_settings);

    auto ok = r.core.execute({{"op", "adjust_detectors"},
                              {"settings", R"({"flood": {"frames_per_second": 5000, "factor": 2.5},
                                              "port_scan": {"action": "alert"}})"}},
                             cloud);
    REQUIRE_MESSAGE(ok.ok(), ok.message);
    REQUIRE(r.engine.detectors);
    CHECK(r.engine.detectors->flood.frames_per_second == 5000);
    CHECK(r.engine.detectors->flood.factor == doctest::Approx(2.5));
    CHECK(r.engine.detectors->port_scan.response.action == engine::Action::alert);
    CHECK(r.engine.detectors->exfiltration.factor == policy.exfiltration.factor);  // not named: the policy's
    REQUIRE(r.events_of("detectors_adjusted").size() == 1);
    CHECK(r.events_of("detectors_adjusted")[0]["by"] == "cloud:cmd:c-1");
    CHECK(std::filesystem::exists(file));

    // One bad value refuses the whole adjustment: nothing of it is taken, nothing written.
    std::string before = store::read_file(file);
    auto bad = r.core.execute({{"op", "adjust_detectors"},
                               {"settings", R"({"lateral": {"peers": 3}, "flood": {"frames_per_second": 0}})"}},
                              cloud);
    CHECK(bad.status == control::Result::Status::invalid);
    CHECK_MESSAGE(bad.message.find("detectors.flood.frames_per_second") != std::string::npos, bad.message);
    CHECK(r.engine.detectors->lateral.peers == policy.lateral.peers);
    CHECK(store::read_file(file) == before);
    auto typo = r.core.execute({{"op", "adjust_detectors"}, {"settings", R"({"flod": {"factor": 3}})"}}, cloud);
    CHECK(typo.status == control::Result::Status::invalid);
    CHECK_MESSAGE(typo.message.find("flood") != std::string::npos, typo.message);  // did you mean
    CHECK(r.core.execute({{"op", "adjust_detectors"}, {"settings", "not json"}}, cloud).status ==
          control::Result::Status::invalid);
    CHECK(r.core.execute({{"op", "adjust_detectors"}, {"settings", R"({"flood": {"factor": 3}})"}}, cloud).ok());
    CHECK(r.events_of("detectors_adjusted").size() == 2);

    // A restart: the adjustments are read back and go over the (new) policy's settings.
    {
        test::FakeEngine engine;
        control::Control again(r.state, r.events, r.kernel, engine, {{}, test::gateway(), policy});
        CHECK(again.load().empty());
        CHECK(again.apply_detector_settings().empty());
        REQUIRE(engine.detectors);
        CHECK(engine.detectors->flood.frames_per_second == 5000);
        CHECK(engine.detectors->flood.factor == doctest::Approx(3));
        CHECK(engine.detectors->port_scan.response.action == engine::Action::alert);
    }

    // null puts a detector back to the policy's; with nothing left, the file goes.
    CHECK(r.core.execute({{"op", "adjust_detectors"}, {"settings", R"({"flood": null, "port_scan": null})"}}, cloud)
              .ok());
    CHECK(r.engine.detectors->flood.frames_per_second == 20'000);
    CHECK_FALSE(std::filesystem::exists(file));
}
