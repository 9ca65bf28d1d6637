// The interfaces section's names and patterns (policy.h: Interfaces).
#include <fnmatch.h>

#include <algorithm>

#include "policy/policy.h"

namespace warden::policy {

bool is_interface_pattern(std::string_view entry) {
    return entry.find_first_of("*?[") != std::string_view::npos;
}

bool interface_matches(std::string_view entry, std::string_view name) {
    if (!is_interface_pattern(entry)) return entry == name;
    return fnmatch(std::string(entry).c_str(), std::string(name).c_str(), 0) == 0;
}

bool Interfaces::is_optional(std::string_view entry) const {
    return std::find(optional.begin(), optional.end(), entry) != optional.end();
}

}  // namespace warden::policy
