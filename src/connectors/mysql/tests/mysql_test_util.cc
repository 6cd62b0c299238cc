#include "connectors/mysql/tests/mysql_test_util.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <sstream>

#include "config/job_config.h"
#include "config/node.h"
#include "core/value_text.h"
#include "testing/conformance/conformance_job.h"
#include "testing/temp_dir.h"

namespace sluice::connectors {
void RegisterMysqlConnector(ConnectorRegistry& registry);
void RegisterDatagenConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::mysql::testing {

Cell CellOf(const Column& column, size_t row) {
  if (column.IsNull(row))
    return std::nullopt;
  std::string text;
  AppendValueText(column, row, &text);
  if (column.type().id == TypeId::kFloat64) {
    text += fmt::format("#{:016x}", std::bit_cast<uint64_t>(column.Get<double>(row)));
  } else if (column.type().id == TypeId::kFloat32) {
    text += fmt::format("#{:08x}", std::bit_cast<uint32_t>(column.Get<float>(row)));
  }
  return text;
}

Row RowOf(const Batch& batch, size_t row) {
  Row out;
  for (size_t c = 0; c < batch.num_columns(); ++c)
    out.push_back(CellOf(batch.column(c), row));
  return out;
}

const ConnectorRegistry& Registry() {
  static const ConnectorRegistry* registry = [] {
    auto* r = new ConnectorRegistry();
    RegisterMysqlConnector(*r);
    RegisterDatagenConnector(*r);
    return r;
  }();
  return *registry;
}

namespace {

Result<config::ConnectorBlock> Block(const std::string& yaml) {
  SLUICE_ASSIGN_OR_RETURN(config::Node node, config::ParseYaml(yaml, "test.yaml"));
  config::ConnectorBlock block;
  block.type = "mysql";
  block.options = std::move(node);
  return block;
}

std::string Lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

Result<std::unique_ptr<Source>> MakeSource(const std::string& yaml) {
  SLUICE_ASSIGN_OR_RETURN(config::ConnectorBlock block, Block(yaml));
  return Registry().CreateSource(block);
}

Result<std::unique_ptr<Sink>> MakeSink(const std::string& yaml) {
  SLUICE_ASSIGN_OR_RETURN(config::ConnectorBlock block, Block(yaml));
  return Registry().CreateSink(block);
}

TestDatabase::TestDatabase(const std::string& suffix) {
  Result<sluice::testing::TestServers> servers = sluice::testing::TestServers::FromEnvironment();
  if (!servers.ok())
    return;
  servers_ = *servers;
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = "sluice_test_";
  name += info != nullptr ? fmt::format("{}_{}", info->test_suite_name(), info->name()) : "x";
  if (!suffix.empty())
    name += "_" + suffix;
  name = Lower(name);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      c = '_';
  }
  if (name.size() > 64) {
    std::string tail = fmt::format("_{:08x}", std::hash<std::string>()(name) & 0xffffffffu);
    name = name.substr(0, 64 - tail.size()) + tail;
  }
  name_ = name;
  Result<std::string> created = sluice::testing::MysqlExec(
      servers_, "",
      fmt::format("DROP DATABASE IF EXISTS `{0}`; CREATE DATABASE `{0}` CHARACTER SET utf8mb4 "
                  "COLLATE utf8mb4_bin",
                  name_));
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  ok_ = created.ok();
}

TestDatabase::~TestDatabase() {
  if (!ok_)
    return;
  (void)sluice::testing::MysqlExec(
      servers_, "",
      fmt::format("SET SESSION lock_wait_timeout = 30; DROP DATABASE IF EXISTS `{}`", name_));
}

std::string TestDatabase::Exec(const std::string& sql) const {
  Result<std::string> out = sluice::testing::MysqlExec(servers_, name_, sql);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::string();
}

Result<std::string> TestDatabase::TryExec(const std::string& sql) const {
  return sluice::testing::MysqlExec(servers_, name_, sql);
}

Status TestDatabase::Load(const std::string& path) const {
  return sluice::testing::MysqlLoadFile(servers_, name_, path);
}

std::string TestDatabase::ConnectionYaml(const std::string& user) const {
  return fmt::format("host: {}\nport: {}\nuser: {}\npassword: \"{}\"\ndatabase: {}\n",
                     servers_.mysql.host, servers_.mysql.port,
                     user.empty() ? servers_.mysql.user : user, servers_.mysql.password, name_);
}

std::string FlowConnection(const TestDatabase& db) {
  return sluice::testing::conformance::YamlLinesAsFlow(db.ConnectionYaml());
}

Result<std::vector<ReadResult>> ReadAll(Source& source, size_t batch_rows) {
  std::vector<ReadResult> results(source.streams().size());
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitEnumerator> enumerator, source.CreateEnumerator());
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, enumerator->Next());
    if (!split)
      break;
    ReadResult& result = results[static_cast<size_t>(split->stream)];
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitReader> reader, source.CreateReader(*split, ""));
    Batch batch(source.streams()[static_cast<size_t>(split->stream)].schema, batch_rows);
    size_t rows = 0;
    for (;;) {
      batch.Clear();
      SLUICE_ASSIGN_OR_RETURN(bool more, reader->ReadBatch(&batch));
      for (size_t r = 0; r < batch.num_rows(); ++r) {
        result.rows.push_back(RowOf(batch, r));
        result.split_ids.push_back(split->id);
      }
      rows += batch.num_rows();
      if (!more)
        break;
    }
    result.split_rows.push_back(rows);
  }
  return results;
}

Status WriteAll(Sink& sink, const JobContext& context, const std::vector<StreamInfo>& streams,
                const std::vector<const Batch*>& batches) {
  SLUICE_RETURN_IF_ERROR(sink.Open(context, streams));
  Result<std::unique_ptr<SinkWriter>> created = sink.CreateWriter(0);
  if (!created.ok()) {
    sink.Abort();
    return created.status();
  }
  std::unique_ptr<SinkWriter> writer = std::move(*created);
  auto fail = [&](Status status) {
    writer->Abort();
    writer.reset();
    sink.Abort();
    return status;
  };
  for (const Batch* batch : batches) {
    Status written = writer->Write(*batch);
    if (!written.ok())
      return fail(written);
  }
  Status prepared = writer->Prepare();
  if (!prepared.ok())
    return fail(prepared);
  Status committed = writer->Commit({});
  if (!committed.ok())
    return fail(committed);
  writer.reset();
  Status finished = sink.Finish();
  if (!finished.ok())
    sink.Abort();
  return finished;
}

runtime::JobSummary RunJob(const std::string& job_yaml) {
  Result<config::JobConfig> job = config::LoadJobText(job_yaml, "test.yaml", {});
  if (!job.ok()) {
    runtime::JobSummary summary;
    summary.status = job.status();
    return summary;
  }
  // A state store of its own: a run never resumes another test's unfinished job of that name.
  sluice::testing::TempDir state;
  runtime::RunOptions options;
  options.state_dir = state.path();
  runtime::JobRunner runner(*job, Registry(), options);
  return runner.Run(nullptr);
}

std::vector<std::string> Lines(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

std::string Indent(const std::string& text, int spaces) {
  std::string pad(static_cast<size_t>(spaces), ' ');
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    out += pad + line + "\n";
  return out;
}

BinlogLock::BinlogLock(const std::string& datadir, bool exclusive) {
  fd_ = ::open((datadir + "/../sluice-binlog-tests.lock").c_str(), O_CREAT | O_RDWR, 0644);
  EXPECT_GE(fd_, 0) << "cannot open the binlog lock file";
  if (fd_ >= 0) {
    EXPECT_EQ(::flock(fd_, exclusive ? LOCK_EX : LOCK_SH), 0);
  }
}

BinlogLock::~BinlogLock() {
  if (fd_ >= 0)
    ::close(fd_);
}

}  // namespace sluice::connectors::mysql::testing
