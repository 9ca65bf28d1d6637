// HTTP/1.1 as the listeners speak it: a request read from bytes as they arrive, bounded in
// size, and an answer written as bytes. One request per connection (every answer says
// Connection: close), bodies only with Content-Length. No sockets here.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::web {

// What the Router (api.h) is asked and answers.
struct Request {
    std::string method;  // "GET", "POST", ...
    std::string path;    // without the query
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;

    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it != headers.end() ? it->second : "";
    }
};

struct Response {
    int status = 200;
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

// One request, fed in pieces. The head (request line and headers) and the body each have a
// size limit; past it, or on anything that is not plain HTTP/1.x, the request is refused
// with the status to answer and why, in words.
class RequestReader {
public:
    enum class State { incomplete, complete, refused };

    RequestReader(size_t max_head, size_t max_body) : max_head_(max_head), max_body_(max_body) {}

    State add(std::string_view bytes);
    State state() const { return state_; }
    // How many more bytes the request may still take: read no more than this (never 0
    // while incomplete).
    size_t room() const;
    // True once, when the head asked for "Expect: 100-continue" and the body is still to come.
    bool take_continue();

    const Request& request() const { return request_; }  // when complete
    int refused_status() const { return status_; }       // when refused
    const std::string& refused_why() const { return why_; }

private:
    State refuse(int status, std::string why);
    State parse_head(std::string_view head);

    size_t max_head_, max_body_;
    State state_ = State::incomplete;
    std::string buffer_;  // the head so far, then the body so far
    size_t scanned_ = 0;  // where to look for the end of the head next
    bool head_done_ = false;
    size_t body_length_ = 0;
    bool continue_ = false;
    Request request_;
    int status_ = 0;
    std::string why_;
};

// The bytes of an answer. A HEAD request gets the headers only (with the body's length).
std::string serialize(const Response& response, bool head_only);

// The answer to a request refused before it reached the Router (too big, too slow, too
// many connections): plain text saying why, with the headers every answer carries.
Response refusal(int status, const std::string& why);

}  // namespace warden::web
