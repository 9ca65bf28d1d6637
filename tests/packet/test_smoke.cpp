#include <doctest/doctest.h>
#include <linux/bpf.h>

#include "support/harness.h"

using namespace warden;
using namespace warden::testing;
using dataplane::Program;

TEST_CASE("an unknown device's TCP frame to the gateway passes and is counted up") {
    Harness h;
    auto dev = mac("02:00:00:00:00:01"), gw = mac("02:00:00:00:00:fe");
    h.gateway().add_mac(gw);
    auto frame = Packet().eth(dev, gw).ipv4("198.18.0.10", "198.18.1.1").tcp(40000, 443, tcp::syn).payload(10).build();
    CHECK(h.run(Program::lan_ingress, frame) == XDP_PASS);
    auto d = h.devices().read(dev);
    REQUIRE(d);
    CHECK(d->up.packets == 1);
    CHECK(d->up.bytes == frame.size());
    CHECK(d->tcp_syn == 1);
    auto f = h.flows().read(flow_key(dev, 6, ip("198.18.0.10"), ip("198.18.1.1"), 40000, 443));
    REQUIRE(f);
    CHECK(f->packets[WD_FLOW_UP] == 1);
    auto ev = h.take_events();
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].hdr.kind == WD_EV_NEW_DEVICE);
    CHECK(ev[1].hdr.kind == WD_EV_NEW_FLOW);
}
