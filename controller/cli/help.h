// The help warden prints, all from the command table (cli/command_table.h): the overview of
// every command, a group's subcommands, one command's usage and options, and "did you mean"
// for a word it does not know.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/command_table.h"

namespace warden::cli {

inline constexpr size_t kHelpWidth = 80;

void print_overview(std::ostream& out);
void print_group_help(const Group& group, std::ostream& out);
void print_command_help(const Command& command, std::ostream& out);

// The candidate closest to word: one a typo away (a small edit distance for its length), or
// the only one that starts with word. Empty when none is close.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);
// " (did you mean \"quarantine\"?)", or "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// The words that may come first: commands without a group, and the groups (visible ones).
std::vector<std::string> first_words();

// Text laid out in lines of at most `width` columns, every line after the first indented by
// `indent` spaces (the first is the caller's: it follows what is already on the line).
std::string wrap(const std::string& text, size_t indent, size_t width = kHelpWidth);

}  // namespace warden::cli
