#include "engine/stats.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace warden::engine {

uint64_t quantise(double value) {
    if (!(value > 0)) return 0;  // also NaN
    double q = std::round(value * double(quanta_per_unit));
    if (q >= double(max_quantised)) return max_quantised;
    return static_cast<uint64_t>(q);
}

void Wide::add(unsigned __int128 v) {
    unsigned __int128 total = value() + v;  // wraps like any unsigned sum: still associative
    lo = static_cast<uint64_t>(total);
    hi = static_cast<uint64_t>(total >> 64);
}

void Moments::add(uint64_t q) {
    ++n;
    sum.add(q);
    sum_squares.add((unsigned __int128)q * q);
}

void Moments::merge(const Moments& other) {
    n += other.n;
    sum.add(other.sum.value());
    sum_squares.add(other.sum_squares.value());
}

double Moments::mean() const {
    if (n == 0) return 0;
    return double((long double)sum.value() / n / quanta_per_unit);
}

double Moments::m2() const {
    if (n == 0) return 0;
    long double s = (long double)sum.value();
    long double m2 = (long double)sum_squares.value() - s * s / n;
    return m2 > 0 ? double(m2 / ((long double)quanta_per_unit * quanta_per_unit)) : 0.0;
}

double Moments::variance() const { return n ? m2() / double(n) : 0.0; }

// ---- Bins ----

void Bins::release() {
    if (on_heap()) delete[] heap_;
    capacity_ = local_capacity;
    size_ = 0;
    local_[0] = local_[1] = 0;
}

void Bins::take(Bins& other) {
    size_ = other.size_;
    capacity_ = other.capacity_;
    if (other.on_heap()) {
        heap_ = other.heap_;
    } else {
        local_[0] = other.local_[0];
        local_[1] = other.local_[1];
    }
    other.capacity_ = local_capacity;
    other.size_ = 0;
}

void Bins::assign(const uint64_t* values, size_t n) {
    if (n > capacity_ || (on_heap() && n <= local_capacity)) {
        // Exactly the size needed (a copy of a large list would not shrink otherwise).
        Bins fresh;
        if (n > local_capacity) {
            fresh.heap_ = new uint64_t[n];
            fresh.capacity_ = uint32_t(n);
        }
        std::copy(values, values + n, fresh.begin());
        fresh.size_ = uint32_t(n);
        release();
        take(fresh);
        return;
    }
    std::copy(values, values + n, begin());
    size_ = uint32_t(n);
}

void Bins::insert(size_t at, uint64_t value) {
    if (size_ == capacity_) {
        auto* grown = new uint64_t[size_ + 1];
        std::copy(begin(), begin() + at, grown);
        grown[at] = value;
        std::copy(begin() + at, end(), grown + at + 1);
        uint32_t n = size_ + 1;
        release();
        heap_ = grown;
        capacity_ = size_ = n;
        return;
    }
    std::copy_backward(begin() + at, end(), end() + 1);
    begin()[at] = value;
    ++size_;
}

bool Bins::operator==(const Bins& other) const {
    return std::equal(begin(), end(), other.begin(), other.end());
}

// ---- Sketch ----

unsigned Sketch::bucket_of(uint64_t q) {
    if (q == 0) return 0;
    q = std::min(q, max_quantised);
    unsigned e = 63 - unsigned(__builtin_clzll(q));  // at most 40
    // The mantissa as a fixed-point number in [2^62, 2^63), exact (q has at most 41 bits),
    // compared with 2^(1/4), 2^(2/4) and 2^(3/4) in the same scale, rounded to integers.
    uint64_t m = q << (62 - e);
    unsigned quarter = (m >= 5'484'249'825'272'419'512ull) + (m >= 6'521'908'912'666'391'106ull) +
                       (m >= 7'755'900'482'342'532'474ull);
    return 1 + 4 * e + quarter;
}

double Sketch::upper_edge(unsigned bucket) {
    if (bucket == 0) return 0;
    unsigned k = bucket - 1;
    return std::exp2(double(k / 4) + double(k % 4 + 1) / 4.0) / double(quanta_per_unit);
}

void Sketch::add(uint64_t q, uint64_t times) {
    uint64_t bucket = bucket_of(q);
    auto it = std::lower_bound(bins_.begin(), bins_.end(), bucket << count_bits);
    if (it != bins_.end() && (*it >> count_bits) == bucket)
        *it += times;  // counts stay far below 2^56
    else
        bins_.insert(size_t(it - bins_.begin()), bucket << count_bits | times);
}

void Sketch::merge(const Sketch& other) {
    if (other.bins_.empty()) return;
    std::vector<uint64_t> out;
    out.reserve(bins_.size() + other.bins_.size());
    size_t i = 0, j = 0;
    while (i < bins_.size() || j < other.bins_.size()) {
        if (j == other.bins_.size() ||
            (i < bins_.size() && (bins_[i] >> count_bits) < (other.bins_[j] >> count_bits))) {
            out.push_back(bins_[i++]);
        } else if (i == bins_.size() ||
                   (other.bins_[j] >> count_bits) < (bins_[i] >> count_bits)) {
            out.push_back(other.bins_[j++]);
        } else {
            out.push_back(bins_[i++] + (other.bins_[j++] & count_mask));
        }
    }
    bins_.assign(out.data(), out.size());
}

uint64_t Sketch::count() const {
    uint64_t n = 0;
    for (uint64_t b : bins_) n += b & count_mask;
    return n;
}

double Sketch::quantile(double p, const Sketch* other) const {
    static const Bins none;
    const Bins& a = bins_;
    const Bins& b = other ? other->bins_ : none;
    uint64_t total = count() + (other ? other->count() : 0);
    if (total == 0) return 0;
    auto rank = static_cast<uint64_t>(std::ceil(std::clamp(p, 0.0, 1.0) * double(total)));
    rank = std::clamp<uint64_t>(rank, 1, total);
    uint64_t seen = 0;
    size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        uint64_t bucket;
        if (j == b.size() || (i < a.size() && (a[i] >> count_bits) <= (b[j] >> count_bits))) {
            bucket = a[i] >> count_bits;
            seen += a[i++] & count_mask;
            if (j < b.size() && (b[j] >> count_bits) == bucket) seen += b[j++] & count_mask;
        } else {
            bucket = b[j] >> count_bits;
            seen += b[j++] & count_mask;
        }
        if (seen >= rank) return upper_edge(unsigned(bucket));
    }
    return upper_edge(unsigned(std::max(a.empty() ? 0 : a.back() >> count_bits,
                                        b.empty() ? 0 : b.back() >> count_bits)));
}

nlohmann::json Sketch::to_json() const {
    auto out = nlohmann::json::array();
    for (uint64_t b : bins_) {
        out.push_back(b >> count_bits);
        out.push_back(b & count_mask);
    }
    return out;
}

Sketch Sketch::from_json(const nlohmann::json& j) {
    if (!j.is_array() || j.size() % 2)
        throw std::invalid_argument("a sketch is a list of bucket, count pairs");
    Sketch s;
    uint64_t previous = 0;
    for (size_t i = 0; i < j.size(); i += 2) {
        if (!j[i].is_number_unsigned() || !j[i + 1].is_number_unsigned())
            throw std::invalid_argument("sketch buckets and counts are whole numbers");
        uint64_t bucket = j[i].get<uint64_t>(), count = j[i + 1].get<uint64_t>();
        if (bucket > bucket_of(max_quantised) || count == 0 || count > count_mask ||
            (i && bucket <= previous))
            throw std::invalid_argument("sketch bucket " + std::to_string(bucket) +
                                        " out of order, out of range or empty");
        s.bins_.push_back(bucket << count_bits | count);
        previous = bucket;
    }
    return s;
}

// ---- Cell ----

void Cell::add(double value) {
    uint64_t q = quantise(value);
    moments.add(q);
    sketch.add(q);
}

void Cell::merge(const Cell& other) {
    moments.merge(other.moments);
    sketch.merge(other.sketch);
}

namespace {

std::string decimal(unsigned __int128 v) {
    if (v == 0) return "0";
    std::string s;
    while (v) {
        s.insert(s.begin(), char('0' + int(v % 10)));
        v /= 10;
    }
    return s;
}

Wide parse_wide(const nlohmann::json& j, const char* what) {
    if (!j.is_string()) throw std::invalid_argument(std::string(what) + " is a decimal string");
    const std::string& s = j.get_ref<const std::string&>();
    if (s.empty() || s.size() > 39)
        throw std::invalid_argument(std::string(what) + " is not a 128-bit number: " + s);
    unsigned __int128 v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            throw std::invalid_argument(std::string(what) + " is not a decimal number: " + s);
        unsigned digit = unsigned(c - '0');
        if (v > (~(unsigned __int128)0 - digit) / 10)
            throw std::invalid_argument(std::string(what) + " overflows 128 bits: " + s);
        v = v * 10 + digit;
    }
    Wide w;
    w.add(v);
    return w;
}

}  // namespace

nlohmann::json Cell::to_json() const {
    return nlohmann::json::array({moments.n, decimal(moments.sum.value()),
                                  decimal(moments.sum_squares.value()), sketch.to_json()});
}

Cell Cell::from_json(const nlohmann::json& j) {
    if (!j.is_array() || j.size() != 4 || !j[0].is_number_unsigned())
        throw std::invalid_argument("a cell is [count, \"sum\", \"sum of squares\", sketch]");
    Cell c;
    c.moments.n = j[0].get<uint64_t>();
    c.moments.sum = parse_wide(j[1], "a cell's sum");
    c.moments.sum_squares = parse_wide(j[2], "a cell's sum of squares");
    c.sketch = Sketch::from_json(j[3]);
    if (c.sketch.count() != c.moments.n)
        throw std::invalid_argument("a cell's sketch holds " + std::to_string(c.sketch.count()) +
                                    " values but its count says " + std::to_string(c.moments.n));
    return c;
}

}  // namespace warden::engine
