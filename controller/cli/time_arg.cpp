#include "cli/time_arg.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "text/units.h"

namespace warden::cli {

namespace {

// Local midnight `days_back` days before the day of now_ms.
int64_t local_midnight(int64_t now_ms, int days_back) {
    std::time_t now = std::time_t(now_ms / 1000);
    std::tm day{};
    localtime_r(&now, &day);
    day.tm_mday -= days_back;  // mktime normalises across months and DST changes
    day.tm_hour = day.tm_min = day.tm_sec = 0;
    day.tm_isdst = -1;
    return int64_t(std::mktime(&day)) * 1000;
}

// "Z", "+01:00", "-0500", "+01" after a time: seconds east of UTC.
std::optional<long> parse_offset(const std::string& text) {
    if (text == "Z" || text == "z") return 0;
    if (text.size() < 3 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
    int hours = 0, minutes = 0;
    char extra = 0;
    std::string rest = text.substr(1);
    bool ok = std::sscanf(rest.c_str(), "%2d:%2d%c", &hours, &minutes, &extra) == 2 ||
              (rest.size() == 4 && std::sscanf(rest.c_str(), "%2d%2d%c", &hours, &minutes, &extra) == 2) ||
              (rest.size() == 2 && std::sscanf(rest.c_str(), "%2d%c", &hours, &extra) == 1);
    if (!ok || hours > 14 || minutes > 59) return std::nullopt;
    long seconds = hours * 3600L + minutes * 60L;
    return text[0] == '-' ? -seconds : seconds;
}

}  // namespace

std::optional<int64_t> parse_since(const std::string& text, int64_t now_ms, std::string* why) {
    if (text == "today") return local_midnight(now_ms, 0);
    if (text == "yesterday") return local_midnight(now_ms, 1);
    if (!text.empty() && text[0] >= '0' && text[0] <= '9' && text.find('-') == std::string::npos) {
        std::string duration_why;
        auto d = text::parse_duration(text, &duration_why);
        if (!d) {
            *why = duration_why + " (a duration such as 15m or 7d, today, yesterday, or a time such as 2026-12-07 14:30)";
            return std::nullopt;
        }
        return now_ms - d->count();
    }
    // An absolute time: the date, then optionally the time of day, then optionally an offset.
    std::tm t{};
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &t.tm_year, &t.tm_mon, &t.tm_mday, &consumed) != 3 ||
        consumed != 10) {
        *why = "expected a duration such as 15m or 7d, today, yesterday, or a time such as 2026-12-07 14:30";
        return std::nullopt;
    }
    std::string rest = text.substr(10);
    if (!rest.empty() && (rest[0] == ' ' || rest[0] == 'T' || rest[0] == 't')) {
        int hm = 0, hms = 0;
        std::string clock = rest.substr(1);
        if (std::sscanf(clock.c_str(), "%2d:%2d:%2d%n", &t.tm_hour, &t.tm_min, &t.tm_sec, &hms) == 3 && hms == 8)
            rest = clock.substr(8);
        else if (t.tm_sec = 0; std::sscanf(clock.c_str(), "%2d:%2d%n", &t.tm_hour, &t.tm_min, &hm) == 2 && hm == 5)
            rest = clock.substr(5);
        else {
            *why = "the time of day must be HH:MM or HH:MM:SS";
            return std::nullopt;
        }
    }
    if (t.tm_mon < 1 || t.tm_mon > 12 || t.tm_mday < 1 || t.tm_mday > 31 || t.tm_hour > 23 || t.tm_min > 59 ||
        t.tm_sec > 60) {
        *why = "no such date or time";
        return std::nullopt;
    }
    int mday = t.tm_mday, mon = t.tm_mon;
    t.tm_year -= 1900;
    t.tm_mon -= 1;
    std::optional<long> offset;
    if (!rest.empty()) {
        offset = parse_offset(rest);
        if (!offset) {
            *why = "\"" + rest + "\" after the time is not Z nor an offset such as +01:00";
            return std::nullopt;
        }
    }
    std::tm check = t;
    std::time_t seconds;
    if (offset) {
        seconds = timegm(&t) - *offset;
        check = t;
    } else {
        t.tm_isdst = -1;
        seconds = std::mktime(&t);
        check = t;
    }
    if (check.tm_mday != mday || check.tm_mon + 1 != mon) {  // 2026-02-30 rolled over to March
        *why = "no such date";
        return std::nullopt;
    }
    return int64_t(seconds) * 1000;
}

std::string format_time(int64_t unix_ms, bool utc) {
    std::time_t seconds = std::time_t(unix_ms / 1000);
    std::tm t{};
    if (utc)
        gmtime_r(&seconds, &t);
    else
        localtime_r(&seconds, &t);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &t);
    std::string out = buf;
    if (utc) return out + " UTC";
    long offset = t.tm_gmtoff;
    char zone[16];
    std::snprintf(zone, sizeof zone, " %c%02ld:%02ld", offset < 0 ? '-' : '+', std::labs(offset) / 3600,
                  (std::labs(offset) % 3600) / 60);
    return out + zone;
}

}  // namespace warden::cli
