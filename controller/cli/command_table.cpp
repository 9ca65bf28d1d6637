#include "cli/command_table.h"

#include "cli/commands.h"
#include "engine/config.h"

namespace po = boost::program_options;

namespace warden::cli {

namespace {

void no_options(po::options_description&) {}

// "port_scan|propagation|...": the detectors as the engine names them.
std::string detector_names() {
    std::string out;
    for (auto d : engine::all_detectors) out += (out.empty() ? "" : "|") + std::string(engine::to_string(d));
    return out;
}

po::typed_value<std::string>* text(const char* value_name) {
    return po::value<std::string>()->value_name(value_name);
}

}  // namespace

const std::vector<Group>& groups() {
    static const std::vector<Group> table = {
        {"quarantine", "cut devices off the network, let them back, list who is cut off"},
        {"block", "the addresses and prefixes no device may reach (or be reached from)"},
        {"profile", "per-type behaviour profiles, shared between gateways"},
        {"fleet", "the operator's channel: its state here, and the aggregator of the fleet's profiles"},
        {"policy", "the policy file: check it, make the controller re-read it"},
    };
    return table;
}

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"run", "[--config FILE]", "load the programs, attach them and watch the network (the controller)",
         "Loads lan_ingress (XDP) and lan_egress (tc egress) on every LAN port and wan_ingress on\n"
         "the WAN port, pins maps and links under the pin dir (reusing pins from an earlier run, so\n"
         "a restart loses nothing), restores quarantines and the inventory from the state dir, then\n"
         "polls every interval. SIGHUP (or `warden policy reload`) re-reads the policy; an invalid\n"
         "policy is rejected and the running one stays in force. SIGTERM stops the controller; the\n"
         "programs stay attached and keep enforcing unless the policy says detach_on_exit: true.",
         no_options, {}, cmd_run},
        {"status", "[--json]", "is warden running; each port and the programs the kernel has there, maps, counters",
         "", no_options, {}, cmd_status},
        {"devices", "[--explain MAC] [--json]",
         "every device seen on a LAN port: who it is (vendor, type), traffic, rates and state",
         "NAME is the policy's name, else the DHCP hostname. VENDOR comes from the MAC's prefix\n"
         "(the IEEE registry, identity.ieee_data); TYPE from the policy's devices: list, else from\n"
         "the rules in identity.device_types. --json adds everything warden knows of each device.\n"
         "--explain MAC prints that device's evidence: each fact and where it came from, the type\n"
         "rules that matched (file line, weight, matched value), the scores and the winner.",
         [](po::options_description& o) {
             o.add_options()("explain", text("MAC"), "why this device has its identity and type");
         },
         {}, cmd_devices},
        {"top", "[--interval SECONDS] [--sort up|down|name|flows|state] [--once] [--json]",
         "live view of every device: state, rates, flows, drops, latest findings",
         "Full screen, refreshed every interval. Keys: u up rate, d down rate, n name, f active\n"
         "flows, s state (worst first); arrows and PgUp/PgDn scroll; r refreshes now; q quits.\n"
         "alerting: a finding for the device in the last 10 minutes. When stdout is not a\n"
         "terminal, or with --once, it prints one snapshot of the same rows and exits (--json: as\n"
         "JSON).",
         [](po::options_description& o) {
             o.add_options()("interval", po::value<double>()->default_value(1.0)->value_name("SECONDS"),
                             "seconds between refreshes")(
                 "sort", po::value<std::string>()->default_value("up")->value_name("up|down|name|flows|state"),
                 "the column the rows are sorted by")("once", "print one snapshot and exit, even on a terminal");
         },
         {}, cmd_top},
        {"flows", "[--device MAC] [--top N] [--sort bytes|packets|recent] [--json]",
         "the flow table: who talks to whom, how much", "",
         [](po::options_description& o) {
             o.add_options()("device", text("MAC"), "only this device's flows")(
                 "top", po::value<int>()->default_value(20)->value_name("N"), "show the first N (0: all)")(
                 "sort", po::value<std::string>()->default_value("bytes")->value_name("bytes|packets|recent"),
                 "the order of the rows");
         },
         {}, cmd_flows},
        {"quarantine add", "MAC [--level isolate|restricted] [--for DURATION] [--reason TEXT]",
         "cut a device off (isolate) or leave it only DHCP and DNS (restricted)",
         "Defaults come from the policy's quarantine: section. DURATION is like 90s, 15m, 1h, 7d, or\n"
         "\"forever\". The quarantine is enforced at once and recorded in the state dir.",
         [](po::options_description& o) {
             o.add_options()("level", text("isolate|restricted"), "how far the device is cut off")(
                 "for", text("DURATION"), "how long (e.g. 15m, 1h, 7d, forever)")(
                 "reason", po::value<std::string>()->default_value("")->value_name("TEXT"), "why, for the record");
         },
         {{"MAC"}}, cmd_quarantine_add},
        {"quarantine del", "MAC [--false-positive [--detector NAME]]", "release a device from quarantine",
         "--false-positive: the finding behind it was wrong. The device is released now and the\n"
         "running controller's behaviour engine learns that this behaviour is normal for it (the\n"
         "detectors of its latest finding, or only --detector NAME), so the same behaviour does\n"
         "not quarantine it again; recorded as a false_positive event. Works for an alert-only\n"
         "finding too (the device need not be quarantined). If the controller is not running, it\n"
         "learns this when it starts.",
         [](po::options_description& o) {
             static const std::string detectors = detector_names();
             o.add_options()("false-positive", "the finding was wrong: teach the engine")(
                 "detector", text(detectors.c_str()), "with --false-positive: only this detector learns");
         },
         {{"MAC"}}, cmd_quarantine_del},
        {"quarantine list", "[--json]", "quarantined devices, with time left and frames dropped", "", no_options,
         {}, cmd_quarantine_list},
        {"block add", "PREFIX [--direction in|out|both] [--force]", "block an address or prefix (IPv4 or IPv6)",
         "out: devices cannot reach it; in: it cannot reach in from the WAN; both (default).\n"
         "A prefix that holds one of the gateway's own addresses or overlaps the LAN would cut\n"
         "devices off from the gateway (DNS, DHCP, the page, SSH): it is refused unless --force.\n"
         "A very wide prefix (shorter than /8 for IPv4, /16 for IPv6) is blocked with a warning.",
         [](po::options_description& o) {
             o.add_options()("direction", po::value<std::string>()->default_value("both")->value_name("in|out|both"),
                             "which way traffic is blocked")(
                 "force", "block even a prefix that would cut the LAN off from the gateway");
         },
         {{"PREFIX"}}, cmd_block_add},
        {"block del", "PREFIX", "remove a prefix the operator blocked", "", no_options, {{"PREFIX"}},
         cmd_block_del},
        {"block list", "[--json]", "every blocked prefix, with direction and source", "", no_options, {},
         cmd_block_list},
        {"block load", "FILE [--direction in|out|both] [--force]", "block every prefix in a file",
         "One prefix a line, optionally followed by in, out or both; '#' starts a comment. If any\n"
         "line is bad, every bad line is reported with its number and nothing is loaded. The\n"
         "prefixes are checked as `block add` checks them; one refused refuses the file.",
         [](po::options_description& o) {
             o.add_options()("direction", po::value<std::string>()->default_value("both")->value_name("in|out|both"),
                             "direction for lines that do not name one")(
                 "force", "load even prefixes that would cut the LAN off from the gateway");
         },
         {{.name = "FILE", .file = true}}, cmd_block_load},
        {"events", "[--since TIME] [--device MAC] [--kind KIND,...] [--follow] [--last N] [--json]",
         "what happened: quarantines, releases, blocked traffic, new devices",
         "TIME is a duration ago (15m, 7d), today, yesterday, or a time such as 2026-12-07 14:30\n"
         "(local time, or with Z or an offset such as +01:00). KIND is an event's kind as --json\n"
         "shows it (quarantine, release, finding, new_device, ...); several, comma-separated.\n"
         "--last counts the events that pass the filters.",
         [](po::options_description& o) {
             o.add_options()("since", text("TIME"), "only events from TIME on")(
                 "device", text("MAC"), "only this device's events")(
                 "kind", text("KIND"), "only events of these kinds (comma-separated)")(
                 "follow,f", "keep printing new events as they come (Ctrl-C stops)")(
                 "last", po::value<int>()->default_value(50)->value_name("N"), "print the last N events (0: all)");
         },
         {}, cmd_events},
        {"alerts", "[--device MAC] [--since TIME] [--json]",
         "the behaviour engine's findings: when, which device, what it did, what was done",
         "From the events log, newest last. TIME is as for `warden events`: 15m, today, yesterday,\n"
         "2026-12-07 14:30. The evidence says\n"
         "what was measured against what is normal for the device and the threshold.",
         [](po::options_description& o) {
             o.add_options()("device", text("MAC"), "only this device's findings")(
                 "since", text("TIME"), "only findings from TIME on");
         },
         {}, cmd_alerts},
        {"profile export", "FILE", "write the learned per-type behaviour profiles (no MACs, names or addresses)",
         "Asks the running controller to save what it learned, then writes the profile of each\n"
         "device type from <state dir>/engine.json, for `warden profile import` on another\n"
         "gateway or `warden profile merge`.",
         no_options, {{.name = "FILE", .file = true}}, cmd_profile_export},
        {"profile import", "FILE", "load per-type behaviour profiles as priors",
         "The file is checked first: a bad file is an error naming what is wrong, and nothing\n"
         "changes. Then the controller uses the profiles for devices whose own history is not\n"
         "trusted yet, and keeps them in <state dir>/engine.json (if it is not running, it\n"
         "imports them when it starts).",
         no_options, {{.name = "FILE", .file = true}}, cmd_profile_import},
        {"profile merge", "A B ... -o OUT", "merge profile files exactly into one (a file operation)",
         "The merge is exact: merging A+B then C equals A then B+C equals one engine that saw\n"
         "everything. Every input is checked; a bad one is an error naming it, and OUT is not\n"
         "written.",
         [](po::options_description& o) {
             o.add_options()("output,o", text("FILE"), "where the merged profiles go");
         },
         {{.name = "FILE", .many = true, .file = true}}, cmd_profile_merge},
        {"fleet status", "[--json]", "the operator's channel: connected, broker, queue, what was dropped",
         "Asks the running controller (docs/FLEET.md).", no_options, {}, cmd_fleet_status},
        {"fleet aggregate", "--host H --sign-key KEY [options]",
         "the operator's side: merge the fleet's per-type profiles into signed, retained priors",
         "Subscribes to prof/v1/<type>/+ for the types of its shard (--types, default all), keeps\n"
         "the latest profile of each (type, gateway) in --state, merges each type exactly, and\n"
         "publishes the prior of a type that at least --min-homes gateways contributed to, signed\n"
         "with --sign-key, retained on bcast/v1/priors/<type>, every --every when it changed.",
         [](po::options_description& o) {
             o.add_options()("host", text("HOST"), "the broker")(
                 "port", po::value<uint16_t>()->default_value(8883)->value_name("PORT"), "its port")(
                 "ca", text("FILE"), "the broker's CA (PEM)")(
                 "cert", text("FILE"), "the aggregator's client certificate (PEM)")(
                 "key", text("FILE"), "its private key (PEM)")(
                 "insecure", "plain TCP without certificates (labs only)")(
                 "client-id", po::value<std::string>()->default_value("warden-aggregate")->value_name("ID"),
                 "the MQTT client id")(
                 "sign-key", text("FILE"), "the operator's Ed25519 private key (PEM)")(
                 "types", text("TYPES"), "the device types of this shard, comma-separated")(
                 "min-homes", po::value<size_t>()->default_value(5)->value_name("N"),
                 "publish a prior only from this many gateways")(
                 "every", po::value<std::string>()->default_value("60s")->value_name("DURATION"),
                 "how often priors are published")(
                 "state", text("FILE"), "where the latest profiles are kept across restarts")(
                 "run-for", text("DURATION"), "stop after this long (default: until SIGTERM)");
         },
         {}, cmd_fleet_aggregate},
        {"policy check", "[FILE]", "validate a policy file and the files it names, and print every problem",
         "FILE defaults to the --config file (/etc/warden/policy.yaml). The blocklist files, the\n"
         "device-type rules and ieee-data the policy names are read as `warden run` would read them.",
         no_options, {{.name = "FILE", .optional = true, .file = true}}, cmd_policy_check},
        {"policy show", "[FILE] [--json]", "print the effective policy: the file's settings and every default",
         "FILE defaults to the --config file (/etc/warden/policy.yaml). The output is a policy file\n"
         "itself: it loads back to the same policy.",
         no_options, {{.name = "FILE", .optional = true, .file = true}}, cmd_policy_show},
        {"policy reload", "", "make the running controller re-read its policy, and report the outcome", "",
         no_options, {}, cmd_policy_reload},
        {"detach", "", "remove warden's programs and pins (the controller must be stopped)", "", no_options, {},
         cmd_detach},
        {"help", "[COMMAND...]", "say what a command or a group of commands does",
         "`warden help quarantine` is `warden quarantine --help`; `warden help` lists every command.",
         no_options, {{.name = "COMMAND", .many = true, .optional = true, .command_word = true}}, cmd_help},
        // For the build: what it installs for the shells and for man.
        {"completion", "SHELL [-o FILE]", "print the shell completion script for bash, zsh or fish", "",
         [](po::options_description& o) { o.add_options()("output,o", text("FILE"), "write it to FILE"); },
         {{.name = "SHELL", .choices = {"bash", "zsh", "fish"}}}, cmd_completion, true},
        {"man", "PAGE [-o FILE]", "print a man page (warden or warden-policy) in roff", "",
         [](po::options_description& o) { o.add_options()("output,o", text("FILE"), "write it to FILE"); },
         {{.name = "PAGE", .choices = {"warden", "warden-policy"}}}, cmd_man, true},
    };
    return table;
}

void common_options(po::options_description& o) {
    o.add_options()("help,h", "show help")("config,c", text("FILE"), "the policy (default /etc/warden/policy.yaml)")(
        "pin-dir", text("DIR"), "where the maps are pinned (default /sys/fs/bpf/warden)")(
        "state-dir", text("DIR"), "where state is kept (default /var/lib/warden)")(
        "log-level", text("debug|info|warn|error"), "how much warden run logs")(
        "json", "print JSON instead of a table")("utc", "print times in UTC (default: local time with its offset)");
}

po::options_description all_options(const Command& command) {
    po::options_description all;
    common_options(all);
    command.options(all);
    return all;
}

std::string group_of(const Command& command) {
    auto space = command.name.find(' ');
    return space == std::string::npos ? "" : command.name.substr(0, space);
}

std::vector<const Command*> members(const std::string& group) {
    std::vector<const Command*> out;
    for (const auto& c : commands())
        if (group_of(c) == group) out.push_back(&c);
    return out;
}

const Group* find_group(const std::string& name) {
    for (const auto& g : groups())
        if (g.name == name) return &g;
    return nullptr;
}

const Command* find_command(const std::string& name) {
    for (const auto& c : commands())
        if (c.name == name) return &c;
    return nullptr;
}

bool option_takes_value(const std::string& written) {
    if (written.size() < 2 || written[0] != '-' || written.find('=') != std::string::npos) return false;
    bool is_long = written.starts_with("--");
    std::string name = written.substr(is_long ? 2 : 1);
    for (const auto& c : commands()) {
        auto options = all_options(c);
        for (const auto& o : options.options()) {
            bool named = is_long ? o->long_name() == name
                                 : o->canonical_display_name(po::command_line_style::allow_dash_for_short) == written;
            if (named) return o->semantic()->max_tokens() > 0;
        }
    }
    return false;
}

ValueKind value_kind(const po::option_description& option) {
    ValueKind kind;
    if (option.semantic()->max_tokens() == 0) return kind;
    // The value name, as boost keeps it: "FILE", "in|out|both"; with " (=both)" after it when
    // there is a default.
    std::string name = option.semantic()->name();
    name = name.substr(0, name.find(' '));
    if (name == "FILE" || name == "DIR") {
        kind.file = true;
        return kind;
    }
    if (name.find('|') == std::string::npos) return kind;
    size_t start = 0;
    for (;;) {
        size_t bar = name.find('|', start);
        kind.choices.push_back(name.substr(start, bar - start));
        if (bar == std::string::npos) break;
        start = bar + 1;
    }
    return kind;
}

}  // namespace warden::cli
