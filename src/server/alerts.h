// Alerts: rules the server evaluates every `evaluation_interval_secs`, delivered as webhooks in
// Alertmanager's payload format (version 4), so that an Alertmanager, Grafana OnCall or any
// receiver of Alertmanager webhooks takes them as they are.
//
// Rules (a YAML file, `sluice server --alerts FILE`; README "Alerts"):
//   webhook: http://127.0.0.1:9093/api/v2/alerts-compatible-receiver
//   evaluation_interval_secs: 15
//   rules:
//     - {name: JobFailed, kind: failure}                      # the job's last run failed
//     - {name: LagHigh, kind: lag, threshold_rows: 100000, for_secs: 300}
//     - {name: RowsStalled, kind: stalled, for_secs: 600}     # a running run wrote no row
//     - {name: SchemaChanged, kind: schema_change}            # a source's schema changed
// `jobs: "orders_*"` limits a rule to jobs whose name matches the glob; `labels` and `summary`
// are added to the alert.
//
// `for` semantics as in Prometheus: a condition that holds is pending; once it has held for
// `for_secs` (checked at each evaluation) the alert fires and is sent; when the condition
// clears, a firing alert is sent once more as resolved. A firing alert is sent again every
// `repeat_interval_secs`. A webhook that fails is tried again at the next evaluation.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "server/run_manager.h"

namespace sluice::server {

struct AlertRule {
  enum class Kind { kFailure, kLag, kStalled, kSchemaChange };
  std::string name;
  Kind kind = Kind::kFailure;
  std::string jobs = "*";  // glob over job names
  double for_secs = 0;
  std::optional<uint64_t> threshold_rows;   // lag
  std::optional<uint64_t> threshold_bytes;  // lag
  double window_secs = 300;                 // schema_change: how long a change counts
  std::string severity = "warning";
  std::string summary;
  std::map<std::string, std::string> labels;
};

struct AlertConfig {
  std::string webhook;
  double evaluation_interval_secs = 15;
  double repeat_interval_secs = 4 * 3600;
  std::vector<AlertRule> rules;
};

/// Reads an alert rules file; errors name the file, line and column.
Result<AlertConfig> LoadAlertConfig(const std::string& path);

/// One alert the evaluator tracks.
struct AlertState {
  std::string rule;
  std::string team;
  std::string job;
  std::string table;
  bool firing = false;  // false: pending
  int64_t active_since_us = 0;
  int64_t fired_at_us = 0;
};

class AlertEvaluator {
 public:
  /// `external_url`: the server's own address, for the payload's links.
  AlertEvaluator(AlertConfig config, ServerStore* store, RunManager* runs,
                 std::string external_url);
  ~AlertEvaluator();

  void Start();
  void Shutdown();
  /// A source's schema changed (the catalog saw it).
  void OnSchemaChange(const std::string& team, const std::string& job, const std::string& stream);
  std::vector<AlertState> Alerts() const;
  /// Runs one evaluation now (tests, and the timer thread).
  void Evaluate();

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;  // rule, team, job, table
  struct Tracked {
    AlertState state;
    int64_t last_sent_us = 0;
    bool unsent = false;  // a transition the webhook has not taken yet
  };
  struct Resolved {
    AlertState state;
    int64_t ended_us = 0;
  };
  void Loop();
  // The alerts whose condition holds now, each with the time it has held since.
  std::vector<std::pair<Key, int64_t>> Conditions(const AlertRule& rule, int64_t now_us);
  void Send(const std::vector<Tracked*>& firing, const std::vector<Resolved>& resolved);

  AlertConfig config_;
  ServerStore* store_;
  RunManager* runs_;
  std::string external_url_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<Key, Tracked> tracked_;  // guarded by mutex_
  std::vector<Resolved> unsent_resolved_;  // guarded by mutex_
  // schema changes: (team, job, stream) -> when
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> schema_changes_;
  // stalled: run id -> (rows written, when they last changed)
  std::map<int64_t, std::pair<uint64_t, int64_t>> progress_;
  std::mutex evaluate_mutex_;  // one evaluation at a time
  std::thread thread_;
};

}  // namespace sluice::server
