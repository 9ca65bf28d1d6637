#include "yamlfile/yamlfile.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace warden::yamlfile {

FileText read_file(const std::string& path) {
    FileText out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        out.error = errno;
        return out;
    }
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {  // e.g. EISDIR: open() succeeds on a directory, read() does not
            out.error = errno;
            break;
        }
        if (n == 0) break;
        out.text.append(buf, static_cast<size_t>(n));
        if (out.text.size() > max_file_bytes) {
            out.too_large = true;
            break;
        }
    }
    ::close(fd);
    if (!out.ok()) out.text.clear();
    return out;
}

int line_of(const YAML::Mark& m) { return m.line >= 0 ? m.line + 1 : 1; }
int column_of(const YAML::Mark& m) { return m.column >= 0 ? m.column + 1 : 1; }

YAML::Mark value_mark(const YAML::Node& key, const YAML::Node& value) {
    return value.IsNull() || value.Mark().is_null() ? key.Mark() : value.Mark();
}

bool is_quoted(const YAML::Node& n) { return n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str"; }

std::string describe(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
            return "nothing";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a mapping";
        case YAML::NodeType::Scalar:
            break;
    }
    std::string shown;
    for (char c : n.Scalar()) {
        if (shown.size() >= 60) {
            shown += "...";
            break;
        }
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
            shown += buf;
        } else {
            shown += c;
        }
    }
    return "'" + shown + "'";
}

}  // namespace warden::yamlfile
