#include "cli/format.h"

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace warden::cli {

Table::Table(std::vector<std::string> headers, std::vector<bool> numeric)
    : headers_(std::move(headers)), numeric_(std::move(numeric)) {
    numeric_.resize(headers_.size(), false);
}

void Table::add(std::vector<std::string> row) {
    row.resize(headers_.size());
    rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
    std::vector<size_t> width(headers_.size());
    for (size_t c = 0; c < headers_.size(); ++c) {
        width[c] = headers_[c].size();
        for (const auto& r : rows_) width[c] = std::max(width[c], r[c].size());
    }
    auto line = [&](const std::vector<std::string>& cells) {
        std::string s;
        for (size_t c = 0; c < cells.size(); ++c) {
            size_t pad = width[c] - cells[c].size();
            bool last = c + 1 == cells.size();
            if (numeric_[c]) s.append(pad, ' ');
            s += cells[c];
            if (!numeric_[c] && !last) s.append(pad, ' ');
            if (!last) s += "  ";
        }
        out << s << "\n";
    };
    line(headers_);
    for (const auto& r : rows_) line(r);
}

namespace {

std::string scaled(double v, const char* const* units, int count, double step) {
    int u = 0;
    while (v >= step && u + 1 < count) {
        v /= step;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
    else
        std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

}  // namespace

std::string human_bytes(uint64_t bytes) {
    static const char* const units[] = {"B", "kB", "MB", "GB", "TB"};
    return scaled(static_cast<double>(bytes), units, 5, 1000.0);
}

std::string human_rate(double bps) {
    static const char* const units[] = {"B/s", "kB/s", "MB/s", "GB/s"};
    return scaled(bps < 0 ? 0 : bps, units, 4, 1000.0);
}

std::string human_count(uint64_t n) {
    static const char* const units[] = {"", "k", "M", "G", "T"};
    char buf[32];
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        ++u;
    }
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
    else
        std::snprintf(buf, sizeof buf, v < 10 ? "%.1f%s" : "%.0f%s", v, units[u]);
    return buf;
}

std::string human_age(int64_t ms) {
    if (ms < 0) ms = 0;
    int64_t s = ms / 1000;
    char buf[32];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(s / 60));
    else if (s < 86400)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                      static_cast<long long>(s % 3600 / 60));
    else
        std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400),
                      static_cast<long long>(s % 86400 / 3600));
    return buf;
}

std::string shorten(const std::string& text, size_t max_chars) {
    // Byte offset where each character starts (continuation bytes are 10xxxxxx).
    std::vector<size_t> starts;
    for (size_t i = 0; i < text.size(); ++i)
        if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) starts.push_back(i);
    if (starts.size() <= max_chars) return text;
    if (max_chars <= 3) return std::string(max_chars, '.');
    return text.substr(0, starts[max_chars - 3]) + "...";
}

}  // namespace warden::cli
