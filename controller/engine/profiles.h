// Per-type profiles shared across gateways: the baselines of device types (camera, plug,
// ...) without MACs, names or addresses. Export writes what this gateway learned; import
// loads a file as priors (used until devices have histories of their own); merge adds any
// number of files exactly, so merging A+B then C, A then B+C, or one gateway that saw all
// three gives the same bytes.
#pragma once

#include <map>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/baseline.h"

namespace warden::engine {

struct Profiles {
    std::map<std::string, Baseline> types;  // by type name
    // A fleet prior's provenance: how many homes (gateways) each type's profile was merged
    // from. Set by the fleet's aggregator; absent from one gateway's own export. The engine
    // names it in the evidence of what it judges by the prior.
    std::map<std::string, uint64_t> homes;

    void merge(const Profiles& other);
    bool operator==(const Profiles&) const = default;

    // {"format": "warden-profiles", "version": 1, "types": {"camera": {...}, ...}}, and
    // "homes": {"camera": 1200, ...} when known. Merging adds the homes of each type.
    nlohmann::json to_json() const;
    // Throws std::invalid_argument naming what is wrong (format, version, type, feature).
    static Profiles from_json(const nlohmann::json&);
    static Profiles read_file(const std::string& path);   // throws std::runtime_error
    void write_file(const std::string& path) const;       // atomically; throws on I/O errors
};

Profiles merge(std::span<const Profiles> profiles);

}  // namespace warden::engine
