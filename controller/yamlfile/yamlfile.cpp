#include "yamlfile/yamlfile.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "store/files.h"
#include "text/text.h"

namespace warden::yamlfile {

std::string Diagnostic::str() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line);
    if (line > 0 && column > 0) out += ":" + std::to_string(column);
    out += ": ";
    if (!key.empty()) out += key + ": ";
    out += message;
    return out;
}

std::vector<Diagnostic> check_characters(std::string_view text, const std::string& file) {
    std::vector<Diagnostic> out;
    if (text.starts_with("\xff\xfe") || text.starts_with("\xfe\xff")) {
        out.push_back({file, 1, 1, "", "the file is UTF-16 text; save it as UTF-8"});
        return out;
    }
    constexpr size_t max_reported = 20;
    int line = 1;
    size_t line_start = 0;
    while (line_start <= text.size() && out.size() < max_reported) {
        size_t end = text.find('\n', line_start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view content = text.substr(line_start, end - line_start);
        if (auto flaw = text::first_flaw(content, text::Allow::tabs_and_newlines)) {
            int column = 1;
            for (size_t i = 0; i < flaw->offset; ++column)
                i += std::max<size_t>(text::utf8_length(content, i), 1);
            out.push_back({file, line, column, "",
                           flaw->invalid_utf8
                               ? flaw->str() + "; a YAML file is UTF-8 text (save it as UTF-8)"
                               : flaw->str() + " is not allowed in a YAML file"});
        }
        line_start = end + 1;
        ++line;
    }
    return out;
}

std::optional<std::string> read_file(const std::string& path, std::string_view what,
                                     std::vector<Diagnostic>& errors) {
    store::FileRead file = store::read_regular_file(path, max_file_bytes);
    if (file.ok()) return std::move(file.text);
    errors.push_back({path, 0, 0, "", "the " + std::string(what) + " " + file.error});
    return std::nullopt;
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
    std::string all = text::printable(n.Scalar());
    std::string shown = text::printable(all, 60);  // printable text stays as it is, only cut
    if (shown.size() < all.size()) shown += "...";
    return "'" + shown + "'";
}


std::string_view closest(std::string_view name, std::span<const std::string_view> candidates) {
    auto edit_distance = [](std::string_view a, std::string_view b) {
        std::vector<size_t> row(b.size() + 1);
        for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
        for (size_t i = 1; i <= a.size(); ++i) {
            size_t diagonal = row[0];
            row[0] = i;
            for (size_t j = 1; j <= b.size(); ++j) {
                size_t above = row[j];
                row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
                diagonal = above;
            }
        }
        return row[b.size()];
    };
    std::string_view best_name;
    size_t best = 3;  // suggest only close misspellings
    for (auto candidate : candidates) {
        size_t d = edit_distance(name, candidate);
        if (d < best && d < candidate.size() / 2 + 1) {
            best = d;
            best_name = candidate;
        }
    }
    return best_name;
}

const Field* Fields::get(std::string_view name) const {
    for (const auto& f : found)
        if (f.name == name) return &f;
    return nullptr;
}

std::string first_at(int line) { return "(first at line " + std::to_string(line) + ")"; }

// ---- reading the document ----

std::string join(std::string_view path, std::string_view key) {
    if (path.empty()) return std::string(key);
    return std::string(path) + "." + std::string(key);
}

namespace {

// Finds where the documents of a stream start, whether they hold anything, how deep they
// nest and how many aliases they use, without building them. YAML::LoadAll is not used: on
// a stray ',' outside brackets yaml-cpp 0.7 returns the same empty document forever and
// LoadAll fills memory (jbeder/yaml-cpp#1040, fixed upstream by #1319 after 0.8). Here the
// caller stops after a few documents, and two documents starting at one position mean the
// parser is stuck on that token.
class DocumentScan final : public YAML::EventHandler {
public:
    struct Document {
        YAML::Mark start;
        YAML::Mark root;
        bool has_content = false;
    };
    std::vector<Document> documents;
    std::optional<YAML::Mark> too_deep;      // where nesting first passed max_depth
    std::optional<YAML::Mark> many_aliases;  // where the alias past max_aliases is
    int aliases = 0;

    std::optional<YAML::Mark> stuck_at() const {
        for (size_t i = 1; i < documents.size(); ++i)
            if (documents[i].start.pos == documents[i - 1].start.pos) return documents[i].start;
        return std::nullopt;
    }

    void OnDocumentStart(const YAML::Mark& mark) override {
        documents.push_back({mark, mark, false});
        depth_ = 0;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { root(mark, false); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
        root(mark, true);
        if (++aliases > max_aliases && !many_aliases) many_aliases = mark;
    }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  const std::string&) override {
        root(mark, true);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        enter(mark);
    }
    void OnSequenceEnd() override { --depth_; }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        enter(mark);
    }
    void OnMapEnd() override { --depth_; }

private:
    void root(const YAML::Mark& mark, bool content) {
        if (depth_ != 0 || documents.empty()) return;
        documents.back().root = mark;
        documents.back().has_content = content;
    }
    void enter(const YAML::Mark& mark) {
        root(mark, true);
        if (++depth_ > max_depth && !too_deep) too_deep = mark;
    }
    int depth_ = 0;
};

std::string too_deep_message() {
    return "nesting deeper than " + std::to_string(max_depth) +
           " levels (lists and mappings inside each other); a configuration file needs a few";
}

// yaml-cpp's words for a syntax error, in words an operator can act on.
std::string syntax_message(const std::string& msg) {
    if (msg.empty()) return "invalid YAML";
    if (msg == YAML::ErrorMsg::END_OF_SEQ_FLOW) return "a '[' is not closed by a ']'";
    if (msg == YAML::ErrorMsg::END_OF_MAP_FLOW) return "a '{' is not closed by a '}'";
    if (msg == YAML::ErrorMsg::MAP_VALUE)
        return "a ':' where no value can start (a value that holds ': ' must be quoted, and a "
               "key must line up with the keys beside it)";
    return text::printable(msg);
}

// Where a tab is used for indentation, at or before `last_line` (0-based): yaml-cpp then
// reports something unrelated ("illegal map value") at a later position.
std::optional<YAML::Mark> tab_in_indentation(std::string_view text, int last_line) {
    int line = 0;
    for (size_t start = 0; start <= text.size() && line <= last_line; ++line) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view content = text.substr(start, end - start);
        size_t indent = content.find_first_not_of(" \t");
        std::string_view lead = content.substr(0, std::min(indent, content.size()));
        bool code = indent != std::string_view::npos && content[indent] != '#';
        if (size_t tab = lead.find('\t'); code && tab != std::string_view::npos) {
            YAML::Mark mark;
            mark.pos = static_cast<int>(start + tab);
            mark.line = line;
            mark.column = static_cast<int>(tab);
            return mark;
        }
        start = end + 1;
    }
    return std::nullopt;
}

}  // namespace

std::optional<YAML::Node> Checker::parse(std::string_view yaml, std::string_view what) {
    auto bad_characters = check_characters(yaml, file_);
    if (!bad_characters.empty()) {
        errors.insert(errors.end(), bad_characters.begin(), bad_characters.end());
        return std::nullopt;
    }
    std::string text(yaml);
    DocumentScan scan;
    YAML::Node root;
    try {
        std::istringstream in(text);
        YAML::Parser parser(in);
        // Two documents tell whether there is a second; a third catches the stuck parser.
        for (int i = 0; i < 3 && parser.HandleNextDocument(scan); ++i) {
        }
        if (auto stuck = scan.stuck_at()) {
            char found = stuck->pos >= 0 && size_t(stuck->pos) < text.size() ? text[stuck->pos] : '?';
            error(*stuck, "",
                  found == ','
                      ? std::string("unexpected ','; commas separate items only inside [ ] or { }")
                      : "unexpected '" + text::printable(std::string_view(&found, 1)) + "'");
            return std::nullopt;
        }
        if (scan.too_deep) {
            error(*scan.too_deep, "", too_deep_message());
            return std::nullopt;
        }
        if (scan.many_aliases) {
            error(*scan.many_aliases, "",
                  "more than " + std::to_string(max_aliases) +
                      " aliases (*name); write the values out, a configuration file needs few");
            return std::nullopt;
        }
        root = YAML::Load(text);
    } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own guard ("bad file")
        error(scan.too_deep.value_or(e.mark), "", too_deep_message());
        return std::nullopt;
    } catch (const YAML::Exception& e) {
        // One syntax error: yaml-cpp stops at the first.
        if (auto tab = tab_in_indentation(text, e.mark.line + 1))
            error(*tab, "", "a tab character used for indentation; YAML needs spaces");
        else
            error(e.mark, "", syntax_message(e.msg));
        return std::nullopt;
    }
    // An empty document after a stray '---' is harmless; one with content is not.
    for (size_t i = 1; i < scan.documents.size(); ++i) {
        if (scan.documents[i].has_content) {
            error(scan.documents[i].root, "",
                  "a second YAML document (after '---'); a " + std::string(what) + " holds one");
            break;
        }
    }
    if (scan.documents.empty()) return YAML::Node(YAML::NodeType::Null);
    return root;
}

// ---- the checks ----

void Checker::error(const YAML::Mark& at, std::string key, std::string message) {
    errors.push_back({file_, line_of(at), column_of(at), std::move(key), std::move(message)});
}

void Checker::warning(const YAML::Mark& at, std::string key, std::string message) {
    warnings.push_back({file_, line_of(at), column_of(at), std::move(key), std::move(message)});
}

void Checker::sort_by_position() {
    auto by_position = [](const Diagnostic& x, const Diagnostic& y) {
        return std::pair(x.line, x.column) < std::pair(y.line, y.column);
    };
    std::stable_sort(errors.begin(), errors.end(), by_position);
    std::stable_sort(warnings.begin(), warnings.end(), by_position);
}

Value Checker::entry_value(const YAML::Node& key, const YAML::Node& value, std::string path) {
    return {value, value_mark(key, value), std::move(path)};
}

std::optional<Fields> Checker::mapping(const Value& v, std::span<const std::string_view> allowed,
                                       std::string_view what) {
    Fields fields{{}, v.mark, v.path};
    if (v.node.IsNull()) return fields;
    if (!v.node.IsMap()) {
        error(v.mark, v.path, "expected " + std::string(what) + ", found " + describe(v.node));
        return std::nullopt;
    }
    FirstSeen<std::string> seen;
    // Copies, not references: yaml-cpp's iterators hand out temporaries.
    for (const auto& entry : v.node) {
        YAML::Node key = entry.first;
        if (!key.IsScalar()) {
            error(key.Mark(), v.path, "expected a key name, found " + describe(key));
            continue;
        }
        std::string name = key.Scalar();
        std::string path = join(v.path, text::printable(name));
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            std::string message = "unknown key";
            if (auto near = closest(name, allowed); !near.empty())
                message += " (did you mean '" + std::string(near) + "'?)";
            message += "; expected one of: ";
            for (size_t i = 0; i < allowed.size(); ++i) message += (i ? ", " : "") + std::string(allowed[i]);
            error(key.Mark(), path, message);
            continue;
        }
        if (auto first = seen.repeat(name, key.Mark())) {
            error(key.Mark(), path, "duplicate key " + first_at(*first));
            continue;
        }
        fields.found.push_back({name, entry_value(key, entry.second, path), key.Mark()});
    }
    return fields;
}

const Field* Checker::required(const Fields& fields, std::string_view name, std::string_view what) {
    const Field* f = fields.get(name);
    if (!f) error(fields.mark, join(fields.path, name), "missing; expected " + std::string(what));
    return f;
}

std::optional<std::vector<Value>> Checker::list(const Value& v, std::string_view what) {
    std::vector<Value> items;
    if (v.node.IsNull()) return items;
    if (!v.node.IsSequence()) {
        std::string hint;
        if (v.node.IsScalar())
            hint = " (write [" + text::printable(v.node.Scalar(), 60) + "] for a list of one)";
        error(v.mark, v.path, "expected " + std::string(what) + ", found " + describe(v.node) + hint);
        return std::nullopt;
    }
    size_t i = 0;
    for (YAML::Node item : v.node) {
        YAML::Mark at = item.Mark().is_null() ? v.mark : item.Mark();
        items.push_back({item, at, v.path + "[" + std::to_string(i++) + "]"});
    }
    return items;
}

std::optional<std::string> Checker::text(const Value& v, std::string_view what) {
    return scalar_text(v, what, text::Allow::nothing);
}

std::optional<std::string> Checker::free_text(const Value& v, std::string_view what) {
    return scalar_text(v, what, text::Allow::tabs_and_newlines);
}

std::optional<std::string> Checker::scalar_text(const Value& v, std::string_view what, text::Allow allow) {
    if (!v.node.IsScalar()) {
        error(v.mark, v.path, "expected " + std::string(what) + ", found " + describe(v.node));
        return std::nullopt;
    }
    // The file holds no control characters but tabs and line ends (check_characters), but
    // a quoted scalar's escapes ("\x1b", "\x85") can make any.
    if (auto flaw = text::first_flaw(v.node.Scalar(), allow)) {
        error(v.mark, v.path,
              "expected " + std::string(what) + ", found " + describe(v.node) + ", which holds " +
                  flaw->str());
        return std::nullopt;
    }
    return v.node.Scalar();
}

std::optional<std::string> Checker::plain(const Value& v, std::string_view what) {
    auto s = text(v, what);
    if (s && is_quoted(v.node)) {
        error(v.mark, v.path,
              "expected " + std::string(what) + ", found the quoted text " + describe(v.node) +
                  " (write it without quotes)");
        return std::nullopt;
    }
    return s;
}

std::optional<int64_t> Checker::whole_number(const Value& v, int64_t min, int64_t max) {
    std::string what = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    auto s = plain(v, what);
    if (!s) return std::nullopt;
    size_t digits_from = !s->empty() && ((*s)[0] == '-' || (*s)[0] == '+') ? 1 : 0;
    bool digits = s->size() > digits_from && s->size() <= 18 &&
                  std::all_of(s->begin() + digits_from, s->end(), [](char c) { return c >= '0' && c <= '9'; });
    int64_t n = digits ? std::stoll(*s) : 0;
    if (!digits || n < min || n > max) {
        error(v.mark, v.path, "expected " + what + ", found " + describe(v.node));
        return std::nullopt;
    }
    return n;
}

std::optional<double> Checker::decimal(const Value& v, double min, double max) {
    auto plain_number = [](double x) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", x);
        return std::string(buf);
    };
    std::string what = "a number from " + plain_number(min) + " to " + plain_number(max);
    auto s = plain(v, what);
    if (!s) return std::nullopt;
    size_t dot = s->find('.');
    auto digits = [](std::string_view part) {
        return !part.empty() && part.size() <= 12 &&
               std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    bool ok = dot == std::string::npos ? digits(*s)
                                       : digits(std::string_view(*s).substr(0, dot)) &&
                                             digits(std::string_view(*s).substr(dot + 1));
    double n = ok ? std::strtod(s->c_str(), nullptr) : 0;
    if (!ok || n < min || n > max) {
        error(v.mark, v.path, "expected " + what + ", found " + describe(v.node));
        return std::nullopt;
    }
    return n;
}

std::optional<bool> Checker::boolean(const Value& v) {
    auto s = plain(v, "true or false");
    if (!s) return std::nullopt;
    if (*s == "true" || *s == "True" || *s == "TRUE") return true;
    if (*s == "false" || *s == "False" || *s == "FALSE") return false;
    error(v.mark, v.path, "expected true or false, found " + describe(v.node));
    return std::nullopt;
}

std::optional<std::string> Checker::absolute_path(const Value& v) {
    auto s = text(v, "an absolute path");
    if (!s) return std::nullopt;
    if (s->empty() || (*s)[0] != '/') {
        error(v.mark, v.path, "expected an absolute path (starting with '/'), found " + describe(v.node));
        return std::nullopt;
    }
    return s;
}

}  // namespace warden::yamlfile
