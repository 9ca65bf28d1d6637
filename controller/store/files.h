// File primitives for state that must survive crashes and power loss: atomic replacement
// (temp file, fsync, rename, fsync of the directory), moving damaged files aside, and
// cleaning up after killed writers. Who may write is store/owner.h's business.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace warden::store {

// Replaces path with content so a reader sees the old file or the new one, never a mix.
// durable=false skips the fsyncs (for files rewritten every second, to spare flash).
void write_atomically(const std::filesystem::path& path, std::string_view content,
                      bool durable = true);

// Reads a whole file; throws if it cannot.
std::string read_file(const std::filesystem::path& path);

// Moves a file that could not be read aside as "<name>.corrupt-<UTC time>" and returns the
// new path, so nothing is lost and the next start does not trip over it again.
std::filesystem::path move_aside(const std::filesystem::path& path);

// Removes the temporary files write_atomically leaves when its writer is killed
// ("<name>.tmp.<pid>" whose pid no longer runs); returns the paths removed.
std::vector<std::filesystem::path> remove_stale_temp_files(const std::filesystem::path& dir);

// Creates the directory (and parents) with mode 0750 if missing; throws with the reason.
void ensure_dir(const std::filesystem::path& dir);

}  // namespace warden::store
