#include "cli/help.h"

#include <algorithm>
#include <iostream>

#include "cli/commands.h"

namespace po = boost::program_options;

namespace warden::cli {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
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
}

// Names longer than this put their summary on the next line, so that one long option (a list
// of choices) does not push every summary to the right edge.
constexpr size_t kLongestName = 28;

// "  name   summary" lines, the summaries in one column and wrapped under it.
void print_rows(const std::vector<std::pair<std::string, std::string>>& rows, std::ostream& out) {
    size_t width = 0;
    for (const auto& [name, summary] : rows)
        if (name.size() <= kLongestName) width = std::max(width, name.size());
    size_t column = 2 + width + 2;
    for (const auto& [name, summary] : rows) {
        out << "  " << name;
        if (!summary.empty()) {
            if (name.size() > width)
                out << "\n" << std::string(column, ' ');
            else
                out << std::string(column - 2 - name.size(), ' ');
            out << wrap(summary, column);
        }
        out << "\n";
    }
}

// "-c, --config FILE  policy file ..." rows, with the default after the description.
void print_options(const std::string& caption, const po::options_description& options, std::ostream& out) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& o : options.options()) {
        std::string dash = o->canonical_display_name(po::command_line_style::allow_dash_for_short);
        bool has_short = dash.size() == 2 && dash[0] == '-' && dash[1] != '-';
        std::string name = (has_short ? dash + ", " : "    ") + "--" + o->long_name();
        std::string summary = o->description();
        if (o->semantic()->max_tokens() > 0) {
            std::string value = o->semantic()->name();  // "in|out|both (=both)"
            name += " " + value.substr(0, value.find(' '));
            auto at = value.find("(=");
            if (at != std::string::npos && value.size() > at + 3)
                summary += " (default " + value.substr(at + 2, value.size() - at - 3) + ")";
        }
        rows.emplace_back(name, summary);
    }
    out << caption << ":\n";
    print_rows(rows, out);
}

std::string usage_of(const Command& c) { return "warden " + c.name + (c.args.empty() ? "" : " " + c.args); }

}  // namespace

std::string wrap(const std::string& text, size_t indent, size_t width) {
    std::string out;
    size_t column = indent;  // the first line starts where the caller left off
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        std::string word = text.substr(start, end - start);
        if (!out.empty() && column + 1 + word.size() > width) {
            out += "\n" + std::string(indent, ' ');
            column = indent;
        } else if (!out.empty()) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
        start = end + 1;
    }
    return out;
}

std::vector<std::string> first_words() {
    std::vector<std::string> words;
    for (const auto& c : commands()) {
        if (c.hidden) continue;
        std::string first = c.name.substr(0, c.name.find(' '));
        if (std::find(words.begin(), words.end(), first) == words.end()) words.push_back(first);
    }
    return words;
}

void print_overview(std::ostream& out) {
    out << "warden: network-layer security for the home, on the gateway\n\n"
           "usage: warden [options] COMMAND [args]\n\ncommands:\n";
    // Table order; a group's subcommands under it, where its first one is.
    std::vector<std::pair<std::string, std::string>> rows;
    std::vector<std::string> shown_groups;
    for (const auto& c : commands()) {
        if (c.hidden) continue;
        std::string group = group_of(c);
        if (group.empty()) {
            rows.emplace_back(c.name, c.summary);
            continue;
        }
        if (std::find(shown_groups.begin(), shown_groups.end(), group) != shown_groups.end()) continue;
        shown_groups.push_back(group);
        const Group* g = find_group(group);
        rows.emplace_back(group, g ? g->summary : "");
        for (const Command* member : members(group))
            if (!member->hidden) rows.emplace_back("  " + member->name.substr(group.size() + 1), member->summary);
    }
    print_rows(rows, out);
    po::options_description o;
    common_options(o);
    o.add_options()("version", "print the version, the commit and the libbpf version");
    out << "\n";
    print_options("options (for every command)", o, out);
    out << "\n`warden COMMAND --help` (or `warden help COMMAND`) says more about each command.\n"
        << "Exit codes: 0 ok, 1 runtime error, 2 usage error.\n";
}

void print_group_help(const Group& group, std::ostream& out) {
    out << "usage:\n";
    for (const Command* c : members(group.name))
        if (!c->hidden) out << "  " << usage_of(*c) << "\n";
    out << "\n" << group.name << ": " << group.summary << ".\n\nsubcommands:\n";
    std::vector<std::pair<std::string, std::string>> rows;
    for (const Command* c : members(group.name))
        if (!c->hidden) rows.emplace_back(c->name.substr(group.name.size() + 1), c->summary);
    print_rows(rows, out);
    out << "\n`warden " << group.name << " SUBCOMMAND --help` says more about each.\n";
}

void print_command_help(const Command& c, std::ostream& out) {
    out << "usage: " << usage_of(c) << "\n\n" << c.summary << ".\n";
    if (!c.details.empty()) out << "\n" << c.details << "\n";
    po::options_description own;
    c.options(own);
    if (!own.options().empty()) {
        out << "\n";
        print_options("options", own, out);
    }
    po::options_description common;
    common_options(common);
    out << "\n";
    print_options("common options", common, out);
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    size_t best_distance = 3;  // only close misspellings
    for (const auto& c : candidates) {
        size_t d = edit_distance(word, c);
        if (d < best_distance && d < c.size() / 2 + 1) {
            best_distance = d;
            best = c;
        }
    }
    if (!best.empty() || word.empty()) return best;
    // An abbreviation: the one candidate that starts with it.
    std::string only;
    for (const auto& c : candidates) {
        if (!c.starts_with(word)) continue;
        if (!only.empty()) return "";
        only = c;
    }
    return only;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best = closest(word, candidates);
    return best.empty() ? "" : " (did you mean \"" + best + "\"?)";
}

// warden help [COMMAND...]: what `warden COMMAND --help` prints, or the overview.
int cmd_help(Context& ctx) {
    const auto& words = ctx.positional;
    if (words.empty()) {
        print_overview(std::cout);
        return 0;
    }
    if (words.size() > 2) throw UsageError("a command is at most two words, e.g. quarantine add");
    std::string name = words[0] + (words.size() > 1 ? " " + words[1] : "");
    if (const Command* c = find_command(name)) {
        print_command_help(*c, std::cout);
        return 0;
    }
    const Group* group = find_group(words[0]);
    if (group && words.size() == 1) {
        print_group_help(*group, std::cout);
        return 0;
    }
    if (group) {
        std::vector<std::string> subcommands;
        for (const Command* c : members(group->name)) subcommands.push_back(c->name.substr(group->name.size() + 1));
        throw UsageError("no command \"" + name + "\"" + did_you_mean(words[1], subcommands));
    }
    throw UsageError("no command \"" + words[0] + "\"" + did_you_mean(words[0], first_words()));
}

}  // namespace warden::cli
