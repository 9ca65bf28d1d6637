// The gateway's own identity, as the guards of the control core and the data plane's gateway
// map need it: its MACs, its addresses and the LAN's prefixes. A change that would cut the
// LAN off from the gateway (quarantining the gateway's own MAC, blocking its addresses or the
// LAN) is refused here, whichever surface asked.
#pragma once

#include <string>
#include <vector>

#include "net/address.h"
#include "net/interfaces.h"

namespace warden::control {

struct GatewayFacts {
    std::vector<net::Mac> macs;            // LAN bridges first, then LAN ports, then the WAN port
    std::vector<net::IpAddr> lan_addrs;    // the addresses devices use (bridges first)
    std::vector<net::IpAddr> own_addrs;    // every address of this host but loopback
    std::vector<net::Mac> own_macs;        // every MAC of this host
    std::vector<net::Prefix> lan_networks; // the prefixes of the LAN ports and their bridges
};

// From the interfaces of this host and the policy's ports (names or patterns such as wlan*;
// empty lan and wan: every interface counts as the gateway's own, no LAN prefix is known).
GatewayFacts gateway_facts(const std::vector<net::Interface>& all, const std::vector<std::string>& lan,
                           const std::string& wan);

// Why mac cannot be quarantined ("" when it can): not a device's address, or the gateway's.
std::string quarantine_refusal(const net::Mac& mac, const GatewayFacts& gateway);

struct PrefixCheck {
    std::string refusal;                // "" when it may be blocked (or with force)
    std::vector<std::string> warnings;  // very wide prefixes
};
// What blocking prefix would do to the gateway: refused when it holds one of the gateway's
// addresses or overlaps the LAN; warned when it is very wide.
PrefixCheck check_block(const net::Prefix& prefix, const GatewayFacts& gateway);

}  // namespace warden::control
