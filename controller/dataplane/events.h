// Reads the events ring buffer the programs write: new devices, quarantine drops,
// blocklist hits, and DHCP/DNS frame copies.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "warden/abi.h"

struct ring_buffer;

namespace warden::dataplane {

// One record from the ring, decoded by kind.
struct EventRecord {
    wd_event hdr{};
    std::span<const uint8_t> frame;      // WD_EV_PACKET_COPY: the copied frame
    std::optional<wd_event_flow> flow;   // WD_EV_NEW_FLOW: the whole record
};

class EventReader {
public:
    using Handler = std::function<void(const EventRecord& record)>;

    EventReader(int ringbuf_fd, Handler handler);
    ~EventReader();
    EventReader(const EventReader&) = delete;
    EventReader& operator=(const EventReader&) = delete;

    // Waits up to timeout_ms for events and handles them; returns how many.
    int poll(int timeout_ms);
    // Handles what is already there without waiting; returns how many.
    int drain();
    // Counts records too short to be an event (never expected; a contract mismatch).
    uint64_t malformed() const { return malformed_; }
    // For an event loop: readable when events are waiting.
    int epoll_fd() const;

private:
    static int on_record(void* self, void* data, size_t size);

    ring_buffer* rb_ = nullptr;
    Handler handler_;
    uint64_t malformed_ = 0;
};

}  // namespace warden::dataplane
