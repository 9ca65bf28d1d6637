// The fleet channel's parts that need no broker: the canonical form that is signed, Ed25519
// signatures, the checks of a command, the command-id log and the on-disk queue.
#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <thread>

#include "fleet/agent.h"
#include "fleet/aggregator.h"
#include "fleet/command.h"
#include "fleet/command_log.h"
#include "fleet/outbox.h"
#include "fleet/signing.h"
#include "fleet/transport.h"
#include "support/temp_dir.h"

using namespace warden;
using namespace warden::fleet;
using nlohmann::json;

namespace {

// A fresh Ed25519 key pair written as PEM files, as `openssl genpkey -algorithm ed25519` would.
struct KeyPair {
    test::TempDir dir{"warden-fleet-keys"};
    std::string private_pem, public_pem;
    KeyPair() {
        EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        REQUIRE(key);
        private_pem = (dir.path / "op.key").string();
        public_pem = (dir.path / "op.pub").string();
        FILE* f = std::fopen(private_pem.c_str(), "w");
        REQUIRE(PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
        std::fclose(f);
        f = std::fopen(public_pem.c_str(), "w");
        REQUIRE(PEM_write_PUBKEY(f, key) == 1);
        std::fclose(f);
        EVP_PKEY_free(key);
    }
};

constexpr int64_t kNow = 1'700'000'100'000;

json command(const std::string& id, const std::string& op, json args) {
    return {{"v", 1},           {"id", id},  {"gateway", "gw-1"},     {"issued_ms", kNow - 100'000},
            {"expires_ms", kNow + 500'000}, {"op", op}, {"args", std::move(args)}};
}

}  // namespace

TEST_CASE("the canonical form: sorted keys, compact, UTF-8 as is, the signature left out; as Python writes it") {
    json m{{"v", 1},
           {"id", "c-1"},
           {"gateway", "gw-1"},
           {"issued_ms", 1700000000000},
           {"expires_ms", 1700000600000},
           {"op", "quarantine"},
           {"args", {{"mac", "02:00:00:00:00:01"}, {"reason", "Caf\u00e9 \"cam\"\n\x01/"}}},
           {"sig", "ignored"}};
    // json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False), "sig" removed.
    CHECK(canonical_form(m) ==
          "warden-fleet-v1\n"
          "{\"args\":{\"mac\":\"02:00:00:00:00:01\",\"reason\":\"Caf\u00e9 \\\"cam\\\"\\n\\u0001/\"},"
          "\"expires_ms\":1700000600000,\"gateway\":\"gw-1\",\"id\":\"c-1\",\"issued_ms\":1700000000000,"
          "\"op\":\"quarantine\",\"v\":1}");
    // Fractions have no single way to be written: refused, never signed.
    CHECK_THROWS_AS(canonical_form(json{{"x", 0.5}}), std::invalid_argument);
    CHECK_THROWS_AS(canonical_form(json::array()), std::invalid_argument);
}

TEST_CASE("base64 round trip and bad text") {
    for (std::string s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
        CHECK(base64_decode(base64_encode(s)) == s);
    CHECK(base64_encode("abcd") == "YWJjZA==");
    CHECK_THROWS(base64_decode("YWJjZA="));
    CHECK_THROWS(base64_decode("YW*jZA=="));
}

TEST_CASE("Ed25519: a signed message verifies; any change to it, or another key, does not") {
    KeyPair op, other;
    Key signer = Key::read_private(op.private_pem);
    Key verifier = Key::read_public(op.public_pem);
    json m = signer.sign_message(command("c-1", "quarantine", {{"mac", "02:00:00:00:00:01"}}));
    CHECK(verifier.check_message(m) == "");
    json changed = m;
    changed["args"]["mac"] = "02:00:00:00:00:02";
    CHECK(verifier.check_message(changed).rfind("bad signature", 0) == 0);
    CHECK(Key::read_public(other.public_pem).check_message(m).rfind("bad signature", 0) == 0);
    json unsigned_m = m;
    unsigned_m.erase("sig");
    CHECK(verifier.check_message(unsigned_m).rfind("unsigned", 0) == 0);
    CHECK_THROWS_WITH(verifier.sign("x"), doctest::Contains("public only"));
    CHECK_THROWS_WITH(Key::read_public("/nonexistent/op.pub"), doctest::Contains("/nonexistent/op.pub"));
    CHECK_THROWS_WITH(Key::read_public(op.private_pem), doctest::Contains("not a PEM public key"));
}

TEST_CASE("a command: applied as the core's request, or rejected/expired with the reason") {
    KeyPair op;
    Key signer = Key::read_private(op.private_pem);
    Key key = Key::read_public(op.public_pem);
    auto check = [&](const json& m) { return check_command(m.dump(), key, "gw-1", kNow); };

    auto c = check(signer.sign_message(command("c-1", "quarantine", {{"mac", "02:00:00:00:00:01"}, {"level", "isolate"}})));
    REQUIRE(c.verdict == CheckedCommand::Verdict::apply);
    CHECK(c.request == json{{"op", "quarantine"}, {"mac", "02:00:00:00:00:01"}, {"level", "isolate"}});
    // Priors hold fractions: they travel as the text of their document.
    auto p = check(signer.sign_message(command("c-2", "import_priors", {{"profiles", R"({"types": {"x": 0.5}})"}})));
    REQUIRE(p.verdict == CheckedCommand::Verdict::apply);
    CHECK(p.request["op"] == "import_profiles");
    CHECK(p.request["profiles"]["types"]["x"] == 0.5);
    CHECK(check(signer.sign_message(command("c-2b", "import_priors", {{"profiles", json::object()}}))).reason.find(
              "must be the text") != std::string::npos);
    // Detector settings: the text of a detectors: section, for the control core to check.
    auto d = check(signer.sign_message(
        command("c-2c", "adjust_detectors", {{"settings", R"({"flood": {"frames_per_second": 5000}})"}})));
    REQUIRE(d.verdict == CheckedCommand::Verdict::apply);
    CHECK(d.request == json{{"op", "adjust_detectors"}, {"settings", R"({"flood": {"frames_per_second": 5000}})"}});

    auto reason = [&](const json& m) {
        auto r = check(m);
        CHECK(r.verdict == CheckedCommand::Verdict::rejected);
        return r.reason;
    };
    CHECK(reason(json{{"no", "id"}}).rfind("unsigned", 0) == 0);
    CHECK(check_command("{not json", key, "gw-1", kNow).reason.rfind("malformed", 0) == 0);
    CHECK(reason(command("c-3", "quarantine", {{"mac", "02:00:00:00:00:01"}})).rfind("unsigned", 0) == 0);
    json forged = signer.sign_message(command("c-4", "quarantine", {{"mac", "02:00:00:00:00:01"}}));
    forged["args"]["mac"] = "02:00:00:00:00:09";
    auto f = check(forged);
    CHECK(f.reason.rfind("bad signature", 0) == 0);
    CHECK_FALSE(f.verified);
    CHECK(f.id == "c-4");  // for the ack
    json elsewhere = command("c-5", "quarantine", {{"mac", "02:00:00:00:00:01"}});
    elsewhere["gateway"] = "gw-2";
    CHECK(reason(signer.sign_message(elsewhere)).find("gw-2") != std::string::npos);
    CHECK(reason(signer.sign_message(command("c-6", "detach", json::object()))).find("unknown operation") !=
          std::string::npos);
    // An argument the operation does not take cannot smuggle another operation in.
    CHECK(reason(signer.sign_message(command("c-7", "release", {{"mac", "02:00:00:00:00:01"}, {"op", "block"}})))
              .find("unknown argument \"op\"") != std::string::npos);
    json forever = command("c-8", "quarantine", {{"mac", "02:00:00:00:00:01"}});
    forever["expires_ms"] = kNow + 30ll * 86'400'000;
    CHECK(reason(signer.sign_message(forever)).find("longer than 7 days") != std::string::npos);

    json old = command("c-9", "quarantine", {{"mac", "02:00:00:00:00:01"}});
    old["expires_ms"] = kNow - 5'000;
    auto e = check(signer.sign_message(old));
    CHECK(e.verdict == CheckedCommand::Verdict::expired);
    CHECK(e.reason == "expired 5 s ago");
}

TEST_CASE("the command log: outcomes by id, kept across restarts, the oldest forgotten beyond capacity") {
    test::TempDir dir("warden-fleet-log");
    auto file = dir.path / "fleet-commands.jsonl";
    {
        CommandLog log(file, 3);
        CHECK_FALSE(log.find("a"));
        log.record({"a", "applying", "", 1});
        log.record({"a", "applied", "", 2});
        log.record({"b", "rejected", "not_found: not quarantined", 3});
        log.record_broadcast("bcast/v1/blocklist", 42);
    }
    CommandLog again(file, 3);
    REQUIRE(again.find("a"));
    CHECK(again.find("a")->result == "applied");
    CHECK(again.find("b")->reason == "not_found: not quarantined");
    CHECK(again.size() == 2);
    CHECK(again.broadcast_issued("bcast/v1/blocklist") == 42);
    CHECK(again.broadcast_issued("bcast/v1/priors/camera") == 0);
    again.record({"c", "applied", "", 4});
    again.record({"d", "applied", "", 5});
    CHECK_FALSE(again.find("a"));
    CHECK(again.find("d"));

    // A damaged file is moved aside, not trusted and not fatal.
    std::ofstream(file) << "{\"format\":\"warden-fleet-commands\",\"version\":1}\n{broken\n";
    CommandLog damaged(file, 3);
    CHECK(damaged.size() == 0);
    REQUIRE(damaged.problems().size() == 1);
    CHECK(damaged.problems()[0].find("moved aside") != std::string::npos);
}

TEST_CASE("the queue: leaves on PUBACK in order, survives a restart, resends what was in flight") {
    test::TempDir dir("warden-fleet-queue");
    auto file = dir.path / "fleet-queue.jsonl";
    {
        Outbox box(file, 1 << 20);
        for (int i = 0; i < 3; ++i) box.push("up/v1/gw/events", {{"n", i}}, Priority::must_arrive, false, "event:quarantine");
        auto a = box.next_to_send();
        auto b = box.next_to_send();
        REQUIRE(a);
        REQUIRE(b);
        CHECK(a->seq == 1);
        CHECK(json::parse(a->payload)["seq"] == 1);
        box.sent(a->seq, 11);
        box.sent(b->seq, 12);
        box.acknowledged(12);  // out of order: nothing leaves before the first
        CHECK(box.depth() == 3);
        box.acknowledged(11);
        CHECK(box.depth() == 1);
        box.save_if_due(0);
    }
    Outbox after(file, 1 << 20);
    CHECK(after.depth() == 1);
    auto c = after.next_to_send();
    REQUIRE(c);
    CHECK(json::parse(c->payload)["n"] == 2);
    after.disconnected();
    CHECK(after.next_to_send()->seq == c->seq);  // sent again after a reconnect
    after.push("up/v1/gw/health", json::object(), Priority::routine, false, "health");
    CHECK(after.next_to_send()->seq == 4);  // numbering goes on from the file
}

TEST_CASE("the queue's budget: routine messages dropped oldest first and counted; must-arrive never; one snapshot") {
    test::TempDir dir("warden-fleet-budget");
    Outbox box(dir.path / "q.jsonl", 2'000);
    for (int i = 0; i < 5; ++i) box.push("up/v1/gw/inventory", {{"n", i}}, Priority::snapshot, false, "inventory");
    CHECK(box.depth() == 1);  // only the latest snapshot
    for (int i = 0; i < 40; ++i) box.push("up/v1/gw/health", {{"pad", std::string(100, 'x')}}, Priority::routine, false, "health");
    for (int i = 0; i < 40; ++i)
        box.push("up/v1/gw/events", {{"pad", std::string(100, 'q')}, {"i", i}}, Priority::must_arrive, false, "event:quarantine");
    CHECK(box.dropped().at("health") == 40);
    CHECK_FALSE(box.dropped().count("event:quarantine"));
    int quarantines = 0;
    while (auto m = box.next_to_send())
        if (m->topic == "up/v1/gw/events") CHECK(json::parse(m->payload)["i"] == quarantines++);
    CHECK(quarantines == 40);  // all of them, in order, over the budget rather than lost
}

TEST_CASE("a message the broker refuses: a routine one leaves, counted; a must-arrive one is kept, holding nothing up") {
    test::TempDir dir("warden-fleet-refused");
    auto file = dir.path / "fleet-queue.jsonl";
    {
        Outbox box(file, 1 << 20);
        box.push("up/v1/gw/events", {{"n", 1}}, Priority::must_arrive, false, "event:quarantine");
        box.push("up/v1/gw/health", {{"n", 2}}, Priority::routine, false, "health");
        box.push("up/v1/gw/acks", {{"n", 3}}, Priority::must_arrive, false, "ack");
        box.push("up/v1/gw/health", {{"n", 4}}, Priority::routine, false, "health");
        for (int mid = 1; mid <= 4; ++mid) box.sent(box.next_to_send()->seq, mid);

        auto quarantine = box.refused(1);  // e.g. 0x87, not authorised
        REQUIRE(quarantine);
        CHECK(quarantine->kept);
        CHECK(quarantine->first);
        auto health = box.refused(2);
        REQUIRE(health);
        CHECK_FALSE(health->kept);
        CHECK(health->kind == "health");
        CHECK(health->first);
        CHECK_FALSE(box.refused(4)->first);  // the same kind again: said once
        CHECK_FALSE(box.refused(99));        // not in flight
        box.acknowledged(3);
        // Everything but the refused quarantine record left, though it was first in line.
        CHECK(box.depth() == 1);
        CHECK(box.refused_counts() == std::map<std::string, uint64_t>{{"health", 2}});
        CHECK_FALSE(box.next_to_send());  // not sent again on this connection
        box.save_if_due(0);
    }
    Outbox after(file, 1 << 20);  // a restart, or the next connection, sends it again
    CHECK(after.refused_counts().at("health") == 2);
    auto again = after.next_to_send();
    REQUIRE(again);
    CHECK(json::parse(again->payload)["n"] == 1);
    after.sent(again->seq, 7);
    CHECK(after.refused(7)->first);  // a new run reports it again
    after.disconnected();
    CHECK(after.next_to_send()->seq == again->seq);
}

TEST_CASE("a damaged queue or command log: the bad line costs that line only, the rest is kept and written back") {
    test::TempDir dir("warden-fleet-damaged");
    auto queue = dir.path / "fleet-queue.jsonl";
    std::ofstream(queue) << R"({"format":"warden-fleet-queue","version":1,"next_seq":9,"dropped":{"health":2}})" "\n"
                         << R"({"seq":5,"topic":"up/v1/gw/events","payload":"{}","priority":"must_arrive","kind":"x"})" "\n"
                         << "{broken\n"
                         << R"({"seq":7,"topic":"up/v1/gw/acks","payload":"{}","priority":"must_arrive","kind":"ack"})" "\n";
    Outbox box(queue, 1 << 20);
    CHECK(box.depth() == 2);
    CHECK(box.dropped().at("health") == 2);
    REQUIRE(box.problems().size() == 1);
    CHECK(box.problems()[0].find("fleet-queue.jsonl:3: not JSON") == 0);
    CHECK(box.problems()[0].find("moved aside") != std::string::npos);
    box.save_if_due(0);
    Outbox reread(queue, 1 << 20);
    CHECK(reread.problems().empty());
    CHECK(reread.depth() == 2);
    CHECK(reread.next_to_send()->seq == 5);

    auto log = dir.path / "fleet-commands.jsonl";
    std::ofstream(log) << R"({"format":"warden-fleet-commands","version":1,"broadcasts":{"bcast/v1/blocklist":42}})" "\n"
                       << R"({"id":"a","result":"applied","ms":1})" "\n"
                       << R"({"id":"b"})" "\n"
                       << R"({"id":"c","result":"rejected","reason":"no","ms":3})" "\n";
    CommandLog commands(log);
    CHECK(commands.size() == 2);
    CHECK(commands.find("a"));
    CHECK(commands.find("c")->reason == "no");
    CHECK(commands.broadcast_issued("bcast/v1/blocklist") == 42);
    REQUIRE(commands.problems().size() == 1);
    CHECK(commands.problems()[0].find("fleet-commands.jsonl:3:") == 0);
    CommandLog reread_log(log);  // written back at once
    CHECK(reread_log.problems().empty());
    CHECK(reread_log.size() == 2);
}

namespace {

// A gateway's profile message for one type, from a baseline that saw `samples` windows of
// value v.
json profile_message(const std::string& gateway, const std::string& type, double v, int samples) {
    engine::Baseline b;
    engine::FeatureVector f;
    f.values.fill(v);
    for (int i = 0; i < samples; ++i) {
        std::array<engine::FeatureVector, engine::window_count> by_window;
        by_window.fill(f);
        b.add(by_window, i % 24);
    }
    engine::Profiles p;
    p.types.emplace(type, b);
    return {{"v", 1}, {"gateway", gateway}, {"type", type}, {"profiles", p.to_json()}};
}

}  // namespace

TEST_CASE("the aggregator: a prior from k gateways, exact, unchanged by repeats, kept across restarts") {
    test::TempDir dir("warden-fleet-agg");
    auto state = dir.path / "aggregate.json";
    std::string bytes;
    {
        PriorBook book(state);
        for (int g = 1; g <= 4; ++g) CHECK(book.take("camera", "gw" + std::to_string(g), profile_message("gw" + std::to_string(g), "camera", g, 50)));
        CHECK(book.priors(5).empty());  // fewer than k homes: no prior
        CHECK(book.take("camera", "gw5", profile_message("gw5", "camera", 5, 50)));
        auto priors = book.priors(5);
        REQUIRE(priors.count("camera"));
        CHECK(priors["camera"].homes == 5);
        bytes = priors["camera"].profiles.to_json().dump();
        // The same profile delivered again, and an old one replaced by its repeat: the same bytes.
        CHECK(book.take("camera", "gw3", profile_message("gw3", "camera", 3, 50)));
        CHECK(book.priors(5)["camera"].profiles.to_json().dump() == bytes);
        // A gateway's newer profile replaces its older one; it is never counted twice.
        CHECK(book.take("camera", "gw3", profile_message("gw3", "camera", 3, 80)));
        CHECK(book.priors(5)["camera"].homes == 5);
        CHECK(book.take("camera", "gw3", profile_message("gw3", "camera", 3, 50)));
        // A message for another type, or naming another gateway, is not taken.
        std::string why;
        CHECK_FALSE(book.take("plug", "gw6", profile_message("gw6", "camera", 1, 10), &why));
        CHECK(why.find("no profile of type plug") != std::string::npos);
        CHECK_FALSE(book.take("camera", "gw7", profile_message("gw6", "camera", 1, 10), &why));
        CHECK(book.gateways("camera") == 5);
        book.save();
    }
    PriorBook again(state);
    CHECK(again.priors(5)["camera"].profiles.to_json().dump() == bytes);

    // What goes on the retained topic verifies with the operator's key and imports as priors.
    KeyPair op;
    json m = prior_message("camera", again.priors(5)["camera"], Key::read_private(op.private_pem), kNow);
    auto c = check_command(m.dump(), Key::read_public(op.public_pem), "*", kNow);
    REQUIRE(c.verdict == CheckedCommand::Verdict::apply);
    CHECK(c.request["op"] == "import_profiles");
    CHECK(c.request["profiles"].dump() == bytes);
    // The prior names how many homes it came from: a gateway's evidence says so.
    CHECK(engine::Profiles::from_json(c.request["profiles"]).homes == std::map<std::string, uint64_t>{{"camera", 5}});
}

TEST_CASE("a profile's homes: written when known, summed by a merge, checked when read; a gateway cannot claim any") {
    engine::Profiles a = engine::Profiles::from_json(profile_message("gw1", "camera", 1, 10)["profiles"]);
    CHECK(a.homes.empty());
    CHECK_FALSE(a.to_json().contains("homes"));  // one gateway's export is as it was
    a.homes["camera"] = 3;
    engine::Profiles b = engine::Profiles::from_json(a.to_json());
    CHECK(b == a);
    b.merge(a);
    CHECK(b.homes.at("camera") == 6);
    json bad = a.to_json();
    bad["homes"] = {{"plug", 2}};
    CHECK_THROWS_WITH(engine::Profiles::from_json(bad), doctest::Contains("homes.plug: no profile of that type"));
    bad["homes"] = {{"camera", 0}};
    CHECK_THROWS_WITH(engine::Profiles::from_json(bad), doctest::Contains("homes.camera: expected a whole number"));
    // The aggregator counts homes itself: what a gateway's message says is not taken.
    json claim = profile_message("gw1", "camera", 1, 10);
    claim["profiles"]["homes"] = {{"camera", 1000}};
    PriorBook book("");
    std::string why;
    CHECK_MESSAGE(book.take("camera", "gw1", claim, &why), why);
    CHECK(book.priors(1)["camera"].profiles.homes.at("camera") == 1);
}

TEST_CASE("reconnect waits: doubling from 1 s, jittered, never above the policy's reconnect_max") {
    Backoff capped(5'000);
    int64_t longest = 0;
    for (int i = 0; i < 20; ++i) longest = std::max(longest, capped.next_ms());
    CHECK(longest <= 5'000);
    CHECK(longest >= 2'500);  // the step reached the cap: a wait is at least half of it
    Backoff standard;
    for (int i = 0; i < 20; ++i) CHECK(standard.next_ms() <= 60'000);
    standard.reset();
    CHECK(standard.next_ms() <= 1'000);
}

// A broker that never answers (its SYNs dropped: a listener on loopback whose accept queue is
// full) must not hold the channel's thread: the queue is still saved at once when a quarantine
// comes in, and stopping takes no longer than a loop turn.
TEST_CASE("a broker that does not answer holds up neither the queue's saves nor the stop") {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listener, 0) == 0);
    REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    std::vector<int> fillers;  // fill the accept queue; later SYNs are dropped
    for (int i = 0; i < 3; ++i) {
        int f = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(f, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        fillers.push_back(f);
    }

    KeyPair op;
    test::TempDir dir("warden-fleet-silent");
    policy::Fleet settings;
    settings.enabled = true;
    settings.insecure = true;
    settings.gateway_id = "gw-silent";
    settings.host = "127.0.0.1";
    settings.port = ntohs(addr.sin_port);
    settings.operator_key = op.public_pem;
    auto queue = dir.path / "fleet-queue.jsonl";
    auto agent = std::make_unique<Agent>(settings, queue, dir.path / "fleet-commands.jsonl", Hooks{});
    agent->start();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // connecting by now
    agent->on_event({{"kind", "quarantine"}, {"mac", "02:00:00:00:00:01"}});
    bool saved = false;
    for (int i = 0; i < 40 && !saved; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::ifstream in(queue);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        saved = text.find("02:00:00:00:00:01") != std::string::npos;
    }
    CHECK_MESSAGE(saved, "the quarantine record was not saved within 2 s while the broker did not answer");
    CHECK_FALSE(agent->status().value("connected", true));

    auto began = std::chrono::steady_clock::now();
    auto stopped = std::async(std::launch::async, [&] { agent.reset(); });
    bool quick = stopped.wait_for(std::chrono::seconds(3)) == std::future_status::ready;
    CHECK_MESSAGE(quick, "stopping the channel waited for the broker");
    stopped.wait();  // before the fixture goes (a blocking connect gives up after about 2 min)
    INFO("stopped in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count() << " s");
    for (int f : fillers) close(f);
    close(listener);
}
