// Statistics of one feature that merge EXACTLY: the sums of one gateway's windows, of many
// gateways' profiles, or of a file merged in any order are equal bit for bit, because every
// accumulator is an integer and merging only adds. Values are quantised to 1/1000 first;
// mean, M2 (the sum of squared deviations) and quantiles are derived when asked for.
#pragma once

#include <compare>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace warden::engine {

// Feature values are kept in thousandths, clamped to [0, 2^40] (about 1.1e9 units: 8.8 Gbit/s
// as bytes per second). The clamp bounds the sums: a square is below 2^80, so 2^47 values
// fit the 128-bit sum of squares.
inline constexpr uint64_t quanta_per_unit = 1000;
inline constexpr uint64_t max_quantised = uint64_t(1) << 40;
uint64_t quantise(double value);

// What a heap block of `bytes` really takes (glibc: 8 bytes of header, 16-byte steps,
// 32 at least), so reported memory matches what the process pays.
inline size_t allocation_bytes(size_t bytes) {
    if (bytes == 0) return 0;
    size_t block = (bytes + 8 + 15) & ~size_t(15);
    return block < 32 ? 32 : block;
}

// A 128-bit unsigned integer as two words: no 16-byte alignment, so a Moments is 40 bytes.
struct Wide {
    uint64_t lo = 0, hi = 0;
    void add(unsigned __int128 v);
    unsigned __int128 value() const { return (unsigned __int128)hi << 64 | lo; }
    bool operator==(const Wide&) const = default;
};

// Count, sum and sum of squares of quantised values.
struct Moments {
    uint64_t n = 0;
    Wide sum, sum_squares;

    void add(uint64_t quantised);
    void merge(const Moments& other);
    double mean() const;      // in feature units
    double m2() const;        // sum of squared deviations from the mean, in units squared
    double variance() const;  // m2 / n
    bool operator==(const Moments&) const = default;
};

// A short list of 64-bit words that keeps up to two in place: most features of most
// devices occupy one or two buckets, and a heap block for those would cost more than they
// do (a device has 75 sketches). Grows one word at a time: buckets are added rarely.
class Bins {
public:
    Bins() = default;
    Bins(const Bins& other) { assign(other.begin(), other.size()); }
    Bins(Bins&& other) noexcept { take(other); }
    Bins& operator=(const Bins& other) {
        if (this != &other) assign(other.begin(), other.size());
        return *this;
    }
    Bins& operator=(Bins&& other) noexcept {
        if (this != &other) {
            release();
            take(other);
        }
        return *this;
    }
    ~Bins() { release(); }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    uint64_t* begin() { return on_heap() ? heap_ : local_; }
    uint64_t* end() { return begin() + size_; }
    const uint64_t* begin() const { return on_heap() ? heap_ : local_; }
    const uint64_t* end() const { return begin() + size_; }
    uint64_t& operator[](size_t i) { return begin()[i]; }
    uint64_t operator[](size_t i) const { return begin()[i]; }
    uint64_t back() const { return begin()[size_ - 1]; }
    void insert(size_t at, uint64_t value);
    void push_back(uint64_t value) { insert(size_, value); }
    void assign(const uint64_t* values, size_t n);
    size_t heap_bytes() const { return on_heap() ? allocation_bytes(capacity_ * sizeof(uint64_t)) : 0; }
    bool operator==(const Bins& other) const;

private:
    static constexpr uint32_t local_capacity = 2;
    bool on_heap() const { return capacity_ > local_capacity; }
    void release();
    void take(Bins& other);

    union {
        uint64_t local_[local_capacity] = {0, 0};
        uint64_t* heap_;
    };
    uint32_t size_ = 0;
    uint32_t capacity_ = local_capacity;
};

// A log-bucket histogram with integer counts: bucket 0 holds zeros, bucket b >= 1 holds
// quantised values in [2^((b-1)/4), 2^(b/4)), a quarter octave (19 %) wide. Only occupied
// buckets are stored (a device's feature usually sits in a handful), sorted by bucket.
// Bucket boundaries are found with integer arithmetic, so every platform buckets alike.
class Sketch {
public:
    static unsigned bucket_of(uint64_t quantised);
    static double upper_edge(unsigned bucket);  // in feature units

    void add(uint64_t quantised, uint64_t times = 1);
    void merge(const Sketch& other);
    uint64_t count() const;
    // The upper edge of the bucket holding the p-quantile (0 < p <= 1): never below the
    // true quantile, at most 19 % above it. With `other`, the quantile of both together.
    double quantile(double p, const Sketch* other = nullptr) const;
    size_t buckets() const { return bins_.size(); }
    size_t heap_bytes() const { return bins_.heap_bytes(); }
    bool operator==(const Sketch&) const = default;

    // [bucket, count, bucket, count, ...]
    nlohmann::json to_json() const;
    static Sketch from_json(const nlohmann::json&);  // throws std::invalid_argument

private:
    static constexpr int count_bits = 56;
    static constexpr uint64_t count_mask = (uint64_t(1) << count_bits) - 1;
    Bins bins_;  // bucket << 56 | count, ascending by bucket
};

// Everything known about one feature in one slot (all day, or one hour of the day).
struct Cell {
    Moments moments;
    Sketch sketch;

    void add(double value);
    void merge(const Cell& other);
    uint64_t count() const { return moments.n; }
    bool operator==(const Cell&) const = default;

    // [n, "sum", "sum of squares", [bucket, count, ...]]; the sums as decimal strings,
    // since JSON numbers stop at 64 bits.
    nlohmann::json to_json() const;
    static Cell from_json(const nlohmann::json&);  // throws std::invalid_argument
};

}  // namespace warden::engine
