// The fleet benchmark's two halves; scripts/bench-fleet.sh starts the broker and the
// aggregator, runs these, and makes the table.
//
//   bench_fleet publish ...   the load generator: the per-type profiles of N simulated gateways
//                             (each one of H simulated homes of 30 devices, learned for two
//                             simulated hours) on prof/v1/<type>/<gateway>, QoS 1, then waits
//                             for every type's prior with N homes on bcast/v1/priors/<type>.
//   bench_fleet agent ...     a gateway's poll loop for a home of 30 devices (the engine's tick
//                             every second) with the fleet agent on or off, for S seconds.
//   bench_fleet watch ...     counts what reaches the broker from the gateways, by kind.
//
// Each prints one line of key=value results. Broker options: --host --port --ca --cert --key
// (TLS with a client certificate; its CN is the client id).
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <sys/resource.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "daemon/status.h"
#include "engine/engine.h"
#include "fleet/agent.h"
#include "fleet/transport.h"
#include "identity/identity.h"
#include "simulate.h"
#include "store/state.h"

using namespace warden;
using namespace warden::replay;
using nlohmann::json;

namespace {

constexpr size_t kDevicesPerHome = 30;  // five of each simulated kind

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "bench_fleet: %s\nusage: bench_fleet publish --gateways N --homes H --timeout-s T BROKER\n"
                 "       bench_fleet agent --fleet on|off --seconds S --state DIR --operator-key PEM BROKER\n"
                 "       bench_fleet watch --seconds S BROKER\n"
                 "BROKER: --host H --port P --ca PEM --cert PEM --key PEM\n",
                 why.c_str());
    std::exit(2);
}

long rss_kb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

double process_cpu_ms() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// One simulated home: 30 devices learned for `hours` simulated hours by their own engine.
struct Home {
    std::vector<DeviceSim> sims;
    engine::Engine engine;
    int64_t now = week_start_ms;

    Home(uint8_t id, uint64_t seed, int hours) {
        for (size_t i = 0; i < kDevicesPerHome; ++i) {
            Kind k = all_kinds[i % all_kinds.size()];
            sims.emplace_back(k, int(i / all_kinds.size()), seed, Calendar{}, id);
        }
        for (const auto& d : sims) engine.set_type(d.mac(), std::string(to_string(d.kind())));
        std::vector<engine::Finding> findings;
        for (int64_t end = week_start_ms + int64_t(hours) * hour_ms; now < end;) tick(10, findings);
    }
    void tick(int seconds, std::vector<engine::Finding>& findings) {
        now += seconds * 1000;
        for (auto& d : sims) engine.observe(d.mac(), d.tick(now, seconds), findings);
    }
};

policy::Fleet broker_settings(const std::map<std::string, std::string>& a) {
    policy::Fleet f;
    f.enabled = true;
    f.host = a.at("host");
    f.port = uint16_t(std::stoul(a.at("port")));
    f.ca = a.at("ca");
    f.cert = a.at("cert");
    f.key = a.at("key");
    return f;
}

// ---- publish: the load generator ----

struct Publisher {
    std::mutex mutex;
    size_t acked = 0;
    size_t gateways = 0;
    std::set<std::string> types;          // the types whose prior covers every gateway
    std::map<std::string, size_t> homes;  // type -> homes in the latest prior seen
    bool connected = false;
};

int publish(const std::map<std::string, std::string>& a) {
    size_t gateways = std::stoul(a.at("gateways")), homes_n = std::stoul(a.at("homes"));
    double timeout_s = std::stod(a.at("timeout-s"));
    auto made = std::chrono::steady_clock::now();
    std::vector<std::map<std::string, json>> by_home;  // home -> type -> its profile document
    for (size_t h = 0; h < homes_n; ++h) {
        Home home(uint8_t(h), 1 + h, 2);
        auto exported = home.engine.export_profiles();
        std::map<std::string, json> docs;
        for (const auto& [type, baseline] : exported.types) {
            engine::Profiles one;
            one.types.emplace(type, baseline);
            docs[type] = one.to_json();
        }
        by_home.push_back(std::move(docs));
    }
    double simulate_s = seconds_since(made);

    Publisher p;
    p.gateways = gateways;
    mosquitto* mosq = fleet::new_client("loadgen", false, &p, broker_settings(a));
    mosquitto_max_inflight_messages_set(mosq, 1000);
    mosquitto_connect_v5_callback_set(mosq, [](mosquitto* m, void* self, int rc, int, const mosquitto_property*) {
        auto* p = static_cast<Publisher*>(self);
        if (rc) return;
        mosquitto_subscribe_v5(m, nullptr, "bcast/v1/priors/+", 1, 0, nullptr);
        std::lock_guard lock(p->mutex);
        p->connected = true;
    });
    mosquitto_publish_v5_callback_set(mosq, [](mosquitto*, void* self, int, int, const mosquitto_property*) {
        auto* p = static_cast<Publisher*>(self);
        std::lock_guard lock(p->mutex);
        ++p->acked;
    });
    mosquitto_message_v5_callback_set(mosq, [](mosquitto*, void* self, const mosquitto_message* m,
                                               const mosquitto_property*) {
        auto* p = static_cast<Publisher*>(self);
        json j = json::parse(std::string_view(static_cast<const char*>(m->payload), size_t(m->payloadlen)), nullptr,
                             false);
        std::string type = std::string(m->topic).substr(std::strlen("bcast/v1/priors/"));
        std::lock_guard lock(p->mutex);
        p->homes[type] = j.is_object() ? j.value("homes", size_t{0}) : 0;
        if (p->homes[type] >= p->gateways) p->types.insert(type);
    });
    auto settings = broker_settings(a);
    if (int rc = mosquitto_connect_bind_v5(mosq, settings.host.c_str(), settings.port, 30, nullptr, nullptr))
        usage(std::string("cannot connect to the broker: ") + mosquitto_strerror(rc));
    mosquitto_loop_start(mosq);
    auto began = std::chrono::steady_clock::now();
    while (true) {
        {
            std::lock_guard lock(p.mutex);
            if (p.connected) break;
        }
        if (seconds_since(began) > 10) usage("the broker did not accept the connection within 10 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    size_t sent = 0, bytes = 0;
    std::set<std::string> all_types;
    auto started = std::chrono::steady_clock::now();
    for (size_t g = 0; g < gateways && seconds_since(started) < timeout_s; ++g) {
        std::string gw = "gw-" + std::to_string(g);
        for (const auto& [type, doc] : by_home[g % homes_n]) {
            all_types.insert(type);
            std::string payload =
                json{{"v", 1}, {"gateway", gw}, {"type", type}, {"seq", 1}, {"profiles", doc}}.dump();
            std::string topic = "prof/v1/" + type + "/" + gw;
            // QoS 1 with up to 1,000 in flight; libmosquitto queues the rest, so wait when it
            // is far ahead of the broker's acknowledgements.
            while (true) {
                std::lock_guard lock(p.mutex);
                if (sent - p.acked < 5000) break;
                if (seconds_since(started) > timeout_s) break;
                p.mutex.unlock();
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                p.mutex.lock();
            }
            mosquitto_publish_v5(mosq, nullptr, topic.c_str(), int(payload.size()), payload.data(), 1, false, nullptr);
            ++sent;
            bytes += payload.size() + topic.size();
        }
    }
    double publish_s = 0, priors_s = 0;
    bool all_acked = false, all_priors = false;
    while (seconds_since(started) < timeout_s) {
        {
            std::lock_guard lock(p.mutex);
            if (!all_acked && p.acked >= sent) {
                all_acked = true;
                publish_s = seconds_since(started);
            }
            if (p.types.size() >= all_types.size()) {
                all_priors = true;
                priors_s = seconds_since(started);
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    mosquitto_disconnect_v5(mosq, MQTT_RC_NORMAL_DISCONNECTION, nullptr);
    mosquitto_loop_stop(mosq, false);
    mosquitto_destroy(mosq);
    std::printf("gateways=%zu homes=%zu types=%zu messages=%zu message_bytes=%zu simulate_s=%.2f publish_s=%.3f "
                "priors_s=%.3f complete=%d\n",
                gateways, homes_n, all_types.size(), sent, sent ? bytes / sent : 0, simulate_s, publish_s, priors_s,
                int(all_acked && all_priors));
    return all_acked && all_priors ? 0 : 3;
}

// ---- agent: a gateway's cost ----

// What the operator's broker gets from one gateway: bytes (topic and payload) and messages,
// by what they are (the last level of up/v1/<gw>/..., or "profile").
struct Counter {
    std::mutex mutex;
    std::map<std::string, std::pair<uint64_t, uint64_t>> by_kind;  // kind -> {messages, bytes}
};

// A realistic device identity for the inventory (what the identity parsers fill in).
json identity_of(const DeviceSim& d, int64_t now_ms) {
    identity::Identity id;
    static const char* vendors[] = {"Hangzhou Hikvision", "Sonos, Inc.", "LG Electronics", "Espressif Inc.",
                                    "Intel Corporate", "Apple, Inc."};
    size_t k = size_t(d.kind());
    id.vendor = vendors[k];
    id.hostname = std::string(to_string(d.kind())) + "-" + d.mac().str().substr(12);
    id.vendor_class = k == 3 ? "udhcp 1.30.1" : "";
    id.dhcp_fingerprint = "1,3,6,15,28,42,119";
    id.mdns_services = {"_http._tcp"};
    id.dns_names = {"time.example.net", "api." + std::string(to_string(d.kind())) + ".example.com",
                    "cdn.example.org", "telemetry.example.com"};
    id.type = std::string(to_string(d.kind()));
    id.type_source = "rules";
    id.type_score = 40;
    id.type_evidence = {"vendor " + id.vendor, "hostname " + id.hostname};
    id.first_seen_ms = now_ms - 86'400'000;
    id.updated_ms = now_ms - 3'600'000;
    return identity::to_json(id);
}

int agent(const std::map<std::string, std::string>& a) {
    bool on = a.at("fleet") == "on";
    int seconds = std::stoi(a.at("seconds"));
    long rss_start = rss_kb();
    Home home(0x44, 7, 1);
    std::vector<engine::Finding> findings;

    // The loop thread's queue, as the daemon's: the agent's reads run on the poll thread.
    std::mutex queue_mutex;
    std::deque<std::function<void()>> queue;
    auto run_on_loop = [&](std::function<json()> f) {
        auto done = std::make_shared<std::promise<json>>();
        auto result = done->get_future();
        {
            std::lock_guard lock(queue_mutex);
            queue.push_back([f, done] { done->set_value(f()); });
        }
        return result.get();
    };
    int64_t started_ms = store::now_unix_ms();
    uint64_t polls = 0;
    auto read = [&](const std::string& what) -> json {
        return run_on_loop([&, what]() -> json {
            int64_t now = store::now_unix_ms();
            if (what == "health") {
                daemon::StatusInputs in;
                in.started_ms = started_ms;
                in.policy = "/etc/warden/policy.yaml";
                in.pin_dir = "/sys/fs/bpf/warden";
                in.state_dir = "/var/lib/warden";
                in.interval_ms = 1000;
                in.figures.polls = polls;
                in.figures.last_poll_cpu_ms = 0.4;
                in.inventory_devices = kDevicesPerHome;
                in.inventory_limit = 1024;
                daemon::Health health;
                in.health = &health;
                daemon::ReloadOutcome reload;
                in.reload = &reload;
                return daemon::status_json(in);
            }
            if (what == "inventory") {
                json devices = json::array();
                for (size_t i = 0; i < home.sims.size(); ++i) {
                    store::DeviceRecord r;
                    r.mac = home.sims[i].mac();
                    r.first_seen_ms = now - 86'400'000;
                    r.last_seen_ms = now;
                    r.ip4 = home.sims[i].lan();
                    r.identity = identity_of(home.sims[i], now);
                    devices.push_back(store::to_json(r));
                }
                return devices;
            }
            if (what == "profiles") return home.engine.export_profiles().to_json();
            return nullptr;
        });
    };

    std::unique_ptr<fleet::Agent> agent;
    long rss_before_agent = rss_kb();
    if (on) {
        policy::Fleet f = broker_settings(a);
        f.operator_key = a.at("operator-key");
        // The policy's default intervals: health now and every minute, inventory now and
        // every 10 min, the profiles after a minute and every hour.
        std::filesystem::path state = a.at("state");
        fleet::Hooks hooks;
        hooks.execute = [](const json&, const control::Who&) { return control::Result::done("ignored"); };
        hooks.read = read;
        agent = std::make_unique<fleet::Agent>(f, state / "fleet-queue.jsonl", state / "fleet-commands.jsonl", hooks);

    }

    // The poll loop: the engine's tick each second, the queued reads, a routine event a minute
    // (a blocklist hit summarised: the assumed rate of a quiet home).
    double cpu_began = process_cpu_ms();
    if (agent) agent->start();
    auto began = std::chrono::steady_clock::now();
    auto next = began;
    auto drain = [&] {
        while (true) {
            std::function<void()> job;
            {
                std::lock_guard lock(queue_mutex);
                if (queue.empty()) break;
                job = std::move(queue.front());
                queue.pop_front();
            }
            job();
        }
    };
    while (seconds_since(began) < seconds) {
        drain();
        if (std::chrono::steady_clock::now() >= next) {
            next += std::chrono::seconds(1);
            findings.clear();
            home.tick(1, findings);
            ++polls;
            if (agent && polls % 60 == 1)
                agent->on_event({{"kind", "blocklist_hit"}, {"time", "2026-01-01T00:00:00Z"},
                                 {"ts_ms", store::now_unix_ms()}, {"mac", home.sims[3].mac().str()},
                                 {"prefix", "198.51.100.0/24"}, {"direction", "out"}, {"hits", 3}});
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    double cpu_ms = process_cpu_ms() - cpu_began;
    long rss_end = rss_kb();
    json status = agent ? agent->status() : json::object();
    {
        // Stops its thread, which may be waiting for a read on this (the loop) thread.
        std::atomic<bool> stopped{false};
        std::thread stopper([&] {
            agent.reset();
            stopped = true;
        });
        while (!stopped) {
            drain();
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        stopper.join();
    }
    std::printf("fleet=%s seconds=%d polls=%llu cpu_ms=%.1f cpu_ms_per_poll=%.4f rss_start_kb=%ld rss_before_agent_kb=%ld "
                "rss_end_kb=%ld profile_types=%zu connected=%d\n",
                on ? "on" : "off", seconds, static_cast<unsigned long long>(polls), cpu_ms, cpu_ms / double(polls),
                rss_start, rss_before_agent, rss_end, home.engine.export_profiles().types.size(),
                int(status.value("connections", 0) > 0 || !on));
    return 0;
}

// What reaches the broker from the gateways (up/v1/# and prof/v1/#), for `seconds`: a
// process of its own, so that the gateway's figures do not include it.
int watch(const std::map<std::string, std::string>& a) {
    int seconds = std::stoi(a.at("seconds"));
    Counter counter;
    mosquitto* watcher = fleet::new_client("watcher", false, &counter, broker_settings(a));
    mosquitto_connect_v5_callback_set(watcher, [](mosquitto* m, void*, int rc, int, const mosquitto_property*) {
        if (rc) return;
        mosquitto_subscribe_v5(m, nullptr, "up/v1/#", 1, 0, nullptr);
        mosquitto_subscribe_v5(m, nullptr, "prof/v1/#", 1, 0, nullptr);
    });
    mosquitto_message_v5_callback_set(watcher, [](mosquitto*, void* self, const mosquitto_message* m,
                                                  const mosquitto_property*) {
        if (m->retain) return;  // a retained status from before
        std::string topic = m->topic;
        std::string kind = topic.rfind("prof/", 0) == 0 ? "profile" : topic.substr(topic.rfind('/') + 1);
        auto* c = static_cast<Counter*>(self);
        std::lock_guard lock(c->mutex);
        auto& [n, bytes] = c->by_kind[kind];
        ++n;
        bytes += topic.size() + size_t(m->payloadlen);
    });
    auto settings = broker_settings(a);
    if (mosquitto_connect_bind_v5(watcher, settings.host.c_str(), settings.port, 30, nullptr, nullptr))
        usage("the watcher cannot reach the broker");
    mosquitto_loop_start(watcher);
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    std::string kinds;
    {
        std::lock_guard lock(counter.mutex);
        for (const auto& [kind, nb] : counter.by_kind)
            kinds += " sent_" + kind + "_n=" + std::to_string(nb.first) + " sent_" + kind + "_bytes=" +
                     std::to_string(nb.second);
    }
    mosquitto_disconnect_v5(watcher, 0, nullptr);
    mosquitto_loop_stop(watcher, false);
    mosquitto_destroy(watcher);
    std::printf("watched=%d%s\n", seconds, kinds.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) usage("which half: publish or agent");
    std::string mode = argv[1];
    std::map<std::string, std::string> a;
    for (int i = 2; i < argc; ++i) {
        if (std::strncmp(argv[i], "--", 2) || i + 1 >= argc) usage(std::string("bad argument ") + argv[i]);
        a[argv[i] + 2] = argv[i + 1];
        ++i;
    }
    try {
        if (mode == "publish") return publish(a);
        if (mode == "agent") return agent(a);
        if (mode == "watch") return watch(a);
    } catch (const std::out_of_range&) {
        usage("an argument is missing");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_fleet: %s\n", e.what());
        return 1;
    }
    usage("unknown mode " + mode);
}
