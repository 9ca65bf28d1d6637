#include "fleet/agent.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstring>

#include "fleet/command.h"
#include "fleet/topics.h"
#include "fleet/transport.h"
#include "log/log.h"
#include "store/state.h"

namespace warden::fleet {

using nlohmann::json;
using control::Result;

namespace {

constexpr int kKeepaliveS = 30;
constexpr size_t kMaxInFlight = 20;
// How long the broker keeps this gateway's session (and the commands queued for it) while
// the gateway is away.
constexpr uint32_t kSessionExpiryS = 7 * 86'400;
// How long the TCP connection may take, and then TLS and MQTT up to the broker's CONNACK,
// before the attempt is given up and tried again after the backoff.
constexpr int64_t kConnectTimeoutMs = 15'000;

int64_t now_ms() { return store::now_unix_ms(); }

// Events that must reach the operator whatever the queue's budget.
bool must_arrive(const std::string& kind) {
    return kind == "quarantine" || kind == "release" || kind == "false_positive" || kind == "block_added" ||
           kind == "block_removed" || kind == "blocklist_replaced" || kind == "profiles_imported" ||
           kind == "detectors_adjusted";
}

}  // namespace

std::string gateway_id_of(const policy::Fleet& settings) {
    if (settings.insecure) return settings.gateway_id;
    FILE* f = std::fopen(settings.cert.c_str(), "r");
    if (!f) throw std::runtime_error(settings.cert + ": cannot open: " + std::strerror(errno));
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!cert) throw std::runtime_error(settings.cert + ": not a PEM certificate");
    char cn[256] = {0};
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    std::string id = n > 0 ? std::string(cn, static_cast<size_t>(n)) : "";
    bool valid = !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
    if (!valid)
        throw std::runtime_error(settings.cert + ": its subject CN \"" + id.substr(0, 64) +
                                 "\" is not a gateway id (1 to 64 letters, digits, '-', '_' or '.')");
    return id;
}

Agent::Agent(const policy::Fleet& settings, std::filesystem::path queue_file, std::filesystem::path commands_file,
             Hooks hooks)
    : settings_(settings),
      hooks_(std::move(hooks)),
      operator_key_(Key::read_public(settings.operator_key)),
      gateway_(gateway_id_of(settings)),
      outbox_(std::move(queue_file), settings.queue_bytes),
      commands_(std::move(commands_file)) {
    for (const auto& p : outbox_.problems()) log::error("fleet: {}", p);
    for (const auto& p : commands_.problems()) log::error("fleet: {}", p);
    // Clean start off: the broker keeps the session, and the commands sent meanwhile, while
    // the gateway is away.
    mosq_ = new_client(gateway_, true, this, settings_);
    mosquitto_connect_v5_callback_set(mosq_, connected_cb);
    mosquitto_disconnect_v5_callback_set(mosq_, disconnected_cb);
    mosquitto_publish_v5_callback_set(mosq_, published_cb);
    mosquitto_message_v5_callback_set(mosq_, message_cb);
    mosquitto_max_inflight_messages_set(mosq_, kMaxInFlight);
    std::string offline = json{{"v", 1}, {"state", "offline"}, {"gateway", gateway_}}.dump();
    mosquitto_will_set_v5(mosq_, topics::status(gateway_).c_str(), static_cast<int>(offline.size()), offline.data(),
                          1, true, nullptr);
}

Agent::~Agent() {
    stopping_ = true;
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (mosq_) mosquitto_destroy(mosq_);
}

void Agent::start() {
    int64_t now = now_ms();
    next_health_ms_ = now;
    next_inventory_ms_ = now;
    next_profiles_ms_ = now + 60'000;  // something learned first
    thread_ = std::thread([this] { run(); });
}

void Agent::on_event(const json& event) {
    std::string kind = event.value("kind", "");
    if (kind == "start" || kind == "stop") return;  // the status topic says as much
    outbox_.push(topics::events(gateway_), {{"v", 1}, {"gateway", gateway_}, {"event", event}},
                 must_arrive(kind) ? Priority::must_arrive : Priority::routine, false, "event:" + kind);
    wake_.notify_all();
}

json Agent::status() const {
    std::lock_guard lock(mutex_);
    json s{{"enabled", true},
           {"gateway", gateway_},
           {"broker", settings_.host + ":" + std::to_string(settings_.port)},
           {"insecure", settings_.insecure},
           {"connected", connected_},
           {"queue_depth", outbox_.depth()},
           {"queue_bytes", outbox_.bytes()},
           {"queue_budget", settings_.queue_bytes},
           {"dropped", outbox_.dropped()},
           {"refused", outbox_.refused_counts()},
           {"sent", {{"messages", sent_messages_}, {"bytes", sent_bytes_}}},
           {"acks", acks_},
           {"connections", reconnects_}};
    if (connected_) s["connected_since_ms"] = connected_since_ms_;
    if (last_ack_ms_) s["last_ack_ms"] = last_ack_ms_;
    if (last_broker_ack_ms_) s["last_broker_ack_ms"] = last_broker_ack_ms_;
    if (!last_error_.empty()) s["last_error"] = last_error_;
    return s;
}

// ---- the thread ----

void Agent::run() {
    Backoff backoff(settings_.reconnect_max.count());
    int64_t next_attempt = 0;
    bool session = false;  // a connection exists (perhaps still being set up)
    std::unique_ptr<TcpProbe> probe;  // before a connection: does the broker answer?
    int64_t probe_began = 0;
    auto give_up = [&](const std::string& why) {
        std::lock_guard lock(mutex_);
        if (last_error_ != why) log::warn("fleet: cannot reach {}:{}: {}", settings_.host, settings_.port, why);
        last_error_ = why;
    };
    while (!stopping_) {
        int64_t now = now_ms();
        if (!session && !probe && now >= next_attempt) {
            probe = std::make_unique<TcpProbe>(settings_.host, settings_.port);
            probe_began = now;
        }
        if (probe) {
            // Waits here (a loop turn of at most 100 ms) rather than in the kernel's connect.
            auto state = probe->wait(100);
            if (state == TcpProbe::State::pending && now_ms() - probe_began > kConnectTimeoutMs) {
                give_up("no answer within " + std::to_string(kConnectTimeoutMs / 1000) + " s");
                state = TcpProbe::State::failed;
            } else if (state == TcpProbe::State::failed) {
                give_up(probe->why());
            }
            if (state == TcpProbe::State::open) session = connect();
            if (state != TcpProbe::State::pending) {
                probe.reset();
                if (!session) next_attempt = now_ms() + backoff.next_ms();
            }
        } else if (session) {
            pump();
            int rc = mosquitto_loop(mosq_, 100, 1);
            int64_t since = connecting_since_ms_;
            if (rc == MOSQ_ERR_SUCCESS && since && now_ms() - since > kConnectTimeoutMs) {
                // It took the TCP connection and never finished TLS or MQTT: the next attempt
                // closes this socket.
                give_up("no CONNACK within " + std::to_string(kConnectTimeoutMs / 1000) + " s");
                rc = MOSQ_ERR_NO_CONN;
            }
            if (rc != MOSQ_ERR_SUCCESS) {
                connecting_since_ms_ = 0;
                {
                    std::lock_guard lock(mutex_);
                    if (connected_) log::warn("fleet: lost the broker: {}", mosquitto_strerror(rc));
                    connected_ = false;
                    if (rc != MOSQ_ERR_NO_CONN || last_error_.empty()) last_error_ = mosquitto_strerror(rc);
                }
                outbox_.disconnected();
                session = false;
                next_attempt = now + backoff.next_ms();
            } else {
                std::lock_guard lock(mutex_);
                if (connected_) backoff.reset();
            }
        } else {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, std::chrono::milliseconds(std::clamp<int64_t>(next_attempt - now, 10, 200)));
        }
        send_due(now_ms());
        try {
            outbox_.save_if_due(now_ms());
        } catch (const std::exception& e) {
            log::error("fleet: cannot save the queue: {}", e.what());
        }
    }
    if (session) {
        std::string offline = json{{"v", 1}, {"state", "offline"}, {"gateway", gateway_}}.dump();
        int mid = 0;
        mosquitto_publish_v5(mosq_, &mid, topics::status(gateway_).c_str(), static_cast<int>(offline.size()),
                             offline.data(), 1, true, nullptr);
        for (int i = 0; i < 10; ++i) mosquitto_loop(mosq_, 50, 1);
        mosquitto_disconnect_v5(mosq_, MQTT_RC_NORMAL_DISCONNECTION, nullptr);
    }
    try {
        outbox_.save_if_due(now_ms(), 0);
    } catch (const std::exception& e) {
        log::error("fleet: cannot save the queue: {}", e.what());
    }
}

// Called once the probe reached the broker, so the TCP connect here completes at once; the
// TLS handshake and the CONNACK follow in mosquitto_loop (its socket is non-blocking by then),
// given up after kConnectTimeoutMs.
bool Agent::connect() {
    mosquitto_property* props = nullptr;
    mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, kSessionExpiryS);
    connecting_since_ms_ = now_ms();
    int rc = mosquitto_connect_bind_v5(mosq_, settings_.host.c_str(), settings_.port, kKeepaliveS, nullptr, props);
    mosquitto_property_free_all(&props);
    if (rc != MOSQ_ERR_SUCCESS) {
        connecting_since_ms_ = 0;
        std::lock_guard lock(mutex_);
        std::string why = rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc);
        if (last_error_ != why) log::warn("fleet: cannot reach {}:{}: {}", settings_.host, settings_.port, why);
        last_error_ = why;
        return false;
    }
    return true;
}

// Hands queued messages to the broker, oldest first, a bounded number in flight.
void Agent::pump() {
    {
        std::lock_guard lock(mutex_);
        if (!connected_) return;
    }
    while (outbox_.in_flight() < kMaxInFlight) {
        auto m = outbox_.next_to_send();
        if (!m) break;
        int mid = 0;
        int rc = mosquitto_publish_v5(mosq_, &mid, m->topic.c_str(), static_cast<int>(m->payload.size()),
                                      m->payload.data(), 1, m->retain, nullptr);
        if (rc != MOSQ_ERR_SUCCESS) {
            outbox_.disconnected();
            break;
        }
        outbox_.sent(m->seq, mid);
        std::lock_guard lock(mutex_);
        ++sent_messages_;
        sent_bytes_ += m->topic.size() + m->payload.size();
    }
}

// Health, inventory and profiles at their intervals, read on the loop thread.
void Agent::send_due(int64_t now) {
    if (!hooks_.read) return;
    auto due = [&](int64_t& next, std::chrono::milliseconds every) {
        if (now < next) return false;
        next = now + every.count();
        return true;
    };
    try {
        if (due(next_health_ms_, settings_.health_every)) {
            json h = hooks_.read("health");
            json fleet = status();
            outbox_.push(topics::health(gateway_), {{"v", 1}, {"gateway", gateway_}, {"health", h}, {"fleet", fleet}},
                         Priority::routine, false, "health");
        }
        if (due(next_inventory_ms_, settings_.inventory_every)) {
            json inv = hooks_.read("inventory");
            outbox_.push(topics::inventory(gateway_), {{"v", 1}, {"gateway", gateway_}, {"devices", inv}},
                         Priority::snapshot, false, "inventory");
        }
        if (due(next_profiles_ms_, settings_.profiles_every)) {
            json p = hooks_.read("profiles");
            if (p.is_object() && p.contains("types") && p["types"].is_object())
                for (const auto& [type, baseline] : p["types"].items()) {
                    json one = p;
                    one["types"] = json{{type, baseline}};
                    outbox_.push(topics::profile(type, gateway_),
                                 {{"v", 1}, {"gateway", gateway_}, {"type", type}, {"profiles", one}},
                                 Priority::snapshot, false, "profile");
                }
        }
    } catch (const std::exception& e) {
        log::warn("fleet: reading a snapshot: {}", e.what());
    }
}

// ---- what comes down ----

void Agent::on_message(const std::string& topic, std::string_view payload) {
    if (topic == topics::commands(gateway_))
        on_command(payload);
    else if (topic == topics::blocklist || topic.rfind("bcast/v1/priors/", 0) == 0)
        on_broadcast(topic, payload);
}

void Agent::ack(const std::string& id, const std::string& result, const std::string& reason, const json& extra) {
    json a{{"v", 1}, {"gateway", gateway_}, {"id", id.empty() ? json(nullptr) : json(id)}, {"result", result},
           {"ms", now_ms()}};
    if (!reason.empty()) a["reason"] = reason;
    a.update(extra);
    outbox_.push(topics::acks(gateway_), a, Priority::must_arrive, false, "ack");
    std::lock_guard lock(mutex_);
    last_ack_ms_ = now_ms();
    ++acks_[result];
}

void Agent::on_command(std::string_view payload) {
    auto c = check_command(payload, operator_key_, gateway_, now_ms());
    // A command that did not verify is acknowledged but never remembered: a forger must not
    // be able to fill the log and push real ids out of it.
    if (c.verdict == CheckedCommand::Verdict::rejected) {
        log::warn("fleet: command {} rejected: {}", c.id.empty() ? "(no id)" : c.id, c.reason);
        if (c.verified) {
            if (auto first = commands_.find(c.id)) {
                ack(c.id, "duplicate", "", {{"first", first->result}});
                return;
            }
            try {
                commands_.record({c.id, "rejected", c.reason, now_ms()});
            } catch (const std::exception& e) {
                log::error("fleet: cannot record command {}: {}", c.id, e.what());
            }
        }
        ack(c.id, "rejected", c.reason);
        return;
    }
    if (auto first = commands_.find(c.id)) {
        json extra{{"first", first->result}};
        if (!first->reason.empty()) extra["first_reason"] = first->reason;
        ack(c.id, "duplicate", "", extra);
        return;
    }
    if (c.verdict == CheckedCommand::Verdict::expired) {
        commands_.record({c.id, "expired", c.reason, now_ms()});
        ack(c.id, "expired", c.reason);
        return;
    }
    // Remembered before it is applied: after a crash half-way its redelivery is a duplicate.
    try {
        commands_.record({c.id, "applying", "", now_ms()});
    } catch (const std::exception& e) {
        ack(c.id, "rejected", std::string("the gateway cannot record the command: ") + e.what());
        return;
    }
    Result r = hooks_.execute(c.request, control::Who{control::Origin::cloud, "cmd:" + c.id});
    std::string result = r.ok() ? "applied" : "rejected";
    std::string reason = r.ok() ? "" : std::string(control::status_name(r.status)) + ": " + r.message;
    try {
        commands_.record({c.id, result, reason, now_ms()});
    } catch (const std::exception& e) {
        log::error("fleet: cannot record the outcome of command {}: {}", c.id, e.what());
    }
    log::info("fleet: command {} ({}): {}{}", c.id, c.request.value("op", ""), result, reason.empty() ? "" : " (" + reason + ")");
    ack(c.id, result, reason, r.ok() ? json{{"message", r.message}} : json::object());
}

// A retained broadcast (the threat-intel blocklist, a type's priors): signed as a command is,
// for gateway "*", and applied only when newer than the one applied last from its topic.
void Agent::on_broadcast(const std::string& topic, std::string_view payload) {
    if (payload.empty()) return;  // a retained message being cleared
    auto c = check_command(payload, operator_key_, "*", now_ms());
    if (c.verdict != CheckedCommand::Verdict::apply) {
        log::warn("fleet: broadcast on {} not applied: {}", topic, c.reason);
        ack(c.id, c.verdict == CheckedCommand::Verdict::expired ? "expired" : "rejected", c.reason, {{"topic", topic}});
        return;
    }
    if (c.issued_ms <= commands_.broadcast_issued(topic)) return;  // applied already (a reconnect's retained copy)
    bool blocklist = topic == topics::blocklist;
    if (blocklist != (c.request.value("op", "") == "replace_blocklist") ||
        (!blocklist && c.request.value("op", "") != "import_profiles")) {
        ack(c.id, "rejected", "this operation is not carried on " + topic, {{"topic", topic}});
        return;
    }
    Result r = hooks_.execute(c.request, control::Who{control::Origin::cloud, "bcast:" + c.id});
    try {
        if (r.ok()) commands_.record_broadcast(topic, c.issued_ms);
    } catch (const std::exception& e) {
        log::error("fleet: cannot record broadcast {}: {}", c.id, e.what());
    }
    log::info("fleet: broadcast {} on {}: {}", c.id, topic, r.ok() ? "applied" : r.message);
    ack(c.id, r.ok() ? "applied" : "rejected", r.ok() ? "" : r.message, {{"topic", topic}});
}

// ---- libmosquitto's callbacks (on this agent's thread, inside mosquitto_loop) ----

void Agent::connected_cb(struct mosquitto* mosq, void* self, int rc, int, const mosquitto_property*) {
    auto* a = static_cast<Agent*>(self);
    a->connecting_since_ms_ = 0;
    if (rc != 0) {
        std::lock_guard lock(a->mutex_);
        a->last_error_ = std::string("the broker refused the connection: ") + mosquitto_reason_string(rc);
        log::warn("fleet: {}", a->last_error_);
        return;
    }
    mosquitto_subscribe_v5(mosq, nullptr, topics::commands(a->gateway_).c_str(), 1, 0, nullptr);
    mosquitto_subscribe_v5(mosq, nullptr, topics::blocklist.c_str(), 1, 0, nullptr);
    mosquitto_subscribe_v5(mosq, nullptr, topics::all_priors.c_str(), 1, 0, nullptr);
    std::string online =
        json{{"v", 1}, {"state", "online"}, {"gateway", a->gateway_}, {"since_ms", now_ms()}}.dump();
    mosquitto_publish_v5(mosq, nullptr, topics::status(a->gateway_).c_str(), static_cast<int>(online.size()),
                         online.data(), 1, true, nullptr);
    std::lock_guard lock(a->mutex_);
    a->connected_ = true;
    a->connected_since_ms_ = now_ms();
    ++a->reconnects_;
    a->last_error_.clear();
    log::info("fleet: connected to {}:{} as {}{} ({} message(s) queued)", a->settings_.host, a->settings_.port,
              a->gateway_, a->settings_.insecure ? " (INSECURE: plain TCP)" : "", a->outbox_.depth());
}

void Agent::disconnected_cb(struct mosquitto*, void* self, int rc, const mosquitto_property*) {
    auto* a = static_cast<Agent*>(self);
    a->outbox_.disconnected();
    std::lock_guard lock(a->mutex_);
    if (a->connected_ && rc != 0) log::warn("fleet: disconnected from the broker ({})", mosquitto_reason_string(rc));
    a->connected_ = false;
}

void Agent::published_cb(struct mosquitto*, void* self, int mid, int reason, const mosquitto_property*) {
    auto* a = static_cast<Agent*>(self);
    if (reason < 0x80) {
        a->outbox_.acknowledged(mid);
        std::lock_guard lock(a->mutex_);
        a->last_broker_ack_ms_ = now_ms();
        return;
    }
    // A refusal (not authorised, quota exceeded, ...) would come again: it must not hold the
    // queue up (docs/FLEET.md, "While the broker is away").
    auto r = a->outbox_.refused(mid);
    if (!r || !r->first) return;
    if (r->kept)
        log::error("fleet: the broker REFUSED a {} message ({}); it is kept and sent again on the next connection: "
                   "check the broker's ACL for {}",
                   r->kind, mosquitto_reason_string(reason), a->gateway_);
    else
        log::warn("fleet: the broker refused a {} message ({}); such messages are dropped and counted as refused "
                  "(logged once)",
                  r->kind, mosquitto_reason_string(reason));
}

void Agent::message_cb(struct mosquitto*, void* self, const struct mosquitto_message* m, const mosquitto_property*) {
    auto* a = static_cast<Agent*>(self);
    try {
        a->on_message(m->topic, std::string_view(static_cast<const char*>(m->payload),
                                                 static_cast<size_t>(std::max(0, m->payloadlen))));
    } catch (const std::exception& e) {
        log::error("fleet: handling a message on {}: {}", m->topic, e.what());
    }
}

}  // namespace warden::fleet
