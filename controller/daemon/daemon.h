// `warden run`: loads and attaches the programs, restores what must survive, then polls the
// maps every interval (rates, quarantine expiry, inventory, a status snapshot) and reads the
// events ring until SIGTERM. SIGHUP re-reads the policy; an invalid one changes nothing.
#pragma once

#include <optional>
#include <string>

#include "log/log.h"

namespace warden::daemon {

// Command-line settings that win over the policy's.
struct Overrides {
    std::optional<std::string> pin_dir;
    std::optional<std::string> state_dir;
    std::optional<log::Level> log_level;
};

// Returns the process exit code: 0 after a clean stop, 1 when it could not start.
int run(const std::string& config_path, const Overrides& overrides);

}  // namespace warden::daemon
