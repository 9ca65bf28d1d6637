// warden block add | del | list | load: the operator's blocklist, enforced at once and kept
// in the state dir so it survives a reboot.
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "blocklist/blocklist.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "dataplane/pinned.h"
#include "store/events_log.h"
#include "store/files.h"
#include "store/state.h"

namespace warden::cli {

using nlohmann::json;

namespace {

net::Prefix prefix_arg(const std::string& text) {
    std::string why;
    auto p = net::Prefix::parse(text, &why);
    if (!p) throw UsageError("\"" + text + "\": " + why);
    return *p;
}

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

// Applies entries to the kernel and the operator's file, under the state lock.
void add_operator_entries(Context& ctx, const std::vector<blocklist::Entry>& entries, const char* how) {
    dataplane::PinnedMaps maps(ctx.pin_dir());
    store::StateDir state(ctx.state_dir());
    store::DirLock lock(state.path());
    std::vector<std::string> problems;
    auto saved = blocklist::load_operator_entries(state.path(), &problems);
    for (const auto& p : problems) std::cerr << "warning: " << p << "\n";
    auto table = maps.blocklist();
    for (const auto& e : entries) {
        table.put(e.prefix, e.flags, blocklist::kOperatorList);
        std::erase_if(saved, [&](auto& s) { return s.prefix == e.prefix; });
        saved.push_back(e);
    }
    blocklist::save_operator_entries(state.path(), saved);
    store::EventLog events(state.events_file(), ctx.events_max_size(), ctx.events_keep());
    json list = json::array();
    for (const auto& e : entries) list.push_back(e.prefix.str());
    events.append({{"kind", "block_added"}, {"how", how}, {"prefixes", list}, {"by", "operator"}});
}

}  // namespace

int cmd_block_add(Context& ctx) {
    auto prefix = prefix_arg(ctx.positional[0]);
    uint32_t flags = direction_arg(ctx);
    add_operator_entries(ctx, {{prefix, flags, blocklist::kOperatorList}}, "block add");
    if (ctx.json)
        std::cout << json{{"prefix", prefix.str()}, {"direction", blocklist::direction_name(flags)}}.dump(2) << "\n";
    else
        std::cout << "blocked " << prefix.str() << " (" << blocklist::direction_name(flags) << ")\n";
    return 0;
}

int cmd_block_load(Context& ctx) {
    uint32_t flags = direction_arg(ctx);
    auto parsed = blocklist::parse_file(ctx.positional[0], flags, blocklist::kOperatorList);
    if (!parsed.errors.empty()) {
        for (const auto& e : parsed.errors) std::cerr << "error: " << e << "\n";
        std::cerr << ctx.positional[0] << ": " << parsed.errors.size() << " bad line(s); nothing was loaded\n";
        return 1;
    }
    add_operator_entries(ctx, parsed.entries, "block load");
    if (ctx.json)
        std::cout << json{{"file", ctx.positional[0]}, {"loaded", parsed.entries.size()}}.dump(2) << "\n";
    else
        std::cout << "blocked " << parsed.entries.size() << " prefix(es) from " << ctx.positional[0] << "\n";
    return 0;
}

int cmd_block_del(Context& ctx) {
    auto prefix = prefix_arg(ctx.positional[0]);
    dataplane::PinnedMaps maps(ctx.pin_dir());
    auto table = maps.blocklist();
    for (const auto& e : table.list()) {
        if (e.prefix == prefix && e.value.list_id != blocklist::kOperatorList)
            throw std::runtime_error(prefix.str() + " comes from " + source_name(e.value.list_id, ctx.policy()) +
                                     "; remove it there and run `warden policy reload`");
    }
    store::StateDir state(ctx.state_dir());
    store::DirLock lock(state.path());
    std::vector<std::string> problems;
    auto saved = blocklist::load_operator_entries(state.path(), &problems);
    bool removed = table.remove(prefix);
    size_t before = saved.size();
    std::erase_if(saved, [&](auto& s) { return s.prefix == prefix; });
    if (!removed && saved.size() == before) {
        std::cerr << "warden block del: " << prefix.str() << " is not blocked\n";
        return 1;
    }
    blocklist::save_operator_entries(state.path(), saved);
    store::EventLog events(state.events_file(), ctx.events_max_size(), ctx.events_keep());
    events.append({{"kind", "block_removed"}, {"prefixes", {prefix.str()}}, {"by", "operator"}});
    if (ctx.json)
        std::cout << json{{"removed", prefix.str()}}.dump(2) << "\n";
    else
        std::cout << "unblocked " << prefix.str() << "\n";
    return 0;
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
