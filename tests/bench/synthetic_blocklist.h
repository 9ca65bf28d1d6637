// A blocklist shaped like the public ones a home gateway would load (mostly single hosts
// and /24s, some wider networks, scattered over the whole address space), generated from a
// seed so every run loads the same prefixes. It exists so the benchmark's blocklist miss
// walks a populated trie, not an empty one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/tables.h"
#include "net/address.h"

namespace warden::bench {

struct BlocklistShape {
    size_t v4_prefixes = 10000;
    size_t v6_prefixes = 1000;
    uint64_t seed = 20240601;
    // No generated prefix overlaps these, so frames addressed inside them miss.
    std::vector<net::Prefix> keep_clear;
};

// Loads the prefixes (direction flags: both) and says in one line what was loaded.
std::string load_synthetic_blocklist(dataplane::Blocklist& blocklist, const BlocklistShape& shape);

}  // namespace warden::bench
