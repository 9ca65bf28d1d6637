// What the control core changes in the kernel: the quarantine map and the blocklist tries.
// An interface, so the core runs the same with the pinned maps (KernelEnforcement), with no
// maps at all (warden detached: changes wait in the state dir for the next start), and in
// unit tests without root (a map in memory that can be made to refuse).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "blocklist/blocklist.h"
#include "dataplane/tables.h"
#include "store/state.h"

namespace warden::control {

class Enforcement {
public:
    virtual ~Enforcement() = default;

    // False when there are no maps: nothing is enforced until `warden run` starts.
    virtual bool present() const = 0;

    // Throws (map full, kernel refused); an existing entry keeps its drop counters.
    virtual void put_quarantine(const store::QuarantineRecord& record) = 0;
    virtual bool remove_quarantine(const net::Mac& mac) = 0;
    virtual std::optional<dataplane::QuarantineEntry> quarantine(const net::Mac& mac) const = 0;
    virtual std::vector<dataplane::QuarantineEntry> quarantines() const = 0;

    virtual void put_block(const blocklist::Entry& entry) = 0;  // throws
    virtual bool remove_block(const net::Prefix& prefix) = 0;
    virtual std::vector<dataplane::BlockEntry> blocks() const = 0;
};

// The maps of a running (or stopped but still attached) warden.
class KernelEnforcement final : public Enforcement {
public:
    KernelEnforcement(dataplane::QuarantineTable quarantine, dataplane::Blocklist blocklist)
        : quarantine_(quarantine), blocklist_(blocklist) {}

    bool present() const override { return true; }
    void put_quarantine(const store::QuarantineRecord& record) override;
    bool remove_quarantine(const net::Mac& mac) override { return quarantine_.remove(mac); }
    std::optional<dataplane::QuarantineEntry> quarantine(const net::Mac& mac) const override {
        return quarantine_.get(mac);
    }
    std::vector<dataplane::QuarantineEntry> quarantines() const override { return quarantine_.list(); }
    void put_block(const blocklist::Entry& entry) override {
        blocklist_.put(entry.prefix, entry.flags, entry.list_id);
    }
    bool remove_block(const net::Prefix& prefix) override { return blocklist_.remove(prefix); }
    std::vector<dataplane::BlockEntry> blocks() const override { return blocklist_.list(); }

private:
    dataplane::QuarantineTable quarantine_;
    dataplane::Blocklist blocklist_;
};

// No maps pinned: every change is recorded and enforced when warden next starts.
class NoEnforcement final : public Enforcement {
public:
    bool present() const override { return false; }
    void put_quarantine(const store::QuarantineRecord&) override {}
    bool remove_quarantine(const net::Mac&) override { return false; }
    std::optional<dataplane::QuarantineEntry> quarantine(const net::Mac&) const override { return std::nullopt; }
    std::vector<dataplane::QuarantineEntry> quarantines() const override { return {}; }
    void put_block(const blocklist::Entry&) override {}
    bool remove_block(const net::Prefix&) override { return false; }
    std::vector<dataplane::BlockEntry> blocks() const override { return {}; }
};

// A record's wall-clock times as the kernel's monotonic ones: {since_ns, expires_ns (0: never)}.
std::pair<uint64_t, uint64_t> kernel_times(const store::QuarantineRecord& record);

}  // namespace warden::control
