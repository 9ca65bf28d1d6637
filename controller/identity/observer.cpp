#include "identity/observer.h"

#include "dataplane/tables.h"
#include "identity/dhcp.h"
#include "identity/dns.h"
#include "identity/frame.h"
#include "identity/ssdp.h"

namespace warden::identity {

void Observer::observe(const wd_event& hdr, std::span<const uint8_t> frame, int64_t now_ms) {
    auto udp = parse_udp_frame(frame);
    if (!udp) {
        ++counts_.malformed;
        return;
    }
    const net::Mac device = dataplane::mac_of(hdr.mac);
    const bool from_device = hdr.direction == WD_DIR_FROM_DEVICE;
    switch (hdr.detail) {
        case WD_COPY_DHCP4: {
            auto msg = parse_dhcp4(udp->payload);
            if (!msg) break;
            bool from_server = msg->op == 2;
            // A client speaks for itself only: a request naming another MAC is not believed.
            if (!from_server && (!from_device || msg->chaddr != udp->src_mac)) {
                ++counts_.spoofed;
                return;
            }
            store_.observe_dhcp4(*msg, from_server, now_ms);
            ++counts_.dhcp4;
            return;
        }
        case WD_COPY_DHCP6: {
            auto msg = parse_dhcp6(udp->payload);
            if (!msg) break;
            store_.observe_dhcp6(device, *msg, !from_device, now_ms);
            ++counts_.dhcp6;
            return;
        }
        case WD_COPY_DNS: {
            // A copy holds the first 512 bytes of the frame: a longer message keeps the
            // records that arrived whole.
            auto msg = udp->truncated ? parse_dns_prefix(udp->payload) : parse_dns(udp->payload);
            if (!msg) break;
            store_.observe_dns(device, *msg, from_device, now_ms);
            ++counts_.dns;
            return;
        }
        case WD_COPY_MDNS: {
            auto msg = udp->truncated ? parse_dns_prefix(udp->payload) : parse_dns(udp->payload);
            if (!msg) break;
            store_.observe_mdns(device, *msg, now_ms);
            ++counts_.mdns;
            return;
        }
        case WD_COPY_SSDP: {
            auto msg = parse_ssdp(udp->payload);
            if (!msg) break;
            store_.observe_ssdp(device, *msg, now_ms);
            ++counts_.ssdp;
            return;
        }
        default:
            break;
    }
    ++counts_.malformed;
}

}  // namespace warden::identity
