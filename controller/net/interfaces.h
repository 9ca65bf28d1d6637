// The network interfaces of the namespace warden runs in, read over rtnetlink (not /sys,
// which shows the namespace that mounted it): names, indexes, MACs, bridge masters, and
// addresses. Used to attach programs and to learn the gateway's own MACs and addresses.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "net/address.h"

struct nlmsghdr;

namespace warden::net {

struct Interface {
    int index = 0;
    std::string name;
    std::optional<Mac> mac;  // none for interfaces without a link-layer address (lo, tun)
    int master = 0;          // ifindex of the bridge it is a port of, 0 when none
    bool up = false;
    std::vector<IpAddr> addrs;
    std::vector<Prefix> networks;  // the prefix of each address (198.18.0.0/24 for 198.18.0.1/24)
};

// Every interface in this network namespace. Throws on a netlink failure.
std::vector<Interface> list_interfaces();

// One RTM_NEWLINK or RTM_DELLINK message as an Interface (no addresses): for the dump above
// and for the link watcher (net/link_watcher.h). An index of 0 means the message is not one.
Interface decode_link(const nlmsghdr* msg);

// The interface named name, if it exists.
std::optional<Interface> find_interface(const std::vector<Interface>& all, const std::string& name);

}  // namespace warden::net
