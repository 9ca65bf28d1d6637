// The subcommands, one function each; cli.cpp parses and dispatches to them.
#pragma once

#include "cli/context.h"

namespace warden::cli {

int cmd_run(Context& ctx);
int cmd_status(Context& ctx);
int cmd_devices(Context& ctx);
int cmd_flows(Context& ctx);
int cmd_top(Context& ctx);
int cmd_quarantine_add(Context& ctx);
int cmd_quarantine_del(Context& ctx);
int cmd_quarantine_list(Context& ctx);
int cmd_block_add(Context& ctx);
int cmd_block_del(Context& ctx);
int cmd_block_list(Context& ctx);
int cmd_block_load(Context& ctx);
int cmd_events(Context& ctx);
int cmd_policy_check(Context& ctx);
int cmd_policy_show(Context& ctx);
int cmd_policy_reload(Context& ctx);
int cmd_detach(Context& ctx);
int cmd_alerts(Context& ctx);
int cmd_profile_export(Context& ctx);
int cmd_profile_import(Context& ctx);
int cmd_profile_merge(Context& ctx);
int cmd_help(Context& ctx);
int cmd_completion(Context& ctx);
int cmd_man(Context& ctx);
int cmd_fleet_status(Context& ctx);
int cmd_fleet_aggregate(Context& ctx);

}  // namespace warden::cli
