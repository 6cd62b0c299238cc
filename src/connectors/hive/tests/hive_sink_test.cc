// The hive sink driven through the Sink API on a local store, checkpoint by checkpoint: the
// layout (event-time and value partitions, _SUCCESS, the DDL), files that grow across
// checkpoints, time partitions that close by event time, late rows, a crash between commits,
// and every table read back by pyarrow and DuckDB as a Hive-partitioned dataset.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "config/options.h"
#include "connectors/hive/hive_options.h"
#include "connectors/hive/hive_sink.h"
#include "connectors/hive/tests/hive_table_driver.h"
#include "io/file_system.h"
#include "testing/gtest_util.h"
#include "testing/independent_readers.h"
#include "testing/memory_connector.h"
#include "testing/bad_records.h"
#include "testing/random_rows.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::hive {
namespace {

using sluice::testing::Row;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::EventsSchema;

// An event at `hour` (hours after 2026-12-04 00:00 UTC) plus `minute`.
Row Event(int64_t id, int hour, int minute, std::optional<std::string> country,
          std::optional<std::string> amount = "1.50") {
  int day = 4 + hour / 24;
  return Row{std::to_string(id),
             fmt::format("2026-12-{:02} {:02}:{:02}:00+00", day, hour % 24, minute),
             std::move(country), std::move(amount)};
}

// The Hive table files under `root` (partition directories and files; hidden and _ entries
// left out), relative, sorted.
std::vector<std::string> TableFiles(const std::string& root) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    std::string relative = std::filesystem::relative(entry.path(), root).string();
    if (entry.is_regular_file())
      files.push_back(relative);
  }
  std::sort(files.begin(), files.end());
  return files;
}

class HiveSinkTest : public ::testing::Test {
 protected:
  // The sink's options from YAML-ish pairs, as a job file would give them.
  HiveSinkOptions Options(const std::string& extra) {
    std::string text = fmt::format("{{location: '{}'{}}}", root_, extra.empty() ? "" : ", " + extra);
    Result<config::Node> node = config::ParseYaml(text, "test");
    EXPECT_OK(node.status());
    Result<config::Options> options =
        config::Options::Validate(*node, HiveSinkOptionTable(), "sink");
    EXPECT_OK(options.status());
    Result<HiveSinkOptions> parsed = HiveSinkOptions::FromOptions(*options);
    EXPECT_OK(parsed.status());
    return *parsed;
  }

  JobContext Context(bool resuming = false) {
    JobContext context;
    context.job_name = "events-job";
    context.resuming = resuming;
    return context;
  }

  std::vector<StreamInfo> Streams() {
    StreamInfo stream;
    stream.name = "events";
    stream.schema = EventsSchema();
    return {stream};
  }

  std::unique_ptr<Batch> MakeBatch(const std::vector<Row>& rows) {
    auto batch = std::make_unique<Batch>(EventsSchema(), std::max<size_t>(rows.size(), 1));
    for (const Row& row : rows)
      sluice::testing::AppendRow(row, batch.get());
    batch->set_stream(0);
    return batch;
  }

  // Writes `rows` and commits them as checkpoint `checkpoint` with progress "s" = checkpoint.
  void WriteAndCommit(SinkWriter* writer, const std::vector<Row>& rows, uint64_t checkpoint) {
    ASSERT_OK(writer->Write(*MakeBatch(rows)));
    ASSERT_OK(writer->Prepare());
    CommitContext commit;
    commit.checkpoint = checkpoint;
    commit.progress.push_back(SplitProgress{"s", std::to_string(checkpoint), false});
    ASSERT_OK(writer->Commit(commit));
  }

  // The table as pyarrow and DuckDB read it, rows sorted; both must agree.
  std::vector<std::string> ReadIndependently(const std::string& keys) {
    std::vector<std::string> by_reader[2];
    const char* readers[2] = {"pyarrow", "duckdb"};
    for (int r = 0; r < 2; ++r) {
      Result<std::string> output =
          sluice::testing::RunPythonScript("src/connectors/hive/tests/read_hive_table.py",
                                           fmt::format("{} '{}' '{}'", readers[r], root_, keys));
      EXPECT_OK(output.status());
      if (!output.ok())
        return {};
      by_reader[r] = sluice::testing::LinesStartingWith(*output, "row\t");
      std::sort(by_reader[r].begin(), by_reader[r].end());
    }
    EXPECT_EQ(by_reader[0], by_reader[1]) << "pyarrow and DuckDB disagree";
    return by_reader[0];
  }

  sluice::testing::TempDir dir_;
  std::string root_ = dir_.Join("warehouse/events");
};

TEST_F(HiveSinkTest, PartitionsByEventHourAndValueAndEveryRowReadsBackOnce) {
  HiveSink sink(Options(
      "time_partition_column: ts, partition_by: [country], lateness_secs: 36000"));
  ASSERT_OK(sink.Open(Context(), Streams()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(0));
  // Ten checkpoints over three hours, two countries, NULL times and countries, a country that
  // needs escaping in a path, 4-byte UTF-8.
  std::vector<Row> all;
  int64_t id = 0;
  for (uint64_t checkpoint = 1; checkpoint <= 10; ++checkpoint) {
    std::vector<Row> rows;
    for (int i = 0; i < 30; ++i) {
      ++id;
      int hour = 9 + static_cast<int>(id % 3);
      std::optional<std::string> country =
          id % 11 == 0 ? std::nullopt
                       : std::optional<std::string>(id % 2 == 0 ? "DE" : "Ünï/cödé 🚀");
      Row row = Event(id, hour, static_cast<int>(id % 60), country,
                      id % 7 == 0 ? std::nullopt : std::optional<std::string>("-12.05"));
      if (id % 13 == 0)
        row[1] = std::nullopt;
      rows.push_back(row);
    }
    all.insert(all.end(), rows.begin(), rows.end());
    WriteAndCommit(writer.get(), rows, checkpoint);
  }
  // Committed but not finished: nothing is visible yet, every file is still growing.
  for (const std::string& file : TableFiles(root_)) {
    EXPECT_TRUE(file.find("/.") != std::string::npos || file[0] == '_' ||
                file.find("/_") != std::string::npos)
        << file << " is visible before the job finished";
  }
  writer.reset();
  ASSERT_OK(sink.Finish());

  std::vector<std::string> files = TableFiles(root_);
  std::set<std::string> partitions;
  size_t data_files = 0;
  for (const std::string& file : files) {
    EXPECT_EQ(file.find("/."), std::string::npos) << "staged file left: " << file;
    EXPECT_EQ(file.find("_sluice/slot-"), std::string::npos) << "manifest left: " << file;
    if (file.ends_with(".parquet")) {
      ++data_files;
      partitions.insert(io::ParentDirectory(file));
      EXPECT_THAT(std::string(io::BaseName(file)), ::testing::StartsWith("events-job-000-"));
    }
  }
  // One file per partition although there were ten checkpoints.
  EXPECT_EQ(data_files, partitions.size());
  EXPECT_TRUE(partitions.count("dt=2026-12-04/hr=09/country=DE"));
  EXPECT_TRUE(partitions.count("dt=2026-12-04/hr=10/country=Ünï%2Fcödé 🚀"));
  EXPECT_TRUE(partitions.count("dt=2026-12-04/hr=11/country=__HIVE_DEFAULT_PARTITION__"));
  EXPECT_TRUE(partitions.count(
      "dt=__HIVE_DEFAULT_PARTITION__/hr=__HIVE_DEFAULT_PARTITION__/country=DE"));
  for (const std::string& partition : partitions) {
    EXPECT_TRUE(io::PathExists(root_ + "/" + partition + "/_SUCCESS")) << partition;
  }
  EXPECT_TRUE(io::PathExists(root_ + "/_SUCCESS"));

  // No metastore: the DDL, with every partition.
  ASSERT_OK_AND_ASSIGN(std::string ddl,
                       io::MakeLocalFileStore(root_)->ReadFile("_sluice/events-job/events.sql"));
  EXPECT_THAT(ddl, HasSubstr("CREATE EXTERNAL TABLE IF NOT EXISTS `default`.`events`"));
  EXPECT_THAT(ddl, HasSubstr("PARTITIONED BY (`dt` string, `hr` string, `country` string)"));
  EXPECT_THAT(ddl, HasSubstr("STORED AS PARQUET"));
  EXPECT_THAT(ddl, HasSubstr("`amount` decimal(12,2)"));
  EXPECT_THAT(ddl, HasSubstr("PARTITION (`dt`='2026-12-04', `hr`='09', `country`='DE')"));

  // Every row once, its partition values from the path: pyarrow and DuckDB agree.
  std::vector<std::string> expected;
  for (const Row& row : all) {
    std::unique_ptr<Batch> one = MakeBatch({row});
    std::string line = "row";
    for (size_t c : {0u, 1u, 3u})
      line += "\t" + sluice::testing::CanonicalValueText(one->column(c), 0);
    // Both readers read Hive's default partition as NULL.
    std::string dt = "\\N", hr = dt;
    if (row[1]) {
      dt = row[1]->substr(0, 10);
      hr = row[1]->substr(11, 2);
    }
    line += "\t" + dt + "\t" + hr + "\t" + (row[2] ? *row[2] : "\\N");
    expected.push_back(line);
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> read = ReadIndependently("dt,hr,country");
  EXPECT_EQ(read.size(), all.size());
  EXPECT_EQ(read, expected);
}

TEST_F(HiveSinkTest, EveryTypeWithNullsAndExtremesReadsBackIdenticallyInPyarrowAndDuckdb) {
  // Every type Parquet holds (decimals up to 38 digits), random values with their extremes and
  // NULLs, partitioned by an event time column of three hours; several checkpoints.
  std::vector<Field> fields;
  SchemaPtr all_types = sluice::testing::AllTypesSchema();
  for (const Field& field : all_types->fields()) {
    if (field.type.id == TypeId::kDecimal && field.type.precision > 38)
      continue;
    if (field.type.id == TypeId::kDecimal && field.type.precision == 0)
      continue;  // unconstrained: Parquet needs a precision
    fields.push_back(field);
  }
  fields.push_back(Field{"event", DataType::TimestampTz(), true});
  auto schema = std::make_shared<Schema>(fields);
  std::vector<Row> rows = sluice::testing::RandomRows(*schema, 600, 1405);
  const int time_column = schema->FieldIndex("t");
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].back() = fmt::format("2026-12-04 {:02}:{:02}:00+00", 9 + i % 3, i % 60);
    // Parquet's TIME holds a time of day; MySQL's longer ones are refused (the next test).
    if (const std::optional<std::string>& t = rows[i][time_column]) {
      bool time_of_day = t->size() >= 8 && (*t)[2] == ':' && t->substr(0, 2) <= "23";
      if (!time_of_day)
        rows[i][time_column] = "23:59:59.999999";
    }
  }
  StreamInfo stream;
  stream.name = "events";
  stream.schema = schema;
  HiveSink sink(Options("time_partition_column: event, lateness_secs: 36000"));
  ASSERT_OK(sink.Open(Context(), {stream}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(0));
  for (size_t begin = 0; begin < rows.size(); begin += 150) {
    std::vector<Row> part(rows.begin() + static_cast<std::ptrdiff_t>(begin),
                          rows.begin() + static_cast<std::ptrdiff_t>(begin + 150));
    std::unique_ptr<Batch> batch = sluice::testing::MakeBatch(schema, part);
    batch->set_stream(0);
    ASSERT_OK(writer->Write(*batch));
    ASSERT_OK(writer->Prepare());
    ASSERT_OK(writer->Commit(CommitContext{begin / 150 + 1, {}}));
  }
  writer.reset();
  ASSERT_OK(sink.Finish());
  std::unique_ptr<Batch> all = sluice::testing::MakeBatch(schema, rows);
  std::vector<std::string> expected;
  for (size_t r = 0; r < all->num_rows(); ++r) {
    std::string line = "row";
    for (size_t c = 0; c < all->num_columns(); ++c)
      line += "\t" + sluice::testing::CanonicalValueText(all->column(c), r);
    line += fmt::format("\t2026-12-04\t{:02}", 9 + r % 3);
    expected.push_back(line);
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> read = ReadIndependently("dt,hr");
  ASSERT_EQ(read.size(), expected.size());
  for (size_t i = 0; i < read.size(); ++i)
    ASSERT_EQ(read[i], expected[i]) << "row " << i;
}

TEST_F(HiveSinkTest, AValueParquetCannotHoldGoesToTheErrorsPolicyAndTheRestIsWritten) {
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64(), false}, {"t", DataType::Time(), true}});
  StreamInfo stream;
  stream.name = "events";
  stream.schema = schema;
  sluice::testing::RecordAndSkip handler;
  JobContext context = Context();
  context.bad_records = &handler;
  HiveSink sink(Options(""));
  ASSERT_OK(sink.Open(context, {stream}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(0));
  // 838:59:59 is a MySQL TIME; Parquet's TIME stops at 24:00:00.
  std::unique_ptr<Batch> batch = sluice::testing::MakeBatch(
      schema, {{"1", "01:00:00"}, {"2", "838:59:59"}, {"3", std::nullopt}, {"4", "23:59:59"}});
  batch->set_stream(0);
  ASSERT_OK(writer->Write(*batch));
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit(CommitContext{1, {}}));
  writer.reset();
  ASSERT_OK(sink.Finish());
  std::vector<BadRecord> bad = handler.records();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].raw, "2,838:59:59");
  EXPECT_THAT(bad[0].reason.message(), HasSubstr("outside Parquet TIME's range"));
  EXPECT_THAT(bad[0].location, HasSubstr("events-job-000-00000.parquet row 2"));
  std::vector<std::string> read = ReadIndependently("-");
  EXPECT_EQ(read, (std::vector<std::string>{"row\t1\t01:00:00", "row\t3\t\\N",
                                            "row\t4\t23:59:59"}));
}

TEST_F(HiveSinkTest, AnHourClosesOnceLatenessPassedAndLateRowsShareOneFile) {
  HiveSink sink(Options("time_partition_column: ts, lateness_secs: 600"));
  ASSERT_OK(sink.Open(Context(), Streams()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(0));
  WriteAndCommit(writer.get(), {Event(1, 9, 0, "DE"), Event(2, 9, 59, "DE")}, 1);
  // 10:05 is before 10:00 + lateness: hour 9 stays open.
  WriteAndCommit(writer.get(), {Event(3, 10, 5, "DE")}, 2);
  EXPECT_FALSE(io::PathExists(root_ + "/dt=2026-12-04/hr=09/_SUCCESS"));
  // 10:10 closes it: its file is published and _SUCCESS written at this commit.
  WriteAndCommit(writer.get(), {Event(4, 10, 10, "DE")}, 3);
  EXPECT_EQ(TableFiles(root_ + "/dt=2026-12-04/hr=09"),
            (std::vector<std::string>{"_SUCCESS", "events-job-000-00000.parquet"}));
  // Late rows for hour 9 at three checkpoints: one new file, still open.
  for (uint64_t checkpoint = 4; checkpoint <= 6; ++checkpoint) {
    WriteAndCommit(writer.get(),
                   {Event(static_cast<int64_t>(checkpoint) * 10, 9, 30, "DE"),
                    Event(static_cast<int64_t>(checkpoint) * 10 + 1, 10, 20, "DE")},
                   checkpoint);
  }
  std::vector<std::string> hour9 = TableFiles(root_ + "/dt=2026-12-04/hr=09");
  EXPECT_EQ(std::count_if(hour9.begin(), hour9.end(),
                          [](const std::string& f) { return f[0] != '.'; }),
            2) << "late rows made files per checkpoint";
  // An hour of event time later the late file ends too (with hour 10's).
  WriteAndCommit(writer.get(), {Event(100, 11, 30, "DE")}, 7);
  EXPECT_EQ(TableFiles(root_ + "/dt=2026-12-04/hr=09"),
            (std::vector<std::string>{"_SUCCESS", "events-job-000-00000.parquet",
                                      "events-job-000-00002.parquet"}));
  EXPECT_TRUE(io::PathExists(root_ + "/dt=2026-12-04/hr=10/_SUCCESS"));
  EXPECT_FALSE(io::PathExists(root_ + "/dt=2026-12-04/hr=11/_SUCCESS"));
  writer.reset();
  ASSERT_OK(sink.Finish());
  EXPECT_EQ(ReadIndependently("dt,hr").size(), 11u);
}

TEST_F(HiveSinkTest, FilesEndAtTheirTargetSizeNotAtCheckpoints) {
  HiveSink sink(Options("target_file_bytes: 600, row_group_bytes: 1KiB"));
  ASSERT_OK(sink.Open(Context(), Streams()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(0));
  for (uint64_t checkpoint = 1; checkpoint <= 4; ++checkpoint) {
    std::vector<Row> rows;
    for (int i = 0; i < 100; ++i) {
      int64_t id = static_cast<int64_t>(checkpoint) * 1000 + i;
      rows.push_back(Event(id, 9, i % 60, fmt::format("country-{}", id)));
    }
    WriteAndCommit(writer.get(), rows, checkpoint);
  }
  writer.reset();
  ASSERT_OK(sink.Finish());
  std::vector<std::string> files;
  for (const std::string& file : TableFiles(root_)) {
    if (file.ends_with(".parquet"))
      files.push_back(file);
  }
  ASSERT_GT(files.size(), 2u);
  EXPECT_LT(files.size(), 200u);
  for (size_t i = 0; i < files.size(); ++i)
    EXPECT_EQ(files[i], fmt::format("events-job-000-{:05}.parquet", i));
  EXPECT_EQ(ReadIndependently("-").size(), 400u);
}

TEST_F(HiveSinkTest, ACrashAfterACommitResumesTheSameFilesAndLosesNothing) {
  std::vector<Row> first = {Event(1, 9, 1, "DE"), Event(2, 10, 1, "FR")};
  std::vector<Row> lost = {Event(3, 9, 2, "DE"), Event(4, 11, 2, "IT")};
  {
    HiveSink sink(Options("time_partition_column: ts, lateness_secs: 36000"));
    ASSERT_OK(sink.Open(Context(), Streams()));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(0));
    WriteAndCommit(writer.get(), first, 1);
    // Rows after the commit reach the files (prepared), then the process dies: no Commit, no
    // Abort, the sink and writer simply gone.
    ASSERT_OK(writer->Write(*MakeBatch(lost)));
    ASSERT_OK(writer->Prepare());
  }
  HiveSink resumed(Options("time_partition_column: ts, lateness_secs: 36000"));
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, resumed.RecoverProgress(Context(true)));
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].position, "1");
  ASSERT_OK(resumed.Open(Context(true), Streams()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, resumed.CreateWriter(0));
  WriteAndCommit(writer.get(), lost, 2);
  writer.reset();
  ASSERT_OK(resumed.Finish());
  std::vector<std::string> data;
  for (const std::string& file : TableFiles(root_)) {
    if (file.ends_with(".parquet"))
      data.push_back(file);
  }
  // The files the first run started are continued, not replaced or doubled.
  EXPECT_THAT(data, ElementsAre("dt=2026-12-04/hr=09/events-job-000-00000.parquet",
                                "dt=2026-12-04/hr=10/events-job-000-00001.parquet",
                                "dt=2026-12-04/hr=11/events-job-000-00002.parquet"));
  EXPECT_EQ(ReadIndependently("dt,hr").size(), 4u);
}

TEST_F(HiveSinkTest, AFreshRunAppendsAfterTheJobsFilesOrOverwritesOrRefuses) {
  for (int run = 0; run < 2; ++run) {
    HiveSink sink(Options(""));
    ASSERT_OK(sink.Open(Context(), Streams()));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(0));
    WriteAndCommit(writer.get(), {Event(run, 9, 0, "DE")}, 1);
    writer.reset();
    ASSERT_OK(sink.Finish());
  }
  EXPECT_THAT(TableFiles(root_), ::testing::IsSupersetOf({"events-job-000-00000.parquet",
                                                         "events-job-000-00001.parquet"}));
  HiveSink refusing(Options("mode: error_if_exists"));
  Status refused = refusing.Open(Context(), Streams());
  EXPECT_EQ(refused.code(), StatusCode::kInvalidConfig);
  EXPECT_THAT(refused.message(), HasSubstr("holds 2 file(s) of job 'events-job'"));
  HiveSink overwriting(Options("mode: overwrite"));
  ASSERT_OK(overwriting.Open(Context(), Streams()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, overwriting.CreateWriter(0));
  WriteAndCommit(writer.get(), {Event(7, 9, 0, "DE")}, 1);
  writer.reset();
  ASSERT_OK(overwriting.Finish());
  EXPECT_EQ(ReadIndependently("-"),
            std::vector<std::string>{"row\t7\t2026-12-04 09:00:00+00:00\tDE\t1.50"});
}

TEST_F(HiveSinkTest, WritersAtOnceEachAddTheirPartitionsToTheOneDdlFile) {
  HiveSink sink(Options("time_partition_column: ts, lateness_secs: 0"));
  JobContext context = Context();
  context.parallelism = 4;
  ASSERT_OK(sink.Open(context, Streams()));
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (int slot = 0; slot < 4; ++slot) {
    threads.emplace_back([&, slot] {
      results[slot] = [&]() -> Status {
        SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(slot));
        // Each slot its own hours; every commit closes the previous one (lateness 0).
        for (int hour = 0; hour < 6; ++hour) {
          SLUICE_RETURN_IF_ERROR(
              writer->Write(*MakeBatch({Event(slot * 100 + hour, slot * 6 + hour, 0, "DE")})));
          SLUICE_RETURN_IF_ERROR(writer->Prepare());
          CommitContext commit;
          commit.checkpoint = static_cast<uint64_t>(hour + 1);
          SLUICE_RETURN_IF_ERROR(writer->Commit(commit));
        }
        return Status::OK();
      }();
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  for (const Status& result : results)
    ASSERT_OK(result);
  ASSERT_OK(sink.Finish());
  ASSERT_OK_AND_ASSIGN(std::string ddl,
                       io::MakeLocalFileStore(root_)->ReadFile("_sluice/events-job/events.sql"));
  size_t statements = 0;
  for (size_t at = ddl.find("ADD IF NOT EXISTS PARTITION"); at != std::string::npos;
       at = ddl.find("ADD IF NOT EXISTS PARTITION", at + 1)) {
    ++statements;
  }
  EXPECT_EQ(statements, 24u) << ddl;
  EXPECT_EQ(ReadIndependently("dt,hr").size(), 24u);
}

TEST_F(HiveSinkTest, ARunTakenOverCommitsNothingMoreAndNeverWritesTheNewRunsFiles) {
  JobContext first = Context();
  first.run_epoch = 1;
  HiveSink old_run(Options("time_partition_column: ts, lateness_secs: 0"));
  ASSERT_OK(old_run.Claim(first));
  ASSERT_OK(old_run.Open(first, Streams()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> old_writer, old_run.CreateWriter(0));
  WriteAndCommit(old_writer.get(), {Event(1, 9, 0, "DE")}, 1);
  // A newer run claims the table (the old one froze past its lease, and may still be alive) and
  // goes on with hour 9.
  JobContext second = Context(true);
  second.run_epoch = 2;
  second.earlier_run_may_be_alive = true;
  HiveSink new_run(Options("time_partition_column: ts, lateness_secs: 0"));
  ASSERT_OK(new_run.Claim(second));
  ASSERT_OK_AND_ASSIGN(std::vector<SplitProgress> progress, new_run.RecoverProgress(second));
  ASSERT_OK(new_run.Open(second, Streams()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> new_writer, new_run.CreateWriter(0));
  ASSERT_OK(new_writer->Write(*MakeBatch({Event(3, 9, 30, "DE")})));
  ASSERT_OK(new_writer->Prepare());
  // The old run wakes up: its rows and hour 9's footer go to its own file, and its commit, which
  // would publish hour 9, is refused.
  ASSERT_OK(old_writer->Write(*MakeBatch({Event(2, 10, 0, "DE")})));
  ASSERT_OK(old_writer->Prepare());
  Status refused = old_writer->Commit(CommitContext{2, {}});
  EXPECT_EQ(refused.code(), StatusCode::kConflict) << refused.ToString();
  EXPECT_EQ(old_run.Finish().code(), StatusCode::kConflict);
  EXPECT_FALSE(io::PathExists(root_ + "/dt=2026-12-04/hr=09/events-job-000-00000.parquet"));
  // The newer run's file holds the old run's committed row and its own, whole.
  ASSERT_OK(new_writer->Commit(CommitContext{2, {}}));
  new_writer.reset();
  ASSERT_OK(new_run.Finish());
  std::vector<std::string> rows = ReadIndependently("dt,hr");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0], ::testing::StartsWith("row\t1\t"));
  EXPECT_THAT(rows[1], ::testing::StartsWith("row\t3\t"));
}

TEST_F(HiveSinkTest, AQuietStreamStillPublishesOnceItsFilesAreRollIntervalOld) {
  HiveSinkOptions options = Options("time_partition_column: ts, roll_interval_secs: 60");
  auto now = std::chrono::steady_clock::time_point{};
  options.clock = [&now] { return now; };
  HiveSink sink(options);
  ASSERT_OK(sink.Open(Context(), Streams()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(0));
  WriteAndCommit(writer.get(), {Event(1, 9, 0, "DE")}, 1);
  now += std::chrono::seconds(59);
  WriteAndCommit(writer.get(), {Event(2, 9, 1, "DE")}, 2);
  EXPECT_FALSE(io::PathExists(root_ + "/dt=2026-12-04/hr=09/events-job-000-00000.parquet"));
  // No event since, so the hour never closes by event time; a minute after it started, the
  // file ends at the next checkpoint anyway (without _SUCCESS: the hour is not over).
  now += std::chrono::seconds(1);
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit(CommitContext{3, {}}));
  EXPECT_EQ(TableFiles(root_ + "/dt=2026-12-04/hr=09"),
            std::vector<std::string>{"events-job-000-00000.parquet"});
  // The next rows start the next file.
  WriteAndCommit(writer.get(), {Event(3, 9, 2, "DE")}, 4);
  writer.reset();
  ASSERT_OK(sink.Finish());
  EXPECT_EQ(ReadIndependently("dt,hr").size(), 3u);
  EXPECT_TRUE(io::PathExists(root_ + "/dt=2026-12-04/hr=09/events-job-000-00001.parquet"));
}

TEST_F(HiveSinkTest, PartitionColumnsThatCannotWorkAreConfigErrors) {
  struct Case {
    std::string options;
    std::string message;
  } cases[] = {
      {"time_partition_column: nope", "time_partition_column 'nope' is not a column"},
      {"time_partition_column: country", "it must be a timestamp, timestamp_tz or date"},
      {"partition_by: [missing]", "partition_by 'missing' is not a column"},
      {"partition_by: [id, ts, country, amount]", "the files would hold no column"},
  };
  for (const Case& c : cases) {
    HiveSink sink(Options(c.options));
    Status status = sink.Open(Context(), Streams());
    EXPECT_EQ(status.code(), StatusCode::kInvalidConfig) << c.options;
    EXPECT_THAT(status.message(), HasSubstr(c.message)) << c.options;
  }
  StreamInfo changelog = Streams()[0];
  changelog.changelog = true;
  HiveSink sink(Options(""));
  Status status = sink.Open(Context(), {changelog});
  EXPECT_THAT(status.message(), HasSubstr("is a changelog"));
}

}  // namespace
}  // namespace sluice::connectors::hive
