// The `warden` command line: global options, subcommand dispatch, help, exit codes
// (0 ok, 1 runtime error, 2 usage error).
#pragma once

namespace warden::cli {

int main(int argc, char** argv);

}  // namespace warden::cli
