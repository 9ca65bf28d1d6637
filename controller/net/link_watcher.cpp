#include "net/link_watcher.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>
#include <vector>

namespace warden::net {

const char* to_string(LinkEvent::Kind kind) {
    switch (kind) {
        case LinkEvent::Kind::appeared: return "appeared";
        case LinkEvent::Kind::gone: return "gone";
        case LinkEvent::Kind::renamed: return "renamed";
        case LinkEvent::Kind::changed: return "changed";
        case LinkEvent::Kind::tc_changed: return "tc changed";
    }
    return "?";
}

std::vector<LinkEvent> LinkTable::update(const Interface& link) {
    std::vector<LinkEvent> out;
    if (link.index <= 0 || link.name.empty()) return out;
    auto it = links_.find(link.index);
    if (it == links_.end()) {
        out.push_back({LinkEvent::Kind::appeared, link.index, link.name, ""});
    } else {
        const Interface& was = it->second;
        if (was.name != link.name) out.push_back({LinkEvent::Kind::renamed, link.index, link.name, was.name});
        if (was.up != link.up || was.master != link.master || was.mac != link.mac)
            out.push_back({LinkEvent::Kind::changed, link.index, link.name, ""});
    }
    links_[link.index] = link;
    return out;
}

std::vector<LinkEvent> LinkTable::remove(int index) {
    auto it = links_.find(index);
    if (it == links_.end()) return {};
    LinkEvent e{LinkEvent::Kind::gone, index, it->second.name, ""};
    links_.erase(it);
    return {e};
}

std::vector<LinkEvent> LinkTable::resync(const std::vector<Interface>& all) {
    std::vector<LinkEvent> out;
    std::set<int> present;
    for (const auto& link : all) present.insert(link.index);
    std::vector<int> went;
    for (const auto& [index, link] : links_)
        if (!present.count(index)) went.push_back(index);
    for (int index : went)
        for (auto& e : remove(index)) out.push_back(std::move(e));
    for (const auto& link : all)
        for (auto& e : update(link)) out.push_back(std::move(e));
    return out;
}

std::optional<Interface> LinkTable::find(const std::string& name) const {
    for (const auto& [index, link] : links_)
        if (link.name == name) return link;
    return std::nullopt;
}

LinkWatcher::LinkWatcher() {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd_ < 0) throw std::runtime_error(std::string("cannot watch network links: socket: ") + std::strerror(errno));
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = RTMGRP_LINK | RTMGRP_TC;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int err = errno;
        close(fd_);
        throw std::runtime_error(std::string("cannot watch network links: bind: ") + std::strerror(err));
    }
    // A burst of changes (a Wi-Fi reload recreates every radio interface) must not overflow
    // the default buffer; if it still does, read() resyncs.
    int size = 1 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    // Subscribed first, listed second: a link made in between is in the list, and its
    // notification then changes nothing.
    table_.resync(list_interfaces());
}

LinkWatcher::~LinkWatcher() {
    if (fd_ >= 0) close(fd_);
}

std::vector<LinkEvent> LinkWatcher::resync() {
    ++resyncs_;
    return table_.resync(list_interfaces());
}

std::vector<LinkEvent> LinkWatcher::read() {
    std::vector<LinkEvent> out;
    std::vector<char> buf(1 << 16);
    bool overflowed = false;
    for (;;) {
        ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) {  // notifications were dropped: read on, then resync
                overflowed = true;
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            throw std::runtime_error(std::string("reading link notifications: ") + std::strerror(errno));
        }
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
            switch (h->nlmsg_type) {
                case RTM_NEWLINK:
                case RTM_DELLINK: {
                    // A bridge also announces its ports joining and leaving (family
                    // AF_BRIDGE): a port leaving the bridge is not a link deleted.
                    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg)) ||
                        static_cast<const ifinfomsg*>(NLMSG_DATA(h))->ifi_family == AF_BRIDGE)
                        break;
                    auto link = decode_link(h);
                    // (a link moved to another namespace is an RTM_DELLINK here)
                    auto events = h->nlmsg_type == RTM_NEWLINK ? table_.update(link) : table_.remove(link.index);
                    for (auto& e : events) out.push_back(std::move(e));
                    break;
                }
                case RTM_NEWQDISC:
                case RTM_DELQDISC:
                case RTM_NEWTFILTER:
                case RTM_DELTFILTER: {
                    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(tcmsg))) break;
                    int index = static_cast<const tcmsg*>(NLMSG_DATA(h))->tcm_ifindex;
                    auto it = table_.links().find(index);
                    if (it != table_.links().end())
                        out.push_back({LinkEvent::Kind::tc_changed, index, it->second.name, ""});
                    break;
                }
                default: break;
            }
        }
    }
    if (overflowed)
        for (auto& e : resync()) out.push_back(std::move(e));
    return out;
}

}  // namespace warden::net
