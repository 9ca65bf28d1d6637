#include "daemon/identification.h"

#include <filesystem>

#include "log/log.h"
#include "store/files.h"

namespace warden::daemon {

Identification::Identification(const policy::Policy& policy, const Inventory& inventory) {
    try {
        oui_ = std::make_unique<identity::OuiRegistry>(identity::OuiRegistry::load(policy.identity.ieee_data));
        log::info("vendors: {} MAC prefixes from {}", oui_->size(), policy.identity.ieee_data);
    } catch (const std::exception& e) {
        log::warn("vendors unknown: {} (install Debian's ieee-data, or set identity.ieee_data)", e.what());
    }
    load_rules(policy.identity.device_types);
    store_ = std::make_unique<identity::IdentityStore>(oui_.get(), types_.get());
    std::map<net::Mac, nlohmann::json> saved;
    for (const auto& [mac, rec] : inventory.records())
        if (!rec.identity.empty()) saved[mac] = rec.identity;
    store_->load(saved);
    for (const auto& d : policy.devices) store_->set_policy_type(d.mac, d.type);
    observer_ = std::make_unique<identity::Observer>(*store_);
}

// The device-type rules; on a reload the old rules stay in force when the new file is bad.
void Identification::load_rules(const std::string& path) {
    if (!std::filesystem::exists(path)) {
        log::warn("device types: no rules at {}: types come only from the policy's devices", path);
        return;
    }
    auto loaded = identity::DeviceTypes::load_file(path);
    if (!loaded.rules) {
        for (const auto& e : loaded.errors) log::error("device types: {}", e.str());
        log::error("{}: {} error(s); {}", path, loaded.errors.size(),
                   types_ ? "the rules in force stay" : "no type rules");
        return;
    }
    auto next = std::make_unique<identity::DeviceTypes>(std::move(*loaded.rules));
    if (store_) store_->set_types(next.get());
    types_ = std::move(next);
    log::info("device types: rules from {}", path);
}

void Identification::configure(const policy::Policy& policy) {
    load_rules(policy.identity.device_types);
    store_->clear_policy_types();
    for (const auto& d : policy.devices) store_->set_policy_type(d.mac, d.type);
}

void Identification::sync(Inventory& inventory, Detection* detection, int64_t now_ms) {
    if (!store_->dirty()) return;
    for (const auto& [mac, j] : store_->save_changed()) {
        inventory.set_identity(mac, j, now_ms);
        // The engine judges a device against its type's profile until it knows the device.
        if (detection) detection->set_type(mac, j.value("type", std::string("unknown")));
    }
    store_->clear_dirty();
}

void Identification::tell_types(Detection& detection) const {
    for (const auto& [mac, j] : store_->save()) detection.set_type(mac, j.value("type", std::string("unknown")));
}

void Identification::write_names(const store::StateDir& state, int64_t now_ms) {
    if (now_ms - names_written_ms_ < kNamesEveryMs) return;
    names_written_ms_ = now_ms;
    store_->expire_names(now_ms);
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [mac, names] : store_->names(now_ms)) {
        auto& j = out[mac.str()];
        for (const auto& [addr, name] : names) j[addr.str()] = name;
    }
    store::write_atomically(state.path_of(store::layout::names), out.dump(), /*durable=*/false);
}

}  // namespace warden::daemon
