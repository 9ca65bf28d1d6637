#include "engine/horizons.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace warden::engine {

namespace {

// ACK bytes sent per byte received, at most (as the upload feature counts them).
constexpr double ack_share = 1.0 / 20;

size_t index_of(Window w) { return w == Window::m10 ? 0 : 1; }

}  // namespace

uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// ---- DistinctCount ----

bool DistinctCount::add(uint64_t hash) {
    // The low 6 bits pick the register; the rest give the rank (position of the first 1).
    size_t at = hash & (registers - 1);
    uint64_t rest = hash >> 6;
    uint8_t rank = uint8_t(rest ? std::countr_zero(rest) + 1 : 59);
    if (rank <= rank_[at]) return false;
    rank_[at] = rank;
    return true;
}

void DistinctCount::merge(const DistinctCount& other) {
    for (size_t i = 0; i < registers; ++i) rank_[i] = std::max(rank_[i], other.rank_[i]);
}

bool DistinctCount::empty() const {
    return std::all_of(rank_.begin(), rank_.end(), [](uint8_t r) { return r == 0; });
}

double DistinctCount::estimate() const {
    constexpr double m = double(registers);
    constexpr double alpha = 0.709;  // the bias correction for 64 registers
    double sum = 0;
    size_t zeros = 0;
    static const auto inverse_powers = [] {
        std::array<double, 64> p{};
        for (size_t r = 0; r < p.size(); ++r) p[r] = 1.0 / double(uint64_t(1) << r);
        return p;
    }();
    for (uint8_t r : rank_) {
        sum += inverse_powers[r & 63];
        zeros += r == 0;
    }
    double raw = alpha * m * m / sum;
    // Small counts: linear counting of the empty registers is far more accurate.
    if (raw <= 2.5 * m && zeros > 0) return m * std::log(m / double(zeros));
    return raw;
}

// ---- Horizons ----

void Horizons::Half::note_port(const LoggedContact& c) {
    HostPorts* slot = nullptr;
    for (auto& h : hosts)
        if (h.fingerprint == c.fingerprint) slot = &h;
    if (!slot) {
        // A free slot, else the host with the fewest ports (a scan's target, with many, stays).
        slot = &*std::min_element(hosts.begin(), hosts.end(), [](const HostPorts& a, const HostPorts& b) {
            if ((a.fingerprint == 0) != (b.fingerprint == 0)) return a.fingerprint == 0;
            return a.raised < b.raised;
        });
        *slot = HostPorts{c.fingerprint, c.peer, 0, {}};
    }
    if (slot->ports.add(mix64(uint64_t(c.fingerprint) << 16 | c.port))) ++slot->raised;
}

void Horizons::advance(int64_t now_ms) {
    for (auto& h : horizons_) {
        Half& open = h.halves[0];
        if (open.start_ms == 0) {
            open.start_ms = now_ms;
            continue;
        }
        if (now_ms - open.start_ms < h.half_ms) continue;
        if (now_ms - open.start_ms >= 2 * h.half_ms) {
            h.halves[1].clear(0);  // silent for a whole horizon: nothing is left
        } else {
            h.halves[1] = open;
        }
        open.clear(now_ms);
    }
    for (auto& e : ledger_)
        if (e.fingerprint != 0 && now_ms - e.first_ms >= new_for_ms) e = NewPeer{};
}

void Horizons::contact(const LoggedContact& c, std::span<const uint16_t> remote_access_ports,
                       bool fresh, bool own) {
    bool remote_access = c.port != 0 && std::find(remote_access_ports.begin(),
                                                  remote_access_ports.end(),
                                                  c.port) != remote_access_ports.end();
    for (auto& h : horizons_) {
        Half& open = h.halves[0];
        if (c.port != 0) open.note_port(c);
        if (remote_access) open.remote_access.add(mix64(c.fingerprint));
    }
    if (fresh && !own && !(c.flags & LoggedContact::lateral)) ledger_add(c.peer, c.fingerprint, c.time_ms);
}

void Horizons::attempts(double unanswered, int64_t) {
    if (unanswered == 0) return;
    for (auto& h : horizons_) h.halves[0].unanswered += unanswered;
}

Horizons::NewPeer* Horizons::ledger_entry(uint32_t fingerprint) {
    for (auto& e : ledger_)
        if (e.fingerprint == fingerprint) return &e;
    return nullptr;
}

void Horizons::ledger_add(const net::IpAddr& peer, uint32_t fingerprint, int64_t now_ms) {
    if (ledger_entry(fingerprint)) return;
    // A free slot, else the one that took the least (an exfiltration's destination stays).
    auto slot = std::min_element(ledger_.begin(), ledger_.end(), [](const NewPeer& a, const NewPeer& b) {
        if ((a.fingerprint == 0) != (b.fingerprint == 0)) return a.fingerprint == 0;
        return a.bytes != b.bytes ? a.bytes < b.bytes : a.first_ms < b.first_ms;
    });
    *slot = NewPeer{fingerprint, peer, now_ms, 0};
}

double Horizons::bytes_with(const net::IpAddr& peer, uint32_t fingerprint, double up, double down,
                          bool unknown, bool own, int64_t now_ms) {
    double sent = std::max(0.0, up - down * ack_share);
    NewPeer* e = ledger_entry(fingerprint);
    if (!e) {
        // Not seen opening: new if the device's history does not hold it either.
        if (!unknown || own || sent <= 0) return 0;
        ledger_add(peer, fingerprint, now_ms);
        e = ledger_entry(fingerprint);
    }
    if (sent <= 0) return 0;
    e->bytes += sent;
    for (auto& h : horizons_) h.halves[0].new_upload += sent;
    return sent;
}

void Horizons::features(Window w, HorizonFeatures& out) const {
    const Horizon& h = horizons_[index_of(w)];
    out.values = {};
    out.busiest_host = {};
    // Ports per host: the same host's sketches of both halves merge.
    double most = 0;
    for (size_t half = 0; half < 2; ++half)
        for (const auto& slot : h.halves[half].hosts) {
            if (slot.fingerprint == 0) continue;
            DistinctCount ports = slot.ports;
            if (half == 0)
                for (const auto& older : h.halves[1].hosts)
                    if (older.fingerprint == slot.fingerprint) ports.merge(older.ports);
            double n = ports.estimate();
            if (n > most) {
                most = n;
                out.busiest_host = slot.peer;
            }
        }
    DistinctCount remote = h.halves[0].remote_access;
    remote.merge(h.halves[1].remote_access);
    out.values[Feature::ports_per_host] = std::round(most);
    out.values[Feature::remote_access_hosts] = std::round(remote.estimate());
    out.values[Feature::unanswered_syns] =
        std::max(0.0, h.halves[0].unanswered + h.halves[1].unanswered);
    out.values[Feature::new_destination_upload] = h.halves[0].new_upload + h.halves[1].new_upload;
    out.top_new_bytes = 0;
    out.top_new_peer = {};
    for (const auto& e : ledger_)
        if (e.fingerprint != 0 && e.bytes > out.top_new_bytes) {
            out.top_new_bytes = e.bytes;
            out.top_new_peer = e.peer;
        }
}

void Horizons::forget_evidence() {
    for (auto& h : horizons_)
        for (auto& half : h.halves) half.clear(half.start_ms);
}

bool Horizons::empty() const {
    for (const auto& h : horizons_)
        for (const auto& half : h.halves)
            if (half.unanswered != 0 || half.new_upload != 0 || !half.remote_access.empty() ||
                std::any_of(half.hosts.begin(), half.hosts.end(),
                            [](const HostPorts& s) { return s.fingerprint != 0; }))
                return false;
    return true;
}

}  // namespace warden::engine
