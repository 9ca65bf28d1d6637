#include "daemon/health.h"

#include <ctime>

#include <fmt/format.h>

#include "log/log.h"
#include "store/events_log.h"

namespace warden::daemon {

namespace {

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

}  // namespace

void Health::ok(const std::string& step) {
    auto it = problems_.find(step);
    if (it == problems_.end()) return;
    log::info("{}: working again after {} failure(s)", step, it->second.count);
    problems_.erase(it);
}

void Health::failed(const std::string& step, const std::string& why, int64_t now_ms) {
    ++failures_[step];
    auto [it, first] = problems_.try_emplace(step);
    auto& p = it->second;
    ++p.count;
    if (first || p.error != why) {
        log::error("{}: {} (the other steps go on; `warden status` says degraded until this works again)", step, why);
        if (first) p.since_ms = now_ms;
        p.error = why;
    }
}

nlohmann::json Health::to_json() const {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& [step, p] : problems_)
        problems.push_back({{"step", step}, {"error", p.error}, {"since_ms", p.since_ms}, {"count", p.count}});
    return {{"state", degraded() ? "degraded" : "ok"}, {"problems", problems}};
}

std::string Health::summary() const {
    if (!degraded()) return "ok";
    std::string s = "degraded:";
    for (const auto& [step, p] : problems_)
        s += fmt::format(" {}: {} (since {});", step, p.error, store::iso_time(p.since_ms));
    s.pop_back();
    return s;
}

PollSteps::PollSteps(Health& health, int64_t now_ms) : health_(health), now_ms_(now_ms) {
    start_ = last_ = cpu_seconds();
}

void PollSteps::mark(const char* name) {
    double now = cpu_seconds();
    if (!timings_.empty()) timings_ += ", ";
    timings_ += fmt::format("{} {:.2f}", name, (now - last_) * 1000);
    last_ = now;
}

double PollSteps::cpu_ms() const { return (cpu_seconds() - start_) * 1000; }

}  // namespace warden::daemon
