// What the bench prints: a summary (median, min, max) of repeated measurements, and
// Markdown tables whose columns line up in a terminal as well as in docs/BENCHMARKS.md.
#pragma once

#include <string>
#include <vector>

namespace warden::bench {

struct Summary {
    double median = 0, min = 0, max = 0;
};

// Throws on an empty sample: a case that was never measured must not print a number.
Summary summarize(std::vector<double> samples);

class Table {
public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    void add(std::vector<std::string> row);  // as many cells as the header
    std::string markdown() const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

// Fixed-point text: fixed(6.4321, 2) == "6.43".
std::string fixed(double v, int decimals);
// Thousands grouped with commas: grouped(1234567) == "1,234,567".
std::string grouped(double v);

}  // namespace warden::bench
