// GET /metrics: a snapshot in the Prometheus text exposition format (version 0.0.4):
// per-device traffic and drops (labels mac, name, type), quarantines by level, findings by
// detector, program counters, map fill, the poll's own cost and the operator's channel.
#pragma once

#include <string>
#include <string_view>

#include "web/snapshot.h"

namespace warden::web {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_metrics(const Snapshot& snapshot);

// A label value as the format wants it: backslash, double quote and newline escaped, and
// bytes that are not UTF-8 replaced (a device's name may come from anywhere).
std::string escape_label_value(std::string_view value);

}  // namespace warden::web
