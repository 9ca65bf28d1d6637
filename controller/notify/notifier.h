// The notifier: tells the household (the policy's `notify:` channels) what warden saw and
// did. The controller's loop hands it every event as it is logged (tell(): a lock and a
// queue, never a network wait); its own thread turns events into messages (message.h),
// hands them to the channels (channels.h) and keeps what a channel did not take in the
// outbox (outbox.h), retried with growing pauses. A slow or absent receiver therefore never
// slows the poll, and loses nothing within the outbox's bound.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "notify/message.h"
#include "notify/outbox.h"
#include "policy/policy.h"

namespace warden::notify {

// How long a channel that refused a message is left alone before the next try.
struct RetryPauses {
    std::chrono::milliseconds first{5000};      // after its first failure
    std::chrono::milliseconds longest{300000};  // the pause doubles up to this
};

class Notifier {
public:
    // Hands a message to a channel: "" when taken, else why not (channels.h's deliver by default).
    using Deliver = std::function<std::string(const policy::NotifyChannel&, const Message&)>;
    Notifier(std::filesystem::path queue_file, policy::Notify settings, std::string page_url,
             policy::NewDevices new_devices = policy::NewDevices::notify, Deliver deliver = {}, RetryPauses retry = {});
    ~Notifier();  // stops the thread; what is not delivered stays in the outbox file
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    void configure(policy::Notify settings, std::string page_url, policy::NewDevices new_devices);
    // An event as logged and the device it names (thread-safe, quick).
    void tell(nlohmann::json event, DeviceName device);

    // {"channels", "sent", "failed_attempts", "queued", "dropped", "last_error"} for status.
    nlohmann::json figures() const;

private:
    struct Told {
        nlohmann::json event;
        DeviceName device;
        int64_t ms = 0;
    };
    struct ChannelState {
        int64_t next_try_ms = 0;
        std::chrono::milliseconds pause{0};
    };

    void run();
    void enqueue(const std::vector<Message>& messages, const policy::Notify& settings);
    void flush(const policy::Notify& settings, int64_t now_ms);
    int64_t next_wake(int64_t now_ms, const Dispatcher& dispatcher) const;

    Deliver deliver_;
    RetryPauses retry_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Told> inbox_;
    policy::Notify settings_;
    std::string page_url_;
    policy::NewDevices new_devices_;
    bool reconfigured_ = false;
    std::atomic<bool> stopping_{false};

    // The thread's own (figures are copied out under the mutex).
    Outbox outbox_;
    std::map<std::string, ChannelState> channels_;
    uint64_t reported_dropped_ = 0;
    uint64_t sent_ = 0, failed_ = 0;
    std::atomic<uint64_t> inbox_dropped_{0};
    size_t queued_ = 0;
    uint64_t outbox_dropped_ = 0;
    std::string last_error_;

    std::thread thread_;
};

}  // namespace warden::notify
