#include "fleet/outbox.h"

#include "store/files.h"
#include "store/jsonlines.h"

namespace warden::fleet {

using nlohmann::json;

namespace {

std::string_view priority_name(Priority p) {
    switch (p) {
        case Priority::must_arrive: return "must_arrive";
        case Priority::snapshot: return "snapshot";
        case Priority::routine: return "routine";
    }
    return "routine";
}

Priority parse_priority(const std::string& s) {
    if (s == "must_arrive") return Priority::must_arrive;
    if (s == "snapshot") return Priority::snapshot;
    if (s == "routine") return Priority::routine;
    throw std::invalid_argument("unknown priority \"" + s + "\"");
}

uint64_t cost(const UpMessage& m) { return m.topic.size() + m.payload.size(); }

}  // namespace

// The file: JSON lines, a header ({"format": "warden-fleet-queue", "version": 1, "next_seq",
// "dropped", "refused"}), then one message a line, oldest first.
Outbox::Outbox(std::filesystem::path file, uint64_t budget_bytes) : file_(std::move(file)), budget_(budget_bytes) {
    auto read = store::read_json_lines(file_, "warden-fleet-queue", 1, [&](const json& j) {
        UpMessage m;
        m.seq = j.at("seq").get<uint64_t>();
        m.topic = j.at("topic").get<std::string>();
        m.payload = j.at("payload").get<std::string>();
        m.priority = parse_priority(j.at("priority").get<std::string>());
        m.retain = j.value("retain", false);
        m.kind = j.value("kind", "");
        bytes_ += cost(m);
        next_seq_ = std::max(next_seq_, m.seq + 1);
        queue_.push_back(std::move(m));
    });
    if (read.header.is_object()) {
        next_seq_ = std::max(next_seq_, read.header.value("next_seq", uint64_t{1}));
        dropped_ = read.header.value("dropped", std::map<std::string, uint64_t>{});
        refused_ = read.header.value("refused", std::map<std::string, uint64_t>{});
    }
    if (!read.problems.empty()) {
        // What could be read is kept, and written back at once.
        std::string text;
        for (const auto& p : read.problems) text += (text.empty() ? "" : "; ") + p;
        problems_.push_back(text + (read.moved_aside ? "; moved aside as " + read.moved_aside->string() : "") + ", " +
                            std::to_string(queue_.size()) + " message(s) kept");
        dirty_ = urgent_ = true;
    }
}

void Outbox::push(const std::string& topic, json payload, Priority priority, bool retain, const std::string& kind) {
    std::lock_guard lock(mutex_);
    UpMessage m;
    m.seq = next_seq_++;
    payload["seq"] = m.seq;
    m.topic = topic;
    m.payload = payload.dump(-1, ' ', false, json::error_handler_t::replace);
    m.priority = priority;
    m.retain = retain;
    m.kind = kind;
    if (priority == Priority::snapshot) {
        // Only the latest snapshot of a topic matters; one already with the broker stays.
        for (auto it = queue_.begin(); it != queue_.end();) {
            if (it->topic == topic && it->priority == Priority::snapshot && !it->in_flight) {
                bytes_ -= cost(*it);
                it = queue_.erase(it);
            } else {
                ++it;
            }
        }
    }
    bytes_ += cost(m);
    queue_.push_back(std::move(m));
    make_room();
    dirty_ = true;
    if (priority == Priority::must_arrive) urgent_ = true;
}

// Routine messages go first, oldest first, then the oldest snapshots; never what must arrive
// nor what the broker already has in hand.
void Outbox::make_room() {
    for (Priority victim : {Priority::routine, Priority::snapshot}) {
        for (auto it = queue_.begin(); bytes_ > budget_ && it != queue_.end();) {
            if (it->priority == victim && !it->in_flight) {
                ++dropped_[it->kind.empty() ? std::string(priority_name(victim)) : it->kind];
                bytes_ -= cost(*it);
                it = queue_.erase(it);
            } else {
                ++it;
            }
        }
    }
}

std::optional<UpMessage> Outbox::next_to_send() {
    std::lock_guard lock(mutex_);
    for (auto& m : queue_)
        if (!m.in_flight && !m.held) {
            m.in_flight = true;
            return m;
        }
    return std::nullopt;
}

void Outbox::sent(uint64_t seq, int mid) {
    std::lock_guard lock(mutex_);
    for (auto& m : queue_)
        if (m.seq == seq) m.mid = mid;
}

void Outbox::acknowledged(int mid) {
    std::lock_guard lock(mutex_);
    for (auto& m : queue_)
        if (m.in_flight && m.mid == mid) m.acked = true;
    // In order: what was acknowledged leaves once everything before it left, except a message
    // the broker refused, which waits for the next connection without holding the rest up.
    for (auto it = queue_.begin(); it != queue_.end() && (it->acked || it->held);) {
        if (!it->acked) {
            ++it;
            continue;
        }
        if (it->priority == Priority::must_arrive) urgent_ = true;
        bytes_ -= cost(*it);
        it = queue_.erase(it);
        dirty_ = true;
    }
}

std::optional<Refusal> Outbox::refused(int mid) {
    int acknowledged_mid = 0;
    std::optional<Refusal> out;
    {
        std::lock_guard lock(mutex_);
        auto it = std::find_if(queue_.begin(), queue_.end(), [&](auto& m) { return m.in_flight && !m.acked && m.mid == mid; });
        if (it == queue_.end()) return std::nullopt;
        Refusal r;
        r.kind = it->kind.empty() ? std::string(priority_name(it->priority)) : it->kind;
        if (it->priority == Priority::must_arrive) {
            // Never dropped: the broker's ACL may be fixed; until then it does not block the rest.
            it->held = true;
            it->in_flight = false;
            it->mid = 0;
            r.kept = true;
            r.first = !it->refusal_reported;
            it->refusal_reported = true;
            out = r;
        } else {
            r.first = refused_[r.kind]++ == 0;
            dirty_ = true;
            // Settled as if acknowledged, so that it leaves in order like the others.
            it->acked = true;
            acknowledged_mid = mid;
            out = r;
        }
    }
    if (acknowledged_mid) acknowledged(acknowledged_mid);
    return out;
}

void Outbox::disconnected() {
    std::lock_guard lock(mutex_);
    for (auto& m : queue_)
        if (!m.acked) {
            m.in_flight = false;
            m.held = false;
            m.mid = 0;
        }
}

size_t Outbox::in_flight() const {
    std::lock_guard lock(mutex_);
    return static_cast<size_t>(
        std::count_if(queue_.begin(), queue_.end(), [](auto& m) { return m.in_flight && !m.acked; }));
}

void Outbox::save_if_due(int64_t now_ms, int64_t batch_ms) {
    std::lock_guard lock(mutex_);
    if (!dirty_ || (!urgent_ && now_ms - saved_ms_ < batch_ms)) return;
    save_locked();
    saved_ms_ = now_ms;
}

void Outbox::save_locked() {
    std::string text =
        json{{"format", "warden-fleet-queue"}, {"version", 1}, {"next_seq", next_seq_}, {"dropped", dropped_}, {"refused", refused_}}
            .dump() +
        "\n";
    for (const auto& m : queue_) {
        if (m.acked) continue;
        text += json{{"seq", m.seq},
                     {"topic", m.topic},
                     {"payload", m.payload},
                     {"priority", priority_name(m.priority)},
                     {"retain", m.retain},
                     {"kind", m.kind}}
                    .dump() +
                "\n";
    }
    store::write_atomically(file_, text);
    dirty_ = urgent_ = false;
}

size_t Outbox::depth() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

uint64_t Outbox::bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

std::map<std::string, uint64_t> Outbox::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

std::map<std::string, uint64_t> Outbox::refused_counts() const {
    std::lock_guard lock(mutex_);
    return refused_;
}

}  // namespace warden::fleet
