#include "blocklist/blocklist.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "store/files.h"
#include "text/text.h"

namespace warden::blocklist {

std::optional<uint32_t> parse_direction(const std::string& text) {
    if (text == "in") return WD_BLOCK_IN;
    if (text == "out") return WD_BLOCK_OUT;
    if (text == "both") return WD_BLOCK_IN | WD_BLOCK_OUT;
    return std::nullopt;
}

std::string direction_name(uint32_t flags) {
    bool in = flags & WD_BLOCK_IN, out = flags & WD_BLOCK_OUT;
    return in && out ? "both" : in ? "in" : out ? "out" : "none";
}

ParseResult parse_text(const std::string& content, const std::string& name, uint32_t default_flags,
                       uint32_t list_id) {
    ParseResult r;
    std::istringstream in(content);
    std::string line;
    int number = 0;
    std::set<net::Prefix> seen;
    while (std::getline(in, line)) {
        ++number;
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream words(line);
        std::string prefix_text, direction_text, extra;
        if (!(words >> prefix_text)) continue;  // blank or comment-only
        words >> direction_text >> extra;
        std::string where = name + ":" + std::to_string(number) + ": ";
        std::string why;
        auto prefix = net::Prefix::parse(prefix_text, &why);
        if (!prefix) {
            r.errors.push_back(where + "\"" + text::printable(prefix_text, 60) + "\": " + why);
            continue;
        }
        uint32_t flags = default_flags;
        if (!direction_text.empty()) {
            auto d = parse_direction(direction_text);
            if (!d) {
                r.errors.push_back(where + "direction \"" + text::printable(direction_text, 60) +
                                   "\": expected in, out or both");
                continue;
            }
            flags = *d;
        }
        if (!extra.empty()) {
            r.errors.push_back(where + "unexpected \"" + text::printable(extra, 60) + "\" after the direction");
            continue;
        }
        if (!seen.insert(*prefix).second) continue;  // a repeat is harmless
        r.entries.push_back({*prefix, flags, list_id});
    }
    return r;
}

ParseResult parse_file(const std::string& path, uint32_t default_flags, uint32_t list_id) {
    std::string text;
    try {
        text = store::read_file(path);
    } catch (const std::exception& e) {
        return ParseResult{{}, {e.what()}};
    }
    return parse_text(text, path, default_flags, list_id);
}

std::pair<int, int> sync_policy_entries(dataplane::Blocklist& table, const std::vector<Entry>& wanted) {
    int added = 0, removed = 0;
    auto current = table.list();
    std::set<net::Prefix> operator_prefixes;
    for (const auto& e : current)
        if (e.value.list_id == kOperatorList) operator_prefixes.insert(e.prefix);
    std::set<net::Prefix> wanted_prefixes;
    for (const auto& w : wanted) wanted_prefixes.insert(w.prefix);
    for (const auto& e : current) {
        if (e.value.list_id != kOperatorList && !wanted_prefixes.count(e.prefix)) {
            if (table.remove(e.prefix)) ++removed;
        }
    }
    for (const auto& w : wanted) {
        if (operator_prefixes.count(w.prefix)) continue;  // the operator's entry wins
        auto it = std::find_if(current.begin(), current.end(), [&](auto& c) { return c.prefix == w.prefix; });
        if (it != current.end() && it->value.flags == w.flags && it->value.list_id == w.list_id) continue;
        table.put(w.prefix, w.flags, w.list_id);
        ++added;
    }
    return {added, removed};
}

namespace {

constexpr std::string_view kVersionLine = "# version: ";

// The version line among the file's leading comments (save() writes it second).
std::string version_in(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line) && line.starts_with("#"))
        if (line.starts_with(kVersionLine)) return line.substr(kVersionLine.size());
    return "";
}

}  // namespace

std::vector<std::string> OperatorList::load() {
    entries_.clear();
    version_.clear();
    auto file = state_.path_of(store::layout::blocklist);
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return {};
    auto r = parse_file(file, WD_BLOCK_IN | WD_BLOCK_OUT, kOperatorList);
    entries_ = std::move(r.entries);
    try {
        version_ = version_in(store::read_file(file));
    } catch (const std::exception&) {
        // parse_file said why the file cannot be read
    }
    if (r.errors.empty()) return {};
    // Keep what parsed: these are the operator's own entries, and the next start must find
    // them. The damaged file stays beside it for a person to look at.
    auto problems = std::move(r.errors);
    try {
        problems.push_back("damaged file kept as " + store::move_aside(file).string());
        save(entries_, version_);
        problems.push_back("the " + std::to_string(entries_.size()) + " readable prefix(es) were written back to " +
                           file.string());
    } catch (const std::exception& e) {
        problems.push_back(e.what());
    }
    return problems;
}

void OperatorList::save(const std::vector<Entry>& entries, const std::string& version) const {
    std::string text = "# warden: the operator's blocklist (warden block add/del/load); one prefix a line\n";
    if (!version.empty()) text += std::string(kVersionLine) + version + "\n";
    for (const auto& e : entries) text += e.prefix.str() + " " + direction_name(e.flags) + "\n";
    store::write_atomically(state_.path_of(store::layout::blocklist), text);
}

void OperatorList::add(const std::vector<Entry>& entries) {
    auto next = entries_;
    for (const auto& e : entries) {
        std::erase_if(next, [&](const Entry& s) { return s.prefix == e.prefix; });
        next.push_back({e.prefix, e.flags, kOperatorList});
    }
    save(next, version_);
    entries_ = std::move(next);
}

bool OperatorList::remove(const net::Prefix& prefix) {
    auto next = entries_;
    if (std::erase_if(next, [&](const Entry& s) { return s.prefix == prefix; }) == 0) return false;
    save(next, version_);
    entries_ = std::move(next);
    return true;
}

void OperatorList::replace(const std::vector<Entry>& entries, const std::string& version) {
    std::vector<Entry> next;
    for (const auto& e : entries) next.push_back({e.prefix, e.flags, kOperatorList});
    save(next, version);
    entries_ = std::move(next);
    version_ = version;
}

}  // namespace warden::blocklist
