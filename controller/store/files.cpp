#include "store/files.h"


#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace warden::store {

namespace fs = std::filesystem;

namespace {

std::runtime_error io_error(const std::string& what, const fs::path& path) {
    return std::runtime_error("cannot " + what + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

void write_atomically(const fs::path& path, std::string_view content, bool durable) {
    fs::path tmp = path;
    tmp += ".tmp." + std::to_string(getpid());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) throw io_error("create", tmp);
    const char* p = content.data();
    size_t left = content.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp.c_str());
            errno = e;
            throw io_error("write", tmp);
        }
        p += n;
        left -= n;
    }
    if (durable && fsync(fd)) {
        int e = errno;
        close(fd);
        unlink(tmp.c_str());
        errno = e;
        throw io_error("fsync", tmp);
    }
    close(fd);
    if (rename(tmp.c_str(), path.c_str())) {
        int e = errno;
        unlink(tmp.c_str());
        errno = e;
        throw io_error("rename into place", path);
    }
    if (durable) {
        int dfd = open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("read", path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

fs::path move_aside(const fs::path& path) {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    fs::path aside = path;
    aside += std::string(".corrupt-") + stamp;
    for (int i = 1; fs::exists(aside); ++i) {
        aside = path;
        aside += std::string(".corrupt-") + stamp + "-" + std::to_string(i);
    }
    std::error_code ec;
    fs::rename(path, aside, ec);
    if (ec) throw std::runtime_error("cannot move " + path.string() + " aside: " + ec.message());
    return aside;
}

std::vector<fs::path> remove_stale_temp_files(const fs::path& dir) {
    std::vector<fs::path> removed;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        auto at = name.rfind(".tmp.");
        if (at == std::string::npos) continue;
        std::string digits = name.substr(at + 5);
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
        pid_t pid = static_cast<pid_t>(std::stol(digits));
        if (pid == getpid() || kill(pid, 0) == 0 || errno == EPERM) continue;  // its writer still runs
        std::error_code rm;
        if (fs::remove(it->path(), rm)) removed.push_back(it->path());
    }
    return removed;
}

void ensure_dir(const fs::path& dir) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return;
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create state dir " + dir.string() + ": " + ec.message());
    chmod(dir.c_str(), 0750);
}

}  // namespace warden::store
