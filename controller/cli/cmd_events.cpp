// warden events [--follow]: the events log, as sentences or JSON lines.
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/event_text.h"
#include "store/events_log.h"
#include "store/state.h"
#include "text/text.h"

namespace warden::cli {

using nlohmann::json;

namespace {

volatile std::sig_atomic_t stop_following = 0;

}  // namespace

int cmd_events(Context& ctx) {
    store::StateDir state(ctx.state_dir());
    int last = ctx.vm["last"].as<int>();
    if (last < 0) throw UsageError("--last must be 0 (all) or more");
    std::vector<std::string> problems;
    auto events = store::EventLog::read_all(state.events_file(), ctx.events_keep(), &problems);
    for (const auto& p : problems) std::cerr << "warning: " << p << "\n";
    size_t from = last == 0 || events.size() <= size_t(last) ? 0 : events.size() - last;
    auto print = [&](const json& e) {
        std::cout << (ctx.json ? e.dump() : event_line(e)) << "\n" << std::flush;
    };
    for (size_t i = from; i < events.size(); ++i) print(events[i]);
    if (!ctx.vm.count("follow")) {
        if (events.empty() && !ctx.json) std::cerr << "no events yet (" << state.events_file().string() << ")\n";
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
