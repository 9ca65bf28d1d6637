// SSDP (UPnP discovery, UDP 1900): the HTTP-like NOTIFY / M-SEARCH / response lines, and the
// headers that name a device (SERVER, USN, NT/ST, LOCATION). Bounded and strict.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>

namespace warden::identity {

struct SsdpMessage {
    std::string start_line;  // "NOTIFY * HTTP/1.1", "M-SEARCH * HTTP/1.1", "HTTP/1.1 200 OK"
    std::map<std::string, std::string> headers;  // names upper-cased, values trimmed
};

// Lines end in CRLF or LF; a last line without its line end may be cut by the copy and is
// dropped. A repeated header keeps its first value. Text goes through text::printable:
// valid UTF-8 kept, invalid bytes and control characters shown as \xNN.
std::optional<SsdpMessage> parse_ssdp(std::span<const uint8_t> udp_payload, std::string* why = nullptr);

}  // namespace warden::identity
