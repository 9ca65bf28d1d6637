// warden: the one command. main only dispatches to the subcommands in cli/.
#include "cli/cli.h"

int main(int argc, char** argv) { return warden::cli::main(argc, argv); }
