#include "notify/outbox.h"

#include <algorithm>
#include <sstream>

#include "store/files.h"

namespace warden::notify {

using nlohmann::json;

Outbox::Outbox(std::filesystem::path file, size_t bound) : file_(std::move(file)), bound_(std::max<size_t>(1, bound)) {}

std::vector<std::string> Outbox::load() {
    std::vector<std::string> problems;
    std::error_code ec;
    if (!std::filesystem::exists(file_, ec)) return problems;
    std::istringstream in(store::read_file(file_));
    std::string line;
    int n = 0;
    bool damaged = false;
    while (std::getline(in, line)) {
        ++n;
        if (line.empty()) continue;
        try {
            json j = json::parse(line);
            push({j.at("channel").get<std::string>(), Message::from_json(j.at("message")),
                  j.value("attempts", 0u)});
        } catch (const std::exception& e) {
            problems.push_back(file_.filename().string() + ":" + std::to_string(n) + ": " + e.what());
            damaged = true;
        }
    }
    if (damaged) {
        auto aside = store::move_aside(file_);
        problems.push_back("kept the damaged file as " + aside.string());
        dirty_ = true;
    }
    return problems;
}

void Outbox::save() {
    if (!dirty_) return;
    std::string text;
    for (const auto& e : entries_)
        text += json{{"channel", e.channel}, {"attempts", e.attempts}, {"message", e.message.to_json()}}.dump() + "\n";
    if (text.empty()) {
        std::error_code ec;
        std::filesystem::remove(file_, ec);
        if (ec) throw std::runtime_error("cannot remove " + file_.string() + ": " + ec.message());
    } else {
        store::write_atomically(file_, text);
    }
    dirty_ = false;
}

void Outbox::set_bound(size_t bound) {
    bound_ = std::max<size_t>(1, bound);
    while (entries_.size() > bound_) {
        entries_.pop_front();
        ++dropped_;
        dirty_ = true;
    }
}

void Outbox::push(Entry entry) {
    entries_.push_back(std::move(entry));
    dirty_ = true;
    set_bound(bound_);
}

size_t Outbox::keep_channels(const std::vector<std::string>& channels) {
    size_t before = entries_.size();
    std::erase_if(entries_, [&](const Entry& e) {
        return std::find(channels.begin(), channels.end(), e.channel) == channels.end();
    });
    size_t gone = before - entries_.size();
    if (gone) {
        dropped_ += gone;
        dirty_ = true;
    }
    return gone;
}

}  // namespace warden::notify
