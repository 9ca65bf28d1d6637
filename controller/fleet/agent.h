// The gateway's side of the operator's channel (docs/FLEET.md): one thread of its own that
// keeps an MQTT 5 session with the operator's broker (mutual TLS; reconnecting with jittered
// exponential backoff), sends status, events, inventory, health, per-type profiles and acks
// from an on-disk queue (fleet/outbox.h), and hands the operator's signed commands to the
// control core. It reaches the rest of warden only through two functions the daemon gives
// it, both run on the loop thread: the control core's execute() (as origin cloud) and a read
// of a snapshot. A slow or absent broker therefore never slows the poll.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "control/result.h"
#include "fleet/command_log.h"
#include "fleet/outbox.h"
#include "fleet/signing.h"
#include "policy/policy.h"

struct mosquitto;
struct mosquitto_message;
struct mqtt5__property;

namespace warden::fleet {

struct Hooks {
    // The control core's execute(), on the loop thread; a failure to get there is a Result too.
    std::function<control::Result(const nlohmann::json& request, const control::Who& who)> execute;
    // A snapshot, on the loop thread: "health", "inventory" or "profiles"; null when none.
    std::function<nlohmann::json(const std::string& what)> read;
};

// The gateway id: the CN of the client certificate (or the policy's gateway_id when insecure).
// Throws std::runtime_error naming the file and the problem.
std::string gateway_id_of(const policy::Fleet& settings);

class Agent {
public:
    // Reads the operator's key, the gateway id, the queue and the command log; throws with a
    // message naming what is wrong. Nothing is sent before start().
    Agent(const policy::Fleet& settings, std::filesystem::path queue_file, std::filesystem::path commands_file,
          Hooks hooks);
    ~Agent();
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    void start();
    // Any thread, must not block: an event of the events log (store::EventLog::observe).
    void on_event(const nlohmann::json& event);
    // For `warden status` and metrics: connected, broker, last ack, queue depth, drops, what
    // was sent and refused, the acks by result (docs/FLEET.md, `warden fleet status`).
    nlohmann::json status() const;
    const std::string& gateway() const { return gateway_; }

private:
    void run();
    bool connect();
    void pump();
    void send_due(int64_t now_ms);
    void on_message(const std::string& topic, std::string_view payload);
    void on_command(std::string_view payload);
    void on_broadcast(const std::string& topic, std::string_view payload);
    void ack(const std::string& id, const std::string& result, const std::string& reason,
             const nlohmann::json& extra = nlohmann::json::object());

    static void connected_cb(struct mosquitto*, void* self, int rc, int flags, const mqtt5__property*);
    static void disconnected_cb(struct mosquitto*, void* self, int rc, const mqtt5__property*);
    static void published_cb(struct mosquitto*, void* self, int mid, int reason, const mqtt5__property*);
    static void message_cb(struct mosquitto*, void* self, const struct mosquitto_message*, const mqtt5__property*);

    policy::Fleet settings_;
    Hooks hooks_;
    Key operator_key_;
    std::string gateway_;
    Outbox outbox_;
    CommandLog commands_;
    struct mosquitto* mosq_ = nullptr;

    std::thread thread_;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;  // guards what status() reads
    std::condition_variable wake_;
    bool connected_ = false;
    int64_t connected_since_ms_ = 0;
    int64_t last_ack_ms_ = 0;          // the last ack of a command this gateway sent
    int64_t last_broker_ack_ms_ = 0;   // the broker's last PUBACK
    uint64_t sent_messages_ = 0, sent_bytes_ = 0;  // handed to the broker (topic and payload), resends too
    std::map<std::string, uint64_t> acks_;         // the acks this gateway sent, by result
    std::atomic<int64_t> connecting_since_ms_{0};  // 0: not waiting for a CONNACK
    std::string last_error_;
    uint64_t reconnects_ = 0;
    int64_t next_health_ms_ = 0, next_inventory_ms_ = 0, next_profiles_ms_ = 0;
};

}  // namespace warden::fleet
