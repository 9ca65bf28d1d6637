// The HTTP listeners (cpp-httplib): one per address and port, each with its own accept
// thread and a pool of two workers, answering through a Router. Bounded requests (16 KiB
// bodies, 8 KiB header lines), short timeouts, and no files served from disk.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/address.h"
#include "net/interfaces.h"
#include "policy/policy.h"
#include "web/api.h"

namespace httplib {
class Server;
}

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

class Listener {
public:
    // Binds at once (throws with the reason when it cannot), then serves in its own thread.
    Listener(const Endpoint& endpoint, std::shared_ptr<const Router> router);
    ~Listener();  // stops and joins
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    const Endpoint& endpoint() const { return endpoint_; }
    uint16_t port() const { return bound_port_; }  // the port bound (useful when asked for 0)

private:
    Endpoint endpoint_;
    std::shared_ptr<const Router> router_;
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    std::atomic<bool> finished_{false};
    uint16_t bound_port_ = 0;
};

}  // namespace warden::web
