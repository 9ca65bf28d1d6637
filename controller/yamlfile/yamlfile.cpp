#include "yamlfile/yamlfile.h"

#include <algorithm>
#include <cstdio>

#include "store/files.h"
#include "text/text.h"

namespace warden::yamlfile {

std::string Diagnostic::str() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
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
            for (size_t i = 0; i < flaw->offset; ++column) i += std::max<size_t>(text::utf8_length(content, i), 1);
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

}  // namespace warden::yamlfile
