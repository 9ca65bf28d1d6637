// warden run, policy check, policy reload, detach: starting, checking and stopping.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "daemon/daemon.h"
#include "daemon/pidfile.h"
#include "dataplane/attach.h"
#include "store/files.h"
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

namespace {

json read_status(const store::StateDir& state) {
    try {
        std::ifstream in(state.status_file());
        if (!in) return json();
        return json::parse(in);
    } catch (const std::exception&) {
        return json();
    }
}

}  // namespace

int cmd_policy_reload(Context& ctx) {
    // The state dir says where the controller is. When only the (now broken) policy could
    // say, the controller cannot be asked; it keeps the policy in force either way.
    std::optional<std::string> state_dir;
    try {
        state_dir = ctx.state_dir();
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
    store::StateDir state(*state_dir);
    // Without permission to read the pid file, "not running" would be a guess.
    store::check_readable(state.pid_file());
    auto pid = daemon::running_controller(state.pid_file().string());
    if (!pid) throw std::runtime_error("warden is not running (no controller holds " + state.pid_file().string() + ")");
    int before = read_status(state).value("/reload/generation"_json_pointer, 0);
    if (kill(*pid, SIGHUP) != 0)
        throw std::runtime_error("cannot signal the controller (pid " + std::to_string(*pid) + "): " +
                                 (errno == EPERM ? store::permission_hint() : std::strerror(errno)));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        json s = read_status(state);
        if (s.value("/reload/generation"_json_pointer, 0) > before) {
            bool ok = s.value("/reload/ok"_json_pointer, false);
            if (ctx.json) {
                std::cout << s["reload"].dump(2) << "\n";
            } else if (ok) {
                std::cout << "policy reloaded (" << s.value("policy", std::string()) << ")\n";
            } else {
                std::cerr << "policy rejected; the running policy stays in force:\n";
                for (const auto& e : s["reload"]["errors"]) std::cerr << "  " << e.get<std::string>() << "\n";
            }
            return ok ? 0 : 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("the controller (pid " + std::to_string(*pid) + ") did not report a reload within 10 s");
}

int cmd_detach(Context& ctx) {
    std::string state_dir = ctx.state_dir();
    if (auto pid = daemon::running_controller((std::filesystem::path(state_dir) / "warden.pid").string()))
        throw std::runtime_error("warden run is still running (pid " + std::to_string(*pid) +
                                 "); stop it first (systemctl stop warden, or kill -TERM " + std::to_string(*pid) + ")");
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
