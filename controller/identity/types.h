// What kind of device this is (camera, speaker, tv, ...): weighted rules from
// config/device-types.yaml matched against what warden knows of a device (its Identity).
// Every rule that matches adds its weight to its type; the best score at or above min_score
// wins, and the evidence says which value matched which pattern.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "identity/identity.h"
#include "policy/policy.h"  // Diagnostic, DeviceType names

namespace warden::identity {

// The parts of an Identity a rule can look at. Each rule names exactly one.
enum class Field : int {
    vendor,            // OUI organisation
    hostname,          // DHCP 12/81, DHCPv6 39
    vendor_class,      // DHCP 60, DHCPv6 16
    dhcp_fingerprint,  // DHCP 55 list ("1,3,6,...") or DHCPv6 ORO ("v6:23,24")
    mdns_service,      // any announced service type ("_ipp._tcp")
    dns_name,          // any name it looked up
    model,             // any model string (mDNS TXT, SSDP SERVER)
    random_mac,        // the MAC is locally administered (the rule's value is true)
};

std::string_view to_string(Field);

struct TypeRule {
    std::string type;  // one of DeviceTypes::types()
    int weight = 0;
    Field field = Field::vendor;
    std::string pattern;  // as written; empty for random_mac
    std::regex regex;     // ECMAScript, case-insensitive, searched (not full-match)
    int line = 0;         // in the rules file, for reading the evidence against it
};

struct Classification {
    std::string type = "unknown";
    int score = 0;
    // One line per rule that matched, in rules-file order:
    //   vendor "Espressif Inc." matches /espressif/: plug +20
    // and, when nothing reached min_score, a last line saying so.
    std::vector<std::string> evidence;
};

struct DeviceTypesLoad;
class DeviceTypes;

// Which rules match a value, remembered: a device's lists hold up to 112 values of up to 255
// bytes, and searching all of them with every rule at each change would cost milliseconds
// (a device can change its list at every DNS query). With the memo each distinct value costs
// its field's regex searches once. Bounded: when full it starts over.
class RuleMatchMemo {
public:
    explicit RuleMatchMemo(size_t capacity = 4096) : capacity_(capacity) {}
    size_t size() const { return matches_.size(); }
    void clear() { matches_.clear(); }

private:
    friend class DeviceTypes;
    uint64_t rules_id_ = 0;  // the rules the memo is for (indices are theirs)
    std::unordered_map<std::string, std::vector<uint16_t>> matches_;  // field byte + value
    size_t capacity_;
};

class DeviceTypes {
public:
    // Reads and checks config/device-types.yaml; `name` stands for the file in diagnostics.
    static DeviceTypesLoad load_file(const std::string& path);
    static DeviceTypesLoad load_text(std::string_view yaml, const std::string& name);

    // memo (optional) remembers the regex results for the next call.
    Classification classify(const Identity& identity, RuleMatchMemo* memo = nullptr) const;

    // Whether a value of this field matches any rule: a change to a list that adds or drops
    // only values no rule looks at cannot change the type, so no reclassification is needed.
    bool matters(Field field, std::string_view value, RuleMatchMemo* memo = nullptr) const;

    // Types in tie-break order (earlier wins a tie).
    const std::vector<std::string>& types() const { return types_; }
    int min_score() const { return min_score_; }
    const std::vector<TypeRule>& rules() const { return rules_; }

private:
    // The rules of `field` that match value (indices into rules_), through the memo.
    const std::vector<uint16_t>& matching(Field field, std::string_view value,
                                          RuleMatchMemo& memo) const;

    uint64_t id_ = 0;  // distinct for every load, so a memo never mixes two rule sets
    std::vector<std::string> types_;
    int min_score_ = 20;
    std::vector<TypeRule> rules_;
    std::string source_;
};

// Rules present exactly when there are no errors; every error is reported (with
// file:line:column and the key path), not only the first.
struct DeviceTypesLoad {
    std::optional<DeviceTypes> rules;
    std::vector<policy::Diagnostic> errors;
};

}  // namespace warden::identity
