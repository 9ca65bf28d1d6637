#include "engine/features.h"

#include <algorithm>

#include "engine/stats.h"

namespace warden::engine {

namespace {

constexpr std::string_view feature_names[feature_count] = {
    "bytes_up",         "frames_up",        "bytes_down",
    "frames_down",      "excess_frames",    "upload_ratio",     "upload",
    "new_flows",        "active_flows",     "unanswered_syns",
    "dns_queries",      "blocklist_hits",   "destinations",
    "ports",            "lan_peers",        "new_destinations",
    "new_destination_share", "ports_per_host", "hosts_per_port",
    "remote_access_hosts", "new_destination_upload"};

constexpr int64_t block_ms = 10'000;
// An Ethernet frame at the usual MTU, headers included (as the data plane counts bytes).
constexpr double full_frame_bytes = 1514;
// ACK bytes sent per byte received, at most (one 66-byte ACK per two full frames is 2.3 %).
constexpr double ack_share = 1.0 / 20;

}  // namespace

std::string_view to_string(Feature f) { return feature_names[size_t(f)]; }
std::string_view to_string(Window w) {
    static constexpr std::string_view names[window_count] = {"10s", "60s", "10m", "1h"};
    return names[size_t(w)];
}

void Counters::add(const Sample& t) {
    double tick_ms = t.seconds > 0 ? t.seconds * 1000.0 : 0.0;
    ms += tick_ms;
    bytes_up += double(t.bytes_up);
    frames_up += double(t.frames_up);
    bytes_down += double(t.bytes_down);
    frames_down += double(t.frames_down);
    bytes_lateral += double(t.bytes_lateral);
    frames_lateral += double(t.frames_lateral);
    new_flows += double(t.new_flows);
    active_flow_ms += double(t.active_flows) * tick_ms;
    syn_sent += double(t.syn_sent);
    synack_received += double(t.synack_received);
    dns_queries += double(t.dns_queries);
    blocklist_hits += double(t.blocklist_hits);
    contacts_dropped += double(t.contacts_dropped);
}

double Windows::new_destination_upload_60s(int64_t now_ms) const {
    double sum = current_.new_destination_upload;
    for (size_t i = 0; i < closed_.size(); ++i)
        if (closed_end_ms_[i] > now_ms - window_ms(Window::s60) + block_ms)
            sum += closed_[i].new_destination_upload;
    return sum;
}

bool Counters::only_time() const {
    return bytes_up == 0 && frames_up == 0 && bytes_down == 0 && frames_down == 0 &&
           bytes_lateral == 0 && frames_lateral == 0 && new_flows == 0 && syn_sent == 0 &&
           synack_received == 0 && dns_queries == 0 && blocklist_hits == 0 &&
           contacts_dropped == 0 && new_destination_upload == 0;
}

void Counters::add(const Counters& o, double share) {
    ms += o.ms * share;
    bytes_up += o.bytes_up * share;
    frames_up += o.frames_up * share;
    bytes_down += o.bytes_down * share;
    frames_down += o.frames_down * share;
    bytes_lateral += o.bytes_lateral * share;
    frames_lateral += o.frames_lateral * share;
    new_flows += o.new_flows * share;
    active_flow_ms += o.active_flow_ms * share;
    syn_sent += o.syn_sent * share;
    synack_received += o.synack_received * share;
    dns_queries += o.dns_queries * share;
    blocklist_hits += o.blocklist_hits * share;
    contacts_dropped += o.contacts_dropped * share;
    new_destination_upload += o.new_destination_upload * share;
}

bool Windows::add_tick(const Sample& tick) {
    // Block ends are phase + k * 10 s; the first is the first at or after the first
    // tick's end, the next the first after the closing tick's end.
    auto end_after = [&](int64_t t, bool inclusive) {
        int64_t k = (t - phase_ms_ - (inclusive ? 1 : 0)) / block_ms + 1;
        return phase_ms_ + k * block_ms;
    };
    if (block_end_ms_ == 0) block_end_ms_ = end_after(tick.time_ms, true);
    current_.add(tick);
    if (tick.time_ms < block_end_ms_) return false;
    newest_closed_ = (newest_closed_ + 1) % closed_.size();
    closed_[newest_closed_] = current_;
    closed_end_ms_[newest_closed_] = tick.time_ms;
    current_ = {};
    block_end_ms_ = end_after(tick.time_ms, false);
    return true;
}

bool Windows::quiet() const {
    return log_.size() == head_ && current_.only_time() && closed_[newest_closed_].only_time();
}

void Windows::log(const LoggedContact& contact) {
    if (log_.size() - head_ >= max_logged) drop_front(1);
    log_.push_back(contact);
    if (contact.flags & LoggedContact::new_destination) ++new_in_log_;
}

void Windows::drop_front(size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (log_[head_ + i].flags & LoggedContact::new_destination) --new_in_log_;
    head_ += n;
    // Compact once the dead front is at least half: amortised O(1) per connection.
    if (head_ * 2 >= log_.size()) {
        log_.erase(log_.begin(), log_.begin() + ptrdiff_t(head_));
        head_ = 0;
        if (log_.capacity() > 64 && log_.size() * 4 < log_.capacity()) log_.shrink_to_fit();
    }
}

void Windows::expire(int64_t now_ms) {
    size_t n = 0;
    int64_t oldest = now_ms - window_ms(Window::s60);
    while (head_ + n < log_.size() && log_[head_ + n].time_ms <= oldest) ++n;
    if (n) drop_front(n);
}

std::span<const LoggedContact> Windows::since(int64_t from_ms) const {
    auto begin = log_.begin() + ptrdiff_t(head_);
    auto first = std::upper_bound(begin, log_.end(), from_ms,
                                  [](int64_t t, const LoggedContact& c) { return t < c.time_ms; });
    return {first, log_.end()};
}

size_t Windows::heap_bytes() const { return allocation_bytes(log_.capacity() * sizeof(LoggedContact)); }

void Windows::counter_features(const Counters& c, Window w, FeatureVector& out) {
    // Rates over at least the window's length: a device's first seconds are not blown up
    // into a rate, and a tick longer than the window gives its own average.
    double covered_ms = std::max(c.ms, double(window_ms(w)));
    double seconds = covered_ms / 1000.0;
    double per_window = double(window_ms(w)) / covered_ms;
    out[Feature::bytes_up] = c.bytes_up / seconds;
    out[Feature::frames_up] = c.frames_up / seconds;
    out[Feature::bytes_down] = c.bytes_down / seconds;
    out[Feature::frames_down] = c.frames_down / seconds;
    // Frames sent beyond those received and beyond what the bytes sent need in full-size
    // frames: an upload's data frames are full and answered by ACKs, a download's ACKs are
    // answered by data, a flood of small frames is neither.
    double sent_frames = c.frames_up + c.frames_lateral;
    double full_frames = (c.bytes_up + c.bytes_lateral) / full_frame_bytes;
    out[Feature::excess_frames] =
        std::max(0.0, sent_frames - c.frames_down - full_frames) / seconds;
    out[Feature::upload_ratio] =
        std::min(1000.0, c.bytes_up / std::max(c.bytes_down, 1024.0 * seconds));
    // A fast download makes the device send ACKs: a few percent of what it receives
    // (1 MB/s of them at 40 MB/s down). Upload beyond that is data the device sends.
    out[Feature::upload] = std::max(0.0, c.bytes_up - c.bytes_down * ack_share) / seconds;
    out[Feature::new_flows] = c.new_flows * per_window;
    out[Feature::active_flows] = c.ms > 0 ? c.active_flow_ms / c.ms : 0.0;
    out[Feature::unanswered_syns] = std::max(0.0, c.syn_sent - c.synack_received) * per_window;
    out[Feature::dns_queries] = c.dns_queries * per_window;
    out[Feature::blocklist_hits] = c.blocklist_hits * per_window;
    out[Feature::new_destination_upload] = c.new_destination_upload * per_window;
}

void Windows::contact_features(std::span<const LoggedContact> contacts,
                               std::span<const uint16_t> remote_access_ports,
                               WindowFeatures& out) {
    // Sorting small arrays of packed keys is the cheapest exact distinct count here: a
    // window holds a handful of connections for most devices.
    thread_local std::vector<uint64_t> by_host, by_port;
    by_host.clear();
    by_port.clear();
    uint64_t new_destinations = 0;
    for (const auto& c : contacts) {
        by_host.push_back(uint64_t(c.fingerprint) << 17 | uint64_t(c.port) << 1 |
                          (c.flags & LoggedContact::lateral ? 1 : 0));
        by_port.push_back(uint64_t(c.port) << 32 | c.fingerprint);
        if (c.flags & LoggedContact::new_destination) ++new_destinations;
    }
    std::sort(by_host.begin(), by_host.end());
    std::sort(by_port.begin(), by_port.end());

    double hosts = 0, lan_peers = 0, most_ports = 0;
    uint32_t busiest_fp = 0;
    for (size_t i = 0; i < by_host.size();) {
        uint64_t fp = by_host[i] >> 17;
        double ports = 0;
        bool lateral = false;
        uint64_t last_port = ~uint64_t(0);
        for (; i < by_host.size() && (by_host[i] >> 17) == fp; ++i) {
            uint64_t port = (by_host[i] >> 1) & 0xffff;
            lateral |= by_host[i] & 1;
            if (port != last_port && port != 0) ++ports;
            last_port = port;
        }
        ++hosts;
        if (lateral) ++lan_peers;
        if (ports > most_ports) {
            most_ports = ports;
            busiest_fp = uint32_t(fp);
        }
    }

    thread_local std::vector<uint32_t> remote_hosts;
    remote_hosts.clear();
    double ports = 0, most_hosts = 0;
    uint16_t busiest_port = 0;
    for (size_t i = 0; i < by_port.size();) {
        uint64_t port = by_port[i] >> 32;
        bool remote_access = std::find(remote_access_ports.begin(), remote_access_ports.end(),
                                       port) != remote_access_ports.end();
        double hosts_on_port = 0;
        uint64_t last_fp = ~uint64_t(0);
        for (; i < by_port.size() && (by_port[i] >> 32) == port; ++i) {
            uint64_t fp = by_port[i] & 0xffffffff;
            if (fp != last_fp) {
                ++hosts_on_port;
                if (remote_access) remote_hosts.push_back(uint32_t(fp));
            }
            last_fp = fp;
        }
        if (port == 0) continue;  // ICMP and other protocols without ports
        ++ports;
        if (hosts_on_port > most_hosts) {
            most_hosts = hosts_on_port;
            busiest_port = uint16_t(port);
        }
    }
    std::sort(remote_hosts.begin(), remote_hosts.end());
    double remote_access = double(std::unique(remote_hosts.begin(), remote_hosts.end()) -
                                  remote_hosts.begin());

    auto& v = out.values;
    v[Feature::destinations] = hosts;
    v[Feature::ports] = ports;
    v[Feature::lan_peers] = lan_peers;
    v[Feature::new_destinations] = double(new_destinations);
    v[Feature::new_destination_share] =
        contacts.empty() ? 0.0 : double(new_destinations) / double(contacts.size());
    v[Feature::ports_per_host] = most_ports;
    v[Feature::hosts_per_port] = most_hosts;
    v[Feature::remote_access_hosts] = remote_access;
    out.busiest_port = busiest_port;
    out.busiest_host = {};
    for (const auto& c : contacts)
        if (c.fingerprint == busiest_fp && most_ports > 0) {
            out.busiest_host = c.peer;
            break;
        }
    out.connections = contacts.size();
}

void Windows::last_10s(int64_t now_ms, std::span<const uint16_t> remote_access_ports,
                       WindowFeatures& out) const {
    Counters c = current_;
    double missing = double(window_ms(Window::s10)) - c.ms;
    const Counters& previous = closed_[newest_closed_];
    // A device without samples for a while has no recent block to borrow from.
    bool recent = closed_end_ms_[newest_closed_] > now_ms - window_ms(Window::s10) - 1'000;
    if (missing > 0 && previous.ms > 0 && recent)
        c.add(previous, std::min(1.0, missing / previous.ms));
    counter_features(c, Window::s10, out.values);
    out.truncated = c.contacts_dropped > 0;
    contact_features(since(now_ms - window_ms(Window::s10)), remote_access_ports, out);
}

void Windows::last_60s(int64_t now_ms, std::span<const uint16_t> remote_access_ports,
                       WindowFeatures& out) const {
    Counters c;
    for (size_t i = 0; i < closed_.size(); ++i)
        if (closed_end_ms_[i] > now_ms - window_ms(Window::s60)) c.add(closed_[i]);
    counter_features(c, Window::s60, out.values);
    out.truncated = c.contacts_dropped > 0;
    contact_features(since(now_ms - window_ms(Window::s60)), remote_access_ports, out);
}

}  // namespace warden::engine
