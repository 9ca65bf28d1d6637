#include "notify/notifier.h"

#include <algorithm>

#include "log/log.h"
#include "notify/channels.h"
#include "store/state.h"

namespace warden::notify {

using nlohmann::json;

namespace {

// Events waiting for the thread; beyond this (a flood of events while the thread is stuck)
// they are dropped and counted.
constexpr size_t kInboxBound = 1000;
// The thread wakes at least this often (digest, summaries, retries are computed anyway).
constexpr int64_t kLongestSleepMs = 60'000;

}  // namespace

Notifier::Notifier(std::filesystem::path queue_file, policy::Notify settings, std::string page_url,
                   policy::NewDevices new_devices, Deliver deliver, RetryPauses retry)
    : deliver_(deliver ? std::move(deliver)
                       : Deliver([](const policy::NotifyChannel& c, const Message& m) { return notify::deliver(c, m); })),
      retry_(retry),
      settings_(std::move(settings)),
      page_url_(std::move(page_url)),
      new_devices_(new_devices),
      outbox_(std::move(queue_file), settings_.queue_size) {
    for (const auto& p : outbox_.load()) log::error("notify: {}", p);
    queued_ = outbox_.entries().size();
    if (queued_) log::info("notify: {} message(s) from before the restart wait for their channel", queued_);
    thread_ = std::thread([this] { run(); });
}

Notifier::~Notifier() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Notifier::configure(policy::Notify settings, std::string page_url, policy::NewDevices new_devices) {
    {
        std::lock_guard lock(mutex_);
        settings_ = std::move(settings);
        page_url_ = std::move(page_url);
        new_devices_ = new_devices;
        reconfigured_ = true;
    }
    wake_.notify_all();
}

void Notifier::tell(json event, DeviceName device) {
    {
        std::lock_guard lock(mutex_);
        if (inbox_.size() >= kInboxBound) {
            ++inbox_dropped_;
            return;
        }
        inbox_.push_back({std::move(event), std::move(device), store::now_unix_ms()});
    }
    wake_.notify_all();
}

json Notifier::figures() const {
    std::lock_guard lock(mutex_);
    return {{"channels", settings_.channels.size()},
            {"sent", sent_},
            {"failed_attempts", failed_},
            {"queued", queued_},
            {"dropped", outbox_dropped_ + inbox_dropped_},
            {"last_error", last_error_.empty() ? json(nullptr) : json(last_error_)}};
}

void Notifier::enqueue(const std::vector<Message>& messages, const policy::Notify& settings) {
    for (const auto& m : messages)
        for (const auto& c : settings.channels)
            if (c.wants(m.kind)) outbox_.push({c.str(), m, 0});
}

// Each channel takes its messages in order; the first it refuses waits, with the rest
// behind it, for the channel's next try.
void Notifier::flush(const policy::Notify& settings, int64_t now_ms) {
    for (const auto& channel : settings.channels) {
        std::string key = channel.str();
        ChannelState& state = channels_[key];
        if (now_ms < state.next_try_ms) continue;
        auto& entries = outbox_.entries();
        for (auto it = entries.begin(); it != entries.end() && !stopping_;) {
            if (it->channel != key) {
                ++it;
                continue;
            }
            Message m = it->message;
            uint64_t lost = outbox_.dropped() + inbox_dropped_ - reported_dropped_;
            if (lost) {
                m.text += " (warden could not deliver " + std::to_string(lost) + " earlier message" +
                          (lost == 1 ? "" : "s") + ": the queue was full)";
                m.details["dropped_before"] = lost;
            }
            std::string why = deliver_(channel, m);
            if (why.empty()) {
                if (lost) reported_dropped_ += lost;
                if (state.pause.count()) log::info("notify: {} takes messages again", key);
                state.pause = std::chrono::milliseconds(0);
                std::lock_guard lock(mutex_);
                ++sent_;
                it = entries.erase(it);
                outbox_.changed();
                continue;
            }
            ++it->attempts;
            outbox_.changed();
            state.pause = state.pause.count() ? std::min(state.pause * 2, retry_.longest) : retry_.first;
            state.next_try_ms = store::now_unix_ms() + state.pause.count();
            log::warn("notify: {} did not take a message ({}); next try in {} s", key, why, state.pause.count() / 1000);
            std::lock_guard lock(mutex_);
            ++failed_;
            last_error_ = key + ": " + why;
            break;
        }
    }
}

int64_t Notifier::next_wake(int64_t now_ms, const Dispatcher& dispatcher) const {
    int64_t next = std::min(now_ms + kLongestSleepMs, dispatcher.next_due_ms(now_ms));
    for (const auto& e : outbox_.entries())
        if (auto it = channels_.find(e.channel); it != channels_.end()) next = std::min(next, it->second.next_try_ms);
    return std::max(next, now_ms + 10);
}

void Notifier::run() {
    std::unique_lock lock(mutex_);
    policy::Notify settings = settings_;
    Dispatcher dispatcher(settings, page_url_, new_devices_);
    std::vector<std::string> keys;
    auto channel_keys = [&] {
        keys.clear();
        for (const auto& c : settings.channels) keys.push_back(c.str());
        if (size_t gone = outbox_.keep_channels(keys))
            log::warn("notify: {} queued message(s) dropped: their channel is no longer in the policy", gone);
    };
    channel_keys();
    int64_t wake_at = 0;
    while (true) {
        wake_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(0, wake_at - store::now_unix_ms())),
                       [&] { return stopping_ || reconfigured_ || !inbox_.empty() || store::now_unix_ms() >= wake_at; });
        std::deque<Told> told;
        told.swap(inbox_);
        if (reconfigured_) {
            settings = settings_;
            dispatcher.configure(settings, page_url_, new_devices_);
            outbox_.set_bound(settings.queue_size);
            reconfigured_ = false;
            channel_keys();
        }
        bool stop = stopping_;
        lock.unlock();

        for (const auto& t : told) enqueue(dispatcher.on_event(t.event, t.device, t.ms), settings);
        int64_t now = store::now_unix_ms();
        enqueue(dispatcher.tick(now), settings);
        if (!stop) flush(settings, now);
        try {
            outbox_.save();
        } catch (const std::exception& e) {
            log::error("notify: cannot save the queue of undelivered messages: {}", e.what());
        }
        wake_at = next_wake(store::now_unix_ms(), dispatcher);

        lock.lock();
        queued_ = outbox_.entries().size();
        outbox_dropped_ = outbox_.dropped();
        if (stop) return;
    }
}

}  // namespace warden::notify
