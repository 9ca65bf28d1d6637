// The state dir: what warden must not forget across restarts and reboots. Quarantines and
// the device inventory are JSON-lines files (a header line, then one record a line) rewritten
// atomically on every change; a damaged line costs that line only: the file is moved aside,
// every readable record is kept, and each problem is reported.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/address.h"
#include "store/layout.h"

namespace warden::store {

// Wall-clock times are unix milliseconds: they survive reboots, unlike CLOCK_MONOTONIC.
int64_t now_unix_ms();

struct QuarantineRecord {
    net::Mac mac;
    std::string level = "isolate";  // isolate | restricted
    std::string origin = "operator";  // whose judgement: operator | detector | policy
    std::string by;                   // which surface asked (control::Origin): cli, page, cloud, ...
    std::string reason;
    int64_t since_ms = 0;
    std::optional<int64_t> expires_ms;  // none: until released
};

struct DeviceRecord {
    net::Mac mac;
    int64_t first_seen_ms = 0;
    int64_t last_seen_ms = 0;
    std::optional<net::IpAddr> ip4, ip6;
    std::string name;  // the policy's name for it, or empty
    nlohmann::json identity = nlohmann::json::object();  // kept as-is for identity work
};

template <typename Record>
struct Loaded {
    std::vector<Record> records;
    std::vector<std::string> problems;  // "quarantine.jsonl:4: ..." for each bad line
    std::optional<std::filesystem::path> moved_aside;
};

nlohmann::json to_json(const QuarantineRecord& r);
nlohmann::json to_json(const DeviceRecord& r);
// Throw std::invalid_argument naming the field that is wrong.
QuarantineRecord quarantine_from_json(const nlohmann::json& j);
DeviceRecord device_from_json(const nlohmann::json& j);

class StateDir {
public:
    explicit StateDir(std::filesystem::path dir);  // creates it if missing

    const std::filesystem::path& path() const { return dir_; }
    // Where one of the files of the contract (store/layout.h) is.
    std::filesystem::path path_of(const layout::File& file) const { return dir_ / file.name; }
    std::filesystem::path quarantine_file() const { return path_of(layout::quarantine); }
    std::filesystem::path inventory_file() const { return path_of(layout::inventory); }
    std::filesystem::path events_file() const { return path_of(layout::events); }
    std::filesystem::path status_file() const { return path_of(layout::status); }
    std::filesystem::path pid_file() const { return path_of(layout::pid); }

    Loaded<QuarantineRecord> load_quarantines() const;
    void save_quarantines(const std::vector<QuarantineRecord>& records) const;
    Loaded<DeviceRecord> load_inventory() const;
    void save_inventory(const std::vector<DeviceRecord>& records) const;

private:
    std::filesystem::path dir_;
};

}  // namespace warden::store
