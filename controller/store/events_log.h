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
    // The observer is told every event in its final shape, even one the disk refused (who
    // is told must not depend on free space). It runs on the appender's thread: it must be quick.
    void append(nlohmann::json event);
    void observe(std::function<void(const nlohmann::json&)> observer) { observer_ = std::move(observer); }

    const std::filesystem::path& file() const { return file_; }

    // Every readable event, oldest first, across rotated files; unreadable lines are
    // reported in problems, not fatal.
    static std::vector<nlohmann::json> read_all(const std::filesystem::path& file, int keep,
                                                std::vector<std::string>* problems = nullptr);

private:
    void rotate();

    std::filesystem::path file_;
    uint64_t max_bytes_;
    int keep_;
    std::function<void(const nlohmann::json&)> observer_;
};

}  // namespace warden::store
