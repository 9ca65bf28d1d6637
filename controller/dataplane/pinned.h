// The maps of a running warden, opened from their pins: what the CLI uses.
#pragma once

#include <array>
#include <string>

#include "dataplane/maps.h"
#include "dataplane/tables.h"

namespace warden::dataplane {

class PinnedMaps {
public:
    // Throws with "warden is not running ..." when the pins are not there.
    explicit PinnedMaps(const std::string& pin_dir);
    ~PinnedMaps();
    PinnedMaps(const PinnedMaps&) = delete;
    PinnedMaps& operator=(const PinnedMaps&) = delete;

    int fd(MapId id) const { return fds_[static_cast<size_t>(id)]; }

    DeviceTable devices() const { return DeviceTable(fd(MapId::devices)); }
    FlowTable flows() const { return FlowTable(fd(MapId::flows)); }
    QuarantineTable quarantine() const { return QuarantineTable(fd(MapId::quarantine)); }
    Blocklist blocklist() const { return Blocklist(fd(MapId::block_v4), fd(MapId::block_v6), fd(MapId::block_gen)); }
    GatewayTable gateway() const { return GatewayTable(fd(MapId::gateway)); }
    StatsTable stats() const { return StatsTable(fd(MapId::stats)); }

    // Entries and capacity of a map (capacity for the ring buffer is its size in bytes).
    uint32_t capacity(MapId id) const;

private:
    std::array<int, kAllMaps.size()> fds_{};
};

// True when every map is pinned under pin_dir.
bool maps_pinned(const std::string& pin_dir);

}  // namespace warden::dataplane
