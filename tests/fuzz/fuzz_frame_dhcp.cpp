// libFuzzer target: a copied frame taken apart (parse_udp_frame), then its UDP payload read
// as DHCPv4 and DHCPv6. An input that is not a frame is also read as a payload directly, so
// the DHCP parsers are reached whatever the mutation did to the headers.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_check.h"
#include "identity/dhcp.h"
#include "identity/frame.h"

using namespace warden::identity;

namespace {

void dhcp(std::span<const uint8_t> payload) {
    std::string why;
    if (auto m = parse_dhcp4(payload, &why)) {
        FUZZ_CHECK(m->op == 1 || m->op == 2);
        FUZZ_CHECK(m->hostname.size() <= 255 && fuzz::safe(m->hostname));
        FUZZ_CHECK(m->vendor_class.size() <= 255 && fuzz::safe(m->vendor_class));
        FUZZ_CHECK(fuzz::safe(m->fqdn));
        FUZZ_CHECK(m->client_id.size() <= 2 * payload.size());
    } else {
        FUZZ_CHECK(!why.empty());
    }
    why.clear();
    if (auto m = parse_dhcp6(payload, &why)) {
        FUZZ_CHECK(m->type != 0 && m->type != 12 && m->type != 13);
        FUZZ_CHECK(fuzz::safe(m->fqdn) && fuzz::safe(m->vendor_class) && fuzz::safe(m->user_class));
        FUZZ_CHECK(m->addresses.size() * 28 <= payload.size());  // each IA_ADDR takes 28 bytes
    } else {
        FUZZ_CHECK(!why.empty());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> input(data, size);
    std::string why;
    auto frame = parse_udp_frame(input, &why);
    if (!frame) {
        FUZZ_CHECK(!why.empty());
        dhcp(input);
        return 0;
    }
    FUZZ_CHECK(frame->payload.data() >= data && frame->payload.data() + frame->payload.size() <= data + size);
    FUZZ_CHECK(frame->payload.data() - data >= 14 + 20 + 8);
    FUZZ_CHECK(frame->v6 || (frame->src.is_v4() && frame->dst.is_v4()));
    dhcp(frame->payload);
    return 0;
}
