// Turns the data plane's copies of DHCP, DHCPv6, DNS, mDNS and SSDP frames into identity
// observations: takes the frame apart, parses the message, and tells the store whose it is.
// A frame that cannot be read is counted and dropped; it never changes an identity.
#pragma once

#include <cstdint>
#include <span>

#include "identity/identity.h"
#include "warden/abi.h"

namespace warden::identity {

class Observer {
public:
    explicit Observer(IdentityStore& store) : store_(store) {}

    struct Counts {
        uint64_t dhcp4 = 0, dhcp6 = 0, dns = 0, mdns = 0, ssdp = 0;
        uint64_t malformed = 0;  // frames or messages that did not parse
        uint64_t spoofed = 0;    // DHCP client messages naming another device than their sender
    };

    // hdr: the event's header (kind WD_EV_PACKET_COPY); frame: the copied bytes.
    void observe(const wd_event& hdr, std::span<const uint8_t> frame, int64_t now_ms);
    const Counts& counts() const { return counts_; }

private:
    IdentityStore& store_;
    Counts counts_;
};

}  // namespace warden::identity
