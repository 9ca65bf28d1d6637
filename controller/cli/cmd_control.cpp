// warden run, policy check, policy show, policy reload, detach: starting, checking and stopping.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "blocklist/blocklist.h"
#include "cli/commands.h"
#include "cli/control_client.h"
#include "daemon/daemon.h"
#include "dataplane/attach.h"
#include "dataplane/pinned.h"
#include "identity/oui.h"
#include "identity/types.h"
#include "policy/show.h"
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

namespace {

// What a blocklist line's problem ("PATH:LINE: why", or "PATH why" for a file that cannot be
// read) says, as a diagnostic with its position.
policy::Diagnostic blocklist_problem(const std::string& path, const std::string& text) {
    policy::Diagnostic d{path, 0, 0, "", text};
    if (text.starts_with(path + ":")) {
        size_t at = path.size() + 1, end = text.find(": ", at);
        if (end != std::string::npos && end > at &&
            std::all_of(text.begin() + at, text.begin() + end, [](char c) { return c >= '0' && c <= '9'; })) {
            d.line = std::stoi(text.substr(at, end - at));
            d.message = text.substr(end + 2);
        }
    } else if (text.starts_with(path + " ")) {
        d.message = text.substr(path.size() + 1);
    }
    return d;
}

// The files a valid policy names, read as `warden run` reads them: a bad line in a blocklist
// or device-type rules file, or one that cannot be read, is an error (warden run would leave
// the file out); an absent file and an unusable ieee-data are warnings, as warden run logs
// them (nothing blocked from it, types from the policy alone, vendors unknown).
void check_named_files(const policy::Policy& pol, std::vector<policy::Diagnostic>& errors,
                       std::vector<policy::Diagnostic>& warnings) {
    std::error_code ec;
    for (size_t i = 0; i < pol.blocklist.files.size(); ++i) {
        const auto& f = pol.blocklist.files[i];
        if (!std::filesystem::exists(f.path, ec) && !ec) {
            warnings.push_back({f.path, 0, 0, "blocklist.files[" + std::to_string(i) + "].path",
                                "does not exist: warden run blocks nothing from it until it does"});
            continue;
        }
        auto parsed = blocklist::parse_file(f.path, WD_BLOCK_IN | WD_BLOCK_OUT,
                                            blocklist::kPolicyFileBase + static_cast<uint32_t>(i));
        for (const auto& e : parsed.errors) errors.push_back(blocklist_problem(f.path, e));
    }
    const std::string& rules = pol.identity.device_types;
    if (!std::filesystem::exists(rules, ec) && !ec) {
        warnings.push_back({rules, 0, 0, "identity.device_types",
                            "no rules here: device types come only from the policy's devices"});
    } else {
        auto loaded = identity::DeviceTypes::load_file(rules);
        errors.insert(errors.end(), loaded.errors.begin(), loaded.errors.end());
    }
    try {
        auto oui = identity::OuiRegistry::load(pol.identity.ieee_data);
        if (oui.malformed_lines() > 0)
            warnings.push_back({pol.identity.ieee_data, 0, 0, "identity.ieee_data",
                                std::to_string(oui.malformed_lines()) + " malformed line(s) skipped"});
    } catch (const std::exception& e) {
        warnings.push_back({pol.identity.ieee_data, 0, 0, "identity.ieee_data",
                            std::string(e.what()) + ": vendors stay unknown (install Debian's ieee-data)"});
    }
}

}  // namespace

int cmd_policy_check(Context& ctx) {
    // Without FILE: the policy warden run would read (--config, else /etc/warden/policy.yaml).
    const std::string file = ctx.positional.empty() ? ctx.config : ctx.positional[0];
    auto result = policy::load_file(file);
    if (result.policy) check_named_files(*result.policy, result.errors, result.warnings);
    bool ok = result.errors.empty();
    if (ctx.json) {
        auto diag = [](const policy::Diagnostic& d) {
            return json{{"file", d.file}, {"line", d.line}, {"column", d.column}, {"key", d.key}, {"message", d.message}};
        };
        json out{{"file", file}, {"ok", ok}, {"errors", json::array()}, {"warnings", json::array()}};
        for (const auto& e : result.errors) out["errors"].push_back(diag(e));
        for (const auto& w : result.warnings) out["warnings"].push_back(diag(w));
        std::cout << out.dump(2) << "\n";
        return ok ? 0 : 1;
    }
    for (const auto& e : result.errors) std::cerr << "error: " << e.str() << "\n";
    for (const auto& w : result.warnings) std::cerr << "warning: " << w.str() << "\n";
    if (!ok) {
        std::cerr << file << ": " << result.errors.size() << " error(s)\n";
        return 1;
    }
    std::cout << file << ": ok (" << result.policy->interfaces.lan.size() << " LAN port(s), WAN "
              << result.policy->interfaces.wan << ", " << result.policy->devices.size() << " named device(s), "
              << result.policy->blocklist.files.size() << " blocklist file(s))\n";
    return 0;
}

int cmd_policy_show(Context& ctx) {
    const std::string file = ctx.positional.empty() ? ctx.config : ctx.positional[0];
    auto result = policy::load_file(file);
    if (!result.policy) {
        for (const auto& e : result.errors) std::cerr << "error: " << e.str() << "\n";
        std::cerr << file << ": " << result.errors.size() << " error(s); see warden policy check\n";
        return 1;
    }
    if (ctx.json)
        std::cout << policy::to_json(*result.policy).dump(2) << "\n";
    else
        std::cout << "# the effective policy of " << file << ", defaults filled in\n" << policy::to_yaml(*result.policy);
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
