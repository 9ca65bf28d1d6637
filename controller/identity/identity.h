// Who each device is: what its DHCP, DNS, mDNS and SSDP traffic says about it (vendor,
// hostname, fingerprint, services, models, the names it looks up), its type, and a per-device
// cache of the names its addresses were looked up as. Everything is bounded: a hostile device
// can fill its own entry, never make the controller grow without limit.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <set>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "identity/dhcp.h"
#include "identity/dns.h"
#include "identity/ssdp.h"
#include "net/address.h"
#include "policy/policy.h"  // DeviceType for the policy's named devices
#include "text/text.h"

namespace warden::identity {

class OuiRegistry;
class DeviceTypes;
class RuleMatchMemo;
enum class Field : int;  // types.h

// Bounds on what one Identity holds.
inline constexpr size_t max_text_bytes = 255;    // any one string
inline constexpr size_t max_dns_names = 64;      // names looked up (most recent kept)
inline constexpr size_t max_mdns_services = 32;  // service types announced (first kept)
inline constexpr size_t max_models = 16;         // model strings (first kept)
inline constexpr size_t max_type_evidence = 64;  // evidence lines

struct Identity {
    std::string vendor;                      // OUI organisation; empty when unknown or random
    bool random_mac = false;                 // locally administered (randomised) MAC
    std::string hostname;                    // DHCP 12 / 81, DHCPv6 39: the latest wins
    std::string vendor_class;                // DHCP 60 (DHCPv6 16 only when there is none)
    std::string dhcp_fingerprint;            // DHCP 55 "1,3,6,..." (DHCPv6 ORO "v6:..." if none)
    std::string client_id;                   // DHCP 61 (DHCPv6 DUID only when there is none)
    std::optional<net::IpAddr> leased_ip4;   // yiaddr of the gateway's DHCPACK to it
    std::vector<std::string> mdns_services;  // "_googlecast._tcp", distinct
    std::vector<std::string> models;         // mDNS TXT md=/model=/ty=/fn=, SSDP SERVER
    std::vector<std::string> dns_names;      // most recent first, distinct
    std::string type = "unknown";
    std::string type_source;                 // "policy" | "rules" | ""
    int type_score = 0;                      // the winning rules score (0 for policy)
    std::vector<std::string> type_evidence;  // why, readable
    int64_t first_seen_ms = 0;               // unix ms
    int64_t updated_ms = 0;                  // last change of anything above

    bool operator==(const Identity&) const = default;
};

nlohmann::json to_json(const Identity& identity);
// Tolerant: missing keys keep their defaults, values of the wrong kind are ignored, and
// strings and lists are cut to the bounds above (the file may have been edited by hand).
Identity identity_from_json(const nlohmann::json& j);

// Text from a device (or read back from the inventory), made safe to store, print and put in
// JSON with the one helper every boundary uses (text::printable), cut to an identity's bound.
inline std::string clean_text(std::string_view s, size_t max = max_text_bytes) {
    return text::printable(s, max);
}

class IdentityStore {
public:
    struct Limits {
        size_t devices = 4096;          // identities kept (least recently seen out)
        size_t names_per_device = 512;  // DNS cache entries per device (least recently used out)
        size_t names_total = 65'536;    // DNS cache entries in all (taken from the biggest)
    };

    // Either pointer may be null (no vendors, no rules). Both must outlive the store.
    IdentityStore(const OuiRegistry* oui, const DeviceTypes* types, Limits limits);
    IdentityStore(const OuiRegistry* oui, const DeviceTypes* types)
        : IdentityStore(oui, types, Limits{}) {}
    ~IdentityStore();
    IdentityStore(IdentityStore&&) noexcept;
    IdentityStore& operator=(IdentityStore&&) noexcept;

    // The device is msg.chaddr: a client names itself, and a server's reply is about it.
    // From a client: hostname, vendor class, fingerprint, client id. From the server: the
    // address in a DHCPACK.
    void observe_dhcp4(const Dhcp4Message& msg, bool from_server, int64_t now_ms);
    void observe_dhcp6(const net::Mac& device, const Dhcp6Message& msg, bool from_server,
                       int64_t now_ms);
    // Queries from the device: the names it looks up. Answers to it: the address -> name
    // cache, each address under the name the device asked for (CNAME chains followed).
    void observe_dns(const net::Mac& device, const DnsMessage& msg, bool from_device,
                     int64_t now_ms);
    // Its own announcements (responses only; its queries say what it looks for, not what it
    // is): service types and TXT model strings.
    void observe_mdns(const net::Mac& device, const DnsMessage& msg, int64_t now_ms);
    void observe_ssdp(const net::Mac& device, const SsdpMessage& msg, int64_t now_ms);

    // The policy's named devices: their type wins over the rules. `unknown` means the policy
    // gives no type (the rules decide).
    void set_policy_type(const net::Mac& mac, policy::DeviceType type);
    void clear_policy_types();
    // New rules (after a reload): every device is classified again. May be null.
    void set_types(const DeviceTypes* types);

    // The name this device looked the address up as, while its TTL lasts.
    std::optional<std::string> name_for(const net::Mac& device, const net::IpAddr& addr,
                                        int64_t now_ms);
    // Drops expired cache entries (the daemon calls it now and then; lookups also skip them).
    void expire_names(int64_t now_ms);

    std::optional<Identity> identity(const net::Mac& mac) const;
    std::vector<net::Mac> devices() const;  // sorted
    size_t size() const { return devices_.size(); }
    size_t cached_names() const { return cached_total_; }
    size_t cached_names(const net::Mac& device) const;
    // Every cached name still valid, per device: for `warden flows` to show names.
    std::map<net::Mac, std::vector<std::pair<net::IpAddr, std::string>>> names(int64_t now_ms) const;

    // Classifies one device again: the policy type if named, else the rules. Done by the
    // observe_* methods after every change that can change the type (not per frame).
    // True when the type, its source or its evidence changed.
    bool reclassify(const net::Mac& mac);

    // Persistence through the inventory (DeviceRecord.identity). load replaces everything
    // (the DNS cache starts empty) and classifies each device with the current rules.
    void load(const std::map<net::Mac, nlohmann::json>& saved);
    std::map<net::Mac, nlohmann::json> save() const;
    // What changed since clear_dirty(): the devices whose identity changed (save_changed()
    // gives only theirs, so a busy network does not re-serialize every device), or devices
    // dropped for room.
    bool dirty() const { return dropped_ || !changed_.empty(); }
    std::map<net::Mac, nlohmann::json> save_changed() const;
    void clear_dirty() {
        changed_.clear();
        dropped_ = false;
    }

private:
    struct CachedName {
        net::IpAddr addr;
        std::string name;
        int64_t expires_ms = 0;
    };
    struct AddrHash {
        size_t operator()(const net::IpAddr& a) const noexcept;
    };
    // Most recently used at the front.
    struct NameCache {
        std::list<CachedName> lru;
        std::unordered_map<net::IpAddr, std::list<CachedName>::iterator, AddrHash> index;
    };
    struct Device {
        Identity id;
        NameCache names;
        int64_t last_seen_ms = 0;
    };

    Device& device(const net::Mac& mac, int64_t now_ms);
    void evict_one_device();
    void changed(const net::Mac& mac, Device& d, int64_t now_ms, bool may_change_type);
    void cache_name(Device& d, const net::IpAddr& addr, const std::string& name,
                    int64_t expires_ms);
    void drop_name(NameCache& cache, std::list<CachedName>::iterator it);
    void evict_from_biggest_cache();
    bool classify(const net::Mac& mac, Identity& id);
    bool matters(Field field, std::string_view value);

    const OuiRegistry* oui_;
    const DeviceTypes* types_;
    Limits limits_;
    std::unordered_map<net::Mac, Device> devices_;
    std::map<net::Mac, policy::DeviceType> policy_types_;
    std::unique_ptr<RuleMatchMemo> memo_;  // the rules' regex results, reused
    size_t cached_total_ = 0;
    std::set<net::Mac> changed_;  // identities changed since clear_dirty()
    bool dropped_ = false;        // devices dropped for room (or not loaded) since then
};

}  // namespace warden::identity
