#include "ports/ports.h"

#include <algorithm>

#include "log/log.h"

namespace warden::ports {

using dataplane::ExpectedProgram;
using dataplane::Fault;
using dataplane::Program;
using nlohmann::json;

namespace {

Program program_of(const std::string& name) {
    if (name == "lan_egress") return Program::lan_egress;
    if (name == "wan_ingress") return Program::wan_ingress;
    return Program::lan_ingress;
}

dataplane::XdpMode to_xdp_mode(policy::XdpMode m) {
    switch (m) {
        case policy::XdpMode::native: return dataplane::XdpMode::native;
        case policy::XdpMode::generic: return dataplane::XdpMode::generic;
        case policy::XdpMode::automatic: return dataplane::XdpMode::automatic;
    }
    return dataplane::XdpMode::automatic;
}

std::string joined(const std::vector<std::string>& parts, const char* separator) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
    return out;
}

}  // namespace

const char* to_string(Role role) { return role == Role::wan ? "wan" : "lan"; }

const char* to_string(State state) {
    switch (state) {
        case State::attached: return "attached";
        case State::waiting: return "waiting";
        case State::fault: return "fault";
    }
    return "?";
}

json to_json(const PortStatus& p) {
    json expected = json::array(), kernel = json::array();
    for (const auto& e : p.expected) expected.push_back({{"hook", e.hook}, {"program", e.program}, {"id", e.id}});
    for (const auto& k : p.kernel) {
        bool ours = std::any_of(p.expected.begin(), p.expected.end(), [&](auto& e) { return e.id == k.id; });
        kernel.push_back({{"hook", k.hook}, {"program", k.name}, {"id", k.id}, {"mode", k.mode}, {"ours", ours}});
    }
    return {{"interface", p.interface}, {"entry", p.entry},     {"role", to_string(p.role)},
            {"optional", p.optional},   {"ifindex", p.ifindex}, {"state", to_string(p.state)},
            {"expected", expected},     {"kernel", kernel},     {"faults", p.faults}};
}

json ports_json(const std::vector<PortStatus>& ports) {
    json out = json::array();
    for (const auto& p : ports) out.push_back(to_json(p));
    return out;
}

json attachments_json(const std::vector<PortStatus>& ports) {
    json out = json::array();
    for (const auto& p : ports) {
        json port = to_json(p);
        for (auto& k : port["kernel"]) {
            k["interface"] = p.interface;
            out.push_back(std::move(k));
        }
    }
    return out;
}

Ports::Ports(std::unique_ptr<Kernel> kernel, EventSink events)
    : kernel_(std::move(kernel)), events_(std::move(events)) {}

void Ports::event(json e) const {
    if (events_) events_(e);
}

std::optional<Ports::Match> Ports::match(const std::string& name) const {
    if (name.empty()) return std::nullopt;
    if (name == policy_.wan) return Match{policy_.wan, Role::wan, policy_.is_optional(policy_.wan)};
    // A name written out wins over a pattern that also matches it.
    for (const auto& e : policy_.lan)
        if (e == name) return Match{e, Role::lan, policy_.is_optional(e)};
    for (const auto& e : policy_.lan)
        if (policy::is_interface_pattern(e) && policy::interface_matches(e, name))
            return Match{e, Role::lan, policy_.is_optional(e)};
    return std::nullopt;
}

std::vector<ExpectedProgram> Ports::expected(Role role) const {
    // The loaded programs live as long as the controller: their ids are asked once.
    if (program_ids_.empty())
        for (auto p : {Program::lan_ingress, Program::lan_egress, Program::wan_ingress})
            program_ids_.push_back(kernel_->program_id(p));
    if (role == Role::wan) return {{"xdp", "wan_ingress", program_ids_[2]}};
    return {{"xdp", "lan_ingress", program_ids_[0]}, {"tc egress", "lan_egress", program_ids_[1]}};
}

void Ports::apply(const policy::Interfaces& interfaces, policy::XdpMode mode) {
    bool start = !applied_;
    applied_ = true;
    policy_ = interfaces;
    mode_ = mode;
    bool due = false;
    kernel_->changes(due);  // brings the link table up to date; it is read whole below

    // Ports that are no longer ports: out of the policy, or their interface is gone.
    for (auto it = ports_.begin(); it != ports_.end();) {
        const Port& p = it->second;
        auto link = kernel_->links().find(p.ifindex);
        bool present = link != kernel_->links().end() && link->second.name == p.name;
        auto m = match(p.name);
        if (present && m && m->role == p.match.role) {
            it->second.match = *m;
            ++it;
            continue;
        }
        std::string name = it->first;
        ++it;
        gone(name, p.ifindex, present ? "is no longer in the policy" : "is gone", present);
    }
    for (const auto& [index, link] : kernel_->links())
        if (match(link.name)) appeared(index, link.name, start ? "" : "named by the reloaded policy");

    auto waiting = [&](const std::string& entry, Role role) {
        for (const auto& [name, p] : ports_)
            if (p.match.entry == entry) return;
        say_waiting(entry, Match{entry, role, policy_.is_optional(entry)});
    };
    for (const auto& e : policy_.lan) waiting(e, Role::lan);
    waiting(policy_.wan, Role::wan);
    state_changed_ = false;  // the caller shows the status after apply() anyway
}

void Ports::say_waiting(const std::string& interface, const Match& m) const {
    std::string what = policy::is_interface_pattern(interface)
                           ? "no interface matches " + std::string(to_string(m.role)) + " pattern " + interface
                           : std::string(to_string(m.role)) + " port " + interface + " is not there";
    if (m.optional)
        log::info("{} (optional): warden attaches the moment one appears", what);
    else
        log::warn("{}: warden attaches the moment it appears; until then nothing is enforced there", what);
}

bool Ports::on_ready() {
    bool due = false;
    auto events = kernel_->changes(due);
    bool changed = false;
    std::set<std::string> to_check;
    auto port_at = [&](const std::string& name, int index) -> Port* {
        auto it = ports_.find(name);
        return it != ports_.end() && it->second.ifindex == index ? &it->second : nullptr;
    };
    for (const auto& e : events) {
        switch (e.kind) {
            case net::LinkEvent::Kind::appeared:
                if (!match(e.name)) break;
                appeared(e.index, e.name,
                         attached_before_.count(e.name) ? "the interface was re-created" : "the interface appeared");
                changed = true;
                break;
            case net::LinkEvent::Kind::gone:
                if (!port_at(e.name, e.index)) break;
                gone(e.name, e.index, "was deleted", false);
                changed = true;
                break;
            case net::LinkEvent::Kind::renamed:
                if (port_at(e.old_name, e.index)) {
                    gone(e.old_name, e.index, "was renamed to " + e.name, true);
                    changed = true;
                }
                if (match(e.name)) {
                    appeared(e.index, e.name, "an interface was renamed to " + e.name);
                    changed = true;
                }
                break;
            case net::LinkEvent::Kind::changed:
            case net::LinkEvent::Kind::tc_changed:
                if (Port* p = port_at(e.name, e.index)) {
                    p->retry_ms = 0;  // whatever failed may work now
                    to_check.insert(e.name);
                    changed |= e.kind == net::LinkEvent::Kind::changed;
                }
                break;
        }
    }
    if (due) {
        reconcile();
    } else {
        for (const auto& name : to_check)
            if (auto it = ports_.find(name); it != ports_.end()) check(it->second);
    }
    changed |= state_changed_;
    state_changed_ = false;
    return changed;
}

void Ports::reconcile() {
    for (auto& [name, port] : ports_) check(port);
}

void Ports::appeared(int index, const std::string& name, const std::string& why) {
    auto m = match(name);
    if (!m) return;
    bool start = why.empty();
    auto it = ports_.find(name);
    if (it != ports_.end() && it->second.ifindex == index) {
        // Already a port: at a reload, warden's programs are updated in place.
        attach_all(it->second, "", "");
        check(it->second);
        return;
    }
    if (it != ports_.end())  // its deletion was missed (a resync found the new one)
        gone(name, it->second.ifindex, "was replaced", false);

    Port& port = ports_[name];
    port = Port{};
    port.name = name;
    port.match = *m;
    port.ifindex = index;
    bool again = attached_before_.count(name) > 0;
    if (attach_all(port, again ? "re-attached" : "", why)) {
        (again ? counts_.reattaches : counts_.attaches)++;
        attached_before_.insert(name);
        if (!start)
            event({{"kind", again ? "port_reattached" : "port_attached"},
                   {"interface", name},
                   {"role", to_string(m->role)},
                   {"why", why}});
    }
    check(port);
}

void Ports::gone(const std::string& name, int index, const std::string& why, bool still_there) {
    auto it = ports_.find(name);
    if (it == ports_.end() || it->second.ifindex != index) return;
    Port& port = it->second;
    // An interface that is gone took warden's programs with it; only the pin is left. One
    // that is still there (renamed, or out of the policy) is no port of warden's any more.
    auto report = kernel_->detach(name, still_there ? index : 0);
    for (const auto& m : report.removed) {
        if (still_there)
            log::info("removed {}", m);
        else
            log::debug("removed {} (its pin)", m);
    }
    for (const auto& p : report.problems) log::error("{}", p);
    ++counts_.detaches;
    std::string line = fmt::format("{} port {} {}", to_string(port.match.role), name, why);
    bool wanted = match(name).has_value();
    if (!wanted)
        log::info("{}: warden's programs are off it", line);
    else if (port.match.optional)
        log::info("{}: waiting for it to come back (optional)", line);
    else
        log::warn("{}: nothing is enforced there until it comes back; warden attaches the moment it does", line);
    event({{"kind", "port_detached"}, {"interface", name}, {"role", to_string(port.match.role)}, {"why", why}});
    ports_.erase(it);
}

bool Ports::attach_hook(Port& port, const ExpectedProgram& want, const std::string& verb, const std::string& why) {
    try {
        auto a = kernel_->attach(program_of(want.program), port.name, port.ifindex, to_xdp_mode(mode_));
        port.attach_errors.erase(want.hook);
        std::string how = a.hook == "xdp" ? a.mode + " mode" : a.hook;
        // The fallback is the same whenever warden attaches, and always said.
        if (a.hook == "xdp" && mode_ == policy::XdpMode::automatic && a.mode == "generic")
            how += ": the driver has no native XDP";
        if (verb == "put back") {
            log::warn("{}: put {} back ({})", why, a.program, how);
        } else {
            std::string v = verb.empty() ? (a.replaced ? "updated" : "attached") : verb;
            log::info("{} {} on {} ({}){}", v, a.program, a.ifname, how, why.empty() ? "" : ": " + why);
        }
        return true;
    } catch (const std::exception& e) {
        port.attach_errors[want.hook] = e.what();  // logged with the port's fault (set_state)
        return false;
    }
}

bool Ports::attach_all(Port& port, const std::string& verb, const std::string& why) {
    bool ok = true;
    for (const auto& want : expected(port.match.role)) ok &= attach_hook(port, want, verb, why);
    if (!ok) {
        port.retry_ms = kernel_->now_ms() + kRetryMs;
        port.failed_with = kernel_->inspect(port.ifindex).programs;
    }
    return ok;
}

void Ports::check(Port& port) {
    auto want = expected(port.match.role);
    port.kernel = kernel_->inspect(port.ifindex);
    auto faults = dataplane::compare(port.name, want, port.kernel);
    bool fixable = port.kernel.error.empty() &&
                   std::any_of(faults.begin(), faults.end(), [](auto& f) { return f.kind != Fault::Kind::foreign; });
    // After a failed attach, again only when the kernel's picture changed (the operator
    // removed what was in the way) or kRetryMs passed: not at every check.
    bool worth_trying = kernel_->now_ms() >= port.retry_ms || port.kernel.programs != port.failed_with;
    if (fixable && worth_trying) {
        bool all = true;
        for (const auto& f : faults) {
            if (f.kind == Fault::Kind::foreign) continue;  // never replaced: the operator decides
            auto w = std::find_if(want.begin(), want.end(), [&](auto& x) { return x.hook == f.hook; });
            if (attach_hook(port, *w, "put back", f.text)) {
                ++counts_.reattaches;
                attached_before_.insert(port.name);
                event({{"kind", "port_reattached"},
                       {"interface", port.name},
                       {"role", to_string(port.match.role)},
                       {"program", f.program},
                       {"why", f.text}});
            } else {
                all = false;
            }
        }
        port.kernel = kernel_->inspect(port.ifindex);
        faults = dataplane::compare(port.name, want, port.kernel);
        if (!all) {
            port.retry_ms = kernel_->now_ms() + kRetryMs;
            port.failed_with = port.kernel.programs;
        }
    }
    set_state(port, std::move(faults));
}

void Ports::set_state(Port& port, std::vector<Fault> faults) {
    std::vector<std::string> texts;
    for (const auto& f : faults) {
        std::string text = f.text;
        if (auto e = port.attach_errors.find(f.hook); e != port.attach_errors.end())
            text += " (" + e->second + ")";
        else if (f.kind == Fault::Kind::foreign)
            text += "; warden does not replace it";
        texts.push_back(std::move(text));
    }
    if (!port.kernel.error.empty()) texts.push_back(port.kernel.error + " (" + port.name + ")");
    for (auto it = port.attach_errors.begin(); it != port.attach_errors.end();)  // what works now
        it = std::any_of(faults.begin(), faults.end(), [&](auto& f) { return f.hook == it->first; })
                 ? std::next(it)
                 : port.attach_errors.erase(it);

    State next = texts.empty() ? State::attached : State::fault;
    std::string all = joined(texts, "; ");
    if (next == State::fault && all != port.logged) {
        log::error("{} port {} is not guarded: {}", to_string(port.match.role), port.name, all);
        if (port.state != State::fault) {
            ++counts_.faults;
            event({{"kind", "port_fault"},
                   {"interface", port.name},
                   {"role", to_string(port.match.role)},
                   {"faults", texts}});
        }
    } else if (next == State::attached && port.state == State::fault) {
        log::info("{} port {}: warden's programs are in place again", to_string(port.match.role), port.name);
    }
    port.logged = next == State::fault ? all : "";
    state_changed_ |= port.state != next;
    port.state = next;
    port.fault_texts = std::move(texts);
}

std::vector<PortStatus> Ports::status() const {
    std::vector<PortStatus> out;
    auto add_entry = [&](const std::string& entry, Role role) {
        bool any = false;
        for (const auto& [name, p] : ports_) {
            if (p.match.entry != entry) continue;
            any = true;
            out.push_back({name, entry, role, p.match.optional, p.ifindex, p.state, expected(role), p.kernel.programs,
                           p.fault_texts});
        }
        if (!any) out.push_back({entry, entry, role, policy_.is_optional(entry), 0, State::waiting, expected(role), {}, {}});
    };
    for (const auto& e : policy_.lan) add_entry(e, Role::lan);
    if (!policy_.wan.empty()) add_entry(policy_.wan, Role::wan);
    return out;
}

}  // namespace warden::ports
