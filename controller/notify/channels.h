// Handing one message to one channel: a webhook (HTTP or HTTPS POST, bounded in time) or an
// exec hook (the command, the message as JSON on its stdin, killed when it takes too long).
// Blocking: only the notifier's own thread calls these.
#pragma once

#include <chrono>
#include <string>

#include "notify/message.h"
#include "policy/policy.h"

namespace warden::notify {

struct DeliveryLimits {
    std::chrono::milliseconds webhook{5000};  // connect, send and the answer's status line
    std::chrono::milliseconds exec{10000};    // the command's whole run
};

// "" when the receiver took it (HTTP 2xx, exit status 0), else why not ("connection refused",
// "HTTP 500", "exit status 3", ...).
std::string deliver(const policy::NotifyChannel& channel, const Message& message, const DeliveryLimits& limits = {});

}  // namespace warden::notify
