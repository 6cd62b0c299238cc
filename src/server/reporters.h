// Run reporters: what the server records and tells about each run besides its figures.
//  - CatalogRecorder: the streams and schemas each run discovered, by connection, and whether
//    a schema changed since the last run (the catalog; the schema_change alert).
//  - LineageReporter: OpenLineage START and COMPLETE / FAIL / ABORT events with schema and
//    row-count facets, to an HTTP endpoint or a file (src/lineage).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "lineage/emitter.h"
#include "server/run_manager.h"

namespace sluice::server {

class CatalogRecorder : public RunObserver {
 public:
  /// `on_change(team, job, stream)` is called when a stream's schema differs from the one
  /// recorded before.
  using ChangeCallback =
      std::function<void(const std::string& team, const std::string& job, const std::string& stream)>;
  CatalogRecorder(ServerStore* store, ChangeCallback on_change)
      : store_(store), on_change_(std::move(on_change)) {}

  void OnRunFinished(const RunRecord& run, const config::JobConfig* job,
                     const runtime::JobSummary* summary) override;

 private:
  ServerStore* store_;
  ChangeCallback on_change_;
};

class LineageReporter : public RunObserver {
 public:
  explicit LineageReporter(std::unique_ptr<lineage::LineageEmitter> emitter)
      : emitter_(std::move(emitter)) {}

  void OnRunStarted(const RunRecord& run, const config::JobConfig& job) override;
  void OnRunFinished(const RunRecord& run, const config::JobConfig* job,
                     const runtime::JobSummary* summary) override;
  lineage::LineageEmitter& emitter() { return *emitter_; }

 private:
  std::unique_ptr<lineage::LineageEmitter> emitter_;
  std::mutex mutex_;
  std::map<int64_t, std::string> run_ids_;  // server run id -> OpenLineage run UUID
};

/// A schema as the catalog keeps it: [{name, type, nullable}].
std::string SchemaJson(const Schema& schema);

}  // namespace sluice::server
