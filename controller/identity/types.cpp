#include "identity/types.h"
#include "text/text.h"
#include "yamlfile/yamlfile.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <span>

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

using yamlfile::column_of;
using yamlfile::describe;
using yamlfile::is_quoted;
using yamlfile::line_of;
using yamlfile::value_mark;

// Collects every problem with its position and key path.
class Loader {
public:
    explicit Loader(std::string file) : file_(std::move(file)) {}
    std::vector<policy::Diagnostic> errors;

    void error(const YAML::Mark& at, std::string key, std::string message) {
        errors.push_back({file_, line_of(at), column_of(at), std::move(key), std::move(message)});
    }

    struct Entry {
        std::string name;
        YAML::Node key, value;
        YAML::Mark mark;  // of the value (or the key when empty)
        std::string path;
    };

    // The entries of a mapping whose keys are all in `allowed`, each once.
    std::optional<std::vector<Entry>> mapping(const YAML::Node& node, const YAML::Mark& at,
                                              const std::string& path,
                                              std::span<const std::string_view> allowed,
                                              std::string_view what) {
        if (!node.IsMap()) {
            error(at, path, "expected " + std::string(what) + ", found " + describe(node));
            return std::nullopt;
        }
        std::vector<Entry> out;
        std::map<std::string, int> seen;
        for (const auto& kv : node) {
            YAML::Node key = kv.first, value = kv.second;
            if (!key.IsScalar()) {
                error(key.Mark(), path, "expected a key name, found " + describe(key));
                continue;
            }
            std::string name = key.Scalar();
            std::string shown = text::printable(name);
            std::string sub = path.empty() ? shown : path + "." + shown;
            if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
                std::string list;
                for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
                error(key.Mark(), sub, "unknown key; expected one of: " + list);
                continue;
            }
            auto [first, fresh] = seen.emplace(name, line_of(key.Mark()));
            if (!fresh) {
                error(key.Mark(), sub,
                      "duplicate key (first at line " + std::to_string(first->second) + ")");
                continue;
            }
            out.push_back({name, key, value, value_mark(key, value), sub});
        }
        return out;
    }

    std::optional<long> integer(const Entry& e, long min, long max) {
        std::string what =
            "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
        if (!e.value.IsScalar()) {
            error(e.mark, e.path, "expected " + what + ", found " + describe(e.value));
            return std::nullopt;
        }
        if (is_quoted(e.value)) {
            error(e.mark, e.path,
                  "expected " + what + ", found the quoted text " + describe(e.value) +
                      " (write it without quotes)");
            return std::nullopt;
        }
        const std::string& s = e.value.Scalar();
        size_t digits_from = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
        bool ok = s.size() > digits_from && s.size() <= 12 &&
                  std::all_of(s.begin() + digits_from, s.end(),
                              [](char c) { return c >= '0' && c <= '9'; });
        long n = ok ? std::stol(s) : 0;
        if (!ok || n < min || n > max) {
            error(e.mark, e.path, "expected " + what + ", found " + describe(e.value));
            return std::nullopt;
        }
        return n;
    }

    std::optional<std::string> text(const Entry& e, std::string_view what) {
        if (!e.value.IsScalar() || e.value.Scalar().empty()) {
            error(e.mark, e.path, "expected " + std::string(what) + ", found " + describe(e.value));
            return std::nullopt;
        }
        if (auto flaw = text::first_flaw(e.value.Scalar())) {
            error(e.mark, e.path,
                  "expected " + std::string(what) + ", found " + describe(e.value) + ", which holds " +
                      flaw->str());
            return std::nullopt;
        }
        return e.value.Scalar();
    }

private:
    std::string file_;
};

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

void read_types(Loader& l, const Loader::Entry& e, std::vector<std::string>& out) {
    if (!e.value.IsSequence() || e.value.size() == 0) {
        l.error(
            e.mark, e.path,
            "expected a list of device types (" + known_types() + "), found " + describe(e.value));
        return;
    }
    std::vector<std::string> types;
    size_t i = 0;
    for (const auto& item : e.value) {
        std::string path = e.path + "[" + std::to_string(i++) + "]";
        YAML::Mark at = item.Mark().is_null() ? e.mark : item.Mark();
        if (!item.IsScalar() || !policy::parse_device_type(item.Scalar())) {
            l.error(at, path, "expected one of " + known_types() + ", found " + describe(item));
            continue;
        }
        if (std::find(types.begin(), types.end(), item.Scalar()) != types.end()) {
            l.error(at, path, "'" + item.Scalar() + "' is listed twice");
            continue;
        }
        types.push_back(item.Scalar());
    }
    out = std::move(types);
}

std::optional<TypeRule> read_rule(Loader& l, const YAML::Node& node, const YAML::Mark& at,
                                  const std::string& path, const std::vector<std::string>& types) {
    static constexpr std::string_view keys[] = {
        "type",         "weight",   "vendor", "hostname",  "vendor_class", "dhcp_fingerprint",
        "mdns_service", "dns_name", "model",  "random_mac"};
    auto entries =
        l.mapping(node, at, path, keys, "a rule: a mapping with type, weight and one match key");
    if (!entries) return std::nullopt;
    TypeRule rule;
    rule.line = line_of(at);
    bool ok = true, have_type = false, have_weight = false;
    std::vector<const Loader::Entry*> matches;
    for (const auto& e : *entries) {
        if (e.name == "type") {
            have_type = true;
            auto t = l.text(e, "a device type");
            if (!t) {
                ok = false;
            } else if (*t == "unknown") {
                l.error(e.mark, e.path, "a rule cannot vote for unknown; name a device type");
                ok = false;
            } else if (std::find(types.begin(), types.end(), *t) == types.end()) {
                std::string list;
                for (const auto& x : types)
                    if (x != "unknown") list += (list.empty() ? "" : ", ") + x;
                l.error(e.mark, e.path, "unknown type '" + *t + "'; expected one of: " + list);
                ok = false;
            } else {
                rule.type = *t;
            }
        } else if (e.name == "weight") {
            have_weight = true;
            auto w = l.integer(e, -max_weight, max_weight);
            if (!w) {
                ok = false;
            } else if (*w == 0) {
                l.error(e.mark, e.path,
                        "a weight of 0 changes nothing; expected a non-zero number");
                ok = false;
            } else {
                rule.weight = static_cast<int>(*w);
            }
        } else {
            matches.push_back(&e);
        }
    }
    if (!have_type) {
        l.error(at, path + ".type", "missing; expected the device type this rule votes for");
        ok = false;
    }
    if (!have_weight) {
        l.error(at, path + ".weight", "missing; expected a number, e.g. weight: 30");
        ok = false;
    }
    if (matches.size() != 1) {
        std::string what =
            "exactly one match key (vendor, hostname, vendor_class, "
            "dhcp_fingerprint, mdns_service, dns_name, model or random_mac)";
        if (matches.empty())
            l.error(at, path, "no match key; expected " + what);
        else
            l.error(matches[1]->key.Mark(), matches[1]->path,
                    "a second match key in one rule; expected " + what +
                        " (write two rules to count both)");
        return std::nullopt;
    }
    const Loader::Entry& m = *matches[0];
    for (const auto& f : field_names)
        if (f.key == m.name) rule.field = f.field;
    if (rule.field == Field::random_mac) {
        if (!m.value.IsScalar() || m.value.Scalar() != "true") {
            l.error(m.mark, m.path,
                    "expected true (the rule counts devices with a randomised MAC), found " +
                        describe(m.value));
            return std::nullopt;
        }
    } else {
        auto pattern = l.text(m, "a regular expression (ECMAScript, case-insensitive)");
        if (!pattern) return std::nullopt;
        rule.pattern = *pattern;
        if (nested_repetition(rule.pattern)) {
            l.error(m.mark, m.path,
                    "/" + rule.pattern +
                        "/ repeats a group that holds a repetition itself; "
                        "its matching time can grow exponentially with the text, which devices "
                        "choose: write it without nesting (e.g. [a-z0-9.]+ instead of "
                        "([a-z0-9]+\\.)+)");
            return std::nullopt;
        }
        try {
            rule.regex = std::regex(
                rule.pattern, std::regex::ECMAScript | std::regex::icase | std::regex::nosubs);
        } catch (const std::regex_error& e) {
            l.error(m.mark, m.path, "bad regular expression /" + rule.pattern + "/: " + e.what());
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
    DeviceTypesLoad out;
    out.errors = yamlfile::check_characters(yaml, name);
    if (!out.errors.empty()) return out;
    Loader l(name);
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        l.error(e.mark, "", e.msg.empty() ? "invalid YAML" : e.msg);
        out.errors = std::move(l.errors);
        return out;
    }
    static uint64_t loads = 0;
    DeviceTypes rules;
    rules.id_ = ++loads;
    rules.source_ = name;
    rules.types_ = all_types();
    try {
        static constexpr std::string_view keys[] = {"types", "min_score", "rules"};
        auto top =
            l.mapping(root, root.Mark(), "", keys, "a mapping with types, min_score and rules");
        if (top) {
            const Loader::Entry* rules_entry = nullptr;
            // types first: the rules are checked against it wherever it is in the file.
            for (const auto& e : *top)
                if (e.name == "types") read_types(l, e, rules.types_);
            for (const auto& e : *top) {
                if (e.name == "min_score") {
                    if (auto n = l.integer(e, 1, max_min_score))
                        rules.min_score_ = static_cast<int>(*n);
                } else if (e.name == "rules") {
                    rules_entry = &e;
                }
            }
            if (!rules_entry) {
                l.error(root.Mark(), "rules", "missing; expected a list of rules");
            } else if (!rules_entry->value.IsSequence()) {
                l.error(rules_entry->mark, rules_entry->path,
                        "expected a list of rules, found " + describe(rules_entry->value));
            } else {
                size_t i = 0;
                for (const auto& item : rules_entry->value) {
                    std::string path = "rules[" + std::to_string(i++) + "]";
                    YAML::Mark at = item.Mark().is_null() ? rules_entry->mark : item.Mark();
                    if (auto rule = read_rule(l, item, at, path, rules.types_))
                        rules.rules_.push_back(std::move(*rule));
                }
            }
        }
    } catch (const YAML::Exception& e) {
        l.error(e.mark, "", std::string("unexpected YAML error: ") + e.what());
    }
    std::stable_sort(l.errors.begin(), l.errors.end(), [](const auto& a, const auto& b) {
        return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    out.errors = std::move(l.errors);
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
