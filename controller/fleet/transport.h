// How a fleet client reaches the broker, shared by the gateway's agent and the operator's
// aggregator: libmosquitto set up once, MQTT 5, mutual TLS from the policy's fleet settings
// (or plain TCP with insecure, said loudly), and the reconnect delay with jitter.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>

#include "policy/policy.h"

struct mosquitto;

namespace warden::fleet {

// A new client with id client_id and `owner` as its callbacks' user data; TLS (or not) as
// settings say. Throws std::runtime_error naming the files when TLS cannot be set up.
struct mosquitto* new_client(const std::string& client_id, bool keep_session, void* owner,
                             const policy::Fleet& settings);

// Exponential backoff from 1 s to 60 s with full jitter: gateways that lost the broker
// together do not come back together.
class Backoff {
public:
    // Steps from 1 s up to max_ms (the policy's fleet.reconnect_max).
    explicit Backoff(int64_t max_ms = 60'000) : max_ms_(std::max(max_ms, kFirstMs)) {}
    // How long to wait before the next attempt; each call doubles the step.
    int64_t next_ms();
    void reset() { step_ms_ = kFirstMs; }

private:
    static constexpr int64_t kFirstMs = 1'000;
    int64_t max_ms_;
    int64_t step_ms_ = kFirstMs;
    std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace warden::fleet
