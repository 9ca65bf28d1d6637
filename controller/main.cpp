// warden: the one command. main only dispatches to the subcommands in cli/.
#include <cstdio>
#include <cstring>



int main(int argc, char** argv) {
    if (argc >= 2 && (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "version"))) {
        std::printf("warden %s\n", WARDEN_VERSION);
        return 0;
    }
    std::fprintf(stderr, "usage: warden --version\n");
    return 2;
}
