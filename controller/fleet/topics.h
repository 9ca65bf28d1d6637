// The MQTT topics of the fleet channel (docs/FLEET.md): the schema's major version is in each
// topic, so a new major version runs beside the old one while gateways move over.
#pragma once

#include <string>

namespace warden::fleet::topics {

// Up, from a gateway; the broker's ACL lets a gateway publish only under its own id.
inline std::string up(const std::string& gateway, const std::string& what) { return "up/v1/" + gateway + "/" + what; }
inline std::string status(const std::string& gw) { return up(gw, "status"); }        // retained; last will "offline"
inline std::string events(const std::string& gw) { return up(gw, "events"); }
inline std::string inventory(const std::string& gw) { return up(gw, "inventory"); }
inline std::string health(const std::string& gw) { return up(gw, "health"); }
inline std::string acks(const std::string& gw) { return up(gw, "acks"); }
// Per-type profiles: the type first, so aggregators split the work by type.
inline std::string profile(const std::string& type, const std::string& gw) { return "prof/v1/" + type + "/" + gw; }

// Down, to gateways.
inline std::string commands(const std::string& gw) { return "cmd/v1/" + gw; }
inline const std::string blocklist = "bcast/v1/blocklist";  // retained, signed
inline std::string priors(const std::string& type) { return "bcast/v1/priors/" + type; }  // retained, signed
inline const std::string all_priors = "bcast/v1/priors/+";

}  // namespace warden::fleet::topics
