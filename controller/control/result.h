// Who asked for an operation of the control core, and what came of it: the two things every
// surface (CLI, status page, cloud channel, the daemon's detectors) hands in and shows.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace warden::control {

// Where a request came from; recorded in every event as "by".
enum class Origin {
    cli,        // an operator on the gateway (`warden ...`, root)
    page,       // the status page, with the admin token
    household,  // the household, from the status page without the admin token
    cloud,      // the service provider's cloud channel
    detector,   // warden's own behaviour engine
    warden,     // warden itself: expiry, start-up, reconciliation
};

std::string_view origin_name(Origin origin);
std::optional<Origin> parse_origin(std::string_view name);

struct Who {
    Origin origin = Origin::cli;
    std::string user;  // who on that surface, when known: "root", a uid, a command id
};

struct Result {
    enum class Status {
        ok,
        invalid,    // the request itself is wrong (a usage error): nothing changed
        not_found,  // nothing to do: the device is not quarantined, the prefix not blocked
        refused,    // valid but not allowed (it would cut the gateway off, ...): nothing changed
        failed,     // it could not be done (disk full, map full): nothing changed
    };
    Status status = Status::ok;
    std::string message;                 // one sentence for a person
    std::vector<std::string> warnings;   // done, but worth saying
    nlohmann::json detail = nlohmann::json::object();  // the operation's own data

    bool ok() const { return status == Status::ok; }
    // 0 ok, 2 invalid (a usage error), 1 anything else.
    int exit_code() const;

    static Result done(std::string message, nlohmann::json detail = nlohmann::json::object());
    static Result error(Status status, std::string message);

    nlohmann::json to_json() const;
    // Throws std::invalid_argument on a reply that is not a result.
    static Result from_json(const nlohmann::json& j);
};

std::string_view status_name(Result::Status status);

}  // namespace warden::control
