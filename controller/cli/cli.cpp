#include "cli/cli.h"

#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "log/log.h"
#include "text/text.h"

namespace po = boost::program_options;

namespace warden::cli {

namespace {

struct Command {
    std::string name;  // "quarantine add"
    std::string args;  // "MAC [options]"
    std::string summary;
    std::string details;
    std::function<void(po::options_description&)> options;
    // Names, in order; "..." on the last: any number; "[name]" on the last: it may be left out.
    std::vector<std::string> positionals;
    std::function<int(Context&)> run;
};

void no_options(po::options_description&) {}

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
        {"status", "[--json]", "is warden running; interfaces, maps and their fill, program counters",
         "", no_options, {}, cmd_status},
        {"devices", "[--explain MAC] [--json]",
         "every device seen on a LAN port: who it is (vendor, type), traffic, rates and state",
         "NAME is the policy's name, else the DHCP hostname. VENDOR comes from the MAC's prefix\n"
         "(the IEEE registry, identity.ieee_data); TYPE from the policy's devices: list, else from\n"
         "the rules in identity.device_types. --json adds everything warden knows of each device.\n"
         "--explain MAC prints that device's evidence: each fact and where it came from, the type\n"
         "rules that matched (file line, weight, matched value), the scores and the winner.",
         [](po::options_description& o) {
             o.add_options()("explain", po::value<std::string>(), "why this device (MAC) has its identity and type");
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
             o.add_options()("interval", po::value<double>()->default_value(1.0), "seconds between refreshes")(
                 "sort", po::value<std::string>()->default_value("up"), "up, down, name, flows or state")(
                 "once", "print one snapshot and exit, even on a terminal");
         },
         {}, cmd_top},
        {"flows", "[--device MAC] [--top N] [--sort bytes|packets|recent] [--json]",
         "the flow table: who talks to whom, how much", "",
         [](po::options_description& o) {
             o.add_options()("device", po::value<std::string>(), "only this device's flows")(
                 "top", po::value<int>()->default_value(20), "show the first N (0: all)")(
                 "sort", po::value<std::string>()->default_value("bytes"), "bytes, packets or recent");
         },
         {}, cmd_flows},
        {"quarantine add", "MAC [--level isolate|restricted] [--for DURATION] [--reason TEXT]",
         "cut a device off (isolate) or leave it only DHCP and DNS (restricted)",
         "Defaults come from the policy's quarantine: section. DURATION is like 90s, 15m, 1h, 7d, or\n"
         "\"forever\". The quarantine is enforced at once and recorded in the state dir.",
         [](po::options_description& o) {
             o.add_options()("level", po::value<std::string>(), "isolate or restricted")(
                 "for", po::value<std::string>(), "how long (e.g. 15m, 1h, 7d, forever)")(
                 "reason", po::value<std::string>()->default_value(""), "why, for the record");
         },
         {"mac"}, cmd_quarantine_add},
        {"quarantine del", "MAC [--false-positive [--detector NAME]]", "release a device from quarantine",
         "--false-positive: the finding behind it was wrong. The device is released now and the\n"
         "running controller's behaviour engine learns that this behaviour is normal for it (the\n"
         "detectors of its latest finding, or only --detector NAME: port_scan, propagation,\n"
         "flood, exfiltration, new_destinations, blocklist, lateral, beaconing), so the same\n"
         "behaviour does not quarantine it again; recorded as a false_positive event. Works for\n"
         "an alert-only finding too (the device need not be quarantined). If the controller is\n"
         "not running, it learns this when it starts.",
         [](po::options_description& o) {
             o.add_options()("false-positive", "the finding was wrong: teach the engine")(
                 "detector", po::value<std::string>(), "with --false-positive: only this detector learns");
         },
         {"mac"}, cmd_quarantine_del},
        {"quarantine list", "[--json]", "quarantined devices, with time left and frames dropped", "", no_options,
         {}, cmd_quarantine_list},
        {"block add", "PREFIX [--direction in|out|both] [--force]", "block an address or prefix (IPv4 or IPv6)",
         "out: devices cannot reach it; in: it cannot reach in from the WAN; both (default).\n"
         "A prefix that holds one of the gateway's own addresses or overlaps the LAN would cut\n"
         "devices off from the gateway (DNS, DHCP, the page, SSH): it is refused unless --force.\n"
         "A very wide prefix (shorter than /8 for IPv4, /16 for IPv6) is blocked with a warning.",
         [](po::options_description& o) {
             o.add_options()("direction", po::value<std::string>()->default_value("both"), "in, out or both")(
                 "force", "block even a prefix that would cut the LAN off from the gateway");
         },
         {"prefix"}, cmd_block_add},
        {"block del", "PREFIX", "remove a prefix the operator blocked", "", no_options, {"prefix"}, cmd_block_del},
        {"block list", "[--json]", "every blocked prefix, with direction and source", "", no_options, {},
         cmd_block_list},
        {"block load", "FILE [--direction in|out|both]", "block every prefix in a file",
         "One prefix a line, optionally followed by in, out or both; '#' starts a comment. If any\n"
         "line is bad, every bad line is reported with its number and nothing is loaded. The\n"
         "prefixes are checked as `block add` checks them; one refused refuses the file.",
         [](po::options_description& o) {
             o.add_options()("direction", po::value<std::string>()->default_value("both"),
                             "direction for lines that do not name one")(
                 "force", "load even prefixes that would cut the LAN off from the gateway");
         },
         {"file"}, cmd_block_load},
        {"events", "[--follow] [--last N] [--json]", "what happened: quarantines, releases, blocked traffic, new devices",
         "",
         [](po::options_description& o) {
             o.add_options()("follow,f", "keep printing new events as they come (Ctrl-C stops)")(
                 "last", po::value<int>()->default_value(50), "print the last N events (0: all)");
         },
         {}, cmd_events},
        {"alerts", "[--device MAC] [--since DURATION] [--json]",
         "the behaviour engine's findings: when, which device, what it did, what was done",
         "From the events log, newest last. DURATION is like 90s, 15m, 1h, 7d. The evidence says\n"
         "what was measured against what is normal for the device and the threshold.",
         [](po::options_description& o) {
             o.add_options()("device", po::value<std::string>(), "only this device's findings")(
                 "since", po::value<std::string>(), "only findings of the last DURATION");
         },
         {}, cmd_alerts},
        {"profile export", "FILE", "write the learned per-type behaviour profiles (no MACs, names or addresses)",
         "Asks the running controller to save what it learned, then writes the profile of each\n"
         "device type from <state dir>/engine.json, for `warden profile import` on another\n"
         "gateway or `warden profile merge`.",
         no_options, {"file"}, cmd_profile_export},
        {"profile import", "FILE", "load per-type behaviour profiles as priors",
         "The file is checked first: a bad file is an error naming what is wrong, and nothing\n"
         "changes. Then the controller uses the profiles for devices whose own history is not\n"
         "trusted yet, and keeps them in <state dir>/engine.json (if it is not running, it\n"
         "imports them when it starts).",
         no_options, {"file"}, cmd_profile_import},
        {"profile merge", "A B ... -o OUT", "merge profile files exactly into one (a file operation)",
         "The merge is exact: merging A+B then C equals A then B+C equals one engine that saw\n"
         "everything. Every input is checked; a bad one is an error naming it, and OUT is not\n"
         "written.",
         [](po::options_description& o) {
             o.add_options()("output,o", po::value<std::string>(), "where the merged profiles go");
         },
         {"file..."}, cmd_profile_merge},
        {"policy check", "[FILE]", "validate a policy file and the files it names, and print every problem",
         "FILE defaults to the --config file (/etc/warden/policy.yaml). The blocklist files, the\n"
         "device-type rules and ieee-data the policy names are read as `warden run` would read them.",
         no_options, {"[file]"}, cmd_policy_check},
        {"policy show", "[FILE] [--json]", "print the effective policy: the file's settings and every default",
         "FILE defaults to the --config file (/etc/warden/policy.yaml). The output is a policy file\n"
         "itself: it loads back to the same policy.",
         no_options, {"[file]"}, cmd_policy_show},
        {"policy reload", "", "make the running controller re-read its policy, and report the outcome", "",
         no_options, {}, cmd_policy_reload},
        {"detach", "", "remove warden's programs and pins (the controller must be stopped)", "", no_options, {},
         cmd_detach},
    };
    return table;
}

void common_options(po::options_description& o) {
    o.add_options()("help,h", "show help")("config,c", po::value<std::string>(),
                                           "policy file (default /etc/warden/policy.yaml)")(
        "pin-dir", po::value<std::string>(), "where the maps are pinned (default /sys/fs/bpf/warden)")(
        "state-dir", po::value<std::string>(), "where state is kept (default /var/lib/warden)")(
        "log-level", po::value<std::string>(), "debug, info, warn or error (warden run)")(
        "json", "print JSON instead of a table");
}

void print_overview(std::ostream& out) {
    out << "warden: network-layer security for the home, on the gateway\n\n"
           "usage: warden [options] COMMAND [args]\n\ncommands:\n";
    size_t width = 0;
    for (const auto& c : commands()) width = std::max(width, c.name.size());
    for (const auto& c : commands())
        out << "  " << c.name << std::string(width - c.name.size() + 2, ' ') << c.summary << "\n";
    po::options_description o("options (for every command)");
    common_options(o);
    o.add_options()("version", "print the version");
    out << "\n" << o << "\n`warden COMMAND --help` says more about each command.\n"
        << "Exit codes: 0 ok, 1 runtime error, 2 usage error.\n";
}

void print_command_help(const Command& c, std::ostream& out) {
    out << "usage: warden " << c.name << (c.args.empty() ? "" : " " + c.args) << "\n\n" << c.summary << ".\n";
    if (!c.details.empty()) out << "\n" << c.details << "\n";
    po::options_description own("options");
    c.options(own);
    if (!own.options().empty()) out << "\n" << own;
    po::options_description common("common options");
    common_options(common);
    out << "\n" << common;
}

bool takes_value(const std::string& arg) {
    return arg == "-c" || arg == "--config" || arg == "--pin-dir" || arg == "--state-dir" ||
           arg == "--log-level" || arg == "--device" || arg == "--top" || arg == "--sort" ||
           arg == "--level" || arg == "--for" || arg == "--reason" || arg == "--direction" || arg == "--last" ||
           arg == "--since" || arg == "--detector" || arg == "-o" || arg == "--output" ||
           arg == "--interval" || arg == "--explain";
}

// Every argument is text that enters warden (a --reason lands in the state dir, the events
// log and JSON): refused unless it is UTF-8 without control characters, naming which one.
std::optional<std::string> unsafe_argument(const std::vector<std::string>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
        auto flaw = text::first_flaw(args[i]);
        if (!flaw) continue;
        std::string_view a = args[i];
        std::string which = "argument " + std::to_string(i + 1);
        if (size_t eq = a.find('='); a.starts_with("--") && eq < flaw->offset) {
            which = a.substr(0, eq);  // --reason=VALUE
            a.remove_prefix(eq + 1);
        } else if (i > 0 && takes_value(args[i - 1])) {
            which = args[i - 1];
        }
        return which + " \"" + text::printable(a) + "\": " + flaw->str() +
               "; warden takes UTF-8 text without control characters";
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (auto problem = unsafe_argument(args)) {
        std::cerr << "warden: " << *problem << "\n";
        return 2;
    }

    // Find the command words (the first one or two non-option words).
    std::vector<size_t> word_positions;
    for (size_t i = 0; i < args.size() && word_positions.size() < 2; ++i) {
        const auto& a = args[i];
        if (a == "--") break;
        if (!a.empty() && a[0] == '-') {
            if (takes_value(a)) ++i;
            continue;
        }
        word_positions.push_back(i);
    }

    const Command* cmd = nullptr;
    size_t consumed = 0;
    if (!word_positions.empty()) {
        std::string one = args[word_positions[0]];
        std::string two = word_positions.size() > 1 ? one + " " + args[word_positions[1]] : "";
        for (const auto& c : commands()) {
            if (!two.empty() && c.name == two) {
                cmd = &c;
                consumed = 2;
            }
        }
        if (!cmd)
            for (const auto& c : commands())
                if (c.name == one) {
                    cmd = &c;
                    consumed = 1;
                }
        if (!cmd) {
            bool group = false;
            for (const auto& c : commands())
                if (c.name.rfind(one + " ", 0) == 0) group = true;
            if (group) {
                std::cerr << "warden " << one << ": needs a subcommand:\n";
                for (const auto& c : commands())
                    if (c.name.rfind(one + " ", 0) == 0) std::cerr << "  warden " << c.name << "  " << c.summary << "\n";
                return 2;
            }
            std::cerr << "warden: unknown command \"" << one << "\" (see warden --help)\n";
            return 2;
        }
    }
    std::vector<std::string> rest;
    for (size_t i = 0; i < args.size(); ++i) {
        bool is_word = false;
        for (size_t k = 0; k < consumed; ++k) is_word |= word_positions[k] == i;
        if (!is_word) rest.push_back(args[i]);
    }

    if (!cmd) {
        for (const auto& a : rest)
            if (a == "--version") {
                std::cout << "warden " << WARDEN_VERSION << "\n";
                return 0;
            }
        bool help = false;
        for (const auto& a : rest) help |= a == "--help" || a == "-h";
        print_overview(help ? std::cout : std::cerr);
        return help ? 0 : 2;
    }

    Context ctx;
    ctx.command = cmd->name;
    po::options_description all;
    common_options(all);
    cmd->options(all);
    all.add_options()("positional", po::value<std::vector<std::string>>(), "");
    po::positional_options_description pos;
    pos.add("positional", -1);
    try {
        po::store(po::command_line_parser(rest).options(all).positional(pos).run(), ctx.vm);
        po::notify(ctx.vm);
    } catch (const po::error& e) {
        std::cerr << "warden " << cmd->name << ": " << e.what() << " (see warden " << cmd->name << " --help)\n";
        return 2;
    }
    if (ctx.vm.count("help")) {
        print_command_help(*cmd, std::cout);
        return 0;
    }
    if (ctx.vm.count("positional")) ctx.positional = ctx.vm["positional"].as<std::vector<std::string>>();
    // A last positional named "...": one or more of it; named "[...]": none or one.
    bool any_number = !cmd->positionals.empty() && cmd->positionals.back().ends_with("...");
    bool last_optional = !cmd->positionals.empty() && cmd->positionals.back().starts_with('[');
    size_t required = cmd->positionals.size() - (last_optional ? 1 : 0);
    if (any_number ? ctx.positional.size() < required
                   : ctx.positional.size() < required || ctx.positional.size() > cmd->positionals.size()) {
        std::cerr << "warden " << cmd->name << ": expected " << (any_number ? "at least " : "")
                  << (last_optional ? std::to_string(required) + " or " : "") << cmd->positionals.size()
                  << " argument(s)"
                  << (cmd->args.empty() ? "" : " (" + cmd->args + ")") << ", got " << ctx.positional.size()
                  << " (see warden " << cmd->name << " --help)\n";
        return 2;
    }
    if (ctx.vm.count("config")) {
        ctx.config = ctx.vm["config"].as<std::string>();
        ctx.config_given = true;
    }
    if (ctx.vm.count("pin-dir")) ctx.pin_dir_flag = ctx.vm["pin-dir"].as<std::string>();
    if (ctx.vm.count("state-dir")) ctx.state_dir_flag = ctx.vm["state-dir"].as<std::string>();
    if (ctx.vm.count("log-level")) {
        ctx.log_level_flag = ctx.vm["log-level"].as<std::string>();
        if (!log::parse_level(*ctx.log_level_flag)) {
            std::cerr << "warden " << cmd->name << ": --log-level must be debug, info, warn or error\n";
            return 2;
        }
    }
    ctx.json = ctx.vm.count("json") > 0;

    try {
        return cmd->run(ctx);
    } catch (const UsageError& e) {
        std::cerr << "warden " << cmd->name << ": " << e.what() << " (see warden " << cmd->name << " --help)\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "warden " << cmd->name << ": " << e.what() << "\n";
        return 1;
    }
}

}  // namespace warden::cli
