// warden profile export | import | merge: per-type behaviour profiles shared across gateways
// (no MACs, names or addresses). Export and import go through the control core, which reaches
// the engine when warden runs (control/learning.h); merge is a pure file operation.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/control_client.h"
#include "engine/engine.h"
#include "engine/profiles.h"
#include "store/files.h"
#include "store/state.h"

namespace warden::cli {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string type_list(const engine::Profiles& p) {
    std::string s;
    for (const auto& [type, b] : p.types) s += (s.empty() ? "" : ", ") + type;
    return s.empty() ? "none" : s;
}

}  // namespace

int cmd_profile_export(Context& ctx) {
    const std::string& out = ctx.positional[0];
    store::StateDir state(ctx.state_dir());
    // A running controller holds what it learned in memory: it writes engine.json first.
    auto saved = ask_core(ctx, {{"op", "save_learning"}});
    if (!saved.ok()) return print_result(ctx, saved);
    fs::path file = state.path_of(store::layout::engine);
    if (!fs::exists(file))
        throw std::runtime_error("nothing learned yet: " + file.string() + " does not exist (has warden run been running?)");
    engine::Engine e;
    try {
        e.load_json(json::parse(store::read_file(file)));
    } catch (const std::exception& ex) {
        throw std::runtime_error(file.string() + ": " + ex.what());
    }
    auto profiles = e.export_profiles();
    profiles.write_file(out);
    if (ctx.json)
        std::cout << json{{"file", out}, {"types", profiles.types.size()}}.dump(2) << "\n";
    else
        std::cout << "wrote profiles of " << profiles.types.size() << " device type(s) (" << type_list(profiles)
                  << ") to " << out << "\n";
    return 0;
}

int cmd_profile_import(Context& ctx) {
    const std::string& in = ctx.positional[0];
    engine::Profiles profiles = engine::Profiles::read_file(in);  // names what is wrong; nothing changes then
    auto result = ask_core(ctx, {{"op", "import_profiles"}, {"profiles", profiles.to_json()}});
    if (result.ok()) result.detail["file"] = in;
    return print_result(ctx, result);
}

int cmd_profile_merge(Context& ctx) {
    if (!ctx.vm.count("output")) throw UsageError("-o OUT is required (where the merged profiles go)");
    std::string out = ctx.vm["output"].as<std::string>();
    std::vector<engine::Profiles> all;
    for (const auto& f : ctx.positional) all.push_back(engine::Profiles::read_file(f));
    auto merged = engine::merge(all);
    merged.write_file(out);
    if (ctx.json)
        std::cout << json{{"file", out}, {"inputs", ctx.positional.size()}, {"types", merged.types.size()}}.dump(2)
                  << "\n";
    else
        std::cout << "merged " << ctx.positional.size() << " file(s): " << merged.types.size() << " device type(s) ("
                  << type_list(merged) << ") to " << out << "\n";
    return 0;
}

}  // namespace warden::cli
