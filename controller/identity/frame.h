// A copied frame (from the data plane's events) taken apart down to its UDP payload:
// Ethernet, up to two VLAN tags, IPv4 (options) or IPv6 (extension headers), UDP. Strict:
// every length is checked against the bytes actually copied; anything else is refused with
// the reason, never guessed at.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "net/address.h"

namespace warden::identity {

struct UdpFrame {
    net::Mac src_mac, dst_mac;
    net::IpAddr src, dst;  // IPv4 as v4-mapped
    bool v6 = false;
    uint16_t sport = 0, dport = 0;
    std::span<const uint8_t> payload;  // within the frame given; may be cut short by the copy
    bool truncated = false;            // the UDP length says more than the copy holds
};

std::optional<UdpFrame> parse_udp_frame(std::span<const uint8_t> frame, std::string* why = nullptr);

}  // namespace warden::identity
