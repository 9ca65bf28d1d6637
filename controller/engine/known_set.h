// The destinations a device has contacted recently: "recently" is the last few thousand
// distinct addresses, so a burst of addresses never seen before stands out. Addresses are
// kept as 32-bit fingerprints in two generations, each a sorted array: inserts go to the
// current generation, and when it holds half the capacity the previous one is dropped and
// the current one takes its place. A lookup that finds an address only in the previous
// generation moves it forward, so an address in use is never forgotten; one unused for
// about capacity/2 newer addresses is. Memory is 4 bytes an address (plus at most an
// eighth for growth): a camera with five cloud hosts costs 20 bytes, a laptop at the
// default capacity (4,096) at most 18 kB. Lookups are binary searches; an insert moves at
// most one generation's worth of words, and the engine inserts at most 64 a device per 10 s.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/address.h"

namespace warden::engine {

// A stable 32-bit hash of an address (never 0): the same on every run and machine, since
// it is persisted.
uint32_t fingerprint(const net::IpAddr& addr);

class KnownSet {
public:
    explicit KnownSet(uint32_t capacity = 4'096);

    bool contains(uint32_t fp) const;
    // Remembers fp (or moves it to the current generation); returns true if it was unknown.
    bool insert(uint32_t fp);
    size_t size() const { return current_.size() + previous_.size(); }
    uint32_t capacity() const { return generation_ * 2; }
    size_t heap_bytes() const;

    // Each generation as hex (8 digits per fingerprint, ascending), for the state file.
    std::string current_hex() const { return hex(current_); }
    std::string previous_hex() const { return hex(previous_); }
    // Throws std::invalid_argument on a malformed string.
    static KnownSet from_hex(uint32_t capacity, const std::string& current,
                             const std::string& previous);

private:
    static std::string hex(const std::vector<uint32_t>& generation);
    static bool has(const std::vector<uint32_t>& generation, uint32_t fp);

    uint32_t generation_;            // entries per generation
    std::vector<uint32_t> current_;  // ascending
    std::vector<uint32_t> previous_;
};

}  // namespace warden::engine
