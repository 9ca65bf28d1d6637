#include "notify/message.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "store/events_log.h"

namespace warden::notify {

using nlohmann::json;
using policy::NotifyKind;

namespace {

std::string text_of(const json& e, const char* key) {
    if (!e.is_object() || !e.contains(key) || !e[key].is_string()) return "";
    return e[key].get<std::string>();
}

double number_of(const json& e, const char* key) {
    return e.is_object() && e.contains(key) && e[key].is_number() ? e[key].get<double>() : 0;
}

std::string count_text(double n) { return std::to_string(static_cast<uint64_t>(std::llround(std::max(0.0, n)))); }

// "12 MB/s" from bytes a second.
std::string rate_text(double bytes_per_s) {
    const char* units[] = {"B/s", "kB/s", "MB/s", "GB/s"};
    int u = 0;
    while (bytes_per_s >= 1000 && u < 3) bytes_per_s /= 1000, ++u;
    return count_text(bytes_per_s) + " " + units[u];
}

// "1 hour", "90 minutes", "2 days": a duration as a person says it.
std::string duration_words(int64_t ms) {
    int64_t minutes = (ms + 30'000) / 60'000;
    auto plural = [](int64_t n, const char* unit) {
        return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
    };
    if (minutes < 1) return plural(std::max<int64_t>(1, (ms + 500) / 1000), "second");
    if (minutes % 1440 == 0) return plural(minutes / 1440, "day");
    if (minutes % 60 == 0 || minutes > 600) return plural((minutes + 30) / 60, "hour");
    return plural(minutes, "minute");
}

std::string capitalized(std::string s) {
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
}

// "HH:MM" local time.
std::string local_clock(int64_t ms) {
    time_t t = static_cast<time_t>(ms / 1000);
    tm local{};
    localtime_r(&t, &local);
    char buf[8];
    std::strftime(buf, sizeof buf, "%H:%M", &local);
    return buf;
}

std::string list_words(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
    return out;
}

}  // namespace

std::string device_words(const DeviceName& d, const std::string& mac) {
    if (!d.name.empty()) return "the " + d.name;
    std::string what = d.type.empty() || d.type == "unknown" ? "device" : d.type;
    if (!d.vendor.empty()) what = d.vendor + " " + what;
    return "an unnamed " + what + " (" + mac + ")";
}

DetectorWords detector_words(const json& f) {
    std::string detector = text_of(f, "detector"), peer = text_of(f, "peer_name");
    if (peer.empty()) peer = text_of(f, "peer");
    std::string n = count_text(number_of(f, "value"));
    const std::string harden = "Update its firmware and change its password, then release it";
    const std::string expected_or_check =
        "If it just got an update or a new app, tell warden on the page that this is expected; otherwise have it "
        "checked";
    if (detector == "port_scan")
        return {"it probed " + n + " ports or addresses within seconds, the way an infected device looks for its next "
                "victim", harden};
    if (detector == "propagation")
        return {"it tried to log into " + n + " other devices, the way camera botnets spread", harden};
    if (detector == "flood")
        return {"it sent a flood of " + n + " packets a second, the way devices in a botnet attack websites", harden};
    if (detector == "exfiltration")
        return {"it uploaded far more than it ever does (" + rate_text(number_of(f, "value")) + ")",
                "If nobody was uploading or backing up from it, check it for unwanted apps; if it was you, tell warden "
                "on the page that this is expected"};
    if (detector == "new_destinations")
        return {"it suddenly contacted " + n + " addresses it had never used before", expected_or_check};
    if (detector == "blocklist")
        return {"it tried to reach " + (peer.empty() ? std::string("an address") : peer) +
                    ", which is on the blocklist of known bad addresses",
                "Check it for unwanted software; if this was you, tell warden on the page that this is expected"};
    if (detector == "lateral")
        return {"it contacted " + n + " other devices in the home, which it does not normally do", harden};
    if (detector == "beaconing")
        return {"it keeps calling " + (peer.empty() ? std::string("a new destination") : peer) +
                    " at regular intervals, the way remote-controlled malware does",
                expected_or_check};
    std::string evidence = text_of(f, "evidence");
    return {"it behaved unusually" + (evidence.empty() ? std::string() : " (" + evidence + ")"),
            "Have a look on the page"};
}

json Message::to_json() const {
    json device = mac.empty() ? json(nullptr) : json{{"mac", mac}, {"name", this->device}};
    return {{"source", "warden"},
            {"version", 1},
            {"kind", std::string(policy::to_string(kind))},
            {"time", store::iso_time(time_ms)},
            {"ts_ms", time_ms},
            {"device", device},
            {"title", title},
            {"message", text},
            {"link", link.empty() ? json(nullptr) : json(link)},
            {"details", details}};
}

Message Message::from_json(const json& j) {
    Message m;
    auto kind = policy::parse_notify_kind(j.at("kind").get<std::string>());
    if (!kind) throw std::invalid_argument("unknown kind");
    m.kind = *kind;
    if (j.at("device").is_object()) {
        m.mac = j["device"].at("mac").get<std::string>();
        m.device = j["device"].at("name").get<std::string>();
    }
    m.title = j.at("title").get<std::string>();
    m.text = j.at("message").get<std::string>();
    m.link = j.at("link").is_string() ? j["link"].get<std::string>() : "";
    m.time_ms = j.at("ts_ms").get<int64_t>();
    m.details = j.value("details", json::object());
    return m;
}

int64_t next_local_minute(int64_t now_ms, int minute) {
    time_t now = static_cast<time_t>(now_ms / 1000);
    tm local{};
    localtime_r(&now, &local);
    local.tm_hour = minute / 60;
    local.tm_min = minute % 60;
    local.tm_sec = 0;
    local.tm_isdst = -1;
    time_t at = mktime(&local);
    if (static_cast<int64_t>(at) * 1000 <= now_ms) {
        local.tm_mday += 1;
        local.tm_hour = minute / 60;
        local.tm_min = minute % 60;
        local.tm_isdst = -1;
        at = mktime(&local);
    }
    return static_cast<int64_t>(at) * 1000;
}

Dispatcher::Dispatcher(policy::Notify settings, std::string page_url, policy::NewDevices new_devices) {
    configure(std::move(settings), std::move(page_url), new_devices);
}

void Dispatcher::configure(policy::Notify settings, std::string page_url, policy::NewDevices new_devices) {
    new_devices_ = new_devices;
    bool digest_moved = settings.digest_minute != settings_.digest_minute;
    settings_ = std::move(settings);
    page_url_ = std::move(page_url);
    if (digest_moved) next_digest_ms_ = 0;
}

Message Dispatcher::make(NotifyKind kind, const std::string& mac, const std::string& device, std::string title,
                         std::string sentence, const json& details, int64_t now_ms) const {
    Message m;
    m.kind = kind;
    m.mac = mac;
    m.device = device;
    m.title = std::move(title);
    m.link = page_url_;
    m.text = std::move(sentence);
    if (!page_url_.empty()) m.text += ": " + page_url_;
    else if (!m.text.empty() && m.text.back() != '.') m.text += ".";
    m.time_ms = now_ms;
    m.details = details;
    return m;
}

void Dispatcher::count(NotifyKind kind, const std::string& device) {
    ++day_.counts[kind];
    if (kind == NotifyKind::quarantine &&
        std::find(day_.quarantined.begin(), day_.quarantined.end(), device) == day_.quarantined.end())
        day_.quarantined.push_back(device);
}

// The first message of an incident goes out and opens its quiet period; what follows within
// that period is counted for one summary.
std::optional<Message> Dispatcher::incident(Message message, const json& event, int64_t now_ms) {
    if (settings_.rate_limit.count() <= 0) return message;
    auto it = incidents_.find(message.mac);
    if (it != incidents_.end() && now_ms < it->second.quiet_until_ms) {
        std::string what = text_of(event, "kind") == "quarantine" ? "quarantine" : text_of(event, "detector") + " finding";
        ++it->second.held[what];
        it->second.last = event;
        return std::nullopt;
    }
    Incident& i = incidents_[message.mac];
    i = Incident{message.kind, message.device, now_ms, now_ms + settings_.rate_limit.count(), {}, event};
    return message;
}

std::vector<Message> Dispatcher::on_event(const json& e, const DeviceName& device, int64_t now_ms) {
    std::string kind = text_of(e, "kind"), mac_text = text_of(e, "mac");
    auto mac = net::Mac::parse(mac_text);
    if (!mac) return {};
    std::string who = device_words(device, mac_text);
    std::string Who = capitalized(who);
    auto allowed = [&](NotifyKind k) { return !settings_.muted(*mac, k); };
    std::vector<Message> out;

    if (kind == "new_device") {
        if (new_devices_ == policy::NewDevices::allow || !allowed(NotifyKind::new_device)) return out;
        count(NotifyKind::new_device, who);
        std::string where = text_of(e, "interface");
        bool held = new_devices_ == policy::NewDevices::restricted_until_approved && device.name.empty();
        out.push_back(make(NotifyKind::new_device, mac_text, who, "New device: " + who,
                           "A new device joined your network: " + who + (where.empty() ? "" : " on " + where) +
                               (held ? ". warden holds it at the restricted level (addresses and names only) until "
                                       "someone approves it on the page"
                                     : ". If nobody in the home knows it, pause it on the page"),
                           e, now_ms));
        return out;
    }
    if (kind == "finding") {
        std::string taken = text_of(e, "action_taken");
        if (taken == "isolate" || taken == "restricted") {
            pending_findings_[mac_text] = e;  // its quarantine event follows at once
            return out;
        }
        if (!allowed(NotifyKind::alert)) return out;
        if (taken == "none") {  // already quarantined: part of the incident going on
            if (auto it = incidents_.find(mac_text); it != incidents_.end() && now_ms < it->second.quiet_until_ms) {
                ++it->second.held[text_of(e, "detector") + " finding"];
                it->second.last = e;
            }
            return out;
        }
        count(NotifyKind::alert, who);
        auto words = detector_words(e);
        auto m = incident(make(NotifyKind::alert, mac_text, who, Who + ": unusual activity",
                               "warden noticed that " + who + " did something unusual: " + words.did +
                                   ". warden let it carry on and is only telling you. " + words.todo,
                               e, now_ms),
                          e, now_ms);
        if (m) out.push_back(std::move(*m));
        return out;
    }
    if (kind == "quarantine") {
        // Only what warden did on its own: an operator's or the household's own quarantine
        // is no news to whoever did it.
        std::string origin = text_of(e, "origin");
        if (origin != "detector" && origin != "policy") return out;
        if (text_of(e, "reason") == kNewDeviceReason) return out;  // its new_device message said so
        json finding = json::object();
        if (auto it = pending_findings_.find(mac_text); it != pending_findings_.end()) {
            finding = std::move(it->second);
            pending_findings_.erase(it);
        }
        if (!allowed(NotifyKind::quarantine)) return out;
        count(NotifyKind::quarantine, who);
        bool restricted = text_of(e, "level") == "restricted";
        int64_t since = static_cast<int64_t>(number_of(e, "since_ms")), until = static_cast<int64_t>(number_of(e, "expires_ms"));
        std::string how_long = until > since ? "for " + duration_words(until - since) : "until you release it";
        std::string did = restricted ? "warden limited " + who + " to name lookups " + how_long
                                     : "warden cut " + who + " off " + how_long;
        DetectorWords words;
        if (!finding.empty()) {
            words = detector_words(finding);
        } else {
            std::string reason = text_of(e, "reason");
            words = {"it behaved unusually" + (reason.empty() ? std::string() : " (" + reason + ")"),
                     "Have a look on the page"};
        }
        json details{{"quarantine", e}, {"finding", finding.empty() ? json(nullptr) : finding}};
        auto m = incident(make(NotifyKind::quarantine, mac_text, who,
                               Who + (restricted ? " restricted" : " cut off"), did + ": " + words.did + ". " + words.todo,
                               details, now_ms),
                          e, now_ms);
        if (m) out.push_back(std::move(*m));
        return out;
    }
    if (kind == "release") {
        if (!allowed(NotifyKind::release)) return out;
        count(NotifyKind::release, who);
        std::string why = text_of(e, "why"), by = text_of(e, "by");
        std::string because = why == "expired"                ? "its time in quarantine was over"
                              : why == "expired while warden was down" ? "its time in quarantine was over"
                              : why == "false positive"       ? "someone said its behaviour was expected"
                              : why.rfind("by ", 0) == 0      ? "released " + why
                              : why.empty()                   ? "released"
                                                              : why;
        bool by_someone = !by.empty() && by != "warden";
        out.push_back(make(NotifyKind::release, mac_text, who, Who + " is back online",
                           Who + " is back on the network: " + because + (by_someone ? " (" + by + ")" : "") +
                               ". warden keeps watching it and cuts it off again if it misbehaves",
                           e, now_ms));
        return out;
    }
    return out;
}

Message Dispatcher::digest(int64_t now_ms) {
    std::vector<std::string> parts;
    auto n = [&](NotifyKind k) { return day_.counts.count(k) ? day_.counts[k] : 0; };
    auto some = [](uint64_t count, const char* one, const char* many) {
        return std::to_string(count) + " " + (count == 1 ? one : many);
    };
    if (n(NotifyKind::quarantine))
        parts.push_back(some(n(NotifyKind::quarantine), "device cut off", "quarantines") + " (" +
                        list_words(day_.quarantined) + ")");
    if (n(NotifyKind::alert)) parts.push_back(some(n(NotifyKind::alert), "warning", "warnings"));
    if (n(NotifyKind::release)) parts.push_back(some(n(NotifyKind::release), "device let back", "devices let back"));
    if (n(NotifyKind::new_device)) parts.push_back(some(n(NotifyKind::new_device), "new device", "new devices"));
    std::string sentence = parts.empty() ? "warden's day: nothing to report, every device behaved"
                                         : "warden's day: " + list_words(parts);
    json details = json::object();
    for (const auto& [k, c] : day_.counts) details[std::string(policy::to_string(k))] = c;
    day_ = Day{};
    return make(NotifyKind::digest, "", "", "warden's day", sentence, details, now_ms);
}

std::vector<Message> Dispatcher::tick(int64_t now_ms) {
    std::vector<Message> out;
    for (auto it = incidents_.begin(); it != incidents_.end();) {
        Incident& i = it->second;
        if (now_ms < i.quiet_until_ms) {
            ++it;
            continue;
        }
        if (!i.held.empty()) {
            std::vector<std::string> what;
            for (const auto& [name, count] : i.held)
                what.push_back(std::to_string(count) + " more " + name + (count == 1 ? "" : "s"));
            out.push_back(make(i.kind, it->first, i.device, capitalized(i.device) + ": still going on",
                               "Since " + local_clock(i.started_ms) + " " + i.device + " went on: " + list_words(what) +
                                   ". warden told you once and keeps acting; see the page",
                               {{"held", i.held}, {"last", i.last}}, now_ms));
        }
        it = incidents_.erase(it);
    }
    if (next_digest_ms_ == 0) next_digest_ms_ = next_local_minute(now_ms, settings_.digest_minute);
    if (now_ms >= next_digest_ms_) {
        Message d = digest(now_ms);
        if (std::find(settings_.mute_kinds.begin(), settings_.mute_kinds.end(), NotifyKind::digest) ==
            settings_.mute_kinds.end())
            out.push_back(std::move(d));
        next_digest_ms_ = next_local_minute(now_ms, settings_.digest_minute);
    }
    return out;
}

int64_t Dispatcher::next_due_ms(int64_t now_ms) const {
    int64_t next = next_digest_ms_ ? next_digest_ms_ : now_ms;
    for (const auto& [mac, i] : incidents_) next = std::min(next, i.quiet_until_ms);
    return next;
}

}  // namespace warden::notify
