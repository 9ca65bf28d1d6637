#include "store/jsonlines.h"

#include <sstream>

#include "store/files.h"
#include "text/text.h"

namespace warden::store {

namespace fs = std::filesystem;
using nlohmann::json;

JsonLinesRead read_json_lines(const fs::path& file, std::string_view format, int version,
                              const std::function<void(const json& record)>& take) {
    JsonLinesRead out;
    std::error_code ec;
    if (!fs::exists(file, ec)) return out;
    std::string text;
    try {
        text = read_file(file);
    } catch (const std::exception& e) {
        out.problems.push_back(e.what());
        return out;
    }
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) continue;
        std::string where = file.filename().string() + ":" + std::to_string(number) + ": ";
        json j;
        try {
            j = json::parse(line);
        } catch (const json::exception& e) {
            // The parser quotes the bytes it stopped at, which may be anything.
            out.problems.push_back(where + "not JSON (" + text::printable(e.what()) + ")");
            continue;
        }
        if (out.header.is_null() && j.is_object() && j.contains("format")) {
            out.header = j;
            if (j["format"] != format || j.value("version", 0) != version) {
                json shown = j;
                text::printable_strings(shown);
                out.problems.push_back(where + "unexpected header " + shown.dump());
            }
            continue;
        }
        try {
            take(j);
        } catch (const std::exception& e) {
            out.problems.push_back(where + text::printable(e.what()));
        }
    }
    if (out.header.is_null()) out.problems.push_back(file.filename().string() + ": no header line");
    if (!out.problems.empty()) {
        try {
            out.moved_aside = move_aside(file);
        } catch (const std::exception& e) {
            out.problems.push_back(e.what());
        }
    }
    return out;
}

}  // namespace warden::store
