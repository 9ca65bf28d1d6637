#include "dataplane/events.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace warden::dataplane {

EventReader::EventReader(int ringbuf_fd, Handler handler) : handler_(std::move(handler)) {
    rb_ = ring_buffer__new(ringbuf_fd, &EventReader::on_record, this, nullptr);
    if (!rb_)
        throw std::runtime_error(std::string("cannot open the events ring buffer: ") +
                                 std::strerror(errno));
}

EventReader::~EventReader() { ring_buffer__free(rb_); }

int EventReader::on_record(void* self, void* data, size_t size) {
    auto* reader = static_cast<EventReader*>(self);
    if (size < sizeof(wd_event)) {
        ++reader->malformed_;
        return 0;
    }
    EventRecord r;
    std::memcpy(&r.hdr, data, sizeof r.hdr);
    if (r.hdr.kind == WD_EV_PACKET_COPY) {
        if (size < sizeof(wd_event_packet)) {
            ++reader->malformed_;
            return 0;
        }
        size_t cap = r.hdr.cap_len > WD_EVENT_COPY_MAX ? WD_EVENT_COPY_MAX : r.hdr.cap_len;
        r.frame = {static_cast<const uint8_t*>(data) + sizeof(wd_event), cap};
    } else if (r.hdr.kind == WD_EV_NEW_FLOW) {
        if (size < sizeof(wd_event_flow)) {
            ++reader->malformed_;
            return 0;
        }
        wd_event_flow flow;
        std::memcpy(&flow, data, sizeof flow);
        r.flow = flow;
    }
    reader->handler_(r);
    return 0;
}

int EventReader::poll(int timeout_ms) {
    int n = ring_buffer__poll(rb_, timeout_ms);
    if (n < 0 && n != -EINTR)
        throw std::runtime_error(std::string("reading events failed: ") + std::strerror(-n));
    return n < 0 ? 0 : n;
}

int EventReader::drain() {
    int n = ring_buffer__consume(rb_);
    if (n < 0) throw std::runtime_error(std::string("reading events failed: ") + std::strerror(-n));
    return n;
}

int EventReader::epoll_fd() const { return ring_buffer__epoll_fd(rb_); }

}  // namespace warden::dataplane
