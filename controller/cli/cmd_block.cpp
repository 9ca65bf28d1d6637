// warden block add | del | list | load: the operator's blocklist, changed through the control
// core (enforced at once, kept in the state dir so it survives a reboot).
#include <iostream>

#include <nlohmann/json.hpp>

#include "blocklist/blocklist.h"
#include "cli/commands.h"
#include "cli/control_client.h"
#include "cli/format.h"
#include "dataplane/pinned.h"

namespace warden::cli {

using nlohmann::json;

namespace {

uint32_t direction_arg(Context& ctx) {
    auto d = blocklist::parse_direction(ctx.vm["direction"].as<std::string>());
    if (!d) throw UsageError("--direction must be in, out or both");
    return *d;
}

std::string source_name(uint32_t list_id, const policy::Policy* pol) {
    if (list_id == blocklist::kOperatorList) return "operator";
    if (list_id == blocklist::kPolicyInline) return "policy";
    size_t i = list_id - blocklist::kPolicyFileBase;
    if (pol && list_id >= blocklist::kPolicyFileBase && i < pol->blocklist.files.size()) return pol->blocklist.files[i].path;
    return "list " + std::to_string(list_id);
}

}  // namespace

int cmd_block_add(Context& ctx) {
    return print_result(ctx, ask_core(ctx, {{"op", "block"},
                                           {"prefixes", json::array({ctx.positional[0]})},
                                           {"direction", ctx.vm["direction"].as<std::string>()},
                                           {"force", ctx.vm.count("force") > 0}}));
}

int cmd_block_load(Context& ctx) {
    uint32_t flags = direction_arg(ctx);
    auto parsed = blocklist::parse_file(ctx.positional[0], flags, blocklist::kOperatorList);
    if (!parsed.errors.empty()) {
        for (const auto& e : parsed.errors) std::cerr << "error: " << e << "\n";
        std::cerr << ctx.positional[0] << ": " << parsed.errors.size() << " bad line(s); nothing was loaded\n";
        return 1;
    }
    if (parsed.entries.empty()) {
        std::cout << ctx.positional[0] << ": no prefix in it; nothing to block\n";
        return 0;
    }
    // One request for the whole file: all of it is blocked, or none.
    json prefixes = json::array();
    for (const auto& e : parsed.entries)
        prefixes.push_back({{"prefix", e.prefix.str()}, {"direction", blocklist::direction_name(e.flags)}});
    return print_result(ctx, ask_core(ctx, {{"op", "block"}, {"prefixes", prefixes}, {"force", ctx.vm.count("force") > 0}}));
}

int cmd_block_del(Context& ctx) {
    return print_result(ctx, ask_core(ctx, {{"op", "unblock"}, {"prefix", ctx.positional[0]}}));
}

int cmd_block_list(Context& ctx) {
    dataplane::PinnedMaps maps(ctx.pin_dir());
    auto entries = maps.blocklist().list();
    const auto* pol = ctx.policy();
    json out = json::array();
    for (const auto& e : entries)
        out.push_back({{"prefix", e.prefix.str()}, {"direction", blocklist::direction_name(e.value.flags)},
                       {"source", source_name(e.value.list_id, pol)}});
    if (ctx.json) {
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (entries.empty()) {
        std::cout << "nothing is blocked\n";
        return 0;
    }
    Table t({"PREFIX", "DIRECTION", "SOURCE"});
    for (const auto& j : out) t.add({j["prefix"], j["direction"], j["source"]});
    t.print(std::cout);
    return 0;
}

}  // namespace warden::cli
