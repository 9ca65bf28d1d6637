// What the control core tells the behaviour engine: releases (a device may be found again),
// false positives (this behaviour is normal for it), priors from other gateways, "save now".
// Inside `warden run` the engine itself answers (daemon/detection.h). With no controller
// running, PendingLearning keeps each request in <state dir>/requests until the next start,
// so nothing an operator taught is lost.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config.h"
#include "engine/profiles.h"
#include "net/address.h"

namespace warden::control {

struct Taught {
    std::vector<std::string> detectors;  // the detectors that learned
    std::string text;                    // what changed, in words
    bool pending = false;                // kept for the engine's next start
};

class Learning {
public:
    virtual ~Learning() = default;
    virtual void released(const net::Mac& mac, int64_t now_ms) = 0;
    virtual Taught false_positive(const net::Mac& mac, std::optional<engine::Detector> detector, int64_t now_ms) = 0;
    // Returns how many device types the priors cover.
    virtual size_t import_profiles(const engine::Profiles& priors) = 0;
    // Writes what was learned to the state dir now; false when no engine runs.
    virtual bool save() = 0;
    // The detectors' settings from now on (what was learned is kept); false when no engine
    // runs (it takes them from the state dir when it starts).
    virtual bool adjust_detectors(const engine::Config& settings) = 0;
};

// Requests for an engine that is not running: one JSON file each in <state dir>/requests,
// written atomically; the controller applies them at start, oldest first, and deletes each.
class PendingLearning final : public Learning {
public:
    explicit PendingLearning(std::filesystem::path state_dir) : state_dir_(std::move(state_dir)) {}
    void released(const net::Mac& mac, int64_t now_ms) override;
    Taught false_positive(const net::Mac& mac, std::optional<engine::Detector> detector, int64_t now_ms) override;
    size_t import_profiles(const engine::Profiles& priors) override;
    bool save() override { return false; }
    bool adjust_detectors(const engine::Config&) override { return false; }

private:
    std::filesystem::path state_dir_;
};

struct PendingRequest {
    std::filesystem::path file;
    nlohmann::json body;  // null when the file could not be read or parsed
    std::string problem;  // why, then
};

// Every pending request, oldest first.
std::vector<PendingRequest> pending_requests(const std::filesystem::path& state_dir);

}  // namespace warden::control
