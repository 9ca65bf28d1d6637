#include "store/files.h"


#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
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

std::string permission_hint() {
    return "permission denied (run as root or as a member of the warden group)";
}

namespace {

// What is at a path that is not a regular file, for "PATH is a directory, not a file".
std::string not_a_file(mode_t mode) {
    if (S_ISDIR(mode)) return "is a directory, not a file";
    if (S_ISFIFO(mode)) return "is a FIFO (named pipe), not a file";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "is a device, not a file";
    if (S_ISSOCK(mode)) return "is a socket, not a file";
    return "is not a regular file";
}

std::string size_words(uint64_t bytes) {
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " bytes";
}

std::string errno_words(int e) {
    if (e == ENOENT) return "does not exist";
    if (e == EACCES || e == EPERM) return "cannot be read: " + permission_hint();
    return std::string("cannot be read: ") + std::strerror(e);
}

}  // namespace

std::string FileRead::str(const fs::path& path) const { return path.string() + " " + error; }

FileRead read_regular_file(const fs::path& path, uint64_t max_bytes) {
    FileRead out;
    auto fail = [&](int e, std::string words) {
        out.text.clear();
        out.errno_value = e;
        out.error = std::move(words);
        return out;
    };
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return fail(errno, errno_words(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return fail(e, errno_words(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail(0, not_a_file(st.st_mode));
    }
    std::string too_large = "is larger than " + size_words(max_bytes);
    if (static_cast<uint64_t>(st.st_size) > max_bytes) {
        close(fd);
        return fail(0, too_large);
    }
    out.text.reserve(static_cast<size_t>(st.st_size));
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return fail(e, errno_words(e));
        }
        if (n == 0) break;
        out.text.append(buf, static_cast<size_t>(n));
        if (out.text.size() > max_bytes) {  // it grew while being read
            close(fd);
            return fail(0, too_large);
        }
    }
    close(fd);
    return out;
}

void check_readable(const fs::path& path) {
    if (::access(path.c_str(), R_OK) != 0 && (errno == EACCES || errno == EPERM))
        throw std::runtime_error(path.string() + " " + errno_words(errno));
}

std::string read_file(const fs::path& path) {
    FileRead file = read_regular_file(path);
    if (!file.ok()) throw std::runtime_error(file.str(path));
    return std::move(file.text);
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

namespace {

// Members of the warden group may read what warden keeps (the read-only commands): root
// makes the directory the group's, setgid so that every file created in it is the group's
// too, and hands it what was there before. Files are created 0640 (the admin token 0600).
void share_with_warden_group(const fs::path& dir) {
    if (geteuid() != 0) return;
    group* g = getgrnam("warden");
    struct stat st {};
    if (!g || stat(dir.c_str(), &st) != 0) return;
    if (st.st_gid == g->gr_gid && (st.st_mode & 07777) == 02750) return;
    if (chown(dir.c_str(), -1, g->gr_gid) != 0 || chmod(dir.c_str(), 02750) != 0) return;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (lchown(it->path().c_str(), -1, g->gr_gid) != 0) {
        }
}

}  // namespace

void ensure_dir(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) throw std::runtime_error("cannot create state dir " + dir.string() + ": " + ec.message());
        chmod(dir.c_str(), 0750);
    }
    share_with_warden_group(dir);
}

}  // namespace warden::store
