// Server: `sluice server`, one process that keeps jobs, runs them on schedules and triggers,
// and serves the REST API (/api/v1), Prometheus metrics (/metrics) and the web UI (/).
//
//   HTTP (cpp-httplib) ── api.cc ──┬─ ServerStore (SQLite file: catalog, runs, checkpoints' home)
//                                  ├─ RunManager ── JobRunner per run (the `sluice run` engine)
//   Scheduler (cron, after) ───────┘       └─ observers: metrics, catalog, lineage, alerts
//
// The embedded default needs nothing else: the data folder holds the store (server.db), the
// sealing key (secret.key, 0600), the jobs' state stores (state/<team>/) and, on first start, an
// admin token (admin.token, 0600) for the team "default".
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/result.h"

namespace sluice::connectors {
class ConnectorRegistry;
}

namespace sluice::server {

struct ServerOptions {
  /// HOST:PORT to listen on; port 0 picks a free one (tests).
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = ".sluice-server";
  /// The store: "" = the SQLite file server.db in data_dir; postgres://... = a PostgreSQL
  /// database (a team's server; the data folder still holds the key and the jobs' state).
  std::string db;
  /// Runs moving data at once, over all teams.
  int max_parallel_runs = 32;
  /// OpenLineage events: "" (none), http(s)://... or file:/path.
  std::string lineage;
  /// An alert rules file ("" = no alerts).
  std::string alerts_file;
};

class Server {
 public:
  /// Opens the store, recovers unfinished runs, starts the scheduler and listens.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                               const connectors::ConnectorRegistry& registry);
  ~Server();

  /// The port it listens on.
  int port() const;
  /// "http://127.0.0.1:8080".
  std::string url() const;
  /// The admin token when this start created it ("" otherwise).
  const std::string& new_admin_token() const;
  /// Path of the admin token file.
  std::string admin_token_path() const;

  /// Stops listening, stops the scheduler and the runs (each at a checkpoint; they resume at
  /// the next start) and closes the store.
  void Shutdown();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::server
