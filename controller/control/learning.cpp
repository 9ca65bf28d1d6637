#include "control/learning.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>

#include <fmt/format.h>

#include "store/files.h"
#include "store/state.h"

namespace warden::control {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path pending_dir(const fs::path& state_dir) { return store::StateDir(state_dir).path_of(store::layout::pending); }

void keep(const fs::path& state_dir, const std::string& kind, json body) {
    fs::path dir = pending_dir(state_dir);
    store::ensure_dir(dir);
    int64_t now = store::now_unix_ms();
    body["kind"] = kind;
    body["ts_ms"] = now;
    // Time first, so names sort in the order requests were made; pid and a counter keep
    // names of one millisecond apart.
    static std::atomic<unsigned> counter{0};
    store::write_atomically(dir / fmt::format("{:013d}-{}-{}-{}.json", now, getpid(), counter++, kind), body.dump());
}

}  // namespace

void PendingLearning::released(const net::Mac& mac, int64_t) { keep(state_dir_, "release", {{"mac", mac.str()}}); }

Taught PendingLearning::false_positive(const net::Mac& mac, std::optional<engine::Detector> detector, int64_t) {
    json body{{"mac", mac.str()}};
    if (detector) body["detector"] = std::string(engine::to_string(*detector));
    keep(state_dir_, "false_positive", body);
    Taught t;
    t.pending = true;
    t.text = "warden is not running: the behaviour engine learns this when it starts";
    return t;
}

size_t PendingLearning::import_profiles(const engine::Profiles& priors) {
    keep(state_dir_, "import_profiles", {{"profiles", priors.to_json()}});
    return priors.types.size();
}

std::vector<PendingRequest> pending_requests(const fs::path& state_dir) {
    std::vector<PendingRequest> out;
    std::error_code ec;
    fs::directory_iterator it(pending_dir(state_dir), ec), end;
    if (ec) return out;  // no directory: nothing was ever asked
    for (; it != end; it.increment(ec)) {
        if (ec) break;
        const fs::path& p = it->path();
        if (p.extension() != ".json") continue;  // a writer's temporary file
        PendingRequest r;
        r.file = p;
        try {
            r.body = json::parse(store::read_file(p));
            if (!r.body.is_object() || !r.body.contains("kind") || !r.body["kind"].is_string()) {
                r.problem = "not a request object with a \"kind\"";
                r.body = nullptr;
            }
        } catch (const std::exception& e) {
            r.problem = e.what();
            r.body = nullptr;
        }
        out.push_back(std::move(r));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
    return out;
}

}  // namespace warden::control
