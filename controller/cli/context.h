// What every subcommand needs: the options common to all, the policy (when there is one)
// and the resolved pin and state dirs (flag > policy > default).
#pragma once

#include <boost/program_options.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace warden::cli {

inline constexpr const char* kDefaultConfig = "/etc/warden/policy.yaml";

// Thrown for bad command-line input: printed with a pointer to --help, exit code 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Context {
    std::string command;  // "devices", "quarantine add", ...
    std::string config = kDefaultConfig;
    bool config_given = false;
    std::optional<std::string> pin_dir_flag, state_dir_flag, log_level_flag;
    bool json = false;
    boost::program_options::variables_map vm;
    std::vector<std::string> positional;

    // The policy, loaded on first use. Missing default file: defaults. A broken file is an
    // error unless both dirs were given as flags.
    const policy::Policy* policy();
    std::string pin_dir();
    std::string state_dir();
    uint64_t events_max_size();
    int events_keep();

private:
    bool policy_loaded_ = false;
    std::optional<policy::Policy> policy_;
};

}  // namespace warden::cli
