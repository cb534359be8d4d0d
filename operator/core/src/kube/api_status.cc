#include "ringtrain/operator/kube/api_status.h"

#include <string>

namespace ringtrain::op::kube {
namespace {

std::string HttpReasonPhrase(int code) {
  switch (code) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

std::string Prefix(std::string_view verb, std::string_view path, int http_status,
                   std::string_view reason) {
  std::string out =
      std::string(verb) + " " + std::string(path) + ": HTTP " + std::to_string(http_status);
  const std::string phrase = reason.empty() ? HttpReasonPhrase(http_status) : std::string(reason);
  if (!phrase.empty()) out += " " + phrase;
  return out;
}

std::string StringField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace

std::string Truncate(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "...";
}

StatusCode CodeForHttpStatus(int http_status, std::string_view reason) {
  switch (http_status) {
    case 400:
    case 422:
      return StatusCode::kInvalidArgument;
    case 401:
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kAborted;
    case 410:
      return StatusCode::kOutOfRange;
    case 408:
    case 504:
      return StatusCode::kDeadlineExceeded;
    case 429:
      return StatusCode::kUnavailable;
    default:
      break;
  }
  if (http_status >= 500) return StatusCode::kUnavailable;
  return StatusCode::kInvalidArgument;
}

Status StatusFromApiStatus(std::string_view verb, std::string_view path,
                           const nlohmann::json& status) {
  const std::string reason = StringField(status, "reason");
  const std::string message = StringField(status, "message");
  const auto code_it = status.is_object() ? status.find("code") : status.end();
  if (code_it == status.end() || !code_it->is_number_integer() || code_it->get<int64_t>() < 400 ||
      code_it->get<int64_t>() > 599) {
    return Internal(std::string(verb) + " " + std::string(path) +
                    ": the server sent an error without a valid code: " + Truncate(status.dump()));
  }
  const int http_status = code_it->get<int>();
  std::string text = Prefix(verb, path, http_status, reason);
  if (!message.empty()) text += ": " + message;
  return Status(CodeForHttpStatus(http_status, reason), text);
}

Status StatusFromHttp(std::string_view verb, std::string_view path, int http_status,
                      std::string_view body) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && StringField(parsed, "kind") == "Status") {
    // The body's code normally equals the HTTP status; the HTTP status is authoritative.
    parsed["code"] = http_status;
    return StatusFromApiStatus(verb, path, parsed);
  }
  std::string text = Prefix(verb, path, http_status, "");
  if (!body.empty()) text += ": " + Truncate(body);
  return Status(CodeForHttpStatus(http_status, ""), text);
}

}  // namespace ringtrain::op::kube
