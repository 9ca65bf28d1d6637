// The state dir's contract (controller/store/layout.h) and its table in docs/ARCHITECTURE.md
// say the same: every file the header names has its row, with the same words, and no row
// names a file the header does not.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>
#include <map>
#include <set>
#include <sstream>

#include "store/layout.h"

using namespace warden;

namespace {

// The rows of the state dir table: "| `name` | format | writer |".
std::map<std::string, std::pair<std::string, std::string>> doc_rows() {
    std::ifstream in(std::string(WARDEN_SOURCE_DIR) + "/docs/ARCHITECTURE.md");
    REQUIRE(in);
    std::map<std::string, std::pair<std::string, std::string>> rows;
    std::string line;
    bool in_section = false;
    while (std::getline(in, line)) {
        if (line.rfind("### ", 0) == 0) in_section = line.find("The state dir") != std::string::npos;
        if (!in_section || line.rfind("| `", 0) != 0) continue;
        std::vector<std::string> cells;
        std::stringstream ss(line.substr(1));
        std::string cell;
        while (std::getline(ss, cell, '|')) {
            auto b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
            cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
        }
        if (cells.size() < 3) continue;
        std::string name = cells[0].substr(1, cells[0].size() - 2);  // strip the backticks
        rows[name] = {cells[1], cells[2]};
    }
    return rows;
}

}  // namespace

TEST_CASE("docs/ARCHITECTURE.md lists exactly the state dir's files of store/layout.h, in the same words") {
    auto rows = doc_rows();
    std::set<std::string> named;
    for (const auto& f : store::layout::all) {
        std::string name(f.name);
        named.insert(name);
        CAPTURE(name);
        REQUIRE(rows.count(name));
        CHECK(rows[name].first == std::string(f.format));
        CHECK(rows[name].second == std::string(f.writer));
    }
    for (const auto& [name, row] : rows) {
        CAPTURE(name);
        CHECK(named.count(name));
    }
}
