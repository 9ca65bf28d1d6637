// The events log: one JSON object a line (quarantine, release, blocklist hits, new devices,
// policy reloads, ...), appended by the controller and by operator commands, rotated by
// size (events.jsonl -> .1 -> .2 ... up to keep files; keep 0 starts afresh). `warden
// events` reads it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace warden::store {

// "2026-11-30T12:00:01.234Z"
std::string iso_time(int64_t unix_ms);

class EventLog {
public:
    EventLog(std::filesystem::path file, uint64_t max_bytes, int keep);

    // Adds "time" (and "ts_ms") when missing, then appends one line; rotates first when the
    // line would take the file past max_bytes. Throws on I/O errors.
    void append(nlohmann::json event);
    // Hands every event appended from now on, in its final shape, to an observer in the same
    // process (the fleet channel, the household's notifier), also when the disk refuses the
    // line (who is told must not depend on free space). Observers run on the appender's thread, in the order they were added, and must
    // not block.
    void observe(std::function<void(const nlohmann::json&)> observer) { observers_.push_back(std::move(observer)); }
    // Before what the observers use goes away.
    void stop_observing() { observers_.clear(); }

    const std::filesystem::path& file() const { return file_; }

    // Every readable event, oldest first, across rotated files; unreadable lines are
    // reported in problems, not fatal. A log file that exists but cannot be read (permission
    // denied, not a regular file) throws std::runtime_error saying so.
    static std::vector<nlohmann::json> read_all(const std::filesystem::path& file, int keep,
                                                std::vector<std::string>* problems = nullptr);

private:
    void rotate();

    std::filesystem::path file_;
    uint64_t max_bytes_;
    int keep_;
    std::vector<std::function<void(const nlohmann::json&)>> observers_;
};

}  // namespace warden::store
