#include "cli/control_client.h"

#include <pwd.h>
#include <unistd.h>

#include <iostream>
#include <thread>

#include "control/control.h"
#include "control/enforcement.h"
#include "control/gateway.h"
#include "control/learning.h"
#include "control/socket.h"
#include "dataplane/pinned.h"
#include "net/interfaces.h"
#include "store/events_log.h"
#include "store/files.h"
#include "store/owner.h"
#include "store/state.h"

namespace warden::cli {

using nlohmann::json;

namespace {

constexpr std::chrono::seconds kOwnWait{5};

control::Who me() {
    passwd pw{}, *found = nullptr;
    char buf[1024];
    std::string user = getpwuid_r(getuid(), &pw, buf, sizeof buf, &found) == 0 && found
                           ? pw.pw_name
                           : "uid " + std::to_string(getuid());
    return {control::Origin::cli, user};
}

// The control core in this process, over the pinned maps when warden's programs are still
// attached (a stopped controller leaves them enforcing), or over the state dir alone.
control::Result run_here(Context& ctx, const store::StateDir& state, const json& request) {
    std::string op = request.value("op", "");
    if (op == "reload" || op == "status")
        return control::Result::error(control::Result::Status::failed,
                                      "warden is not running (no controller owns " + state.path().string() + ")");
    store::EventLog events(state.events_file(), ctx.events_max_size(), ctx.events_keep());
    std::unique_ptr<dataplane::PinnedMaps> maps;
    std::unique_ptr<control::Enforcement> enforcement;
    if (dataplane::maps_pinned(ctx.pin_dir())) {
        maps = std::make_unique<dataplane::PinnedMaps>(ctx.pin_dir());
        enforcement = std::make_unique<control::KernelEnforcement>(maps->quarantine(), maps->blocklist());
    } else {
        enforcement = std::make_unique<control::NoEnforcement>();
    }
    control::PendingLearning learning(state.path());
    control::Control::Settings settings;
    const auto* pol = ctx.policy();
    if (pol) settings.defaults = pol->quarantine;
    try {
        auto all = net::list_interfaces();
        settings.gateway = pol ? control::gateway_facts(all, pol->interfaces.lan, pol->interfaces.wan)
                               : control::gateway_facts(all, {}, "");
    } catch (const std::exception& e) {
        std::cerr << "warning: cannot list this host's interfaces (" << e.what()
                  << "): the gateway's own addresses are not checked\n";
    }
    store::remove_stale_temp_files(state.path());
    control::Control core(state, events, *enforcement, learning, settings);
    for (const auto& p : core.load()) std::cerr << "warning: state: " << p << "\n";
    return core.execute(request, me());
}

}  // namespace

control::Result ask_core(Context& ctx, const json& request) {
    store::StateDir state(ctx.state_dir());
    auto socket = state.path_of(store::layout::control_socket);
    auto deadline = std::chrono::steady_clock::now() + kOwnWait;
    for (;;) {
        if (auto answer = control::ask(socket, request)) return *answer;
        // No controller answers: only root may change what warden enforces (the kernel's
        // maps and the state dir are root's); a warden group member is told so in words.
        std::string op = request.value("op", "");
        if (geteuid() != 0 && control::Control::changes_state(op))
            return control::Result::error(control::Result::Status::refused, control::needs_root_message(op));
        // Own the state dir for this one command, so that no controller starts (and no other
        // command writes) meanwhile.
        if (auto owner = store::Owner::try_take(state.pid_file().string(), store::Owner::Role::cli))
            return run_here(ctx, state, request);
        if (std::chrono::steady_clock::now() >= deadline) {
            if (auto pid = store::running_controller(state.pid_file().string()))
                throw std::runtime_error("the controller (pid " + std::to_string(*pid) + ") does not answer on " +
                                         socket.string() + " (is it still starting? see its log)");
            throw std::runtime_error("another warden command holds " + state.pid_file().string() + "; try again");
        }
        // A controller is starting (its socket opens last), or another command runs.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

int print_result(Context& ctx, const control::Result& r) {
    for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
    if (!r.ok()) {
        std::cerr << "warden " << ctx.command << ": " << r.message;
        if (r.status == control::Result::Status::invalid) std::cerr << " (see warden " << ctx.command << " --help)";
        std::cerr << "\n";
        return r.exit_code();
    }
    if (ctx.json)
        std::cout << r.detail.dump(2) << "\n";
    else
        std::cout << r.message << "\n";
    return 0;
}

}  // namespace warden::cli
