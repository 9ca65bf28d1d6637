// Messages not yet taken by their channel, oldest first: bounded (the oldest are dropped, and
// counted, when it is full) and kept on disk (store/layout.h: notify_queue) so that a receiver
// that is down, or a restart, loses nothing within the bound.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>
#include <vector>

#include "notify/message.h"

namespace warden::notify {

class Outbox {
public:
    struct Entry {
        std::string channel;  // NotifyChannel::str()
        Message message;
        uint32_t attempts = 0;
    };

    Outbox(std::filesystem::path file, size_t bound);

    // Reads what an earlier run left; returns problems (a damaged file is moved aside).
    std::vector<std::string> load();
    // Writes the entries (atomic, durable) when they changed since the last save; throws.
    void save();

    void set_bound(size_t bound);
    void push(Entry entry);
    // Drops the entries of channels no longer configured; returns how many.
    size_t keep_channels(const std::vector<std::string>& channels);

    std::deque<Entry>& entries() { return entries_; }
    const std::deque<Entry>& entries() const { return entries_; }
    void changed() { dirty_ = true; }
    uint64_t dropped() const { return dropped_; }
    void count_dropped(uint64_t n) { dropped_ += n; }

private:
    std::filesystem::path file_;
    size_t bound_;
    std::deque<Entry> entries_;
    uint64_t dropped_ = 0;
    bool dirty_ = false;
};

}  // namespace warden::notify
