// Following the links of this namespace as they change: a netlink socket subscribed to link
// and tc notifications, read without blocking from an event loop, turned into events (a link
// appeared, went, was renamed, changed; tc filters changed on it). When the kernel drops
// notifications (the socket overflowed: ENOBUFS) it resyncs from a full dump and reports the
// difference, so nothing is missed for good.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/interfaces.h"

namespace warden::net {

struct LinkEvent {
    enum class Kind {
        appeared,    // a new link (also each link found by a resync that was not known)
        gone,        // deleted (name: its last name)
        renamed,     // same index, new name (old_name: the one before)
        changed,     // up/down, bridge master or MAC changed
        tc_changed,  // a tc qdisc or filter was added or removed on it
    };
    Kind kind;
    int index = 0;
    std::string name;
    std::string old_name;  // renamed only

    bool operator==(const LinkEvent&) const = default;
};

const char* to_string(LinkEvent::Kind kind);

// The links known and the events a change makes: kept apart from the socket so the
// bookkeeping is tested without a kernel.
class LinkTable {
public:
    // A link as a notification (or a dump) shows it now.
    std::vector<LinkEvent> update(const Interface& link);
    std::vector<LinkEvent> remove(int index);
    // Everything there is now (a full dump): events for every difference from what was known.
    std::vector<LinkEvent> resync(const std::vector<Interface>& all);

    const std::map<int, Interface>& links() const { return links_; }
    std::optional<Interface> find(const std::string& name) const;

private:
    std::map<int, Interface> links_;
};

class LinkWatcher {
public:
    // Opens the socket and reads the links there are now. Throws with what failed.
    LinkWatcher();
    ~LinkWatcher();
    LinkWatcher(const LinkWatcher&) = delete;
    LinkWatcher& operator=(const LinkWatcher&) = delete;

    // Readable when notifications are waiting (for epoll).
    int fd() const { return fd_; }
    // Reads every notification waiting, never blocks; what changed, in order.
    std::vector<LinkEvent> read();
    const LinkTable& table() const { return table_; }
    // Times the socket overflowed and the table was rebuilt from a dump.
    uint64_t resyncs() const { return resyncs_; }

private:
    std::vector<LinkEvent> resync();

    int fd_ = -1;
    LinkTable table_;
    uint64_t resyncs_ = 0;
};

}  // namespace warden::net
