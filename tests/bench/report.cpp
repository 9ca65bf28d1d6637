#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace warden::bench {

Summary summarize(std::vector<double> samples) {
    if (samples.empty()) throw std::logic_error("summarize: no samples");
    std::sort(samples.begin(), samples.end());
    size_t n = samples.size();
    Summary s;
    s.min = samples.front();
    s.max = samples.back();
    s.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    return s;
}

void Table::add(std::vector<std::string> row) {
    if (row.size() != header_.size())
        throw std::logic_error("table row has " + std::to_string(row.size()) + " cells, header " +
                               std::to_string(header_.size()));
    rows_.push_back(std::move(row));
}

std::string Table::markdown() const {
    // Display width, counting each UTF-8 code point once (the tables use × and ≤).
    auto width = [](const std::string& s) {
        size_t w = 0;
        for (unsigned char c : s) w += (c & 0xc0) != 0x80;
        return w;
    };
    std::vector<size_t> widths(header_.size(), 3);
    for (size_t i = 0; i < header_.size(); ++i) widths[i] = std::max(widths[i], width(header_[i]));
    for (const auto& r : rows_)
        for (size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], width(r[i]));

    auto line = [&](const std::vector<std::string>& cells) {
        std::string out = "|";
        for (size_t i = 0; i < cells.size(); ++i)
            out += " " + cells[i] + std::string(widths[i] - width(cells[i]), ' ') + " |";
        return out + "\n";
    };
    std::string out = line(header_);
    out += "|";
    for (size_t w : widths) out += std::string(w + 2, '-') + "|";
    out += "\n";
    for (const auto& r : rows_) out += line(r);
    return out;
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string grouped(double v) {
    auto n = static_cast<long long>(std::llround(v));
    std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

}  // namespace warden::bench
