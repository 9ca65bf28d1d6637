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

// The lock that lives with the pins: a running controller holds flock on the pin dir for its
// whole life, whatever its state dir, so `warden detach` (or a second controller) with
// another state dir cannot pull the programs and maps from under it.
class PinDirLock {
public:
    // Creates the pin dir if missing and takes the lock; throws naming the holder's pid when
    // another process has it.
    explicit PinDirLock(const std::string& pin_dir);
    ~PinDirLock();
    PinDirLock(const PinDirLock&) = delete;
    PinDirLock& operator=(const PinDirLock&) = delete;

    // Throws when a process holds the pin dir's lock (nothing when the dir does not exist).
    static void check_free(const std::string& pin_dir);

private:
    int fd_ = -1;
};

}  // namespace warden::dataplane
