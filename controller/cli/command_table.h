// The command table: every `warden` command, its arguments, options and words of help, in
// one place. The dispatcher, --help, `warden help`, the shell completions and the man page
// are all made from it, so none of them can say something the others do not.
#pragma once

#include <boost/program_options.hpp>

#include <functional>
#include <string>
#include <vector>

#include "cli/context.h"

namespace warden::cli {

// One positional argument of a command.
struct Argument {
    std::string name;                  // as the usage line spells it: "MAC", "FILE"
    bool many = false;                 // one or more (zero or more when optional)
    bool optional = false;
    bool file = false;                 // a path: shells complete file names
    std::vector<std::string> choices = {};  // the words it may be, for completion; empty: any text
    bool command_word = false;         // a command's name (`warden help COMMAND`)
};

struct Command {
    std::string name;  // "status", "quarantine add"
    std::string args;  // the usage after the name: "MAC [--level isolate|restricted] ..."
    std::string summary;  // one line, lower case, no full stop
    std::string details;  // paragraphs for --help and the man page; may be empty
    // The command's own options. An option's value name says what it takes: "FILE" (a path),
    // "A|B|C" (one of those words), else free text ("MAC", "DURATION").
    std::function<void(boost::program_options::options_description&)> options;
    std::vector<Argument> arguments;
    std::function<int(Context&)> run;
    bool hidden = false;  // for the build (completion, man): not in the overview or completions
};

// A word that groups commands: "quarantine" for quarantine add, del and list.
struct Group {
    std::string name;
    std::string summary;
};

const std::vector<Command>& commands();
const std::vector<Group>& groups();

// The options every command takes (--config, --pin-dir, --json, ...).
void common_options(boost::program_options::options_description& options);
// A command's own options and the common ones, as the dispatcher parses them.
boost::program_options::options_description all_options(const Command& command);

// The group a command belongs to ("quarantine" for "quarantine add"), or "".
std::string group_of(const Command& command);
// The commands of a group, in table order (hidden ones too).
std::vector<const Command*> members(const std::string& group);
const Group* find_group(const std::string& name);
const Command* find_command(const std::string& name);

// True when the option (as written: "--level", "-o") takes a value in any command, so the
// word after it is not a command word.
bool option_takes_value(const std::string& written);

// What an option's value is, from its value name: "FILE" (or "DIR"), a list of choices, or
// free text.
struct ValueKind {
    bool file = false;
    std::vector<std::string> choices;
};
ValueKind value_kind(const boost::program_options::option_description& option);

}  // namespace warden::cli
