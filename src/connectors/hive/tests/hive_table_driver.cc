#include "connectors/hive/tests/hive_table_driver.h"

#include <fmt/core.h>

#include <algorithm>

#include "config/node.h"
#include "config/options.h"
#include "connectors/file/file_options.h"
#include "connectors/file/file_source.h"
#include "connectors/hive/hive_sink.h"
#include "formats/parquet/parquet_reader.h"
#include "formats/parquet/random_access_file.h"
#include "io/file_system.h"
#include "testing/memory_connector.h"

namespace sluice::connectors::hive::testing {

namespace {

using sluice::testing::Row;

Row EventRow(int id) {
  int hour = 9 + id % 3;
  return Row{std::to_string(id), fmt::format("2026-12-04 {:02}:{:02}:00+00", hour, id % 60),
             id % 2 == 0 ? std::optional<std::string>("DE") : std::optional<std::string>("Ünï 🚀"),
             id % 7 == 0 ? std::nullopt : std::optional<std::string>(fmt::format("{}.25", id))};
}

std::string PartitionOf(int id) { return fmt::format("dt=2026-12-04/hr={:02}", 9 + id % 3); }

Status WriteCommit(SinkWriter* writer, int from, int to, uint64_t checkpoint, bool commit) {
  auto batch = std::make_unique<Batch>(EventsSchema(), static_cast<size_t>(to - from));
  for (int id = from; id < to; ++id)
    sluice::testing::AppendRow(EventRow(id), batch.get());
  batch->set_stream(0);
  SLUICE_RETURN_IF_ERROR(writer->Write(*batch));
  SLUICE_RETURN_IF_ERROR(writer->Prepare());
  if (!commit)
    return Status::OK();
  CommitContext context;
  context.checkpoint = checkpoint;
  context.progress.push_back(SplitProgress{"events", std::to_string(to), false});
  return writer->Commit(context);
}

std::vector<StreamInfo> Streams() {
  StreamInfo stream;
  stream.name = "events";
  stream.schema = EventsSchema();
  return {stream};
}

}  // namespace

SchemaPtr EventsSchema() {
  return std::make_shared<Schema>(std::vector<Field>{
      {"id", DataType::Int64(), false},
      {"ts", DataType::TimestampTz(6), true},
      {"country", DataType::String(), true},
      {"amount", DataType::Decimal(12, 2), true},
  });
}

Result<HiveSinkOptions> ParseSinkOptions(const std::string& location,
                                         const std::string& options_yaml) {
  SLUICE_ASSIGN_OR_RETURN(
      config::Node node,
      config::ParseYaml(fmt::format("{{location: '{}'{}{}}}", location,
                                    options_yaml.empty() ? "" : ", ", options_yaml),
                        "test"));
  SLUICE_ASSIGN_OR_RETURN(config::Options options,
                          config::Options::Validate(node, HiveSinkOptionTable(), "sink"));
  return HiveSinkOptions::FromOptions(options);
}

Status WriteEventsWithACrash(const HiveSinkOptions& options, const std::string& job) {
  const int half = kDriverEvents / 2;
  JobContext context;
  context.job_name = job;
  {
    HiveSink sink(options);
    SLUICE_RETURN_IF_ERROR(sink.Open(context, Streams()));
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(0));
    for (int step = 0; step < 3; ++step) {
      SLUICE_RETURN_IF_ERROR(WriteCommit(writer.get(), step * half / 3, (step + 1) * half / 3,
                                         static_cast<uint64_t>(step + 1), true));
    }
    // Written and flushed to the store, never committed: the crash.
    SLUICE_RETURN_IF_ERROR(WriteCommit(writer.get(), half, half + 50, 4, false));
  }
  context.resuming = true;
  HiveSink sink(options);
  SLUICE_ASSIGN_OR_RETURN(std::vector<SplitProgress> progress, sink.RecoverProgress(context));
  if (progress.size() != 1 || progress[0].position != std::to_string(half))
    return Internal(fmt::format("recovered {} progress entries", progress.size()));
  SLUICE_RETURN_IF_ERROR(sink.Open(context, Streams()));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(0));
  for (int step = 0; step < 3; ++step) {
    SLUICE_RETURN_IF_ERROR(WriteCommit(writer.get(), half + step * half / 3,
                                       half + (step + 1) * half / 3,
                                       static_cast<uint64_t>(step + 4), true));
  }
  writer.reset();
  return sink.Finish();
}

Result<VisibleTable> ReadVisibleTable(io::FileStore* store) {
  VisibleTable table;
  std::vector<std::string> pending = {""};
  while (!pending.empty()) {
    std::string directory = pending.back();
    pending.pop_back();
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, store->List(directory));
    for (const std::string& name : names) {
      std::string path = directory.empty() ? name : directory + "/" + name;
      if (name == "_SUCCESS") {
        table.partitions_with_success.push_back(directory);
        continue;
      }
      if (name[0] == '.' || name[0] == '_')
        continue;
      if (name.back() == '/') {
        pending.push_back(path.substr(0, path.size() - 1));
        continue;
      }
      table.files.push_back(path);
      SLUICE_ASSIGN_OR_RETURN(std::string bytes, store->ReadFile(path));
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<formats::ParquetReader> reader,
                              formats::ParquetReader::Open(
                                  std::make_unique<formats::StringRandomAccessFile>(bytes, path)));
      Batch batch(reader->schema(), 1024);
      for (;;) {
        batch.Clear();
        SLUICE_ASSIGN_OR_RETURN(size_t rows, reader->ReadBatch(&batch));
        if (rows == 0)
          break;
        for (size_t row = 0; row < batch.num_rows(); ++row) {
          table.rows.push_back(
              fmt::format("{}\t{}", directory, batch.column(0).Get<int64_t>(row)));
        }
      }
    }
  }
  std::sort(table.rows.begin(), table.rows.end());
  std::sort(table.files.begin(), table.files.end());
  std::sort(table.partitions_with_success.begin(), table.partitions_with_success.end());
  return table;
}

Result<std::vector<int64_t>> ReadThroughFileSource(const std::string& path_glob,
                                                   const std::string& options_yaml) {
  SLUICE_ASSIGN_OR_RETURN(
      config::Node node,
      config::ParseYaml(fmt::format("{{path: '{}'{}{}}}", path_glob,
                                    options_yaml.empty() ? "" : ", ", options_yaml),
                        "test"));
  SLUICE_ASSIGN_OR_RETURN(config::Options options,
                          config::Options::Validate(node, file::FileSourceOptionTable(), "source"));
  SLUICE_ASSIGN_OR_RETURN(file::FileSourceOptions parsed,
                          file::FileSourceOptions::FromOptions(options));
  file::FileSource source(std::move(parsed));
  JobContext context;
  context.job_name = "read-back";
  SLUICE_RETURN_IF_ERROR(source.Open(context));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitEnumerator> splits, source.CreateEnumerator());
  std::vector<int64_t> ids;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, splits->Next());
    if (!split)
      break;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitReader> reader, source.CreateReader(*split, ""));
    const SchemaPtr& schema = source.streams()[0].schema;
    int id_column = schema->FieldIndex("id");
    if (id_column < 0)
      return Internal("no id column in " + schema->ToString());
    Batch batch(schema, 256);
    for (;;) {
      batch.Clear();
      SLUICE_ASSIGN_OR_RETURN(bool more, reader->ReadBatch(&batch));
      for (size_t row = 0; row < batch.num_rows(); ++row)
        ids.push_back(batch.column(static_cast<size_t>(id_column)).Get<int64_t>(row));
      if (!more)
        break;
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> ExpectedRows() {
  std::vector<std::string> rows;
  for (int id = 0; id < kDriverEvents; ++id)
    rows.push_back(fmt::format("{}\t{}", PartitionOf(id), id));
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace sluice::connectors::hive::testing
