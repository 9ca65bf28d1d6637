#include "identity/oui.h"

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <unordered_map>

#include "store/files.h"

namespace warden::identity {

namespace {

// The registry files as Debian's ieee-data ships them. Each line names its own registry, so
// the file name only decides what to look for.
constexpr const char* kRegistryFiles[] = {"oui.csv", "mam.csv", "oui36.csv", "iab.csv"};

// Block sizes by the registry column: MA-L a 24-bit prefix, MA-M 28, MA-S and the older
// IAB 36 (both carved out of MA-L blocks the IEEE holds, hence the longest match).
int registry_bits(std::string_view registry) {
    if (registry == "MA-L") return 24;
    if (registry == "MA-M") return 28;
    if (registry == "MA-S" || registry == "IAB") return 36;
    return 0;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// RFC 4180 records: fields split by ',', records by CRLF (or LF); a field in double quotes
// may hold ',', line ends and "" for a quote (the IEEE's addresses do all three).
class CsvRecords {
public:
    explicit CsvRecords(std::string_view text) : text_(text) {}

    // The next record's fields; false at the end. `well_formed` is false for a record with
    // an unterminated quote or text after a closing quote.
    bool next(std::vector<std::string>& fields, bool& well_formed) {
        fields.clear();
        well_formed = true;
        if (pos_ >= text_.size()) return false;
        for (;;) {
            std::string& field = fields.emplace_back();
            bool quoted = pos_ < text_.size() && text_[pos_] == '"';
            if (quoted) {
                ++pos_;
                for (;;) {
                    auto quote = text_.find('"', pos_);
                    if (quote == std::string_view::npos) {  // unterminated: the rest is lost
                        field.append(text_.substr(pos_));
                        pos_ = text_.size();
                        well_formed = false;
                        return true;
                    }
                    field.append(text_.substr(pos_, quote - pos_));
                    pos_ = quote + 1;
                    if (pos_ < text_.size() && text_[pos_] == '"') {
                        field.push_back('"');
                        ++pos_;
                        continue;
                    }
                    break;
                }
            }
            auto end = text_.find_first_of(",\n", pos_);
            if (end == std::string_view::npos) end = text_.size();
            auto rest = text_.substr(pos_, end - pos_);
            if (!rest.empty() && rest.back() == '\r') rest.remove_suffix(1);
            if (quoted && !rest.empty()) well_formed = false;
            field.append(rest);
            pos_ = end + 1;
            if (end == text_.size() || text_[end] == '\n') return true;
        }
    }

private:
    std::string_view text_;
    size_t pos_ = 0;
};

bool parse_hex_prefix(std::string_view hex, int bits, uint64_t& prefix) {
    if (hex.size() != size_t(bits / 4)) return false;
    uint64_t v = 0;
    for (char c : hex) {
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return false;
        v = v << 4 | uint64_t(d);
    }
    prefix = v << (48 - bits);
    return true;
}

uint64_t mac_bits(const net::Mac& mac) {
    uint64_t v = 0;
    for (uint8_t b : mac.bytes) v = v << 8 | b;
    return v;
}

}  // namespace

OuiRegistry OuiRegistry::load(const std::string& dir) {
    OuiRegistry registry;
    int found = 0;
    for (const char* file : kRegistryFiles) {
        std::string path = dir + "/" + file;
        store::FileRead read = store::read_regular_file(path);  // a FIFO there must not hang
        if (read.errno_value == ENOENT) continue;
        if (!read.ok()) throw std::runtime_error(read.str(path));
        registry.add_csv(read.text);
        ++found;
    }
    if (!found)
        throw std::runtime_error(dir + ": none of oui.csv, mam.csv, oui36.csv, iab.csv found "
                                 "(install Debian's ieee-data, or point the OUI registry path at its files)");
    return registry;
}

void OuiRegistry::add_csv(std::string_view text) {
    // Organisation names repeat (Cisco holds hundreds of blocks): each is stored once. The
    // index looks names up in names_ itself, which is reserved for the worst case (every
    // byte of the text a new name) so that appending cannot move what the index points at.
    names_.reserve(names_.size() + text.size() + 1);
    std::unordered_map<std::string_view, uint32_t> interned;
    for (size_t off = 0; off < names_.size();) {
        size_t end = names_.find('\0', off);
        interned.emplace(std::string_view(names_).substr(off, end - off), uint32_t(off));
        off = end + 1;
    }

    CsvRecords records(text);
    std::vector<std::string> fields;
    bool well_formed = true;
    bool first = true;
    while (records.next(fields, well_formed)) {
        bool header = first && !fields.empty() && fields[0] == "Registry";
        first = false;
        if (header) continue;
        if (fields.size() == 1 && trim(fields[0]).empty()) continue;  // blank line
        int bits = fields.size() >= 3 ? registry_bits(trim(fields[0])) : 0;
        uint64_t prefix = 0;
        auto name = fields.size() >= 3 ? trim(fields[2]) : std::string_view{};
        if (!well_formed || !bits || !parse_hex_prefix(trim(fields[1]), bits, prefix) || name.empty() ||
            name.find('\0') != std::string_view::npos) {
            ++malformed_;
            continue;
        }
        uint32_t offset;
        if (auto it = interned.find(name); it != interned.end()) {
            offset = it->second;
        } else {
            offset = uint32_t(names_.size());
            names_.append(name);
            names_.push_back('\0');
            interned.emplace(std::string_view(names_).substr(offset, name.size()), offset);
        }
        entries_.push_back({prefix, uint8_t(bits), offset});
    }
    sort();
}

void OuiRegistry::sort() {
    // By prefix then length; a block listed twice keeps its first listing.
    auto key = [](const Entry& e) { return std::pair(e.prefix, e.bits); };
    std::stable_sort(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) { return key(a) < key(b); });
    auto last = std::unique(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) { return key(a) == key(b); });
    entries_.erase(last, entries_.end());
    entries_.shrink_to_fit();
    names_.shrink_to_fit();
}

std::string_view OuiRegistry::vendor(const net::Mac& mac) const {
    if (mac.is_locally_administered()) return {};
    uint64_t value = mac_bits(mac);
    constexpr uint8_t kLongestFirst[] = {36, 28, 24};
    for (uint8_t bits : kLongestFirst) {
        uint64_t prefix = value & ~((uint64_t(1) << (48 - bits)) - 1);
        auto it = std::lower_bound(entries_.begin(), entries_.end(), std::pair(prefix, bits),
                                   [](const Entry& e, const std::pair<uint64_t, uint8_t>& k) {
                                       return std::pair(e.prefix, e.bits) < k;
                                   });
        if (it != entries_.end() && it->prefix == prefix && it->bits == bits) return names_.c_str() + it->name;
    }
    return {};
}

}  // namespace warden::identity
