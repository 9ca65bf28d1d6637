#include "log/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace warden::log {

namespace {

std::atomic<Level> current{Level::info};

bool under_journald() {
    static const bool yes = std::getenv("JOURNAL_STREAM") != nullptr;
    return yes;
}

int syslog_priority(Level l) {
    switch (l) {
        case Level::debug: return 7;
        case Level::info: return 6;
        case Level::warn: return 4;
        case Level::error: return 3;
    }
    return 6;
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
    if (name == "debug") return Level::debug;
    if (name == "info") return Level::info;
    if (name == "warn" || name == "warning") return Level::warn;
    if (name == "error") return Level::error;
    return std::nullopt;
}

const char* level_name(Level l) {
    switch (l) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "?";
}

void set_level(Level l) { current = l; }
Level level() { return current; }

void write(Level l, std::string_view message) {
    if (l < current) return;
    std::string line;
    if (under_journald()) {
        line = fmt::format("<{}>{}\n", syslog_priority(l), message);
    } else {
        std::time_t t = std::time(nullptr);
        std::tm tm{};
        localtime_r(&t, &tm);
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
        line = fmt::format("{} {:<5} {}\n", stamp, level_name(l), message);
    }
    // One write per line keeps lines whole when several threads or processes log.
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

}  // namespace warden::log
