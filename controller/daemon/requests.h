// Requests from operator commands to the running controller. The CLI is a separate process
// and the behaviour engine lives in `warden run`, so a command that needs the engine (a
// false positive, a profile import, "save what you learned") writes a request file into
// <state_dir>/requests/ (atomically: the controller never sees half a file) and sends the
// controller SIGUSR1. The controller handles every pending request at start, on SIGUSR1 and
// at each poll, and deletes each file once handled, which is how the CLI knows it was. A
// request made while the controller is down waits in the directory until it starts: nothing
// is lost, and no second channel (socket, protocol) is needed.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace warden::daemon {

std::filesystem::path requests_dir(const std::filesystem::path& state_dir);

struct Submitted {
    std::filesystem::path file;  // deleted by the controller once handled
    bool signalled = false;      // a running controller was told (SIGUSR1)
};

// Writes {"kind": kind, ...body} as a new request and signals the controller if one runs.
// Throws std::runtime_error when the file cannot be written.
Submitted submit_request(const std::filesystem::path& state_dir, const std::string& kind,
                         nlohmann::json body = nlohmann::json::object());

// Waits until the controller has handled the request (its file is gone); false on timeout.
bool wait_handled(const Submitted& request, std::chrono::milliseconds timeout);

struct Request {
    std::filesystem::path file;
    nlohmann::json body;  // null when the file could not be read or parsed
    std::string problem;  // why, then
};

// Pending requests, oldest first (by name: the names start with the time they were made).
std::vector<Request> pending_requests(const std::filesystem::path& state_dir);

}  // namespace warden::daemon
