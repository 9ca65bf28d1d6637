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

    void merge(const Profiles& other);
    bool operator==(const Profiles&) const = default;

    // {"format": "warden-profiles", "version": 1, "types": {"camera": {...}, ...}}
    nlohmann::json to_json() const;
    // Throws std::invalid_argument naming what is wrong (format, version, type, feature).
    static Profiles from_json(const nlohmann::json&);
    static Profiles read_file(const std::string& path);   // throws std::runtime_error
    void write_file(const std::string& path) const;       // atomically; throws on I/O errors
};

Profiles merge(std::span<const Profiles> profiles);

}  // namespace warden::engine
