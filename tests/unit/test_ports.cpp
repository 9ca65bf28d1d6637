// Ports' decisions (controller/ports) against a kernel made of maps: attach at start and on
// appear, books kept on delete and rename, programs put back when someone removed them, a
// foreign program left alone, failed attaches retried later, patterns and reloads.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <tuple>
#include <stdexcept>

#include "dataplane/inspect.h"
#include "ports/ports.h"

using namespace warden;
using ports::State;
using Kind = net::LinkEvent::Kind;

namespace {

constexpr uint32_t kIds[] = {101, 102, 103};  // lan_ingress, lan_egress, wan_ingress
const char* kNames[] = {"lan_ingress", "lan_egress", "wan_ingress"};

// The kernel as Ports sees it: links, programs on hooks, a clock, and what Ports asked.
class FakeKernel : public ports::Kernel {
public:
    std::map<int, net::Interface> table;
    std::vector<net::LinkEvent> pending;
    bool due = false;
    std::map<int, std::vector<dataplane::HookProgram>> hooks;  // by ifindex
    std::set<std::string> refuse;  // "program ifname": attach throws
    bool native = true;            // the driver has native XDP
    int64_t clock = 0;
    std::vector<std::string> calls;

    void add_link(int index, const std::string& name) {
        net::Interface i;
        i.index = index;
        i.name = name;
        table[index] = std::move(i);
        pending.push_back({Kind::appeared, index, name, ""});
    }
    void delete_link(int index) {
        pending.push_back({Kind::gone, index, table[index].name, ""});
        table.erase(index);
        hooks.erase(index);
    }
    void rename(int index, const std::string& name) {
        pending.push_back({Kind::renamed, index, name, table[index].name});
        table[index].name = name;
    }
    void remove_hook(int index, const std::string& hook) {
        auto& h = hooks[index];
        h.erase(std::remove_if(h.begin(), h.end(), [&](auto& p) { return p.hook == hook; }), h.end());
    }
    void put(int index, dataplane::HookProgram p) {
        remove_hook(index, p.hook);
        hooks[index].push_back(p);
    }

    int fd() const override { return -1; }
    const std::map<int, net::Interface>& links() const override { return table; }
    std::vector<net::LinkEvent> changes(bool& check_due) override {
        check_due = std::exchange(due, false);
        return std::exchange(pending, {});
    }
    dataplane::KernelHooks inspect(int ifindex) override { return {hooks[ifindex], ""}; }
    uint32_t program_id(dataplane::Program p) const override { return kIds[int(p)]; }
    dataplane::Attachment attach(dataplane::Program p, const std::string& ifname, int ifindex,
                                 dataplane::XdpMode mode) override {
        std::string program = kNames[int(p)];
        calls.push_back("attach " + program + " " + ifname);
        if (refuse.count(program + " " + ifname)) throw std::runtime_error("cannot attach " + program + " to " + ifname + ": refused");
        bool xdp = p != dataplane::Program::lan_egress;
        auto& h = hooks[ifindex];
        for (const auto& have : h)
            if (xdp && have.hook == "xdp" && have.name != program)
                throw std::runtime_error(ifname + " already has another XDP program attached");
        std::string how = !xdp ? "tc" : native && mode != dataplane::XdpMode::generic ? "native" : "generic";
        if (!native && mode == dataplane::XdpMode::native) throw std::runtime_error("no native XDP");
        dataplane::HookProgram prog{xdp ? "xdp" : "tc egress", kIds[int(p)], program, how};
        if (!xdp) prog.tc_handle = prog.tc_priority = dataplane::kTcHandle;
        put(ifindex, prog);
        return {ifname, ifindex, prog.hook, how, program, false};
    }
    dataplane::DetachReport detach(const std::string& ifname, int ifindex) override {
        calls.push_back("detach " + ifname + " " + std::to_string(ifindex));
        if (ifindex) hooks.erase(ifindex);
        return {};
    }
    int64_t now_ms() const override { return clock; }
};

net::Interface itf(int index, const std::string& name) {
    net::Interface i;
    i.index = index;
    i.name = name;
    return i;
}

policy::Interfaces interfaces(std::vector<std::string> lan, std::vector<std::string> optional = {},
                              std::string wan = "wan0") {
    policy::Interfaces i;
    i.wan = std::move(wan);
    i.lan = std::move(lan);
    i.optional = std::move(optional);
    return i;
}

struct Fixture {
    FakeKernel* kernel = new FakeKernel;
    std::vector<nlohmann::json> events;
    ports::Ports ports{std::unique_ptr<ports::Kernel>(kernel), [this](const nlohmann::json& e) { events.push_back(e); }};

    // The status row of interface (or waiting entry) name.
    ports::PortStatus row(const std::string& name) {
        for (auto& p : ports.status())
            if (p.interface == name) return p;
        FAIL("no status row for " << name);
        return {};
    }
    std::vector<std::string> kinds() {
        std::vector<std::string> out;
        for (auto& e : events) out.push_back(e["kind"]);
        return out;
    }
    size_t attaches_asked() {
        return std::count_if(kernel->calls.begin(), kernel->calls.end(), [](auto& c) { return c.rfind("attach", 0) == 0; });
    }
};

}  // namespace

TEST_CASE("ports: at start, attached where the interfaces are, waiting where they are not") {
    Fixture f;
    f.kernel->table = {{2, itf(2, "wan0")}, {3, itf(3, "lan1")}};
    f.ports.apply(interfaces({"lan1", "lan2", "wlan*"}, {"wlan*"}), policy::XdpMode::automatic);

    auto lan1 = f.row("lan1");
    CHECK(lan1.state == State::attached);
    CHECK(lan1.ifindex == 3);
    REQUIRE(lan1.kernel.size() == 2);
    CHECK(lan1.kernel[0].name == "lan_ingress");
    CHECK(lan1.kernel[0].mode == "native");
    CHECK(lan1.kernel[1].name == "lan_egress");
    CHECK(f.row("wan0").state == State::attached);
    auto lan2 = f.row("lan2");
    CHECK(lan2.state == State::waiting);
    CHECK_FALSE(lan2.optional);
    CHECK(lan2.kernel.empty());
    auto radios = f.row("wlan*");
    CHECK(radios.state == State::waiting);
    CHECK(radios.optional);
    CHECK(f.ports.counts().attaches == 2);
    CHECK(f.events.empty());  // the start event says it all
    // Status rows follow the policy: LAN entries in order, then the WAN.
    auto all = f.ports.status();
    REQUIRE(all.size() == 4);
    CHECK(all[0].interface == "lan1");
    CHECK(all[3].interface == "wan0");
}

TEST_CASE("ports: a port that appears later is attached at once, and said") {
    Fixture f;
    f.kernel->table = {{2, itf(2, "wan0")}, {3, itf(3, "lan1")}};
    f.ports.apply(interfaces({"lan1", "lan2"}), policy::XdpMode::automatic);
    f.kernel->add_link(8, "lan2");
    f.kernel->add_link(9, "veth-other");  // not the policy's: left alone
    CHECK(f.ports.on_ready());
    CHECK(f.row("lan2").state == State::attached);
    CHECK(f.row("lan2").ifindex == 8);
    CHECK(f.kernel->hooks[8].size() == 2);
    CHECK(f.kernel->hooks[9].empty());
    CHECK(f.ports.counts().attaches == 3);
    REQUIRE(f.events.size() == 1);
    CHECK(f.events[0]["kind"] == "port_attached");
    CHECK(f.events[0]["interface"] == "lan2");
    CHECK(f.events[0]["why"] == "the interface appeared");
}

TEST_CASE("ports: a port deleted and made again under its name is re-attached, and the books say both") {
    Fixture f;
    f.kernel->table = {{2, itf(2, "wan0")}, {3, itf(3, "lan1")}};
    f.ports.apply(interfaces({"lan1"}), policy::XdpMode::automatic);

    f.kernel->delete_link(3);
    CHECK(f.ports.on_ready());
    CHECK(f.row("lan1").state == State::waiting);
    CHECK(std::find(f.kernel->calls.begin(), f.kernel->calls.end(), "detach lan1 0") != f.kernel->calls.end());
    CHECK(f.ports.counts().detaches == 1);

    f.kernel->add_link(11, "lan1");
    CHECK(f.ports.on_ready());
    auto lan1 = f.row("lan1");
    CHECK(lan1.state == State::attached);
    CHECK(lan1.ifindex == 11);
    CHECK(lan1.kernel.size() == 2);
    CHECK(f.ports.counts().reattaches == 1);
    CHECK(f.ports.counts().attaches == 2);  // lan1 and wan0 at start: a re-creation is no new port
    CHECK(f.kinds() == std::vector<std::string>{"port_detached", "port_reattached"});
    CHECK(f.events[1]["why"] == "the interface was re-created");
}

TEST_CASE("ports: a program someone removed is put back at the next check, and said") {
    Fixture f;
    f.kernel->table = {{2, itf(2, "wan0")}, {3, itf(3, "lan1")}};
    f.ports.apply(interfaces({"lan1"}), policy::XdpMode::automatic);
    size_t asked = f.attaches_asked();

    f.kernel->remove_hook(3, "xdp");
    CHECK_FALSE(f.ports.on_ready());  // no check due, no link event: nothing looked at yet
    CHECK(f.attaches_asked() == asked);
    f.kernel->due = true;
    f.ports.on_ready();
    CHECK(f.attaches_asked() == asked + 1);  // lan_ingress only; lan_egress was in place
    CHECK(f.row("lan1").state == State::attached);
    CHECK(f.ports.counts().reattaches == 1);
    REQUIRE(f.events.size() == 1);
    CHECK(f.events[0]["kind"] == "port_reattached");
    CHECK(f.events[0]["program"] == "lan_ingress");
    CHECK(f.events[0]["why"] == "lan_ingress missing on lan1");

    // A tc change on the port is looked at without waiting for the check.
    f.kernel->remove_hook(3, "tc egress");
    f.kernel->pending.push_back({Kind::tc_changed, 3, "lan1", ""});
    f.ports.on_ready();
    CHECK(f.ports.counts().reattaches == 2);
    CHECK(f.row("lan1").kernel.size() == 2);
}

TEST_CASE("ports: an older warden's filter at warden's place is replaced; a foreign XDP program is not") {
    Fixture f;
    f.kernel->table = {{2, itf(2, "wan0")}, {3, itf(3, "lan1")}};
    f.ports.apply(interfaces({"lan1"}), policy::XdpMode::automatic);

    dataplane::HookProgram older{"tc egress", 77, "lan_egress", "tc"};
    older.tc_handle = older.tc_priority = dataplane::kTcHandle;
    f.kernel->put(3, older);
    f.kernel->due = true;
    f.ports.on_ready();
    CHECK(f.row("lan1").state == State::attached);
    CHECK(f.ports.counts().reattaches == 1);

    f.kernel->put(3, {"xdp", 99, "xdp_dummy", "native"});
    f.kernel->due = true;
    size_t asked = f.attaches_asked();
    CHECK(f.ports.on_ready());  // the state changed
    auto lan1 = f.row("lan1");
    CHECK(lan1.state == State::fault);
    CHECK(f.attaches_asked() == asked);  // not replaced
    REQUIRE(lan1.faults.size() == 1);
    CHECK(lan1.faults[0] ==
          "foreign XDP program xdp_dummy (id 99) on lan1 instead of lan_ingress; warden does not replace it");
    CHECK(f.ports.counts().faults == 1);
    CHECK(f.events.back()["kind"] == "port_fault");

    f.kernel->due = true;  // still there at the next check: no second fault counted
    CHECK_FALSE(f.ports.on_ready());
    CHECK(f.ports.counts().faults == 1);

    f.kernel->remove_hook(3, "xdp");  // the operator removed it: warden attaches
    f.kernel->due = true;
    CHECK(f.ports.on_ready());
    CHECK(f.row("lan1").state == State::attached);
    CHECK(f.row("lan1").faults.empty());
}

TEST_CASE("ports: a failed attach is a fault with the reason, retried later, not at every check") {
    Fixture f;
    f.kernel->table = {{2, itf(2, "wan0")}};
    f.kernel->refuse = {"lan_ingress lan1"};
    f.ports.apply(interfaces({"lan1"}), policy::XdpMode::automatic);
    f.kernel->add_link(3, "lan1");
    f.ports.on_ready();
    auto lan1 = f.row("lan1");
    CHECK(lan1.state == State::fault);
    REQUIRE(lan1.faults.size() == 1);
    CHECK(lan1.faults[0] == "lan_ingress missing on lan1 (cannot attach lan_ingress to lan1: refused)");
    CHECK(f.kernel->hooks[3].size() == 1);  // lan_egress got there: enforced as far as it can be
    CHECK(f.ports.counts().faults == 1);

    size_t asked = f.attaches_asked();
    f.kernel->clock += ports::Ports::kRetryMs - 1;
    f.kernel->due = true;
    f.ports.on_ready();
    CHECK(f.attaches_asked() == asked);
    f.kernel->refuse.clear();
    f.kernel->clock += 1;
    f.kernel->due = true;
    f.ports.on_ready();
    CHECK(f.attaches_asked() == asked + 1);
    CHECK(f.row("lan1").state == State::attached);
}

TEST_CASE("ports: a foreign XDP program in the way at start; once the operator removes it, warden attaches at once") {
    Fixture f;
    f.kernel->table = {{2, itf(2, "wan0")}, {3, itf(3, "lan1")}};
    f.kernel->put(3, {"xdp", 99, "xdp_dummy", "native"});
    f.ports.apply(interfaces({"lan1"}), policy::XdpMode::automatic);
    auto lan1 = f.row("lan1");
    CHECK(lan1.state == State::fault);
    REQUIRE(lan1.faults.size() == 1);
    CHECK(lan1.faults[0].find("foreign XDP program xdp_dummy (id 99) on lan1") == 0);
    CHECK(lan1.faults[0].find("already has another XDP program") != std::string::npos);  // the attach's reason
    size_t asked = f.attaches_asked();
    f.kernel->due = true;
    f.ports.on_ready();
    CHECK(f.attaches_asked() == asked);  // nothing changed: not tried again

    f.kernel->remove_hook(3, "xdp");  // well before kRetryMs
    f.kernel->due = true;
    f.ports.on_ready();
    CHECK(f.row("lan1").state == State::attached);
}

TEST_CASE("ports: without native XDP the fallback is generic, on a late port as at start") {
    Fixture f;
    f.kernel->native = false;
    f.kernel->table = {{2, itf(2, "wan0")}};
    f.ports.apply(interfaces({"lan1"}), policy::XdpMode::automatic);
    CHECK(f.row("wan0").kernel[0].mode == "generic");
    f.kernel->add_link(3, "lan1");
    f.ports.on_ready();
    CHECK(f.row("lan1").kernel[0].mode == "generic");
    CHECK(f.row("lan1").state == State::attached);
}

TEST_CASE("ports: patterns match the radios that come and go, never the WAN") {
    Fixture f;
    f.kernel->table = {{2, itf(2, "eth0")}, {3, itf(3, "eth1")}, {4, itf(4, "wlan0")}};
    f.ports.apply(interfaces({"eth*", "wlan*"}, {"wlan*"}, "eth0"), policy::XdpMode::automatic);
    CHECK(f.row("eth0").role == ports::Role::wan);
    CHECK(f.row("eth1").entry == "eth*");
    CHECK(f.row("wlan0").state == State::attached);
    f.kernel->add_link(5, "wlan1");
    f.ports.on_ready();
    CHECK(f.row("wlan1").state == State::attached);
    f.kernel->delete_link(4);
    f.kernel->delete_link(5);
    f.ports.on_ready();
    auto waiting = f.row("wlan*");  // no radio left: the pattern itself waits
    CHECK(waiting.state == State::waiting);
    CHECK(waiting.optional);
}

TEST_CASE("ports: a port renamed away loses warden's programs; one renamed into the policy gets them") {
    Fixture f;
    f.kernel->table = {{2, itf(2, "wan0")}, {3, itf(3, "lan1")}, {4, itf(4, "spare")}};
    f.ports.apply(interfaces({"lan1"}), policy::XdpMode::automatic);
    f.kernel->rename(3, "old1");
    f.kernel->rename(4, "lan1");
    f.ports.on_ready();
    CHECK(std::find(f.kernel->calls.begin(), f.kernel->calls.end(), "detach lan1 3") != f.kernel->calls.end());
    CHECK(f.kernel->hooks[3].empty());
    auto lan1 = f.row("lan1");
    CHECK(lan1.ifindex == 4);
    CHECK(lan1.state == State::attached);
    CHECK(f.ports.counts().detaches == 1);
}

TEST_CASE("ports: a reload detaches what left the policy and attaches what joined it") {
    Fixture f;
    f.kernel->table = {{2, itf(2, "wan0")}, {3, itf(3, "lan1")}, {4, itf(4, "lan2")}};
    f.ports.apply(interfaces({"lan1", "lan2"}), policy::XdpMode::automatic);
    f.kernel->table[5] = itf(5, "lan3");
    f.ports.apply(interfaces({"lan1", "lan3"}), policy::XdpMode::automatic);
    CHECK(std::find(f.kernel->calls.begin(), f.kernel->calls.end(), "detach lan2 4") != f.kernel->calls.end());
    CHECK(f.kernel->hooks[4].empty());
    CHECK(f.row("lan3").state == State::attached);
    auto all = f.ports.status();
    CHECK(std::none_of(all.begin(), all.end(), [](auto& p) { return p.interface == "lan2"; }));
    CHECK(f.kinds() == std::vector<std::string>{"port_detached", "port_attached"});
}

TEST_CASE("status json: each port, and every program the kernel has on the ports in one list") {
    Fixture f;
    f.kernel->table = {{2, itf(2, "wan0")}, {3, itf(3, "lan1")}};
    f.kernel->put(3, {"tc ingress", 55, "shaper", "tc", 1, 1});  // someone else's, listed too
    f.ports.apply(interfaces({"lan1", "lan2"}), policy::XdpMode::automatic);
    auto rows = f.ports.status();
    auto ports = ports::ports_json(rows);
    REQUIRE(ports.size() == 3);
    CHECK(ports[1]["interface"] == "lan2");
    CHECK(ports[1]["state"] == "waiting");
    auto attachments = ports::attachments_json(rows);
    REQUIRE(attachments.size() == 4);  // lan1: shaper, lan_ingress, lan_egress; wan0: wan_ingress
    std::set<std::tuple<std::string, std::string, bool>> seen;
    for (const auto& a : attachments)
        seen.insert({a["interface"].get<std::string>(), a["program"].get<std::string>(), a["ours"].get<bool>()});
    CHECK(seen == std::set<std::tuple<std::string, std::string, bool>>{{"lan1", "shaper", false},
                                                                       {"lan1", "lan_ingress", true},
                                                                       {"lan1", "lan_egress", true},
                                                                       {"wan0", "wan_ingress", true}});
}
