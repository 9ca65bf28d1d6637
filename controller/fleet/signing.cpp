#include "fleet/signing.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace warden::fleet {

using nlohmann::json;

namespace {

constexpr std::string_view kDomain = "warden-fleet-v1\n";

void check_numbers(const json& j) {
    if (j.is_number_float()) throw std::invalid_argument("a signed message holds only whole numbers");
    if (j.is_structured())
        for (const auto& item : j) check_numbers(item);
}

std::string openssl_error() {
    unsigned long e = ERR_get_error();
    if (!e) return "unknown error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

EVP_PKEY* read_pem(const std::string& path, bool is_private) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
    EVP_PKEY* key = is_private ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr)
                               : PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!key)
        throw std::runtime_error(path + ": not a PEM " + (is_private ? "private" : "public") +
                                 " key (" + openssl_error() + ")");
    if (EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        throw std::runtime_error(path + ": not an Ed25519 key (make one with: openssl genpkey -algorithm ed25519)");
    }
    return key;
}

}  // namespace

std::string canonical_form(const json& message) {
    if (!message.is_object()) throw std::invalid_argument("a signed message is a JSON object");
    json body = message;
    body.erase("sig");
    check_numbers(body);
    // nlohmann::json keeps object members in a std::map: dump() writes them sorted by key
    // bytes, compact, UTF-8 unescaped (ensure_ascii false), as the form requires.
    return std::string(kDomain) + body.dump(-1, ' ', false, json::error_handler_t::strict);
}

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) throw std::invalid_argument("not base64 (length is not a multiple of 4)");
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        bool pad = c == '=' && i + 2 >= text.size();
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || pad))
            throw std::invalid_argument("not base64 (character " + std::to_string(i) + ")");
    }
    std::string out(3 * text.size() / 4, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) throw std::invalid_argument("not base64");
    // EVP_DecodeBlock counts the padding as zero bytes.
    size_t pad = 0;
    if (!text.empty() && text.back() == '=') pad = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

Key::Key(EVP_PKEY* key, bool is_private) : key_(key, EVP_PKEY_free), private_(is_private) {}

Key Key::read_public(const std::string& path) { return Key(read_pem(path, false), false); }
Key Key::read_private(const std::string& path) { return Key(read_pem(path, true), true); }

bool Key::verify(std::string_view message, std::string_view signature) const {
    if (signature.size() != 64) return false;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx) return false;
    // Ed25519 signs the message itself (no separate digest): EVP_DigestVerify in one shot.
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
              EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                               reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

std::string Key::sign(std::string_view message) const {
    if (!private_) throw std::runtime_error("this key is public only: it cannot sign");
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx) throw std::runtime_error("out of memory");
    std::string sig(64, '\0');
    size_t len = sig.size();
    bool ok = EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
              EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) throw std::runtime_error("signing failed: " + openssl_error());
    sig.resize(len);
    return sig;
}

json Key::sign_message(json message) const {
    message["sig"] = base64_encode(sign(canonical_form(message)));
    return message;
}

std::string Key::check_message(const json& message) const {
    if (!message.is_object() || !message.contains("sig")) return "unsigned (no \"sig\")";
    if (!message["sig"].is_string()) return "\"sig\" is not a string";
    std::string sig, form;
    try {
        sig = base64_decode(message["sig"].get<std::string>());
        form = canonical_form(message);
    } catch (const std::exception& e) {
        return std::string("bad signature: ") + e.what();
    }
    if (sig.size() != 64) return "bad signature: an Ed25519 signature is 64 bytes, found " + std::to_string(sig.size());
    if (!verify(form, sig)) return "bad signature: it does not verify with the operator's key";
    return "";
}

}  // namespace warden::fleet
