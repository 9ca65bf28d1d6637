// Durations and sizes as operators write them ("90s", "1h30m", "10MB"), for the policy file
// and for CLI flags such as `warden quarantine add MAC --for 15m`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warden::text {

// A duration is one or more <digits><unit> groups, units largest first and each at most
// once: "100ms", "90s", "15m", "1h", "7d", "1h30m", "1d12h". Units: d, h, m, s, ms.
// No bare numbers (is "90" seconds or minutes?), no signs, no spaces, no fractions.
// On failure returns nullopt and, if `why` is given, says what is wrong with the text.
// Zero ("0s") parses; ranges are the caller's business.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text,
                                                        std::string* why = nullptr);

// The shortest form that parse_duration reads back to the same value: "1h30m", "45s",
// "1s500ms", "0s". Negative values (a deadline already passed) get a leading '-'.
std::string format_duration(std::chrono::milliseconds d);

// A size is a whole number of bytes with an optional unit: "4096", "4096B", "512kB",
// "10MB", "1GB". Units are binary multiples (1 kB = 1024 bytes, as for the ring buffer's
// KiB), and KiB/MiB/GiB and KB are accepted as the same units. Lower-case "mb"/"gb" are
// rejected rather than guessed at.
std::optional<uint64_t> parse_size(std::string_view text, std::string* why = nullptr);

// "10MB", "512kB", "1536B": the largest unit that divides the value exactly.
std::string format_size(uint64_t bytes);

}  // namespace warden::text
