// Notifications (controller/notify): which events become which message, in what words; the
// rate limit and mutes; the retry queue; the webhook and exec channels against real receivers.
#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "notify/channels.h"
#include "notify/message.h"
#include "notify/notifier.h"
#include "notify/outbox.h"
#include "policy/policy.h"
#include "support/temp_dir.h"

using namespace warden;
using nlohmann::json;
using notify::DeviceName;
using notify::Message;
using policy::NotifyKind;

namespace {

constexpr const char* kCamera = "02:00:00:00:00:01";
constexpr int64_t kT0 = 1'790'000'000'000;
const DeviceName kHallCamera{"Hall camera", "camera", "Espressif"};

policy::Notify settings(std::chrono::milliseconds rate_limit = std::chrono::hours(1)) {
    policy::Notify s;
    s.rate_limit = rate_limit;
    policy::NotifyChannel c;
    c.target = "http://127.0.0.1:1/";
    s.channels.push_back(c);
    return s;
}

json propagation_finding(int64_t ms) {
    return {{"kind", "finding"},   {"mac", kCamera},  {"detector", "propagation"}, {"value", 57},
            {"unit", "hosts"},     {"evidence", "57 hosts on 23/2323 in 10 s"},   {"action_taken", "isolate"},
            {"ts_ms", ms}};
}

json detector_quarantine(int64_t ms) {
    return {{"kind", "quarantine"}, {"mac", kCamera}, {"level", "isolate"}, {"origin", "detector"},
            {"by", "detector"}, {"reason", "propagation: 57 hosts"}, {"since_ms", ms}, {"expires_ms", ms + 3'600'000},
            {"ts_ms", ms}};
}

std::vector<Message> attack(notify::Dispatcher& d, int64_t ms) {
    auto none = d.on_event(propagation_finding(ms), kHallCamera, ms);
    CHECK(none.empty());  // the finding waits for the quarantine it causes: one message for both
    return d.on_event(detector_quarantine(ms), kHallCamera, ms);
}

}  // namespace

TEST_CASE("an automatic quarantine is one sentence: the device by name, what it did, what warden did, what next, the link") {
    notify::Dispatcher d(settings(), "http://192.168.1.1:8080/");
    auto out = attack(d, kT0);
    REQUIRE(out.size() == 1);
    const Message& m = out[0];
    CHECK(m.kind == NotifyKind::quarantine);
    CHECK(m.text ==
          "warden cut the Hall camera off for 1 hour: it tried to log into 57 other devices, the way camera botnets "
          "spread. Update its firmware and change its password, then release it: http://192.168.1.1:8080/");
    json body = m.to_json();
    CHECK(body["device"]["mac"] == kCamera);
    CHECK(body["device"]["name"] == "the Hall camera");
    CHECK(body["message"] == m.text);
    CHECK(body["details"]["finding"]["value"] == 57);  // the engine's figures follow as details
    CHECK(Message::from_json(body).text == m.text);
}

TEST_CASE("an unnamed device is described by what warden knows of it") {
    CHECK(notify::device_words({"", "camera", "Espressif"}, kCamera) == "an unnamed Espressif camera (" +
                                                                            std::string(kCamera) + ")");
    CHECK(notify::device_words({}, kCamera) == "an unnamed device (" + std::string(kCamera) + ")");
}

TEST_CASE("one incident is one message, then one summary when its quiet period ends") {
    notify::Dispatcher d(settings(std::chrono::minutes(10)), "");
    REQUIRE(attack(d, kT0).size() == 1);
    // Released and at it again within ten minutes: held, as is a finding while quarantined.
    CHECK(attack(d, kT0 + 60'000).empty());
    json again = propagation_finding(kT0 + 70'000);
    again["action_taken"] = "none";
    CHECK(d.on_event(again, kHallCamera, kT0 + 70'000).empty());
    CHECK(d.tick(kT0 + 9 * 60'000).empty());
    CHECK(d.next_due_ms(kT0 + 9 * 60'000) <= kT0 + 10 * 60'000);
    auto later = d.tick(kT0 + 10 * 60'000);
    std::vector<Message> summaries;
    for (auto& m : later)
        if (m.kind != NotifyKind::digest) summaries.push_back(m);
    REQUIRE(summaries.size() == 1);
    CHECK(summaries[0].text.find("1 more quarantine") != std::string::npos);
    CHECK(summaries[0].text.find("1 more propagation finding") != std::string::npos);
    // The next incident after that is news again.
    CHECK(attack(d, kT0 + 11 * 60'000).size() == 1);
}

TEST_CASE("mutes: a muted device or kind sends nothing; an operator's own quarantine is no news") {
    auto s = settings();
    s.mute_devices.push_back(*net::Mac::parse(kCamera));
    notify::Dispatcher muted_device(s, "");
    CHECK(attack(muted_device, kT0).empty());

    auto k = settings();
    k.mute_kinds.push_back(NotifyKind::quarantine);
    notify::Dispatcher muted_kind(k, "");
    CHECK(attack(muted_kind, kT0).empty());
    CHECK(muted_kind.on_event({{"kind", "new_device"}, {"mac", kCamera}}, {}, kT0).size() == 1);

    notify::Dispatcher d(settings(), "");
    json by_hand = detector_quarantine(kT0);
    by_hand["origin"] = "operator";
    CHECK(d.on_event(by_hand, kHallCamera, kT0).empty());
}

TEST_CASE("alerts, releases and new devices each have their sentence") {
    notify::Dispatcher d(settings(), "http://gw/");
    json alert{{"kind", "finding"}, {"mac", kCamera}, {"detector", "blocklist"}, {"peer", "198.18.64.66"},
               {"action_taken", "alert"}};
    auto a = d.on_event(alert, kHallCamera, kT0);
    REQUIRE(a.size() == 1);
    CHECK(a[0].kind == NotifyKind::alert);
    CHECK(a[0].text.find("the Hall camera") != std::string::npos);
    CHECK(a[0].text.find("198.18.64.66, which is on the blocklist") != std::string::npos);
    auto r = d.on_event({{"kind", "release"}, {"mac", kCamera}, {"why", "expired"}}, kHallCamera, kT0);
    REQUIRE(r.size() == 1);
    CHECK(r[0].text.rfind("The Hall camera is back on the network: its time in quarantine was over. warden keeps", 0) == 0);
    auto n = d.on_event({{"kind", "new_device"}, {"mac", kCamera}, {"interface", "wlan0"}}, {}, kT0);
    REQUIRE(n.size() == 1);
    CHECK(n[0].text.find("A new device joined your network: an unnamed device") == 0);
}

TEST_CASE("new_devices: allow says nothing; restricted_until_approved says the device is held, once") {
    notify::Dispatcher quiet(settings(), "", policy::NewDevices::allow);
    CHECK(quiet.on_event({{"kind", "new_device"}, {"mac", kCamera}}, {}, kT0).empty());
    notify::Dispatcher held(settings(), "http://gw/", policy::NewDevices::restricted_until_approved);
    auto n = held.on_event({{"kind", "new_device"}, {"mac", kCamera}}, {}, kT0);
    REQUIRE(n.size() == 1);
    CHECK(n[0].text.find("holds it at the restricted level") != std::string::npos);
    json hold{{"kind", "quarantine"}, {"mac", kCamera}, {"level", "restricted"}, {"origin", "policy"},
              {"reason", std::string(notify::kNewDeviceReason)}, {"since_ms", kT0}};
    CHECK(held.on_event(hold, {}, kT0).empty());
}

TEST_CASE("the daily digest counts what happened since the last one") {
    notify::Dispatcher d(settings(), "");
    d.tick(kT0);  // sets the next digest
    int64_t due = d.next_due_ms(kT0);
    CHECK(due > kT0);
    CHECK(due <= kT0 + 86'400'000 + 3'600'000);
    attack(d, kT0 + 1000);
    auto out = d.tick(due);
    bool found = false;
    for (const auto& m : out)
        if (m.kind == NotifyKind::digest) {
            found = true;
            CHECK(m.text.find("1 device cut off (the Hall camera)") != std::string::npos);
        }
    CHECK(found);
}

TEST_CASE("the outbox is bounded (the oldest go, counted) and survives a restart") {
    test::TempDir dir;
    auto file = dir.path / "notify-queue.jsonl";
    notify::Dispatcher d(settings(), "");
    Message m = attack(d, kT0).at(0);
    {
        notify::Outbox box(file, 2);
        for (int i = 0; i < 3; ++i) {
            Message copy = m;
            copy.title = "message " + std::to_string(i);
            box.push({"webhook http://x/", copy, 0});
        }
        CHECK(box.entries().size() == 2);
        CHECK(box.dropped() == 1);
        CHECK(box.entries().front().message.title == "message 1");
        box.save();
    }
    notify::Outbox again(file, 10);
    CHECK(again.load().empty());
    REQUIRE(again.entries().size() == 2);
    CHECK(again.entries().back().message.text == m.text);
    CHECK(again.keep_channels({"exec /bin/true"}) == 2);
    again.save();
    CHECK_FALSE(std::filesystem::exists(file));
}

TEST_CASE("a channel that refuses gets its messages later, in order; each channel only the kinds it wants") {
    test::TempDir dir;
    std::mutex mutex;
    bool up = false;
    std::vector<std::string> got_webhook, got_exec;
    auto deliver = [&](const policy::NotifyChannel& c, const Message& m) -> std::string {
        std::lock_guard lock(mutex);
        if (c.type == policy::NotifyChannel::Type::exec) {
            got_exec.push_back(m.title);
            return "";
        }
        if (!up) return "connection refused";
        got_webhook.push_back(m.title);
        return "";
    };
    auto s = settings();
    policy::NotifyChannel hook;
    hook.type = policy::NotifyChannel::Type::exec;
    hook.target = "/bin/true";
    hook.kinds = {NotifyKind::new_device};
    s.channels.push_back(hook);
    notify::Notifier n(dir.path / "q.jsonl", s, "", policy::NewDevices::notify, deliver, {std::chrono::milliseconds(50), std::chrono::milliseconds(100)});
    n.tell({{"kind", "new_device"}, {"mac", kCamera}}, {"TV", "tv", ""});
    n.tell(propagation_finding(kT0), kHallCamera);
    n.tell(detector_quarantine(kT0), kHallCamera);
    auto wait = [&](auto done) {
        for (int i = 0; i < 200 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return done();
    };
    CHECK(wait([&] { return n.figures()["failed_attempts"].get<uint64_t>() >= 1; }));
    // Kept on disk while the receiver is down.
    CHECK(wait([&] { return std::filesystem::exists(dir.path / "q.jsonl"); }));
    {
        std::lock_guard lock(mutex);
        up = true;
    }
    CHECK(wait([&] { return n.figures()["sent"] == 3; }));  // two to the webhook, one to the hook
    CHECK(wait([&] { return !std::filesystem::exists(dir.path / "q.jsonl"); }));
    std::lock_guard lock(mutex);
    CHECK(got_webhook == std::vector<std::string>{"New device: the TV", "The Hall camera cut off"});
    CHECK(got_exec == std::vector<std::string>{"New device: the TV"});
}

TEST_CASE("the webhook POSTs the JSON body to a real HTTP receiver; a refused one says why") {
    httplib::Server server;
    std::string body, type;
    server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
        body = req.body;
        type = req.get_header_value("Content-Type");
        res.status = 200;
    });
    server.Post("/broken", [&](const httplib::Request&, httplib::Response& res) { res.status = 500; });
    int port = server.bind_to_any_port("127.0.0.1");
    std::thread t([&] { server.listen_after_bind(); });
    for (int i = 0; i < 200 && !server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    notify::Dispatcher d(settings(), "http://gw/");
    Message m = attack(d, kT0).at(0);
    policy::NotifyChannel c;
    c.target = "http://127.0.0.1:" + std::to_string(port) + "/hook";
    CHECK(notify::deliver(c, m) == "");
    c.target = "http://127.0.0.1:" + std::to_string(port) + "/broken";
    CHECK(notify::deliver(c, m) == "HTTP 500");
    server.stop();
    t.join();
    CHECK(type == "application/json");
    CHECK(json::parse(body)["message"] == m.text);
    c.target = "http://127.0.0.1:" + std::to_string(port) + "/hook";
    CHECK(notify::deliver(c, m).find("cannot connect") == 0);
}

TEST_CASE("the exec hook gets the JSON on stdin; a failing or hanging hook is reported (and killed)") {
    test::TempDir dir;
    notify::Dispatcher d(settings(), "");
    Message m = attack(d, kT0).at(0);
    policy::NotifyChannel c;
    c.type = policy::NotifyChannel::Type::exec;
    c.target = "/bin/sh";
    auto out = dir.path / "got.json";
    c.args = {"-c", "cat > " + out.string()};
    CHECK(notify::deliver(c, m) == "");
    std::ifstream in(out);
    json got = json::parse(in);
    CHECK(got["message"] == m.text);
    c.args = {"-c", "exit 3"};
    CHECK(notify::deliver(c, m) == "/bin/sh ended with exit status 3");
    c.args = {"-c", "sleep 5"};
    auto started = std::chrono::steady_clock::now();
    CHECK(notify::deliver(c, m, {std::chrono::milliseconds(1000), std::chrono::milliseconds(300)}).find("killed") !=
          std::string::npos);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
}

TEST_CASE("the notify section: channels, kinds, mutes; mistakes named with their place") {
    auto ok = policy::load_text(R"(interfaces: {wan: eth0, lan: [eth1]}
new_devices: restricted_until_approved
notify:
  page_url: http://192.168.1.1:8080/
  rate_limit: 30m
  digest_at: "08:30"
  queue_size: 50
  mute: {devices: ["02:00:00:00:00:01"], kinds: [release]}
  channels:
    - webhook: http://192.168.1.10:8123/api/webhook/warden
      headers: {Authorization: "Bearer abc"}
    - exec: /usr/local/bin/alarm
      args: [--quiet]
      kinds: [quarantine, digest]
)",
                                "p.yaml");
    REQUIRE(ok.policy);
    CHECK(ok.policy->new_devices == policy::NewDevices::restricted_until_approved);
    const auto& n = ok.policy->notify;
    REQUIRE(n.channels.size() == 2);
    CHECK(n.channels[0].wants(NotifyKind::new_device));
    CHECK_FALSE(n.channels[0].wants(NotifyKind::digest));
    CHECK(n.channels[0].headers.at(0).second == "Bearer abc");
    CHECK(n.channels[1].args == std::vector<std::string>{"--quiet"});
    CHECK(n.channels[1].wants(NotifyKind::digest));
    CHECK(n.rate_limit == std::chrono::minutes(30));
    CHECK(n.digest_minute == 8 * 60 + 30);
    CHECK(n.queue_size == 50);
    CHECK(n.muted(*net::Mac::parse("02:00:00:00:00:01"), NotifyKind::alert));
    CHECK(n.muted(*net::Mac::parse("02:00:00:00:00:02"), NotifyKind::release));

    auto bad = policy::load_text(R"(interfaces: {wan: eth0, lan: [eth1]}
new_devices: quarantine
notify:
  digest_at: "25:00"
  channels:
    - webhook: ftp://x/
    - exec: alarm.sh
    - {webhook: "http://x/", exec: /bin/true}
    - webhook: http://x/
      kinds: [quarantine, tea]
)",
                                 "p.yaml");
    CHECK_FALSE(bad.policy);
    std::string all;
    for (const auto& e : bad.errors) all += e.str() + "\n";
    CHECK(all.find("new_devices: expected allow, notify or restricted_until_approved") != std::string::npos);
    CHECK(all.find("p.yaml:4:14: notify.digest_at: expected a time of day HH:MM") != std::string::npos);
    CHECK(all.find("notify.channels[0].webhook: expected an http:// or https:// URL") != std::string::npos);
    CHECK(all.find("notify.channels[1].exec: expected an absolute path") != std::string::npos);
    CHECK(all.find("notify.channels[2]: a channel is either webhook: URL or exec: COMMAND") != std::string::npos);
    CHECK(all.find("notify.channels[3].kinds[1]: expected new_device, quarantine, release, alert or digest") !=
          std::string::npos);
}
