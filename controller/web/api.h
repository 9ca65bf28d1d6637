// What the HTTP listeners answer, independent of the HTTP library: the status page (static
// files), its JSON API, and /metrics. Reads are open to whoever can reach the listener;
// changes (quarantine, release) need the admin token and must not come from another site.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/result.h"
#include "policy/policy.h"
#include "web/http.h"
#include "web/snapshot.h"

namespace warden::web {

// What the API reads and changes. The controller's is a SnapshotBox and the control core
// (control/control.h), reached through the controller's loop; tests use a fake.
class Source {
public:
    virtual ~Source() = default;
    // The latest poll's snapshot; null before the first poll.
    virtual std::shared_ptr<const Snapshot> snapshot() const = 0;
    // An operation of the control core ({"op": "quarantine", ...}), asked from the page.
    virtual control::Result submit(const nlohmann::json& request) = 0;
};

struct RouterSettings {
    bool metrics = false;  // serve /metrics
    bool page = false;     // serve the status page and /api
    std::string token;     // the admin token
    std::vector<std::string> hostnames;  // extra Host names the page answers to
};

class Router {
public:
    Router(Source& source, RouterSettings settings);
    Response handle(const Request& request) const;

private:
    Response route(const Request& request) const;
    Response change(const Request& request) const;
    Response add_quarantine(const Request& request) const;
    Response release(const std::string& mac_text) const;
    nlohmann::json summary(const Snapshot& snapshot) const;

    Source& source_;
    RouterSettings settings_;
};

// Whether a Host header names this gateway in a way a rebinding attacker's domain cannot:
// an IP literal, localhost, one label ("gateway"), a local suffix (.lan, .home.arpa, .local,
// .internal, .localdomain), or one of the policy's hostnames. The port is ignored.
bool host_allowed(const std::string& host, const std::vector<std::string>& hostnames);

// Why a state-changing request must be refused as cross-site, or "" when it may proceed:
// a Sec-Fetch-Site other than same-origin, or an Origin that is not this Host.
std::string cross_site_reason(const Request& request);

}  // namespace warden::web
