#include "fleet/command_log.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "store/files.h"

namespace warden::fleet {

using nlohmann::json;

// The file: JSON lines, a header ({"format": "warden-fleet-commands", "version": 1,
// "broadcasts": {topic: issued_ms}}), then one outcome a line, oldest first.
CommandLog::CommandLog(std::filesystem::path file, size_t capacity) : file_(std::move(file)), capacity_(capacity) {
    std::ifstream in(file_);
    if (!in) return;
    std::string line;
    int number = 0;
    try {
        while (std::getline(in, line)) {
            ++number;
            if (line.empty()) continue;
            json j = json::parse(line);
            if (number == 1) {
                if (j.value("format", "") != "warden-fleet-commands" || j.value("version", 0) != 1)
                    throw std::invalid_argument("not a warden-fleet-commands file of version 1");
                json broadcasts = j.value("broadcasts", json::object());  // items() needs it to outlive the loop
                for (const auto& [topic, ms] : broadcasts.items()) broadcasts_.emplace_back(topic, ms.get<int64_t>());
                continue;
            }
            outcomes_.push_back({j.at("id").get<std::string>(), j.at("result").get<std::string>(),
                                 j.value("reason", ""), j.value("ms", int64_t{0})});
        }
    } catch (const std::exception& e) {
        outcomes_.clear();
        broadcasts_.clear();
        auto aside = store::move_aside(file_);
        problems_.push_back(file_.string() + ":" + std::to_string(number) + ": " + e.what() + "; moved aside as " +
                            aside.string() + " (a command delivered again may be applied again)");
    }
    while (outcomes_.size() > capacity_) outcomes_.pop_front();
}

std::optional<CommandOutcome> CommandLog::find(const std::string& id) const {
    for (auto it = outcomes_.rbegin(); it != outcomes_.rend(); ++it)
        if (it->id == id) return *it;
    return std::nullopt;
}

void CommandLog::record(CommandOutcome outcome) {
    auto it = std::find_if(outcomes_.begin(), outcomes_.end(), [&](auto& o) { return o.id == outcome.id; });
    if (it != outcomes_.end())
        *it = std::move(outcome);
    else
        outcomes_.push_back(std::move(outcome));
    while (outcomes_.size() > capacity_) outcomes_.pop_front();
    save();
}

int64_t CommandLog::broadcast_issued(const std::string& topic) const {
    for (const auto& [t, ms] : broadcasts_)
        if (t == topic) return ms;
    return 0;
}

void CommandLog::record_broadcast(const std::string& topic, int64_t issued_ms) {
    auto it = std::find_if(broadcasts_.begin(), broadcasts_.end(), [&](auto& b) { return b.first == topic; });
    if (it != broadcasts_.end())
        it->second = issued_ms;
    else
        broadcasts_.emplace_back(topic, issued_ms);
    save();
}

void CommandLog::save() const {
    json broadcasts = json::object();
    for (const auto& [t, ms] : broadcasts_) broadcasts[t] = ms;
    std::string text = json{{"format", "warden-fleet-commands"}, {"version", 1}, {"broadcasts", broadcasts}}.dump() + "\n";
    for (const auto& o : outcomes_) {
        json j{{"id", o.id}, {"result", o.result}, {"ms", o.ms}};
        if (!o.reason.empty()) j["reason"] = o.reason;
        text += j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    }
    store::write_atomically(file_, text);
}

}  // namespace warden::fleet
