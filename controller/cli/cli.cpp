#include "cli/cli.h"

#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <sstream>

#include "cli/command_table.h"
#include "cli/commands.h"
#include "cli/help.h"
#include "log/log.h"
#include "text/text.h"
#include "version/version.h"

namespace po = boost::program_options;

namespace warden::cli {

namespace {

// Where the words of the command end: the first one or two words that are not options (nor
// an option's value), at their positions in args.
std::vector<size_t> command_word_positions(const std::vector<std::string>& args) {
    std::vector<size_t> positions;
    for (size_t i = 0; i < args.size() && positions.size() < 2; ++i) {
        const auto& a = args[i];
        if (a == "--") break;
        if (!a.empty() && a[0] == '-') {
            if (option_takes_value(a)) ++i;
            continue;
        }
        positions.push_back(i);
    }
    return positions;
}

bool asks_for_help(const std::vector<std::string>& args) {
    for (const auto& a : args) {
        if (a == "--") break;
        if (a == "--help" || a == "-h") return true;
    }
    return false;
}

std::vector<std::string> subcommand_words(const std::string& group) {
    std::vector<std::string> words;
    for (const Command* c : members(group))
        if (!c->hidden) words.push_back(c->name.substr(group.size() + 1));
    return words;
}

std::vector<std::string> long_options(const Command& c) {
    std::vector<std::string> names;
    auto options = all_options(c);  // kept: options() refers into it
    for (const auto& o : options.options()) names.push_back("--" + o->long_name());
    return names;
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
        } else if (i > 0 && option_takes_value(args[i - 1])) {
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

    auto word_positions = command_word_positions(args);

    const Command* cmd = nullptr;
    size_t consumed = 0;
    if (!word_positions.empty()) {
        std::string one = args[word_positions[0]];
        if (const Group* group = find_group(one)) {
            if (word_positions.size() < 2) {
                if (asks_for_help(args)) {
                    print_group_help(*group, std::cout);
                    return 0;
                }
                std::cerr << "warden " << one << ": needs a subcommand\n\n";
                print_group_help(*group, std::cerr);
                return 2;
            }
            std::string two = args[word_positions[1]];
            cmd = find_command(one + " " + two);
            if (!cmd) {
                std::cerr << "warden " << one << ": unknown subcommand \"" << two << "\""
                          << did_you_mean(two, subcommand_words(one)) << "\n\n";
                print_group_help(*group, std::cerr);
                return 2;
            }
            consumed = 2;
        } else {
            cmd = find_command(one);
            if (!cmd) {
                std::cerr << "warden: unknown command \"" << one << "\"" << did_you_mean(one, first_words())
                          << " (see warden --help)\n";
                return 2;
            }
            consumed = 1;
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
                std::cout << version::line() << "\n";
                return 0;
            }
        bool help = asks_for_help(rest);
        print_overview(help ? std::cout : std::cerr);
        return help ? 0 : 2;
    }

    Context ctx;
    ctx.command = cmd->name;
    po::options_description all = all_options(*cmd);
    all.add_options()("positional", po::value<std::vector<std::string>>(), "");
    po::positional_options_description pos;
    pos.add("positional", -1);
    try {
        po::store(po::command_line_parser(rest).options(all).positional(pos).run(), ctx.vm);
        po::notify(ctx.vm);
    } catch (const po::unknown_option& e) {
        std::string written = e.get_option_name();
        std::cerr << "warden " << cmd->name << ": " << e.what()
                  << did_you_mean(written.substr(0, written.find('=')), long_options(*cmd)) << " (see warden "
                  << cmd->name << " --help)\n";
        return 2;
    } catch (const po::error& e) {
        std::cerr << "warden " << cmd->name << ": " << e.what() << " (see warden " << cmd->name << " --help)\n";
        return 2;
    }
    if (ctx.vm.count("help")) {
        print_command_help(*cmd, std::cout);
        return 0;
    }
    if (ctx.vm.count("positional")) ctx.positional = ctx.vm["positional"].as<std::vector<std::string>>();
    size_t least = 0, most = 0;
    for (const auto& a : cmd->arguments) {
        least += a.optional ? 0 : 1;
        most = a.many ? SIZE_MAX : most + 1;
    }
    if (ctx.positional.size() < least || ctx.positional.size() > most) {
        bool few = ctx.positional.size() < least;
        std::cerr << "warden " << cmd->name << ": expected " << (least == most ? "" : few ? "at least " : "at most ")
                  << (few ? least : most) << " argument(s)"
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
