#include "store/state.h"

#include <chrono>
#include <stdexcept>

#include "store/files.h"
#include "store/jsonlines.h"
#include "text/text.h"

namespace warden::store {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t now_unix_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

constexpr int kVersion = 1;

net::Mac mac_field(const json& j) {
    if (!j.contains("mac") || !j["mac"].is_string()) throw std::invalid_argument("missing \"mac\"");
    auto m = net::Mac::parse(j["mac"].get<std::string>());
    if (!m) throw std::invalid_argument("bad \"mac\": " + j["mac"].get<std::string>());
    return *m;
}

int64_t int_field(const json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_number_integer())
        throw std::invalid_argument(std::string("missing or non-integer \"") + key + "\"");
    return j[key].get<int64_t>();
}

std::optional<net::IpAddr> addr_field(const json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    if (!j[key].is_string()) throw std::invalid_argument(std::string("non-string \"") + key + "\"");
    auto a = net::IpAddr::parse(j[key].get<std::string>());
    if (!a) throw std::invalid_argument(std::string("bad address in \"") + key + "\"");
    return a;
}

std::string string_field(const json& j, const char* key, const std::string& fallback = "") {
    if (!j.contains(key)) return fallback;
    if (!j[key].is_string()) throw std::invalid_argument(std::string("non-string \"") + key + "\"");
    return j[key].get<std::string>();
}

// Strings in the records are made printable: the file may have been edited by hand.
template <typename Record, typename Parse>
Loaded<Record> load_lines(const fs::path& file, const char* format, Parse parse) {
    Loaded<Record> out;
    auto read = read_json_lines(file, format, kVersion, [&](const json& line) {
        json j = line;
        text::printable_strings(j);
        out.records.push_back(parse(j));
    });
    out.problems = std::move(read.problems);
    out.moved_aside = std::move(read.moved_aside);
    return out;
}

template <typename Record>
void save_lines(const fs::path& file, const char* format, const std::vector<Record>& records) {
    std::string text = json{{"format", format}, {"version", kVersion}}.dump() + "\n";
    for (const auto& r : records) text += to_json(r).dump() + "\n";
    write_atomically(file, text);
}

}  // namespace

json to_json(const QuarantineRecord& r) {
    json j{{"mac", r.mac.str()}, {"level", text::name(r.level)}, {"origin", r.origin},
           {"reason", r.reason}, {"since_ms", r.since_ms}};
    if (!r.by.empty()) j["by"] = r.by;
    j["expires_ms"] = r.expires_ms ? json(*r.expires_ms) : json(nullptr);
    return j;
}

QuarantineRecord quarantine_from_json(const json& j) {
    if (!j.is_object()) throw std::invalid_argument("not an object");
    QuarantineRecord r;
    r.mac = mac_field(j);
    std::string level = string_field(j, "level");
    auto parsed = text::parse_quarantine_level(level);
    if (!parsed) throw std::invalid_argument("bad \"level\": " + level);
    r.level = *parsed;
    r.origin = string_field(j, "origin", "operator");
    r.by = string_field(j, "by");
    r.reason = string_field(j, "reason");
    r.since_ms = int_field(j, "since_ms");
    if (j.contains("expires_ms") && !j["expires_ms"].is_null()) r.expires_ms = int_field(j, "expires_ms");
    return r;
}

json to_json(const DeviceRecord& r) {
    json j{{"mac", r.mac.str()}, {"first_seen_ms", r.first_seen_ms}, {"last_seen_ms", r.last_seen_ms},
           {"name", r.name}, {"identity", r.identity}};
    j["ip4"] = r.ip4 ? json(r.ip4->str()) : json(nullptr);
    j["ip6"] = r.ip6 ? json(r.ip6->str()) : json(nullptr);
    return j;
}

DeviceRecord device_from_json(const json& j) {
    if (!j.is_object()) throw std::invalid_argument("not an object");
    DeviceRecord r;
    r.mac = mac_field(j);
    r.first_seen_ms = int_field(j, "first_seen_ms");
    r.last_seen_ms = int_field(j, "last_seen_ms");
    r.ip4 = addr_field(j, "ip4");
    r.ip6 = addr_field(j, "ip6");
    r.name = string_field(j, "name");
    if (j.contains("identity") && j["identity"].is_object()) r.identity = j["identity"];
    return r;
}

StateDir::StateDir(fs::path dir) : dir_(std::move(dir)) { ensure_dir(dir_); }

Loaded<QuarantineRecord> StateDir::load_quarantines() const {
    return load_lines<QuarantineRecord>(quarantine_file(), "warden-quarantine", quarantine_from_json);
}

void StateDir::save_quarantines(const std::vector<QuarantineRecord>& records) const {
    save_lines(quarantine_file(), "warden-quarantine", records);
}

Loaded<DeviceRecord> StateDir::load_inventory() const {
    return load_lines<DeviceRecord>(inventory_file(), "warden-inventory", device_from_json);
}

void StateDir::save_inventory(const std::vector<DeviceRecord>& records) const {
    save_lines(inventory_file(), "warden-inventory", records);
}

}  // namespace warden::store
