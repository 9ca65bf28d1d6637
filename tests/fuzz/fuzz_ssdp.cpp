// libFuzzer target: SSDP (UPnP discovery) messages.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_check.h"
#include "identity/ssdp.h"

using namespace warden::identity;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string why;
    auto m = parse_ssdp(std::span<const uint8_t>(data, size), &why);
    if (!m) {
        FUZZ_CHECK(!why.empty());
        return 0;
    }
    FUZZ_CHECK(m->start_line.starts_with("NOTIFY ") || m->start_line.starts_with("M-SEARCH ") ||
               m->start_line.starts_with("HTTP/1."));
    FUZZ_CHECK(m->start_line.size() <= 1024 && fuzz::safe(m->start_line));
    FUZZ_CHECK(m->headers.size() <= 32);
    for (const auto& [name, value] : m->headers) {
        FUZZ_CHECK(!name.empty() && name.size() <= 1024);
        for (char c : name) FUZZ_CHECK(!(c >= 'a' && c <= 'z') && c != ':' && c != ' ');
        FUZZ_CHECK(value.size() <= 1024 && fuzz::safe(value));
        FUZZ_CHECK(value.empty() || (value.front() != ' ' && value.back() != ' '));
    }
    return 0;
}
