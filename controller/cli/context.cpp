#include "cli/context.h"

#include <filesystem>

namespace warden::cli {

const policy::Policy* Context::policy() {
    if (policy_loaded_) return policy_ ? &*policy_ : nullptr;
    policy_loaded_ = true;
    if (!config_given && !std::filesystem::exists(config)) return nullptr;
    auto result = policy::load_file(config);
    if (result.policy) {
        policy_ = std::move(result.policy);
        return &*policy_;
    }
    if (pin_dir_flag && state_dir_flag) return nullptr;  // the flags say all we need
    std::string msg = "cannot use the policy " + config + ":";
    for (const auto& e : result.errors) msg += "\n  " + e.str();
    msg += "\n(fix it, or pass --pin-dir and --state-dir)";
    throw std::runtime_error(msg);
}

std::string Context::pin_dir() {
    if (pin_dir_flag) return *pin_dir_flag;
    auto* p = policy();
    return p ? p->paths.pin_dir : policy::Paths{}.pin_dir;
}

std::string Context::state_dir() {
    if (state_dir_flag) return *state_dir_flag;
    auto* p = policy();
    return p ? p->paths.state_dir : policy::Paths{}.state_dir;
}

uint64_t Context::events_max_size() {
    auto* p = state_dir_flag && pin_dir_flag ? nullptr : policy();
    return p ? p->events_log.max_size : policy::EventsLog{}.max_size;
}

int Context::events_keep() {
    auto* p = state_dir_flag && pin_dir_flag ? nullptr : policy();
    return static_cast<int>(p ? p->events_log.keep : policy::EventsLog{}.keep);
}

}  // namespace warden::cli
