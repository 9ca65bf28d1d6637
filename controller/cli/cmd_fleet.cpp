// warden fleet status | aggregate: the operator's channel seen from the gateway, and the
// operator's merge of the fleet's per-type profiles into priors (docs/FLEET.md).
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/control_client.h"
#include "fleet/aggregator.h"
#include "text/units.h"

namespace warden::cli {

using nlohmann::json;

int cmd_fleet_status(Context& ctx) {
    auto result = ask_core(ctx, {{"op", "status"}});
    if (!result.ok()) return print_result(ctx, result);
    json fleet = result.detail.value("fleet", json{{"enabled", false}});
    if (ctx.json) {
        std::cout << fleet.dump(2) << "\n";
        return 0;
    }
    if (!fleet.value("enabled", false)) {
        std::cout << "fleet: off (the policy's fleet: section is not enabled)\n";
        return 0;
    }
    std::cout << "gateway     " << fleet.value("gateway", "?") << "\n"
              << "broker      " << fleet.value("broker", "?") << (fleet.value("insecure", false) ? " (INSECURE: plain TCP)" : "")
              << "\n"
              << "connected   " << (fleet.value("connected", false) ? "yes" : "no") << "\n"
              << "queue       " << fleet.value("queue_depth", 0) << " message(s), " << fleet.value("queue_bytes", 0)
              << " of " << fleet.value("queue_budget", 0) << " bytes\n";
    if (fleet.contains("last_ack_ms")) std::cout << "last ack    " << fleet["last_ack_ms"] << " (ms since 1970)\n";
    std::cout << "dropped     ";
    if (fleet.value("dropped", json::object()).empty()) std::cout << "nothing";
    for (const auto& [kind, n] : fleet.value("dropped", json::object()).items()) std::cout << kind << " " << n << "  ";
    std::cout << "\n";
    if (fleet.contains("last_error") || fleet.contains("error"))
        std::cout << "problem     " << fleet.value("last_error", fleet.value("error", "")) << "\n";
    return 0;
}

int cmd_fleet_aggregate(Context& ctx) {
    auto text = [&](const char* key) { return ctx.vm.count(key) ? ctx.vm[key].as<std::string>() : std::string(); };
    policy::Fleet broker;
    broker.host = text("host");
    broker.port = ctx.vm["port"].as<uint16_t>();
    broker.ca = text("ca");
    broker.cert = text("cert");
    broker.key = text("key");
    broker.insecure = ctx.vm.count("insecure") > 0;
    if (broker.host.empty()) throw UsageError("--host is required (the broker)");
    if (!broker.insecure && (broker.ca.empty() || broker.cert.empty() || broker.key.empty()))
        throw UsageError("--ca, --cert and --key are required (or --insecure for a lab)");
    fleet::AggregateOptions o;
    o.sign_key = text("sign-key");
    if (o.sign_key.empty()) throw UsageError("--sign-key is required (the operator's Ed25519 private key)");
    o.state_file = text("state");
    o.min_homes = ctx.vm["min-homes"].as<size_t>();
    if (o.min_homes < 1) throw UsageError("--min-homes must be at least 1");
    std::string why;
    auto every = text::parse_duration(text("every"), &why);
    if (!every) throw UsageError("--every: " + why);
    o.every_ms = every->count();
    if (ctx.vm.count("run-for")) {
        auto d = text::parse_duration(text("run-for"), &why);
        if (!d) throw UsageError("--run-for: " + why);
        o.run_for_ms = d->count();
    }
    std::string types = text("types");
    for (size_t start = 0; start < types.size();) {
        size_t comma = types.find(',', start);
        std::string t = types.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!t.empty()) o.types.push_back(t);
        start = comma == std::string::npos ? types.size() : comma + 1;
    }
    return fleet::run_aggregator(broker, text("client-id"), o);
}

}  // namespace warden::cli
