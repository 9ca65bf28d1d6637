#include "daemon/requests.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "daemon/pidfile.h"
#include "store/files.h"
#include "store/state.h"

namespace warden::daemon {

namespace fs = std::filesystem;

fs::path requests_dir(const fs::path& state_dir) { return state_dir / "requests"; }

Submitted submit_request(const fs::path& state_dir, const std::string& kind, nlohmann::json body) {
    fs::path dir = requests_dir(state_dir);
    store::ensure_dir(dir);
    body["kind"] = kind;
    int64_t now = store::now_unix_ms();
    if (!body.contains("ts_ms")) body["ts_ms"] = now;
    // Time first, so names sort in the order requests were made; pid and a counter keep
    // names of one millisecond apart.
    static std::atomic<unsigned> counter{0};
    Submitted s;
    s.file = dir / fmt::format("{:013d}-{}-{}-{}.json", now, getpid(), counter++, kind);
    store::write_atomically(s.file, body.dump());
    if (auto pid = running_controller(store::StateDir(state_dir).pid_file().string()))
        s.signalled = kill(*pid, SIGUSR1) == 0;
    return s;
}

bool wait_handled(const Submitted& request, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::error_code ec;
    while (fs::exists(request.file, ec)) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

std::vector<Request> pending_requests(const fs::path& state_dir) {
    std::vector<Request> out;
    std::error_code ec;
    fs::directory_iterator it(requests_dir(state_dir), ec), end;
    if (ec) return out;  // no directory: nothing was ever asked
    for (; it != end; it.increment(ec)) {
        if (ec) break;
        const fs::path& p = it->path();
        if (p.extension() != ".json") continue;  // write_atomically's temp files end otherwise
        Request r;
        r.file = p;
        try {
            r.body = nlohmann::json::parse(store::read_file(p));
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
    std::sort(out.begin(), out.end(), [](const Request& a, const Request& b) { return a.file < b.file; });
    return out;
}

}  // namespace warden::daemon
