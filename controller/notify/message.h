// What the household is told, decided from the events log: which events become a message
// (kinds, mutes, one message per incident then a summary, the daily digest) and the message
// itself — one plain sentence naming the device as the household knows it, what it did,
// what warden did, what to do next and the page's link; the engine's figures as details.
// Pure and clock-free (the caller passes the time), so it is tested without a network.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/address.h"
#include "policy/policy.h"

namespace warden::notify {

// The reason of the quarantine that holds a new device until it is approved
// (new_devices: restricted_until_approved); its new_device message says it all.
inline constexpr std::string_view kNewDeviceReason = "new device: held at the restricted level until it is approved";

// A device as the household knows it; any field may be empty.
struct DeviceName {
    std::string name;    // the policy's or the inventory's name, or its DHCP host name
    std::string type;    // camera, tv, ... ("" or "unknown" when not known)
    std::string vendor;  // from its MAC
};

// "the Hall camera", "an unnamed Espressif camera (a4:cf:12:00:00:01)"
std::string device_words(const DeviceName& device, const std::string& mac);

struct Message {
    policy::NotifyKind kind = policy::NotifyKind::alert;
    std::string mac;       // "" for the digest
    std::string device;    // the device's name in words
    std::string title;     // a short line for a notification's title
    std::string text;      // the sentence (with the link)
    std::string link;      // the status page
    int64_t time_ms = 0;
    nlohmann::json details = nlohmann::json::object();  // the event(s) behind it, as logged

    // The webhook's JSON body and the exec hook's stdin (docs/NOTIFY.md).
    nlohmann::json to_json() const;
    static Message from_json(const nlohmann::json& j);  // throws std::exception on a bad one
};

// One incident a detector's finding starts, in words: what the device did and what to do next.
struct DetectorWords {
    std::string did;   // "it tried to log into 57 other devices, the way camera botnets spread"
    std::string todo;  // "Update its firmware and change its password, then release it"
};
// From a finding event (detector, value, peer_name); a detector not known gets plain words.
DetectorWords detector_words(const nlohmann::json& finding);

class Dispatcher {
public:
    Dispatcher(policy::Notify settings, std::string page_url,
               policy::NewDevices new_devices = policy::NewDevices::notify);
    void configure(policy::Notify settings, std::string page_url,
                   policy::NewDevices new_devices = policy::NewDevices::notify);

    // An event of the events log, and the device it names as the household knows it: the
    // messages to send now (none for most events).
    std::vector<Message> on_event(const nlohmann::json& event, const DeviceName& device, int64_t now_ms);
    // Summaries of incidents whose quiet period ended, and the digest when it is due.
    std::vector<Message> tick(int64_t now_ms);
    // When tick() has something to do next (for the thread's wait).
    int64_t next_due_ms(int64_t now_ms) const;

private:
    // An incident in progress: its first message went out, what followed is counted.
    struct Incident {
        policy::NotifyKind kind = policy::NotifyKind::alert;
        std::string device;
        int64_t started_ms = 0, quiet_until_ms = 0;
        std::map<std::string, uint64_t> held;  // "port_scan finding" -> count
        nlohmann::json last = nlohmann::json::object();
    };
    // What the digest counts since the last one.
    struct Day {
        std::map<policy::NotifyKind, uint64_t> counts;
        std::vector<std::string> quarantined;  // devices, in words, once each
    };

    std::optional<Message> incident(Message message, const nlohmann::json& event, int64_t now_ms);
    Message make(policy::NotifyKind kind, const std::string& mac, const std::string& device, std::string title,
                 std::string sentence, const nlohmann::json& details, int64_t now_ms) const;
    Message digest(int64_t now_ms);
    void count(policy::NotifyKind kind, const std::string& device);

    policy::Notify settings_;
    std::string page_url_;
    policy::NewDevices new_devices_ = policy::NewDevices::notify;
    std::map<std::string, nlohmann::json> pending_findings_;  // mac -> the finding a quarantine follows
    std::map<std::string, Incident> incidents_;               // mac -> its incident
    Day day_;
    int64_t next_digest_ms_ = 0;
};

// The next moment after now_ms at `minute` minutes past local midnight (unix ms).
int64_t next_local_minute(int64_t now_ms, int minute);

}  // namespace warden::notify
