// OpenLineage run events: what a Sluice job run read and wrote, as plain structs, and their
// rendering as an OpenLineage 2-0-2 RunEvent (https://openlineage.io/spec/2-0-2/OpenLineage.json)
// for a lineage backend such as Marquez.
//
// A run reports START, then RUNNING (optional, a streaming job's progress) and one of COMPLETE,
// FAIL or ABORT, all with the same run id. Datasets are named after the OpenLineage naming
// conventions (https://openlineage.io/docs/spec/naming), derived from the connector's block by
// DatasetFor: only the options that name the data (host, port, database, table, path, topic,
// key) ever reach an event, never a password or token.
//
// Thread-safety: plain values and free functions; NewRunId may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sluice::config {
struct ConnectorBlock;
}
namespace sluice::connectors {
struct StreamInfo;
}

namespace sluice::lineage {

/// The `producer` of every event and the `_producer` of every facet.
inline constexpr std::string_view kLineageProducer = "https://github.com/sluice-data/sluice";

/// One column of a dataset's schema.
struct LineageField {
  std::string name;
  /// Sluice's spelling of the type ("int64", "decimal(12,2)", "string").
  std::string type;
};

/// A dataset a run read or wrote, named as OpenLineage's naming conventions say.
struct LineageDataset {
  /// "mysql://db1:3306", "postgres://db1:5432", "kafka://broker1:9092", "s3://bucket", "file".
  std::string namespace_;
  /// "shop.orders", "shop.public.orders", "orders-topic", "/data/out/orders.csv".
  std::string name;
  /// The columns; empty when unknown (no schema facet is then sent).
  std::vector<LineageField> fields;
  /// Rows read (an input) or written (an output) by the run so far; nullopt when unknown.
  std::optional<uint64_t> row_count;
  /// Bytes read or written by the run so far; nullopt when unknown.
  std::optional<uint64_t> bytes;
};

enum class LineageEventType { kStart, kRunning, kComplete, kFail, kAbort };

/// "START", "RUNNING", "COMPLETE", "FAIL", "ABORT".
std::string_view LineageEventTypeName(LineageEventType type);

struct LineageRunEvent {
  LineageEventType type = LineageEventType::kStart;
  /// When the transition happened, microseconds since the Unix epoch (sent with milliseconds).
  int64_t event_time_us = 0;
  /// The run's UUID text (NewRunId), the same in every event of one run.
  std::string run_id;
  /// Where jobs of this Sluice deployment live ("sluice" or a server's name).
  std::string job_namespace;
  std::string job_name;
  /// True for a job that does not end by itself (change data capture, a Kafka topic): the job
  /// facet's processingType is then STREAMING, else BATCH.
  bool streaming = false;
  std::vector<LineageDataset> inputs;
  std::vector<LineageDataset> outputs;
  /// FAIL only: why the run failed (the job's error, already free of secrets).
  std::string error_message;
  std::string producer = std::string(kLineageProducer);
};

/// Renders `event` as an OpenLineage 2-0-2 RunEvent: eventTime in UTC with milliseconds, the
/// job's jobType facet, each dataset's schema facet, inputs' dataQualityMetrics (rowCount,
/// bytes) and outputs' outputStatistics (rowCount, size) input and output facets when counts
/// are known, and the run's errorMessage facet on FAIL. Every facet carries _producer and
/// _schemaURL.
nlohmann::json ToOpenLineageJson(const LineageRunEvent& event);

/// "2026-12-05T19:25:15.123Z" for `time_us` microseconds since the Unix epoch.
std::string FormatEventTime(int64_t time_us);

/// Returns a new random run id: a UUID version 7 (a millisecond timestamp, then 74 random bits
/// from the kernel's random source), the form OpenLineage recommends since its ids then sort by
/// start time.
std::string NewRunId();

/// The dataset `stream` of the connector configured by `block` (a job's source or sink) stands
/// for, named as OpenLineage's conventions say for the connector's type, with the stream's
/// columns. Reads only the options that name the data; unset options take the connector's
/// defaults (host 127.0.0.1, the type's port). A type without a convention (datagen, memory) gets
/// its type as namespace and the stream's name.
LineageDataset DatasetFor(const config::ConnectorBlock& block,
                          const connectors::StreamInfo& stream);

}  // namespace sluice::lineage
