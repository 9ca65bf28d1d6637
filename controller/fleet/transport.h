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

// A TCP connection to the broker opened without blocking, to learn that the broker answers
// before libmosquitto connects: its connect waits in the kernel (about two minutes) when
// packets are dropped, and its asynchronous connect cannot carry the MQTT 5 session-expiry
// property the channel needs (libmosquitto 2.0). Once the probe is open, libmosquitto's TCP
// connect completes at once, and its TLS handshake and the CONNACK run in loop turns. The
// name lookup is synchronous (the system resolver's timeouts).
class TcpProbe {
public:
    enum class State { pending, open, failed };
    TcpProbe(const std::string& host, uint16_t port);  // starts connecting; failed at once when it cannot
    ~TcpProbe();
    TcpProbe(const TcpProbe&) = delete;
    TcpProbe& operator=(const TcpProbe&) = delete;

    // Waits at most timeout_ms for the connection; the state after.
    State wait(int timeout_ms);
    const std::string& why() const { return why_; }  // with failed

private:
    int fd_ = -1;
    State state_ = State::pending;
    std::string why_;
};

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
