// Who each device is, inside `warden run`: the vendor registry, the device-type rules, the
// identity store fed by the data plane's copies of DHCP/DNS/mDNS/SSDP frames, and what flows
// from it — identities into the inventory, types to the behaviour engine, and the names each
// device looked its peers up as (names.json, for `warden flows`).
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "daemon/detection.h"
#include "daemon/inventory.h"
#include "identity/identity.h"
#include "identity/observer.h"
#include "identity/oui.h"
#include "identity/types.h"
#include "policy/policy.h"
#include "store/state.h"

namespace warden::daemon {

class Identification {
public:
    // Loads the vendors and the rules, and the identities saved in the inventory.
    Identification(const policy::Policy& policy, const Inventory& inventory);

    // A reload: new rules (the old stay when the new file is bad) and the policy's types.
    void configure(const policy::Policy& policy);
    void observe(const wd_event& hdr, std::span<const uint8_t> frame, int64_t now_ms) {
        observer_->observe(hdr, frame, now_ms);
    }
    // Changed identities into the inventory, their types to the engine.
    void sync(Inventory& inventory, Detection* detection, int64_t now_ms);
    // Every device's type to the engine (at start).
    void tell_types(Detection& detection) const;
    // names.json, every kNamesEveryMs (not durably: a cache). Throws when it cannot write.
    void write_names(const store::StateDir& state, int64_t now_ms);

    std::optional<std::string> name_for(const net::Mac& mac, const net::IpAddr& addr, int64_t now_ms) const {
        return store_->name_for(mac, addr, now_ms);
    }
    const identity::Observer::Counts& counts() const { return observer_->counts(); }

    static constexpr int64_t kNamesEveryMs = 5'000;

private:
    void load_rules(const std::string& path);

    std::unique_ptr<identity::OuiRegistry> oui_;
    std::unique_ptr<identity::DeviceTypes> types_;  // outlives store_'s use of it
    std::unique_ptr<identity::IdentityStore> store_;
    std::unique_ptr<identity::Observer> observer_;
    int64_t names_written_ms_ = 0;
};

}  // namespace warden::daemon
