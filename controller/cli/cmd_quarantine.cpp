// warden quarantine add | del | list: requests to the control core (cli/control_client.h).
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/control_client.h"
#include "cli/format.h"
#include "store/state.h"

namespace warden::cli {

using nlohmann::json;

int cmd_quarantine_add(Context& ctx) {
    json request{{"op", "quarantine"}, {"mac", ctx.positional[0]}, {"reason", ctx.vm["reason"].as<std::string>()}};
    if (ctx.vm.count("level")) request["level"] = ctx.vm["level"].as<std::string>();
    if (ctx.vm.count("for")) request["duration"] = ctx.vm["for"].as<std::string>();
    return print_result(ctx, ask_core(ctx, request));
}

int cmd_quarantine_del(Context& ctx) {
    json request{{"op", "release"}, {"mac", ctx.positional[0]}, {"false_positive", ctx.vm.count("false-positive") > 0}};
    if (ctx.vm.count("detector")) request["detector"] = ctx.vm["detector"].as<std::string>();
    auto result = ask_core(ctx, request);
    if (result.ok() && !ctx.json && result.detail.contains("false_positive")) {
        const auto& fp = result.detail["false_positive"];
        std::string text = fp.value("text", "");
        result.message += "\nfalse positive: " + (text.empty() ? std::string("recorded") : text);
    }
    return print_result(ctx, result);
}

int cmd_quarantine_list(Context& ctx) {
    auto result = ask_core(ctx, {{"op", "list_quarantines"}});
    if (!result.ok()) return print_result(ctx, result);
    for (const auto& w : result.warnings) std::cerr << "warning: " << w << "\n";
    json list = result.detail.value("quarantines", json::array());
    if (ctx.json) {
        std::cout << list.dump(2) << "\n";
        return 0;
    }
    if (list.empty()) {
        std::cout << "no device is quarantined\n";
        return 0;
    }
    int64_t now = store::now_unix_ms();
    Table t({"MAC", "LEVEL", "ORIGIN", "SINCE", "LEFT", "DROPPED FROM", "DROPPED TO", "REASON"},
            {false, false, false, true, true, true, true, false});
    for (const auto& q : list) {
        int64_t since = q.value("since_ms", int64_t(0));
        std::string left = q.contains("expires_ms") && q["expires_ms"].is_number()
                               ? human_age(q["expires_ms"].get<int64_t>() - now)
                               : "until released";
        if (!q.value("enforced", false)) left += " (NOT ENFORCED)";
        auto dropped = [&](const char* dir) {
            auto p = q.find("dropped");
            return p != q.end() ? human_count((*p)[dir].value("packets", uint64_t(0))) : std::string("-");
        };
        std::string reason = q.value("reason", "");
        t.add({q.value("mac", ""), q.value("level", ""), q.value("origin", ""),
               since ? human_age(now - since) + " ago" : "?", left, dropped("from_device"), dropped("to_device"),
               reason.empty() ? "-" : reason});
    }
    t.print(std::cout);
    return 0;
}

}  // namespace warden::cli
