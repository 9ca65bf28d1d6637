// An operator's command as it arrives on cmd/v1/<gateway>: checked (signature, shape, that
// it is meant for this gateway, expiry) and turned into the control core's request. Nothing
// here changes anything; the agent hands the request to Control::execute through the loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "fleet/signing.h"

namespace warden::fleet {

// A command's lifetime may not exceed this: an id is remembered for the last ~1,000
// commands, and a command that stays valid for long could otherwise be replayed after its
// id was forgotten.
inline constexpr int64_t kMaxCommandLifetimeMs = 7ll * 86'400'000;

struct CheckedCommand {
    enum class Verdict { apply, rejected, expired };
    Verdict verdict = Verdict::rejected;
    std::string id;           // "" when the message did not carry a readable one
    bool verified = false;    // the operator's signature holds (else nothing of it is believed)
    std::string reason;       // with rejected or expired
    nlohmann::json request;   // with apply: the control core's request ({"op": ..., ...})
    int64_t issued_ms = 0;
};

// Checks one message for `gateway` (a broadcast: "*"). Rejected, with the reason, when it is
// not JSON, unsigned, badly signed, malformed, of another schema version, for another
// gateway or an unknown operation; expired when its time is past.
CheckedCommand check_command(std::string_view payload, const Key& operator_key, const std::string& gateway,
                             int64_t now_ms);

}  // namespace warden::fleet
