// What waits to go up to the broker: a queue on disk, bounded in bytes, that survives
// kill -9, restarts and reboots. A message leaves it only when the broker acknowledged it
// (PUBACK), oldest first; until then it is sent again after every reconnect (at least once:
// each message carries its sequence number, so a subscriber can tell a repeat).
// Beyond the budget, routine messages (health, routine events) are dropped oldest first and
// counted by kind; messages that must arrive (quarantines, releases, acks) are never
// dropped; snapshots (inventory, profiles, status) keep only the latest per topic.
// A message the broker refuses (PUBACK reason code >= 0x80: not authorised, quota, ...) would
// be refused again: a routine message or a snapshot leaves the queue, counted as refused by
// kind; a must-arrive message is kept (sent again on the next connection) without holding up
// the messages behind it.
// Thread-safe: the loop thread adds events, the agent's thread sends and acknowledges.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace warden::fleet {

enum class Priority {
    must_arrive,  // quarantine, release, acks: never dropped
    snapshot,     // only the latest per topic is worth sending
    routine,      // health and routine events: dropped first when the budget is full
};

struct UpMessage {
    uint64_t seq = 0;
    std::string topic;
    std::string payload;  // JSON, with "seq" set
    Priority priority = Priority::routine;
    bool retain = false;
    std::string kind;     // what it counts as when dropped: "health", "event:finding", ...
    bool in_flight = false;
    int mid = 0;          // the MQTT message id while in flight
    bool acked = false;
    bool held = false;    // refused by the broker in this connection: kept, sent again on the next
    bool refusal_reported = false;
};

// What refused() did with a message the broker refused.
struct Refusal {
    std::string kind;
    bool kept = false;   // a must-arrive message: kept for the next connection
    bool first = false;  // the first refusal of this message (kept) or of this kind (dropped)
};

class Outbox {
public:
    // Reads what a previous run left (store/jsonlines.h): a damaged file is moved aside, its
    // readable messages kept and written back (problems() says so).
    Outbox(std::filesystem::path file, uint64_t budget_bytes);

    // Adds a message (payload["seq"] is set here) and makes room as described above.
    void push(const std::string& topic, nlohmann::json payload, Priority priority, bool retain,
              const std::string& kind);

    // The oldest message not handed to the broker in this connection; marks it in flight.
    std::optional<UpMessage> next_to_send();
    void sent(uint64_t seq, int mid);
    // The broker's PUBACK for mid: the message, and every acknowledged one before it, leave.
    void acknowledged(int mid);
    // The broker refused mid (a PUBACK with a reason code >= 0x80), as described above;
    // nullopt when mid is not in flight.
    std::optional<Refusal> refused(int mid);
    // The connection is gone: what was in flight, or held, is sent again on the next one.
    void disconnected();
    size_t in_flight() const;

    // Writes the file when something changed: at once when a must-arrive message came in or
    // left, else at most every `batch_ms` (flash is spared routine rewrites). Throws on I/O.
    void save_if_due(int64_t now_ms, int64_t batch_ms = 5'000);

    size_t depth() const;
    uint64_t bytes() const;
    std::map<std::string, uint64_t> dropped() const;
    std::map<std::string, uint64_t> refused_counts() const;  // by kind, since the queue began
    const std::vector<std::string>& problems() const { return problems_; }

private:
    void make_room();
    void save_locked();

    std::filesystem::path file_;
    uint64_t budget_;
    mutable std::mutex mutex_;
    std::deque<UpMessage> queue_;
    uint64_t bytes_ = 0;
    uint64_t next_seq_ = 1;
    std::map<std::string, uint64_t> dropped_;
    std::map<std::string, uint64_t> refused_;
    bool dirty_ = false, urgent_ = false;
    int64_t saved_ms_ = 0;
    std::vector<std::string> problems_;
};

}  // namespace warden::fleet
