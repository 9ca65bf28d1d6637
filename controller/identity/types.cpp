#include "identity/types.h"
#include "yamlfile/yamlfile.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace warden::identity {

namespace {

struct FieldName {
    std::string_view key;
    Field field;
};
constexpr FieldName field_names[] = {
    {"vendor", Field::vendor},
    {"hostname", Field::hostname},
    {"vendor_class", Field::vendor_class},
    {"dhcp_fingerprint", Field::dhcp_fingerprint},
    {"mdns_service", Field::mdns_service},
    {"dns_name", Field::dns_name},
    {"model", Field::model},
    {"random_mac", Field::random_mac},
};

constexpr int max_weight = 1000;
constexpr int max_min_score = 10'000;

// The values of one field; lists for the fields a device can have several of.
std::vector<std::string_view> values_of(const Identity& id, Field field) {
    auto all = [](const std::vector<std::string>& list) {
        return std::vector<std::string_view>(list.begin(), list.end());
    };
    switch (field) {
        case Field::vendor: return {id.vendor};
        case Field::hostname: return {id.hostname};
        case Field::vendor_class: return {id.vendor_class};
        case Field::dhcp_fingerprint: return {id.dhcp_fingerprint};
        case Field::mdns_service: return all(id.mdns_services);
        case Field::dns_name: return all(id.dns_names);
        case Field::model: return all(id.models);
        case Field::random_mac: return {};
    }
    return {};
}

bool search(const std::regex& re, std::string_view value) {
    if (value.empty()) return false;  // an absent value matches nothing, not even /.*/
    try {
        return std::regex_search(value.begin(), value.end(), re);
    } catch (const std::regex_error&) {
        // libstdc++ gives up on pathological patterns (error_complexity / error_stack):
        // then the rule simply does not count.
        return false;
    }
}

// ---- loading ----

// Whether a repeated group holds a repetition itself ("(a+)+", "(\\w+\\.)*x"): on a
// non-matching text a backtracking engine tries every way to split it, exponential in its
// length, and the text here comes from the devices.
bool nested_repetition(std::string_view pattern) {
    std::vector<bool> group_repeats;  // per open group: holds a quantifier
    bool in_class = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        char c = pattern[i];
        if (c == '\\') {
            ++i;  // an escaped character is a literal (or a class like \w)
            continue;
        }
        if (in_class) {
            in_class = c != ']';
            continue;
        }
        char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
        bool quantified = next == '*' || next == '+' || next == '{';
        switch (c) {
            case '[': in_class = true; break;
            case '(': group_repeats.push_back(false); break;
            case ')': {
                if (group_repeats.empty()) break;
                bool inner = group_repeats.back();
                group_repeats.pop_back();
                if (inner && quantified) return true;
                if (!group_repeats.empty())
                    group_repeats.back() = group_repeats.back() || inner || quantified;
                break;
            }
            case '*':
            case '+':
            case '{':
                if (!group_repeats.empty()) group_repeats.back() = true;
                break;
            default: break;
        }
    }
    return false;
}

using yamlfile::Checker;
using yamlfile::describe;
using yamlfile::first_at;
using yamlfile::FirstSeen;
using yamlfile::line_of;
using yamlfile::Value;

// A non-empty text: a pattern that is empty would match every value.
std::optional<std::string> non_empty_text(Checker& c, const Value& v, std::string_view what) {
    if (v.node.IsScalar() && v.node.Scalar().empty()) {
        c.error(v.mark, v.path, "expected " + std::string(what) + ", found " + describe(v.node));
        return std::nullopt;
    }
    return c.text(v, what);
}

std::string known_types() {
    std::string out;
    for (int t = 0; t <= static_cast<int>(policy::DeviceType::unknown); ++t) {
        if (!out.empty()) out += ", ";
        out += policy::to_string(static_cast<policy::DeviceType>(t));
    }
    return out;
}

std::vector<std::string> all_types() {
    std::vector<std::string> out;
    for (int t = 0; t <= static_cast<int>(policy::DeviceType::unknown); ++t)
        out.emplace_back(policy::to_string(static_cast<policy::DeviceType>(t)));
    return out;
}

void read_types(Checker& c, const Value& v, std::vector<std::string>& out) {
    std::string what = "a list of device types (" + known_types() + ")";
    auto items = c.list(v, what);
    if (!items) return;
    if (items->empty()) {
        c.error(v.mark, v.path, "expected " + what + ", found " + describe(v.node));
        return;
    }
    std::vector<std::string> types;
    FirstSeen<std::string> seen;
    for (const auto& item : *items) {
        auto name = item.node.IsScalar() ? c.text(item, "a device type") : std::nullopt;
        if (!name || !policy::parse_device_type(*name)) {
            if (!item.node.IsScalar() || name)
                c.error(item.mark, item.path, "expected one of " + known_types() + ", found " + describe(item.node));
            continue;
        }
        if (auto first = seen.repeat(*name, item.mark)) {
            c.error(item.mark, item.path, "'" + *name + "' is listed twice " + first_at(*first));
            continue;
        }
        types.push_back(*name);
    }
    out = std::move(types);
}

std::optional<TypeRule> read_rule(Checker& c, const Value& v, const std::vector<std::string>& types) {
    static constexpr std::string_view keys[] = {
        "type",         "weight",   "vendor", "hostname",  "vendor_class", "dhcp_fingerprint",
        "mdns_service", "dns_name", "model",  "random_mac"};
    std::string what = "a rule: a mapping with type, weight and one match key";
    if (v.node.IsNull()) {  // an empty mapping would only say "missing" twice
        c.error(v.mark, v.path, "expected " + what + ", found nothing");
        return std::nullopt;
    }
    auto fields = c.mapping(v, keys, what);
    if (!fields) return std::nullopt;
    TypeRule rule;
    rule.line = line_of(v.mark);
    bool ok = true;
    if (const yamlfile::Field* f = c.required(*fields, "type", "the device type this rule votes for")) {
        auto t = non_empty_text(c, f->value, "a device type");
        if (!t) {
            ok = false;
        } else if (*t == "unknown") {
            c.error(f->value.mark, f->value.path, "a rule cannot vote for unknown; name a device type");
            ok = false;
        } else if (std::find(types.begin(), types.end(), *t) == types.end()) {
            std::string list;
            for (const auto& x : types)
                if (x != "unknown") list += (list.empty() ? "" : ", ") + x;
            c.error(f->value.mark, f->value.path, "unknown type '" + *t + "'; expected one of: " + list);
            ok = false;
        } else {
            rule.type = *t;
        }
    } else {
        ok = false;
    }
    if (const yamlfile::Field* f = c.required(*fields, "weight", "a number, e.g. weight: 30")) {
        auto w = c.whole_number(f->value, -max_weight, max_weight);
        if (!w) {
            ok = false;
        } else if (*w == 0) {
            c.error(f->value.mark, f->value.path, "a weight of 0 changes nothing; expected a non-zero number");
            ok = false;
        } else {
            rule.weight = static_cast<int>(*w);
        }
    } else {
        ok = false;
    }
    std::vector<const yamlfile::Field*> matches;
    for (const auto& f : fields->found)
        if (f.name != "type" && f.name != "weight") matches.push_back(&f);
    if (matches.size() != 1) {
        std::string expected =
            "exactly one match key (vendor, hostname, vendor_class, "
            "dhcp_fingerprint, mdns_service, dns_name, model or random_mac)";
        if (matches.empty())
            c.error(v.mark, v.path, "no match key; expected " + expected);
        else
            c.error(matches[1]->key_mark, matches[1]->value.path,
                    "a second match key in one rule; expected " + expected + " (write two rules to count both)");
        return std::nullopt;
    }
    const Value& m = matches[0]->value;
    for (const auto& f : field_names)
        if (f.key == matches[0]->name) rule.field = f.field;
    if (rule.field == Field::random_mac) {
        if (!m.node.IsScalar() || m.node.Scalar() != "true") {
            c.error(m.mark, m.path,
                    "expected true (the rule counts devices with a randomised MAC), found " + describe(m.node));
            return std::nullopt;
        }
    } else {
        auto pattern = non_empty_text(c, m, "a regular expression (ECMAScript, case-insensitive)");
        if (!pattern) return std::nullopt;
        rule.pattern = *pattern;
        if (nested_repetition(rule.pattern)) {
            c.error(m.mark, m.path,
                    "/" + rule.pattern +
                        "/ repeats a group that holds a repetition itself; "
                        "its matching time can grow exponentially with the text, which devices "
                        "choose: write it without nesting (e.g. [a-z0-9.]+ instead of "
                        "([a-z0-9]+\\.)+)");
            return std::nullopt;
        }
        try {
            rule.regex = std::regex(rule.pattern, std::regex::ECMAScript | std::regex::icase | std::regex::nosubs);
        } catch (const std::regex_error& e) {
            c.error(m.mark, m.path, "bad regular expression /" + rule.pattern + "/: " + e.what());
            return std::nullopt;
        }
    }
    if (!ok) return std::nullopt;
    return rule;
}

}  // namespace

std::string_view to_string(Field field) {
    for (const auto& f : field_names)
        if (f.field == field) return f.key;
    return "?";
}

DeviceTypesLoad DeviceTypes::load_text(std::string_view yaml, const std::string& name) {
    static uint64_t loads = 0;
    DeviceTypes rules;
    rules.id_ = ++loads;
    rules.source_ = name;
    rules.types_ = all_types();
    Checker c(name);
    if (auto root = c.parse(yaml, "device-type rules file")) {
        static constexpr std::string_view keys[] = {"types", "min_score", "rules"};
        try {
            auto fields = c.mapping(Checker::root(*root), keys, "a mapping with types, min_score and rules");
            if (fields) {
                // types first: the rules are checked against it wherever it is in the file.
                if (auto f = fields->get("types")) read_types(c, f->value, rules.types_);
                if (auto f = fields->get("min_score"))
                    if (auto n = c.whole_number(f->value, 1, max_min_score)) rules.min_score_ = static_cast<int>(*n);
                if (auto f = c.required(*fields, "rules", "a list of rules"))
                    if (auto items = c.list(f->value, "a list of rules"))
                        for (const auto& item : *items)
                            if (auto rule = read_rule(c, item, rules.types_)) rules.rules_.push_back(std::move(*rule));
            }
        } catch (const YAML::Exception& e) {
            c.error(e.mark, "", std::string("unexpected YAML error: ") + e.what());
        }
    }
    c.sort_by_position();
    DeviceTypesLoad out;
    out.errors = std::move(c.errors);
    if (out.errors.empty()) out.rules = std::move(rules);
    return out;
}

DeviceTypesLoad DeviceTypes::load_file(const std::string& path) {
    DeviceTypesLoad out;
    if (auto text = yamlfile::read_file(path, "device-type rules file", out.errors))
        return load_text(*text, path);
    return out;
}

const std::vector<uint16_t>& DeviceTypes::matching(Field field, std::string_view value,
                                                   RuleMatchMemo& memo) const {
    if (memo.rules_id_ != id_) {
        memo.matches_.clear();
        memo.rules_id_ = id_;
    }
    std::string key;
    key.reserve(value.size() + 1);
    key += static_cast<char>('0' + static_cast<int>(field));
    key += value;
    if (auto it = memo.matches_.find(key); it != memo.matches_.end()) return it->second;
    if (memo.matches_.size() >= memo.capacity_) memo.matches_.clear();
    std::vector<uint16_t> found;
    for (size_t i = 0; i < rules_.size(); ++i)
        if (rules_[i].field == field && search(rules_[i].regex, value))
            found.push_back(static_cast<uint16_t>(i));
    return memo.matches_.emplace(std::move(key), std::move(found)).first->second;
}

Classification DeviceTypes::classify(const Identity& id, RuleMatchMemo* memo) const {
    RuleMatchMemo local;
    if (!memo) memo = &local;
    // The first value of each field that each rule matches: one memo lookup per value.
    std::vector<std::optional<std::string_view>> matched(rules_.size());
    for (Field field :
         {Field::vendor, Field::hostname, Field::vendor_class, Field::dhcp_fingerprint,
          Field::mdns_service, Field::dns_name, Field::model}) {
        for (auto value : values_of(id, field)) {
            if (value.empty()) continue;
            for (uint16_t rule : matching(field, value, *memo))
                if (!matched[rule]) matched[rule] = value;  // a rule counts once
        }
    }
    Classification out;
    std::vector<int> scores(types_.size(), 0);
    bool any = false;
    for (size_t i = 0; i < rules_.size(); ++i) {
        const TypeRule& rule = rules_[i];
        std::string line;
        if (rule.field == Field::random_mac) {
            if (!id.random_mac) continue;
            line = "MAC is randomised (locally administered)";
        } else {
            if (!matched[i]) continue;
            line = std::string(to_string(rule.field)) + " \"" + std::string(*matched[i]) +
                   "\" matches /" + rule.pattern + "/";
        }
        auto t = std::find(types_.begin(), types_.end(), rule.type) - types_.begin();
        scores[t] += rule.weight;
        any = true;
        line += ": " + rule.type + (rule.weight > 0 ? " +" : " ") + std::to_string(rule.weight);
        out.evidence.push_back(std::move(line));
    }
    if (!any) {
        out.evidence.push_back("no rule matched");
        return out;
    }
    std::optional<size_t> best;
    for (size_t i = 0; i < types_.size(); ++i) {
        if (types_[i] == "unknown") continue;
        if (!best || scores[i] > scores[*best]) best = i;  // a tie keeps the earlier type
    }
    if (best && scores[*best] >= min_score_) {
        out.type = types_[*best];
        out.score = scores[*best];
    } else if (best && scores[*best] <= 0) {
        out.evidence.push_back("no type scored above 0: unknown");
    } else if (best) {
        out.evidence.push_back("best score " + std::to_string(scores[*best]) + " (" +
                               types_[*best] + ") is below min_score " +
                               std::to_string(min_score_) + ": unknown");
    }
    return out;
}

bool DeviceTypes::matters(Field field, std::string_view value, RuleMatchMemo* memo) const {
    if (value.empty()) return false;
    RuleMatchMemo local;
    return !matching(field, value, memo ? *memo : local).empty();
}

}  // namespace warden::identity
