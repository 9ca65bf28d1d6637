// Output for people: aligned tables, byte counts and rates in kB/MB, ages and durations.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace warden::cli {

// Left-aligned columns, except those marked numeric, which align right.
class Table {
public:
    explicit Table(std::vector<std::string> headers, std::vector<bool> numeric = {});
    void add(std::vector<std::string> row);
    bool empty() const { return rows_.empty(); }
    void print(std::ostream& out) const;

private:
    std::vector<std::string> headers_;
    std::vector<bool> numeric_;
    std::vector<std::vector<std::string>> rows_;
};

std::string human_bytes(uint64_t bytes);          // "1.5 MB" (decimal units, as iperf3 prints)
std::string human_rate(double bytes_per_second);  // "12.3 kB/s"
std::string human_count(uint64_t n);              // "1.2k", "3.4M"
std::string human_age(int64_t ms);                // "3s", "5m", "2h", "4d" (ago or left)

// Text cut to at most max_chars characters (UTF-8 code points), ending in "..." when cut,
// so one long vendor or host name cannot widen a whole table. Never splits a character.
std::string shorten(const std::string& text, size_t max_chars);

}  // namespace warden::cli
