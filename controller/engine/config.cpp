#include "engine/config.h"

namespace warden::engine {

namespace {

constexpr std::string_view detector_names[detector_count] = {
    "port_scan", "propagation",      "flood",   "exfiltration",
    "new_destinations", "blocklist", "lateral", "beaconing", "upload_to_new"};
constexpr std::string_view action_names[] = {"alert", "restricted", "isolate"};

}  // namespace

std::string_view to_string(Detector d) { return detector_names[static_cast<size_t>(d)]; }

std::optional<Detector> parse_detector(std::string_view text) {
    for (Detector d : all_detectors)
        if (to_string(d) == text) return d;
    return std::nullopt;
}

std::string_view to_string(Action a) { return action_names[static_cast<size_t>(a)]; }

std::optional<Action> parse_action(std::string_view text) {
    for (size_t i = 0; i < std::size(action_names); ++i)
        if (action_names[i] == text) return static_cast<Action>(i);
    return std::nullopt;
}

Response& Config::response(Detector d) {
    switch (d) {
        case Detector::port_scan: return port_scan.response;
        case Detector::propagation: return propagation.response;
        case Detector::flood: return flood.response;
        case Detector::exfiltration: return exfiltration.response;
        case Detector::new_destinations: return new_destinations.response;
        case Detector::blocklist: return blocklist.response;
        case Detector::lateral: return lateral.response;
        case Detector::beaconing: return beaconing.response;
        case Detector::upload_to_new: return upload_to_new.response;
    }
    return port_scan.response;  // not reached: every enumerator is handled above
}

const Response& Config::response(Detector d) const {
    return const_cast<Config*>(this)->response(d);
}

}  // namespace warden::engine
