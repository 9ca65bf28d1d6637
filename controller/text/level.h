// The quarantine levels. One type from the kernel map to the events log, the state files,
// the policy, the CLI and the page: its values are the kernel's (include/warden/abi.h), so
// a level goes into a map entry as it is, and its names below are the only spelling of it
// in files, events, flags and JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "warden/abi.h"

namespace warden::text {

enum class QuarantineLevel : uint32_t {
    restricted = WD_LEVEL_RESTRICTED,  // only what a device needs to be told and to ask for help
    isolate = WD_LEVEL_ISOLATE,        // nothing passes
};

// "isolate" | "restricted"
constexpr std::string_view name(QuarantineLevel level) {
    return level == QuarantineLevel::isolate ? "isolate" : "restricted";
}
std::optional<QuarantineLevel> parse_quarantine_level(std::string_view name);

// A kernel map entry's level; nullopt for WD_LEVEL_NONE or a value this build does not know.
std::optional<QuarantineLevel> level_of_kernel(uint32_t value);
inline uint32_t kernel_value(QuarantineLevel level) { return static_cast<uint32_t>(level); }

}  // namespace warden::text
