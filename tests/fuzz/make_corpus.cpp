// Writes the fuzz seed corpus from the unit tests' message builders (identity_messages.h):
//   make_fuzz_corpus <dir>   ->  <dir>/frame_dhcp/*, <dir>/dns/*, <dir>/ssdp/*
// The files are committed (tests/fuzz/corpus); `cmake --build <build> --target fuzz_corpus`
// regenerates them after the builders change.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "identity_messages.h"

using namespace warden::testing;
using namespace warden::testing::messages;

namespace {

void write(const std::filesystem::path& dir, const std::string& name, const Bytes& bytes) {
    std::filesystem::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: make_fuzz_corpus <corpus dir>\n";
        return 2;
    }
    std::filesystem::path root = argv[1];
    try {
        auto frames = root / "frame_dhcp";
        write(frames, "phone_discover", dhcp4_frame(phone_discover().build(), kPhoneMac));
        write(frames, "camera_request", dhcp4_frame(camera_request().build(), kCameraMac));
        write(frames, "printer_discover", dhcp4_frame(printer_discover().build(), kPrinterMac));
        write(frames, "laptop_request_fqdn", dhcp4_frame(laptop_request_fqdn().build(), kLaptopMac));
        write(frames, "server_ack", dhcp4_frame(server_ack().build(), kGatewayMac, true));
        write(frames, "dhcp6_solicit", dhcp6_frame(laptop_solicit().build(), kLaptopMac));
        write(frames, "dhcp6_reply", dhcp6_frame(server_reply().build(), kGatewayMac, true));
        // The headers the frame parser walks: two VLAN tags, IPv4 options, IPv6 extensions.
        write(frames, "vlan_qinq_ipv4_options",
              Packet().eth(kCameraMac, kGatewayMac).vlan(100, kTpid8021AD).vlan(10)
                  .ipv4("0.0.0.0", "255.255.255.255").ipv4_options(Bytes{0x94, 0x04, 0, 0}).udp(68, 67)
                  .payload(camera_request().build()).build());
        write(frames, "ipv6_extensions",
              Packet().eth(kLaptopMac, kGatewayMac).ipv6("fe80::1", "ff02::1:2").hop_by_hop(0).routing(1)
                  .fragment6(0, true).destination_options(0).udp(546, 547).payload(laptop_solicit().build()).build());

        auto dns = root / "dns";
        write(dns, "query_a", dns_query_a());
        write(dns, "answer_cname_chain", dns_answer_cname_chain());
        write(dns, "mdns_googlecast", mdns_googlecast_announcement());
        DnsWriter srv(7, 0x8400, 1, 1);
        size_t q = srv.offset();
        srv.question("_http._tcp.local", 12, -1, 0x8001);
        srv.record("printer", static_cast<int>(q), 33, 120, 0x8001);
        srv.raw(Bytes{0, 0, 0, 0, 0, 80});
        srv.name("printer", static_cast<int>(q + 1 + 5 + 1 + 4));
        srv.end_record();
        write(dns, "mdns_question_srv", srv.bytes());

        auto ssdp = root / "ssdp";
        write(ssdp, "notify", ssdp_notify());
        write(ssdp, "msearch", ssdp_msearch());
        write(ssdp, "response", text("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
                                     "LOCATION: http://198.18.10.61:8008/ssdp/device-desc.xml\r\n"
                                     "SERVER: Linux/3.8.13+, UPnP/1.0, Portable SDK for UPnP devices/1.6.18\r\n"
                                     "ST: urn:dial-multiscreen-org:service:dial:1\r\n"
                                     "USN: uuid:3e1cc7c0-f4f3-7bd0-5a2c-0a1b2c3d4e5f::urn:dial-multiscreen-org:service:dial:1\r\n"
                                     "\r\n"));
    } catch (const std::exception& e) {
        std::cerr << "make_fuzz_corpus: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
