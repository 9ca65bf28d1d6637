// What every loader of an operator-written YAML file (the policy, the device-type rules)
// needs around yaml-cpp: reading the file safely (regular files only, a size cap), the
// 1-based position of a node for "file:line:column" messages, and how a value looks in
// "expected X, found Y".
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::yamlfile {

// One problem found in a file. line and column are 1-based; 0 means the problem has no
// position (the file could not be read).
struct Diagnostic {
    std::string file;
    int line = 0;
    int column = 0;
    std::string key;      // path of the key, e.g. "devices[2].mac"; empty for syntax errors
    std::string message;  // what was found and what was expected

    // "policy.yaml:12:5: map_sizes.devices: expected ..., found ..."
    std::string str() const;
};

// YAML is Unicode text: every byte that is not valid UTF-8 and every control character but
// tab and line ends, one error per line that has one (its first), at its line and column
// (counted in characters). Text that passes is safe to keep and to put in JSON (text.h).
std::vector<Diagnostic> check_characters(std::string_view text, const std::string& file);

// The most a configuration file may hold. Real ones are a few kilobytes; the cap keeps a
// wrong path (a log file) from eating memory.
inline constexpr size_t max_file_bytes = 1 << 20;

// Reads a configuration file whole (store::read_regular_file: never blocks on a FIFO, refuses
// a directory or a device, at most max_file_bytes). When it cannot, adds one error without a
// position saying why, e.g. "policy.yaml: the policy file is a FIFO (named pipe), not a
// file" (`what` names the file's role), and returns nothing.
std::optional<std::string> read_file(const std::string& path, std::string_view what,
                                     std::vector<Diagnostic>& errors);

// 1-based line and column of a mark (an unknown position counts as 1).
int line_of(const YAML::Mark& m);
int column_of(const YAML::Mark& m);

// Where to blame a mapping entry's value: an empty value is blamed on its key, since
// yaml-cpp places an empty value at the start of the next line.
YAML::Mark value_mark(const YAML::Node& key, const YAML::Node& value);

// Quoted or !!str-tagged scalars are text even when they look like numbers or booleans.
bool is_quoted(const YAML::Node& n);

// How a value looks, for "expected X, found Y": "nothing", "a list", "a mapping", or the
// scalar in quotes (through text::printable, cut after 60 bytes).
std::string describe(const YAML::Node& n);

}  // namespace warden::yamlfile
