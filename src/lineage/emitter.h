// LineageEmitter: sends OpenLineage run events to a lineage backend without ever slowing down or
// failing the data run that reports them.
//
// Targets:
//   http://host:port/api/v1/lineage   one POST per event (Content-Type: application/json, and
//                                     Authorization: Bearer <api_key> when one is set); https too
//   file:/path/events.jsonl           one JSON object per line, appended (file:///path also)
//
// Emit() renders the event and queues it; one background thread delivers the queue in order. The
// queue is bounded: when it is full the oldest event is dropped. A delivery that fails (a non-2xx
// status, no answer) is retried a few times with a doubling backoff, then dropped with a warning.
// Every dropped event is counted (dropped()).
//
// Thread-safety: Emit, Flush and the counters may be called from any thread. The destructor
// flushes for at most LineageEmitterOptions::close_timeout, drops what is left and joins the
// thread, which may first finish an HTTP attempt under way (bounded by http_timeout_secs).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/secret.h"
#include "lineage/lineage.h"

namespace sluice::lineage {

struct LineageEmitterOptions {
  /// "http://host:port/api/v1/lineage", "https://...", or "file:/path/events.jsonl".
  std::string target;
  /// HTTP: sent as "Authorization: Bearer <api_key>" when not empty; never logged.
  Secret api_key;
  /// Events waiting for delivery at most; beyond it the oldest is dropped.
  size_t max_queued_events = 1000;
  /// Delivery attempts per event (the first and the retries) before it is dropped.
  int max_attempts = 4;
  /// Wait before the first retry, doubled before each next one.
  std::chrono::milliseconds initial_backoff{500};
  /// HTTP: seconds to wait for a connection, and without a byte moving, per attempt.
  double http_timeout_secs = 5;
  /// How long the destructor waits for queued events to be delivered.
  std::chrono::milliseconds close_timeout{2000};
};

class LineageEmitter {
 public:
  /// Checks the target (its scheme; a file target's file is opened for appending, created when
  /// missing) and starts the delivery thread. InvalidConfig for an unknown target, the open's
  /// error for an unwritable file.
  static Result<std::unique_ptr<LineageEmitter>> Open(LineageEmitterOptions options);
  ~LineageEmitter();
  LineageEmitter(const LineageEmitter&) = delete;
  LineageEmitter& operator=(const LineageEmitter&) = delete;

  /// Renders `event` (ToOpenLineageJson) and queues it. Never blocks on delivery.
  void Emit(const LineageRunEvent& event);
  /// Waits until every event queued before the call was delivered or dropped, at most `timeout`.
  /// Returns true when it was.
  bool Flush(std::chrono::milliseconds timeout);

  /// Events delivered (a 2xx answer, a line written).
  uint64_t delivered() const;
  /// Events dropped: a full queue pushed them out, every attempt failed, or the emitter closed
  /// before their turn.
  uint64_t dropped() const;

  /// Where events go: an HTTP endpoint or a file (defined in emitter.cc).
  class Target;

 private:
  struct State;
  LineageEmitter(LineageEmitterOptions options, std::unique_ptr<Target> target);
  void Run();

  std::unique_ptr<State> state_;
};

}  // namespace sluice::lineage
