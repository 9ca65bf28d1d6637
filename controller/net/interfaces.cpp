#include "net/interfaces.h"

#include <ifaddrs.h>
#include <net/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <system_error>

#include "net/rtnetlink.h"

namespace warden::net {

namespace {

std::runtime_error netlink_error(const char* what) {
    return std::runtime_error(std::string("cannot list network interfaces: ") + what + ": " +
                              std::strerror(errno));
}

void read_links(std::map<int, Interface>& out) {
    struct {
        nlmsghdr hdr;
        ifinfomsg info;
    } req{};
    req.hdr.nlmsg_len = sizeof req;
    req.hdr.nlmsg_type = RTM_GETLINK;
    req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.hdr.nlmsg_seq = 1;
    req.info.ifi_family = AF_UNSPEC;
    try {
        rtnl_dump(&req, sizeof req, "RTM_GETLINK", [&](const nlmsghdr* h) {
            if (h->nlmsg_type != RTM_NEWLINK) return;
            Interface itf = decode_link(h);
            if (itf.index) out[itf.index] = std::move(itf);
        });
    } catch (const std::system_error& e) {
        throw std::runtime_error(std::string("cannot list network interfaces: ") + e.what());
    }
}

void read_addrs(std::map<int, Interface>& out) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list)) throw netlink_error("getifaddrs");
    for (auto* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr) continue;
        int index = if_nametoindex(a->ifa_name);
        auto it = out.find(index);
        if (it == out.end()) continue;
        // The netmask's leading ones are the prefix length.
        auto mask_bits = [&](const uint8_t* mask, size_t bytes) {
            unsigned n = 0;
            for (size_t i = 0; i < bytes; ++i) n += __builtin_popcount(mask[i]);
            return n;
        };
        if (a->ifa_addr->sa_family == AF_INET) {
            auto* sin = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
            IpAddr ip = IpAddr::from_v4(sin->sin_addr.s_addr);
            it->second.addrs.push_back(ip);
            if (a->ifa_netmask) {
                auto* m = reinterpret_cast<sockaddr_in*>(a->ifa_netmask);
                it->second.networks.push_back(
                    Prefix::of(ip, mask_bits(reinterpret_cast<const uint8_t*>(&m->sin_addr), 4)));
            }
        } else if (a->ifa_addr->sa_family == AF_INET6) {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
            IpAddr ip;
            std::memcpy(ip.bytes.data(), &sin6->sin6_addr, 16);
            it->second.addrs.push_back(ip);
            if (a->ifa_netmask) {
                auto* m = reinterpret_cast<sockaddr_in6*>(a->ifa_netmask);
                it->second.networks.push_back(
                    Prefix::of(ip, mask_bits(reinterpret_cast<const uint8_t*>(&m->sin6_addr), 16)));
            }
        }
    }
    freeifaddrs(list);
}

}  // namespace

Interface decode_link(const nlmsghdr* h) {
    Interface itf;
    if ((h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) || h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg)))
        return itf;
    auto* info = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
    itf.index = info->ifi_index;
    itf.up = info->ifi_flags & IFF_UP;
    for_each_attribute(h, sizeof(ifinfomsg), [&](unsigned short type, const void* data, size_t len) {
        if (type == IFLA_IFNAME && len > 0) {
            itf.name.assign(static_cast<const char*>(data), strnlen(static_cast<const char*>(data), len));
        } else if (type == IFLA_ADDRESS && len == 6 && info->ifi_type == ARPHRD_ETHER) {
            Mac m;
            std::memcpy(m.bytes.data(), data, 6);
            itf.mac = m;
        } else if (type == IFLA_MASTER && len >= 4) {
            std::memcpy(&itf.master, data, 4);
        }
    });
    return itf;
}

std::vector<Interface> list_interfaces() {
    std::map<int, Interface> by_index;
    read_links(by_index);
    read_addrs(by_index);
    std::vector<Interface> out;
    for (auto& [index, itf] : by_index) out.push_back(std::move(itf));
    return out;
}

std::optional<Interface> find_interface(const std::vector<Interface>& all, const std::string& name) {
    for (const auto& itf : all)
        if (itf.name == name) return itf;
    return std::nullopt;
}

}  // namespace warden::net
