#include "simulate.h"

#include <netinet/in.h>

#include <algorithm>
#include <cmath>

namespace warden::replay {

using engine::Sample;

namespace {

// As the controller's sampler: at most this many new connections listed per device a tick.
constexpr size_t max_contacts = 512;
constexpr double mtu_payload = 1400;  // bytes of data a full frame carries
constexpr double ack_bytes = 66;

// The shared pool of popular internet sites (laptops and phones); each device's own cloud
// hosts come after. Attack targets are drawn from 100,000 up.
constexpr uint32_t popular_base = 1'000, popular_size = 3'000;
constexpr uint32_t own_hosts_base = 10'000;

// A host numbering that keeps addresses unique across devices.
uint32_t own_host(uint32_t base, uint32_t n) { return base + n; }

int hour_of(int64_t t) { return int((t / hour_ms) % 24); }
int day_of(int64_t t) { return int((t - week_start_ms) / day_ms); }
bool weekend(int64_t t) { return ((t - week_start_ms) / day_ms) % 7 >= 5; }

void add_contact(Sample& s, const engine::Contact& c) {
    if (s.contacts.size() < max_contacts)
        s.contacts.push_back(c);
    else
        ++s.contacts_dropped;
}

// Bytes sent one way at the application level, as frames: full data frames, and the ACKs
// the other side sends back (one per two data frames).
struct Frames {
    double data_frames, data_bytes, ack_frames, ack_bytes;
};
Frames frames_for(double bytes) {
    double frames = std::ceil(bytes / mtu_payload);
    double acks = std::ceil(frames / 2);
    return {frames, bytes + frames * 54, acks, acks * ack_bytes};
}

}  // namespace

std::string_view to_string(Kind k) {
    static constexpr std::string_view names[] = {"camera", "speaker", "tv",
                                                  "plug",   "laptop",  "phone"};
    return names[size_t(k)];
}

net::IpAddr internet_address(uint32_t n) {
    n %= 130'000;
    return net::IpAddr::from_v4(htonl((198u << 24 | 18u << 16) + n));
}

net::IpAddr lan_address(uint8_t host) {
    return net::IpAddr::from_v4(htonl(198u << 24 | 19u << 16 | 255u << 8 | host));
}

// ---- devices ----

DeviceSim::DeviceSim(Kind kind, int index, uint64_t seed, Calendar calendar, uint8_t home)
    : kind_(kind),
      index_(index),
      rng_(seed ^ (uint64_t(kind) << 40) ^ (uint64_t(index) << 48) ^ 0x5eedull),
      calendar_(calendar),
      lan_host_(uint8_t(10 + int(kind) * 4 + index)),
      host_base_(own_hosts_base + (uint32_t(kind) * 8 + uint32_t(index)) * 200) {
    // Locally administered unicast MACs that say which device they are.
    mac_.bytes = {0x02, 0x57, home, uint8_t(kind), uint8_t(index >> 8), uint8_t(index)};
    auto soon = [&](double max_s) { return week_start_ms + int64_t(uniform(0.5, max_s) * 1000); };
    switch (kind_) {
        case Kind::camera:
            schedule(Event::reconnect, soon(5));
            schedule(Event::heartbeat, soon(30));
            schedule(Event::ntp, soon(600));
            schedule(Event::motion, soon(900));
            persistent_flows_ = 1;
            break;
        case Kind::speaker:
            schedule(Event::music, soon(3600));
            schedule(Event::voice, soon(3600));
            schedule(Event::ntp, soon(600));
            persistent_flows_ = 1;
            break;
        case Kind::tv:
            schedule(Event::stream, soon(600));
            schedule(Event::telemetry, soon(300));
            schedule(Event::ntp, soon(600));
            persistent_flows_ = 1;
            break;
        case Kind::plug:
            schedule(Event::beacon, soon(60));
            schedule(Event::ntp, soon(600));
            break;
        case Kind::laptop:
            for (Event e : {Event::page, Event::call, Event::download, Event::sync_upload,
                            Event::ssh, Event::printer, Event::nas_backup, Event::refresh})
                schedule(e, soon(1800));
            persistent_flows_ = 2;
            break;
        case Kind::phone:
            for (Event e : {Event::app_session, Event::refresh, Event::photo_backup, Event::cast,
                            Event::stream, Event::call})
                schedule(e, soon(1800));
            persistent_flows_ = 2;
            break;
    }
    if (kind_ == Kind::laptop)
        schedule(Event::game, week_start_ms + calendar_.heavy_day * day_ms + 14 * hour_ms +
                                  int64_t(uniform(0, 30 * 60) * 1000));
    if (kind_ != Kind::laptop && kind_ != Kind::phone) {
        int64_t at = week_start_ms + calendar_.firmware_day * day_ms + 3 * hour_ms +
                     int64_t(uniform(0, 50 * 60) * 1000);
        schedule(Event::firmware, at);
    }
}

void DeviceSim::schedule(Event e, int64_t first_ms) { timers_.push_back({e, first_ms}); }

double DeviceSim::uniform(double a, double b) {
    return std::uniform_real_distribution<double>(a, b)(rng_);
}
double DeviceSim::exponential(double mean) {
    return std::exponential_distribution<double>(1.0 / mean)(rng_);
}
bool DeviceSim::chance(double p) { return uniform(0, 1) < p; }

bool DeviceSim::heavy(int64_t t) const { return day_of(t) == calendar_.heavy_day; }

double DeviceSim::activity(int64_t t) const {
    int h = hour_of(t);
    bool off = weekend(t);
    switch (kind_) {
        case Kind::camera:
        case Kind::plug: return 1.0;
        case Kind::speaker: return h >= 7 && h < 23 ? 1.0 : 0.1;
        case Kind::tv:
            if (h >= 19 && h < 23) return 1.0;
            return off && h >= 10 && h < 19 ? 0.5 : 0.05;
        case Kind::laptop:
            if (off) return h >= 10 && h < 22 ? 0.4 : 0.0;
            if (h >= 8 && h < 18) return 1.0;
            return h >= 20 && h < 23 ? 0.5 : 0.0;
        case Kind::phone:
            if (h >= 7 && h < 24) return h >= 12 && h < 14 ? 0.6 : 1.0;
            return 0.02;
    }
    return 0;
}

void DeviceSim::connect(Sample& s, int64_t t, const net::IpAddr& peer, uint16_t port,
                        uint8_t proto, bool lateral, uint32_t first_frame) {
    ++s.new_flows;
    bool tcp = proto == IPPROTO_TCP;
    if (tcp) {
        ++s.syn_sent;
        if (!chance(0.02)) ++s.synack_received;  // now and then a host does not answer
    }
    if (!lateral && chance(0.5)) ++s.dns_queries;  // the rest were cached
    if (lateral) {
        s.bytes_lateral += first_frame;
        ++s.frames_lateral;
    } else {
        s.bytes_up += first_frame;
        ++s.frames_up;
    }
    add_contact(s, {peer, port, proto, lateral, tcp, t, first_frame});
    last_peer_ = peer;
}

void DeviceSim::transfer(int64_t start, double seconds, double up_per_s, double down_per_s,
                         bool lateral, std::optional<net::IpAddr> peer) {
    transfers_.push_back({start, start + int64_t(seconds * 1000), up_per_s, down_per_s, lateral,
                          peer.value_or(last_peer_)});
}

net::IpAddr DeviceSim::popular_host() {
    // Zipf-like: the rank is exp(uniform(0, ln N)), so rank r comes up in proportion to 1/r.
    double r = std::exp(uniform(0, std::log(double(popular_size))));
    return internet_address(popular_base + uint32_t(r) - 1);
}

net::IpAddr DeviceSim::fresh_host() {
    // Distinct per device and call: never a host any device contacted before. IPv6 (in
    // fd00::/8), so there are plenty and the engine sees both families.
    net::IpAddr a;
    a.bytes[0] = 0xfd;
    a.bytes[7] = uint8_t(kind_);
    a.bytes[8] = uint8_t(index_);
    uint32_t n = ++fresh_counter_;
    for (int i = 0; i < 4; ++i) a.bytes[15 - i] = uint8_t(n >> (8 * i));
    return a;
}

int64_t DeviceSim::fire(Event e, int64_t t, Sample& s) {
    auto ms = [](double seconds) { return int64_t(seconds * 1000); };
    double act = activity(t);
    const uint8_t tcp = IPPROTO_TCP, udp = IPPROTO_UDP;
    auto own = [&](uint32_t n) { return internet_address(own_host(host_base_, n)); };
    switch (e) {
        case Event::reconnect: {  // camera: the video upload, re-established now and then
            double gap = uniform(15 * 60, 45 * 60);
            connect(s, t, own(0), 443, tcp);
            double rate = 180e3 * (0.8 + 0.4 * uniform(0, 1)) * (hour_of(t) >= 7 && hour_of(t) < 21 ? 1.2 : 0.9);
            transfer(t, gap, rate, 2e3);
            return t + ms(gap);
        }
        case Event::heartbeat:  // camera: a poll of its control host
            connect(s, t, own(1), 443, tcp);
            transfer(t, 0.5, 2e3, 4e3);
            return t + ms(uniform(29, 31));
        case Event::ntp:
            connect(s, t, own(10 + uint32_t(uniform(0, 4))), 123, udp, false, 90);
            return t + ms(uniform(3000, 4000));
        case Event::motion: {  // camera: a clip upload on top of the stream
            bool day = hour_of(t) >= 7 && hour_of(t) < 21;
            transfer(t, uniform(20, 60), uniform(300e3, 500e3), 3e3, false, own(0));
            return t + ms(exponential(day ? 15 * 60 : 60 * 60));
        }
        case Event::music:  // speaker: a listening session
            if (act >= 0.5 && chance(0.5)) {
                double minutes = uniform(20, 90);
                for (int i = 0; i < 2; ++i) connect(s, t, own(20 + uint32_t(uniform(0, 30))), 443, tcp);
                transfer(t, minutes * 60, 1e3, 40e3);
                return t + ms(minutes * 60 + exponential(3600));
            }
            return t + ms(exponential(2 * 3600));
        case Event::voice:  // speaker: a question and its answer
            if (act >= 0.5) {
                connect(s, t, own(2), 443, tcp);
                transfer(t, 3, 12e3, 30e3);
            }
            return t + ms(exponential(90 * 60));
        case Event::stream:
            if (kind_ == Kind::tv) {  // an evening of streaming
                if (act >= 0.5 && chance(act)) {
                    double minutes = uniform(30, 150);
                    // The app starts: a burst of connections to its services, all answered.
                    int n = int(uniform(8, 20));
                    for (int i = 0; i < n; ++i)
                        connect(s, t + ms(uniform(0, 3)), own(40 + uint32_t(uniform(0, 40))), 443, tcp);
                    for (int i = 0; i < 3; ++i)
                        connect(s, t + ms(uniform(0, 5)),
                                chance(0.1) ? fresh_host() : own(100 + uint32_t(uniform(0, 100))),
                                443, tcp);
                    transfer(t, minutes * 60, 10e3, uniform(0.6e6, 3e6));
                    return t + ms(minutes * 60 + uniform(600, 2400));
                }
                return t + ms(uniform(600, 2400));
            } else {  // phone: an evening of short videos
                if (hour_of(t) >= 19 && chance(0.3)) {
                    double minutes = uniform(5, 20);
                    for (int i = 0; i < 4; ++i) connect(s, t, popular_host(), 443, tcp);
                    transfer(t, minutes * 60, 20e3, 1e6);
                    return t + ms(minutes * 60 + exponential(3600));
                }
                return t + ms(exponential(3600));
            }
        case Event::telemetry:  // tv: reports to its makers
            for (uint32_t i = 0; i < 3; ++i) connect(s, t, own(3 + i), 443, tcp);
            transfer(t, 1, 5e3, 2e3);
            return t + ms(uniform(270, 330));
        case Event::beacon:  // plug: its own check-in with its cloud host
            connect(s, t, own(0), 8883, tcp, false, 74);
            transfer(t, 0.2, 1.5e3, 1e3);
            return t + ms(uniform(59.7, 60.3));
        case Event::page: {  // laptop: a web page and the hosts it pulls in
            if (act <= 0) return t + ms(600);
            double rate = heavy(t) ? 2.5 : 1.0;
            int n = int(uniform(5, 40));
            double fresh_share = heavy(t) ? 0.10 : 0.05;
            for (int i = 0; i < n; ++i)
                connect(s, t + ms(uniform(0, 2)), chance(fresh_share) ? fresh_host() : popular_host(),
                        chance(0.9) ? 443 : 80, tcp);
            double down = uniform(0.5e6, 5e6), seconds = uniform(3, 10);
            transfer(t, seconds, down * 0.05 / seconds, down / seconds);
            return t + ms(exponential(30 / (act * rate)));
        }
        case Event::call:  // a video call
            if (act >= 0.5 && (kind_ == Kind::laptop ? !weekend(t) : chance(0.2))) {
                double minutes = uniform(30, 60);
                for (int i = 0; i < 3; ++i)
                    connect(s, t, own(30 + uint32_t(uniform(0, 5))), i ? 443 : 3478, i ? tcp : udp);
                transfer(t, minutes * 60, uniform(150e3, 250e3), uniform(250e3, 400e3));
                return t + ms(minutes * 60 + exponential(heavy(t) ? 3600 : 3 * 3600));
            }
            return t + ms(exponential(3 * 3600));
        case Event::download:  // laptop: an update, a dataset, a game
            if (act >= 0.5) {
                double size = uniform(200e6, 2e9), rate = uniform(5e6, 25e6);
                connect(s, t, chance(0.5) ? fresh_host() : own(50 + uint32_t(uniform(0, 10))), 443, tcp);
                transfer(t, size / rate, 30e3, rate);
                return t + ms(exponential(heavy(t) ? 2 * 3600 : 6 * 3600));
            }
            return t + ms(exponential(3600));
        case Event::game:  // laptop, its heavy day: a 10 GB game at 40 MB/s
            connect(s, t, fresh_host(), 443, tcp);
            transfer(t, 10e9 / 40e6, 100e3, 40e6);
            return t + 7 * day_ms;
        case Event::sync_upload:  // laptop: files to its cloud drive
            if (act >= 0.5) {
                double size = uniform(1e6, 10e6);
                connect(s, t, own(60), 443, tcp);
                transfer(t, size / 300e3, 300e3, 10e3);
            }
            return t + ms(exponential(2 * 3600));
        case Event::ssh:  // laptop: a shell on one of three servers
            if (act >= 1 && chance(0.3)) {
                connect(s, t, own(70 + uint32_t(uniform(0, 3))), 22, tcp);
                transfer(t, uniform(600, 1800), 500, 2e3);
            }
            return t + ms(exponential(8 * 3600));
        case Event::printer:  // laptop: a print job to the LAN printer
            if (act >= 1) {
                connect(s, t, lan_address(200), 9100, tcp, true);
                transfer(t, 2, 1e6, 5e3, true);
            }
            return t + ms(exponential(2 * 24 * 3600.0));
        case Event::nas_backup: {  // laptop: the daily backup to the NAS on the LAN
            if (act >= 1 && hour_of(t) == 12) {
                connect(s, t, lan_address(201), 445, tcp, true);
                transfer(t, uniform(120, 300), 30e6, 100e3, true);
                return t + 20 * hour_ms;
            }
            return t + ms(uniform(600, 1200));
        }
        case Event::refresh:  // background sync with services it always uses
            if (act > 0.1) {
                uint32_t n = kind_ == Kind::phone ? 5 : 2;
                for (uint32_t i = 0; i < n; ++i) connect(s, t, own(80 + i), 443, tcp);
                transfer(t, 2, 5e3, 20e3);
            }
            return t + ms(kind_ == Kind::phone ? uniform(600, 1200) : uniform(180, 420));
        case Event::app_session: {  // phone: an app opened for a while
            if (act <= 0.05) return t + ms(1800);
            int n = int(uniform(3, 15));
            for (int i = 0; i < n; ++i)
                connect(s, t + ms(uniform(0, 3)), chance(0.03) ? fresh_host() : popular_host(), 443, tcp);
            double seconds = uniform(5, 30);
            transfer(t, seconds, 10e3, uniform(0.2e6, 3e6) / seconds);
            return t + ms(exponential(600 / act));
        }
        case Event::photo_backup:  // phone: the night's photo upload
            if (hour_of(t) == 2 && chance(0.5)) {
                double size = uniform(20e6, 200e6);
                connect(s, t, own(90), 443, tcp);
                transfer(t, size / 600e3, 600e3, 10e3);
                return t + 20 * hour_ms;
            }
            return t + ms(uniform(1800, 3600));
        case Event::cast:  // phone: casting to the TV on the LAN
            if (hour_of(t) >= 19 && hour_of(t) < 23 && chance(0.3)) {
                connect(s, t, lan_address(uint8_t(10 + int(Kind::tv) * 4)), 8009, tcp, true);
                transfer(t, uniform(60, 600), 2e3, 2e3, true);
            }
            return t + ms(uniform(1800, 3600));
        case Event::firmware: {  // an IoT device fetches and installs its new firmware
            double size = kind_ == Kind::plug ? 300e3 : uniform(30e6, 60e6);
            double rate = kind_ == Kind::plug ? 100e3 : 3e6;
            connect(s, t, fresh_host(), 443, tcp);
            transfer(t, size / rate, 5e3, rate);
            // After the reboot, it reconnects to everything at once.
            int64_t back = t + ms(size / rate + uniform(20, 60));
            for (uint32_t i = 0; i < 4; ++i) connect(s, back + ms(uniform(0, 5)), own(i), 443, tcp);
            return t + 7 * day_ms;
        }
    }
    return t + hour_ms;
}

Sample DeviceSim::tick(int64_t end_ms, double seconds) {
    Sample s;
    s.time_ms = end_ms;
    s.seconds = seconds;
    const int64_t start_ms = end_ms - int64_t(seconds * 1000);
    for (auto& timer : timers_)
        while (timer.next_ms <= end_ms) timer.next_ms = fire(timer.event, timer.next_ms, s);
    // Connections fired at a time after this tick (a page's stragglers) are shown now: the
    // data plane would report them in the next tick, a second at most later.
    for (auto& c : s.contacts) c.time_ms = std::clamp(c.time_ms, start_ms + 1, end_ms);

    for (const auto& tr : transfers_) {
        double overlap_ms = double(std::min(end_ms, tr.end_ms) - std::max(start_ms, tr.start_ms));
        if (overlap_ms <= 0) continue;
        double noise = uniform(0.85, 1.15), secs = overlap_ms / 1000.0;
        Frames up = frames_for(tr.up_per_s * secs * noise);
        Frames down = frames_for(tr.down_per_s * secs * noise);
        double sent_bytes = up.data_bytes + down.ack_bytes, sent_frames = up.data_frames + down.ack_frames;
        if (tr.lateral) {
            s.bytes_lateral += uint64_t(sent_bytes);
            s.frames_lateral += uint64_t(sent_frames);
        } else {
            s.bytes_up += uint64_t(sent_bytes);
            s.frames_up += uint64_t(sent_frames);
            s.peer_bytes.push_back(
                {tr.peer, uint64_t(sent_bytes), uint64_t(down.data_bytes + up.ack_bytes)});
        }
        s.bytes_down += uint64_t(down.data_bytes + up.ack_bytes);
        s.frames_down += uint64_t(down.data_frames + up.ack_frames);
        ++s.active_flows;
    }
    std::erase_if(transfers_, [&](const Transfer& tr) { return tr.end_ms <= end_ms; });
    if (activity(end_ms) > 0.05 || kind_ == Kind::camera || kind_ == Kind::plug) {
        // Keepalives of its long-lived connections.
        s.active_flows += uint64_t(persistent_flows_);
        s.bytes_up += uint64_t(persistent_flows_ * 10 * seconds);
        s.bytes_down += uint64_t(persistent_flows_ * 10 * seconds);
        s.frames_up += uint64_t(std::ceil(persistent_flows_ * seconds / 30));
        s.frames_down += uint64_t(std::ceil(persistent_flows_ * seconds / 30));
    }
    return s;
}

// ---- attacks ----

std::string_view to_string(AttackKind k) {
    static constexpr std::string_view names[] = {
        "vertical scan", "horizontal scan", "propagation", "flood",           "exfiltration",
        "lateral",       "beaconing",       "blocklist",   "new destinations",
        "slow vertical scan (1 port/s)", "slow telnet/SSH sweep (1 address/5 s)",
        "100 MB to a new host (2-3 MB/s)", "slow beacon (every 60 s)",
        "slower vertical scan (1 port/20 s)"};
    return names[size_t(k)];
}

engine::Detector expected_detector(AttackKind k) {
    using engine::Detector;
    switch (k) {
        case AttackKind::vertical_scan:
        case AttackKind::horizontal_scan: return Detector::port_scan;
        case AttackKind::propagation: return Detector::propagation;
        case AttackKind::flood: return Detector::flood;
        case AttackKind::exfiltration: return Detector::exfiltration;
        case AttackKind::lateral: return Detector::lateral;
        case AttackKind::beaconing: return Detector::beaconing;
        case AttackKind::blocklist: return Detector::blocklist;
        case AttackKind::new_destinations: return Detector::new_destinations;
        case AttackKind::slow_vertical_scan: return Detector::port_scan;
        case AttackKind::slow_sweep: return Detector::propagation;
        case AttackKind::upload_to_new: return Detector::upload_to_new;
        case AttackKind::slow_beacon: return Detector::beaconing;
        case AttackKind::slower_vertical_scan: return Detector::port_scan;
    }
    return Detector::port_scan;
}

int64_t detection_deadline_ms(AttackKind k) {
    switch (k) {
        case AttackKind::beaconing: return 5 * 60'000;
        case AttackKind::new_destinations: return 60'000;
        case AttackKind::slow_vertical_scan: return 2 * 60'000;
        case AttackKind::slow_sweep: return 5 * 60'000;
        case AttackKind::upload_to_new: return 2 * 60'000;
        case AttackKind::slow_beacon: return 10 * 60'000;
        // 100 ports (the hour's floor) take 33 minutes at this rate.
        case AttackKind::slower_vertical_scan: return 60 * 60'000;
        default: return 10'000;
    }
}

int64_t attack_duration_ms(AttackKind k) {
    switch (k) {
        case AttackKind::beaconing: return 10 * 60'000;
        case AttackKind::slow_vertical_scan:
        case AttackKind::slow_sweep: return 10 * 60'000;
        case AttackKind::slow_beacon: return 15 * 60'000;
        case AttackKind::slower_vertical_scan: return 70 * 60'000;
        default: return 120'000;  // upload_to_new: until its 100 MB are sent
    }
}

Attack::Attack(AttackKind kind, int64_t start_ms, uint64_t seed)
    : kind_(kind), start_ms_(start_ms), rng_(seed ^ 0xa77ac4ull ^ (uint64_t(kind) << 32)) {
    // Attack targets are addresses no simulated device ever uses.
    std::uniform_int_distribution<uint32_t> pick(100'000, 120'000);
    target_ = internet_address(pick(rng_));
    scan_port_ = std::uniform_int_distribution<int>(0, 1)(rng_) ? 80 : 8080;
    beacon_period_ms_ = std::uniform_real_distribution<double>(20'000, 60'000)(rng_);
    next_beacon_ms_ = start_ms_;
    if (kind == AttackKind::slow_beacon) beacon_period_ms_ = 60'000;
    if (kind == AttackKind::upload_to_new)
        upload_rate_ = std::uniform_real_distribution<double>(2e6, 3e6)(rng_);
}

void Attack::add(Sample& s, int64_t end_ms, double seconds) {
    const int64_t from = std::max(end_ms - int64_t(seconds * 1000), start_ms_);
    const int64_t to = std::min(end_ms, this->end_ms());
    if (from >= to) return;
    const double secs = double(to - from) / 1000.0;
    auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); };
    auto chance = [&](double p) { return uniform(0, 1) < p; };
    const uint8_t tcp = IPPROTO_TCP;
    auto attempt = [&](int64_t t, const net::IpAddr& peer, uint16_t port, bool lateral,
                       double answered) {
        ++s.new_flows;
        ++s.syn_sent;
        if (chance(answered)) ++s.synack_received;
        if (lateral) {
            s.bytes_lateral += 74;
            ++s.frames_lateral;
        } else {
            s.bytes_up += 74;
            ++s.frames_up;
        }
        ++s.frames_down;  // the RST or SYN+ACK that comes back
        s.bytes_down += 60;
        add_contact(s, {peer, port, tcp, lateral, true, t, 74});
    };
    // Events at a steady rate: number i happens at start + i / rate.
    auto each = [&](double per_second, auto&& event) {
        double gap = 1000.0 / per_second;
        for (;;) {
            int64_t t = start_ms_ + int64_t(next_index_ * gap);
            if (t >= to) break;
            if (t >= from) event(t, next_index_);
            ++next_index_;
        }
    };
    switch (kind_) {
        case AttackKind::vertical_scan:
            each(100, [&](int64_t t, uint32_t i) { attempt(t, target_, uint16_t(1 + i % 1024), false, 0.05); });
            break;
        case AttackKind::horizontal_scan:
            each(50, [&](int64_t t, uint32_t i) {
                attempt(t, internet_address(100'000 + i), scan_port_, false, 0.03);
            });
            break;
        case AttackKind::propagation:
            each(20, [&](int64_t t, uint32_t) {
                double r = uniform(0, 1);
                uint16_t port = r < 0.8 ? 23 : r < 0.9 ? 2323 : 22;
                attempt(t, internet_address(uint32_t(uniform(100'000, 129'000))), port, false, 0.05);
            });
            break;
        case AttackKind::flood: {
            // A SYN flood from random source ports: every frame is a new flow.
            double frames = 30'000 * secs;
            s.frames_up += uint64_t(frames);
            s.bytes_up += uint64_t(frames * 60);
            s.syn_sent += uint64_t(frames);
            s.new_flows += uint64_t(frames);
            // The data plane lists a bounded number of them; the rest are only counted.
            size_t listed = std::min<size_t>(size_t(frames), max_contacts);
            for (size_t i = 0; i < listed; ++i)
                add_contact(s, {target_, 80, tcp, false, true,
                                from + int64_t(double(i) / double(listed) * double(to - from)), 60});
            s.contacts_dropped += uint64_t(frames) - listed;
            break;
        }
        case AttackKind::exfiltration:
        case AttackKind::upload_to_new: {
            if (from == start_ms_) {
                ++s.new_flows;
                ++s.syn_sent;
                ++s.synack_received;
                add_contact(s, {target_, 443, tcp, false, true, from, 74});
            }
            double rate = kind_ == AttackKind::upload_to_new ? upload_rate_ : 8e6;
            double bytes = rate * secs;
            if (kind_ == AttackKind::upload_to_new) bytes = std::min(bytes, 100e6 - uploaded_);
            if (bytes <= 0) break;
            uploaded_ += bytes;
            Frames up = frames_for(bytes);
            s.bytes_up += uint64_t(up.data_bytes);
            s.frames_up += uint64_t(up.data_frames);
            s.bytes_down += uint64_t(up.ack_bytes);
            s.frames_down += uint64_t(up.ack_frames);
            s.peer_bytes.push_back({target_, uint64_t(up.data_bytes), uint64_t(up.ack_bytes)});
            ++s.active_flows;
            break;
        }
        case AttackKind::slow_vertical_scan:
        case AttackKind::slower_vertical_scan:
            // The ports in a scrambled order, as nmap tries them; closed ones answer RST.
            each(kind_ == AttackKind::slow_vertical_scan ? 1 : 0.05, [&](int64_t t, uint32_t i) {
                attempt(t, target_, uint16_t(1 + (i * 7919u) % 1024), false, 0.05);
            });
            break;
        case AttackKind::slow_sweep:
            each(0.2, [&](int64_t t, uint32_t) {
                double r = uniform(0, 1);
                uint16_t port = r < 0.8 ? 23 : r < 0.9 ? 2323 : 22;
                attempt(t, internet_address(uint32_t(uniform(100'000, 129'000))), port, false, 0.05);
            });
            break;
        case AttackKind::lateral:
            // The home's other devices (.10 to .33, the printer and the NAS), three a second,
            // on ports a worm tries.
            each(3, [&](int64_t t, uint32_t i) {
                static constexpr uint16_t ports[] = {22, 23, 80, 445};
                uint8_t host = i % 26 < 24 ? uint8_t(10 + i % 26) : uint8_t(200 + i % 26 - 24);
                attempt(t, lan_address(host), ports[(i / 26) % 4], true, 0.5);
            });
            break;
        case AttackKind::beaconing:
        case AttackKind::slow_beacon:
            while (next_beacon_ms_ < to) {
                if (next_beacon_ms_ >= from) {
                    ++s.new_flows;
                    ++s.syn_sent;
                    ++s.synack_received;
                    s.bytes_up += 600;
                    s.frames_up += 5;
                    s.bytes_down += 900;
                    s.frames_down += 5;
                    add_contact(s, {target_, 443, tcp, false, true, next_beacon_ms_, 74});
                }
                next_beacon_ms_ += int64_t(beacon_period_ms_ * uniform(0.98, 1.02));
            }
            break;
        case AttackKind::blocklist:
            each(1.0 / 3, [&](int64_t, uint32_t) {
                ++s.blocklist_hits;
                ++s.syn_sent;
            });
            break;
        case AttackKind::new_destinations:
            each(5, [&](int64_t t, uint32_t i) {
                ++s.new_flows;
                ++s.syn_sent;
                ++s.synack_received;
                s.bytes_up += 2'000;
                s.frames_up += 4;
                s.bytes_down += 6'000;
                s.frames_down += 6;
                add_contact(s, {internet_address(120'001 + i), 443, tcp, false, true, t, 74});
            });
            break;
    }
}

}  // namespace warden::replay
