#include "quarantine/quarantine.h"

#include <sys/stat.h>
#include <time.h>

#include <algorithm>

#include "store/files.h"

namespace warden::quarantine {

using store::QuarantineRecord;

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

std::optional<uint32_t> parse_level(const std::string& name) {
    if (name == "isolate") return WD_LEVEL_ISOLATE;
    if (name == "restricted") return WD_LEVEL_RESTRICTED;
    return std::nullopt;
}

const char* level_name(uint32_t level) {
    switch (level) {
        case WD_LEVEL_ISOLATE: return "isolate";
        case WD_LEVEL_RESTRICTED: return "restricted";
        default: return "none";
    }
}

uint32_t origin_code(const std::string& origin) {
    if (origin == "operator") return WD_ORIGIN_OPERATOR;
    if (origin == "detector") return WD_ORIGIN_DETECTOR;
    if (origin == "policy") return WD_ORIGIN_POLICY;
    return WD_ORIGIN_UNSPEC;
}

const char* origin_of_code(uint32_t code) {
    switch (code) {
        case WD_ORIGIN_DETECTOR: return "detector";
        case WD_ORIGIN_POLICY: return "policy";
        default: return "operator";
    }
}

namespace {

bool stamp_of(const std::filesystem::path& file, uint64_t& inode, uint64_t& size, int64_t& mtime_ns) {
    struct stat st{};
    if (stat(file.c_str(), &st) != 0) return false;
    inode = st.st_ino;
    size = uint64_t(st.st_size);
    mtime_ns = int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    return true;
}

}  // namespace

void Book::remember_file() {
    stamp_ = {};
    stamp_.exists = stamp_of(state_.quarantine_file(), stamp_.inode, stamp_.size, stamp_.mtime_ns);
}

std::string Book::guard_file() {
    Stamp now;
    now.exists = stamp_of(state_.quarantine_file(), now.inode, now.size, now.mtime_ns);
    if (now == stamp_) return "";
    std::string what;
    if (now.exists) {
        try {
            what = "changed by someone else while warden runs: kept as " + store::move_aside(state_.quarantine_file()).string();
        } catch (const std::exception& e) {
            what = std::string("changed by someone else while warden runs: ") + e.what();
        }
    } else {
        what = "removed by someone else while warden runs";
    }
    save(records_);  // throws when it cannot: the caller reports it
    unsaved_ = false;
    return what + "; written again from the quarantines in force";
}

Book::LoadReport Book::load() {
    LoadReport report;
    auto loaded = state_.load_quarantines();
    report.problems = std::move(loaded.problems);
    report.intact = report.problems.empty();
    records_ = std::move(loaded.records);
    unsaved_ = false;
    remember_file();
    if (loaded.moved_aside) {
        report.problems.push_back("damaged file kept as " + loaded.moved_aside->string());
        try {
            save(records_);
        } catch (const std::exception& e) {
            unsaved_ = true;
            report.problems.push_back(std::string("the readable records could not be written back: ") + e.what());
        }
    }
    return report;
}

const QuarantineRecord* Book::find(const net::Mac& mac) const {
    auto it = std::find_if(records_.begin(), records_.end(), [&](const auto& r) { return r.mac == mac; });
    return it != records_.end() ? &*it : nullptr;
}

void Book::save(const std::vector<QuarantineRecord>& records) {
    state_.save_quarantines(records);
    remember_file();
}

void Book::put(const QuarantineRecord& record) {
    auto next = records_;
    auto it = std::find_if(next.begin(), next.end(), [&](const auto& r) { return r.mac == record.mac; });
    if (it != next.end())
        *it = record;
    else
        next.push_back(record);
    save(next);  // throws: the book stays as it was
    records_ = std::move(next);
    unsaved_ = false;
}

bool Book::erase(const net::Mac& mac) {
    auto next = records_;
    if (std::erase_if(next, [&](const auto& r) { return r.mac == mac; }) == 0) return false;
    save(next);
    records_ = std::move(next);
    unsaved_ = false;
    return true;
}

void Book::put_unsaved(const QuarantineRecord& record) {
    auto it = std::find_if(records_.begin(), records_.end(), [&](const auto& r) { return r.mac == record.mac; });
    if (it != records_.end())
        *it = record;
    else
        records_.push_back(record);
    unsaved_ = true;
}

bool Book::erase_unsaved(const net::Mac& mac) {
    if (std::erase_if(records_, [&](const auto& r) { return r.mac == mac; }) == 0) return false;
    unsaved_ = true;
    return true;
}

void Book::save_pending() {
    if (!unsaved_) return;
    save(records_);
    unsaved_ = false;
}

}  // namespace warden::quarantine
