#include "store/events_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sstream>
#include <stdexcept>

#include "store/files.h"
#include "store/state.h"
#include "text/text.h"

namespace warden::store {

namespace fs = std::filesystem;
using nlohmann::json;

std::string iso_time(int64_t unix_ms) {
    std::time_t secs = unix_ms / 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(unix_ms % 1000));
    return out;
}

EventLog::EventLog(fs::path file, uint64_t max_bytes, int keep)
    : file_(std::move(file)), max_bytes_(max_bytes), keep_(keep < 0 ? 0 : keep) {}

namespace {

fs::path rotated(const fs::path& file, int n) {
    fs::path p = file;
    p += "." + std::to_string(n);
    return p;
}

// Serialises rotation between the controller and operator commands.
struct EventsLock {
    int fd;
    explicit EventsLock(const fs::path& file) {
        fs::path lock = file;
        lock += ".lock";
        fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        if (fd >= 0)
            while (flock(fd, LOCK_EX) != 0 && errno == EINTR) {
            }
    }
    ~EventsLock() {
        if (fd >= 0) close(fd);
    }
};

}  // namespace

void EventLog::rotate() {
    std::error_code ec;
    if (keep_ == 0) {  // nothing kept: start the log afresh
        fs::remove(file_, ec);
        return;
    }
    fs::remove(rotated(file_, keep_), ec);
    for (int n = keep_ - 1; n >= 1; --n)
        if (fs::exists(rotated(file_, n), ec)) fs::rename(rotated(file_, n), rotated(file_, n + 1), ec);
    fs::rename(file_, rotated(file_, 1), ec);
}

void EventLog::append(json event) {
    if (!event.contains("ts_ms")) event["ts_ms"] = now_unix_ms();
    if (!event.contains("time")) event["time"] = iso_time(event["ts_ms"].get<int64_t>());
    std::string line = event.dump() + "\n";
    for (const auto& observer : observers_) observer(event);

    EventsLock lock(file_);
    std::error_code ec;
    auto size = fs::exists(file_, ec) ? fs::file_size(file_, ec) : 0;
    if (!ec && size > 0 && size + line.size() > max_bytes_) rotate();

    int fd = open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) throw std::runtime_error("cannot open " + file_.string() + ": " + std::strerror(errno));
    ssize_t n = ::write(fd, line.data(), line.size());
    int e = errno;
    close(fd);
    if (n != static_cast<ssize_t>(line.size()))
        throw std::runtime_error("cannot append to " + file_.string() + ": " + std::strerror(e));
}

std::vector<json> EventLog::read_all(const fs::path& file, int keep, std::vector<std::string>* problems) {
    std::vector<json> out;
    std::vector<fs::path> files;
    for (int n = keep; n >= 1; --n) files.push_back(rotated(file, n));
    files.push_back(file);
    for (const auto& f : files) {
        // Absent is fine (no events yet, or fewer rotations); unreadable is not, or a user
        // without permission would be told that nothing happened.
        store::FileRead read = store::read_regular_file(f);
        if (read.errno_value == ENOENT) continue;
        if (!read.ok()) throw std::runtime_error(read.str(f));
        std::istringstream in(read.text);
        std::string line;
        int number = 0;
        while (std::getline(in, line)) {
            ++number;
            if (line.empty()) continue;
            try {
                out.push_back(json::parse(line));
                text::printable_strings(out.back());
            } catch (const json::exception&) {
                if (problems)
                    problems->push_back(f.filename().string() + ":" + std::to_string(number) +
                                        ": not a JSON event, skipped");
            }
        }
    }
    return out;
}

}  // namespace warden::store
