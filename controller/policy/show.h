// The effective policy: every setting, the file's and the defaults it left out, in the
// policy's own keys (`warden policy show`). What it prints loads back to the same policy.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "policy/policy.h"

namespace warden::policy {

// Durations and sizes as the policy writes them ("1h", "10MB"), "forever" for no end.
nlohmann::ordered_json to_json(const Policy& policy);
// The same as YAML, in the order of config/policy.yaml.
std::string to_yaml(const Policy& policy);

}  // namespace warden::policy
