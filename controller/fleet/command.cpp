#include "fleet/command.h"

#include <algorithm>
#include <map>
#include <set>

namespace warden::fleet {

using nlohmann::json;

namespace {

// The operations a command may carry, their arguments, and the control core's name for each.
struct Operation {
    std::string_view core_op;
    std::set<std::string> args;
    std::set<std::string> required;
};

const std::map<std::string, Operation, std::less<>>& operations() {
    static const std::map<std::string, Operation, std::less<>> table{
        {"quarantine", {"quarantine", {"mac", "level", "duration", "reason"}, {"mac"}}},
        {"release", {"release", {"mac", "false_positive", "detector", "why"}, {"mac"}}},
        {"block", {"block", {"prefixes", "direction", "force"}, {"prefixes"}}},
        {"unblock", {"unblock", {"prefix"}, {"prefix"}}},
        {"replace_blocklist", {"replace_blocklist", {"prefixes", "version"}, {"prefixes", "version"}}},
        {"import_priors", {"import_profiles", {"profiles"}, {"profiles"}}},
        {"adjust_detectors", {"adjust_detectors", {"settings"}, {"settings"}}},
    };
    return table;
}

bool valid_id(const std::string& id) {
    return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
        return static_cast<unsigned char>(c) > ' ' && static_cast<unsigned char>(c) < 0x7f;
    });
}

CheckedCommand rejected(std::string id, std::string reason) {
    CheckedCommand c;
    c.id = std::move(id);
    c.reason = std::move(reason);
    return c;
}

}  // namespace

CheckedCommand check_command(std::string_view payload, const Key& operator_key, const std::string& gateway,
                             int64_t now_ms) {
    json m = json::parse(payload, nullptr, false);
    if (m.is_discarded() || !m.is_object()) return rejected("", "malformed: not a JSON object");
    std::string id = m.contains("id") && m["id"].is_string() && valid_id(m["id"].get<std::string>())
                         ? m["id"].get<std::string>()
                         : "";
    // The signature first: nothing of an unverified message is believed but its id (for the ack).
    if (auto why = operator_key.check_message(m); !why.empty()) return rejected(id, why);
    if (id.empty()) return rejected("", "malformed: \"id\" must be 1 to 128 printable ASCII characters");
    auto refused = [&](std::string reason) {
        CheckedCommand c = rejected(id, std::move(reason));
        c.verified = true;
        return c;
    };
    if (!m.contains("v") || m["v"] != 1) return refused("unsupported schema version (this gateway reads v 1)");
    if (!m.contains("gateway") || !m["gateway"].is_string()) return refused("malformed: \"gateway\" is missing");
    if (m["gateway"].get<std::string>() != gateway)
        return refused("meant for gateway \"" + m["gateway"].get<std::string>().substr(0, 64) + "\", not this one");
    for (const char* key : {"issued_ms", "expires_ms"})
        if (!m.contains(key) || !m[key].is_number_integer())
            return refused(std::string("malformed: \"") + key + "\" must be milliseconds since 1970");
    int64_t issued = m["issued_ms"].get<int64_t>(), expires = m["expires_ms"].get<int64_t>();
    if (expires <= issued) return refused("malformed: expires_ms is not after issued_ms");
    if (expires - issued > kMaxCommandLifetimeMs) return refused("its lifetime is longer than 7 days");
    if (!m.contains("op") || !m["op"].is_string()) return refused("malformed: \"op\" is missing");
    std::string op = m["op"].get<std::string>();
    auto found = operations().find(op);
    if (found == operations().end()) return refused("unknown operation \"" + op.substr(0, 40) + "\"");
    const Operation& operation = found->second;
    json args = m.value("args", json::object());
    if (!args.is_object()) return refused("malformed: \"args\" must be an object");
    for (const auto& [key, value] : args.items())
        if (!operation.args.count(key)) return refused(op + ": unknown argument \"" + key.substr(0, 40) + "\"");
    for (const auto& key : operation.required)
        if (!args.contains(key)) return refused(op + ": \"" + key + "\" is missing");

    CheckedCommand c;
    c.id = id;
    c.verified = true;
    c.issued_ms = issued;
    if (now_ms >= expires) {
        c.verdict = CheckedCommand::Verdict::expired;
        c.reason = "expired " + std::to_string((now_ms - expires) / 1000) + " s ago";
        return c;
    }
    // Profiles hold fractions, which the canonical form refuses: they travel as the text of
    // their JSON document, signed as a string.
    if (op == "import_priors") {
        if (!args["profiles"].is_string())
            return refused("import_priors: \"profiles\" must be the text of a warden-profiles document");
        json doc = json::parse(args["profiles"].get<std::string>(), nullptr, false);
        if (doc.is_discarded()) return refused("import_priors: \"profiles\" is not JSON");
        args["profiles"] = std::move(doc);
    }
    c.verdict = CheckedCommand::Verdict::apply;
    c.request = args;
    c.request["op"] = std::string(operation.core_op);
    return c;
}

}  // namespace warden::fleet
