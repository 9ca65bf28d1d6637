// The one checker for operator-written YAML files (the policy, the device-type rules): it
// reads the file safely (regular files only, a size cap), refuses what is not a single YAML
// document of UTF-8 text within the limits below, and checks values as a loader walks them,
// reporting every problem with file:line:column, the key path, what was found and what was
// expected, and "did you mean" for a misspelt key. A loader adds only its own value kinds.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "text/text.h"

namespace warden::yamlfile {

// One problem found in a file. line and column are 1-based; a line of 0 means the problem
// has no position (the file could not be read), a column of 0 that only the line is known.
struct Diagnostic {
    std::string file;
    int line = 0;
    int column = 0;
    std::string key;      // path of the key, e.g. "devices[2].mac"; empty for syntax errors
    std::string message;  // what was found and what was expected

    // "policy.yaml:12:5: map_sizes.devices: expected ..., found ..."
    std::string str() const;
};

// ---- limits: a configuration file is small, shallow and plainly written ----

// Real files are a few kilobytes; the cap keeps a wrong path (a log file) from eating memory.
inline constexpr size_t max_file_bytes = 1 << 20;
// Lists and mappings inside each other. The policy needs 4, the rules 3; yaml-cpp's own
// guard (2000) stops only a stack overflow.
inline constexpr int max_depth = 32;
// Aliases (*name) to anchored values. A few save repetition; many are a "billion laughs".
inline constexpr int max_aliases = 64;

// ---- the file ----

// Reads a configuration file whole (store::read_regular_file: never blocks on a FIFO, refuses
// a directory or a device, at most max_file_bytes). When it cannot, adds one error without a
// position saying why, e.g. "policy.yaml: the policy file is a FIFO (named pipe), not a
// file" (`what` names the file's role), and returns nothing.
std::optional<std::string> read_file(const std::string& path, std::string_view what,
                                     std::vector<Diagnostic>& errors);

// YAML is Unicode text: every byte that is not valid UTF-8 and every control character but
// tab and line ends, one error per line that has one (its first), at its line and column
// (counted in characters). Text that passes is safe to keep and to put in JSON (text.h).
std::vector<Diagnostic> check_characters(std::string_view text, const std::string& file);

// ---- positions and how values look ----

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
// A key's path below its parent's: "notify.channels" + "headers".
std::string join(std::string_view path, std::string_view key);

// ---- names of enum values, as written in a file ----

template <typename E>
struct Name {
    std::string_view text;
    E value;
};

template <typename E, size_t N>
std::string_view name_of(const Name<E> (&table)[N], E value) {
    for (const auto& n : table)
        if (n.value == value) return n.text;
    return "?";
}

template <typename E, size_t N>
std::optional<E> value_of(const Name<E> (&table)[N], std::string_view text) {
    for (const auto& n : table)
        if (n.text == text) return n.value;
    return std::nullopt;
}

// "native, generic or auto"
template <typename E, size_t N>
std::string list_names(const Name<E> (&table)[N]) {
    std::string out;
    for (size_t i = 0; i < N; ++i) {
        if (i) out += i + 1 == N ? " or " : ", ";
        out += table[i].text;
    }
    return out;
}

// The candidate closest to a misspelt name (at most two edits, and fewer than half its
// length), or empty: for "did you mean" in files and on the command line.
std::string_view closest(std::string_view name, std::span<const std::string_view> candidates);

// ---- the checker ----

// A value to check, with the key path that leads to it and the position to blame.
struct Value {
    YAML::Node node;
    YAML::Mark mark;
    std::string path;
};

struct Field {
    std::string name;
    Value value;
    YAML::Mark key_mark;
};

// The recognised keys of one mapping, in file order.
struct Fields {
    std::vector<Field> found;
    YAML::Mark mark;  // of the mapping itself, where "missing" is reported
    std::string path;

    const Field* get(std::string_view name) const;
};

// "(first at line 12)", for a value seen twice.
std::string first_at(int line);

// Remembers where each value was first seen, so a repeat names both places.
template <typename K>
class FirstSeen {
public:
    // nullopt the first time `value` is seen; the line of its first appearance after that.
    std::optional<int> repeat(const K& value, const YAML::Mark& at) {
        auto [it, fresh] = lines_.emplace(value, line_of(at));
        if (fresh) return std::nullopt;
        return it->second;
    }

private:
    std::map<K, int, std::less<>> lines_;
};

// Collects every problem of one file. Each check reports what it found and what it
// expected at the value's position and returns nothing; the loader carries on, so one run
// reports every problem.
class Checker {
public:
    explicit Checker(std::string file) : file_(std::move(file)) {}
    const std::string& file() const { return file_; }

    std::vector<Diagnostic> errors, warnings;
    void error(const YAML::Mark& at, std::string key, std::string message);
    void warning(const YAML::Mark& at, std::string key, std::string message);
    // Errors and warnings in file order (sections are checked in a fixed order; an editor
    // walks the file top down).
    void sort_by_position();

    // The root of text that must hold one YAML document (`what`: "a policy file"), after
    // check_characters and the limits above; a file with no document, or only an empty one,
    // has a null root. Nothing when the text cannot be read as YAML (each reason reported:
    // the syntax error in words, a tab used for indentation, nesting or aliases past the
    // limits). A second document with content is an error, the first is still returned.
    std::optional<YAML::Node> parse(std::string_view text, std::string_view what);

    // The root as a value to check.
    static Value root(const YAML::Node& node) { return {node, node.Mark(), ""}; }
    // The value of a mapping entry, blamed on its key when empty (value_mark).
    static Value entry_value(const YAML::Node& key, const YAML::Node& value, std::string path);

    // A mapping (an empty value counts as an empty one) with only the allowed keys, each
    // once. Unknown keys (with "did you mean") and duplicate keys are reported and left out.
    std::optional<Fields> mapping(const Value& v, std::span<const std::string_view> allowed,
                                  std::string_view what);
    // A required entry that is absent is reported at the mapping that should hold it.
    const Field* required(const Fields& fields, std::string_view name, std::string_view what);
    // The items of a list (an empty value counts as an empty list).
    std::optional<std::vector<Value>> list(const Value& v, std::string_view what);

    // Any scalar, as text (a plain 123 is the text "123" here), on one line: no control
    // characters, not even a tab (which a quoted "\t" can make).
    std::optional<std::string> text(const Value& v, std::string_view what);
    // Text that may run over lines (notes): tabs and line ends allowed, nothing else.
    std::optional<std::string> free_text(const Value& v, std::string_view what);
    // A plain (unquoted) scalar, for numbers and booleans.
    std::optional<std::string> plain(const Value& v, std::string_view what);
    // A whole number within [min, max] ("-5" and "+5" are whole numbers, "5.0" and "0x5" not).
    std::optional<int64_t> whole_number(const Value& v, int64_t min, int64_t max);
    // A plain decimal like 4, 0.5 or 1.25: no signs, exponents, hex, inf or nan, so what the
    // operator reads is what warden uses.
    std::optional<double> decimal(const Value& v, double min, double max);
    // YAML 1.2 booleans only: yes/no/on/off mean booleans in YAML 1.1 and text in 1.2, so
    // they are refused rather than guessed at.
    std::optional<bool> boolean(const Value& v);
    std::optional<std::string> absolute_path(const Value& v);

    template <typename E, size_t N>
    std::optional<E> choice(const Value& v, const Name<E> (&table)[N]) {
        std::string what = list_names(table);
        auto s = text(v, what);
        if (!s) return std::nullopt;
        auto value = value_of(table, *s);
        if (!value) error(v.mark, v.path, "expected " + what + ", found " + describe(v.node));
        return value;
    }

private:
    std::optional<std::string> scalar_text(const Value& v, std::string_view what, text::Allow allow);

    std::string file_;
};

}  // namespace warden::yamlfile
