#include "daemon/loop_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace warden::daemon {

LoopQueue::LoopQueue() {
    fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

LoopQueue::~LoopQueue() {
    close();
    if (fd_ >= 0) ::close(fd_);
}

void LoopQueue::post(std::function<void(bool)> work) {
    {
        std::lock_guard lock(mutex_);
        if (closed_) {
            work(true);
            return;
        }
        work_.push_back(std::move(work));
    }
    uint64_t one = 1;
    if (write(fd_, &one, sizeof one) < 0) {
    }
}

void LoopQueue::drain() {
    uint64_t count;
    if (read(fd_, &count, sizeof count) < 0) {
    }
    std::deque<std::function<void(bool)>> ready;
    {
        std::lock_guard lock(mutex_);
        ready.swap(work_);
    }
    for (auto& w : ready) w(false);
}

void LoopQueue::close() {
    std::deque<std::function<void(bool)>> left;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        left.swap(work_);
    }
    for (auto& w : left) w(true);
}

}  // namespace warden::daemon
