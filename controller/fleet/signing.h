// What makes an operator's message trustworthy: its canonical form (the bytes that are
// signed) and Ed25519 signatures over it, with OpenSSL. A compromised broker can drop or
// replay messages but cannot make one that verifies. docs/FLEET.md specifies the form, so
// that any operator tool can sign.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

typedef struct evp_pkey_st EVP_PKEY;

namespace warden::fleet {

// The bytes signed: "warden-fleet-v1\n" followed by the message without its "sig" member as
// compact JSON, object members sorted by key (byte order), no spaces, strings as UTF-8 with
// only '"', '\\' and control characters escaped (\b \f \n \r \t, else \u00xx). Numbers must
// be whole (no fractions or exponents): JSON libraries disagree on how to write the others.
// Throws std::invalid_argument when the message is not an object or holds a fractional number.
std::string canonical_form(const nlohmann::json& message);

std::string base64_encode(std::string_view bytes);
// Throws std::invalid_argument on text that is not base64 (padding included).
std::string base64_decode(std::string_view text);

// An Ed25519 key read from a PEM file: public (to verify) or private (to sign and verify).
class Key {
public:
    // Throws std::runtime_error naming the file and what is wrong with it (missing, not PEM,
    // not an Ed25519 key).
    static Key read_public(const std::string& path);
    static Key read_private(const std::string& path);

    // Whether signature (raw 64 bytes) is this key's over message.
    bool verify(std::string_view message, std::string_view signature) const;
    // The raw 64-byte signature; throws when the key is public only.
    std::string sign(std::string_view message) const;

    // A message signed whole: its "sig" member set to base64(sign(canonical_form(message))).
    nlohmann::json sign_message(nlohmann::json message) const;
    // Checks a message's "sig" member; returns "" when it verifies, else why not.
    std::string check_message(const nlohmann::json& message) const;

private:
    explicit Key(EVP_PKEY* key, bool is_private);
    std::shared_ptr<EVP_PKEY> key_;
    bool private_ = false;
};

}  // namespace warden::fleet
