#include "fleet/aggregator.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <unistd.h>

#include <csignal>
#include <fstream>

#include "fleet/topics.h"
#include "fleet/transport.h"
#include "log/log.h"
#include "store/state.h"
#include "store/files.h"

namespace warden::fleet {

using nlohmann::json;

// The state file: {"format": "warden-fleet-aggregate", "version": 1,
// "latest": {type: {gateway: <warden-profiles document of that type>}}}.
PriorBook::PriorBook(std::filesystem::path state_file) : file_(std::move(state_file)) {
    if (file_.empty() || !std::filesystem::exists(file_)) return;
    try {
        json j = json::parse(store::read_file(file_));
        if (j.value("format", "") != "warden-fleet-aggregate" || j.value("version", 0) != 1)
            throw std::invalid_argument("not a warden-fleet-aggregate file of version 1");
        for (const auto& [type, gateways] : j.at("latest").items())
            for (const auto& [gateway, doc] : gateways.items()) latest_[type][gateway] = engine::Profiles::from_json(doc);
    } catch (const std::exception& e) {
        throw std::runtime_error(file_.string() + ": " + e.what());
    }
}

bool PriorBook::take(const std::string& type, const std::string& gateway, const json& payload, std::string* why) {
    auto fail = [&](std::string reason) {
        if (why) *why = std::move(reason);
        return false;
    };
    if (!payload.is_object() || payload.value("v", 0) != 1) return fail("not a v1 profile message");
    if (payload.value("gateway", "") != gateway) return fail("its gateway is not the topic's");
    engine::Profiles p;
    try {
        p = engine::Profiles::from_json(payload.at("profiles"));
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    // Only the topic's type: a gateway cannot write into another type's prior from here.
    auto it = p.types.find(type);
    if (it == p.types.end()) return fail("it holds no profile of type " + type);
    engine::Profiles one;
    one.types.emplace(type, it->second);
    latest_[type][gateway] = std::move(one);
    return true;
}

std::map<std::string, PriorBook::Prior> PriorBook::priors(size_t k) const {
    std::map<std::string, Prior> out;
    for (const auto& [type, by_gateway] : latest_) {
        if (by_gateway.size() < k) continue;
        // In place, in gateway order, as engine::merge does (the same bytes), without a copy
        // of every gateway's profile first: that copy doubled the aggregator's memory.
        Prior& prior = out[type];
        for (const auto& [gw, p] : by_gateway) prior.profiles.merge(p);
        prior.homes = by_gateway.size();
        prior.profiles.homes[type] = by_gateway.size();  // what a gateway's evidence names
    }
    return out;
}

size_t PriorBook::gateways(const std::string& type) const {
    auto it = latest_.find(type);
    return it == latest_.end() ? 0 : it->second.size();
}

void PriorBook::save() const {
    if (file_.empty()) return;
    json latest = json::object();
    for (const auto& [type, by_gateway] : latest_)
        for (const auto& [gw, p] : by_gateway) latest[type][gw] = p.to_json();
    store::write_atomically(file_, json{{"format", "warden-fleet-aggregate"}, {"version", 1}, {"latest", latest}}.dump());
}

json prior_message(const std::string& type, const PriorBook::Prior& prior, const Key& signer, int64_t now_ms) {
    json m{{"v", 1},
           {"id", "prior-" + type + "-" + std::to_string(now_ms)},
           {"gateway", "*"},
           {"issued_ms", now_ms},
           {"expires_ms", now_ms + 7ll * 86'400'000},
           {"op", "import_priors"},
           {"homes", prior.homes},
           {"args", {{"profiles", prior.profiles.to_json().dump()}}}};
    return signer.sign_message(std::move(m));
}

// ---- the MQTT side ----

namespace {

volatile std::sig_atomic_t stop_requested = 0;

struct Aggregator {
    Aggregator(AggregateOptions o, PriorBook b, Key k) : options(std::move(o)), book(std::move(b)), signer(std::move(k)) {}

    AggregateOptions options;
    PriorBook book;
    Key signer;
    bool connected = false;
    bool dirty = false;
    size_t taken = 0, refused = 0;
    std::map<std::string, std::string> published;  // type -> the prior's bytes last published

    static void on_connect(struct mosquitto* mosq, void* self, int rc, int, const mosquitto_property*) {
        auto* a = static_cast<Aggregator*>(self);
        if (rc != 0) {
            log::warn("aggregate: the broker refused the connection: {}", mosquitto_reason_string(rc));
            return;
        }
        a->connected = true;
        if (a->options.types.empty()) {
            mosquitto_subscribe_v5(mosq, nullptr, "prof/v1/+/+", 1, 0, nullptr);
        } else {
            for (const auto& t : a->options.types)
                mosquitto_subscribe_v5(mosq, nullptr, ("prof/v1/" + t + "/+").c_str(), 1, 0, nullptr);
        }
        log::info("aggregate: connected; merging {}", a->options.types.empty() ? std::string("every type") : "a shard");
    }
    static void on_disconnect(struct mosquitto*, void* self, int, const mosquitto_property*) {
        static_cast<Aggregator*>(self)->connected = false;
    }
    static void on_message(struct mosquitto*, void* self, const struct mosquitto_message* m, const mosquitto_property*) {
        auto* a = static_cast<Aggregator*>(self);
        std::string topic = m->topic;
        // prof/v1/<type>/<gateway>
        auto rest = topic.substr(std::min<size_t>(topic.size(), 8));
        auto slash = rest.find('/');
        if (topic.rfind("prof/v1/", 0) != 0 || slash == std::string::npos) return;
        std::string type = rest.substr(0, slash), gateway = rest.substr(slash + 1);
        json payload = json::parse(std::string_view(static_cast<const char*>(m->payload),
                                                    static_cast<size_t>(std::max(0, m->payloadlen))),
                                   nullptr, false);
        std::string why;
        if (a->book.take(type, gateway, payload, &why)) {
            ++a->taken;
            a->dirty = true;
        } else {
            ++a->refused;
            log::warn("aggregate: {}: not taken: {}", topic, why);
        }
    }

    void publish_due(struct mosquitto* mosq, int64_t now) {
        for (const auto& [type, prior] : book.priors(options.min_homes)) {
            std::string bytes = prior.profiles.to_json().dump();
            if (published[type] == bytes) continue;  // unchanged: the retained copy stands
            json m = prior_message(type, prior, signer, now);
            std::string text = m.dump();
            int rc = mosquitto_publish_v5(mosq, nullptr, topics::priors(type).c_str(), static_cast<int>(text.size()),
                                          text.data(), 1, true, nullptr);
            if (rc != MOSQ_ERR_SUCCESS) {
                log::warn("aggregate: publishing the {} prior: {}", type, mosquitto_strerror(rc));
                continue;
            }
            published[type] = bytes;
            log::info("aggregate: published the {} prior ({} homes)", type, prior.homes);
        }
    }
};

}  // namespace

int run_aggregator(const policy::Fleet& broker, const std::string& client_id, const AggregateOptions& options) {
    Aggregator a{options, PriorBook(options.state_file), Key::read_private(options.sign_key)};
    std::signal(SIGINT, [](int) { stop_requested = 1; });
    std::signal(SIGTERM, [](int) { stop_requested = 1; });
    struct mosquitto* mosq = new_client(client_id, true, &a, broker);
    mosquitto_connect_v5_callback_set(mosq, Aggregator::on_connect);
    mosquitto_disconnect_v5_callback_set(mosq, Aggregator::on_disconnect);
    mosquitto_message_v5_callback_set(mosq, Aggregator::on_message);
    Backoff backoff;
    int64_t started = store::now_unix_ms(), next_publish = started + options.every_ms, next_attempt = 0;
    bool session = false;
    while (!stop_requested && (!options.run_for_ms || store::now_unix_ms() - started < options.run_for_ms)) {
        int64_t now = store::now_unix_ms();
        if (!session && now >= next_attempt) {
            session = mosquitto_connect_bind_v5(mosq, broker.host.c_str(), broker.port, 30, nullptr, nullptr) ==
                      MOSQ_ERR_SUCCESS;
            if (!session) next_attempt = now + backoff.next_ms();
        }
        if (session) {
            if (mosquitto_loop(mosq, 100, 1) != MOSQ_ERR_SUCCESS) {
                session = false;
                a.connected = false;
                next_attempt = now + backoff.next_ms();
            } else if (a.connected) {
                backoff.reset();
            }
        } else {
            usleep(100'000);
        }
        if (now >= next_publish) {
            next_publish = now + options.every_ms;
            if (a.dirty) {
                a.book.save();
                a.dirty = false;
            }
            if (a.connected) a.publish_due(mosq, now);
        }
    }
    if (a.dirty) a.book.save();
    if (session) {
        if (a.connected) a.publish_due(mosq, store::now_unix_ms());
        for (int i = 0; i < 10; ++i) mosquitto_loop(mosq, 50, 1);
        mosquitto_disconnect_v5(mosq, MQTT_RC_NORMAL_DISCONNECTION, nullptr);
    }
    mosquitto_destroy(mosq);
    log::info("aggregate: {} profile(s) taken, {} refused", a.taken, a.refused);
    return 0;
}

}  // namespace warden::fleet
