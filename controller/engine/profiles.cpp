#include "engine/profiles.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace warden::engine {

namespace {

constexpr const char* format_name = "warden-profiles";
constexpr int format_version = 1;

bool valid_type_name(const std::string& name) {
    if (name.empty() || name.size() > 32) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

}  // namespace

void Profiles::merge(const Profiles& other) {
    for (const auto& [type, baseline] : other.types) types[type].merge(baseline);
    for (const auto& [type, n] : other.homes) homes[type] += n;
}

nlohmann::json Profiles::to_json() const {
    nlohmann::json out_types = nlohmann::json::object();
    for (const auto& [type, baseline] : types) out_types[type] = baseline.to_json();
    nlohmann::json out{{"format", format_name}, {"version", format_version}, {"types", std::move(out_types)}};
    if (!homes.empty()) out["homes"] = homes;
    return out;
}

Profiles Profiles::from_json(const nlohmann::json& j) {
    if (!j.is_object() || j.value("format", "") != format_name)
        throw std::invalid_argument(std::string("not a profiles file: expected \"format\": \"") +
                                    format_name + "\"");
    if (!j.contains("version") || !j["version"].is_number_integer() ||
        j["version"].get<int>() != format_version)
        throw std::invalid_argument("profiles version " +
                                    (j.contains("version") ? j["version"].dump() : "missing") +
                                    " is not supported (expected 1)");
    if (!j.contains("types") || !j["types"].is_object())
        throw std::invalid_argument("profiles: \"types\" must be an object of type names");
    Profiles p;
    for (const auto& [type, baseline] : j["types"].items()) {
        if (!valid_type_name(type))
            throw std::invalid_argument("profiles: '" + type +
                                        "' is not a device type name (a-z, 0-9, _ and -)");
        try {
            p.types[type] = Baseline::from_json(baseline);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument("profiles: type " + type + ": " + e.what());
        }
    }
    if (j.contains("homes")) {
        if (!j["homes"].is_object())
            throw std::invalid_argument("profiles: \"homes\" must be an object of type names");
        for (const auto& [type, n] : j["homes"].items()) {
            if (!p.types.count(type))
                throw std::invalid_argument("profiles: homes." + type + ": no profile of that type");
            if (!n.is_number_integer() || n.get<int64_t>() < 1)
                throw std::invalid_argument("profiles: homes." + type + ": expected a whole number from 1");
            p.homes[type] = n.get<uint64_t>();
        }
    }
    return p;
}

Profiles Profiles::read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read the profiles file");
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(path + ": not JSON: " + e.what());
    }
    try {
        return from_json(j);
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(path + ": " + e.what());
    }
}

void Profiles::write_file(const std::string& path) const {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << to_json().dump() << "\n";
        out.flush();
        if (!out) throw std::runtime_error(tmp + ": cannot write the profiles file");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw std::runtime_error(path + ": cannot replace the profiles file");
    }
}

Profiles merge(std::span<const Profiles> profiles) {
    Profiles out;
    for (const auto& p : profiles) out.merge(p);
    return out;
}

}  // namespace warden::engine
