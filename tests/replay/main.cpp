// The replay suite's entry point: doctest, plus the seed on stderr (so a failure can be
// replayed with WARDEN_SEED) and, with WARDEN_REPLAY_REPORT=FILE, the measurements as JSON
// for scripts/detection-report.sh.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "replay.h"

int main(int argc, char** argv) {
    std::fprintf(stderr, "replay seed %llu (WARDEN_SEED=%llu replays this run)\n",
                 (unsigned long long)warden::replay::seed(),
                 (unsigned long long)warden::replay::seed());
    doctest::Context context(argc, argv);
    int result = context.run();
    if (const char* path = std::getenv("WARDEN_REPLAY_REPORT"); path && *path) {
        std::ofstream out(path);
        out << warden::replay::Report::get().to_json(warden::replay::seed()).dump(1) << "\n";
        if (!out) {
            std::fprintf(stderr, "cannot write the report to %s\n", path);
            return result ? result : 1;
        }
    }
    if (result != 0)
        std::fprintf(stderr, "replay failed with seed %llu: WARDEN_SEED=%llu replays it\n",
                     (unsigned long long)warden::replay::seed(),
                     (unsigned long long)warden::replay::seed());
    return result;
}
