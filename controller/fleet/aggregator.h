// The operator's side of fleet learning (`warden fleet aggregate`): keeps the latest profile
// of each (device type, gateway) from the prof/v1/<type>/<gateway> topics, merges each type's
// profiles exactly (engine::merge: associative and commutative, so a repeated or redelivered
// profile changes nothing and shards never need a final reduce), and publishes a type's prior,
// signed, retained on bcast/v1/priors/<type> once at least k gateways contributed, so that no
// single home can be read out of it. Its state survives restarts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/profiles.h"
#include "fleet/signing.h"
#include "policy/policy.h"

namespace warden::fleet {

class PriorBook {
public:
    // Reads the state file when it exists (throws naming it when it is damaged).
    explicit PriorBook(std::filesystem::path state_file);

    // One message of prof/v1/<type>/<gateway>: the type's baseline becomes that gateway's
    // latest. Returns false (and changes nothing) when it is not a profile of that type.
    bool take(const std::string& type, const std::string& gateway, const nlohmann::json& payload,
              std::string* why = nullptr);

    struct Prior {
        engine::Profiles profiles;  // the merge, of this type only
        size_t homes = 0;           // gateways that contributed
    };
    // The priors of the types with at least k gateways, merged in gateway order.
    std::map<std::string, Prior> priors(size_t k) const;
    size_t gateways(const std::string& type) const;

    void save() const;  // atomically

private:
    std::filesystem::path file_;
    std::map<std::string, std::map<std::string, engine::Profiles>> latest_;  // type -> gateway -> profile
};

// The signed broadcast of one prior (import_priors for gateway "*"), issued at now_ms.
nlohmann::json prior_message(const std::string& type, const PriorBook::Prior& prior, const Key& signer,
                             int64_t now_ms);

struct AggregateOptions {
    std::vector<std::string> types;  // the shard; empty: every type
    size_t min_homes = 5;
    int64_t every_ms = 60'000;
    std::string sign_key;            // the operator's Ed25519 private key (PEM)
    std::string state_file;
    int64_t run_for_ms = 0;          // 0: until SIGINT/SIGTERM
};

// Runs the aggregator against the broker; returns the process exit code.
int run_aggregator(const policy::Fleet& broker, const std::string& client_id, const AggregateOptions& options);

}  // namespace warden::fleet
