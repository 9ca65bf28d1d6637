// DNS messages (RFC 1035), also as mDNS uses them (RFC 6762): questions and the answers
// that say which name an address belongs to, plus what mDNS announces (PTR/SRV/TXT).
// Strict: every length is checked, compression pointers may only point backwards and are
// followed at most a bounded number of times (no loops), names are bounded (255 bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/address.h"

namespace warden::identity {

struct DnsQuestion {
    std::string name;  // lower case, no trailing dot
    uint16_t type = 0;
};

struct DnsRecord {
    std::string name;  // lower case, no trailing dot
    uint16_t type = 0;     // 1 A, 28 AAAA, 5 CNAME, 12 PTR, 16 TXT, 33 SRV, ...
    uint32_t ttl = 0;
    std::optional<net::IpAddr> address;  // A / AAAA
    std::string target;                  // CNAME / PTR / SRV target (lower case)
    uint16_t port = 0;                   // SRV
    std::vector<std::string> txt;        // TXT strings ("md=Chromecast", ...)
};

struct DnsMessage {
    uint16_t id = 0;
    bool response = false;
    uint8_t rcode = 0;
    std::vector<DnsQuestion> questions;
    std::vector<DnsRecord> answers;  // answer, authority and additional sections together
    bool cut_short = false;  // parse_dns_prefix only: the bytes ended before the last record
};

// Names: labels lower-cased, bytes that are not printable ASCII (and '.' or '\' inside a
// label) written \DDD as in zone files. Each pointer must point before the labels it
// continues (strictly backwards), at most 16 per name. TXT strings are free text, made safe
// by text::printable (UTF-8 kept, other bytes \xNN). Counts that promise more than the
// message can hold are refused before anything is read.
std::optional<DnsMessage> parse_dns(std::span<const uint8_t> udp_payload, std::string* why = nullptr);

// For a copy the data plane cut short (UdpFrame::truncated; mDNS announcements often exceed
// the copy): the questions and records that fit whole are kept and the first one cut off
// ends the message (cut_short). Anything malformed before the cut is still refused.
std::optional<DnsMessage> parse_dns_prefix(std::span<const uint8_t> udp_payload, std::string* why = nullptr);

}  // namespace warden::identity
