// Working inside network namespaces the bench script made, from one process: switch the
// calling thread between them (setns), read an interface's counters and the IP stack's
// receive count there, attach XDP programs, and add an nftables drop rule.
#pragma once

#include <cstdint>
#include <string>

#include "net/address.h"

namespace warden::bench {

// An open network namespace. Move-only; closes its fd on destruction.
class Netns {
public:
    static Netns named(const std::string& name);  // /var/run/netns/<name>, as `ip netns add` makes
    static Netns current();
    Netns(Netns&& other) noexcept : fd_(other.fd_), name_(std::move(other.name_)) { other.fd_ = -1; }
    Netns(const Netns&) = delete;
    Netns& operator=(const Netns&) = delete;
    ~Netns();
    Netns dup() const;   // a second handle on the same namespace
    void enter() const;  // throws
    const std::string& name() const { return name_; }

private:
    Netns(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
    int fd_;
    std::string name_;
};

// Enters a namespace for a scope and goes back to the one the thread was in.
class InNetns {
public:
    explicit InNetns(const Netns& target);
    ~InNetns();
    InNetns(const InNetns&) = delete;
    InNetns& operator=(const InNetns&) = delete;

private:
    Netns back_;
};

// The rest act in the calling thread's current namespace.

struct LinkCounters {
    uint64_t rx_packets = 0;  // veth: every frame its NAPI handled, XDP drops included
    uint64_t rx_dropped = 0;  // veth: includes frames refused because its ring was full
};
LinkCounters link_counters(const std::string& dev);
uint64_t ip_in_receives();  // IP packets that reached the IPv4 stack (Ip: InReceives)
int ifindex_of(const std::string& dev);
net::Mac link_mac(const std::string& dev);

// An XDP program attached in native (driver) mode to one interface of one namespace;
// replace() swaps programs without a moment with none; detached on destruction.
class XdpAttachment {
public:
    XdpAttachment(const Netns& ns, const std::string& dev);
    ~XdpAttachment();
    XdpAttachment(const XdpAttachment&) = delete;
    XdpAttachment& operator=(const XdpAttachment&) = delete;
    void replace(int prog_fd);

private:
    Netns ns_;
    std::string dev_;
    int ifindex_ = 0;
    bool attached_ = false;
};

// `ether saddr <mac> drop` in a netdev-family ingress chain on dev, the way a router user
// blocks a MAC with nftables; in its own table, deleted on destruction.
class NftMacDrop {
public:
    NftMacDrop(const Netns& ns, const std::string& dev, const net::Mac& mac);
    ~NftMacDrop();
    NftMacDrop(const NftMacDrop&) = delete;
    NftMacDrop& operator=(const NftMacDrop&) = delete;

    static constexpr const char* kTable = "wdb_bench";

private:
    Netns ns_;
};

}  // namespace warden::bench
