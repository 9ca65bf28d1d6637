#include "engine/baseline.h"

#include <stdexcept>

namespace warden::engine {

std::string to_string(Key k) {
    return std::string(to_string(k.feature)) + "@" + std::string(to_string(k.window));
}

namespace {

template <size_t N>
std::optional<size_t> index_in(const std::array<Key, N>& keys, Key k) {
    for (size_t i = 0; i < N; ++i)
        if (keys[i].feature == k.feature && keys[i].window == k.window) return i;
    return std::nullopt;
}

template <size_t N>
std::optional<size_t> index_by_name(const std::array<Key, N>& keys, const std::string& name) {
    for (size_t i = 0; i < N; ++i)
        if (to_string(keys[i]) == name) return i;
    return std::nullopt;
}

}  // namespace

std::optional<size_t> baselined_index(Key k) { return index_in(baselined_keys, k); }
std::optional<size_t> hourly_index(Key k) { return index_in(hourly_keys, k); }

void Baseline::add(const std::array<FeatureVector, window_count>& by_window, int hour) {
    for (size_t i = 0; i < baselined_keys.size(); ++i) {
        const Key& k = baselined_keys[i];
        all_day_[i].add(by_window[size_t(k.window)][k.feature]);
    }
    for (size_t i = 0; i < hourly_keys.size(); ++i) {
        const Key& k = hourly_keys[i];
        hourly_[i][size_t(hour) % 24].add(by_window[size_t(k.window)][k.feature]);
    }
}

void Baseline::merge(const Baseline& other) {
    for (size_t i = 0; i < all_day_.size(); ++i) all_day_[i].merge(other.all_day_[i]);
    for (size_t i = 0; i < hourly_.size(); ++i)
        for (size_t h = 0; h < 24; ++h) hourly_[i][h].merge(other.hourly_[i][h]);
}

size_t Baseline::heap_bytes() const {
    size_t n = 0;
    for (const auto& c : all_day_) n += c.sketch.heap_bytes();
    for (const auto& hours : hourly_)
        for (const auto& c : hours) n += c.sketch.heap_bytes();
    return n;
}

nlohmann::json Baseline::to_json() const {
    nlohmann::json all_day = nlohmann::json::object(), hourly = nlohmann::json::object();
    for (size_t i = 0; i < all_day_.size(); ++i)
        all_day[to_string(baselined_keys[i])] = all_day_[i].to_json();
    for (size_t i = 0; i < hourly_.size(); ++i) {
        auto hours = nlohmann::json::array();
        for (const auto& c : hourly_[i]) hours.push_back(c.to_json());
        hourly[to_string(hourly_keys[i])] = std::move(hours);
    }
    return {{"all_day", std::move(all_day)}, {"hourly", std::move(hourly)}};
}

Baseline Baseline::from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw std::invalid_argument("a baseline is an object");
    Baseline b;
    for (const auto& [key, value] : j.items()) {
        if (key != "all_day" && key != "hourly")
            throw std::invalid_argument("baseline: unknown key '" + key +
                                        "' (expected all_day and hourly)");
        if (!value.is_object())
            throw std::invalid_argument("baseline." + key + " is an object of features");
    }
    if (j.contains("all_day"))
        for (const auto& [name, cell] : j["all_day"].items()) {
            auto i = index_by_name(baselined_keys, name);
            if (!i) throw std::invalid_argument("baseline.all_day: unknown feature '" + name + "'");
            try {
                b.all_day_[*i] = Cell::from_json(cell);
            } catch (const std::invalid_argument& e) {
                throw std::invalid_argument("baseline.all_day." + name + ": " + e.what());
            }
        }
    if (j.contains("hourly"))
        for (const auto& [name, hours] : j["hourly"].items()) {
            auto i = index_by_name(hourly_keys, name);
            if (!i) throw std::invalid_argument("baseline.hourly: unknown feature '" + name + "'");
            if (!hours.is_array() || hours.size() != 24)
                throw std::invalid_argument("baseline.hourly." + name + ": expected 24 cells");
            for (size_t h = 0; h < 24; ++h) {
                try {
                    b.hourly_[*i][h] = Cell::from_json(hours[h]);
                } catch (const std::invalid_argument& e) {
                    throw std::invalid_argument("baseline.hourly." + name + "[" +
                                                std::to_string(h) + "]: " + e.what());
                }
            }
        }
    return b;
}

}  // namespace warden::engine
