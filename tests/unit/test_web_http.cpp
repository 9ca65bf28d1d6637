// The listeners' HTTP: a request read from pieces as they arrive, bounded, refused in words
// when it is not plain HTTP/1.x; answers as bytes. No sockets.
#include <doctest/doctest.h>

#include <string>

#include "web/http.h"

using namespace warden;
using web::RequestReader;
using State = RequestReader::State;

namespace {

constexpr size_t kHead = 1024, kBody = 64;

// Feeds text whole and one byte at a time; both must end the same way.
struct Fed {
    RequestReader whole{kHead, kBody}, bytewise{kHead, kBody};
    explicit Fed(std::string_view text) {
        whole.add(text);
        for (char c : text)
            if (bytewise.state() == State::incomplete) bytewise.add(std::string_view(&c, 1));
    }
    State state() const {
        CHECK(whole.state() == bytewise.state());
        return whole.state();
    }
    int status() const { return whole.refused_status(); }
    const std::string& why() const { return whole.refused_why(); }
    const web::Request& request() const { return whole.request(); }
};

}  // namespace

TEST_CASE("http: a request in pieces, headers by lower-case name, the path without its query, the body") {
    Fed f("POST /api/quarantine?x=1#frag HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
          "X-Twice: first\r\nX-Twice: second\r\nContent-Length: 11\r\n\r\n{\"mac\":\"a\"}");
    REQUIRE(f.state() == State::complete);
    CHECK(f.request().method == "POST");
    CHECK(f.request().path == "/api/quarantine");
    CHECK(f.request().header("host") == "gateway");
    CHECK(f.request().header("content-type") == "application/json");
    CHECK(f.request().header("x-twice") == "first");
    CHECK(f.request().body == "{\"mac\":\"a\"}");
    CHECK(f.bytewise.request().body == f.request().body);
}

TEST_CASE("http: bare LF line ends, a percent-encoded path kept as sent, HTTP/1.0, no body") {
    Fed f("GET /api/quarantine/aa%3Abb HTTP/1.0\nHost:  spaced  \n\n");
    REQUIRE(f.state() == State::complete);
    CHECK(f.request().path == "/api/quarantine/aa%3Abb");  // the Router decodes what it reads
    CHECK(f.request().header("host") == "spaced");
    CHECK(f.request().body.empty());
}

TEST_CASE("http: room() never lets more than the request in, and is never 0 while incomplete") {
    RequestReader r(kHead, kBody);
    CHECK(r.room() == kHead + 4);
    r.add("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
    CHECK(r.state() == State::incomplete);
    CHECK(r.room() == 3);
    r.add("cde");
    CHECK(r.state() == State::complete);
    CHECK(r.room() == 0);
    CHECK(r.request().body == "abcde");
    RequestReader head_only(kHead, kBody);
    head_only.add(std::string(kHead, 'x'));
    CHECK(head_only.state() == State::incomplete);
    CHECK(head_only.room() == 4);
}

TEST_CASE("http: Expect: 100-continue is asked for once, and only while a body is to come") {
    RequestReader r(kHead, kBody);
    r.add("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n");
    CHECK(r.take_continue());
    CHECK_FALSE(r.take_continue());
    RequestReader with_body(kHead, kBody);
    with_body.add("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}");
    CHECK_FALSE(with_body.take_continue());
    CHECK(with_body.state() == State::complete);
}

TEST_CASE("http: what is refused, with the status to answer and why in words") {
    struct Case {
        const char* text;
        int status;
        const char* why;
    };
    const std::string long_head = "GET /" + std::string(kHead, 'a') + " HTTP/1.1\r\n\r\n";
    const std::string endless = "GET / HTTP/1.1\r\nX: " + std::string(kHead, 'a');
    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 101; ++i) many += "X: 1\r\n";
    many += "\r\n";
    const Case cases[] = {
        {"\r\n\r\n", 400, "is not METHOD /PATH HTTP/1.1"},
        {"GET /\r\n\r\n", 400, "is not METHOD /PATH HTTP/1.1"},
        {"GET  / HTTP/1.1\r\n\r\n", 400, "is not METHOD /PATH HTTP/1.1"},
        {"GET / HTTP/2.0\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1"},
        {"GET / FTP/1.0\r\n\r\n", 400, "is not METHOD /PATH HTTP/1.1"},
        {"G(T / HTTP/1.1\r\n\r\n", 400, "the method \"G(T\" is not a word"},
        {"GET http://x/ HTTP/1.1\r\n\r\n", 400, "is not a path starting with /"},
        {"GET /\x01 HTTP/1.1\r\n\r\n", 400, "\"/?\" is not a path"},
        {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400, "header line 2 is folded"},
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "header line 1 \"Host : a\" is not Name: value"},
        {"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400, "is not Name: value"},
        {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400, "the header X holds a control character"},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "send Content-Length"},
        {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length \"-1\" is not a number of bytes"},
        {"POST / HTTP/1.1\r\nContent-Length: 12345678901\r\n\r\n", 400, "is not a number of bytes"},
        {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "two different Content-Length"},
        {"POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n", 413, "the body is 65 bytes; at most 64 bytes are accepted"},
        {long_head.c_str(), 431, "the request line and headers are longer than 1 KiB"},
        {endless.c_str(), 431, "longer than 1 KiB"},
        {many.c_str(), 431, "more than 100 headers"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        Fed f(c.text);
        REQUIRE(f.state() == State::refused);
        CHECK(f.status() == c.status);
        CHECK(f.why().find(c.why) != std::string::npos);
        CHECK(f.bytewise.refused_why() == f.why());
    }
    // The same Content-Length twice is one length.
    Fed same("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx");
    CHECK(same.state() == State::complete);
}

TEST_CASE("http: an answer says Connection: close and its length; HEAD gets the head only; no header splits it") {
    web::Response r;
    r.status = 404;
    r.content_type = "text/plain";
    r.body = "gone\n";
    r.headers = {{"X-Evil", "a\r\nSet-Cookie: b"}};
    std::string bytes = web::serialize(r, false);
    CHECK(bytes == "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n"
                   "X-Evil: a  Set-Cookie: b\r\n\r\ngone\n");
    std::string head = web::serialize(r, true);
    CHECK(head == bytes.substr(0, bytes.size() - r.body.size()));

    auto refused = web::refusal(413, "too big");
    CHECK(refused.status == 413);
    CHECK(refused.body == "HTTP 413: too big\n");
    std::string text = web::serialize(refused, false);
    for (const char* header : {"X-Content-Type-Options: nosniff", "X-Frame-Options: DENY",
                               "Content-Security-Policy: default-src 'none'", "Cache-Control: no-store"})
        CHECK(text.find(header) != std::string::npos);
}
