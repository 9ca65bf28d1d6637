// `warden devices --explain MAC`: what warden knows of one device and where each fact came
// from, then the type rules that matched it (file line, weight, the value they matched), the
// scores and the winner, or the policy's entry that overrides them. Built as JSON first
// (`--json` prints it as is); the text is drawn from that JSON, so the two always agree.
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "identity/types.h"
#include "net/address.h"
#include "policy/policy.h"

namespace warden::cli {

struct ExplainInput {
    net::Mac mac;
    std::string name;                       // the policy's or the inventory's name; may be empty
    std::optional<net::IpAddr> ip4, ip6;    // the inventory's last addresses
    nlohmann::json identity;                // the inventory's identity (null or {} when none)
    const policy::NamedDevice* named = nullptr;    // the policy's entry for the device
    const identity::DeviceTypes* rules = nullptr;  // the rules file as it is now; null: not loaded
    std::string rules_path;                 // where the rules are (policy identity.device_types)
    std::string rules_error;                // why they were not loaded, when not
    std::string ieee_data;                  // the vendor registry (policy identity.ieee_data)
    std::map<std::string, std::string> peer_names;  // address -> name, from names.json
};

nlohmann::json explain_device(const ExplainInput& in);
void print_explanation(const nlohmann::json& explanation, std::ostream& out);

}  // namespace warden::cli
