#include "control/result.h"

#include <array>
#include <stdexcept>
#include <utility>

namespace warden::control {

using nlohmann::json;

namespace {

constexpr std::array<std::pair<Origin, std::string_view>, 6> kOrigins{{
    {Origin::cli, "cli"},
    {Origin::page, "page"},
    {Origin::household, "household"},
    {Origin::cloud, "cloud"},
    {Origin::detector, "detector"},
    {Origin::warden, "warden"},
}};

constexpr std::array<std::pair<Result::Status, std::string_view>, 5> kStatuses{{
    {Result::Status::ok, "ok"},
    {Result::Status::invalid, "invalid"},
    {Result::Status::not_found, "not_found"},
    {Result::Status::refused, "refused"},
    {Result::Status::failed, "failed"},
}};

}  // namespace

std::string_view origin_name(Origin origin) {
    for (const auto& [o, name] : kOrigins)
        if (o == origin) return name;
    return "warden";
}

std::optional<Origin> parse_origin(std::string_view name) {
    for (const auto& [o, n] : kOrigins)
        if (n == name) return o;
    return std::nullopt;
}

std::string_view status_name(Result::Status status) {
    for (const auto& [s, name] : kStatuses)
        if (s == status) return name;
    return "failed";
}

int Result::exit_code() const {
    switch (status) {
        case Status::ok: return 0;
        case Status::invalid: return 2;
        default: return 1;
    }
}

Result Result::done(std::string message, json detail) {
    Result r;
    r.message = std::move(message);
    r.detail = std::move(detail);
    return r;
}

Result Result::error(Status status, std::string message) {
    Result r;
    r.status = status;
    r.message = std::move(message);
    return r;
}

json Result::to_json() const {
    return {{"status", std::string(status_name(status))},
            {"message", message},
            {"warnings", warnings},
            {"detail", detail}};
}

Result Result::from_json(const json& j) {
    if (!j.is_object() || !j.contains("status") || !j["status"].is_string())
        throw std::invalid_argument("not a result: " + j.dump().substr(0, 200));
    Result r;
    r.status = Status::failed;
    std::string s = j["status"].get<std::string>();
    for (const auto& [status, name] : kStatuses)
        if (name == s) r.status = status;
    r.message = j.value("message", std::string());
    if (j.contains("warnings") && j["warnings"].is_array())
        for (const auto& w : j["warnings"])
            if (w.is_string()) r.warnings.push_back(w.get<std::string>());
    if (j.contains("detail")) r.detail = j["detail"];
    return r;
}

}  // namespace warden::control
