// libFuzzer target: HTTP requests as a LAN device sends them to the status page, in pieces.
// The first byte sets the size of the pieces; the rest is the stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "web/http.h"

using warden::web::RequestReader;
using State = RequestReader::State;

namespace {

constexpr size_t kMaxHead = 1024, kMaxBody = 256;

// Feeds the stream as the listener does: never more than room() at once.
void feed(RequestReader& reader, std::string_view stream, size_t piece) {
    while (!stream.empty() && reader.state() == State::incomplete) {
        size_t room = reader.room();
        FUZZ_CHECK(room > 0);
        size_t n = std::min({piece, room, stream.size()});
        reader.add(stream.substr(0, n));
        stream.remove_prefix(n);
    }
}

size_t count(std::string_view s, std::string_view what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != s.npos; at = s.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
    RequestReader pieces(kMaxHead, kMaxBody), bytes(kMaxHead, kMaxBody);
    feed(pieces, stream, data[0] % 64 + 1);
    feed(bytes, stream, 1);

    // However the stream is cut, the same outcome.
    FUZZ_CHECK(pieces.state() == bytes.state());
    if (pieces.state() == State::refused) {
        FUZZ_CHECK(pieces.refused_status() == bytes.refused_status() && pieces.refused_why() == bytes.refused_why());
        int status = pieces.refused_status();
        FUZZ_CHECK(status == 400 || status == 413 || status == 431 || status == 501 || status == 505);
        FUZZ_CHECK(!pieces.refused_why().empty() && fuzz::safe(pieces.refused_why()));
        return 0;
    }
    if (pieces.state() != State::complete) return 0;
    const auto& r = pieces.request();
    const auto& again = bytes.request();
    FUZZ_CHECK(r.method == again.method && r.path == again.path && r.headers == again.headers && r.body == again.body);
    FUZZ_CHECK(!r.method.empty() && r.path.starts_with('/') && r.body.size() <= kMaxBody);
    for (const auto& [name, value] : r.headers) {
        FUZZ_CHECK(!name.empty() && name.find(':') == std::string::npos);
        for (char c : name) FUZZ_CHECK(!(c >= 'A' && c <= 'Z') && c > ' ');
        FUZZ_CHECK(value.find('\r') == std::string::npos && value.find('\n') == std::string::npos);
    }

    // An answer carrying the request's own header values cannot be split into two.
    warden::web::Response answer;
    answer.content_type = "text/plain";
    for (const auto& [name, value] : r.headers) answer.headers.emplace_back(name, value);
    std::string text = warden::web::serialize(answer, false);
    FUZZ_CHECK(count(text, "\n") == r.headers.size() + 5);  // status, 3 headers of ours, the empty line
    FUZZ_CHECK(text.ends_with("\r\n\r\n"));
    return 0;
}
