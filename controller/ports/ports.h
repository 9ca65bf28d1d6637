// The gateway's ports: the interfaces the policy names (names and patterns such as wlan*,
// some optional) and warden's programs on each, as the kernel really has them. Ports attaches
// to an interface the moment it appears, keeps the books when it goes, checks every port
// against the kernel a few times a second and puts back what someone removed, and says all
// of it: log, events, counts for metrics, a status row per port (attached | waiting | fault).
//
// The daemon makes one, calls apply() at start and on reload, on_ready() when fd() is
// readable, and shows status() and counts(). Everything Ports asks of the kernel goes through
// Kernel (live_kernel.h is the real one), so its decisions are unit-tested without one.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dataplane/attach.h"
#include "dataplane/dataplane.h"
#include "dataplane/inspect.h"
#include "net/interfaces.h"
#include "net/link_watcher.h"
#include "policy/policy.h"

namespace warden::ports {

enum class Role { lan, wan };
enum class State {
    attached,  // the kernel has every program warden expects there
    waiting,   // the interface is not there (yet): warden attaches the moment it appears
    fault,     // the interface is there without warden's programs, and they could not be put back
};
const char* to_string(Role role);
const char* to_string(State state);

// One port as `warden status`, the status page and metrics show it.
struct PortStatus {
    std::string interface;  // the interface; for an entry nothing matches yet, the entry itself
    std::string entry;      // the policy entry it answers to (a name or a pattern)
    Role role = Role::lan;
    bool optional = false;
    int ifindex = 0;  // 0 while waiting
    State state = State::waiting;
    std::vector<dataplane::ExpectedProgram> expected;
    std::vector<dataplane::HookProgram> kernel;  // what the kernel has there, as last checked
    std::vector<std::string> faults;             // in words
};

nlohmann::json to_json(const PortStatus& port);
// Every port (status.json "ports").
nlohmann::json ports_json(const std::vector<PortStatus>& ports);
// Every program the kernel has on the ports, one entry each (status.json "attachments"):
// interface, hook, program, id, mode, and whether it is warden's.
nlohmann::json attachments_json(const std::vector<PortStatus>& ports);

// What happened to the ports since warden started (metrics counters).
struct Counts {
    uint64_t attaches = 0;    // a port got warden's programs: at start, or when it appeared
    uint64_t detaches = 0;    // a port lost them: it went away, was renamed or left the policy
    uint64_t reattaches = 0;  // a port got them back: re-created, or someone had removed them
    uint64_t faults = 0;      // a port was found without them and they could not be put back
};

// Everything Ports asks of the kernel.
class Kernel {
public:
    virtual ~Kernel() = default;
    // Readable when links changed or a check of the ports is due.
    virtual int fd() const = 0;
    // The links of the namespace now, by index.
    virtual const std::map<int, net::Interface>& links() const = 0;
    // What changed since the last call, without blocking; check_due is set when it is time
    // to check the ports against the kernel.
    virtual std::vector<net::LinkEvent> changes(bool& check_due) = 0;
    virtual dataplane::KernelHooks inspect(int ifindex) = 0;
    virtual uint32_t program_id(dataplane::Program program) const = 0;
    // Throws with a message an operator can act on.
    virtual dataplane::Attachment attach(dataplane::Program program, const std::string& ifname, int ifindex,
                                         dataplane::XdpMode mode) = 0;
    // ifindex 0: the interface is gone; only warden's own pin is left to remove.
    virtual dataplane::DetachReport detach(const std::string& ifname, int ifindex) = 0;
    virtual int64_t now_ms() const = 0;  // a monotonic clock
};

class Ports {
public:
    using EventSink = std::function<void(const nlohmann::json& event)>;  // the events log

    // A failed attach is tried again after this long, or at once when the link or what the
    // kernel has on it changes.
    static constexpr int64_t kRetryMs = 10'000;

    Ports(std::unique_ptr<Kernel> kernel, EventSink events);

    // The policy's interfaces, at start and on every reload: attaches to every port there is
    // (updating warden's programs in place), detaches from interfaces the policy no longer
    // names, and says which ports are waiting. Never throws for a port: a port that cannot
    // be attached is a fault, and warden enforces on the others.
    void apply(const policy::Interfaces& interfaces, policy::XdpMode mode);

    int fd() const { return kernel_->fd(); }
    // When fd() is readable: follows link changes and checks the ports if due. True when
    // ports came, went, changed bridge (the gateway's own addresses may have changed) or
    // changed state: what status shows is out of date.
    bool on_ready();
    // Checks every port against the kernel now and puts back what is missing.
    void reconcile();

    std::vector<PortStatus> status() const;
    const Counts& counts() const { return counts_; }
    // The links of the namespace as last seen (names for interface indexes).
    const std::map<int, net::Interface>& links() const { return kernel_->links(); }

private:
    struct Match {
        std::string entry;
        Role role;
        bool optional;
    };
    struct Port {
        std::string name;
        Match match;
        int ifindex = 0;
        State state = State::waiting;
        dataplane::KernelHooks kernel;  // as last checked
        std::vector<std::string> fault_texts;
        std::map<std::string, std::string> attach_errors;  // by hook: why the last attach failed
        std::string logged;                                // the fault text last logged
        int64_t retry_ms = 0;                              // no attach before this...
        std::vector<dataplane::HookProgram> failed_with;   // ...while the kernel still has this
    };

    std::optional<Match> match(const std::string& name) const;
    std::vector<dataplane::ExpectedProgram> expected(Role role) const;
    // why: what happened, for the log and the events ("" at start: no events then).
    void appeared(int index, const std::string& name, const std::string& why);
    void gone(const std::string& name, int index, const std::string& why, bool still_there);
    // verb: "" (attached or updated), "re-attached" or "put back".
    bool attach_hook(Port& port, const dataplane::ExpectedProgram& want, const std::string& verb,
                     const std::string& why);
    bool attach_all(Port& port, const std::string& verb, const std::string& why);
    void check(Port& port);
    void set_state(Port& port, std::vector<dataplane::Fault> faults);
    void say_waiting(const std::string& interface, const Match& m) const;
    void event(nlohmann::json e) const;

    std::unique_ptr<Kernel> kernel_;
    EventSink events_;
    policy::Interfaces policy_;
    policy::XdpMode mode_ = policy::XdpMode::automatic;
    bool applied_ = false;                    // the first apply() is the start
    bool state_changed_ = false;              // a port's state changed since on_ready() said so
    std::map<std::string, Port> ports_;       // present ports, by interface name
    std::set<std::string> attached_before_;  // names that had warden's programs in this run
    Counts counts_;
    mutable std::vector<uint32_t> program_ids_;  // lan_ingress, lan_egress, wan_ingress
};

}  // namespace warden::ports
