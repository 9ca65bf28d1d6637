// warden run, policy check, policy reload, detach: starting, checking and stopping.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/control_client.h"
#include "daemon/daemon.h"
#include "dataplane/attach.h"
#include "dataplane/pinned.h"
#include "store/owner.h"
#include "store/state.h"

namespace warden::cli {

using nlohmann::json;

int cmd_run(Context& ctx) {
    daemon::Overrides o;
    o.pin_dir = ctx.pin_dir_flag;
    o.state_dir = ctx.state_dir_flag;
    if (ctx.log_level_flag) o.log_level = log::parse_level(*ctx.log_level_flag);
    return daemon::run(ctx.config, o);
}

int cmd_policy_check(Context& ctx) {
    const std::string& file = ctx.positional[0];
    auto result = policy::load_file(file);
    if (ctx.json) {
        auto diag = [](const policy::Diagnostic& d) {
            return json{{"file", d.file}, {"line", d.line}, {"column", d.column}, {"key", d.key}, {"message", d.message}};
        };
        json out{{"file", file}, {"ok", result.policy.has_value()}, {"errors", json::array()}, {"warnings", json::array()}};
        for (const auto& e : result.errors) out["errors"].push_back(diag(e));
        for (const auto& w : result.warnings) out["warnings"].push_back(diag(w));
        std::cout << out.dump(2) << "\n";
        return result.policy ? 0 : 1;
    }
    for (const auto& e : result.errors) std::cerr << "error: " << e.str() << "\n";
    for (const auto& w : result.warnings) std::cerr << "warning: " << w.str() << "\n";
    if (!result.policy) {
        std::cerr << file << ": " << result.errors.size() << " error(s)\n";
        return 1;
    }
    std::cout << file << ": ok (" << result.policy->interfaces.lan.size() << " LAN port(s), WAN "
              << result.policy->interfaces.wan << ", " << result.policy->devices.size() << " named device(s))\n";
    return 0;
}

int cmd_policy_reload(Context& ctx) {
    // The state dir says where the controller is. When only the (now broken) policy could
    // say, the controller cannot be asked; it keeps the policy in force either way.
    try {
        ctx.state_dir();
    } catch (const std::exception&) {
        auto checked = policy::load_file(ctx.config);
        // A file that cannot be read at all (permission denied, missing) was not rejected:
        // its one error has no position.
        if (checked.errors.size() == 1 && checked.errors[0].line == 0)
            throw std::runtime_error(checked.errors[0].str());
        std::cerr << "policy rejected; the running policy stays in force (the controller was not asked):\n";
        for (const auto& e : checked.errors) std::cerr << "  " << e.str() << "\n";
        return 1;
    }
    auto result = ask_core(ctx, {{"op", "reload"}});
    if (ctx.json) {
        std::cout << result.to_json().dump(2) << "\n";
        return result.exit_code() == 2 ? 1 : result.exit_code();
    }
    if (result.ok()) {
        std::cout << result.message << "\n";
        return 0;
    }
    std::cerr << result.message << ":\n";
    for (const auto& e : result.detail.value("errors", json::array())) std::cerr << "  " << e.get<std::string>() << "\n";
    return 1;
}

int cmd_detach(Context& ctx) {
    std::string state_dir = ctx.state_dir();
    if (auto pid = store::running_controller(store::StateDir(state_dir).pid_file().string()))
        throw std::runtime_error("warden run is still running (pid " + std::to_string(*pid) +
                                 "); stop it first (systemctl stop warden, or kill -TERM " + std::to_string(*pid) + ")");
    // A controller with another state dir may use these pins: the lock lives with the pins.
    dataplane::PinDirLock::check_free(ctx.pin_dir());
    auto report = dataplane::detach_all(ctx.pin_dir());
    if (ctx.json) {
        std::cout << json{{"removed", report.removed}, {"problems", report.problems}}.dump(2) << "\n";
    } else {
        for (const auto& r : report.removed) std::cout << "removed " << r << "\n";
        for (const auto& p : report.problems) std::cerr << "problem: " << p << "\n";
        if (report.removed.empty() && report.problems.empty()) std::cout << "nothing of warden's was attached or pinned\n";
    }
    return report.problems.empty() ? 0 : 1;
}

}  // namespace warden::cli
