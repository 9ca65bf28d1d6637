// What this build of warden is: its release, the commit it was built from, and the libbpf it
// runs with. `warden --version`, `warden status --json` (through status.json), the
// warden_build_info metric and the man pages all say it from here.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace warden::version {

extern const char* const kCommit;  // written at build time (commit.cmake): "1a2b3c4d5e6f[-dirty]"

// "0.1.0": the project's version (CMakeLists.txt).
std::string release();
// The commit, as git describes it; "unknown" for a build outside a git checkout.
std::string commit();
// The libbpf warden is running with (the shared library loaded, not the headers): "1.1".
std::string libbpf();
// "warden 0.1.0 (commit 1a2b3c4d5e6f, libbpf 1.1)"
std::string line();
// {"version": ..., "commit": ..., "libbpf": ...}, as status.json and status --json carry it.
nlohmann::json to_json();

}  // namespace warden::version
