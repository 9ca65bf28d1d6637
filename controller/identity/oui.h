// Who made a network card: the IEEE registry (Debian's ieee-data: MA-L oui.csv, MA-M
// mam.csv, MA-S oui36.csv, iab.csv) loaded once into a compact, sorted table; a lookup
// takes the longest assignment (36, 28, then 24 bits) that covers the MAC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.h"

namespace warden::identity {

class OuiRegistry {
public:
    // Loads every registry file found in dir (default /usr/share/ieee-data); missing files
    // are skipped, malformed lines counted. Throws only when dir has none of them.
    static OuiRegistry load(const std::string& dir);
    // From CSV text in the registry's format (for tests).
    void add_csv(std::string_view text);

    // The organisation, or empty when unknown. A locally administered MAC (randomised by
    // phones, or set by hand) has no vendor: its prefix is not an assignment.
    std::string_view vendor(const net::Mac& mac) const;
    size_t size() const { return entries_.size(); }
    size_t malformed_lines() const { return malformed_; }

private:
    struct Entry {
        uint64_t prefix;  // the MAC's top bits, left-aligned in 48 bits
        uint8_t bits;     // 24, 28 or 36
        uint32_t name;    // offset into names_
    };
    void sort();
    std::vector<Entry> entries_;
    std::string names_;  // every organisation name once, NUL-separated
    size_t malformed_ = 0;
};

}  // namespace warden::identity
