// Who owns the state dir's durable files now: the running controller for its whole life, or
// one CLI command while no controller runs. Ownership is an flock held on the pid file
// (store/layout.h), which also names the owner ("PID controller" or "PID cli"), so a second
// `warden run` refuses to start, the CLI can tell a live controller from a stale file, and a
// command run while warden is stopped cannot race a controller that is starting.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>

namespace warden::store {

class Owner {
public:
    enum class Role { controller, cli };

    // Takes ownership, waiting up to `wait` while a CLI command holds it (they are short).
    // Throws "warden is already running (pid N)" when a controller holds it.
    Owner(const std::string& pid_file, Role role, std::chrono::milliseconds wait = std::chrono::seconds(3));
    ~Owner();
    Owner(const Owner&) = delete;
    Owner& operator=(const Owner&) = delete;

    // Ownership now, or nothing when someone else holds it (no waiting).
    static std::optional<Owner> try_take(const std::string& pid_file, Role role);

    Owner(Owner&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_), role_(other.role_) { other.fd_ = -1; }

private:
    Owner(std::string path, int fd, Role role) : path_(std::move(path)), fd_(fd), role_(role) {}
    void write_pid();

    std::string path_;
    int fd_ = -1;
    Role role_;
};

// The pid of the controller owning this state dir, or nothing if none runs (a CLI command
// owning it for a moment is not a controller).
std::optional<pid_t> running_controller(const std::string& pid_file);

}  // namespace warden::store
