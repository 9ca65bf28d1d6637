#include "web/http.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

namespace warden::web {

namespace {

constexpr size_t kMaxHeaders = 100;
constexpr size_t kMaxContentLengthDigits = 10;

// RFC 9110's tchar: what a method or a header name is made of.
bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char); }

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// What to print of a client's text in an error: short, and only printable ASCII.
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s.substr(0, 40)) out += c >= 0x20 && c < 0x7f ? c : '?';
    return out + (s.size() > 40 ? "...\"" : "\"");
}

const char* reason_phrase(int status) {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 415: return "Unsupported Media Type";
        case 421: return "Misdirected Request";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "";
    }
}

std::string kib(size_t bytes) { return bytes % 1024 ? std::to_string(bytes) + " bytes" : std::to_string(bytes / 1024) + " KiB"; }

}  // namespace

RequestReader::State RequestReader::refuse(int status, std::string why) {
    status_ = status;
    why_ = std::move(why);
    buffer_.clear();
    buffer_.shrink_to_fit();
    return state_ = State::refused;
}

size_t RequestReader::room() const {
    if (state_ != State::incomplete) return 0;
    // The head may end with "\n\r\n" past max_head_; add() refuses once more than that came.
    return head_done_ ? body_length_ - buffer_.size() : max_head_ + 4 - buffer_.size();
}

bool RequestReader::take_continue() { return std::exchange(continue_, false); }

RequestReader::State RequestReader::add(std::string_view bytes) {
    if (state_ != State::incomplete) return state_;
    buffer_.append(bytes);
    if (!head_done_) {
        // The head ends at an empty line: "\n\r\n" or "\n\n".
        size_t head_end = std::string::npos, body_start = 0;
        for (size_t pos = buffer_.find('\n', scanned_); pos != std::string::npos; pos = buffer_.find('\n', pos + 1)) {
            std::string_view after = std::string_view(buffer_).substr(pos + 1);
            if (after.starts_with("\n") || after.starts_with("\r\n")) {
                head_end = pos + 1;
                body_start = pos + (after.front() == '\n' ? 2 : 3);
                break;
            }
        }
        if (head_end == std::string::npos ? buffer_.size() > max_head_ + 3 : head_end > max_head_)
            return refuse(431, "the request line and headers are longer than " + kib(max_head_));
        if (head_end == std::string::npos) {
            scanned_ = buffer_.size() >= 2 ? buffer_.size() - 2 : 0;  // an empty line may start there
            return state_;
        }
        if (parse_head(std::string_view(buffer_).substr(0, head_end)) == State::refused) return state_;
        buffer_.erase(0, body_start);
        head_done_ = true;
        continue_ = continue_ && buffer_.size() < body_length_;
    }
    if (buffer_.size() < body_length_) return state_;
    buffer_.resize(body_length_);  // a pipelined request after it is not read: the connection closes
    request_.body = std::move(buffer_);
    continue_ = false;
    return state_ = State::complete;
}

RequestReader::State RequestReader::parse_head(std::string_view head) {
    std::vector<std::string_view> lines;
    while (!head.empty()) {
        size_t eol = head.find('\n');
        std::string_view line = head.substr(0, eol);
        if (line.ends_with('\r')) line.remove_suffix(1);
        lines.push_back(line);
        head.remove_prefix(eol + 1);
    }

    std::string_view line = lines.front();
    size_t sp1 = line.find(' '), sp2 = sp1 == line.npos ? line.npos : line.find(' ', sp1 + 1);
    if (sp2 == line.npos || line.find(' ', sp2 + 1) != line.npos)
        return refuse(400, "the request line " + quoted(line) + " is not METHOD /PATH HTTP/1.1");
    std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                     version = line.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        if (version.starts_with("HTTP/")) return refuse(505, "only HTTP/1.0 and HTTP/1.1 are spoken here, not " + quoted(version));
        return refuse(400, "the request line " + quoted(line) + " is not METHOD /PATH HTTP/1.1");
    }
    if (!is_token(method)) return refuse(400, "the method " + quoted(method) + " is not a word");
    if (!target.starts_with('/') || !std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
        return refuse(400, "the request target " + quoted(target) + " is not a path starting with /");
    request_.method = method;
    request_.path = target.substr(0, target.find_first_of("?#"));  // as sent: the Router decodes what it reads

    if (lines.size() - 1 > kMaxHeaders) return refuse(431, "more than " + std::to_string(kMaxHeaders) + " headers");
    std::string content_length;
    for (size_t i = 1; i < lines.size(); ++i) {
        line = lines[i];
        if (line.starts_with(' ') || line.starts_with('\t'))
            return refuse(400, "header line " + std::to_string(i) + " is folded (starts with white space)");
        size_t colon = line.find(':');
        std::string_view name = line.substr(0, colon);
        if (colon == line.npos || !is_token(name))
            return refuse(400, "header line " + std::to_string(i) + " " + quoted(line) + " is not Name: value");
        std::string_view value = trimmed(line.substr(colon + 1));
        if (std::any_of(value.begin(), value.end(), [](char c) { return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f; }))
            return refuse(400, "the header " + std::string(name) + " holds a control character");
        std::string key = lower(name);
        if (key == "transfer-encoding")
            return refuse(501, "bodies in chunks (Transfer-Encoding) are not accepted; send Content-Length");
        if (key == "content-length") {
            if (value.empty() || value.size() > kMaxContentLengthDigits ||
                !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
                return refuse(400, "Content-Length " + quoted(value) + " is not a number of bytes");
            if (!content_length.empty() && content_length != value)
                return refuse(400, "two different Content-Length headers");
            content_length = value;
        }
        if (key == "expect" && lower(value) == "100-continue") continue_ = true;
        request_.headers.emplace(std::move(key), std::string(value));  // the first of repeated headers counts
    }
    body_length_ = content_length.empty() ? 0 : std::stoull(content_length);
    if (body_length_ > max_body_)
        return refuse(413, "the body is " + std::to_string(body_length_) + " bytes; at most " + kib(max_body_) +
                               " are accepted");
    continue_ = continue_ && body_length_ > 0;
    return state_;
}

std::string serialize(const Response& response, bool head_only) {
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
    // Our own headers never hold a line break; if one ever did, it must not split the answer.
    auto text = [&](std::string_view s) {
        for (char c : s) out += c == '\r' || c == '\n' ? ' ' : c;
    };
    auto header = [&](std::string_view name, std::string_view value) {
        text(name);
        out += ": ";
        text(value);
        out += "\r\n";
    };
    if (!response.content_type.empty()) header("Content-Type", response.content_type);
    header("Content-Length", std::to_string(response.body.size()));
    header("Connection", "close");
    for (const auto& [name, value] : response.headers) header(name, value);
    out += "\r\n";
    if (!head_only) out += response.body;
    return out;
}

Response refusal(int status, const std::string& why) {
    Response r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "HTTP " + std::to_string(status) + ": " + why + "\n";
    r.headers = {{"X-Content-Type-Options", "nosniff"},
                 {"X-Frame-Options", "DENY"},
                 {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
                 {"Cache-Control", "no-store"}};
    return r;
}

}  // namespace warden::web
