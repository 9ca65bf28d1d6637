#include "identity/identity.h"

#include <algorithm>
#include <unordered_set>

#include "identity/oui.h"
#include "identity/types.h"

namespace warden::identity {

namespace {

// A name's TTL as the cache keeps it: short TTLs (CDNs use 20 s and less) would drop a name
// before the flow it names is shown; a week-long TTL would keep a stale name forever.
constexpr int64_t min_name_ttl_ms = 30'000;
constexpr int64_t max_name_ttl_ms = 86'400'000;
// A CNAME chain longer than this (or a loop) is not followed further.
constexpr int max_cname_hops = 16;

constexpr uint16_t dns_a = 1, dns_cname = 5, dns_ptr = 12, dns_txt = 16, dns_aaaa = 28,
                   dns_srv = 33;
constexpr uint8_t dhcp_ack = 5;

// Sets field to the cleaned value when that is new and not empty (an absent option never
// erases what an earlier message said). True when the field changed.
bool set_text(std::string& field, std::string_view value) {
    std::string cleaned = clean_text(value);
    if (cleaned.empty() || cleaned == field) return false;
    field = std::move(cleaned);
    return true;
}

// Adds a distinct value to a bounded list, keeping the first ones when it is full (what a
// device said first is as true as what it says later, and a full list stays stable).
bool add_distinct(std::vector<std::string>& list, std::string_view value, size_t cap) {
    std::string cleaned = clean_text(value);
    if (cleaned.empty() || list.size() >= cap) return false;
    if (std::find(list.begin(), list.end(), cleaned) != list.end()) return false;
    list.push_back(std::move(cleaned));
    return true;
}

// "_googlecast._tcp" from "_googlecast._tcp.local", "Kitchen._googlecast._tcp.local" or
// "_printer._sub._http._tcp.local" (then "_http._tcp"): the last _tcp/_udp label and the
// service label before it.
std::optional<std::string> service_type_of(std::string_view name) {
    std::vector<std::string_view> labels;
    size_t start = 0;
    while (start <= name.size()) {
        size_t dot = name.find('.', start);
        if (dot == std::string_view::npos) dot = name.size();
        labels.push_back(name.substr(start, dot - start));
        start = dot + 1;
    }
    for (size_t i = labels.size(); i-- > 1;) {
        if (labels[i] != "_tcp" && labels[i] != "_udp") continue;
        std::string_view service = labels[i - 1];
        if (service.size() < 2 || service[0] != '_' || service == "_sub") return std::nullopt;
        return std::string(service) + "." + std::string(labels[i]);
    }
    return std::nullopt;
}

// A frame's source that can be a device: not a group address, not all zeros.
bool is_device(const net::Mac& mac) {
    return !mac.is_multicast() && mac != net::Mac{};
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

// ---- JSON ----

nlohmann::json to_json(const Identity& id) {
    nlohmann::json j = {
        {"vendor", id.vendor},
        {"random_mac", id.random_mac},
        {"hostname", id.hostname},
        {"vendor_class", id.vendor_class},
        {"dhcp_fingerprint", id.dhcp_fingerprint},
        {"client_id", id.client_id},
        {"mdns_services", id.mdns_services},
        {"models", id.models},
        {"dns_names", id.dns_names},
        {"type", id.type},
        {"type_source", id.type_source},
        {"type_score", id.type_score},
        {"type_evidence", id.type_evidence},
        {"first_seen_ms", id.first_seen_ms},
        {"updated_ms", id.updated_ms},
    };
    if (id.leased_ip4) j["leased_ip4"] = id.leased_ip4->str();
    return j;
}

Identity identity_from_json(const nlohmann::json& j) {
    Identity id;
    if (!j.is_object()) return id;
    auto text = [&](const char* key, std::string& out) {
        auto it = j.find(key);
        if (it != j.end() && it->is_string()) out = clean_text(it->get_ref<const std::string&>());
    };
    auto list = [&](const char* key, std::vector<std::string>& out, size_t cap) {
        auto it = j.find(key);
        if (it == j.end() || !it->is_array()) return;
        for (const auto& v : *it) {
            if (!v.is_string()) continue;
            if (out.size() >= cap) break;
            std::string s = clean_text(v.get_ref<const std::string&>());
            if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end())
                out.push_back(std::move(s));
        }
    };
    auto number = [&](const char* key, auto& out) {
        auto it = j.find(key);
        if (it != j.end() && it->is_number_integer()) out = it->get<std::decay_t<decltype(out)>>();
    };
    text("vendor", id.vendor);
    if (auto it = j.find("random_mac"); it != j.end() && it->is_boolean()) id.random_mac = *it;
    text("hostname", id.hostname);
    text("vendor_class", id.vendor_class);
    text("dhcp_fingerprint", id.dhcp_fingerprint);
    text("client_id", id.client_id);
    if (auto it = j.find("leased_ip4"); it != j.end() && it->is_string()) {
        auto addr = net::IpAddr::parse(it->get_ref<const std::string&>());
        if (addr && addr->is_v4()) id.leased_ip4 = addr;
    }
    list("mdns_services", id.mdns_services, max_mdns_services);
    list("models", id.models, max_models);
    list("dns_names", id.dns_names, max_dns_names);
    std::string type;
    text("type", type);
    if (policy::parse_device_type(type)) id.type = type;
    text("type_source", id.type_source);
    if (id.type_source != "policy" && id.type_source != "rules") id.type_source.clear();
    number("type_score", id.type_score);
    if (auto it = j.find("type_evidence"); it != j.end() && it->is_array()) {
        for (const auto& v : *it) {
            if (id.type_evidence.size() >= max_type_evidence) break;
            if (v.is_string())
                id.type_evidence.push_back(clean_text(v.get_ref<const std::string&>(), 1024));
        }
    }
    number("first_seen_ms", id.first_seen_ms);
    number("updated_ms", id.updated_ms);
    return id;
}

// ---- the store ----

size_t IdentityStore::AddrHash::operator()(const net::IpAddr& a) const noexcept {
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; ++i) hi = hi << 8 | a.bytes[i];
    for (int i = 8; i < 16; ++i) lo = lo << 8 | a.bytes[i];
    return std::hash<uint64_t>{}(hi * 0x9e3779b97f4a7c15ull ^ lo);
}

IdentityStore::IdentityStore(const OuiRegistry* oui, const DeviceTypes* types, Limits limits)
    : oui_(oui), types_(types), limits_(limits), memo_(std::make_unique<RuleMatchMemo>()) {
    limits_.devices = std::max<size_t>(limits_.devices, 1);
    limits_.names_per_device = std::max<size_t>(limits_.names_per_device, 1);
    limits_.names_total = std::max<size_t>(limits_.names_total, 1);
}

IdentityStore::~IdentityStore() = default;
IdentityStore::IdentityStore(IdentityStore&&) noexcept = default;
IdentityStore& IdentityStore::operator=(IdentityStore&&) noexcept = default;

bool IdentityStore::matters(Field field, std::string_view value) {
    return types_ && types_->matters(field, value, memo_.get());
}

IdentityStore::Device& IdentityStore::device(const net::Mac& mac, int64_t now_ms) {
    auto it = devices_.find(mac);
    if (it != devices_.end()) {
        it->second.last_seen_ms = std::max(it->second.last_seen_ms, now_ms);
        return it->second;
    }
    if (devices_.size() >= limits_.devices) evict_one_device();
    Device& d = devices_[mac];
    d.last_seen_ms = now_ms;
    d.id.first_seen_ms = now_ms;
    d.id.updated_ms = now_ms;
    d.id.random_mac = mac.is_locally_administered();
    if (oui_) d.id.vendor = clean_text(oui_->vendor(mac));
    classify(mac, d.id);
    changed_.insert(mac);
    return d;
}

// The least recently seen device goes; devices the policy names go last, since the operator
// asked about them.
void IdentityStore::evict_one_device() {
    auto victim = devices_.end();
    auto rank = [&](const auto& entry) {
        return std::pair(policy_types_.count(entry.first) != 0, entry.second.last_seen_ms);
    };
    for (auto it = devices_.begin(); it != devices_.end(); ++it)
        if (victim == devices_.end() || rank(*it) < rank(*victim)) victim = it;
    if (victim == devices_.end()) return;
    cached_total_ -= victim->second.names.lru.size();
    changed_.erase(victim->first);
    devices_.erase(victim);
    dropped_ = true;
}

void IdentityStore::changed(const net::Mac& mac, Device& d, int64_t now_ms, bool may_change_type) {
    d.id.updated_ms = std::max(d.id.updated_ms, now_ms);
    changed_.insert(mac);
    if (may_change_type) classify(mac, d.id);
}

void IdentityStore::observe_dhcp4(const Dhcp4Message& msg, bool from_server, int64_t now_ms) {
    const net::Mac& mac = msg.chaddr;
    if (!is_device(mac)) return;
    Device& d = device(mac, now_ms);
    Identity& id = d.id;
    if (from_server) {
        // Only an ACK says the address is the device's; an OFFER may be declined.
        if (msg.type == dhcp_ack && msg.yiaddr.is_v4() && !msg.yiaddr.is_unspecified() &&
            id.leased_ip4 != msg.yiaddr) {
            id.leased_ip4 = msg.yiaddr;
            changed(mac, d, now_ms, false);
        }
        return;
    }
    bool any = false;
    // Option 12 is the device's own name; option 81 is the FQDN it wants registered, used
    // when it sends no 12 (some Windows versions).
    any |= set_text(id.hostname, !msg.hostname.empty() ? msg.hostname : msg.fqdn);
    any |= set_text(id.vendor_class, msg.vendor_class);
    any |= set_text(id.dhcp_fingerprint, msg.param_request_list);
    any |= set_text(id.client_id, msg.client_id);
    if (any) changed(mac, d, now_ms, true);
}

void IdentityStore::observe_dhcp6(const net::Mac& device_mac, const Dhcp6Message& msg,
                                  bool from_server, int64_t now_ms) {
    if (from_server || !is_device(device_mac)) return;  // v6 leases are not tracked
    Device& d = device(device_mac, now_ms);
    Identity& id = d.id;
    bool any = set_text(id.hostname, msg.fqdn);
    // A dual-stack device sends both; DHCPv4's values are the better known fingerprints, so
    // DHCPv6 fills a field only while DHCPv4 has said nothing (else the field would flip at
    // every renewal).
    if (id.vendor_class.empty()) any |= set_text(id.vendor_class, msg.vendor_class);
    if (id.client_id.empty()) any |= set_text(id.client_id, msg.client_duid);
    if (!msg.option_request.empty() &&
        (id.dhcp_fingerprint.empty() || id.dhcp_fingerprint.starts_with("v6:")))
        any |= set_text(id.dhcp_fingerprint, "v6:" + msg.option_request);
    if (any) changed(device_mac, d, now_ms, true);
}

void IdentityStore::observe_dns(const net::Mac& device_mac, const DnsMessage& msg, bool from_device,
                                int64_t now_ms) {
    if (!is_device(device_mac)) return;
    if (from_device) {
        if (msg.response) return;
        Device& d = device(device_mac, now_ms);
        auto& names = d.id.dns_names;
        bool added = false, type_may_change = false;
        for (const auto& q : msg.questions) {
            std::string name = clean_text(q.name);
            if (name.empty()) continue;
            auto it = std::find(names.begin(), names.end(), name);
            if (it != names.end()) {
                // Seen before: only its place changes, not worth a save.
                std::rotate(names.begin(), it, it + 1);
                continue;
            }
            names.insert(names.begin(), name);
            added = true;
            type_may_change |= matters(Field::dns_name, name);
            if (names.size() > max_dns_names) {
                type_may_change |= matters(Field::dns_name, names.back());
                names.pop_back();
            }
        }
        if (added) changed(device_mac, d, now_ms, type_may_change);
        return;
    }

    if (!msg.response || msg.rcode != 0) return;
    // Which CNAME points at a name, to walk back from an address record to the question.
    std::unordered_map<std::string_view, const DnsRecord*> alias_of;
    for (const auto& r : msg.answers)
        if (r.type == dns_cname && !r.target.empty()) alias_of.emplace(r.target, &r);
    std::unordered_set<std::string_view> asked;
    for (const auto& q : msg.questions) asked.insert(q.name);

    Device* d = nullptr;
    for (const auto& r : msg.answers) {
        if ((r.type != dns_a && r.type != dns_aaaa) || !r.address) continue;
        std::string_view name = r.name;
        int64_t ttl_ms = int64_t{r.ttl} * 1000;
        for (int hop = 0; hop < max_cname_hops; ++hop) {
            auto it = alias_of.find(name);
            if (it == alias_of.end()) break;
            name = it->second->name;
            ttl_ms = std::min(ttl_ms, int64_t{it->second->ttl} * 1000);
        }
        // Records for names the device did not ask for (glue, extras) are not what it will
        // connect to under that name.
        if (!asked.empty() && !asked.count(name)) continue;
        std::string cleaned = clean_text(name);
        if (cleaned.empty()) continue;
        if (!d) d = &device(device_mac, now_ms);
        ttl_ms = std::clamp(ttl_ms, min_name_ttl_ms, max_name_ttl_ms);
        cache_name(*d, *r.address, cleaned, now_ms + ttl_ms);
    }
}

void IdentityStore::observe_mdns(const net::Mac& device_mac, const DnsMessage& msg,
                                 int64_t now_ms) {
    if (!msg.response || !is_device(device_mac)) return;
    Device& d = device(device_mac, now_ms);
    Identity& id = d.id;
    bool added = false, type_may_change = false;
    auto service = [&](std::string_view name) {
        auto type = service_type_of(name);
        if (type && add_distinct(id.mdns_services, *type, max_mdns_services)) {
            added = true;
            type_may_change |= matters(Field::mdns_service, *type);
        }
    };
    for (const auto& r : msg.answers) {
        switch (r.type) {
            case dns_ptr:
                // The DNS-SD meta-query answer lists service types; other PTRs name an
                // instance of the service type they are the records of.
                if (r.name == "_services._dns-sd._udp.local")
                    service(r.target);
                else
                    service(r.name);
                break;
            case dns_srv: service(r.name); break;
            case dns_txt:
                service(r.name);
                for (const auto& entry : r.txt) {
                    size_t eq = entry.find('=');
                    if (eq == std::string::npos) continue;
                    std::string key = lower(std::string_view(entry).substr(0, eq));
                    if (key != "md" && key != "model" && key != "ty" && key != "fn") continue;
                    std::string value = clean_text(std::string_view(entry).substr(eq + 1));
                    if (add_distinct(id.models, value, max_models)) {
                        added = true;
                        type_may_change |= matters(Field::model, value);
                    }
                }
                break;
            default: break;
        }
    }
    if (added) changed(device_mac, d, now_ms, type_may_change);
}

void IdentityStore::observe_ssdp(const net::Mac& device_mac, const SsdpMessage& msg,
                                 int64_t now_ms) {
    if (!is_device(device_mac)) return;
    auto server = msg.headers.find("SERVER");
    if (server == msg.headers.end() || server->second.empty()) return;
    Device& d = device(device_mac, now_ms);
    std::string model = clean_text(server->second);
    if (add_distinct(d.id.models, model, max_models))
        changed(device_mac, d, now_ms, matters(Field::model, model));
}

void IdentityStore::set_policy_type(const net::Mac& mac, policy::DeviceType type) {
    auto it = policy_types_.find(mac);
    if (type == policy::DeviceType::unknown) {
        if (it == policy_types_.end()) return;
        policy_types_.erase(it);
    } else {
        if (it != policy_types_.end() && it->second == type) return;
        policy_types_[mac] = type;
    }
    reclassify(mac);
}

void IdentityStore::clear_policy_types() {
    auto named = std::move(policy_types_);
    policy_types_.clear();
    for (const auto& [mac, type] : named) reclassify(mac);
}

void IdentityStore::set_types(const DeviceTypes* types) {
    types_ = types;
    memo_->clear();
    for (auto& [mac, d] : devices_)
        if (classify(mac, d.id)) changed_.insert(mac);
}

bool IdentityStore::reclassify(const net::Mac& mac) {
    auto it = devices_.find(mac);
    if (it == devices_.end()) return false;
    bool changed = classify(mac, it->second.id);
    if (changed) changed_.insert(mac);
    return changed;
}

bool IdentityStore::classify(const net::Mac& mac, Identity& id) {
    std::string type = "unknown", source;
    int score = 0;
    std::vector<std::string> evidence;
    std::optional<Classification> by_rules;
    if (types_) by_rules = types_->classify(id, memo_.get());

    if (auto named = policy_types_.find(mac); named != policy_types_.end()) {
        type = std::string(policy::to_string(named->second));
        source = "policy";
        evidence.push_back("named in the policy as " + type);
        if (by_rules && by_rules->type != "unknown")
            evidence.push_back("the rules alone would say " + by_rules->type + " (score " +
                               std::to_string(by_rules->score) + ")");
    } else if (by_rules) {
        type = by_rules->type;
        score = by_rules->score;
        if (type != "unknown") source = "rules";
    }
    if (by_rules)
        for (auto& line : by_rules->evidence) evidence.push_back(std::move(line));
    if (evidence.size() > max_type_evidence) evidence.resize(max_type_evidence);

    bool changed = type != id.type || source != id.type_source || score != id.type_score ||
                   evidence != id.type_evidence;
    id.type = std::move(type);
    id.type_source = std::move(source);
    id.type_score = score;
    id.type_evidence = std::move(evidence);
    return changed;
}

// ---- the DNS cache ----

void IdentityStore::cache_name(Device& d, const net::IpAddr& addr, const std::string& name,
                               int64_t expires_ms) {
    NameCache& cache = d.names;
    if (auto it = cache.index.find(addr); it != cache.index.end()) {
        it->second->name = name;
        it->second->expires_ms = expires_ms;
        cache.lru.splice(cache.lru.begin(), cache.lru, it->second);
        return;
    }
    if (cache.lru.size() >= limits_.names_per_device) drop_name(cache, std::prev(cache.lru.end()));
    if (cached_total_ >= limits_.names_total) evict_from_biggest_cache();
    cache.lru.push_front({addr, name, expires_ms});
    cache.index.emplace(addr, cache.lru.begin());
    ++cached_total_;
}

void IdentityStore::drop_name(NameCache& cache, std::list<CachedName>::iterator it) {
    cache.index.erase(it->addr);
    cache.lru.erase(it);
    --cached_total_;
}

// The total is full: the device with the most names gives up its least recently used one,
// so one device's flood costs that device, not the others.
void IdentityStore::evict_from_biggest_cache() {
    NameCache* biggest = nullptr;
    for (auto& [mac, d] : devices_)
        if (!biggest || d.names.lru.size() > biggest->lru.size()) biggest = &d.names;
    if (biggest && !biggest->lru.empty()) drop_name(*biggest, std::prev(biggest->lru.end()));
}

std::optional<std::string> IdentityStore::name_for(const net::Mac& device_mac,
                                                   const net::IpAddr& addr, int64_t now_ms) {
    auto d = devices_.find(device_mac);
    if (d == devices_.end()) return std::nullopt;
    NameCache& cache = d->second.names;
    auto it = cache.index.find(addr);
    if (it == cache.index.end()) return std::nullopt;
    if (it->second->expires_ms <= now_ms) {
        drop_name(cache, it->second);
        return std::nullopt;
    }
    cache.lru.splice(cache.lru.begin(), cache.lru, it->second);
    return it->second->name;
}

void IdentityStore::expire_names(int64_t now_ms) {
    for (auto& [mac, d] : devices_) {
        for (auto it = d.names.lru.begin(); it != d.names.lru.end();) {
            auto next = std::next(it);
            if (it->expires_ms <= now_ms) drop_name(d.names, it);
            it = next;
        }
    }
}

size_t IdentityStore::cached_names(const net::Mac& device_mac) const {
    auto d = devices_.find(device_mac);
    return d == devices_.end() ? 0 : d->second.names.lru.size();
}

std::map<net::Mac, std::vector<std::pair<net::IpAddr, std::string>>> IdentityStore::names(int64_t now_ms) const {
    std::map<net::Mac, std::vector<std::pair<net::IpAddr, std::string>>> out;
    for (const auto& [mac, d] : devices_)
        for (const auto& n : d.names.lru)
            if (n.expires_ms > now_ms) out[mac].emplace_back(n.addr, n.name);
    return out;
}

// ---- reading it out, persistence ----

std::optional<Identity> IdentityStore::identity(const net::Mac& mac) const {
    auto it = devices_.find(mac);
    if (it == devices_.end()) return std::nullopt;
    return it->second.id;
}

std::vector<net::Mac> IdentityStore::devices() const {
    std::vector<net::Mac> out;
    out.reserve(devices_.size());
    for (const auto& [mac, d] : devices_) out.push_back(mac);
    std::sort(out.begin(), out.end());
    return out;
}

void IdentityStore::load(const std::map<net::Mac, nlohmann::json>& saved) {
    devices_.clear();
    cached_total_ = 0;
    clear_dirty();
    std::vector<std::pair<net::Mac, Identity>> loaded;
    loaded.reserve(saved.size());
    for (const auto& [mac, j] : saved)
        if (is_device(mac)) loaded.emplace_back(mac, identity_from_json(j));
    // Over the limit (a smaller limit than the saving instance had): the most recent stay.
    if (loaded.size() > limits_.devices) {
        std::nth_element(
            loaded.begin(), loaded.begin() + limits_.devices, loaded.end(),
            [](const auto& a, const auto& b) { return a.second.updated_ms > b.second.updated_ms; });
        loaded.resize(limits_.devices);
        dropped_ = true;
    }
    for (auto& [mac, id] : loaded) {
        Device& d = devices_[mac];
        d.id = std::move(id);
        d.last_seen_ms = d.id.updated_ms;
        // What the MAC says is recomputed: a registry update may know the vendor now.
        d.id.random_mac = mac.is_locally_administered();
        if (oui_ && d.id.vendor.empty()) d.id.vendor = clean_text(oui_->vendor(mac));
        Identity before = d.id;
        classify(mac, d.id);
        if (!(before == d.id)) changed_.insert(mac);
    }
}

std::map<net::Mac, nlohmann::json> IdentityStore::save_changed() const {
    std::map<net::Mac, nlohmann::json> out;
    for (const auto& mac : changed_)
        if (auto it = devices_.find(mac); it != devices_.end()) out.emplace(mac, to_json(it->second.id));
    return out;
}

std::map<net::Mac, nlohmann::json> IdentityStore::save() const {
    std::map<net::Mac, nlohmann::json> out;
    for (const auto& [mac, d] : devices_) out.emplace(mac, to_json(d.id));
    return out;
}

}  // namespace warden::identity
