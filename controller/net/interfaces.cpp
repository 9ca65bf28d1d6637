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

namespace warden::net {

namespace {

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) close(fd);
    }
};

std::runtime_error netlink_error(const char* what) {
    return std::runtime_error(std::string("cannot list network interfaces: ") + what + ": " +
                              std::strerror(errno));
}

void read_links(std::map<int, Interface>& out) {
    Fd sock{socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
    if (sock.fd < 0) throw netlink_error("socket");
    struct {
        nlmsghdr hdr;
        ifinfomsg info;
    } req{};
    req.hdr.nlmsg_len = sizeof req;
    req.hdr.nlmsg_type = RTM_GETLINK;
    req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.hdr.nlmsg_seq = 1;
    req.info.ifi_family = AF_UNSPEC;
    if (send(sock.fd, &req, sizeof req, 0) < 0) throw netlink_error("send");

    std::vector<char> buf(1 << 16);
    for (;;) {
        ssize_t n = recv(sock.fd, buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw netlink_error("recv");
        }
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) return;
            if (h->nlmsg_type == NLMSG_ERROR) {
                errno = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
                throw netlink_error("RTM_GETLINK");
            }
            if (h->nlmsg_type != RTM_NEWLINK) continue;
            auto* info = static_cast<ifinfomsg*>(NLMSG_DATA(h));
            Interface itf;
            itf.index = info->ifi_index;
            itf.up = info->ifi_flags & IFF_UP;
            int len = IFLA_PAYLOAD(h);
            for (auto* a = IFLA_RTA(info); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if (a->rta_type == IFLA_IFNAME) {
                    itf.name = static_cast<const char*>(RTA_DATA(a));
                } else if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == 6 &&
                           info->ifi_type == ARPHRD_ETHER) {
                    Mac m;
                    std::memcpy(m.bytes.data(), RTA_DATA(a), 6);
                    itf.mac = m;
                } else if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) >= 4) {
                    std::memcpy(&itf.master, RTA_DATA(a), 4);
                }
            }
            out[itf.index] = itf;
        }
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
