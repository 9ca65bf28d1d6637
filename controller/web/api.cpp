#include "web/api.h"

#include <algorithm>
#include <cctype>

#include "log/log.h"
#include "view/devices.h"
#include "web/assets.h"
#include "web/metrics.h"
#include "web/token.h"

namespace warden::web {

using nlohmann::json;

namespace {

constexpr const char* kJson = "application/json; charset=utf-8";
constexpr int64_t kWeekMs = 7 * 86'400'000ll;
constexpr size_t kRecentThreats = 100;

Response json_response(int status, const json& body) {
    Response r;
    r.status = status;
    r.content_type = kJson;
    r.body = body.dump();
    return r;
}

Response error(int status, const std::string& message) { return json_response(status, {{"error", message}}); }

// A control core result as an HTTP response.
Response from_result(const control::Result& r) {
    using S = control::Result::Status;
    if (r.ok()) {
        json body = r.detail;
        if (!r.warnings.empty()) body["warnings"] = r.warnings;
        return json_response(200, body);
    }
    int status = r.status == S::invalid ? 400 : r.status == S::not_found ? 404 : r.status == S::refused ? 409 : 503;
    return error(status, r.message);
}

Response method_not_allowed(const char* allow) {
    Response r = error(405, std::string("method not allowed; this path takes ") + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "%3A" -> ':' (the page encodes the MAC in the path; some clients do not).
std::string percent_decoded(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

bool host_allowed(const std::string& host_header, const std::vector<std::string>& hostnames) {
    std::string host = lower(host_header);
    if (host.empty()) return false;
    if (host.front() == '[') {  // [v6]:port
        auto close = host.find(']');
        return close != std::string::npos && net::IpAddr::parse(host.substr(1, close - 1)).has_value();
    }
    if (auto colon = host.rfind(':'); colon != std::string::npos) host.resize(colon);
    if (!host.empty() && host.back() == '.') host.pop_back();  // "gateway.lan." is "gateway.lan"
    if (host.empty()) return false;
    if (net::IpAddr::parse(host)) return true;
    if (host == "localhost" || host.find('.') == std::string::npos) return true;
    for (const char* suffix : {".lan", ".home.arpa", ".local", ".internal", ".localdomain"})
        if (ends_with(host, suffix)) return true;
    return std::find(hostnames.begin(), hostnames.end(), host) != hostnames.end();
}

std::string cross_site_reason(const Request& request) {
    std::string site = lower(request.header("sec-fetch-site"));
    if (!site.empty() && site != "same-origin")
        return "cross-site request refused (Sec-Fetch-Site: " + site + ")";
    if (request.headers.count("origin")) {
        std::string origin = lower(request.header("origin"));
        std::string host = lower(request.header("host"));
        if (host.empty() || (origin != "http://" + host && origin != "https://" + host))
            return "cross-site request refused (Origin " + origin.substr(0, 100) + " is not this page)";
    }
    return "";
}

Router::Router(Source& source, RouterSettings settings) : source_(source), settings_(std::move(settings)) {}

Response Router::handle(const Request& request) const {
    Response r;
    try {
        r = route(request);
    } catch (const std::exception& e) {
        log::error("web: {} {}: {}", request.method, request.path, e.what());
        r = error(500, e.what());
    }
    // No page of warden's may be framed, sniffed into another type, or cached.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
                           "object-src 'none'");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

Response Router::route(const Request& request) const {
    std::string method = request.method == "HEAD" ? "GET" : request.method;
    const std::string& path = request.path;

    if (settings_.metrics && path == "/metrics") {
        if (method != "GET") return method_not_allowed("GET");
        auto snapshot = source_.snapshot();
        if (!snapshot) return error(503, "warden has not polled its maps yet; try again in a second");
        Response r;
        r.content_type = kMetricsContentType;
        r.body = render_metrics(*snapshot);
        return r;
    }
    if (!settings_.page) {
        if (path == "/" && method == "GET") {
            Response r;
            r.content_type = "text/plain; charset=utf-8";
            r.body = "warden: metrics are at /metrics\n";
            return r;
        }
        return error(404, "not found");
    }

    // The page: only under a name a rebinding attacker cannot use.
    if (!host_allowed(request.header("host"), settings_.hostnames))
        return error(421, "this page answers to the gateway's address or a local name, not \"" +
                              request.header("host").substr(0, 100) +
                              "\" (add it to status_page.hostnames in the policy if it is yours)");

    if (path.rfind("/api/", 0) != 0) {
        if (method != "GET") return method_not_allowed("GET");
        const Asset* asset = find_asset(path == "/" ? "/index.html" : path);
        if (!asset) return error(404, "not found");
        Response r;
        r.content_type = std::string(asset->content_type);
        r.body = std::string(asset->body);
        return r;
    }

    if (path == "/api/quarantine" && method == "POST") return change(request);
    if (path.rfind("/api/quarantine/", 0) == 0 && path != "/api/quarantine/") {
        bool release_path = ends_with(path, "/release");
        if ((release_path && method == "POST") || (!release_path && method == "DELETE")) return change(request);
        return method_not_allowed(release_path ? "POST" : "DELETE");
    }
    if (path == "/api/auth") {
        // Lets the page tell a mistyped token at once, before any button is pressed.
        if (method != "GET") return method_not_allowed("GET");
        if (!token_matches(bearer_token(request.header("authorization")), settings_.token)) {
            Response r = error(401, "wrong or missing admin token");
            r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"warden\"");
            return r;
        }
        return json_response(200, {{"ok", true}});
    }

    if (path != "/api/devices" && path != "/api/findings" && path != "/api/quarantine" && path != "/api/summary")
        return error(404, "no such API: " + path.substr(0, 100));
    if (method != "GET") return method_not_allowed(path == "/api/quarantine" ? "GET, POST" : "GET");
    if (path == "/api/quarantine") {
        auto r = source_.submit({{"op", "list_quarantines"}});
        return r.ok() ? json_response(200, r.detail.value("quarantines", json::array())) : from_result(r);
    }
    auto snapshot = source_.snapshot();
    if (!snapshot) return error(503, "warden has not polled its maps yet; try again in a second");
    if (path == "/api/devices") {
        json list = json::array();
        for (const auto& d : snapshot->devices) list.push_back(view::to_json(d));
        return json_response(200, list);
    }
    if (path == "/api/findings")
        return json_response(200, snapshot->threats ? json(snapshot->threats->findings) : json::array());
    return json_response(200, summary(*snapshot));
}

// Every change: same-site, with the token, JSON.
Response Router::change(const Request& request) const {
    if (auto why = cross_site_reason(request); !why.empty()) return error(403, why);
    if (!token_matches(bearer_token(request.header("authorization")), settings_.token)) {
        Response r = error(401, "this needs the admin token (Authorization: Bearer <token>; the token is in the "
                                "state dir's admin-token file)");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"warden\"");
        return r;
    }
    std::string type = lower(request.header("content-type"));
    if (type.substr(0, type.find(';')) != "application/json")
        return error(415, "send the request as JSON (Content-Type: application/json)");
    if (request.path == "/api/quarantine") return add_quarantine(request);
    std::string rest = request.path.substr(std::string("/api/quarantine/").size());
    if (ends_with(rest, "/release")) rest.resize(rest.size() - std::string("/release").size());
    return release(percent_decoded(rest));
}

Response Router::add_quarantine(const Request& request) const {
    json body;
    try {
        body = json::parse(request.body.empty() ? "{}" : request.body);
    } catch (const json::exception&) {
        return error(400, "the body is not JSON");
    }
    if (!body.is_object()) return error(400, "expected a JSON object with mac, and optionally level, duration and reason");
    for (const auto& [key, value] : body.items()) {
        if (key != "mac" && key != "level" && key != "duration" && key != "reason")
            return error(400, "unknown field \"" + key.substr(0, 40) + "\"; expected mac, level, duration, reason");
        if (!value.is_string()) return error(400, "\"" + key + "\" must be a string");
    }
    if (!body.contains("mac")) return error(400, "\"mac\" is missing");
    json order = body;
    order["op"] = "quarantine";
    if (body.value("reason", std::string()).empty()) order["reason"] = "from the status page";
    auto result = source_.submit(order);
    if (result.ok()) log::info("web: {}", result.message);
    return from_result(result);
}

Response Router::release(const std::string& mac_text) const {
    auto result = source_.submit({{"op", "release"}, {"mac", mac_text}});
    if (result.ok()) log::info("web: {} from the status page", result.message);
    return from_result(result);
}

json Router::summary(const Snapshot& s) const {
    json today = json::object();
    for (const auto& [mac, t] : s.today)
        today[mac.str()] = {{"up", t.up}, {"down", t.down}, {"lateral", t.lateral}};
    int64_t week_from = s.time_ms - kWeekMs;
    uint64_t n_today = 0, n_week = 0;
    json kinds_today = json::object(), kinds_week = json::object(), recent = json::array();
    json evidence = json::object();
    if (s.threats) {
        // Incidents, not log lines: a quarantine and the traffic blocked after it are one; an
        // administrator's own quarantine is listed but is no threat.
        const auto& list = s.threats->incidents;
        for (auto it = list.rbegin(); it != list.rend(); ++it) {  // newest first
            if (it->last_ms < week_from && !it->open) continue;
            if (it->threat) {
                ++n_week;
                kinds_week[it->kind] = kinds_week.value(it->kind, 0) + 1;
                if (it->last_ms >= s.midnight_ms || it->open) {
                    ++n_today;
                    kinds_today[it->kind] = kinds_today.value(it->kind, 0) + 1;
                }
            }
            if (recent.size() < kRecentThreats)
                recent.push_back({{"time_ms", it->started_ms},
                                  {"last_ms", it->last_ms},
                                  {"kind", it->kind},
                                  {"mac", it->mac.str()},
                                  {"detector", it->detector},
                                  {"text", it->text},
                                  {"action", it->action},
                                  {"blocked", it->blocked},
                                  {"findings", it->findings},
                                  {"open", it->open},
                                  {"threat", it->threat}});
            // What explains a device's quarantine: the finding its incident started with (an
            // administrator's quarantine has its reason, shown with it, and no finding).
            if (it->kind == "quarantine" && !it->detector.empty() && !it->text.empty() &&
                !evidence.contains(it->mac.str()))
                evidence[it->mac.str()] = it->text;
        }
    }
    json ports = json::array();  // whether each port is guarded (not the kernel's ids: the household needs none)
    for (const auto& p : s.ports)
        ports.push_back({{"interface", p.interface},
                         {"role", ports::to_string(p.role)},
                         {"optional", p.optional},
                         {"state", ports::to_string(p.state)},
                         {"faults", p.faults}});
    return {{"time_ms", s.time_ms},
            {"midnight_ms", s.midnight_ms},
            {"ports", ports},
            {"week_from_ms", week_from},
            {"today", today},
            {"threats",
             {{"today", n_today}, {"week", n_week}, {"today_by_kind", kinds_today}, {"week_by_kind", kinds_week},
              {"recent", recent}}},
            {"evidence", evidence}};
}

}  // namespace warden::web
