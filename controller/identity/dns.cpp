#include "identity/dns.h"

#include <cstdio>
#include <cstring>

#include "identity/wire.h"
#include "text/text.h"

namespace warden::identity {

namespace {

using wire::refuse;

constexpr size_t kHeaderLength = 12;
constexpr size_t kMaxNameWire = 255;  // RFC 1035 2.3.4, counted in wire bytes
constexpr int kMaxJumps = 16;         // compression pointers followed per name
constexpr size_t kMinQuestion = 1 + 4;     // root name, type, class
constexpr size_t kMinRecord = 1 + 10;      // root name, type, class, TTL, rdlength

enum : uint16_t { kTypeA = 1, kTypeNs = 2, kTypeCname = 5, kTypePtr = 12, kTypeTxt = 16, kTypeAaaa = 28, kTypeSrv = 33 };

// A step either worked, ran into the end of the bytes (a copy cut short: no fault of the
// sender's), or found something no correct sender writes.
enum class Step { ok, cut, bad };

// A label shown as text: printable ASCII as it is, anything else (and the characters that
// would make the name ambiguous: '\' and '.') as \DDD, the zone-file convention (RFC 4343).
// Names keep DNS's own escape, so a name reads as dig prints it; free text (TXT strings)
// goes through text::printable like all text from outside.
void append_label(std::string& out, std::span<const uint8_t> bytes) {
    for (uint8_t b : bytes) {
        if (b >= 'A' && b <= 'Z') b = b - 'A' + 'a';
        if (wire::is_printable(b) && b != '\\' && b != '.') {
            out.push_back(static_cast<char>(b));
        } else {
            char esc[5];
            std::snprintf(esc, sizeof esc, "\\%03u", b);
            out += esc;
        }
    }
}

class Parser {
public:
    explicit Parser(std::span<const uint8_t> message) : msg_(message) {}

    const std::string& reason() const { return reason_; }

    // A (possibly compressed) name starting at pos; pos moves past its bytes in place.
    // Each pointer must point before where the labels it continues began, so every jump
    // goes strictly backwards and a name cannot loop; jumps and length are bounded too.
    Step name(std::span<const uint8_t> within, size_t& pos, std::string& out) {
        out.clear();
        size_t p = pos;
        size_t run_start = pos;  // where the labels being read began
        size_t wire_length = 1;  // the root label
        int jumps = 0;
        for (;;) {
            if (p >= within.size()) return jumps ? bad("compressed name runs past the message") : cut("name cut short");
            uint8_t len = within[p];
            if ((len & 0xc0) == 0xc0) {
                if (p + 1 >= within.size()) return cut("compression pointer cut short");
                size_t target = (len & 0x3f) << 8 | within[p + 1];
                if (target >= run_start) return bad("compression pointer does not point backwards");
                if (++jumps > kMaxJumps) return bad("more than 16 compression pointers in one name");
                if (jumps == 1) pos = p + 2;
                p = run_start = target;
                continue;
            }
            if (len & 0xc0) return bad("unknown label type (extended labels are not used)");
            if (len == 0) {
                if (!jumps) pos = p + 1;
                return Step::ok;
            }
            if (p + 1 + len > within.size())
                return jumps ? bad("compressed name runs past the message") : cut("label cut short");
            wire_length += 1 + len;
            if (wire_length > kMaxNameWire) return bad("name longer than 255 bytes");
            if (!out.empty()) out.push_back('.');
            append_label(out, within.subspan(p + 1, len));
            p += 1 + len;
        }
    }

    Step question(size_t& pos, DnsQuestion& q) {
        if (auto s = name(msg_, pos, q.name); s != Step::ok) return s;
        wire::Cursor c(msg_, pos);
        q.type = c.u16();
        c.skip(2);  // class (mDNS: top bit asks for a unicast answer)
        if (!c.ok()) return cut("question cut short");
        pos = c.offset();
        return Step::ok;
    }

    Step record(size_t& pos, DnsRecord& r) {
        if (auto s = name(msg_, pos, r.name); s != Step::ok) return s;
        wire::Cursor c(msg_, pos);
        r.type = c.u16();
        c.skip(2);  // class (mDNS: top bit is cache-flush)
        r.ttl = c.u32();
        uint16_t rdlength = c.u16();
        size_t rdata_start = c.offset();
        auto rdata = c.take(rdlength);
        if (!c.ok()) return cut("record data cut short");
        pos = c.offset();
        // Names inside the data may point back anywhere before, but their own bytes must
        // stay within the record's data.
        auto upto_rdata_end = msg_.first(rdata_start + rdlength);
        switch (r.type) {
            case kTypeA:
            case kTypeAaaa: {
                size_t expected = r.type == kTypeA ? 4 : 16;
                if (rdlength != expected)
                    return bad(std::string(r.type == kTypeA ? "A" : "AAAA") + " record data is " +
                               std::to_string(rdlength) + " bytes, " + std::to_string(expected) + " expected");
                net::IpAddr a;
                if (r.type == kTypeA) {
                    uint8_t v4[4];
                    std::memcpy(v4, rdata.data(), 4);
                    a = net::IpAddr::v4(v4);
                } else {
                    std::memcpy(a.bytes.data(), rdata.data(), 16);
                }
                r.address = a;
                return Step::ok;
            }
            case kTypeCname:
            case kTypePtr:
            case kTypeNs:
                return target(upto_rdata_end, rdata_start, r.target);
            case kTypeSrv: {
                if (rdlength < 7) return bad("SRV record data shorter than 7 bytes");
                r.port = uint16_t(rdata[4] << 8 | rdata[5]);
                return target(upto_rdata_end, rdata_start + 6, r.target);
            }
            case kTypeTxt: {
                wire::Cursor t(rdata);
                while (!t.at_end()) {
                    uint8_t len = t.u8();
                    auto bytes = t.take(len);
                    if (!t.ok()) return bad("TXT string runs past its record data");
                    // Free text (a model name, "fn=Küche"), not a name: kept as UTF-8.
                    r.txt.push_back(text::printable(bytes));
                }
                return Step::ok;
            }
            default:
                return Step::ok;  // skipped by its length
        }
    }

private:
    Step target(std::span<const uint8_t> upto_rdata_end, size_t pos, std::string& out) {
        auto s = name(upto_rdata_end, pos, out);
        if (s == Step::cut) return bad("name runs past its record data");
        if (s == Step::ok && pos != upto_rdata_end.size()) return bad("bytes after the name in record data");
        return s;
    }
    Step cut(std::string r) {
        reason_ = std::move(r);
        return Step::cut;
    }
    Step bad(std::string r) {
        reason_ = std::move(r);
        return Step::bad;
    }

    std::span<const uint8_t> msg_;
    std::string reason_;
};

std::optional<DnsMessage> parse(std::span<const uint8_t> payload, bool allow_cut, std::string* why) {
    DnsMessage m;
    wire::Cursor c(payload);
    m.id = c.u16();
    uint16_t flags = c.u16();
    uint16_t qdcount = c.u16();
    uint32_t rrcount = uint32_t(c.u16()) + c.u16() + c.u16();  // answers, authority, additional
    if (!c.ok()) return refuse(why, "DNS message shorter than its 12-byte header");
    m.response = flags & 0x8000;
    m.rcode = flags & 0x0f;

    // The counts come from the sender: they only bound the loops below, which stop at the
    // bytes' end. A whole message must have room for what it counts.
    size_t room = payload.size() - kHeaderLength;
    if (!allow_cut && qdcount * kMinQuestion + rrcount * kMinRecord > room)
        return refuse(why, "counts say " + std::to_string(qdcount) + " questions and " + std::to_string(rrcount) +
                               " records, more than " + std::to_string(room) + " bytes can hold");

    Parser parser(payload);
    size_t pos = kHeaderLength;
    // A cut (the bytes ended) is the end of a copy when the caller allows it; anything
    // else that fails is the sender's fault.
    auto stopped = [&](Step s, const char* where, size_t index) -> std::optional<DnsMessage> {
        if (s == Step::cut && allow_cut) {
            m.cut_short = true;
            return std::move(m);
        }
        return refuse(why, std::string(where) + " " + std::to_string(index + 1) + ": " + parser.reason());
    };
    for (size_t i = 0; i < qdcount; ++i) {
        DnsQuestion q;
        if (auto s = parser.question(pos, q); s != Step::ok) return stopped(s, "question", i);
        m.questions.push_back(std::move(q));
    }
    for (size_t i = 0; i < rrcount; ++i) {
        DnsRecord r;
        if (auto s = parser.record(pos, r); s != Step::ok) return stopped(s, "record", i);
        m.answers.push_back(std::move(r));
    }
    return m;
}

}  // namespace

std::optional<DnsMessage> parse_dns(std::span<const uint8_t> payload, std::string* why) {
    return parse(payload, false, why);
}

std::optional<DnsMessage> parse_dns_prefix(std::span<const uint8_t> payload, std::string* why) {
    return parse(payload, true, why);
}

}  // namespace warden::identity
