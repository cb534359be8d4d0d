// Status and StatusOr<T>: errors as values across module boundaries.
//
// A Status is either OK or carries a code and a human-readable message that names what went
// wrong (a field path, a file and line, a peer). Functions that can fail because of user
// input, the network or the file system return Status or StatusOr<T>; broken invariants abort
// instead (see RT_CHECK in check.h).
//
// Thread-safety: values; safe to copy and move between threads.
#ifndef RINGTRAIN_COMMON_STATUS_H_
#define RINGTRAIN_COMMON_STATUS_H_

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <utility>

namespace ringtrain {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // user input (spec, flags, data) is malformed
  kNotFound,         // a file, key or object does not exist
  kAlreadyExists,
  kFailedPrecondition,
  kOutOfRange,
  kUnavailable,       // a peer or service could not be reached; retryable
  kDeadlineExceeded,  // a timeout expired; retryable
  kDataLoss,          // a file or message is corrupt
  kUnimplemented,
  kInternal,
  kCancelled,
  kPermissionDenied,  // not allowed (HTTP 401/403): retrying will not help until rights change
  kAborted,           // a concurrent change won (HTTP 409 Conflict): re-read and retry
};

// Returns a stable lower-case name such as "invalid argument".
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid argument: spec.training.batchSize: must be >= 1 (got 0)"
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(const std::string& context) const;

  // Explicitly discards a status whose failure does not matter (best-effort cleanup).
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status NotFound(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status FailedPrecondition(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status Unavailable(std::string m) { return Status(StatusCode::kUnavailable, std::move(m)); }
inline Status DeadlineExceeded(std::string m) {
  return Status(StatusCode::kDeadlineExceeded, std::move(m));
}
inline Status DataLoss(std::string m) { return Status(StatusCode::kDataLoss, std::move(m)); }
inline Status Unimplemented(std::string m) {
  return Status(StatusCode::kUnimplemented, std::move(m));
}
inline Status Internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }
inline Status Cancelled(std::string m) { return Status(StatusCode::kCancelled, std::move(m)); }
inline Status PermissionDenied(std::string m) {
  return Status(StatusCode::kPermissionDenied, std::move(m));
}
inline Status OutOfRange(std::string m) { return Status(StatusCode::kOutOfRange, std::move(m)); }
inline Status Aborted(std::string m) { return Status(StatusCode::kAborted, std::move(m)); }
inline Status AlreadyExists(std::string m) {
  return Status(StatusCode::kAlreadyExists, std::move(m));
}

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // REQUIRES: !status.ok()
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) {
      std::cerr << "StatusOr constructed from an OK status without a value\n";
      std::abort();
    }
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok()
  T& value() & {
    CheckOk();
    return *value_;
  }
  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void CheckOk() const {
    if (!status_.ok()) {
      std::cerr << "StatusOr::value() on error: " << status_.ToString() << "\n";
      std::abort();
    }
  }
  Status status_;
  std::optional<T> value_;
};

}  // namespace ringtrain

// Returns early from the enclosing function if `expr` (a Status) is not OK.
#define RT_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::ringtrain::Status rt_status_ = (expr); \
    if (!rt_status_.ok()) return rt_status_; \
  } while (0)

#define RT_CONCAT_INNER_(a, b) a##b
#define RT_CONCAT_(a, b) RT_CONCAT_INNER_(a, b)

// RT_ASSIGN_OR_RETURN(auto x, MakeX()); returns the error if MakeX() failed.
#define RT_ASSIGN_OR_RETURN(lhs, expr) \
  RT_ASSIGN_OR_RETURN_IMPL_(RT_CONCAT_(rt_statusor_, __LINE__), lhs, expr)
#define RT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // RINGTRAIN_COMMON_STATUS_H_
