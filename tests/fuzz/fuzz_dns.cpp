// libFuzzer target: DNS and mDNS messages, read whole (parse_dns) and as a copy that may be
// cut short (parse_dns_prefix); the two must agree on what a whole message is.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_check.h"
#include "identity/dns.h"

using namespace warden::identity;

namespace {

// 255 wire bytes at most, each shown as at most 4 characters (\DDD, or \xNN in TXT strings).
bool bounded_name(const std::string& name) { return name.size() <= 4 * 255 && fuzz::safe(name); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> input(data, size);
    std::string why, why_prefix;
    auto whole = parse_dns(input, &why);
    auto prefix = parse_dns_prefix(input, &why_prefix);
    if (!whole) FUZZ_CHECK(!why.empty());
    if (!prefix) FUZZ_CHECK(!why_prefix.empty());
    if (whole) {
        // A whole message reads the same either way.
        FUZZ_CHECK(prefix && !prefix->cut_short);
        FUZZ_CHECK(prefix->questions.size() == whole->questions.size());
        FUZZ_CHECK(prefix->answers.size() == whole->answers.size());
        FUZZ_CHECK(!whole->cut_short);
    }
    if (prefix && !prefix->cut_short) FUZZ_CHECK(whole);  // nothing was missing
    if (!prefix) FUZZ_CHECK(!whole);
    if (prefix) {
        // Every question takes at least 5 bytes and every record 11: no more than the bytes hold.
        FUZZ_CHECK(prefix->questions.size() * 5 + prefix->answers.size() * 11 + 12 <= size);
        for (const auto& q : prefix->questions) FUZZ_CHECK(bounded_name(q.name));
        for (const auto& r : prefix->answers) {
            FUZZ_CHECK(bounded_name(r.name) && bounded_name(r.target));
            FUZZ_CHECK(!r.address || r.type == 1 || r.type == 28);
            for (const auto& t : r.txt) FUZZ_CHECK(t.size() <= 4 * 255 && fuzz::safe(t));
        }
    }
    return 0;
}
