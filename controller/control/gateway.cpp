#include "control/gateway.h"

#include <algorithm>

#include "policy/policy.h"

namespace warden::control {

namespace {

template <typename T>
void add_once(std::vector<T>& list, const T& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// IPv4 prefixes shorter than this, or IPv6 ones shorter than kWideV6, cover a large part of
// the internet: legal, but rarely meant.
constexpr unsigned kWideV4 = 8;
constexpr unsigned kWideV6 = 16;

}  // namespace

GatewayFacts gateway_facts(const std::vector<net::Interface>& all, const std::vector<std::string>& lan,
                           const std::string& wan) {
    GatewayFacts g;
    auto add_lan = [&](const net::Interface& itf) {
        if (itf.mac) add_once(g.macs, *itf.mac);
        for (const auto& a : itf.addrs) add_once(g.lan_addrs, a);
        for (const auto& n : itf.networks)
            if (n.len > 0) add_once(g.lan_networks, n);
    };
    // A LAN port: an interface a lan entry (a name or a pattern such as wlan*) matches.
    auto is_lan = [&](const net::Interface& itf) {
        return itf.name != wan && std::any_of(lan.begin(), lan.end(), [&](const std::string& entry) {
                   return policy::interface_matches(entry, itf.name);
               });
    };
    // Bridges first: their addresses are the ones devices use (DNS, DHCP).
    for (const auto& itf : all)
        if (is_lan(itf) && itf.master)
            for (const auto& m : all)
                if (m.index == itf.master) add_lan(m);
    for (const auto& itf : all)
        if (is_lan(itf)) add_lan(itf);
    if (auto w = net::find_interface(all, wan); w && w->mac) add_once(g.macs, *w->mac);
    for (const auto& itf : all) {
        if (itf.mac) add_once(g.own_macs, *itf.mac);
        bool loopback = itf.name == "lo";
        if (!loopback)
            for (const auto& a : itf.addrs) add_once(g.own_addrs, a);
    }
    return g;
}

std::string quarantine_refusal(const net::Mac& mac, const GatewayFacts& gateway) {
    if (mac == net::Mac{}) return "00:00:00:00:00:00 is not a device's address";
    if (mac.is_multicast()) return mac.str() + " is a multicast/broadcast address, not a device";
    auto own = [&](const std::vector<net::Mac>& list) { return std::find(list.begin(), list.end(), mac) != list.end(); };
    if (own(gateway.macs) || own(gateway.own_macs))
        return mac.str() + " is the gateway's own MAC address: quarantining it would cut every device off";
    return "";
}

PrefixCheck check_block(const net::Prefix& prefix, const GatewayFacts& gateway) {
    PrefixCheck c;
    for (const auto& a : gateway.own_addrs) {
        if (prefix.contains(a)) {
            c.refusal = prefix.str() + " holds the gateway's own address " + a.str() +
                        ": blocking it would cut the LAN off from the gateway (DNS, DHCP, this page, SSH)";
            return c;
        }
    }
    for (const auto& n : gateway.lan_networks) {
        if (prefix.overlaps(n)) {
            c.refusal = prefix.str() + " overlaps the LAN " + n.str() +
                        ": blocking it would cut devices off from each other and the gateway (quarantine a device "
                        "instead)";
            return c;
        }
    }
    if (prefix.is_v4() ? prefix.len < kWideV4 : prefix.len < kWideV6)
        c.warnings.push_back(prefix.str() + " is very wide: it blocks a large part of the " +
                             (prefix.is_v4() ? "IPv4" : "IPv6") + " internet");
    return c;
}

}  // namespace warden::control
