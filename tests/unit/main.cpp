// Unit tests: doctest, and exit 77 instead of 0 when a case could not run here (support/skip.h).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "support/skip.h"

int main(int argc, char** argv) { return warden::testing::run_doctest(argc, argv); }
