#include "connectors/postgres/tests/postgres_test_util.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "config/job_config.h"
#include "config/node.h"
#include "connectors/postgres/postgres_options.h"
#include "connectors/postgres/postgres_sink.h"
#include "connectors/postgres/postgres_source.h"
#include "connectors/registry.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterPostgresConnector(ConnectorRegistry& registry);
}

namespace sluice::connectors::postgres::testing {

const sluice::testing::TestServers& Servers() {
  static const sluice::testing::TestServers servers = [] {
    Result<sluice::testing::TestServers> found = sluice::testing::TestServers::FromEnvironment();
    if (!found.ok()) {
      ADD_FAILURE() << found.status().ToString();
      return sluice::testing::TestServers{};
    }
    return *found;
  }();
  return servers;
}

TestDatabase::TestDatabase(const std::string& name, const std::string& options)
    : name_(fmt::format("{}_{}", name, getpid())) {
  (void)sluice::testing::PsqlExec(Servers(), "postgres",
                                  fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_));
  Result<std::string> created = sluice::testing::PsqlExec(
      Servers(), "postgres", fmt::format("CREATE DATABASE {} {}", name_, options));
  EXPECT_TRUE(created.ok()) << created.status().ToString();
}

TestDatabase::~TestDatabase() {
  (void)sluice::testing::PsqlExec(Servers(), "postgres",
                                  fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_));
}

std::string TestDatabase::Exec(const std::string& sql) const {
  Result<std::string> out = sluice::testing::PsqlExec(Servers(), name_, sql);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::string();
}

Result<std::string> TestDatabase::TryExec(const std::string& sql) const {
  return sluice::testing::PsqlExec(Servers(), name_, sql);
}

std::string TestDatabase::ConnectionYaml(const std::string& user) const {
  const auto& pg = Servers().postgres;
  return fmt::format("host: {}\nport: {}\nuser: {}\npassword: \"{}\"\ndatabase: {}\n", pg.host,
                     pg.port, user.empty() ? pg.user : user, pg.password, name_);
}

Result<std::unique_ptr<Source>> MakeSource(const std::string& yaml) {
  SLUICE_ASSIGN_OR_RETURN(config::Node node, config::ParseYaml(yaml, "test.yaml"));
  SLUICE_ASSIGN_OR_RETURN(
      config::Options options,
      config::Options::Validate(node, PostgresSourceOptionTable(), "source (type postgres)"));
  SLUICE_ASSIGN_OR_RETURN(PostgresSourceOptions parsed, PostgresSourceOptions::FromConfig(options));
  return std::unique_ptr<Source>(std::make_unique<PostgresSource>(std::move(parsed), options));
}

Result<std::unique_ptr<Sink>> MakeSink(const std::string& yaml) {
  SLUICE_ASSIGN_OR_RETURN(config::Node node, config::ParseYaml(yaml, "test.yaml"));
  SLUICE_ASSIGN_OR_RETURN(
      config::Options options,
      config::Options::Validate(node, PostgresSinkOptionTable(), "sink (type postgres)"));
  SLUICE_ASSIGN_OR_RETURN(PostgresSinkOptions parsed, PostgresSinkOptions::FromConfig(options));
  return std::unique_ptr<Sink>(std::make_unique<PostgresSink>(std::move(parsed), options));
}

Result<std::vector<StreamRows>> ReadAll(Source& source, JobContext& context, size_t batch_rows) {
  std::vector<StreamRows> out(source.streams().size());
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitEnumerator> enumerator, source.CreateEnumerator());
  SplitEnumerator* splits = enumerator.get();
  context.offer_split = [splits](const std::string&, Split split) {
    splits->Add(std::move(split));
  };
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, enumerator->Next());
    if (!split)
      break;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitReader> reader, source.CreateReader(*split, ""));
    const StreamInfo& stream = source.streams()[static_cast<size_t>(split->stream)];
    Batch batch(stream.schema, batch_rows);
    while (true) {
      batch.Clear();
      SLUICE_ASSIGN_OR_RETURN(bool more, reader->ReadBatch(&batch));
      if (!more)
        break;
      for (size_t r = 0; r < batch.num_rows(); ++r) {
        out[static_cast<size_t>(split->stream)].rows.push_back(
            sluice::testing::RowFromBatch(batch, r));
        out[static_cast<size_t>(split->stream)].split_ids.push_back(split->id);
      }
    }
  }
  context.offer_split = nullptr;
  return out;
}

Status WriteAll(Sink& sink, const JobContext& context, const std::vector<StreamInfo>& streams,
                const std::vector<const Batch*>& batches) {
  SLUICE_RETURN_IF_ERROR(sink.Open(context, streams));
  Result<std::unique_ptr<SinkWriter>> writer = sink.CreateWriter(0);
  if (!writer.ok()) {
    sink.Abort();
    return writer.status();
  }
  for (const Batch* batch : batches) {
    Status status = (*writer)->Write(*batch);
    if (!status.ok()) {
      (*writer)->Abort();
      sink.Abort();
      return status;
    }
  }
  Status status = (*writer)->Prepare();
  if (status.ok())
    status = (*writer)->Commit({});
  if (!status.ok()) {
    (*writer)->Abort();
    sink.Abort();
    return status;
  }
  writer->reset();
  status = sink.Finish();
  if (!status.ok())
    sink.Abort();
  return status;
}

runtime::JobSummary RunJob(const std::string& yaml) {
  static const ConnectorRegistry* registry = [] {
    auto* r = new ConnectorRegistry();
    RegisterPostgresConnector(*r);
    return r;
  }();
  Result<config::JobConfig> job = config::LoadJobText(yaml, "job.yaml", {});
  if (!job.ok()) {
    runtime::JobSummary summary;
    summary.status = job.status();
    return summary;
  }
  // Each call is a job of its own: its own state, never a resume of another test's run.
  sluice::testing::TempDir state;
  runtime::JobRunner runner(std::move(*job), *registry, runtime::RunOptions{state.path(), true});
  return runner.Run(nullptr);
}

std::string Dump(const TestDatabase& db, const std::string& table, const std::string& order,
                 const std::string& columns) {
  return db.Exec(fmt::format("SELECT {} FROM {} ORDER BY {}", columns, table, order));
}

}  // namespace sluice::connectors::postgres::testing
