// What the policy chooses for the data plane: the maps' capacities and how XDP attaches.
// The policy reads them into these types and the loader and the ports use them as they are:
// one definition each, no copies to keep in step.
#pragma once

#include <cstdint>

#include "warden/abi.h"

namespace warden::dataplane {

struct MapSizes {
    uint32_t devices = WD_DEFAULT_DEVICES;
    uint32_t flows = WD_DEFAULT_FLOWS;
    uint32_t blocklist_v4 = WD_DEFAULT_BLOCKLIST;
    uint32_t blocklist_v6 = WD_DEFAULT_BLOCKLIST;
    uint32_t quarantine = WD_DEFAULT_QUARANTINE;
    // Ring buffer size in bytes. The policy says `events_kb` (KiB); the loader rounds it up
    // to a power of two, as the kernel requires, and warns when it had to.
    uint32_t events_bytes = WD_DEFAULT_EVENTS_BYTES;

    bool operator==(const MapSizes&) const = default;
};

// auto: native where the driver supports it, else generic.
enum class XdpMode { automatic, native, generic };

// "auto" | "native" | "generic": as the policy writes it and as the kernel reports a mode.
constexpr const char* xdp_mode_name(XdpMode mode) {
    switch (mode) {
        case XdpMode::automatic: return "auto";
        case XdpMode::native: return "native";
        case XdpMode::generic: return "generic";
    }
    return "?";
}

}  // namespace warden::dataplane
