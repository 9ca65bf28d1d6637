#include "fleet/transport.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

TcpProbe::TcpProbe(const std::string& host, uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
        state_ = State::failed;
        why_ = std::string("cannot resolve ") + host + ": " + gai_strerror(rc);
        return;
    }
    fd_ = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || (::connect(fd_, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS)) {
        state_ = State::failed;
        why_ = std::strerror(errno);
    }
    freeaddrinfo(found);
}

TcpProbe::~TcpProbe() {
    if (fd_ >= 0) close(fd_);
}

TcpProbe::State TcpProbe::wait(int timeout_ms) {
    if (state_ != State::pending) return state_;
    pollfd p{fd_, POLLOUT, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return state_;
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
    state_ = error ? State::failed : State::open;
    if (error) why_ = std::strerror(error);
    return state_;
}

int64_t Backoff::next_ms() {
    int64_t wait = std::uniform_int_distribution<int64_t>(step_ms_ / 2, step_ms_)(rng_);
    step_ms_ = std::min(step_ms_ * 2, max_ms_);
    return wait;
}

}  // namespace warden::fleet
