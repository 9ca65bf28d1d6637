// How every CLI command that changes (or lists) what warden enforces reaches the control core
// (control/control.h): through the running controller's socket, or, when no controller runs,
// by running the core in this process while owning the state dir. One code path either way.
#pragma once

#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "control/result.h"

namespace warden::cli {

// Asks the control core for request ({"op": ..., ...}) as the operator on this terminal.
// Throws only when neither a controller nor the state dir can be reached.
control::Result ask_core(Context& ctx, const nlohmann::json& request);

// Prints a result as CLI output: the message (or detail as JSON with --json) on stdout for
// success, "warden CMD: message" on stderr otherwise, warnings on stderr; returns the exit code.
int print_result(Context& ctx, const control::Result& result);

}  // namespace warden::cli
