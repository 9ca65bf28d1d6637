#include "engine/beacon.h"

#include <algorithm>
#include <cmath>

#include "engine/known_set.h"

namespace warden::engine {

namespace {

// Timestamps come from the data plane's flow records; half a second absorbs their rounding.
constexpr double timing_slack_ms = 500;

}  // namespace

std::optional<BeaconMatch> BeaconTracker::observe(const LoggedContact& contact, bool fresh,
                                                  bool eligible, const Beaconing& settings) {
    auto it = std::find_if(candidates_.begin(), candidates_.end(), [&](const Candidate& c) {
        return c.fingerprint == contact.fingerprint && c.peer == contact.peer;
    });
    if (it == candidates_.end()) {
        if (contact.flags & LoggedContact::lateral) return std::nullopt;
        if (fresh) {
            // A new address: note its first connection, the oldest note making room.
            if (!eligible) return std::nullopt;
            FirstSeen note{contact.fingerprint, contact.time_ms};
            if (first_seen_.size() < max_first_seen) {
                first_seen_.push_back(note);
            } else {
                first_seen_[first_seen_next_] = note;
                first_seen_next_ = (first_seen_next_ + 1) % max_first_seen;
            }
            return std::nullopt;
        }
        // A known address: a candidate if it was new not long ago and this is a return.
        auto note = std::find_if(first_seen_.begin(), first_seen_.end(), [&](const FirstSeen& n) {
            return n.fingerprint == contact.fingerprint;
        });
        if (note == first_seen_.end()) return std::nullopt;
        int64_t since = contact.time_ms - note->time_ms;
        if (since < same_burst_ms) return std::nullopt;
        if (since > settings.max_interval.count()) {
            note->fingerprint = 0;  // too long ago for a beacon to have started there
            return std::nullopt;
        }
        if (candidates_.size() >= max_candidates) {
            // The candidate with the fewest returns makes room (of those, the one silent for
            // longest): a beacon building up its intervals outlasts a busy laptop's many
            // hosts that came back once.
            candidates_.erase(std::min_element(
                candidates_.begin(), candidates_.end(), [](const Candidate& a, const Candidate& b) {
                    if (a.stored != b.stored) return a.stored < b.stored;
                    return a.times[a.stored - 1] < b.times[b.stored - 1];
                }));
        }
        Candidate c;
        c.peer = contact.peer;
        c.fingerprint = contact.fingerprint;
        c.port = contact.port;
        c.times[0] = note->time_ms;
        c.stored = 1;
        note->fingerprint = 0;
        candidates_.push_back(c);
        it = candidates_.end() - 1;
    }

    Candidate& c = *it;
    if (contact.time_ms - c.times[c.stored - 1] < same_burst_ms) return std::nullopt;
    if (c.stored == max_times) {
        std::rotate(c.times.begin(), c.times.begin() + 1, c.times.end());
        c.times[max_times - 1] = contact.time_ms;
    } else {
        c.times[c.stored++] = contact.time_ms;
    }
    c.port = contact.port;

    size_t repeats = std::min<size_t>(settings.repeats, max_times - 1);
    if (repeats == 0 || c.stored < repeats + 1) return std::nullopt;
    // The last `repeats` intervals: equal within the jitter, and within the interval range.
    size_t first = c.stored - 1 - repeats;
    double mean = double(c.times[c.stored - 1] - c.times[first]) / double(repeats);
    if (mean < double(settings.min_interval.count()) ||
        mean > double(settings.max_interval.count()))
        return std::nullopt;
    double worst = 0;
    for (size_t i = first + 1; i < c.stored; ++i)
        worst = std::max(worst, std::abs(double(c.times[i] - c.times[i - 1]) - mean));
    if (worst > settings.jitter * mean + timing_slack_ms) return std::nullopt;
    return BeaconMatch{c.peer, c.port, uint32_t(repeats), mean / 1000.0, worst / mean};
}

void BeaconTracker::expire(int64_t now_ms, const Beaconing& settings) {
    int64_t horizon = now_ms - 2 * settings.max_interval.count();
    std::erase_if(candidates_,
                  [&](const Candidate& c) { return c.times[c.stored - 1] < horizon; });
    if (candidates_.empty()) candidates_.shrink_to_fit();
    // Notes older than the longest interval cannot start a beacon any more; once all are,
    // the ring's memory goes back.
    if (!first_seen_.empty() &&
        std::all_of(first_seen_.begin(), first_seen_.end(), [&](const FirstSeen& n) {
            return n.fingerprint == 0 || n.time_ms < now_ms - settings.max_interval.count();
        })) {
        first_seen_.clear();
        first_seen_.shrink_to_fit();
        first_seen_next_ = 0;
    }
}

void BeaconTracker::forget(const net::IpAddr& peer) {
    std::erase_if(candidates_, [&](const Candidate& c) { return c.peer == peer; });
    uint32_t fp = fingerprint(peer);
    for (auto& n : first_seen_)
        if (n.fingerprint == fp) n.fingerprint = 0;
}

}  // namespace warden::engine
