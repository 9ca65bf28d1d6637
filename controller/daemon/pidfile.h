// The running controller's pid file in the state dir, held under flock for the process's
// lifetime: a second `warden run` on the same state dir refuses to start, and the CLI can
// tell a live controller from a stale file.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

namespace warden::daemon {

class PidFile {
public:
    // Throws "warden is already running (pid N)" when another process holds it.
    explicit PidFile(const std::string& path);
    ~PidFile();
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;

private:
    std::string path_;
    int fd_ = -1;
};

// The pid of the controller holding this pid file, or nothing if none is running.
std::optional<pid_t> running_controller(const std::string& path);

}  // namespace warden::daemon
