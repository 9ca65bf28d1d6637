#include "control/enforcement.h"

#include <algorithm>

#include "quarantine/quarantine.h"

namespace warden::control {

std::pair<uint64_t, uint64_t> kernel_times(const store::QuarantineRecord& r) {
    uint64_t mono_now = quarantine::monotonic_ns();
    int64_t wall_now = store::now_unix_ms();
    uint64_t ago_ns = uint64_t(std::max<int64_t>(0, wall_now - r.since_ms)) * 1000000ull;
    uint64_t since = mono_now - std::min(mono_now, ago_ns);
    uint64_t expires = 0;
    if (r.expires_ms) {
        // At least a millisecond: a record due now is released by the next expiry pass, not
        // left in the kernel as "never expires".
        int64_t left_ms = std::max<int64_t>(*r.expires_ms - wall_now, 1);
        expires = mono_now + uint64_t(left_ms) * 1000000ull;
    }
    return {since, expires};
}

void KernelEnforcement::put_quarantine(const store::QuarantineRecord& r) {
    auto level = quarantine::parse_level(r.level);
    if (!level) throw std::invalid_argument("not a quarantine level: " + r.level);
    auto [since, expires] = kernel_times(r);
    quarantine_.put(r.mac, *level, quarantine::origin_code(r.origin), since, expires);
}

}  // namespace warden::control
