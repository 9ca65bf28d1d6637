// What is normal for one device, or for one device type: a Cell (count, sum, sum of squares,
// quantile sketch) per feature over the whole day, and per hour of the day for the features
// whose normal follows the day (traffic volume). Fed with every closed 10 s window;
// mergeable exactly (see stats.h), so a type's profile is the merge of its devices', and
// profiles from many gateways merge in any order to the same bytes.
#pragma once

#include <array>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/features.h"
#include "engine/stats.h"

namespace warden::engine {

struct Key {
    Feature feature;
    Window window;
};
std::string to_string(Key);  // "bytes_up@10s"

// Every feature over 10 s, the connection counts over 60 s as well, and what accumulates
// over the long horizons (10 min, 1 h).
inline constexpr std::array<Key, 35> baselined_keys{{
    {Feature::bytes_up, Window::s10},
    {Feature::frames_up, Window::s10},
    {Feature::bytes_down, Window::s10},
    {Feature::frames_down, Window::s10},
    {Feature::excess_frames, Window::s10},
    {Feature::upload_ratio, Window::s10},
    {Feature::upload, Window::s10},
    {Feature::new_flows, Window::s10},
    {Feature::active_flows, Window::s10},
    {Feature::unanswered_syns, Window::s10},
    {Feature::dns_queries, Window::s10},
    {Feature::blocklist_hits, Window::s10},
    {Feature::destinations, Window::s10},
    {Feature::ports, Window::s10},
    {Feature::lan_peers, Window::s10},
    {Feature::new_destinations, Window::s10},
    {Feature::new_destination_share, Window::s10},
    {Feature::ports_per_host, Window::s10},
    {Feature::hosts_per_port, Window::s10},
    {Feature::remote_access_hosts, Window::s10},
    {Feature::new_flows, Window::s60},
    {Feature::dns_queries, Window::s60},
    {Feature::destinations, Window::s60},
    {Feature::ports, Window::s60},
    {Feature::lan_peers, Window::s60},
    {Feature::new_destinations, Window::s60},
    {Feature::new_destination_share, Window::s60},
    {Feature::ports_per_host, Window::m10},
    {Feature::ports_per_host, Window::h1},
    {Feature::remote_access_hosts, Window::m10},
    {Feature::remote_access_hosts, Window::h1},
    {Feature::unanswered_syns, Window::m10},
    {Feature::unanswered_syns, Window::h1},
    {Feature::new_destination_upload, Window::s60},
    {Feature::new_destination_upload, Window::h1},
}};
// Hour by hour as well: the volume features the flood and exfiltration detectors judge.
inline constexpr std::array<Key, 2> hourly_keys{{
    {Feature::excess_frames, Window::s10},
    {Feature::upload, Window::s10},
}};

std::optional<size_t> baselined_index(Key);
std::optional<size_t> hourly_index(Key);

class Baseline {
public:
    // One closed 10 s window with what ends with it over the longer windows (by Window), at
    // this hour of the day (0..23).
    void add(const std::array<FeatureVector, window_count>& by_window, int hour);
    void merge(const Baseline& other);

    const Cell& all_day(size_t index) const { return all_day_[index]; }
    const Cell& hour(size_t hourly_index, int hour) const { return hourly_[hourly_index][hour]; }
    uint64_t windows() const { return all_day_[0].count(); }
    size_t heap_bytes() const;
    bool operator==(const Baseline&) const = default;

    // {"all_day": {"bytes_up@10s": cell, ...}, "hourly": {"bytes_up@10s": [24 cells]}}.
    // Reading is strict about names (an unknown feature is an error) and lenient about
    // absence (a feature missing from an older file starts empty).
    nlohmann::json to_json() const;
    static Baseline from_json(const nlohmann::json&);  // throws std::invalid_argument

private:
    std::array<Cell, baselined_keys.size()> all_day_;
    std::array<std::array<Cell, 24>, hourly_keys.size()> hourly_;
};

}  // namespace warden::engine
