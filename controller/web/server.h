// The HTTP listeners: one per address and port. A thread of each reads requests from all
// its connections at once (epoll) and hands only complete ones to two workers, which answer
// through a Router; the same thread writes the answers. A slow or idle client therefore
// holds a connection slot, never a worker: each request must arrive whole within a deadline,
// each client address has a few slots, the listener a bounded number. Bounded requests,
// one request per connection, and no files served from disk.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "net/address.h"
#include "net/interfaces.h"
#include "policy/policy.h"
#include "web/api.h"

namespace warden::web {

struct Endpoint {
    net::IpAddr address;
    uint16_t port = 0;
    std::string device;  // bound to this interface (SO_BINDTODEVICE): only its packets reach it
    bool metrics = false, page = false;

    std::string str() const;  // "198.18.0.1:8080 on br-lan (status page)"
};

// Where to listen, from the policy: "lan" becomes every address of the LAN bridges (or of
// LAN ports outside a bridge), link-local IPv6 aside, each bound to its interface. A metrics
// and a page listener on the same address and port become one. problems says what could
// not be resolved (a LAN without addresses).
std::vector<Endpoint> resolve_endpoints(const policy::Policy& policy, const std::vector<net::Interface>& interfaces,
                                        std::vector<std::string>* problems);

// What one listener allows: these values, listed in the README's "Status page"; tests make them small.
struct ListenerLimits {
    std::chrono::milliseconds request_time{5000};    // the whole request, head and body, from the connect
    std::chrono::milliseconds response_time{10000};  // to write the answer
    size_t connections_per_address = 8;  // open at once from one client address
    size_t connections = 64;             // open at once in all
    size_t max_head = 16 * 1024;         // request line and headers
    size_t max_body = 16 * 1024;         // a quarantine request is a few hundred bytes
    size_t workers = 2;                  // threads answering complete requests
};

class Listener {
public:
    // Binds at once (throws with the reason when it cannot), then serves in threads of its own.
    Listener(const Endpoint& endpoint, std::shared_ptr<const Router> router, ListenerLimits limits = {});
    ~Listener();  // stops and joins
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    const Endpoint& endpoint() const { return endpoint_; }
    uint16_t port() const { return bound_port_; }  // the port bound (useful when asked for 0)

private:
    class Loop;

    Endpoint endpoint_;
    uint16_t bound_port_ = 0;
    std::unique_ptr<Loop> loop_;
};

}  // namespace warden::web
