// An event of the events log in words, for `warden events` and the footer of `warden top`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace warden::cli {

// "02:00:00:00:01:01 quarantined (isolate) by operator: test" — without the time.
std::string event_sentence(const nlohmann::json& event);
// The same with its time first, as `warden events` prints it: local time with its offset, or
// UTC.
std::string event_line(const nlohmann::json& event, bool utc = false);

}  // namespace warden::cli
