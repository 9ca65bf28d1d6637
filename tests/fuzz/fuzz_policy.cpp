// libFuzzer target: the policy loader (policy::load_text, what `load_file` and `warden policy
// check` use). The loader's promise is to report, never to throw or hang: every problem is a
// Diagnostic, a policy is returned exactly when there are no errors, and a returned policy
// holds only values its checks allow. An exception escaping, a stuck parser (yaml-cpp loops
// forever on some stray commas; the loader must notice) or a broken promise is a finding.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "policy/policy.h"

using namespace warden;
using namespace warden::policy;

namespace {

// Diagnostics are printed and dumped as JSON (`policy check --json`): safe text only.
void check_diagnostics(const std::vector<Diagnostic>& list, const std::string& name) {
    for (const auto& d : list) {
        FUZZ_CHECK(d.file == name);
        FUZZ_CHECK(!d.message.empty());
        FUZZ_CHECK(d.line >= 0 && d.column >= 0);
        FUZZ_CHECK(fuzz::safe(d.str()) && fuzz::safe(d.key));
    }
}

void check_policy(const Policy& p) {
    FUZZ_CHECK(!p.interfaces.wan.empty());
    FUZZ_CHECK(!p.interfaces.lan.empty());
    for (const auto& lan : p.interfaces.lan) FUZZ_CHECK(lan != p.interfaces.wan);
    FUZZ_CHECK(p.interval >= interval_min && p.interval <= interval_max);
    const MapSizes& m = p.map_sizes;
    FUZZ_CHECK(m.devices >= devices_bounds.min && m.devices <= devices_bounds.max);
    FUZZ_CHECK(m.flows >= flows_bounds.min && m.flows <= flows_bounds.max);
    FUZZ_CHECK(m.quarantine >= quarantine_bounds.min && m.quarantine <= quarantine_bounds.max);
    // A ring buffer must be a power of two bytes.
    FUZZ_CHECK(m.events_bytes != 0 && (m.events_bytes & (m.events_bytes - 1)) == 0);
    if (p.quarantine.duration)
        FUZZ_CHECK(*p.quarantine.duration >= quarantine_duration_min &&
                   *p.quarantine.duration <= quarantine_duration_max);
    // Every text the policy holds ends up in status.json, the inventory or metrics.
    FUZZ_CHECK(fuzz::safe(p.interfaces.wan));
    for (const auto& lan : p.interfaces.lan) FUZZ_CHECK(fuzz::safe(lan));
    for (const auto& path : {p.paths.pin_dir, p.paths.state_dir, p.identity.ieee_data, p.identity.device_types})
        FUZZ_CHECK(fuzz::safe(path));
    for (const auto& f : p.blocklist.files) FUZZ_CHECK(fuzz::safe(f.path));
    for (const auto& h : p.status_page.hostnames) FUZZ_CHECK(fuzz::safe(h));
    for (size_t i = 0; i < p.devices.size(); ++i) {
        FUZZ_CHECK(fuzz::safe(p.devices[i].name));
        // Notes may run over lines (a YAML block scalar); nothing else may.
        FUZZ_CHECK(text::is_safe(p.devices[i].notes, text::Allow::tabs_and_newlines));
        FUZZ_CHECK(p.devices[i].name.size() <= device_name_max);
        for (size_t j = i + 1; j < p.devices.size(); ++j)
            FUZZ_CHECK(!(p.devices[i].mac == p.devices[j].mac));
    }
    const engine::Config& e = p.detectors;
    FUZZ_CHECK(e.learning_period >= engine::learning_period_min &&
               e.learning_period <= engine::learning_period_max);
    FUZZ_CHECK(e.known_destinations >= engine::known_destinations_min &&
               e.known_destinations <= engine::known_destinations_max);
    for (auto detector : engine::all_detectors) {
        const auto& r = e.response(detector);
        FUZZ_CHECK(!engine::to_string(r.action).empty());
        if (r.duration) FUZZ_CHECK(r.duration->count() > 0);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string name = "fuzz.yaml";
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    LoadResult result;
    try {
        result = load_text(text, name);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "load_text threw %s\n", e.what());
        FUZZ_CHECK(!"load_text throws: it must report a Diagnostic instead");
    } catch (...) {
        FUZZ_CHECK(!"load_text throws something that is not even a std::exception");
    }
    check_diagnostics(result.errors, name);
    check_diagnostics(result.warnings, name);
    // A policy is present exactly when there are no errors.
    FUZZ_CHECK(result.policy.has_value() == result.errors.empty());
    if (result.policy) {
        FUZZ_CHECK(result.policy->source == name);
        check_policy(*result.policy);
    }
    return 0;
}
