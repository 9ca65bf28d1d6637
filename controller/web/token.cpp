#include "web/token.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "store/files.h"

namespace warden::web {

namespace fs = std::filesystem;

namespace {

bool is_token(std::string_view s) {
    if (s.size() != kTokenBytes * 2) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string random_hex(size_t bytes) {
    std::string raw(bytes, '\0');
    size_t got = 0;
    while (got < bytes) {
        ssize_t n = getrandom(raw.data() + got, bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("cannot read random bytes for the admin token: ") + std::strerror(errno));
        }
        got += static_cast<size_t>(n);
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char b : raw) {
        hex += digits[b >> 4];
        hex += digits[b & 15];
    }
    return hex;
}

// Written 0600 from the first byte (a temp file, then renamed into place).
void write_private(const fs::path& file, const std::string& content) {
    fs::path tmp = file;
    tmp += ".tmp." + std::to_string(getpid());
    unlink(tmp.c_str());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + tmp.string() + ": " + std::strerror(errno));
    bool ok = fchmod(fd, 0600) == 0 && ::write(fd, content.data(), content.size()) == ssize_t(content.size()) &&
              fsync(fd) == 0;
    int e = errno;
    close(fd);
    if (!ok || rename(tmp.c_str(), file.c_str()) != 0) {
        if (ok) e = errno;
        unlink(tmp.c_str());
        throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(e));
    }
}

std::string fmt_mode(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode);
    return buf;
}

}  // namespace

TokenFile load_or_create_token(const fs::path& file) {
    TokenFile out;
    struct stat st {};
    if (stat(file.c_str(), &st) == 0) {
        std::string text;
        try {
            text = store::read_file(file);
        } catch (const std::exception& e) {
            throw std::runtime_error(std::string(e.what()) + " (the status page's admin token)");
        }
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
        if (is_token(text)) {
            if ((st.st_mode & 0777) != 0600) {
                if (chmod(file.c_str(), 0600) != 0)
                    throw std::runtime_error("cannot make " + file.string() + " private (chmod 0600): " +
                                             std::strerror(errno));
                out.problem = "its mode was " + fmt_mode(st.st_mode & 0777) + "; now 0600";
            }
            out.token = text;
            return out;
        }
        auto aside = store::move_aside(file);
        out.problem = "it did not hold a token (64 hex digits); kept as " + aside.string();
    } else if (errno != ENOENT) {
        throw std::runtime_error("cannot read " + file.string() + ": " + std::strerror(errno));
    }
    out.token = random_hex(kTokenBytes);
    write_private(file, out.token + "\n");
    out.created = true;
    return out;
}

bool token_matches(std::string_view presented, std::string_view expected) {
    // Length is not secret (always 64); the bytes are compared without an early exit.
    if (presented.size() != expected.size() || expected.empty()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < expected.size(); ++i)
        diff |= static_cast<unsigned char>(presented[i] ^ expected[i]);
    return diff == 0;
}

std::string_view bearer_token(std::string_view authorization) {
    constexpr std::string_view scheme = "Bearer ";
    if (authorization.size() <= scheme.size()) return {};
    for (size_t i = 0; i < scheme.size(); ++i)  // the scheme is case-insensitive (RFC 9110)
        if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
            std::tolower(static_cast<unsigned char>(scheme[i])))
            return {};
    auto token = authorization.substr(scheme.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    return token;
}

}  // namespace warden::web
