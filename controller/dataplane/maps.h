// The maps warden shares between its programs and the CLI, by name: one table, so every
// part of the controller refers to a map the same way.
#pragma once

#include <array>
#include <string_view>

#include "warden/abi.h"

namespace warden::dataplane {

enum class MapId { devices, flows, quarantine, block_v4, block_v6, block_gen, gateway, evlimit, events, stats };

inline constexpr std::array<MapId, 10> kAllMaps = {
    MapId::devices,   MapId::flows,   MapId::quarantine, MapId::block_v4, MapId::block_v6,
    MapId::block_gen, MapId::gateway, MapId::evlimit,    MapId::events,   MapId::stats,
};

constexpr std::string_view map_name(MapId id) {
    switch (id) {
        case MapId::devices: return WD_MAP_DEVICES;
        case MapId::flows: return WD_MAP_FLOWS;
        case MapId::quarantine: return WD_MAP_QUARANTINE;
        case MapId::block_v4: return WD_MAP_BLOCK_V4;
        case MapId::block_v6: return WD_MAP_BLOCK_V6;
        case MapId::block_gen: return WD_MAP_BLOCK_GEN;
        case MapId::gateway: return WD_MAP_GATEWAY;
        case MapId::evlimit: return WD_MAP_EVLIMIT;
        case MapId::events: return WD_MAP_EVENTS;
        case MapId::stats: return WD_MAP_STATS;
    }
    return "";
}

}  // namespace warden::dataplane
