#include "cli/explain.h"

#include <algorithm>
#include <ostream>

#include "cli/format.h"
#include "identity/identity.h"

namespace warden::cli {

using nlohmann::json;

namespace {

// Where each fact comes from, in the words of the protocol that carried it.
json fact(const char* name, json value, std::string source) {
    return {{"fact", name}, {"value", std::move(value)}, {"source", std::move(source)}};
}

json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json facts_of(const ExplainInput& in, const identity::Identity& id) {
    std::string prefix = in.mac.str().substr(0, 8);
    std::string vendor_source =
        id.random_mac ? "none: a locally administered (random) MAC names no maker"
                      : "IEEE registry " + in.ieee_data + ", prefix " + prefix;
    json peers = json::object();
    for (const auto& [addr, name] : in.peer_names) peers[addr] = name;
    return json::array({
        fact("vendor", text_or_null(id.vendor), vendor_source),
        fact("random_mac", id.random_mac, "the MAC's locally administered bit"),
        fact("hostname", text_or_null(id.hostname), "DHCP option 12 or 81, DHCPv6 option 39"),
        fact("vendor_class", text_or_null(id.vendor_class), "DHCP option 60, DHCPv6 option 16"),
        fact("dhcp_fingerprint", text_or_null(id.dhcp_fingerprint),
             "DHCP option 55 (\"v6:\" DHCPv6 option request list)"),
        fact("client_id", text_or_null(id.client_id), "DHCP option 61, DHCPv6 DUID"),
        fact("leased_ip4", id.leased_ip4 ? json(id.leased_ip4->str()) : json(nullptr),
             "the gateway's DHCPACK to it"),
        fact("mdns_services", id.mdns_services, "its mDNS announcements"),
        fact("models", id.models, "its mDNS TXT records, SSDP SERVER"),
        fact("dns_names", id.dns_names, "its DNS queries, newest first"),
        fact("peer_names", std::move(peers),
             "DNS answers to it, while their TTL lasts"),
    });
}

// Every rule that matches the identity, with the value it matched: the same rules, values
// and "once per rule" as DeviceTypes::classify, kept apart here to show the file lines.
json matched_rules(const identity::DeviceTypes& rules, const identity::Identity& id) {
    using identity::Field;
    json out = json::array();
    for (const auto& rule : rules.rules()) {
        std::optional<std::string> matched;
        if (rule.field == Field::random_mac) {
            if (id.random_mac) matched = "true";
        } else {
            std::vector<std::string> values;
            switch (rule.field) {
                case Field::vendor: values = {id.vendor}; break;
                case Field::hostname: values = {id.hostname}; break;
                case Field::vendor_class: values = {id.vendor_class}; break;
                case Field::dhcp_fingerprint: values = {id.dhcp_fingerprint}; break;
                case Field::mdns_service: values = id.mdns_services; break;
                case Field::dns_name: values = id.dns_names; break;
                case Field::model: values = id.models; break;
                case Field::random_mac: break;
            }
            for (const auto& v : values) {
                if (v.empty()) continue;
                bool hit = false;
                try {
                    hit = std::regex_search(v, rule.regex);
                } catch (const std::regex_error&) {
                    // as the classifier: a pattern the engine gives up on does not count
                }
                if (hit) {
                    matched = v;
                    break;
                }
            }
        }
        if (!matched) continue;
        out.push_back({{"line", rule.line},
                       {"type", rule.type},
                       {"weight", rule.weight},
                       {"field", std::string(identity::to_string(rule.field))},
                       {"pattern", rule.pattern},
                       {"value", *matched}});
    }
    return out;
}

json rules_part(const ExplainInput& in, const identity::Identity& id) {
    json part{{"file", in.rules_path}, {"loaded", in.rules != nullptr}};
    if (!in.rules) {
        part["error"] = in.rules_error;
        return part;
    }
    part["min_score"] = in.rules->min_score();
    part["matched"] = matched_rules(*in.rules, id);
    json scores = json::object();
    for (const auto& m : part["matched"]) {
        std::string type = m["type"];
        scores[type] = scores.value(type, 0) + m["weight"].get<int>();
    }
    part["scores"] = scores;
    auto verdict = in.rules->classify(id);
    part["winner"] = verdict.type == "unknown" ? json(nullptr) : json{{"type", verdict.type}, {"score", verdict.score}};
    part["evidence"] = verdict.evidence;
    return part;
}

std::string list_text(const json& values, size_t shown = 3) {
    if (values.is_null()) return "-";
    if (values.is_boolean()) return values.get<bool>() ? "yes" : "no";
    if (values.is_string()) return shorten(values.get<std::string>(), 48);
    std::vector<std::string> items;
    if (values.is_array())
        for (const auto& v : values) items.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    if (values.is_object())
        for (const auto& [k, v] : values.items()) items.push_back(k + " " + (v.is_string() ? v.get<std::string>() : v.dump()));
    if (items.empty()) return "-";
    std::string out;
    for (size_t i = 0; i < items.size() && i < shown; ++i) out += (i ? ", " : "") + shorten(items[i], 32);
    if (items.size() > shown) out += ", +" + std::to_string(items.size() - shown) + " more";
    return out;
}

}  // namespace

json explain_device(const ExplainInput& in) {
    bool known = in.identity.is_object() && !in.identity.empty();
    identity::Identity id = identity::identity_from_json(known ? in.identity : json::object());
    if (!known) id.random_mac = in.mac.is_locally_administered();  // the MAC says so itself

    json out{{"mac", in.mac.str()},
             {"name", text_or_null(in.name)},
             {"ip4", in.ip4 ? json(in.ip4->str()) : json(nullptr)},
             {"ip6", in.ip6 ? json(in.ip6->str()) : json(nullptr)},
             {"identity_known", known},
             {"facts", facts_of(in, id)}};
    out["recorded"] = {{"type", known ? id.type : "unknown"},
                       {"source", text_or_null(id.type_source)},
                       {"score", id.type_score},
                       {"evidence", id.type_evidence}};
    bool policy_types = in.named && in.named->type != policy::DeviceType::unknown;
    out["policy"] = in.named ? json{{"name", in.named->name},
                                    {"type", policy_types ? json(std::string(policy::to_string(in.named->type)))
                                                          : json(nullptr)}}
                             : json(nullptr);
    out["rules"] = rules_part(in, id);

    // The type as the files say now: the policy's, else the rules' winner.
    std::string type = "unknown", decided_by = "nothing";
    if (policy_types) {
        type = std::string(policy::to_string(in.named->type));
        decided_by = "policy";
    } else if (in.rules && !out["rules"]["winner"].is_null()) {
        type = out["rules"]["winner"]["type"];
        decided_by = "rules";
    } else if (!in.rules) {
        type = out["recorded"]["type"];  // nothing to recompute with: what the controller said
        decided_by = id.type_source.empty() ? "nothing" : id.type_source;
    }
    out["type"] = type;
    out["decided_by"] = decided_by;
    std::vector<std::string> notes;
    if (!known)
        notes.push_back("no DHCP, DNS, mDNS or SSDP seen from this device yet: only its MAC is known");
    if (known && in.rules && out["recorded"]["type"] != type)
        notes.push_back("the controller last recorded " + out["recorded"]["type"].get<std::string>() +
                        "; the policy and rules files as they are now say " + type +
                        " (the controller re-reads them on `warden policy reload`)");
    out["notes"] = notes;
    return out;
}

void print_explanation(const json& e, std::ostream& out) {
    out << e["mac"].get<std::string>();
    for (const char* key : {"name", "ip4", "ip6"})
        if (e[key].is_string()) out << "  " << e[key].get<std::string>();
    out << "\n";
    std::string type = e["type"];
    std::string by = e["decided_by"];
    out << "type: " << type;
    if (by == "policy")
        out << " (the policy names it so; the policy wins over the rules)";
    else if (by == "rules" && e["rules"].contains("winner") && e["rules"]["winner"].is_object())
        out << " (by the rules, score " << e["rules"]["winner"]["score"].get<int>() << ")";
    else if (by == "nothing")
        out << " (no rule reached min_score and the policy gives no type)";
    out << "\n\nwhat warden knows, and where it comes from:\n";
    Table facts({"FACT", "VALUE", "FROM"});
    for (const auto& f : e["facts"]) facts.add({f["fact"], list_text(f["value"]), f["source"]});
    facts.print(out);

    const json& rules = e["rules"];
    out << "\ntype rules: " << rules["file"].get<std::string>();
    if (!rules["loaded"].get<bool>()) {
        out << " (not loaded: " << rules.value("error", std::string("?")) << ")\n";
    } else {
        out << " (min_score " << rules["min_score"].get<int>() << ")\n";
        if (rules["matched"].empty()) {
            out << "  no rule matched\n";
        } else {
            Table t({"LINE", "FIELD", "VALUE", "PATTERN", "TYPE", "WEIGHT"}, {true, false, false, false, false, true});
            for (const auto& m : rules["matched"]) {
                int w = m["weight"];
                t.add({std::to_string(m["line"].get<int>()), m["field"], m["value"], "/" + m["pattern"].get<std::string>() + "/",
                       m["type"], (w > 0 ? "+" : "") + std::to_string(w)});
            }
            t.print(out);
            out << "scores:";
            for (const auto& [t_name, score] : rules["scores"].items()) out << " " << t_name << " " << score.get<int>();
            out << "\n";
        }
        if (rules["winner"].is_object())
            out << "winner: " << rules["winner"]["type"].get<std::string>() << " (score "
                << rules["winner"]["score"].get<int>() << ", at least min_score " << rules["min_score"].get<int>()
                << ")\n";
        else
            out << "winner: none (" << (rules["evidence"].empty() ? std::string("no rule matched")
                                                                   : rules["evidence"].back().get<std::string>())
                << ")\n";
    }
    if (e["policy"].is_object()) {
        out << "policy: names it \"" << e["policy"]["name"].get<std::string>() << "\"";
        if (e["policy"]["type"].is_string())
            out << " with type " << e["policy"]["type"].get<std::string>() << ", which overrides the rules";
        else
            out << " without a type (the rules decide)";
        out << "\n";
    }
    for (const auto& n : e["notes"]) out << "note: " << n.get<std::string>() << "\n";
}

}  // namespace warden::cli
