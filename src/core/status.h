// Status: the outcome of an operation that can fail, carried as a value across module boundaries.
//
// A Status is either OK (no allocation, a null pointer) or an error with a code and a message.
// The code tells the caller what to do next: retry a transient failure, stop on a permanent one,
// apply the job's bad-record policy to a data error. Context is prepended as the error travels
// up ("sink postgres 'orders': " + "connection refused").
//
// Thread-safety: a Status is a value; distinct objects may be used from distinct threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace sluice {

enum class StatusCode : unsigned char {
  kOk = 0,
  kInvalidConfig,     // job file, option or command-line problem: fix the configuration
  kNotFound,          // missing file, table, database or column
  kPermissionDenied,  // wrong password, missing privilege, unwritable path
  kUnavailable,       // transient: connection refused or lost, server restarting; retry
  kAborted,           // transient: deadlock, lock-wait timeout, serialization failure; retry
  kDataError,         // a value or record that does not fit: subject to the `errors:` policy
  kIoError,           // local I/O failure (disk full, read error)
  kUnsupported,       // a feature or type this connector cannot handle
  kCancelled,         // stopped on request (SIGINT/SIGTERM)
  kConflict,          // another run of the same job holds it, or took it over from this one
  kInternal,          // a bug in Sluice
};

/// Returns a short lower-case name for `code` ("not found", "data error", ...).
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(StatusCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  /// The message without the code name; empty when OK.
  const std::string& message() const;
  /// True for failures worth retrying after a backoff.
  bool IsTransient() const {
    return code() == StatusCode::kUnavailable || code() == StatusCode::kAborted;
  }

  /// Returns a copy whose message is `context + ": " + message()`. OK stays OK.
  Status WithContext(std::string_view context) const;
  /// "data error: orders.csv:3:7: ..." or "OK".
  std::string ToString() const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

// Constructors named after the codes, taking a message built by the caller (often fmt::format).
inline Status InvalidConfig(std::string m) {
  return {StatusCode::kInvalidConfig, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status Aborted(std::string m) {
  return {StatusCode::kAborted, std::move(m)};
}
inline Status DataError(std::string m) {
  return {StatusCode::kDataError, std::move(m)};
}
inline Status IoError(std::string m) {
  return {StatusCode::kIoError, std::move(m)};
}
inline Status Unsupported(std::string m) {
  return {StatusCode::kUnsupported, std::move(m)};
}
inline Status Cancelled(std::string m) {
  return {StatusCode::kCancelled, std::move(m)};
}
inline Status Conflict(std::string m) {
  return {StatusCode::kConflict, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

/// Maps an errno value from a failed call on `path` to a Status ("Cannot open 'x': No such file").
Status ErrnoStatus(std::string_view what, std::string_view path, int error_number);

}  // namespace sluice

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)

/// Returns from the enclosing function when `expr` yields a non-OK Status.
#define SLUICE_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::sluice::Status _sluice_status = (expr); \
    if (!_sluice_status.ok())                 \
      return _sluice_status;                  \
  } while (false)

/// Internal invariant check for Sluice's own bugs; never reachable from user input.
#ifndef NDEBUG
#define SLUICE_DCHECK(cond)                                        \
  do {                                                             \
    if (!(cond))                                                   \
      ::sluice::internal::DcheckFailed(#cond, __FILE__, __LINE__); \
  } while (false)
#else
#define SLUICE_DCHECK(cond) \
  do {                      \
  } while (false && (cond))
#endif

namespace sluice::internal {
[[noreturn]] void DcheckFailed(const char* condition, const char* file, int line);
}
