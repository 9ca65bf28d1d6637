// The policy's keys as data: every key the loader (policy.cpp) accepts, with its type, its
// default and what it means, for the warden-policy(5) man page. Read-only: the loader does not
// use it; tests/unit/test_policy_schema.cpp feeds every key to the loader, and every section's
// unknown-key message back to this table, so the two cannot drift apart.
#pragma once

#include <string>
#include <vector>

namespace warden::policy {

struct SchemaKey {
    // "interval", "map_sizes.devices"; "devices[].mac" for a key of each item of a list.
    std::string path;
    std::string type;  // what the value is: "duration from 100ms to 1h", "a mapping", ...
    // The default as it is written in YAML (shown in the man page and fed to the loader by
    // the test); empty when the key has none (required, or an empty list or section).
    std::string default_value;
    std::string meaning;  // one or two sentences
    // A value the loader accepts, for keys without a default (the test feeds it).
    std::string example = {};
};

const std::vector<SchemaKey>& schema();

// The keys directly under `parent` ("" for the top level, "devices[]" for a list's items).
std::vector<const SchemaKey*> children(const std::string& parent);
// True when other keys live under this one (a section, or a list of mappings).
bool is_section(const SchemaKey& key);

}  // namespace warden::policy
