// File primitives for state that must survive crashes and power loss: atomic replacement
// (temp file, fsync, rename, fsync of the directory), moving damaged files aside, cleaning up
// after killed writers, and reading a file by path (state, policy, rules, blocklists) without
// ever blocking on what is there. Who may write is store/owner.h's business.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace warden::store {

// Replaces path with content so a reader sees the old file or the new one, never a mix.
// durable=false skips the fsyncs (for files rewritten every second, to spare flash).
void write_atomically(const std::filesystem::path& path, std::string_view content,
                      bool durable = true);

// A whole file, or what is wrong with the path, in words that follow it ("PATH is a
// directory, not a file"): "does not exist", "is a FIFO (named pipe), not a file",
// "cannot be read: permission denied (...)", "is larger than 1 MiB".
struct FileRead {
    std::string text;
    std::string error;    // empty when the file was read
    int errno_value = 0;  // ENOENT, EACCES, ...; 0 when refused for its kind or size

    bool ok() const { return error.empty(); }
    std::string str(const std::filesystem::path& path) const;  // "PATH <error>"
};

// Reads a whole regular file without ever blocking: anything else at the path (a FIFO, a
// device such as /dev/zero, a socket, a directory) is refused, since opening a FIFO waits for
// a writer and a device never ends. More than max_bytes is refused too.
FileRead read_regular_file(const std::filesystem::path& path, uint64_t max_bytes = UINT64_MAX);

// read_regular_file without a size limit; throws std::runtime_error with FileRead::str.
std::string read_file(const std::filesystem::path& path);

// What to do about EACCES on warden's files: "permission denied (run as root or as a
// member of the warden group)".
std::string permission_hint();

// Throws std::runtime_error ("PATH cannot be read: permission denied (...)") when this user
// may not read path or search a directory above it. A missing file passes: the caller tells
// "absent" from "not allowed to look".
void check_readable(const std::filesystem::path& path);

// Moves a file that could not be read aside as "<name>.corrupt-<UTC time>" and returns the
// new path, so nothing is lost and the next start does not trip over it again.
std::filesystem::path move_aside(const std::filesystem::path& path);

// Removes the temporary files write_atomically leaves when its writer is killed
// ("<name>.tmp.<pid>" whose pid no longer runs); returns the paths removed.
std::vector<std::filesystem::path> remove_stale_temp_files(const std::filesystem::path& dir);

// Creates the directory (and parents) with mode 0750 if missing; throws with the reason.
// Run as root where a group `warden` exists, makes it that group's (mode 2750, so that
// its members may read what is in it).
void ensure_dir(const std::filesystem::path& dir);

}  // namespace warden::store
