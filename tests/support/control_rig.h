// The control core (control/control.h) for tests without root: the kernel maps in memory
// (able to refuse, as a full map does), a stand-in engine, and a state dir of its own.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <map>

#include "control/control.h"
#include "store/events_log.h"
#include "support/temp_dir.h"

namespace warden::test {

// The gateway the rig's guards protect: its MAC, LAN 198.18.0.0/24 and fd00:1::/64, WAN 198.19.0.2.
inline const char* kGatewayMac = "02:00:00:00:00:01";

// The kernel's quarantine map and blocklist tries, in memory.
class MemoryEnforcement final : public control::Enforcement {
public:
    bool refuse = false;  // the next puts throw, as a full map does
    std::map<net::Mac, dataplane::QuarantineEntry> quarantined;
    std::map<net::Prefix, wd_block_value> blocked;

    bool present() const override { return true; }
    void put_quarantine(const store::QuarantineRecord& r) override {
        if (refuse) throw std::runtime_error("map full");
        auto& q = quarantined[r.mac];
        q.mac = r.mac;
        q.level = text::kernel_value(r.level);
        q.origin = quarantine::origin_code(r.origin);
        auto [since, expires] = control::kernel_times(r);
        q.since_ns = since;
        q.expires_ns = expires;
    }
    bool remove_quarantine(const net::Mac& mac) override { return quarantined.erase(mac) > 0; }
    std::optional<dataplane::QuarantineEntry> quarantine(const net::Mac& mac) const override {
        auto it = quarantined.find(mac);
        return it != quarantined.end() ? std::optional(it->second) : std::nullopt;
    }
    std::vector<dataplane::QuarantineEntry> quarantines() const override {
        std::vector<dataplane::QuarantineEntry> out;
        for (const auto& [mac, q] : quarantined) out.push_back(q);
        return out;
    }
    void put_block(const blocklist::Entry& e) override {
        if (refuse) throw std::runtime_error("trie full");
        blocked[e.prefix] = wd_block_value{.list_id = e.list_id, .flags = e.flags};
    }
    bool remove_block(const net::Prefix& p) override { return blocked.erase(p) > 0; }
    std::vector<dataplane::BlockEntry> blocks() const override {
        std::vector<dataplane::BlockEntry> out;
        for (const auto& [p, v] : blocked) out.push_back({p, v});
        return out;
    }
};

class FakeEngine final : public control::Learning {
public:
    std::vector<net::Mac> released_macs;
    std::vector<net::Mac> taught;
    size_t imported = 0;
    void released(const net::Mac& mac, int64_t) override { released_macs.push_back(mac); }
    control::Taught false_positive(const net::Mac& mac, std::optional<engine::Detector>, int64_t) override {
        taught.push_back(mac);
        return {{"port_scan"}, "port_scan: threshold raised", false};
    }
    size_t import_profiles(const engine::Profiles& p) override { return imported = p.types.size(); }
    bool save() override { return true; }
    std::optional<engine::Config> detectors;  // the settings last handed over
    bool adjust_detectors(const engine::Config& settings) override {
        detectors = settings;
        return true;
    }
};

inline control::GatewayFacts gateway() {
    control::GatewayFacts g;
    g.macs = {*net::Mac::parse(kGatewayMac)};
    g.own_macs = g.macs;
    g.lan_addrs = {*net::IpAddr::parse("198.18.0.1")};
    g.own_addrs = {*net::IpAddr::parse("198.18.0.1"), *net::IpAddr::parse("198.19.0.2"),
                   *net::IpAddr::parse("fd00:1::1")};
    g.lan_networks = {*net::Prefix::parse("198.18.0.0/24"), *net::Prefix::parse("fd00:1::/64")};
    return g;
}

// One state dir, its events log, the maps in memory, the engine, and the core over them.
struct ControlRig {
    TempDir dir{"warden-control"};
    store::StateDir state{dir.path};
    store::EventLog events{state.events_file(), 1 << 20, 2};
    MemoryEnforcement kernel;
    FakeEngine engine;
    control::Control core;

    explicit ControlRig(policy::QuarantineDefaults defaults = {})
        : core(state, events, kernel, engine, {defaults, gateway(), {}}) {}

    std::vector<nlohmann::json> events_of(const std::string& kind) {
        std::vector<nlohmann::json> out;
        for (auto& e : store::EventLog::read_all(state.events_file(), 2))
            if (e.value("kind", "") == kind) out.push_back(e);
        return out;
    }

    // The state file as a fresh reader (a reboot) finds it.
    std::vector<store::QuarantineRecord> on_disk() { return state.load_quarantines().records; }
    // Makes every atomic write into the state dir fail, as a full disk does: the temp file
    // write_atomically creates is a directory.
    std::filesystem::path jam(const std::filesystem::path& file) {
        std::filesystem::path tmp = file;
        tmp += ".tmp." + std::to_string(getpid());
        std::filesystem::create_directory(tmp);
        return tmp;
    }
};

}  // namespace warden::test
