#include "version/version.h"

#include <bpf/libbpf.h>

namespace warden::version {

std::string release() { return WARDEN_RELEASE; }

std::string commit() { return kCommit; }

std::string libbpf() { return std::to_string(libbpf_major_version()) + "." + std::to_string(libbpf_minor_version()); }

nlohmann::json to_json() { return {{"version", release()}, {"commit", commit()}, {"libbpf", libbpf()}}; }

std::string line() { return "warden " + release() + " (commit " + commit() + ", libbpf " + libbpf() + ")"; }

}  // namespace warden::version
