#include "identity/dhcp.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "identity/wire.h"
#include "text/text.h"

namespace warden::identity {

namespace {

using wire::refuse;

constexpr uint8_t kMagicCookie[4] = {99, 130, 83, 99};
constexpr size_t kMaxText = 255;  // hostnames, vendor classes, names: DNS's own bound

// DHCPv4 option codes (RFC 2132, RFC 4702).
enum : uint8_t {
    kOptPad = 0,
    kOptHostname = 12,
    kOptRequestedIp = 50,
    kOptLeaseTime = 51,
    kOptOverload = 52,
    kOptMessageType = 53,
    kOptServerId = 54,
    kOptParamRequestList = 55,
    kOptVendorClass = 60,
    kOptClientId = 61,
    kOptClientFqdn = 81,
    kOptEnd = 255,
};

// DHCPv6 option codes and message types (RFC 8415, RFC 4704).
enum : uint16_t {
    kOpt6ClientId = 1,
    kOpt6IaNa = 3,
    kOpt6IaAddr = 5,
    kOpt6OptionRequest = 6,
    kOpt6UserClass = 15,
    kOpt6VendorClass = 16,
    kOpt6ClientFqdn = 39,
};
constexpr uint8_t kDhcp6RelayForward = 12, kDhcp6RelayReply = 13;

net::IpAddr v4_at(std::span<const uint8_t> four) {
    uint8_t a[4];
    std::memcpy(a, four.data(), 4);
    return net::IpAddr::v4(a);
}

uint32_t be32(std::span<const uint8_t> four) {
    return uint32_t(four[0]) << 24 | uint32_t(four[1]) << 16 | uint32_t(four[2]) << 8 | four[3];
}

// A domain name in DNS wire format without compression (RFC 4702 / RFC 4704 both forbid it):
// labels up to the root label, or to the end of the option for a partial name
// ("myhost" with no domain). Printed with dots, each label through text::printable.
std::optional<std::string> uncompressed_name(std::span<const uint8_t> bytes, std::string* why) {
    std::string name;
    wire::Cursor c(bytes);
    size_t wire_length = 0;
    while (!c.at_end()) {
        uint8_t len = c.u8();
        if (len == 0) {
            if (!c.at_end()) return refuse(why, "bytes after the root label of a domain name");
            break;
        }
        if (len > 63) return refuse(why, "domain name label longer than 63 bytes (or compressed)");
        auto label = c.take(len);
        if (!c.ok()) return refuse(why, "domain name label runs past the option");
        wire_length += 1 + len;
        if (wire_length + 1 > kMaxText) return refuse(why, "domain name longer than 255 bytes");
        if (!name.empty()) name.push_back('.');
        name += text::printable(label);
    }
    return name;
}

// The 3-byte header (flags, rcode1, rcode2) then the name: DNS wire format when the E flag
// says so, else the deprecated ASCII form some older clients still send.
std::optional<std::string> dhcp4_fqdn(std::span<const uint8_t> value, std::string* why) {
    if (value.size() < 3) return refuse(why, "option 81 (client FQDN) shorter than its 3-byte header");
    constexpr uint8_t kFlagEncoded = 0x04;
    auto name = value.subspan(3);
    if (value[0] & kFlagEncoded) {
        std::string reason;
        auto decoded = uncompressed_name(name, &reason);
        if (!decoded) return refuse(why, "option 81 (client FQDN): " + reason);
        return decoded;
    }
    // ASCII form: a trailing dot or NUL is part of how some clients end it, not of the name.
    while (!name.empty() && (name.back() == 0 || name.back() == '.')) name = name.first(name.size() - 1);
    return text::printable(name, kMaxText);
}

}  // namespace

std::optional<Dhcp4Message> parse_dhcp4(std::span<const uint8_t> payload, std::string* why) {
    Dhcp4Message m;
    wire::Cursor c(payload);
    m.op = c.u8();
    uint8_t htype = c.u8();
    uint8_t hlen = c.u8();
    c.skip(1 + 4 + 2 + 2);  // hops, xid, secs, flags
    auto ciaddr = c.take(4);
    auto yiaddr = c.take(4);
    c.skip(4 + 4);  // siaddr, giaddr
    auto chaddr = c.take(16);
    c.skip(64 + 128);  // sname, file
    if (!c.ok()) return refuse(why, "BOOTP message shorter than its 236-byte fixed part");
    auto cookie = c.take(4);
    if (!c.ok() || !std::equal(cookie.begin(), cookie.end(), kMagicCookie))
        return refuse(why, "no DHCP magic cookie (99.130.83.99) after the BOOTP fixed part");
    if (m.op != 1 && m.op != 2) return refuse(why, "BOOTP op " + std::to_string(m.op) + " is neither request (1) nor reply (2)");
    if (htype != 1 || hlen != 6)
        return refuse(why, "hardware type " + std::to_string(htype) + "/length " + std::to_string(hlen) +
                               " is not Ethernet (1/6)");
    std::copy(chaddr.begin(), chaddr.begin() + 6, m.chaddr.bytes.begin());
    m.ciaddr = v4_at(ciaddr);
    m.yiaddr = v4_at(yiaddr);

    // Options, collected per code first. An option that appears more than once is one long
    // option split in parts, concatenated in order (RFC 3396). The total is bounded by the
    // message's own size. Option overload (52), which moves further options into the sname
    // and file fields, is ignored: the options that identify a device are in the options
    // field in practice, and reading the two fields as options would double what can be
    // mis-read for little gain.
    std::array<std::vector<uint8_t>, 256> values;
    std::array<bool, 256> present{};
    bool ended = false;
    while (!c.at_end()) {
        uint8_t code = c.u8();
        if (code == kOptPad) continue;
        if (code == kOptEnd) {
            ended = true;  // anything after it is padding
            break;
        }
        uint8_t len = c.u8();
        if (!c.ok()) return refuse(why, "option " + std::to_string(code) + " has no length byte");
        auto value = c.take(len);
        if (!c.ok())
            return refuse(why, "option " + std::to_string(code) + " (length " + std::to_string(len) +
                                   ") runs past the end of the message");
        values[code].insert(values[code].end(), value.begin(), value.end());
        present[code] = true;
    }
    if (!ended) return refuse(why, "options not closed by the end option (255): message cut short");

    auto fixed = [&](uint8_t code, size_t size, const char* what) -> std::optional<std::span<const uint8_t>> {
        if (!present[code]) return std::span<const uint8_t>{};
        if (values[code].size() != size)
            return refuse(why, "option " + std::to_string(code) + " (" + what + ") has " +
                                   std::to_string(values[code].size()) + " bytes, " + std::to_string(size) +
                                   " expected");
        return std::span<const uint8_t>(values[code]);
    };
    auto type = fixed(kOptMessageType, 1, "message type");
    auto requested = fixed(kOptRequestedIp, 4, "requested address");
    auto server = fixed(kOptServerId, 4, "server identifier");
    auto lease = fixed(kOptLeaseTime, 4, "lease time");
    if (!type || !requested || !server || !lease) return std::nullopt;
    if (!type->empty()) m.type = (*type)[0];
    if (!requested->empty()) m.requested_ip = v4_at(*requested);
    if (!server->empty()) m.server_id = v4_at(*server);
    if (!lease->empty()) m.lease_seconds = be32(*lease);

    // Some clients (older Windows) count a terminating NUL in the hostname's length.
    std::span<const uint8_t> hostname(values[kOptHostname]);
    while (!hostname.empty() && hostname.back() == 0) hostname = hostname.first(hostname.size() - 1);
    m.hostname = text::printable(hostname, kMaxText);
    m.vendor_class = text::printable(values[kOptVendorClass], kMaxText);
    for (uint8_t code : values[kOptParamRequestList]) {
        if (!m.param_request_list.empty()) m.param_request_list.push_back(',');
        m.param_request_list += std::to_string(code);
    }
    m.client_id = wire::hex(values[kOptClientId]);
    if (present[kOptClientFqdn]) {
        auto fqdn = dhcp4_fqdn(values[kOptClientFqdn], why);
        if (!fqdn) return std::nullopt;
        m.fqdn = std::move(*fqdn);
    }
    return m;
}

namespace {

// A list of (2-byte length, data) items, as the user class and vendor class options carry.
std::optional<std::string> length_prefixed_list(std::span<const uint8_t> bytes, uint16_t code, std::string* why) {
    std::string out;
    wire::Cursor c(bytes);
    for (size_t items = 0; !c.at_end(); ++items) {
        uint16_t len = c.u16();
        auto item = c.take(len);
        if (!c.ok()) return refuse(why, "DHCPv6 option " + std::to_string(code) + ": an item runs past the option");
        if (out.size() >= kMaxText) continue;  // full: the rest is still checked, not kept
        if (items) out.push_back(',');
        out += text::printable(item, kMaxText - out.size());
    }
    return out;
}

// IA_NA: IAID, T1, T2, then its own options; the IA_ADDR options among them carry the
// addresses. Options inside IA_ADDR (status codes) are not read: two levels and no more.
bool ia_na_addresses(std::span<const uint8_t> ia, Dhcp6Message& m, std::string* why) {
    wire::Cursor c(ia);
    c.skip(12);
    if (!c.ok()) {
        refuse(why, "DHCPv6 IA_NA option shorter than its 12-byte header");
        return false;
    }
    while (!c.at_end()) {
        uint16_t code = c.u16();
        uint16_t len = c.u16();
        auto value = c.take(len);
        if (!c.ok()) {
            refuse(why, "DHCPv6 option " + std::to_string(code) + " inside IA_NA runs past the IA_NA");
            return false;
        }
        if (code != kOpt6IaAddr) continue;
        if (value.size() < 24) {
            refuse(why, "DHCPv6 IA_ADDR option shorter than its 24 bytes");
            return false;
        }
        net::IpAddr a;
        std::copy(value.begin(), value.begin() + 16, a.bytes.begin());
        m.addresses.push_back(a);
    }
    return true;
}

}  // namespace

std::optional<Dhcp6Message> parse_dhcp6(std::span<const uint8_t> payload, std::string* why) {
    Dhcp6Message m;
    wire::Cursor c(payload);
    m.type = c.u8();
    c.skip(3);  // transaction id
    if (!c.ok()) return refuse(why, "DHCPv6 message shorter than its 4-byte header");
    if (m.type == 0) return refuse(why, "DHCPv6 message type 0 is reserved");
    // A relay's messages wrap the client's in option 9 with another header: the gateway is
    // the server on its own link, so relayed traffic is not what identifies its devices.
    if (m.type == kDhcp6RelayForward || m.type == kDhcp6RelayReply)
        return refuse(why, "DHCPv6 relay message (type " + std::to_string(m.type) + ") not parsed");

    // Each option counts once: a repeat of an option that should appear once is ignored
    // (the first wins), except IA_NA, of which a client may hold several.
    std::array<bool, 64> seen{};
    while (!c.at_end()) {
        uint16_t code = c.u16();
        uint16_t len = c.u16();
        if (!c.ok()) return refuse(why, "DHCPv6 option header cut short (4 bytes needed)");
        auto value = c.take(len);
        if (!c.ok())
            return refuse(why, "DHCPv6 option " + std::to_string(code) + " (length " + std::to_string(len) +
                                   ") runs past the end of the message");
        bool first = code >= seen.size() || !seen[code];
        if (code < seen.size()) seen[code] = true;
        switch (code) {
            case kOpt6ClientId:
                if (first) m.client_duid = wire::hex(value);
                break;
            case kOpt6IaNa:
                if (!ia_na_addresses(value, m, why)) return std::nullopt;
                break;
            case kOpt6OptionRequest:
                if (value.size() % 2) return refuse(why, "DHCPv6 option request (6) has an odd length");
                if (first) {
                    for (size_t i = 0; i < value.size(); i += 2) {
                        if (i) m.option_request.push_back(',');
                        m.option_request += std::to_string(value[i] << 8 | value[i + 1]);
                    }
                }
                break;
            case kOpt6UserClass: {
                auto text = length_prefixed_list(value, code, why);
                if (!text) return std::nullopt;
                if (first) m.user_class = std::move(*text);
                break;
            }
            case kOpt6VendorClass: {
                if (value.size() < 4) return refuse(why, "DHCPv6 vendor class (16) shorter than its enterprise number");
                auto data = length_prefixed_list(value.subspan(4), code, why);
                if (!data) return std::nullopt;
                if (first) m.vendor_class = std::to_string(be32(value.first(4))) + ":" + *data;
                break;
            }
            case kOpt6ClientFqdn: {
                if (value.empty()) return refuse(why, "DHCPv6 client FQDN (39) has no flags byte");
                std::string reason;
                auto name = uncompressed_name(value.subspan(1), &reason);
                if (!name) return refuse(why, "DHCPv6 client FQDN (39): " + reason);
                if (first) m.fqdn = std::move(*name);
                break;
            }
            default:
                break;
        }
    }
    return m;
}

}  // namespace warden::identity
