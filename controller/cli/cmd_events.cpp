// warden events [--since TIME] [--device MAC] [--kind KIND,...] [--follow]: the events log, as
// sentences or JSON lines.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/device_view.h"
#include "cli/event_text.h"
#include "cli/time_arg.h"
#include "net/address.h"
#include "store/events_log.h"
#include "store/state.h"
#include "text/text.h"

namespace warden::cli {

using nlohmann::json;

namespace {

volatile std::sig_atomic_t stop_following = 0;

// Which events --since, --device and --kind let through.
struct Filter {
    std::optional<int64_t> since_ms;
    std::optional<std::string> mac;
    std::vector<std::string> kinds;

    bool passes(const json& e) const {
        if (since_ms && e.value("ts_ms", int64_t(0)) < *since_ms) return false;
        if (mac && !(e.contains("mac") && e["mac"].is_string() && e["mac"].get<std::string>() == *mac)) return false;
        if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), event_kind(e)) == kinds.end()) return false;
        return true;
    }
};

Filter filter_of(Context& ctx) {
    Filter f;
    if (ctx.vm.count("since")) {
        std::string t = ctx.vm["since"].as<std::string>(), why;
        f.since_ms = parse_since(t, store::now_unix_ms(), &why);
        if (!f.since_ms) throw UsageError("--since \"" + t + "\": " + why);
    }
    if (ctx.vm.count("device")) {
        std::string t = ctx.vm["device"].as<std::string>();
        auto mac = net::Mac::parse(t);
        if (!mac) throw UsageError("--device: not a MAC address: \"" + t + "\" (expected aa:bb:cc:dd:ee:ff)");
        f.mac = mac->str();
    }
    if (ctx.vm.count("kind")) {
        std::string list = ctx.vm["kind"].as<std::string>();
        size_t start = 0;
        for (;;) {
            size_t comma = list.find(',', start);
            std::string kind = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            bool word = !kind.empty() && std::all_of(kind.begin(), kind.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || c == '_';
            });
            if (!word) throw UsageError("--kind \"" + list + "\": \"" + kind + "\" is not an event kind (such as quarantine or finding)");
            f.kinds.push_back(kind);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    return f;
}

}  // namespace

int cmd_events(Context& ctx) {
    store::StateDir state(ctx.state_dir());
    int last = ctx.vm["last"].as<int>();
    if (last < 0) throw UsageError("--last must be 0 (all) or more");
    std::vector<std::string> problems;
    Filter filter = filter_of(ctx);
    auto all = store::EventLog::read_all(state.events_file(), ctx.events_keep(), &problems);
    for (const auto& p : problems) std::cerr << "warning: " << p << "\n";
    std::vector<json> events;
    for (auto& e : all)
        if (filter.passes(e)) events.push_back(std::move(e));
    size_t from = last == 0 || events.size() <= size_t(last) ? 0 : events.size() - last;
    auto print = [&](const json& e) {
        if (!filter.passes(e)) return;
        std::cout << (ctx.json ? e.dump() : event_line(e, ctx.vm.count("utc") > 0)) << "\n" << std::flush;
    };
    for (size_t i = from; i < events.size(); ++i) print(events[i]);
    if (!ctx.vm.count("follow")) {
        if (events.empty() && !ctx.json)
            std::cerr << (all.empty() ? "no events yet (" + state.events_file().string() + ")" : "no events match")
                      << "\n";
        return 0;
    }

    // Follow the file, reopening it when it is rotated.
    std::signal(SIGINT, [](int) { stop_following = 1; });
    std::signal(SIGTERM, [](int) { stop_following = 1; });
    auto file = state.events_file();
    std::error_code ec;
    uintmax_t offset = std::filesystem::exists(file, ec) ? std::filesystem::file_size(file, ec) : 0;
    while (!stop_following) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        uintmax_t size = std::filesystem::exists(file, ec) ? std::filesystem::file_size(file, ec) : 0;
        if (size < offset) offset = 0;  // rotated: the new file starts from the top
        if (size == offset) continue;
        std::ifstream in(file);
        in.seekg(static_cast<std::streamoff>(offset));
        std::string line;
        while (std::getline(in, line)) {
            if (in.eof()) break;  // a half-written last line: read it next time
            offset += line.size() + 1;
            if (line.empty()) continue;
            try {
                json event = json::parse(line);
                text::printable_strings(event);  // as EventLog::read_all does
                print(event);
            } catch (const json::exception&) {
                std::cerr << "warning: skipped a line that is not a JSON event\n";
            }
        }
    }
    return 0;
}

}  // namespace warden::cli
