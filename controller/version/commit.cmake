# Writes OUTPUT, a C++ source defining the commit warden is built from: `git describe` of the
# source tree (a short hash, "-dirty" with uncommitted changes), or "unknown" outside a git
# checkout. Run at every build (cmake -P), the file rewritten only when the commit changed,
# so an unchanged tree recompiles nothing.
#   cmake -DSOURCE_DIR=<repository> -DOUTPUT=<commit.cpp> -P commit.cmake
execute_process(COMMAND git -C "${SOURCE_DIR}" describe --always --dirty --abbrev=12 --exclude=*
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
if(failed OR commit STREQUAL "")
  set(commit "unknown")
endif()
set(text "// Written by controller/version/commit.cmake at build time.\n#include \"version/version.h\"\n\nnamespace warden::version {\nconst char* const kCommit = \"${commit}\";\n}\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
