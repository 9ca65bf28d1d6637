// A test case that cannot run on this machine (a package missing, too few CPUs) must not
// pass: it calls cannot_run(why) and returns, and run_doctest() then ends the binary with
// exit 77 once everything else has passed. ctest reports 77 as skipped, and under CI
// (tests/support/run_test.sh, through which every ctest entry runs) as a failure.
#pragma once

#include <string>

namespace warden::testing {

// Records why the running test case cannot run here and prints it (a "SKIP:" line, and a
// doctest message that names the case). The caller returns from the test case right after.
void cannot_run(const std::string& why);

// doctest's main: the run's own exit code when a case failed (or for --help, --list-...),
// else 77 when a case called cannot_run(), else 0.
int run_doctest(int argc, char** argv);

}  // namespace warden::testing
