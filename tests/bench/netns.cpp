#include "netns.h"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace warden::bench {

namespace {

std::runtime_error sys_error(const std::string& what) {
    return std::runtime_error(what + ": " + std::strerror(errno));
}

// Runs a shell command in the current namespace, feeding it input; throws on failure.
void run_with_input(const std::string& command, const std::string& input) {
    FILE* p = popen(command.c_str(), "w");
    if (!p) throw sys_error("cannot run " + command);
    std::fwrite(input.data(), 1, input.size(), p);
    int status = pclose(p);
    if (status != 0)
        throw std::runtime_error("`" + command + "` failed (status " + std::to_string(status) +
                                 ") on:\n" + input);
}

}  // namespace

Netns Netns::named(const std::string& name) {
    std::string path = "/var/run/netns/" + name;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw sys_error("cannot open network namespace " + path + " (made by scripts/bench-dataplane.sh?)");
    return Netns(fd, name);
}

Netns Netns::current() {
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw sys_error("cannot open /proc/thread-self/ns/net");
    return Netns(fd, "(current)");
}

Netns Netns::dup() const {
    int fd = fcntl(fd_, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) throw sys_error("cannot duplicate the handle of network namespace " + name_);
    return Netns(fd, name_);
}

Netns::~Netns() {
    if (fd_ >= 0) close(fd_);
}

void Netns::enter() const {
    if (setns(fd_, CLONE_NEWNET)) throw sys_error("cannot enter network namespace " + name_);
}

InNetns::InNetns(const Netns& target) : back_(Netns::current()) { target.enter(); }

InNetns::~InNetns() {
    try {
        back_.enter();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench: %s\n", e.what());
    }
}

LinkCounters link_counters(const std::string& dev) {
    // /proc/thread-self/net follows the thread's namespace; /sys/class/net would not.
    std::ifstream in("/proc/thread-self/net/dev");
    std::string line;
    while (std::getline(in, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        if (name != dev) continue;
        std::istringstream fields(line.substr(colon + 1));
        uint64_t rx_bytes, rx_errs;
        LinkCounters c;
        fields >> rx_bytes >> c.rx_packets >> rx_errs >> c.rx_dropped;
        if (!fields) throw std::runtime_error("cannot parse /proc/net/dev line: " + line);
        return c;
    }
    throw std::runtime_error("no interface " + dev + " in /proc/thread-self/net/dev");
}

uint64_t ip_in_receives() {
    std::ifstream in("/proc/thread-self/net/snmp");
    std::string names, values;
    while (std::getline(in, names) && std::getline(in, values)) {
        if (names.rfind("Ip:", 0) != 0) continue;
        std::istringstream n(names), v(values);
        std::string name, value;
        while (n >> name && v >> value)
            if (name == "InReceives") return std::stoull(value);
    }
    throw std::runtime_error("no Ip: InReceives in /proc/thread-self/net/snmp");
}

int ifindex_of(const std::string& dev) {
    unsigned idx = if_nametoindex(dev.c_str());
    if (!idx) throw sys_error("no interface " + dev + " in this namespace");
    return static_cast<int>(idx);
}

net::Mac link_mac(const std::string& dev) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) throw sys_error("socket");
    ifreq req{};
    std::strncpy(req.ifr_name, dev.c_str(), IFNAMSIZ - 1);
    int rc = ioctl(s, SIOCGIFHWADDR, &req);
    int err = errno;
    close(s);
    if (rc) {
        errno = err;
        throw sys_error("cannot read the MAC address of " + dev);
    }
    net::Mac m;
    std::memcpy(m.bytes.data(), req.ifr_hwaddr.sa_data, 6);
    return m;
}

XdpAttachment::XdpAttachment(const Netns& ns, const std::string& dev) : ns_(ns.dup()), dev_(dev) {
    InNetns in(ns_);
    ifindex_ = ifindex_of(dev);
}

void XdpAttachment::replace(int prog_fd) {
    InNetns in(ns_);
    // Without XDP_FLAGS_UPDATE_IF_NOEXIST the kernel swaps the program atomically.
    int err = bpf_xdp_attach(ifindex_, prog_fd, XDP_FLAGS_DRV_MODE, nullptr);
    if (err)
        throw std::runtime_error("cannot attach XDP (native mode) to " + dev_ + " in " +
                                 ns_.name() + ": " + std::strerror(-err));
    attached_ = true;
}

XdpAttachment::~XdpAttachment() {
    if (!attached_) return;
    try {
        InNetns in(ns_);
        bpf_xdp_detach(ifindex_, XDP_FLAGS_DRV_MODE, nullptr);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench: cannot detach XDP from %s: %s\n", dev_.c_str(), e.what());
    }
}

NftMacDrop::NftMacDrop(const Netns& ns, const std::string& dev, const net::Mac& mac)
    : ns_(ns.dup()) {
    InNetns in(ns_);
    run_with_input("nft -f -", std::string("table netdev ") + kTable + " {\n" +
                                   "  chain ingress {\n" +
                                   "    type filter hook ingress device \"" + dev +
                                   "\" priority 0; policy accept;\n" +
                                   "    ether saddr " + mac.str() + " drop\n" + "  }\n}\n");
}

NftMacDrop::~NftMacDrop() {
    try {
        InNetns in(ns_);
        run_with_input(std::string("nft -f -"), std::string("delete table netdev ") + kTable + "\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench: cannot delete nftables table %s: %s\n", kTable, e.what());
    }
}

}  // namespace warden::bench
