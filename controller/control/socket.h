// The running controller's control socket (<state dir>/control.sock, store/layout.h): how the
// CLI reaches the control core inside `warden run`. A Unix stream socket, one request per
// connection: the client writes one JSON object and shuts its writing side; the server
// answers one JSON result (control/result.h) and closes. SO_PEERCRED tells who asks: root may
// change things, anyone the socket's mode lets in (the warden group) may only read.
//
// Why a socket and not the request spool: an operation's answer (done, refused, why) must
// reach the operator at once, from the process that did it; the spool remains only for what
// the behaviour engine must hear while no controller runs (control/learning.h).
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "control/result.h"

namespace warden::control {

class SocketServer {
public:
    // Handles one request; called on the server's thread (the daemon hands it to its loop).
    using Handler = std::function<Result(const nlohmann::json& request, const Who& who)>;
    // Which operations need root (the rest are reads).
    using NeedsRoot = std::function<bool(const std::string& op)>;

    // Listens at path (a stale socket there is replaced); mode 0660 with group warden when that
    // group exists, else 0600. Throws when it cannot listen.
    SocketServer(std::filesystem::path path, Handler handler, NeedsRoot needs_root);
    ~SocketServer();
    SocketServer(const SocketServer&) = delete;
    SocketServer& operator=(const SocketServer&) = delete;

    const std::filesystem::path& path() const { return path_; }

    // A request larger than this, or slower than this to arrive, is refused.
    static constexpr size_t kMaxRequest = 16u << 20;
    static constexpr std::chrono::seconds kReadDeadline{5};

private:
    void serve();
    void serve_one(int fd);

    std::filesystem::path path_;
    Handler handler_;
    NeedsRoot needs_root_;
    int listen_fd_ = -1;
    int stop_fd_ = -1;  // an eventfd that ends serve()
    std::thread thread_;
};

// What a user other than root is told when asking for op, which changes what warden enforces.
std::string needs_root_message(const std::string& op);

// Sends one request to the controller listening at path. Nothing when no controller answers
// there (no socket, or nobody listening); throws when one answered badly or too late.
std::optional<Result> ask(const std::filesystem::path& path, const nlohmann::json& request,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace warden::control
