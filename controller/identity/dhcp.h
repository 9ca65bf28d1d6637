// DHCPv4 (RFC 2131/2132) and DHCPv6 (RFC 8415) messages: the parts that say who a device is.
// Strict: every option length is checked; a malformed message is refused with the reason.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/address.h"

namespace warden::identity {

struct Dhcp4Message {
    uint8_t op = 0;        // 1 request (client), 2 reply (server)
    uint8_t type = 0;      // option 53: 1 DISCOVER, 2 OFFER, 3 REQUEST, 5 ACK, ...
    net::Mac chaddr;       // client hardware address (htype 1, hlen 6)
    net::IpAddr ciaddr, yiaddr;  // v4-mapped; yiaddr: the address the server hands out
    std::string hostname;        // option 12
    std::string fqdn;            // option 81 (domain name part, decoded)
    std::string vendor_class;    // option 60
    std::string param_request_list;  // option 55 as "1,3,6,15,..." (the DHCP fingerprint)
    std::string client_id;           // option 61 as lower-case hex
    std::optional<net::IpAddr> requested_ip;  // option 50
    std::optional<net::IpAddr> server_id;     // option 54
    std::optional<uint32_t> lease_seconds;    // option 51
};

// The options must end with the end option (255), so a message cut short is refused rather
// than half read. A repeated option is one long option in parts and is concatenated
// (RFC 3396); option overload (52) is ignored (options in sname/file are not read).
std::optional<Dhcp4Message> parse_dhcp4(std::span<const uint8_t> udp_payload, std::string* why = nullptr);

struct Dhcp6Message {
    uint8_t type = 0;            // 1 SOLICIT, 2 ADVERTISE, 3 REQUEST, 5 RENEW, 7 REPLY, ...
    std::string client_duid;     // option 1 as lower-case hex
    std::string fqdn;            // option 39 (decoded)
    std::string vendor_class;    // option 16: "enterprise-number:data[,data...]"
    std::string user_class;      // option 15
    std::string option_request;  // option 6 as "23,24,39" (a fingerprint)
    std::vector<net::IpAddr> addresses;  // IA_NA (3) / IA_ADDR (5) addresses assigned
};

// Relay messages (RELAY-FORW 12, RELAY-REPL 13) are refused: the gateway is the server on
// its own links. A repeated option keeps its first value, except IA_NA (each is read).
std::optional<Dhcp6Message> parse_dhcp6(std::span<const uint8_t> udp_payload, std::string* why = nullptr);

}  // namespace warden::identity
