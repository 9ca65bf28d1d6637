// libFuzzer target: text from outside at warden's boundaries. The promise: no input text can
// make a JSON dump throw (nlohmann::json throws type_error.316 on invalid UTF-8, which once
// stopped every poll of the controller). Checked three ways:
//   - text::printable makes any bytes safe, and first_flaw agrees with nlohmann's own
//     validation about which text it can dump;
//   - the identity store, fed the raw bytes as if a parser had passed them through, keeps
//     only text its JSON (the inventory) can hold;
//   - an inventory record read back with the bytes in every field does too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "identity/identity.h"
#include "text/text.h"

using namespace warden;
using nlohmann::json;

namespace {

bool dumps(const json& j) {
    try {
        (void)j.dump();
        return true;
    } catch (const json::exception&) {
        return false;
    }
}

void check_text(const std::string& raw) {
    std::string shown = text::printable(raw);
    FUZZ_CHECK(fuzz::safe(shown));
    FUZZ_CHECK(text::printable(shown) == shown);
    FUZZ_CHECK(shown.size() <= 4 * raw.size());
    for (size_t max : {size_t(0), size_t(1), size_t(3), raw.size() / 2, size_t(64)}) {
        std::string cut = text::printable(raw, max);
        FUZZ_CHECK(cut.size() <= max && fuzz::safe(cut));
        FUZZ_CHECK(shown.starts_with(cut));  // cut on a character boundary of the whole
    }
    auto flaw = text::first_flaw(raw);
    if (flaw) FUZZ_CHECK(flaw->offset < raw.size() && !flaw->str().empty());
    else FUZZ_CHECK(shown == raw);
    // warden's UTF-8 decoder and nlohmann's agree: a dump throws exactly on the text that
    // utf8_length finds invalid somewhere (control characters nlohmann escapes itself).
    bool valid_utf8 = true;
    for (size_t i = 0, n; i < raw.size(); i += n ? n : 1)
        if ((n = text::utf8_length(raw, i)) == 0) valid_utf8 = false;
    FUZZ_CHECK(dumps(json(raw)) == valid_utf8);
    if (!flaw) FUZZ_CHECK(valid_utf8);
}

void check_identity_store(const std::string& raw) {
    identity::IdentityStore store(nullptr, nullptr);
    identity::Dhcp4Message dhcp;
    dhcp.op = 1;
    dhcp.chaddr = *net::Mac::parse("02:00:00:00:00:01");
    dhcp.hostname = dhcp.vendor_class = dhcp.param_request_list = dhcp.client_id = raw;
    store.observe_dhcp4(dhcp, false, 1'000);
    identity::SsdpMessage ssdp;
    ssdp.headers["SERVER"] = raw;
    store.observe_ssdp(dhcp.chaddr, ssdp, 2'000);
    identity::DnsMessage query;
    query.questions.push_back({raw, 1});
    store.observe_dns(dhcp.chaddr, query, true, 3'000);
    for (const auto& [mac, saved] : store.save()) FUZZ_CHECK(dumps(saved));
}

void check_inventory_read_back(const std::string& raw) {
    json saved = {{"vendor", raw},           {"hostname", raw},
                  {"vendor_class", raw},     {"dhcp_fingerprint", raw},
                  {"client_id", raw},        {"mdns_services", {raw}},
                  {"models", {raw, "x"}},    {"dns_names", {raw}},
                  {"type", raw},             {"type_source", raw},
                  {"type_evidence", {raw}}};
    FUZZ_CHECK(dumps(identity::to_json(identity::identity_from_json(saved))));
    json event = {{"kind", raw}, {"nested", {{"list", {raw, 1, nullptr}}}}};
    text::printable_strings(event);
    FUZZ_CHECK(dumps(event));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string raw(reinterpret_cast<const char*>(data), size);
    check_text(raw);
    check_identity_store(raw);
    check_inventory_read_back(raw);
    return 0;
}
