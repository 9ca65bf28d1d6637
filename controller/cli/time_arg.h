// Times on the command line: what --since accepts, and how times are printed (local time with
// its offset, or UTC with --utc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace warden::cli {

// The start of a --since: a duration ago ("90s", "15m", "7d"), "today" or "yesterday" (local
// midnight), or an absolute time: "2026-12-07", "2026-12-07 14:30", "2026-12-07T14:30:05",
// local time unless it ends in "Z" or an offset ("+01:00", "-0500"). Unix ms; nullopt with
// *why saying what is wrong.
std::optional<int64_t> parse_since(const std::string& text, int64_t now_ms, std::string* why);

// "2026-12-07 15:30:05 +01:00" in local time, or "2026-12-07 14:30:05 UTC".
std::string format_time(int64_t unix_ms, bool utc);

}  // namespace warden::cli
