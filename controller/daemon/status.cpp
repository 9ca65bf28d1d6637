#include "daemon/status.h"

#include <unistd.h>

#include <iterator>

#include <fmt/format.h>

#include "store/files.h"
#include "version/version.h"

namespace warden::daemon {

using nlohmann::json;

json status_json(const StatusInputs& in) {
    json reload = json::object();
    if (in.reload)
        reload = {{"generation", in.reload->generation}, {"ok", in.reload->ok}, {"ms", in.reload->ms},
                  {"errors", in.reload->errors}};
    return {{"pid", getpid()},
            {"build", version::to_json()},
            {"started_ms", in.started_ms},
            {"updated_ms", store::now_unix_ms()},
            {"policy", in.policy},
            {"pin_dir", in.pin_dir},
            {"state_dir", in.state_dir},
            {"interval_ms", in.interval_ms},
            {"polls", in.figures.polls},
            {"last_poll_cpu_ms", in.figures.last_poll_cpu_ms},
            {"flow_entries", in.figures.flow_entries},
            {"packet_copies", in.figures.packet_copies},
            {"ports", in.ports},
            {"attachments", in.attachments},
            {"reload", reload},
            {"health", in.health ? in.health->to_json() : json{{"state", "ok"}, {"problems", json::array()}}},
            {"inventory", {{"devices", in.inventory_devices}, {"limit", in.inventory_limit},
                           {"evicted", in.inventory_evicted}}},
            {"quarantined", in.quarantined},
            {"evicted", {{"devices", in.evicted.devices}, {"flows", in.evicted.flows}}},
            {"flow_scan_every_ms", Traffic::kFlowPassMs},
            {"notify", in.notify}};
}

void write_status(const store::StateDir& state, const json& status, const Traffic& traffic) {
    // Formatted by hand: for a thousand busy devices a JSON library costs more than the flow walk.
    std::string devices = "[";
    for (const auto& [mac, r] : traffic.rates()) {
        size_t active = traffic.active_flows(mac);
        if (active == 0 && r.up == 0 && r.down == 0 && r.lateral == 0 && r.bcast == 0) continue;
        fmt::format_to(std::back_inserter(devices),
                       "{}{{\"mac\":\"{}\",\"up_bps\":{:.1f},\"down_bps\":{:.1f},\"lateral_bps\":{:.1f},"
                       "\"bcast_bps\":{:.1f},\"pps\":{:.1f},\"active_flows\":{}}}",
                       devices.size() > 1 ? "," : "", mac.str(), r.up, r.down, r.lateral, r.bcast, r.packets, active);
    }
    devices += "]";
    std::string text = status.dump();
    text.back() = ',';  // splice the hand-made devices array into the object
    text += "\"devices\":" + devices + "}";
    store::write_atomically(state.status_file(), text, /*durable=*/false);
}

}  // namespace warden::daemon
