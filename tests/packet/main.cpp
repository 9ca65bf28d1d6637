// Packet tests: the real BPF programs on crafted frames. Without root they cannot run at
// all, and a case that needs what this machine lacks cannot run (support/skip.h); either way
// they exit with 77, which ctest reports as skipped (never as passed).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "support/harness.h"
#include "support/skip.h"

int main(int argc, char** argv) {
    std::string why = warden::testing::why_no_bpf();
    if (!why.empty()) {
        std::fprintf(stderr, "SKIP: packet tests cannot run: %s\n", why.c_str());
        return 77;
    }
    return warden::testing::run_doctest(argc, argv);
}
