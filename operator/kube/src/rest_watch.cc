// RestClient::Watch: a GET ?watch=1 whose chunked body is read line by line as it arrives.
//
// cpprestsdk completes the request task when the headers arrive and keeps reading the body
// into the response's stream buffer in the background; read_line() on that stream completes
// per line. Its client timeout is an idle timer, reset by every chunk, so it bounds the silence
// between chunks rather than the watch's length. Leaving early (stop, on_event == false, an
// error) must close the connection, or the background reader would keep buffering events no
// one reads: the cancellation token does that.
#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>

#include "rest_client_impl.h"
#include "ringtrain/operator/kube/api_status.h"
#include "ringtrain/operator/kube/url.h"
#include "ringtrain/operator/kube/watch_event.h"
#include "task_wait.h"

namespace ringtrain::op::kube {
namespace {

// Cancels the request when the watch returns before the server ended the stream.
class CancelOnExit {
 public:
  explicit CancelOnExit(pplx::cancellation_token_source& cts) : cts_(cts) {}
  ~CancelOnExit() {
    if (!finished_) cts_.cancel();
  }
  CancelOnExit(const CancelOnExit&) = delete;
  CancelOnExit& operator=(const CancelOnExit&) = delete;
  void Finished() { finished_ = true; }

 private:
  pplx::cancellation_token_source& cts_;
  bool finished_ = false;
};

}  // namespace

Status RestClient::Impl::Watch(const Resource& r, const std::string& ns,
                               const WatchOptions& watch_options,
                               const std::function<bool(const WatchEvent&)>& on_event,
                               const std::atomic<bool>& stop) {
  const std::string collection = r.CollectionPath(ns);
  if (watch_options.server_timeout.count() <= 0 ||
      watch_options.server_timeout >= options.watch_read_timeout) {
    return InvalidArgument("WATCH " + collection + ": server_timeout (" +
                           std::to_string(watch_options.server_timeout.count()) +
                           " s) must be > 0 and < the client's watch_read_timeout (" +
                           std::to_string(options.watch_read_timeout.count()) + " s)");
  }
  QueryParams query = {{"watch", "1"}};
  if (!watch_options.resource_version.empty()) {
    query.emplace_back("resourceVersion", watch_options.resource_version);
  }
  if (!watch_options.label_selector.empty()) {
    query.emplace_back("labelSelector", watch_options.label_selector);
  }
  if (watch_options.allow_bookmarks) query.emplace_back("allowWatchBookmarks", "true");
  query.emplace_back("timeoutSeconds", std::to_string(watch_options.server_timeout.count()));
  const std::string path = WithQuery(collection, query);
  const std::string what = "WATCH " + path;

  RT_ASSIGN_OR_RETURN(web::http::http_request request, NewRequest(web::http::methods::GET, path));
  pplx::cancellation_token_source cts;
  CancelOnExit cancel_on_exit(cts);

  // 1. Headers, within request_timeout.
  pplx::task<web::http::http_response> headers;
  try {
    headers = watches->request(request, cts.get_token());
  } catch (...) {
    return StatusFromException(what, std::current_exception());
  }
  switch (WaitTask(headers, Clock::now() + options.request_timeout, &stop, cts)) {
    case WaitOutcome::kStopped:
      return Cancelled(what + ": stopped");
    case WaitOutcome::kDeadline:
      return DeadlineExceeded(what + ": no response headers within " +
                              std::to_string(options.request_timeout.count()) + " s");
    case WaitOutcome::kDone:
      break;
  }
  web::http::http_response response;
  try {
    response = headers.get();
  } catch (...) {
    return StatusFromException(what, std::current_exception());
  }

  // 2. An error status: its body is a Status object of bounded size.
  if (response.status_code() != web::http::status_codes::OK) {
    if (response.status_code() < 400) {
      return Unavailable(what + ": unexpected HTTP " + std::to_string(response.status_code()));
    }
    std::string text;
    pplx::task<std::string> body = response.extract_utf8string(true);
    if (WaitTask(body, Clock::now() + options.request_timeout, &stop, cts) == WaitOutcome::kDone) {
      try {
        text = body.get();
      } catch (...) {  // the status alone still says what happened
      }
    }
    return StatusFromHttp("WATCH", path, response.status_code(), text);
  }

  // 3. Events, one JSON object per line, until the server ends the stream.
  concurrency::streams::istream stream = response.body();
  for (;;) {
    if (stop.load()) return Cancelled(what + ": stopped");
    concurrency::streams::container_buffer<std::string> line_buffer;
    pplx::task<size_t> read;
    try {
      read = stream.read_line(line_buffer);
    } catch (...) {
      return StatusFromException(what, std::current_exception());
    }
    // No deadline of our own: cpprestsdk's idle timer (watch_read_timeout) ends a dead stream.
    if (WaitTask(read, Clock::time_point::max(), &stop, cts) == WaitOutcome::kStopped) {
      return Cancelled(what + ": stopped");
    }
    try {
      read.get();
    } catch (...) {
      return StatusFromException(what + ": reading the event stream", std::current_exception());
    }
    const std::string& line = line_buffer.collection();
    const bool at_end = stream.is_eof();
    if (!line.empty()) {
      RT_ASSIGN_OR_RETURN(WatchEvent event, ParseWatchLine(path, line));
      if (event.type == "ERROR") return WatchErrorStatus(path, event);
      if (!on_event(event)) return Status::Ok();
    }
    if (at_end) {
      cancel_on_exit.Finished();
      return Status::Ok();
    }
  }
}

}  // namespace ringtrain::op::kube
