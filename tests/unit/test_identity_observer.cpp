// The daemon's path from a copied frame to an identity: Observer takes the frame apart,
// parses the message and tells the store whose it is, refusing what does not add up.
#include <doctest/doctest.h>

#include <cstring>

#include "identity/observer.h"
#include "identity_messages.h"

using namespace warden;
using namespace warden::testing;
using namespace warden::testing::messages;

namespace {

wd_event header(uint8_t copy_kind, const net::Mac& device, uint8_t direction, const Bytes& frame) {
    wd_event h{};
    h.kind = WD_EV_PACKET_COPY;
    h.detail = copy_kind;
    h.direction = direction;
    std::memcpy(h.mac, device.bytes.data(), 6);
    h.frame_len = h.cap_len = static_cast<uint32_t>(frame.size());
    return h;
}

}  // namespace

TEST_CASE("observer: a camera's DHCP request names it, the server's ACK gives its address") {
    identity::IdentityStore store(nullptr, nullptr);
    identity::Observer observer(store);
    auto request = dhcp4_frame(camera_request().build(), kCameraMac);
    observer.observe(header(WD_COPY_DHCP4, kCameraMac, WD_DIR_FROM_DEVICE, request), request, 1'000);
    auto ack = dhcp4_frame(server_ack().build(), kGatewayMac, true);
    // The ACK goes out broadcast: the copy names the broadcast MAC, the message its client.
    observer.observe(header(WD_COPY_DHCP4, mac("ff:ff:ff:ff:ff:ff"), WD_DIR_TO_DEVICE, ack), ack, 2'000);

    CHECK(observer.counts().dhcp4 == 2);
    CHECK(observer.counts().malformed == 0);
    auto id = store.identity(kCameraMac);
    REQUIRE(id);
    CHECK_FALSE(id->hostname.empty());
    CHECK_FALSE(id->vendor_class.empty());
    CHECK(id->leased_ip4.has_value() == (server_ack().chaddr == kCameraMac));
}

TEST_CASE("observer: a DHCP request naming another device than its sender is not believed") {
    identity::IdentityStore store(nullptr, nullptr);
    identity::Observer observer(store);
    // The camera's message, sent from the phone's MAC: a device speaks only for itself.
    auto spoof = dhcp4_frame(camera_request().build(), kPhoneMac);
    observer.observe(header(WD_COPY_DHCP4, kPhoneMac, WD_DIR_FROM_DEVICE, spoof), spoof, 1'000);
    CHECK(observer.counts().spoofed == 1);
    CHECK(observer.counts().dhcp4 == 0);
    CHECK_FALSE(store.identity(kCameraMac));
}

TEST_CASE("observer: DNS queries and answers, mDNS and SSDP reach the device's identity") {
    identity::IdentityStore store(nullptr, nullptr);
    identity::Observer observer(store);
    auto query = dns_frame(dns_query_a(), kLaptopMac);
    observer.observe(header(WD_COPY_DNS, kLaptopMac, WD_DIR_FROM_DEVICE, query), query, 1'000);
    auto answer = Packet().eth(kGatewayMac, kLaptopMac).ipv4("198.18.10.1", "198.18.10.77").udp(53, 53124)
                      .payload(dns_answer_cname_chain()).build();
    observer.observe(header(WD_COPY_DNS, kLaptopMac, WD_DIR_TO_DEVICE, answer), answer, 1'100);
    auto mdns = Packet().eth(kCameraMac, mac("01:00:5e:00:00:fb")).ipv4("198.18.10.50", "224.0.0.251")
                    .udp(5353, 5353).payload(mdns_googlecast_announcement()).build();
    observer.observe(header(WD_COPY_MDNS, kCameraMac, WD_DIR_FROM_DEVICE, mdns), mdns, 1'200);
    auto ssdp = Packet().eth(kPrinterMac, mac("01:00:5e:7f:ff:fa")).ipv4("198.18.10.60", "239.255.255.250")
                    .udp(1900, 1900).payload(ssdp_notify()).build();
    observer.observe(header(WD_COPY_SSDP, kPrinterMac, WD_DIR_FROM_DEVICE, ssdp), ssdp, 1'300);

    CHECK(observer.counts().dns == 2);
    CHECK(observer.counts().mdns == 1);
    CHECK(observer.counts().ssdp == 1);
    auto laptop = store.identity(kLaptopMac);
    REQUIRE(laptop);
    REQUIRE_FALSE(laptop->dns_names.empty());
    CHECK(laptop->dns_names.front() == "www.example.com");
    CHECK(store.name_for(kLaptopMac, *net::IpAddr::parse("198.18.5.7"), 1'500) == "www.example.com");
    auto cast = store.identity(kCameraMac);
    REQUIRE(cast);
    CHECK(std::find(cast->mdns_services.begin(), cast->mdns_services.end(), "_googlecast._tcp") !=
          cast->mdns_services.end());
    auto hue = store.identity(kPrinterMac);
    REQUIRE(hue);
    REQUIRE_FALSE(hue->models.empty());
}

TEST_CASE("observer: an mDNS announcement cut off by the 512-byte copy keeps its whole records") {
    identity::IdentityStore store(nullptr, nullptr);
    identity::Observer observer(store);
    // The whole frame is longer than the copy; the copy ends inside the last record.
    Bytes announcement = mdns_googlecast_announcement();
    Bytes padded_txt(600, 'x');
    auto full = Packet().eth(kCameraMac, mac("01:00:5e:00:00:fb")).ipv4("198.18.10.50", "224.0.0.251")
                    .udp(5353, 5353).payload(announcement).build();
    // Claim a longer UDP payload than the copy holds, as a long announcement would.
    Bytes copy = full;
    size_t udp_len_at = 14 + 20 + 4;
    uint16_t claimed = static_cast<uint16_t>(8 + announcement.size() + padded_txt.size());
    copy[udp_len_at] = claimed >> 8;
    copy[udp_len_at + 1] = claimed & 0xff;
    uint16_t ip_total = static_cast<uint16_t>(20 + claimed);  // and the IPv4 total length
    copy[14 + 2] = ip_total >> 8;
    copy[14 + 3] = ip_total & 0xff;
    observer.observe(header(WD_COPY_MDNS, kCameraMac, WD_DIR_FROM_DEVICE, copy), copy, 1'000);
    CHECK(observer.counts().mdns == 1);
    auto id = store.identity(kCameraMac);
    REQUIRE(id);
    CHECK_FALSE(id->mdns_services.empty());
}

TEST_CASE("observer: garbage is counted and changes nothing") {
    identity::IdentityStore store(nullptr, nullptr);
    identity::Observer observer(store);
    Bytes junk(60, 0xee);
    observer.observe(header(WD_COPY_DHCP4, kCameraMac, WD_DIR_FROM_DEVICE, junk), junk, 1'000);
    auto not_dhcp = dhcp4_frame(Bytes(40, 0), kCameraMac);
    observer.observe(header(WD_COPY_DHCP4, kCameraMac, WD_DIR_FROM_DEVICE, not_dhcp), not_dhcp, 1'000);
    CHECK(observer.counts().malformed == 2);
    CHECK(store.size() == 0);
}
