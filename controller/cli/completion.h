// Shell completion scripts for bash, zsh and fish, written from the command table
// (cli/command_table.h): the commands, each group's subcommands, each command's options and
// the values an option or argument may take. The build runs `warden completion SHELL` and
// installs what it prints; nothing here is written by hand per command.
#pragma once

#include <iosfwd>
#include <string>

namespace warden::cli {

// Writes the script for shell ("bash", "zsh" or "fish"); false for another shell.
bool write_completion(const std::string& shell, std::ostream& out);

}  // namespace warden::cli
