#include "web/today.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "store/files.h"

namespace warden::web {

using nlohmann::json;

int64_t local_midnight_ms(int64_t unix_ms) {
    std::time_t t = unix_ms / 1000;
    std::tm tm{};
    localtime_r(&t, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;  // let mktime find whether midnight was in summer time
    return int64_t(std::mktime(&tm)) * 1000;
}

TodayCounters::TodayCounters(std::filesystem::path file, int64_t now_ms)
    : file_(std::move(file)), midnight_ms_(local_midnight_ms(now_ms)) {
    std::error_code ec;
    if (!std::filesystem::exists(file_, ec)) return;
    try {
        json j = json::parse(store::read_file(file_));
        if (j.at("midnight_ms").get<int64_t>() != midnight_ms_) return;  // another day's
        for (const auto& [mac_text, d] : j.at("devices").items()) {
            auto mac = net::Mac::parse(mac_text);
            if (!mac) throw std::invalid_argument("not a MAC: " + mac_text);
            Device dev;
            dev.base = d.at("base").get<Bytes>();
            dev.carried = d.at("carried").get<Bytes>();
            dev.last = d.at("last").get<Bytes>();
            devices_[*mac] = dev;
        }
    } catch (const std::exception& e) {
        devices_.clear();
        problem_ = file_.string() + ": " + e.what() + "; today's traffic counts from now";
    }
}

std::map<net::Mac, TodayTraffic> TodayCounters::update(
    const std::map<net::Mac, dataplane::DeviceCounters>& counters, const std::map<net::Mac, int64_t>& first_seen_ms,
    int64_t now_ms) {
    int64_t midnight = local_midnight_ms(now_ms);
    if (midnight != midnight_ms_) {  // a new day: everything counted so far was yesterday's
        midnight_ms_ = midnight;
        std::map<net::Mac, Device> fresh;
        for (const auto& [mac, c] : counters) {
            Bytes now{c.up.bytes, c.down.bytes, c.lateral.bytes};
            fresh[mac] = Device{now, {}, now};
        }
        devices_ = std::move(fresh);
    }
    std::map<net::Mac, TodayTraffic> out;
    for (const auto& [mac, c] : counters) {
        Bytes now{c.up.bytes, c.down.bytes, c.lateral.bytes};
        auto [it, added] = devices_.try_emplace(mac);
        Device& d = it->second;
        if (added) {
            // A device that appeared today: all of its counts are today's.
            auto seen = first_seen_ms.find(mac);
            bool new_today = seen != first_seen_ms.end() && seen->second >= midnight_ms_;
            d.base = new_today ? Bytes{} : now;
            d.last = now;
        }
        TodayTraffic t;
        uint64_t* fields[3] = {&t.up, &t.down, &t.lateral};
        for (size_t i = 0; i < 3; ++i) {
            if (now[i] < d.last[i]) {  // the counters started again (maps made afresh)
                d.carried[i] += d.last[i] >= d.base[i] ? d.last[i] - d.base[i] : 0;
                d.base[i] = 0;
            }
            d.last[i] = now[i];
            *fields[i] = d.carried[i] + (now[i] >= d.base[i] ? now[i] - d.base[i] : 0);
        }
        out[mac] = t;
    }
    return out;
}

void TodayCounters::save() const {
    json devices = json::object();
    for (const auto& [mac, d] : devices_)
        devices[mac.str()] = {{"base", d.base}, {"carried", d.carried}, {"last", d.last}};
    json j{{"midnight_ms", midnight_ms_}, {"devices", devices}};
    store::write_atomically(file_, j.dump(), /*durable=*/false);
}

}  // namespace warden::web
