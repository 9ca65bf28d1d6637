#include "text/level.h"

namespace warden::text {

std::optional<QuarantineLevel> parse_quarantine_level(std::string_view text) {
    for (auto level : {QuarantineLevel::isolate, QuarantineLevel::restricted})
        if (name(level) == text) return level;
    return std::nullopt;
}

std::optional<QuarantineLevel> level_of_kernel(uint32_t value) {
    switch (value) {
        case WD_LEVEL_ISOLATE: return QuarantineLevel::isolate;
        case WD_LEVEL_RESTRICTED: return QuarantineLevel::restricted;
        default: return std::nullopt;
    }
}

}  // namespace warden::text
