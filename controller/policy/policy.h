// The operator's policy (/etc/warden/policy.yaml): which ports to guard, how to size and pin
// the maps, quarantine defaults, named and exempt devices, blocklists, detectors. Loading
// validates strictly and reports every problem with file:line:column and the key path.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/choices.h"
#include "engine/config.h"
#include "net/address.h"
#include "text/level.h"
#include "text/units.h"
#include "yamlfile/yamlfile.h"
#include "warden/abi.h"  // default map sizes and pin dir: one place for both sides

namespace warden::policy {

using std::chrono::milliseconds;

// One problem found in a policy file, with file:line:column and the key path.
using Diagnostic = yamlfile::Diagnostic;

using dataplane::XdpMode;
enum class LogLevel { debug, info, warn, error };
using QuarantineLevel = text::QuarantineLevel;  // one type, from the map to the page
enum class BlockDirection { in, out, both };
enum class DeviceType {
    camera, speaker, tv, plug, thermostat, hub, phone, laptop, printer, console, unknown
};

// Names as written in the policy and accepted by CLI flags (--level, --direction).
std::string_view to_string(LogLevel);
std::string_view to_string(BlockDirection);
std::string_view to_string(DeviceType);
std::optional<LogLevel> parse_log_level(std::string_view);
std::optional<BlockDirection> parse_block_direction(std::string_view);
std::optional<DeviceType> parse_device_type(std::string_view);

// The gateway's ports. Any of them may be absent when warden starts, or come and go while it
// runs: warden attaches to each the moment it appears (controller/ports).
struct Interfaces {
    std::string wan;
    // Non-empty, distinct, none equal to wan. An entry is an interface's name or a shell
    // pattern (wlan*, lan[0-9]) matching any number of them (never the WAN).
    std::vector<std::string> lan;
    // Entries of lan (or the wan) that may be absent without a warning, such as radios that
    // come and go; the others are expected, and their absence is logged as a warning.
    std::vector<std::string> optional;

    bool is_optional(std::string_view entry) const;
};

// True when an interfaces entry is a pattern (holds *, ? or [) rather than one name.
bool is_interface_pattern(std::string_view entry);
// True when the interface called `name` is the one `entry` names, or one its pattern matches.
bool interface_matches(std::string_view entry, std::string_view name);

struct Paths {
    std::string pin_dir = WD_PIN_DIR_DEFAULT;
    std::string state_dir = "/var/lib/warden";
};

// Map capacities: the data plane's own type. The bounds keep a typo from asking the kernel
// for gigabytes (the upper ones) or from making a map useless (the lower ones); they are
// documented in config/policy.yaml and enforced by the loader.
using dataplane::MapSizes;

struct SizeBounds {
    uint32_t min, max;
};
inline constexpr SizeBounds devices_bounds{16, 65'536};
inline constexpr SizeBounds flows_bounds{1'024, 4'194'304};
inline constexpr SizeBounds blocklist_bounds{16, 1'048'576};  // each of v4 and v6
inline constexpr SizeBounds quarantine_bounds{16, 65'536};
// 64 KiB is the largest page size Linux uses (arm64 64K pages); a ring buffer must be a
// whole number of pages, so this minimum works everywhere.
inline constexpr SizeBounds events_kb_bounds{64, 65'536};

inline constexpr milliseconds interval_min{100};
inline constexpr milliseconds interval_max{3'600'000};
inline constexpr milliseconds quarantine_duration_min{1'000};
inline constexpr milliseconds quarantine_duration_max{365ll * 86'400'000};
inline constexpr uint64_t events_log_min_size = 64ull << 10;
inline constexpr uint64_t events_log_max_size = 16ull << 30;
inline constexpr unsigned events_log_max_keep = 100;
inline constexpr size_t device_name_max = 64;

struct QuarantineDefaults {
    QuarantineLevel level = QuarantineLevel::isolate;
    std::optional<milliseconds> duration = milliseconds(3'600'000);  // nullopt: "forever"
};

struct EventsLog {
    uint64_t max_size = 10ull << 20;  // rotate when the JSON-lines log passes this
    unsigned keep = 5;                // rotated files kept (0: rotation just truncates)
};

struct NamedDevice {
    net::Mac mac;
    std::string name;
    DeviceType type = DeviceType::unknown;
    std::string notes;
};

struct BlocklistFile {
    std::string path;  // absolute; read by the controller, not by the policy loader
    BlockDirection direction = BlockDirection::both;
};

struct BlocklistPrefix {
    net::Prefix prefix;
    BlockDirection direction = BlockDirection::both;
};

struct Blocklist {
    std::vector<BlocklistFile> files;
    std::vector<BlocklistPrefix> prefixes;
};

// Where device identity comes from: the IEEE registry of MAC prefixes (Debian's ieee-data)
// and the rules that tell a device's type.
struct IdentitySources {
    std::string ieee_data = "/usr/share/ieee-data";
    std::string device_types = "/etc/warden/device-types.yaml";
};

// Where an HTTP listener of `warden run` listens: "lan:PORT" (every address of the LAN
// bridges or ports, taking connections only from packets that arrive there, never the WAN)
// or "ADDRESS:PORT" ("127.0.0.1:9464", "[fd00:1::1]:8080").
struct Listen {
    bool lan = false;
    net::IpAddr address;  // when not lan
    uint16_t port = 0;

    std::string str() const;  // as written in the policy
    bool operator==(const Listen&) const = default;
};
std::optional<Listen> parse_listen(std::string_view text, std::string* why = nullptr);

// Prometheus metrics (GET /metrics).
struct Metrics {
    bool enabled = true;
    Listen listen{false, net::IpAddr::v4({127, 0, 0, 1}), 9464};
};

// The household status page and its JSON API.
struct StatusPage {
    bool enabled = true;
    Listen listen{true, {}, 8080};
    // Host names the page answers to besides IP addresses and local names (one label, or
    // ending in .lan, .home.arpa, .local, .internal): a guard against DNS rebinding.
    std::vector<std::string> hostnames;
};

// The operator's cloud channel (controller/fleet, docs/FLEET.md): MQTT 5 to the operator's
// broker, mutual TLS; off unless enabled. The gateway's id is its certificate's CN.
struct Fleet {
    bool enabled = false;
    std::string host;
    uint16_t port = 8883;
    std::string ca;           // the broker's CA (PEM), absolute path
    std::string cert;         // this gateway's client certificate (PEM); its CN is the gateway id
    std::string key;          // its private key (PEM)
    std::string operator_key; // the operator's Ed25519 public key (PEM): commands must verify
    bool insecure = false;    // plain TCP, no certificates (labs only; logged loudly)
    std::string gateway_id;   // with insecure only (no certificate to take it from)
    uint64_t queue_bytes = 1ull << 20;  // the on-disk queue of up messages
    milliseconds health_every{60'000};
    milliseconds inventory_every{600'000};
    milliseconds profiles_every{3'600'000};
    milliseconds reconnect_max{60'000};  // the longest wait between two connection attempts
};
inline constexpr uint64_t fleet_queue_min = 16ull << 10;
inline constexpr uint64_t fleet_queue_max = 256ull << 20;

// What warden does with a device it has never seen: let it be, tell the household (default),
// or hold it at the restricted level until someone approves it (releases it).
enum class NewDevices { allow, notify, restricted_until_approved };
std::string_view to_string(NewDevices);

// Notifications (`notify:`): who is told what, and how (controller/notify).
enum class NotifyKind { new_device, quarantine, release, alert, digest };
std::string_view to_string(NotifyKind);
std::optional<NotifyKind> parse_notify_kind(std::string_view);
inline constexpr size_t notify_kind_count = 5;

struct NotifyChannel {
    enum class Type { webhook, exec };
    Type type = Type::webhook;
    // webhook: the URL (http:// or https://); exec: the command's absolute path.
    std::string target;
    std::vector<std::string> args;                              // exec: its arguments
    std::vector<std::pair<std::string, std::string>> headers;   // webhook: extra headers (tokens)
    bool text_body = false;  // webhook: the sentence as text/plain instead of the JSON body
    // The kinds it is told; default all but the digest.
    std::vector<NotifyKind> kinds{NotifyKind::new_device, NotifyKind::quarantine, NotifyKind::release,
                                  NotifyKind::alert};

    bool wants(NotifyKind kind) const;
    std::string str() const;  // "webhook http://..." / "exec /usr/local/bin/..."
};

inline constexpr milliseconds notify_rate_limit_max{7 * 86'400'000ll};
inline constexpr uint64_t notify_queue_max = 10'000;

struct Notify {
    std::vector<NotifyChannel> channels;
    std::string page_url;  // the link in every message; "" = the status page's first address
    // Per device: after one message about it, what follows within this is told as one summary.
    milliseconds rate_limit{3'600'000};
    int digest_minute = 20 * 60;  // the daily digest's local time, minutes after midnight
    uint64_t queue_size = 200;    // messages kept on disk for a receiver that is down
    std::vector<net::Mac> mute_devices;
    std::vector<NotifyKind> mute_kinds;

    bool muted(const net::Mac& mac, NotifyKind kind) const;
};

struct Policy {
    Interfaces interfaces;
    XdpMode xdp_mode = XdpMode::automatic;
    milliseconds interval{1'000};
    bool detach_on_exit = false;
    LogLevel log_level = LogLevel::info;
    Paths paths;
    MapSizes map_sizes;
    QuarantineDefaults quarantine;
    EventsLog events_log;
    std::vector<net::Mac> exempt;      // never quarantined automatically
    std::vector<NamedDevice> devices;  // distinct MACs
    Blocklist blocklist;
    IdentitySources identity;
    Metrics metrics;
    StatusPage status_page;
    Fleet fleet;

    Notify notify;
    NewDevices new_devices = NewDevices::notify;
    // The behaviour engine's settings: what each detector looks for and what it does.
    engine::Config detectors;
    std::string source;  // the file (or name) it was loaded from

    bool is_exempt(const net::Mac& mac) const;
    const NamedDevice* find_device(const net::Mac& mac) const;
};

// A policy is present exactly when there are no errors. Warnings never block loading.
struct LoadResult {
    std::optional<Policy> policy;
    std::vector<Diagnostic> errors;
    std::vector<Diagnostic> warnings;
};

// Reads and validates a policy file; an unreadable file is one error without a position.
LoadResult load_file(const std::string& path);
// Validates YAML text; `name` stands for the file in diagnostics and in Policy::source.
LoadResult load_text(std::string_view yaml, const std::string& name);

// Detector settings given on their own (the content of a `detectors:` section, as YAML or
// JSON text), applied over `base` and checked exactly as the policy file's section is: the
// settings when there are no errors (keys it does not name keep base's values).
struct DetectorSettings {
    std::optional<engine::Config> config;
    std::vector<Diagnostic> errors;
};
DetectorSettings read_detector_settings(std::string_view text, const engine::Config& base, const std::string& name);

}  // namespace warden::policy
