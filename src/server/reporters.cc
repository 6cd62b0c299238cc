#include "server/reporters.h"

#include <nlohmann/json.hpp>

#include "core/schema.h"
#include "lineage/lineage.h"

namespace sluice::server {

std::string SchemaJson(const Schema& schema) {
  nlohmann::json fields = nlohmann::json::array();
  for (const Field& field : schema.fields()) {
    if (field.metadata)
      continue;
    fields.push_back(
        {{"name", field.name}, {"type", field.type.ToString()}, {"nullable", field.nullable}});
  }
  return fields.dump();
}

void CatalogRecorder::OnRunFinished(const RunRecord& run, const config::JobConfig* job,
                                    const runtime::JobSummary* summary) {
  if (job == nullptr || summary == nullptr)
    return;
  for (const connectors::StreamInfo& stream : summary->source_streams) {
    if (!stream.schema)
      continue;
    CatalogStream record{run.team, job->source_connection, run.job, stream.name,
                         SchemaJson(*stream.schema), 0, 0, ""};
    Result<bool> changed = store_->RecordStream(record);
    if (changed.ok() && *changed && on_change_)
      on_change_(run.team, run.job, stream.name);
  }
}

namespace {

std::string JobNamespace(const std::string& team) {
  return "sluice/" + team;
}

}  // namespace

void LineageReporter::OnRunStarted(const RunRecord& run, const config::JobConfig& job) {
  lineage::LineageRunEvent event;
  event.type = lineage::LineageEventType::kStart;
  event.event_time_us = NowMicros();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string& id = run_ids_[run.id];
    if (id.empty())
      id = lineage::NewRunId();
    event.run_id = id;
  }
  event.job_namespace = JobNamespace(run.team);
  event.job_name = job.name;
  emitter_->Emit(event);
}

void LineageReporter::OnRunFinished(const RunRecord& run, const config::JobConfig* job,
                                    const runtime::JobSummary* summary) {
  if (job == nullptr)
    return;  // never started: no START was sent either
  lineage::LineageRunEvent event;
  event.type = run.state == RunState::kSucceeded ? lineage::LineageEventType::kComplete
               : run.state == RunState::kFailed  ? lineage::LineageEventType::kFail
                                                 : lineage::LineageEventType::kAbort;
  event.event_time_us = NowMicros();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = run_ids_.find(run.id);
    event.run_id = it != run_ids_.end() ? it->second : lineage::NewRunId();
    if (it != run_ids_.end())
      run_ids_.erase(it);
  }
  event.job_namespace = JobNamespace(run.team);
  event.job_name = job->name;
  if (run.failure)
    event.error_message = run.failure->message;
  if (summary != nullptr) {
    for (size_t i = 0; i < summary->streams.size(); ++i) {
      const connectors::StreamInfo& out_stream = summary->streams[i];
      event.streaming = event.streaming || out_stream.changelog;
      const connectors::StreamInfo& in_stream =
          i < summary->source_streams.size() ? summary->source_streams[i] : out_stream;
      lineage::LineageDataset input = lineage::DatasetFor(job->source, in_stream);
      lineage::LineageDataset output = lineage::DatasetFor(job->sink, out_stream);
      for (const TableFigures& table : run.tables) {
        if (table.table == in_stream.name) {
          input.row_count = table.rows_read;
          input.bytes = table.bytes_read;
          output.row_count = table.rows_written;
          output.bytes = table.bytes_written;
        }
      }
      event.inputs.push_back(std::move(input));
      event.outputs.push_back(std::move(output));
    }
  }
  emitter_->Emit(event);
}

}  // namespace sluice::server
