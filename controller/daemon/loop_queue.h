// Work handed to the controller's loop thread by other threads (the control socket's, the
// status page's): everything that changes warden's state runs on that one thread, so the
// control core and the behaviour engine need no locks. A caller waits for its answer, up to
// a timeout; the loop runs the work when its eventfd says there is some.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace warden::daemon {

class LoopQueue {
public:
    LoopQueue();
    ~LoopQueue();
    LoopQueue(const LoopQueue&) = delete;
    LoopQueue& operator=(const LoopQueue&) = delete;

    // Readable when work waits: the loop adds it to its epoll set.
    int fd() const { return fd_; }

    // From any thread but the loop's: runs work on the loop and returns its result, or
    // nothing when the loop did not get to it within timeout; throws what work threw, or
    // "warden is stopping".
    template <typename T>
    std::optional<T> run(std::function<T()> work, std::chrono::milliseconds timeout) {
        auto promise = std::make_shared<std::promise<T>>();
        auto future = promise->get_future();
        post([promise, work = std::move(work)](bool cancelled) {
            if (cancelled) {
                promise->set_exception(std::make_exception_ptr(std::runtime_error("warden is stopping")));
                return;
            }
            try {
                promise->set_value(work());
            } catch (...) {
                promise->set_exception(std::current_exception());
            }
        });
        if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
        return future.get();
    }

    // On the loop thread: runs what waits.
    void drain();
    // At stop: what still waits is cancelled, and later posts are refused.
    void close();

private:
    void post(std::function<void(bool cancelled)> work);

    int fd_ = -1;
    std::mutex mutex_;
    std::deque<std::function<void(bool)>> work_;
    bool closed_ = false;
};

}  // namespace warden::daemon
