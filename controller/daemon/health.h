// How the controller is doing: each step of the poll fails on its own, and a failing step
// (or a change that could not be saved) makes the controller "degraded", with the reason,
// in `warden status`, status.json, the page and metrics, instead of a silent "running".
// A step's failure is logged when it starts and when it ends, not every second.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace warden::daemon {

class Health {
public:
    // The outcome of one step (a poll step, or "state" for saving changes).
    void ok(const std::string& step);
    void failed(const std::string& step, const std::string& why, int64_t now_ms);

    bool degraded() const { return !problems_.empty(); }
    // {"state": "ok" | "degraded", "problems": [{"step", "error", "since_ms", "count"}]}
    nlohmann::json to_json() const;
    // "ok", or "degraded: inventory: cannot write ... (since 12:00:01)".
    std::string summary() const;
    // Failures of each step since start, for metrics.
    const std::map<std::string, uint64_t>& failures() const { return failures_; }

private:
    struct Problem {
        std::string error;
        int64_t since_ms = 0;
        uint64_t count = 0;
    };
    std::map<std::string, Problem> problems_;
    std::map<std::string, uint64_t> failures_;
};

// Runs a poll's steps one by one, each in its own try: a step that throws is recorded in
// Health and the next step runs. Also times each step (CPU ms) for `--log-level debug`.
class PollSteps {
public:
    PollSteps(Health& health, int64_t now_ms);
    // Runs step; false when it threw.
    template <typename F>
    bool run(const char* name, F&& step) {
        bool ok = true;
        try {
            step();
            health_.ok(name);
        } catch (const std::exception& e) {
            health_.failed(name, e.what(), now_ms_);
            ok = false;
        }
        mark(name);
        return ok;
    }
    const std::string& timings() const { return timings_; }
    double cpu_ms() const;  // since the first step

private:
    void mark(const char* name);

    Health& health_;
    int64_t now_ms_;
    double start_, last_;
    std::string timings_;
};

}  // namespace warden::daemon
