// The commands a gateway has taken, by id: the last ones (about 1,000) with what came of
// each, kept on disk, so that a command the broker delivers again is acknowledged again and
// never applied twice, across restarts and crashes. A command is written here as "applying"
// before the control core sees it, so a crash half-way makes its redelivery a duplicate
// (at most once), never a second application.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace warden::fleet {

struct CommandOutcome {
    std::string id;
    std::string result;  // applying | applied | rejected | expired
    std::string reason;  // with rejected: why
    int64_t ms = 0;      // when it was decided
};

class CommandLog {
public:
    static constexpr size_t kDefaultCapacity = 1000;

    // Reads the file when it exists (store/jsonlines.h): a damaged file is moved aside and
    // its readable outcomes written back, with the problem in problems().
    explicit CommandLog(std::filesystem::path file, size_t capacity = kDefaultCapacity);

    std::optional<CommandOutcome> find(const std::string& id) const;
    // Records (or updates) an outcome and writes the file atomically and durably before
    // returning; the oldest outcome is forgotten beyond the capacity. Throws on I/O errors.
    void record(CommandOutcome outcome);

    // The newest issue time of a broadcast taken from a topic: a retained broadcast older
    // than what was applied is never applied again (an old blocklist cannot be replayed).
    int64_t broadcast_issued(const std::string& topic) const;
    void record_broadcast(const std::string& topic, int64_t issued_ms);

    size_t size() const { return outcomes_.size(); }
    const std::vector<std::string>& problems() const { return problems_; }

private:
    void save() const;

    std::filesystem::path file_;
    size_t capacity_;
    std::deque<CommandOutcome> outcomes_;  // oldest first
    std::vector<std::pair<std::string, int64_t>> broadcasts_;
    std::vector<std::string> problems_;
};

}  // namespace warden::fleet
