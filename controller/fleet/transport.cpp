#include "fleet/transport.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <mutex>
#include <stdexcept>

#include "log/log.h"

namespace warden::fleet {

namespace {
std::once_flag library_once;
}

struct mosquitto* new_client(const std::string& client_id, bool keep_session, void* owner,
                             const policy::Fleet& settings) {
    std::call_once(library_once, [] { mosquitto_lib_init(); });
    struct mosquitto* mosq = mosquitto_new(client_id.c_str(), !keep_session, owner);
    if (!mosq) throw std::runtime_error("fleet: cannot create the MQTT client");
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    if (settings.insecure) {
        log::warn("fleet: INSECURE: the channel to {}:{} is plain TCP, unauthenticated and readable by anyone on the "
                  "path (insecure: true; for labs only)",
                  settings.host, settings.port);
        return mosq;
    }
    int rc = mosquitto_tls_set(mosq, settings.ca.c_str(), nullptr, settings.cert.c_str(), settings.key.c_str(), nullptr);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_tls_opts_set(mosq, 1 /* verify the broker */, "tlsv1.2", nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(mosq);
        throw std::runtime_error("fleet: TLS settings refused (ca " + settings.ca + ", cert " + settings.cert +
                                 ", key " + settings.key + "): " + mosquitto_strerror(rc));
    }
    return mosq;
}

int64_t Backoff::next_ms() {
    int64_t wait = std::uniform_int_distribution<int64_t>(step_ms_ / 2, step_ms_)(rng_);
    step_ms_ = std::min(step_ms_ * 2, max_ms_);
    return wait;
}

}  // namespace warden::fleet
