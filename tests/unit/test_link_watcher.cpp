// The link watcher's bookkeeping (net/link_watcher.h) and the decoding of a link message,
// without a kernel.
#include <doctest/doctest.h>
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <vector>

#include "net/interfaces.h"
#include "net/link_watcher.h"

using namespace warden;
using Kind = net::LinkEvent::Kind;

namespace {

net::Interface link(int index, const std::string& name, int master = 0, bool up = true) {
    net::Interface i;
    i.index = index;
    i.name = name;
    i.master = master;
    i.up = up;
    return i;
}

// An RTM_NEWLINK message as the kernel sends it: ifinfomsg and the attributes given.
struct LinkMessage {
    std::vector<char> bytes;

    LinkMessage(int type, int index, unsigned family = AF_UNSPEC) {
        bytes.resize(NLMSG_LENGTH(sizeof(ifinfomsg)));
        auto* info = static_cast<ifinfomsg*>(NLMSG_DATA(header()));
        info->ifi_family = family;
        info->ifi_index = index;
        info->ifi_type = ARPHRD_ETHER;
        info->ifi_flags = IFF_UP;
        header()->nlmsg_type = type;
        header()->nlmsg_len = bytes.size();
    }
    nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(bytes.data()); }
    void add(unsigned short type, const void* data, size_t len) {
        size_t at = NLMSG_ALIGN(bytes.size());
        bytes.resize(at + RTA_SPACE(len));
        auto* a = reinterpret_cast<rtattr*>(bytes.data() + at);
        a->rta_type = type;
        a->rta_len = RTA_LENGTH(len);
        std::memcpy(RTA_DATA(a), data, len);
        header()->nlmsg_len = bytes.size();
    }
};

}  // namespace

TEST_CASE("link table: appear, rename, change and go, each said once") {
    net::LinkTable t;
    CHECK(t.update(link(3, "lan1")) == std::vector<net::LinkEvent>{{Kind::appeared, 3, "lan1", ""}});
    CHECK(t.update(link(3, "lan1")).empty());  // a notification that changes nothing we follow
    CHECK(t.update(link(3, "lan1", 7)) == std::vector<net::LinkEvent>{{Kind::changed, 3, "lan1", ""}});
    CHECK(t.update(link(3, "guest1", 7)) == std::vector<net::LinkEvent>{{Kind::renamed, 3, "guest1", "lan1"}});
    CHECK(t.find("guest1").has_value());
    CHECK_FALSE(t.find("lan1").has_value());
    CHECK(t.remove(3) == std::vector<net::LinkEvent>{{Kind::gone, 3, "guest1", ""}});
    CHECK(t.remove(3).empty());
}

TEST_CASE("link table: a resync after lost notifications reports exactly the difference") {
    net::LinkTable t;
    t.resync({link(1, "lo"), link(3, "lan1"), link(4, "lan2")});
    // Meanwhile lan1 was deleted and made again (a new index), lan2 renamed, wlan0 appeared.
    auto events = t.resync({link(1, "lo"), link(9, "lan1"), link(4, "guest"), link(10, "wlan0")});
    CHECK(events == std::vector<net::LinkEvent>{{Kind::gone, 3, "lan1", ""},
                                                {Kind::appeared, 9, "lan1", ""},
                                                {Kind::renamed, 4, "guest", "lan2"},
                                                {Kind::appeared, 10, "wlan0", ""}});
    CHECK(t.links().size() == 4);
}

TEST_CASE("decode_link reads index, name, MAC, master and up from a link message") {
    LinkMessage m(RTM_NEWLINK, 12);
    m.add(IFLA_IFNAME, "lan3", 5);
    const uint8_t mac[6] = {2, 0, 0, 0, 2, 3};
    m.add(IFLA_ADDRESS, mac, 6);
    int master = 5;
    m.add(IFLA_MASTER, &master, 4);
    auto itf = net::decode_link(m.header());
    CHECK(itf.index == 12);
    CHECK(itf.name == "lan3");
    REQUIRE(itf.mac);
    CHECK(itf.mac->str() == "02:00:00:00:02:03");
    CHECK(itf.master == 5);
    CHECK(itf.up);

    LinkMessage other(RTM_NEWADDR, 12);
    CHECK(net::decode_link(other.header()).index == 0);  // not a link message
}
