#include "policy/policy.h"
#include "yamlfile/yamlfile.h"

#include <algorithm>
#include <cctype>

namespace warden::policy {

// ---- names of enum values ----

namespace {

using yamlfile::Name;
using yamlfile::name_of;
using yamlfile::value_of;
using yamlfile::list_names;

constexpr Name<XdpMode> xdp_mode_names[] = {
    {dataplane::xdp_mode_name(XdpMode::native), XdpMode::native},
    {dataplane::xdp_mode_name(XdpMode::generic), XdpMode::generic},
    {dataplane::xdp_mode_name(XdpMode::automatic), XdpMode::automatic}};
constexpr Name<LogLevel> log_level_names[] = {{"debug", LogLevel::debug},
                                              {"info", LogLevel::info},
                                              {"warn", LogLevel::warn},
                                              {"error", LogLevel::error}};
constexpr Name<QuarantineLevel> quarantine_level_names[] = {
    {text::name(QuarantineLevel::isolate), QuarantineLevel::isolate},
    {text::name(QuarantineLevel::restricted), QuarantineLevel::restricted}};
constexpr Name<BlockDirection> block_direction_names[] = {
    {"in", BlockDirection::in}, {"out", BlockDirection::out}, {"both", BlockDirection::both}};
constexpr Name<DeviceType> device_type_names[] = {{"camera", DeviceType::camera},
                                                  {"speaker", DeviceType::speaker},
                                                  {"tv", DeviceType::tv},
                                                  {"plug", DeviceType::plug},
                                                  {"thermostat", DeviceType::thermostat},
                                                  {"hub", DeviceType::hub},
                                                  {"phone", DeviceType::phone},
                                                  {"laptop", DeviceType::laptop},
                                                  {"printer", DeviceType::printer},
                                                  {"console", DeviceType::console},
                                                  {"unknown", DeviceType::unknown}};

constexpr Name<NotifyKind> notify_kind_names[] = {{"new_device", NotifyKind::new_device},
                                                  {"quarantine", NotifyKind::quarantine},
                                                  {"release", NotifyKind::release},
                                                  {"alert", NotifyKind::alert},
                                                  {"digest", NotifyKind::digest}};

constexpr Name<NewDevices> new_devices_names[] = {{"allow", NewDevices::allow},
                                                  {"notify", NewDevices::notify},
                                                  {"restricted_until_approved", NewDevices::restricted_until_approved}};

}  // namespace

std::string_view to_string(LogLevel v) { return name_of(log_level_names, v); }
std::string_view to_string(BlockDirection v) { return name_of(block_direction_names, v); }
std::string_view to_string(DeviceType v) { return name_of(device_type_names, v); }
std::string_view to_string(NewDevices v) { return name_of(new_devices_names, v); }
std::string_view to_string(NotifyKind v) { return name_of(notify_kind_names, v); }
std::optional<NotifyKind> parse_notify_kind(std::string_view s) { return value_of(notify_kind_names, s); }
std::optional<LogLevel> parse_log_level(std::string_view s) { return value_of(log_level_names, s); }
std::optional<BlockDirection> parse_block_direction(std::string_view s) {
    return value_of(block_direction_names, s);
}
std::optional<DeviceType> parse_device_type(std::string_view s) {
    return value_of(device_type_names, s);
}

// ---- policy helpers ----

bool Policy::is_exempt(const net::Mac& mac) const {
    return std::find(exempt.begin(), exempt.end(), mac) != exempt.end();
}

const NamedDevice* Policy::find_device(const net::Mac& mac) const {
    for (const auto& d : devices)
        if (d.mac == mac) return &d;
    return nullptr;
}

bool NotifyChannel::wants(NotifyKind kind) const {
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

std::string NotifyChannel::str() const { return (type == Type::webhook ? "webhook " : "exec ") + target; }

bool Notify::muted(const net::Mac& mac, NotifyKind kind) const {
    return std::find(mute_kinds.begin(), mute_kinds.end(), kind) != mute_kinds.end() ||
           std::find(mute_devices.begin(), mute_devices.end(), mac) != mute_devices.end();
}

// ---- listen addresses of the metrics and status page servers ----

std::string Listen::str() const {
    std::string host = lan ? "lan" : address.is_v4() ? address.str() : "[" + address.str() + "]";
    return host + ":" + std::to_string(port);
}

std::optional<Listen> parse_listen(std::string_view text, std::string* why) {
    auto fail = [&](std::string reason) -> std::optional<Listen> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return fail("no port; expected lan:PORT or ADDRESS:PORT (e.g. lan:8080, 127.0.0.1:9464)");
    std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
    bool digits = !port.empty() && port.size() <= 5 &&
                  std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    unsigned number = digits ? static_cast<unsigned>(std::stoul(std::string(port))) : 0;
    if (number < 1 || number > 65535) return fail("the port must be a number from 1 to 65535");
    Listen out;
    out.port = static_cast<uint16_t>(number);
    if (host == "lan") {
        out.lan = true;
        return out;
    }
    bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    auto address = net::IpAddr::parse(host);
    if (!address) return fail("'" + std::string(host) + "' is neither lan nor an IP address");
    if (!address->is_v4() && !bracketed)
        return fail("write an IPv6 address in brackets: [" + std::string(host) + "]:" + std::string(port));
    out.address = *address;
    return out;
}

// ---- the checker: yamlfile's, plus the policy's own kinds of value ----

namespace {

using yamlfile::describe;
using yamlfile::Field;
using yamlfile::Fields;
using yamlfile::first_at;
using yamlfile::FirstSeen;
using yamlfile::Value;
using text::format_duration;
using text::format_size;
using text::parse_duration;
using text::parse_size;

class Checker : public yamlfile::Checker {
public:
    using yamlfile::Checker::Checker;

    std::optional<milliseconds> duration(const Value& v, milliseconds min, milliseconds max) {
        std::string range = "from " + format_duration(min) + " to " + format_duration(max);
        auto s = text(v, "a duration " + range + " (e.g. 90s, 15m, 1h30m)");
        if (!s) return std::nullopt;
        std::string why;
        auto d = parse_duration(*s, &why);
        if (!d) {
            error(v.mark, v.path, describe(v.node) + " is not a duration: " + why);
            return std::nullopt;
        }
        if (*d < min || *d > max) {
            error(v.mark, v.path, "expected a duration " + range + ", found " + describe(v.node));
            return std::nullopt;
        }
        return d;
    }

    std::optional<uint64_t> size(const Value& v, uint64_t min, uint64_t max) {
        std::string range = "from " + format_size(min) + " to " + format_size(max);
        auto s = text(v, "a size " + range + " (e.g. 10MB)");
        if (!s) return std::nullopt;
        std::string why;
        auto bytes = parse_size(*s, &why);
        if (!bytes) {
            error(v.mark, v.path, describe(v.node) + " is not a size: " + why);
            return std::nullopt;
        }
        if (*bytes < min || *bytes > max) {
            error(v.mark, v.path, "expected a size " + range + ", found " + describe(v.node));
            return std::nullopt;
        }
        return bytes;
    }

    // A device's MAC: a unicast address, since it is a frame's source.
    std::optional<net::Mac> mac(const Value& v) {
        const char* what = "a MAC address like a4:cf:12:00:00:01";
        auto s = text(v, what);
        if (!s) return std::nullopt;
        auto mac = net::Mac::parse(*s);
        if (!mac) {
            error(v.mark, v.path, "expected " + std::string(what) + ", found " + describe(v.node));
            return std::nullopt;
        }
        if (mac->is_multicast()) {
            error(
                v.mark, v.path,
                describe(v.node) + " is a multicast/broadcast address, which no device sends from");
            return std::nullopt;
        }
        return mac;
    }

    std::optional<net::Prefix> prefix(const Value& v) {
        const char* what = "an IPv4 or IPv6 prefix like 198.18.0.0/15 or fd00::/8";
        auto s = text(v, what);
        if (!s) return std::nullopt;
        std::string why;
        auto p = net::Prefix::parse(*s, &why);
        if (!p) {
            error(v.mark, v.path,
                  describe(v.node) + " is not a prefix: " + why + "; expected " + what);
            return std::nullopt;
        }
        return p;
    }

    // The kernel's rule for interface names (dev_valid_name): 1..15 bytes, not "." or "..",
    // no '/', ':' or white space.
    std::optional<std::string> interface_name(const Value& v) {
        const char* what = "an interface name (1 to 15 characters, no '/', ':' or spaces)";
        auto s = text(v, what);
        if (!s) return std::nullopt;
        bool valid =
            !s->empty() && s->size() <= 15 && *s != "." && *s != ".." &&
            std::none_of(s->begin(), s->end(), [](char c) {
                return c == '/' || c == ':' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
            });
        if (!valid) {
            error(v.mark, v.path, "expected " + std::string(what) + ", found " + describe(v.node));
            return std::nullopt;
        }
        return s;
    }

    // A name shown in tables: one line, not empty, not too long.
    std::optional<std::string> display_name(const Value& v) {
        auto s = text(v, "a device name");
        if (!s) return std::nullopt;
        bool one_line = std::none_of(s->begin(), s->end(),
                                     [](char c) { return static_cast<unsigned char>(c) < 0x20; });
        if (s->empty() || s->size() > device_name_max || !one_line) {
            error(v.mark, v.path,
                  "expected a name of 1 to " + std::to_string(device_name_max) +
                      " characters on one line, found " + describe(v.node));
            return std::nullopt;
        }
        return s;
    }

};

// ---- the sections of the policy ----

void read_interfaces(Checker& c, const Value& v, Interfaces& out) {
    static constexpr std::string_view keys[] = {"wan", "lan", "optional"};
    auto fields = c.mapping(v, keys, "a mapping with wan and lan");
    if (!fields) return;
    if (auto f = c.required(*fields, "wan", "the WAN interface name, e.g. wan: eth0")) {
        if (auto name = c.interface_name(f->value)) {
            if (is_interface_pattern(*name))
                c.error(f->value.mark, f->value.path,
                        "'" + *name + "' is a pattern; the WAN is one interface, named exactly");
            else
                out.wan = *name;
        }
    }
    auto lan = c.required(*fields, "lan", "a list of LAN interface names, e.g. lan: [eth1, wlan0]");
    if (!lan) return;
    auto items = c.list(lan->value, "a list of LAN interface names");
    if (!items) return;
    if (items->empty()) {
        c.error(lan->value.mark, lan->value.path,
                "expected at least one LAN interface, found none");
        return;
    }
    FirstSeen<std::string> seen;
    for (const auto& item : *items) {
        auto name = c.interface_name(item);
        if (!name) continue;
        if (!out.wan.empty() && *name == out.wan) {
            c.error(item.mark, item.path,
                    "'" + *name + "' is the WAN interface; a port is either WAN or LAN");
            continue;
        }
        if (auto first = seen.repeat(*name, item.mark)) {
            c.error(item.mark, item.path, "'" + *name + "' is listed twice " + first_at(*first));
            continue;
        }
        out.lan.push_back(*name);
    }
    // Entries of lan (or the wan) that may be absent without a warning (policy/interfaces.cpp).
    auto optional = fields->get("optional");
    if (!optional) return;
    auto entries = c.list(optional->value, "a list of entries of interfaces.lan (or the wan), e.g. optional: [wlan*]");
    if (!entries) return;
    FirstSeen<std::string> listed;
    for (const auto& item : *entries) {
        auto name = c.interface_name(item);
        if (!name) continue;
        if (*name != out.wan && std::find(out.lan.begin(), out.lan.end(), *name) == out.lan.end()) {
            c.error(item.mark, item.path,
                    "'" + *name + "' is neither an entry of interfaces.lan nor the WAN; optional names " +
                        "entries exactly as they are written there");
            continue;
        }
        if (auto first = listed.repeat(*name, item.mark)) {
            c.error(item.mark, item.path, "'" + *name + "' is listed twice " + first_at(*first));
            continue;
        }
        out.optional.push_back(*name);
    }
}

void read_paths(Checker& c, const Value& v, Paths& out) {
    static constexpr std::string_view keys[] = {"pin_dir", "state_dir"};
    auto fields = c.mapping(v, keys, "a mapping with pin_dir and state_dir");
    if (!fields) return;
    if (auto f = fields->get("pin_dir"))
        if (auto p = c.absolute_path(f->value)) out.pin_dir = *p;
    if (auto f = fields->get("state_dir"))
        if (auto p = c.absolute_path(f->value)) out.state_dir = *p;
}

bool is_power_of_two(uint64_t n) { return n && !(n & (n - 1)); }

void read_map_sizes(Checker& c, const Value& v, MapSizes& out) {
    static constexpr std::string_view keys[] = {"devices",      "flows",      "blocklist_v4",
                                                "blocklist_v6", "quarantine", "events_kb"};
    auto fields = c.mapping(v, keys, "a mapping of map sizes");
    if (!fields) return;
    auto size = [&](std::string_view key, SizeBounds bounds, uint32_t& dest) {
        if (auto f = fields->get(key))
            if (auto n = c.whole_number(f->value, bounds.min, bounds.max))
                dest = static_cast<uint32_t>(*n);
    };
    size("devices", devices_bounds, out.devices);
    size("flows", flows_bounds, out.flows);
    size("blocklist_v4", blocklist_bounds, out.blocklist_v4);
    size("blocklist_v6", blocklist_bounds, out.blocklist_v6);
    size("quarantine", quarantine_bounds, out.quarantine);
    if (auto f = fields->get("events_kb")) {
        if (auto kb = c.whole_number(f->value, events_kb_bounds.min, events_kb_bounds.max)) {
            uint64_t rounded = 1;
            while (rounded < uint64_t(*kb)) rounded <<= 1;
            if (!is_power_of_two(*kb))
                c.warning(f->value.mark, f->value.path,
                          std::to_string(*kb) + " KiB rounded up to " + std::to_string(rounded) +
                              " KiB: a ring buffer's size is a power of two");
            out.events_bytes = static_cast<uint32_t>(rounded * 1024);
        }
    }
}

void read_quarantine(Checker& c, const Value& v, QuarantineDefaults& out) {
    static constexpr std::string_view keys[] = {"default_level", "default_duration"};
    auto fields = c.mapping(v, keys, "a mapping with default_level and default_duration");
    if (!fields) return;
    if (auto f = fields->get("default_level"))
        if (auto level = c.choice(f->value, quarantine_level_names)) out.level = *level;
    if (auto f = fields->get("default_duration")) {
        if (f->value.node.IsScalar() && f->value.node.Scalar() == "forever") {
            out.duration = std::nullopt;
        } else if (auto d =
                       c.duration(f->value, quarantine_duration_min, quarantine_duration_max)) {
            out.duration = *d;
        }
    }
}

void read_events_log(Checker& c, const Value& v, EventsLog& out) {
    static constexpr std::string_view keys[] = {"max_size", "keep"};
    auto fields = c.mapping(v, keys, "a mapping with max_size and keep");
    if (!fields) return;
    if (auto f = fields->get("max_size"))
        if (auto bytes = c.size(f->value, events_log_min_size, events_log_max_size))
            out.max_size = *bytes;
    if (auto f = fields->get("keep"))
        if (auto n = c.whole_number(f->value, 0, events_log_max_keep))
            out.keep = static_cast<unsigned>(*n);
}

void read_exempt(Checker& c, const Value& v, std::vector<net::Mac>& out) {
    auto items = c.list(v, "a list of MAC addresses");
    if (!items) return;
    FirstSeen<net::Mac> seen;
    for (const auto& item : *items) {
        auto mac = c.mac(item);
        if (!mac) continue;
        if (auto first = seen.repeat(*mac, item.mark)) {
            // Harmless, but it may hide a typo in the MAC that was meant.
            c.warning(item.mark, item.path, mac->str() + " is listed twice " + first_at(*first));
            continue;
        }
        out.push_back(*mac);
    }
}

void read_devices(Checker& c, const Value& v, std::vector<NamedDevice>& out) {
    static constexpr std::string_view keys[] = {"mac", "name", "type", "notes"};
    auto items = c.list(v, "a list of devices (each a mapping with mac and name)");
    if (!items) return;
    FirstSeen<net::Mac> seen;
    for (const auto& item : *items) {
        auto fields = c.mapping(
            item, keys, "a device: a mapping with mac, name, and optionally type and notes");
        if (!fields) continue;
        auto mac_field = c.required(*fields, "mac", "the device's MAC address");
        auto name_field =
            c.required(*fields, "name", "a name for the device, e.g. name: Kitchen speaker");

        std::optional<net::Mac> mac = mac_field ? c.mac(mac_field->value) : std::nullopt;
        if (mac) {
            if (auto first = seen.repeat(*mac, mac_field->value.mark)) {
                c.error(mac_field->value.mark, mac_field->value.path,
                        mac->str() + " is already named at line " + std::to_string(*first));
                mac.reset();
            }
        }
        std::optional<std::string> name =
            name_field ? c.display_name(name_field->value) : std::nullopt;
        std::optional<DeviceType> type = DeviceType::unknown;
        if (auto f = fields->get("type")) type = c.choice(f->value, device_type_names);
        std::optional<std::string> notes = "";
        if (auto f = fields->get("notes"); f && !f->value.node.IsNull())
            notes = c.free_text(f->value, "free text");

        if (mac && name && type && notes) out.push_back({*mac, *name, *type, *notes});
    }
}

std::optional<BlockDirection> read_direction(Checker& c, const Fields& fields) {
    if (auto f = fields.get("direction")) return c.choice(f->value, block_direction_names);
    return BlockDirection::both;
}

void read_blocklist(Checker& c, const Value& v, Blocklist& out) {
    static constexpr std::string_view keys[] = {"files", "prefixes"};
    static constexpr std::string_view file_keys[] = {"path", "direction"};
    static constexpr std::string_view prefix_keys[] = {"prefix", "direction"};
    auto fields = c.mapping(v, keys, "a mapping with files and prefixes");
    if (!fields) return;

    if (auto f = fields->get("files")) {
        FirstSeen<std::string> seen;
        for (const auto& item :
             c.list(f->value, "a list of files").value_or(std::vector<Value>{})) {
            auto entry =
                c.mapping(item, file_keys, "a file: a mapping with path and optionally direction");
            if (!entry) continue;
            auto p = c.required(*entry, "path", "the absolute path of a file of prefixes");
            std::optional<std::string> path = p ? c.absolute_path(p->value) : std::nullopt;
            auto direction = read_direction(c, *entry);
            if (path) {
                if (auto first = seen.repeat(*path, p->value.mark)) {
                    c.error(p->value.mark, p->value.path,
                            *path + " is listed twice " + first_at(*first));
                    continue;
                }
            }
            if (path && direction) out.files.push_back({*path, *direction});
        }
    }

    if (auto f = fields->get("prefixes")) {
        FirstSeen<net::Prefix> seen;
        for (const auto& item :
             c.list(f->value, "a list of prefixes").value_or(std::vector<Value>{})) {
            auto entry = c.mapping(item, prefix_keys,
                                   "a prefix: a mapping with prefix and optionally direction");
            if (!entry) continue;
            auto p = c.required(*entry, "prefix",
                                "an IPv4 or IPv6 prefix, e.g. prefix: 198.18.200.0/24");
            std::optional<net::Prefix> prefix = p ? c.prefix(p->value) : std::nullopt;
            auto direction = read_direction(c, *entry);
            if (prefix) {
                if (auto first = seen.repeat(*prefix, p->value.mark)) {
                    c.error(p->value.mark, p->value.path,
                            prefix->str() + " is listed twice " + first_at(*first));
                    continue;
                }
                if (prefix->len == 0)
                    c.warning(p->value.mark, p->value.path,
                              prefix->str() + " matches every " +
                                  (prefix->is_v4() ? "IPv4" : "IPv6") + " address");
            }
            if (prefix && direction) out.prefixes.push_back({*prefix, *direction});
        }
    }
}

// ---- detectors: the behaviour engine's settings (engine/config.h) ----

constexpr Name<engine::Action> action_names[] = {{"alert", engine::Action::alert},
                                                 {"restricted", engine::Action::restricted},
                                                 {"isolate", engine::Action::isolate}};

// Bounds of the detectors' numbers: wide enough for any home, narrow enough to catch a
// typo (a factor of 0 would make every device's normal irrelevant, 1e9 frames/s would turn
// the flood detector off without saying so; `enabled: false` says so).
constexpr double factor_min = 1, factor_max = 1000;
constexpr uint64_t count_max = 1'000'000;

// The keys every detector has, then its own.
void read_response(Checker& c, const Fields& fields, engine::Response& out) {
    if (auto f = fields.get("enabled"))
        if (auto b = c.boolean(f->value)) out.enabled = *b;
    if (auto f = fields.get("action"))
        if (auto a = c.choice(f->value, action_names)) out.action = *a;
    if (auto f = fields.get("duration")) {
        if (f->value.node.IsScalar() && f->value.node.Scalar() == "forever") {
            out.duration = std::nullopt;
        } else if (auto d =
                       c.duration(f->value, quarantine_duration_min, quarantine_duration_max)) {
            out.duration = *d;
        }
    }
}

// Reads one detector's mapping: the common keys plus `own` (name, reader) pairs.
template <typename Own>
void read_detector(Checker& c, const Value& v, std::string_view what, engine::Response& response,
                   std::initializer_list<std::string_view> own_keys, Own&& read_own) {
    std::vector<std::string_view> keys{"enabled", "action", "duration"};
    keys.insert(keys.end(), own_keys.begin(), own_keys.end());
    auto fields = c.mapping(v, keys, "a mapping of " + std::string(what) + " settings");
    if (!fields) return;
    read_response(c, *fields, response);
    read_own(*fields);
}

void read_ports(Checker& c, const Value& v, std::vector<uint16_t>& out) {
    auto items = c.list(v, "a list of ports, e.g. [22, 23, 2323]");
    if (!items) return;
    if (items->empty() || items->size() > 32) {
        c.error(v.mark, v.path, "expected 1 to 32 ports, found " + std::to_string(items->size()));
        return;
    }
    std::vector<uint16_t> ports;
    FirstSeen<uint64_t> seen;
    for (const auto& item : *items) {
        auto port = c.whole_number(item, 1, 65535);
        if (!port) return;
        if (auto first = seen.repeat(*port, item.mark)) {
            c.error(item.mark, item.path,
                    "port " + std::to_string(*port) + " is listed twice " + first_at(*first));
            return;
        }
        ports.push_back(static_cast<uint16_t>(*port));
    }
    out = std::move(ports);
}

void read_escalation(Checker& c, const Value& v, engine::Escalation& out) {
    static constexpr std::string_view keys[] = {"window", "factor", "isolate_after",
                                                "max_duration"};
    auto fields = c.mapping(v, keys, "a mapping with window, factor, isolate_after and max_duration");
    if (!fields) return;
    if (auto f = fields->get("window"))
        if (auto d = c.duration(f->value, milliseconds(60'000), quarantine_duration_max))
            out.window = *d;
    if (auto f = fields->get("factor"))
        if (auto n = c.decimal(f->value, 1, 100)) out.factor = *n;
    if (auto f = fields->get("isolate_after"))
        if (auto n = c.whole_number(f->value, 1, 100)) out.isolate_after = uint32_t(*n);
    if (auto f = fields->get("max_duration"))
        if (auto d = c.duration(f->value, quarantine_duration_min, quarantine_duration_max))
            out.max_duration = *d;
}

void read_never_quarantine(Checker& c, const Value& v, std::vector<std::string>& out) {
    auto items = c.list(v, "a list of device types, e.g. [laptop, phone]");
    if (!items) return;
    FirstSeen<std::string> seen;
    for (const auto& item : *items) {
        auto type = c.choice(item, device_type_names);
        if (!type) continue;
        std::string name(to_string(*type));
        if (auto first = seen.repeat(name, item.mark)) {
            c.warning(item.mark, item.path, name + " is listed twice " + first_at(*first));
            continue;
        }
        out.push_back(name);
    }
}

void read_detectors(Checker& c, const Value& v, engine::Config& out) {
    static constexpr std::string_view keys[] = {
        "learning_period", "cooldown",     "forget_after",     "known_destinations",
        "never_quarantine", "escalation",  "port_scan",        "propagation",
        "flood",           "exfiltration", "new_destinations", "blocklist",
        "lateral",         "beaconing",    "upload_to_new"};
    auto fields = c.mapping(v, keys, "a mapping of detector settings");
    if (!fields) return;

    if (auto f = fields->get("learning_period"))
        if (auto d = c.duration(f->value, engine::learning_period_min, engine::learning_period_max))
            out.learning_period = *d;
    if (auto f = fields->get("cooldown"))
        if (auto d = c.duration(f->value, milliseconds(1'000), milliseconds(86'400'000)))
            out.cooldown = *d;
    if (auto f = fields->get("forget_after"))
        if (auto d = c.duration(f->value, milliseconds(3'600'000), quarantine_duration_max))
            out.forget_after = *d;
    if (auto f = fields->get("known_destinations"))
        if (auto n = c.whole_number(f->value, engine::known_destinations_min,
                                    engine::known_destinations_max))
            out.known_destinations = uint32_t(*n);
    if (auto f = fields->get("never_quarantine"))
        read_never_quarantine(c, f->value, out.never_quarantine);
    if (auto f = fields->get("escalation")) read_escalation(c, f->value, out.escalation);

    auto count = [&](const Fields& own, std::string_view key, uint64_t min, uint64_t max,
                     auto& dest) {
        if (auto f = own.get(key))
            if (auto n = c.whole_number(f->value, min, max))
                dest = static_cast<std::remove_reference_t<decltype(dest)>>(*n);
    };
    auto factor = [&](const Fields& own, double& dest) {
        if (auto f = own.get("factor"))
            if (auto n = c.decimal(f->value, factor_min, factor_max)) dest = *n;
    };

    if (auto f = fields->get("port_scan")) {
        auto& d = out.port_scan;
        read_detector(c, f->value, "port_scan", d.response,
                      {"ports_per_host", "hosts_per_port", "unanswered_share",
                       "ports_per_host_10m", "ports_per_host_1h", "unanswered_10m",
                       "unanswered_1h", "factor"},
                      [&](const Fields& own) {
                          count(own, "ports_per_host", 2, 65'535, d.ports_per_host);
                          count(own, "ports_per_host_10m", 2, 65'535, d.ports_per_host_10m);
                          count(own, "ports_per_host_1h", 2, 65'535, d.ports_per_host_1h);
                          count(own, "unanswered_10m", 1, count_max, d.unanswered_10m);
                          count(own, "unanswered_1h", 1, count_max, d.unanswered_1h);
                          count(own, "hosts_per_port", 2, count_max, d.hosts_per_port);
                          if (auto s = own.get("unanswered_share"))
                              if (auto n = c.decimal(s->value, 0, 1)) d.unanswered_share = *n;
                          factor(own, d.factor);
                      });
    }
    if (auto f = fields->get("propagation")) {
        auto& d = out.propagation;
        read_detector(c, f->value, "propagation", d.response,
                      {"ports", "hosts", "hosts_10m", "hosts_1h", "factor"},
                      [&](const Fields& own) {
                          if (auto p = own.get("ports")) read_ports(c, p->value, d.ports);
                          count(own, "hosts", 1, count_max, d.hosts);
                          count(own, "hosts_10m", 1, count_max, d.hosts_10m);
                          count(own, "hosts_1h", 1, count_max, d.hosts_1h);
                          factor(own, d.factor);
                      });
    }
    if (auto f = fields->get("flood")) {
        auto& d = out.flood;
        read_detector(c, f->value, "flood", d.response, {"frames_per_second", "factor"},
                      [&](const Fields& own) {
                          count(own, "frames_per_second", 1, 100'000'000, d.frames_per_second);
                          factor(own, d.factor);
                      });
    }
    if (auto f = fields->get("exfiltration")) {
        auto& d = out.exfiltration;
        read_detector(c, f->value, "exfiltration", d.response, {"bytes_per_second", "factor"},
                      [&](const Fields& own) {
                          if (auto b = own.get("bytes_per_second"))
                              if (auto n = c.size(b->value, 1024, 10ull << 30))
                                  d.bytes_per_second = *n;
                          factor(own, d.factor);
                      });
    }
    if (auto f = fields->get("new_destinations")) {
        auto& d = out.new_destinations;
        read_detector(c, f->value, "new_destinations", d.response, {"per_minute", "factor"},
                      [&](const Fields& own) {
                          count(own, "per_minute", 1, count_max, d.per_minute);
                          factor(own, d.factor);
                      });
    }
    if (auto f = fields->get("blocklist")) {
        auto& d = out.blocklist;
        read_detector(c, f->value, "blocklist", d.response, {"hits"},
                      [&](const Fields& own) { count(own, "hits", 1, count_max, d.hits); });
    }
    if (auto f = fields->get("lateral")) {
        auto& d = out.lateral;
        read_detector(c, f->value, "lateral", d.response, {"peers", "factor"},
                      [&](const Fields& own) {
                          count(own, "peers", 1, 65'535, d.peers);
                          factor(own, d.factor);
                      });
    }
    if (auto f = fields->get("upload_to_new")) {
        auto& d = out.upload_to_new;
        read_detector(c, f->value, "upload_to_new", d.response,
                      {"bytes_per_minute", "bytes_1h", "factor"}, [&](const Fields& own) {
                          if (auto b = own.get("bytes_per_minute"))
                              if (auto n = c.size(b->value, 1 << 20, 1000ull << 30))
                                  d.bytes_per_minute = *n;
                          if (auto b = own.get("bytes_1h"))
                              if (auto n = c.size(b->value, 1 << 20, 1000ull << 30))
                                  d.bytes_1h = *n;
                          factor(own, d.factor);
                      });
    }
    if (auto f = fields->get("beaconing")) {
        auto& d = out.beaconing;
        read_detector(
            c, f->value, "beaconing", d.response,
            {"repeats", "jitter", "min_interval", "max_interval"}, [&](const Fields& own) {
                count(own, "repeats", 2, 7, d.repeats);
                if (auto j = own.get("jitter"))
                    if (auto n = c.decimal(j->value, 0, 0.5)) d.jitter = *n;
                const Field* lo = own.get("min_interval");
                const Field* hi = own.get("max_interval");
                if (lo)
                    if (auto t = c.duration(lo->value, milliseconds(1'000), milliseconds(86'400'000)))
                        d.min_interval = *t;
                if (hi)
                    if (auto t = c.duration(hi->value, milliseconds(1'000), milliseconds(86'400'000)))
                        d.max_interval = *t;
                if ((lo || hi) && d.min_interval >= d.max_interval) {
                    const Field* blame = hi ? hi : lo;
                    c.error(blame->value.mark, blame->value.path,
                            "max_interval (" + format_duration(d.max_interval) +
                                ") must be longer than min_interval (" +
                                format_duration(d.min_interval) + ")");
                }
            });
    }
}

void read_identity(Checker& c, const Value& v, IdentitySources& out) {
    static constexpr std::string_view keys[] = {"ieee_data", "device_types"};
    auto fields = c.mapping(v, keys, "a mapping with ieee_data and device_types");
    if (!fields) return;
    if (auto f = fields->get("ieee_data"))
        if (auto p = c.absolute_path(f->value)) out.ieee_data = *p;
    if (auto f = fields->get("device_types"))
        if (auto p = c.absolute_path(f->value)) out.device_types = *p;
}

std::optional<Listen> read_listen(Checker& c, const Value& v) {
    auto s = c.text(v, "lan:PORT or ADDRESS:PORT");
    if (!s) return std::nullopt;
    std::string why;
    auto listen = parse_listen(*s, &why);
    if (!listen) c.error(v.mark, v.path, describe(v.node) + " is not a listen address: " + why);
    return listen;
}

void read_metrics(Checker& c, const Value& v, Metrics& out) {
    static constexpr std::string_view keys[] = {"enabled", "listen"};
    auto fields = c.mapping(v, keys, "a mapping with enabled and listen");
    if (!fields) return;
    if (auto f = fields->get("enabled"))
        if (auto b = c.boolean(f->value)) out.enabled = *b;
    if (auto f = fields->get("listen"))
        if (auto l = read_listen(c, f->value)) out.listen = *l;
}

void read_status_page(Checker& c, const Value& v, StatusPage& out) {
    static constexpr std::string_view keys[] = {"enabled", "listen", "hostnames"};
    auto fields = c.mapping(v, keys, "a mapping with enabled, listen and hostnames");
    if (!fields) return;
    if (auto f = fields->get("enabled"))
        if (auto b = c.boolean(f->value)) out.enabled = *b;
    if (auto f = fields->get("listen"))
        if (auto l = read_listen(c, f->value)) out.listen = *l;
    if (auto f = fields->get("hostnames")) {
        auto items = c.list(f->value, "a list of host names");
        if (!items) return;
        for (const auto& item : *items) {
            auto name = c.text(item, "a host name");
            if (!name) continue;
            std::string lower;
            for (char ch : *name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            bool valid = !lower.empty() && lower.size() <= 253 && lower.front() != '.' &&
                         lower.front() != '-' && std::all_of(lower.begin(), lower.end(), [](char ch) {
                             return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
                         });
            if (!valid) {
                c.error(item.mark, item.path,
                        "expected a host name like gateway.example.net (letters, digits, '-' and '.'), found " +
                            describe(item.node));
                continue;
            }
            out.hostnames.push_back(lower);
        }
    }
}

// The gateway id goes into MQTT topics: letters, digits, '-', '_' and '.', 1 to 64 of them,
// so that it can never hold a topic's '/', '+' or '#'.
bool valid_gateway_id(std::string_view id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
    });
}

void read_fleet(Checker& c, const Value& v, Fleet& out) {
    static constexpr std::string_view keys[] = {
        "enabled",      "host",     "port",       "ca",           "cert",          "key",
        "operator_key", "insecure", "gateway_id", "queue_size",   "health_every", "inventory_every",
        "profiles_every", "reconnect_max"};
    auto fields = c.mapping(v, keys, "a mapping with enabled, host, port, ca, cert, key and operator_key");
    if (!fields) return;
    if (auto f = fields->get("enabled"))
        if (auto b = c.boolean(f->value)) out.enabled = *b;
    if (auto f = fields->get("insecure"))
        if (auto b = c.boolean(f->value)) out.insecure = *b;
    if (auto f = fields->get("host")) {
        if (auto h = c.text(f->value, "the broker's host name or address")) {
            bool valid = !h->empty() && h->size() <= 253 && std::none_of(h->begin(), h->end(), [](char ch) {
                return static_cast<unsigned char>(ch) <= ' ' || ch == '/' || ch == 0x7f;
            });
            if (valid)
                out.host = *h;
            else
                c.error(f->value.mark, f->value.path,
                        "expected the broker's host name or address, found " + describe(f->value.node));
        }
    }
    if (auto f = fields->get("port"))
        if (auto n = c.whole_number(f->value, 1, 65535)) out.port = static_cast<uint16_t>(*n);
    auto path = [&](std::string_view key, std::string& dest) {
        if (auto f = fields->get(key))
            if (auto p = c.absolute_path(f->value)) dest = *p;
    };
    path("ca", out.ca);
    path("cert", out.cert);
    path("key", out.key);
    path("operator_key", out.operator_key);
    if (auto f = fields->get("gateway_id")) {
        if (auto id = c.text(f->value, "a gateway id")) {
            if (!valid_gateway_id(*id))
                c.error(f->value.mark, f->value.path,
                        "expected a gateway id of 1 to 64 letters, digits, '-', '_' or '.', found " +
                            describe(f->value.node));
            else if (!out.insecure)
                c.error(f->value.mark, f->value.path,
                        "gateway_id is taken from the certificate's CN; it may be set only with insecure: true");
            else
                out.gateway_id = *id;
        }
    }
    if (auto f = fields->get("queue_size"))
        if (auto n = c.size(f->value, fleet_queue_min, fleet_queue_max)) out.queue_bytes = *n;
    if (auto f = fields->get("health_every"))
        if (auto d = c.duration(f->value, milliseconds(5'000), milliseconds(86'400'000))) out.health_every = *d;
    if (auto f = fields->get("inventory_every"))
        if (auto d = c.duration(f->value, milliseconds(5'000), milliseconds(86'400'000))) out.inventory_every = *d;
    if (auto f = fields->get("profiles_every"))
        if (auto d = c.duration(f->value, milliseconds(5'000), milliseconds(7 * 86'400'000ll)))
            out.profiles_every = *d;
    if (auto f = fields->get("reconnect_max"))
        if (auto d = c.duration(f->value, milliseconds(1'000), milliseconds(3'600'000))) out.reconnect_max = *d;
    if (!out.enabled) return;
    // What an enabled channel cannot do without.
    c.required(*fields, "host", "the broker's host name or address");
    c.required(*fields, "operator_key", "the operator's Ed25519 public key (PEM), which every command must verify with");
    if (out.insecure) {
        c.required(*fields, "gateway_id", "the gateway id (with insecure: true there is no certificate to take it from)");
        c.warning(fields->mark, fields->path,
                  "insecure: true: the channel to the operator is plain TCP, unauthenticated and readable by anyone on "
                  "the path; for labs only");
    } else {
        c.required(*fields, "ca", "the broker's CA certificate (PEM), or insecure: true for a lab");
        c.required(*fields, "cert", "this gateway's client certificate (PEM); its CN is the gateway id");
        c.required(*fields, "key", "this gateway's private key (PEM)");
    }
}

std::vector<NotifyKind> read_notify_kinds(Checker& c, const Value& v) {
    std::vector<NotifyKind> out;
    auto items = c.list(v, "a list of kinds (" + list_names(notify_kind_names) + ")");
    if (!items) return out;
    for (const auto& item : *items)
        if (auto kind = c.choice(item, notify_kind_names))
            if (std::find(out.begin(), out.end(), *kind) == out.end()) out.push_back(*kind);
    return out;
}

void read_notify_channel(Checker& c, const Value& v, NotifyChannel& out) {
    static constexpr std::string_view keys[] = {"webhook", "exec", "args", "headers", "format", "kinds"};
    auto fields = c.mapping(v, keys, "a channel: a mapping with webhook (a URL) or exec (a command), and kinds");
    if (!fields) return;
    const Field* webhook = fields->get("webhook");
    const Field* exec = fields->get("exec");
    if (!webhook == !exec) {
        c.error(v.mark, v.path, "a channel is either webhook: URL or exec: COMMAND (exactly one of them)");
        return;
    }
    if (webhook) {
        out.type = NotifyChannel::Type::webhook;
        if (auto url = c.text(webhook->value, "an http:// or https:// URL")) {
            bool http = url->rfind("http://", 0) == 0, https = url->rfind("https://", 0) == 0;
            size_t host_at = http ? 7 : 8;
            if ((!http && !https) || url->size() <= host_at || (*url)[host_at] == '/')
                c.error(webhook->value.mark, webhook->value.path,
                        "expected an http:// or https:// URL with a host (e.g. http://192.168.1.10:8123/api/webhook/warden), "
                        "found " + describe(webhook->value.node));
            else if (url->find_first_of(" \t\r\n") != std::string::npos)
                c.error(webhook->value.mark, webhook->value.path, "a URL has no spaces or line breaks");
            else
                out.target = *url;
        }
        if (auto f = fields->get("args")) c.error(f->value.mark, f->value.path, "args belong to an exec channel");
    } else {
        out.type = NotifyChannel::Type::exec;
        if (auto path = c.absolute_path(exec->value)) out.target = *path;
        if (auto f = fields->get("args")) {
            if (auto items = c.list(f->value, "a list of arguments"))
                for (const auto& item : *items)
                    if (auto a = c.text(item, "an argument")) out.args.push_back(*a);
        }
        for (const char* key : {"headers", "format"})
            if (auto f = fields->get(key))
                c.error(f->value.mark, f->value.path, std::string(key) + " belongs to a webhook channel");
    }
    if (auto f = fields->get("headers"); f && webhook) {
        if (!f->value.node.IsMap()) {
            c.error(f->value.mark, f->value.path, "expected a mapping of header names to values, found " +
                                                      describe(f->value.node));
        } else {
            for (const auto& entry : f->value.node) {
                std::string name = entry.first.Scalar(), value = entry.second.IsScalar() ? entry.second.Scalar() : "";
                bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
                    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
                });
                if (!token || value.find_first_of("\r\n") != std::string::npos)
                    c.error(entry.first.Mark(), yamlfile::join(f->value.path, text::printable(name)),
                            "a header is a name of letters, digits and '-' with a one-line value");
                else
                    out.headers.emplace_back(name, value);
            }
        }
    }
    if (auto f = fields->get("format"); f && webhook) {
        auto s = c.text(f->value, "json or text");
        if (s && *s != "json" && *s != "text")
            c.error(f->value.mark, f->value.path, "expected json or text, found " + describe(f->value.node));
        else if (s)
            out.text_body = *s == "text";
    }
    if (auto f = fields->get("kinds")) out.kinds = read_notify_kinds(c, f->value);
}

void read_notify(Checker& c, const Value& v, Notify& out) {
    static constexpr std::string_view keys[] = {"channels", "page_url", "rate_limit", "digest_at", "queue_size",
                                                "mute"};
    auto fields = c.mapping(v, keys, "a mapping with channels, page_url, rate_limit, digest_at, queue_size and mute");
    if (!fields) return;
    if (auto f = fields->get("channels")) {
        if (auto items = c.list(f->value, "a list of channels (each webhook: URL or exec: COMMAND)"))
            for (const auto& item : *items) {
                NotifyChannel channel;
                read_notify_channel(c, item, channel);
                if (!channel.target.empty()) out.channels.push_back(std::move(channel));
            }
    }
    if (auto f = fields->get("page_url")) {
        if (auto url = c.text(f->value, "the status page's URL")) {
            if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0)
                c.error(f->value.mark, f->value.path, "expected an http:// or https:// URL, found " + describe(f->value.node));
            else
                out.page_url = *url;
        }
    }
    if (auto f = fields->get("rate_limit"))
        if (auto d = c.duration(f->value, milliseconds(0), notify_rate_limit_max)) out.rate_limit = *d;
    if (auto f = fields->get("digest_at")) {
        auto s = c.text(f->value, "a time of day like \"20:00\"");
        int h = -1, m = -1;
        char extra = 0;
        if (s && (std::sscanf(s->c_str(), "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 23 || m < 0 || m > 59))
            c.error(f->value.mark, f->value.path, "expected a time of day HH:MM (e.g. \"20:00\"), found " + describe(f->value.node));
        else if (s)
            out.digest_minute = h * 60 + m;
    }
    if (auto f = fields->get("queue_size"))
        if (auto n = c.whole_number(f->value, 1, notify_queue_max)) out.queue_size = *n;
    if (auto f = fields->get("mute")) {
        static constexpr std::string_view mute_keys[] = {"devices", "kinds"};
        if (auto mute = c.mapping(f->value, mute_keys, "a mapping with devices and kinds")) {
            if (auto d = mute->get("devices")) read_exempt(c, d->value, out.mute_devices);
            if (auto k = mute->get("kinds")) out.mute_kinds = read_notify_kinds(c, k->value);
        }
    }
}

void read_policy(Checker& c, const YAML::Node& root, Policy& policy) {
    static constexpr std::string_view keys[] = {
        "interfaces", "xdp_mode",  "interval",   "detach_on_exit", "log_level",
        "paths",      "map_sizes", "quarantine", "events_log",     "exempt",
        "devices",    "blocklist", "identity",   "detectors",      "metrics",
        "status_page", "fleet",    "notify",   "new_devices"};
    Value top{root, root.Mark(), ""};
    if (root.IsNull()) {
        c.error(root.Mark(), "interfaces",
                "missing: the file holds no policy; expected at least interfaces.wan and "
                "interfaces.lan");
        return;
    }
    auto fields = c.mapping(top, keys, "a mapping of policy keys (interfaces, map_sizes, ...)");
    if (!fields) return;

    if (auto f = c.required(*fields, "interfaces", "a mapping with wan and lan"))
        read_interfaces(c, f->value, policy.interfaces);
    if (auto f = fields->get("xdp_mode"))
        if (auto mode = c.choice(f->value, xdp_mode_names)) policy.xdp_mode = *mode;
    if (auto f = fields->get("interval"))
        if (auto d = c.duration(f->value, interval_min, interval_max)) policy.interval = *d;
    if (auto f = fields->get("detach_on_exit"))
        if (auto b = c.boolean(f->value)) policy.detach_on_exit = *b;
    if (auto f = fields->get("log_level"))
        if (auto level = c.choice(f->value, log_level_names)) policy.log_level = *level;
    if (auto f = fields->get("paths")) read_paths(c, f->value, policy.paths);
    if (auto f = fields->get("map_sizes")) read_map_sizes(c, f->value, policy.map_sizes);
    if (auto f = fields->get("quarantine")) read_quarantine(c, f->value, policy.quarantine);
    if (auto f = fields->get("events_log")) read_events_log(c, f->value, policy.events_log);
    if (auto f = fields->get("exempt")) read_exempt(c, f->value, policy.exempt);
    if (auto f = fields->get("devices")) read_devices(c, f->value, policy.devices);
    if (auto f = fields->get("blocklist")) read_blocklist(c, f->value, policy.blocklist);
    if (auto f = fields->get("identity")) read_identity(c, f->value, policy.identity);
    if (auto f = fields->get("metrics")) read_metrics(c, f->value, policy.metrics);
    if (auto f = fields->get("status_page")) read_status_page(c, f->value, policy.status_page);
    if (auto f = fields->get("fleet")) read_fleet(c, f->value, policy.fleet);
    if (auto f = fields->get("notify")) read_notify(c, f->value, policy.notify);
    if (auto f = fields->get("new_devices"))
        if (auto mode = c.choice(f->value, new_devices_names)) policy.new_devices = *mode;
    if (auto f = fields->get("detectors")) read_detectors(c, f->value, policy.detectors);
}

}  // namespace

LoadResult load_text(std::string_view yaml, const std::string& name) {
    LoadResult out;
    Checker c(name);
    Policy policy;
    policy.source = name;
    if (auto root = c.parse(yaml, "policy file")) {
        try {
            read_policy(c, *root, policy);
        } catch (const YAML::Exception& e) {
            // Not expected (the checker only reads node types and scalars), but a policy
            // check must report, not crash.
            c.error(e.mark, "", std::string("unexpected YAML error: ") + e.what());
        }
    }
    c.sort_by_position();
    out.errors = std::move(c.errors);
    out.warnings = std::move(c.warnings);
    if (out.errors.empty()) out.policy = std::move(policy);
    return out;
}

DetectorSettings read_detector_settings(std::string_view text, const engine::Config& base, const std::string& name) {
    DetectorSettings out;
    Checker c(name);
    engine::Config config = base;
    if (auto root = c.parse(text, "detector settings")) {
        try {
            read_detectors(c, Value{*root, root->Mark(), "detectors"}, config);
        } catch (const YAML::Exception& e) {
            c.error(e.mark, "detectors", std::string("unexpected YAML error: ") + e.what());
        }
    }
    c.sort_by_position();
    out.errors = std::move(c.errors);
    if (out.errors.empty()) out.config = std::move(config);
    return out;
}

LoadResult load_file(const std::string& path) {
    LoadResult out;
    if (auto text = yamlfile::read_file(path, "policy file", out.errors)) return load_text(*text, path);
    return out;
}

}  // namespace warden::policy
