#include "support/skip.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <vector>

namespace warden::testing {

namespace {

std::vector<std::string>& reasons() {
    static std::vector<std::string> all;
    return all;
}

}  // namespace

void cannot_run(const std::string& why) {
    reasons().push_back(why);
    std::fprintf(stderr, "SKIP: a test case cannot run here: %s\n", why.c_str());
    MESSAGE("SKIPPED (cannot run here): " << why);
}

int run_doctest(int argc, char** argv) {
    doctest::Context context(argc, argv);
    int result = context.run();
    if (context.shouldExit() || reasons().empty()) return result;
    std::fprintf(stderr, "SKIP: %zu test case(s) could not run here, so this binary did not test everything:\n",
                 reasons().size());
    for (const auto& why : reasons()) std::fprintf(stderr, "SKIP:   %s\n", why.c_str());
    return result != 0 ? result : 77;
}

}  // namespace warden::testing
