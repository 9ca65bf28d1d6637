// For a call that must not block (reading a FIFO once waited for a writer forever): if it
// does, SIGALRM ends the test binary loudly instead of leaving it hanging.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace warden::test {

struct Deadline {
    explicit Deadline(unsigned seconds) { alarm(seconds); }
    ~Deadline() { alarm(0); }
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;
};

// A FIFO (named pipe) at path, as an operator's mistake might leave one; true when made.
inline bool make_fifo(const std::filesystem::path& path) { return mkfifo(path.c_str(), 0600) == 0; }

}  // namespace warden::test
