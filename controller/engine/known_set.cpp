#include "engine/known_set.h"

#include <algorithm>
#include <stdexcept>

#include "engine/stats.h"

namespace warden::engine {

uint32_t fingerprint(const net::IpAddr& addr) {
    // FNV-1a over the 16 bytes, then a final mix so nearby addresses spread out.
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint8_t b : addr.bytes) {
        h ^= b;
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    auto fp = static_cast<uint32_t>(h);
    return fp ? fp : 1;
}

KnownSet::KnownSet(uint32_t capacity) : generation_(capacity < 2 ? 1 : capacity / 2) {}

bool KnownSet::has(const std::vector<uint32_t>& generation, uint32_t fp) {
    return std::binary_search(generation.begin(), generation.end(), fp);
}

bool KnownSet::contains(uint32_t fp) const { return has(current_, fp) || has(previous_, fp); }

bool KnownSet::insert(uint32_t fp) {
    auto at = std::lower_bound(current_.begin(), current_.end(), fp);
    if (at != current_.end() && *at == fp) return false;
    bool known = has(previous_, fp);  // if so, it moves forward and stays known
    if (current_.size() >= generation_) {
        previous_ = std::move(current_);
        current_ = {};
        at = current_.begin();
    }
    if (current_.size() == current_.capacity()) {
        // Grow by an eighth (at least 4), not by doubling: this array is most of what a
        // busy device costs.
        size_t index = size_t(at - current_.begin());
        current_.reserve(std::min<size_t>(generation_, current_.size() + std::max<size_t>(4, current_.size() / 8)));
        at = current_.begin() + ptrdiff_t(index);
    }
    current_.insert(at, fp);
    return !known;
}

size_t KnownSet::heap_bytes() const {
    return allocation_bytes(current_.capacity() * sizeof(uint32_t)) +
           allocation_bytes(previous_.capacity() * sizeof(uint32_t));
}

std::string KnownSet::hex(const std::vector<uint32_t>& generation) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(generation.size() * 8);
    for (uint32_t v : generation)
        for (int shift = 28; shift >= 0; shift -= 4) out += digits[(v >> shift) & 0xf];
    return out;
}

KnownSet KnownSet::from_hex(uint32_t capacity, const std::string& current,
                            const std::string& previous) {
    KnownSet set(capacity);
    auto fill = [&](const std::string& text, std::vector<uint32_t>& into) {
        if (text.size() % 8)
            throw std::invalid_argument("known destinations: hex length is not a multiple of 8");
        for (size_t i = 0; i < text.size(); i += 8) {
            uint32_t v = 0;
            for (size_t k = i; k < i + 8; ++k) {
                char c = text[k];
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (d < 0) throw std::invalid_argument("known destinations: not hex");
                v = v << 4 | uint32_t(d);
            }
            if (v) into.push_back(v);
        }
        std::sort(into.begin(), into.end());
        into.erase(std::unique(into.begin(), into.end()), into.end());
        // A smaller capacity than the one saved keeps part of each generation.
        if (into.size() > set.generation_) into.resize(set.generation_);
        into.shrink_to_fit();
    };
    fill(current, set.current_);
    fill(previous, set.previous_);
    return set;
}

}  // namespace warden::engine
