#include "ringtrain/operator/kube/watch_event.h"

#include <string>

#include "ringtrain/operator/kube/api_status.h"

namespace ringtrain::op::kube {
namespace {

bool KnownType(const std::string& type) {
  return type == "ADDED" || type == "MODIFIED" || type == "DELETED" || type == "BOOKMARK" ||
         type == "ERROR";
}

}  // namespace

StatusOr<WatchEvent> ParseWatchLine(std::string_view path, std::string_view line) {
  const auto bad = [&](const std::string& why) {
    return DataLoss("WATCH " + std::string(path) + ": " + why + " in line \"" + Truncate(line) +
                    "\"");
  };
  nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return bad("not JSON");
  if (!parsed.is_object()) return bad("not a JSON object");
  auto type = parsed.find("type");
  if (type == parsed.end() || !type->is_string()) return bad("no string \"type\"");
  WatchEvent event;
  event.type = type->get<std::string>();
  if (!KnownType(event.type)) return bad("unknown event type \"" + event.type + "\"");
  auto object = parsed.find("object");
  if (object == parsed.end() || !object->is_object()) return bad("no object \"object\"");
  event.object = std::move(*object);
  return event;
}

Status WatchErrorStatus(std::string_view path, const WatchEvent& event) {
  Status status = StatusFromApiStatus("WATCH", path, event.object);
  if (status.code() == StatusCode::kOutOfRange) {
    return OutOfRange(status.message() + " (resourceVersion too old: relist and watch again)");
  }
  return status;
}

}  // namespace ringtrain::op::kube
