// Helpers for the file connector tests: options from YAML text, a recording bad-record
// handler, and loops that drive a Source or a Sink the way the runtime does.
#pragma once

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/node.h"
#include "config/options.h"
#include "connectors/file/file_sink.h"
#include "connectors/file/file_source.h"
#include "testing/bad_records.h"
#include "testing/gtest_util.h"
#include "testing/memory_connector.h"

namespace sluice::connectors::file {

/// Validates the YAML map `yaml` against `table`.
inline Result<config::Options> OptionsFrom(const std::string& yaml,
                                           std::span<const config::OptionSpec> table) {
  SLUICE_ASSIGN_OR_RETURN(config::Node node, config::ParseYaml(yaml, "job.yaml"));
  return config::Options::Validate(node, table, "test");
}

inline Result<std::unique_ptr<FileSource>> MakeSource(const std::string& yaml) {
  SLUICE_ASSIGN_OR_RETURN(config::Options options, OptionsFrom(yaml, FileSourceOptionTable()));
  SLUICE_ASSIGN_OR_RETURN(FileSourceOptions parsed, FileSourceOptions::FromOptions(options));
  return std::make_unique<FileSource>(std::move(parsed));
}

inline Result<std::unique_ptr<FileSink>> MakeSink(const std::string& yaml) {
  SLUICE_ASSIGN_OR_RETURN(config::Options options, OptionsFrom(yaml, FileSinkOptionTable()));
  SLUICE_ASSIGN_OR_RETURN(FileSinkOptions parsed, FileSinkOptions::FromOptions(options));
  return std::make_unique<FileSink>(std::move(parsed));
}

/// A JobContext for tests; owns the flag and handler it points to.
struct TestContext {
  std::atomic<bool> cancelled{false};
  sluice::testing::RecordingBadRecords handler;
  JobContext context;
  explicit TestContext(int parallelism = 1, size_t batch_rows = 100, bool skip = true)
      : handler(skip) {
    context.job_name = "test";
    context.parallelism = parallelism;
    context.batch_rows = batch_rows;
    context.cancelled = &cancelled;
    context.bad_records = &handler;
  }
};

/// Reads every row of `reader` in batches of `batch_rows`, noting the position after each
/// batch.
inline Status ReadRows(SplitReader* reader, const StreamInfo& stream, size_t batch_rows,
                       std::vector<testing::Row>* rows,
                       std::vector<std::pair<size_t, std::string>>* positions = nullptr) {
  for (;;) {
    Batch batch(stream.schema, batch_rows);
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->ReadBatch(&batch));
    if (!more)
      return Status::OK();
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      rows->push_back(testing::RowFromBatch(batch, r));
    }
    if (positions != nullptr)
      positions->emplace_back(rows->size(), reader->Position());
  }
}

/// Opens `source` and reads every split in order.
inline Status ReadAll(Source* source, TestContext* test, std::vector<testing::Row>* rows,
                      std::vector<Split>* splits = nullptr) {
  SLUICE_RETURN_IF_ERROR(source->Open(test->context));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitEnumerator> enumerator, source->CreateEnumerator());
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, enumerator->Next());
    if (!split)
      return Status::OK();
    if (splits != nullptr)
      splits->push_back(*split);
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitReader> reader, source->CreateReader(*split, ""));
    const StreamInfo& stream = source->streams()[static_cast<size_t>(split->stream)];
    SLUICE_RETURN_IF_ERROR(ReadRows(reader.get(), stream, test->context.batch_rows, rows));
  }
}

/// A sink run: Open, one writer per slot writing its batches, Prepare, Commit, Finish.
inline Status WriteAll(Sink* sink, TestContext* test, const std::vector<StreamInfo>& streams,
                       const std::vector<std::vector<const Batch*>>& batches_by_slot) {
  SLUICE_RETURN_IF_ERROR(sink->Open(test->context, streams));
  std::vector<std::unique_ptr<SinkWriter>> writers;
  for (size_t slot = 0; slot < batches_by_slot.size(); ++slot) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SinkWriter> writer,
                            sink->CreateWriter(static_cast<int>(slot)));
    for (const Batch* batch : batches_by_slot[slot])
      SLUICE_RETURN_IF_ERROR(writer->Write(*batch));
    SLUICE_RETURN_IF_ERROR(writer->Prepare());
    writers.push_back(std::move(writer));
  }
  for (auto& writer : writers)
    SLUICE_RETURN_IF_ERROR(writer->Commit({}));
  return sink->Finish();
}

}  // namespace sluice::connectors::file
