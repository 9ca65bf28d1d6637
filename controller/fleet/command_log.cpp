#include "fleet/command_log.h"

#include <nlohmann/json.hpp>

#include "store/files.h"
#include "store/jsonlines.h"

namespace warden::fleet {

using nlohmann::json;

// The file: JSON lines, a header ({"format": "warden-fleet-commands", "version": 1,
// "broadcasts": {topic: issued_ms}}), then one outcome a line, oldest first.
CommandLog::CommandLog(std::filesystem::path file, size_t capacity) : file_(std::move(file)), capacity_(capacity) {
    auto read = store::read_json_lines(file_, "warden-fleet-commands", 1, [&](const json& j) {
        outcomes_.push_back({j.at("id").get<std::string>(), j.at("result").get<std::string>(), j.value("reason", ""),
                             j.value("ms", int64_t{0})});
    });
    if (read.header.is_object() && read.header.contains("broadcasts") && read.header["broadcasts"].is_object())
        for (const auto& [topic, ms] : read.header["broadcasts"].items())
            if (ms.is_number_integer()) broadcasts_.emplace_back(topic, ms.get<int64_t>());
    if (!read.problems.empty()) {
        std::string text;
        for (const auto& p : read.problems) text += (text.empty() ? "" : "; ") + p;
        problems_.push_back(text + (read.moved_aside ? "; moved aside as " + read.moved_aside->string() : "") + ", " +
                            std::to_string(outcomes_.size()) +
                            " outcome(s) kept (a command of a line lost and delivered again may be applied again)");
    }
    while (outcomes_.size() > capacity_) outcomes_.pop_front();
    if (!read.problems.empty()) {
        try {
            save();  // the readable outcomes, back where the next start looks
        } catch (const std::exception& e) {
            problems_.push_back(e.what());
        }
    }
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
