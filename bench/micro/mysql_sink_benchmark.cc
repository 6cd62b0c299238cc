// MySQL both ways on 1M rows of the datagen connector's order-like columns (int64 key, strings
// with multi-byte UTF-8, decimal(12,2), int32, float64, bool, date, timestamp):
//   writing: the sink's LOAD DATA LOCAL INFILE (method load_data) against its multi-row INSERTs
//            (method insert), each rendering from Sluice batches;
//   reading: the source (binary protocol: prepared statements, typed binds, keyset pages)
//            against the text protocol (mysql_use_result, every field parsed with
//            AppendParsedValue) over the same kind of connection, both into Sluice batches.
// BM_ReadText also counts float64 values whose text did not read back bit-exactly.
//
// Needs the test servers: scripts/test-servers.sh start /tmp/servers.env, then
//   SLUICE_TEST_SERVERS_ENV=/tmp/servers.env bench/mysql_sink_benchmark
#include <benchmark/benchmark.h>
#include <fmt/core.h>
#include <mysql.h>
#include <unistd.h>

#include <bit>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "config/options.h"
#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/mysql_sink.h"
#include "connectors/mysql/mysql_source.h"
#include "core/value_text.h"

namespace sluice::connectors::mysql {
namespace {

constexpr uint64_t kRows = 1'000'000;

using bench::Context;
using bench::Die;

struct Setup {
  ConnectionOptions connection;
  std::vector<std::unique_ptr<Batch>> batches;
  StreamInfo stream;
  uint64_t price_bits_sum = 0;  // of the generated float64 column, to check exactness
};

Setup* created_setup = nullptr;  // set once GetSetup() ran: the database to drop at exit

// Creates a database for the run and generates the batches once.
Setup& GetSetup() {
  static Setup* setup = [] {
    auto* s = new Setup();
    std::map<std::string, std::string> values = bench::TestServersEnv();
    s->connection.host = values["SLUICE_TEST_MYSQL_HOST"];
    s->connection.port = std::atoi(values["SLUICE_TEST_MYSQL_PORT"].c_str());
    s->connection.user = values["SLUICE_TEST_MYSQL_USER"];
    s->connection.password = Secret(values["SLUICE_TEST_MYSQL_PASSWORD"]);
    s->connection.database = "mysql";
    {
      auto admin = Connection::Open(s->connection);
      if (!admin.ok())
        Die(admin.status());
      std::string name = fmt::format("bench_mysql_{}", getpid());
      if (Status st = admin->Execute("CREATE DATABASE " + name, "create"); !st.ok())
        Die(st);
      s->connection.database = name;
    }
    s->batches = bench::OrderBatches(kRows, &s->stream);
    int price = s->stream.schema->FieldIndex("price");
    for (const auto& batch : s->batches) {
      const Column& column = batch->column(static_cast<size_t>(price));
      for (size_t r = 0; r < batch->num_rows(); ++r) {
        if (column.IsValid(r))
          s->price_bits_sum += std::bit_cast<uint64_t>(column.Get<double>(r));
      }
    }
    created_setup = s;
    return s;
  }();
  return *setup;
}

void DropDatabase() {
  if (created_setup == nullptr)
    return;
  auto admin = Connection::Open(created_setup->connection);
  if (admin.ok()) {
    (void)admin->Execute("DROP DATABASE " + created_setup->connection.database, "drop");
  }
}

void WriteTable(const std::string& table, LoadMethod method) {
  Setup& setup = GetSetup();
  MysqlSinkOptions options;
  options.connection = setup.connection;
  options.connection.local_infile = method == LoadMethod::kLoadData;
  options.table = table;
  options.mode = WriteMode::kOverwrite;
  options.method = method;
  MysqlSink sink(options, config::Options());
  if (Status st = sink.Open(Context(), {setup.stream}); !st.ok())
    Die(st);
  auto writer = sink.CreateWriter(0);
  if (!writer.ok())
    Die(writer.status());
  for (const auto& batch : setup.batches) {
    if (Status st = (*writer)->Write(*batch); !st.ok())
      Die(st);
  }
  if (Status st = (*writer)->Prepare(); !st.ok())
    Die(st);
  if (Status st = (*writer)->Commit({}); !st.ok())
    Die(st);
  writer->reset();
  if (Status st = sink.Finish(); !st.ok())
    Die(st);
}

void BM_WriteLoadData(benchmark::State& state) {
  for (auto _ : state)
    WriteTable("orders_load_data", LoadMethod::kLoadData);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

void BM_WriteInsert(benchmark::State& state) {
  for (auto _ : state)
    WriteTable("orders_insert", LoadMethod::kInsert);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

void EnsureReadTable() {
  static bool written = (WriteTable("orders", LoadMethod::kLoadData), true);
  (void)written;
}

// The source as a job runs it with one reader: 200,000-row chunks planned from the key, 50,000-row
// pages, binary protocol.
void BM_ReadBinary(benchmark::State& state) {
  EnsureReadTable();
  for (auto _ : state) {
    MysqlSourceOptions options;
    options.connection = GetSetup().connection;
    options.table = "orders";
    options.consistency = Consistency::kPerSplit;
    MysqlSource source(options, config::Options());
    if (Status st = source.Open(Context()); !st.ok())
      Die(st);
    auto enumerator = source.CreateEnumerator();
    Batch batch(source.streams()[0].schema, 4096);
    uint64_t rows = 0;
    uint64_t price_bits_sum = 0;
    int price = source.streams()[0].schema->FieldIndex("price");
    while (true) {
      auto split = (*enumerator)->Next();
      if (!split.ok())
        Die(split.status());
      if (!*split)
        break;
      auto reader = source.CreateReader(**split, "");
      if (!reader.ok())
        Die(reader.status());
      while (true) {
        batch.Clear();
        auto more = (*reader)->ReadBatch(&batch);
        if (!more.ok())
          Die(more.status());
        if (!*more)
          break;
        rows += batch.num_rows();
        const Column& column = batch.column(static_cast<size_t>(price));
        for (size_t r = 0; r < batch.num_rows(); ++r) {
          if (column.IsValid(r))
            price_bits_sum += std::bit_cast<uint64_t>(column.Get<double>(r));
        }
      }
    }
    if (rows != kRows)
      Die(Internal(fmt::format("read {} rows", rows)));
    state.counters["float_bits_exact"] = price_bits_sum == GetSetup().price_bits_sum ? 1 : 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

// The text protocol, streamed (mysql_use_result), every field parsed with AppendParsedValue into
// a batch of the same schema. One query, no paging: the best case for text.
void BM_ReadText(benchmark::State& state) {
  EnsureReadTable();
  Setup& setup = GetSetup();
  auto connection = Connection::Open(setup.connection);
  if (!connection.ok())
    Die(connection.status());
  MYSQL* mysql = connection->get();
  Batch batch(setup.stream.schema, 4096);
  int price = setup.stream.schema->FieldIndex("price");
  for (auto _ : state) {
    std::string sql = "SELECT * FROM orders ORDER BY id";
    if (mysql_real_query(mysql, sql.data(), sql.size()) != 0)
      Die(connection->LastError("read"));
    ResultSet result(mysql_use_result(mysql));
    unsigned int fields = mysql_num_fields(result.get());
    uint64_t rows = 0;
    uint64_t price_bits_sum = 0;
    batch.Clear();
    auto drain = [&] {
      const Column& column = batch.column(static_cast<size_t>(price));
      for (size_t r = 0; r < batch.num_rows(); ++r) {
        if (column.IsValid(r))
          price_bits_sum += std::bit_cast<uint64_t>(column.Get<double>(r));
      }
      rows += batch.num_rows();
      batch.Clear();
    };
    while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
      unsigned long* lengths = mysql_fetch_lengths(result.get());
      for (unsigned int c = 0; c < fields; ++c) {
        Column& column = batch.column(c);
        if (row[c] == nullptr) {
          column.AppendNull();
          continue;
        }
        if (Status st = AppendParsedValue({row[c], lengths[c]}, &column); !st.ok())
          Die(st);
      }
      batch.FinishRow();
      if (batch.full())
        drain();
    }
    if (mysql_errno(mysql) != 0)
      Die(connection->LastError("read"));
    drain();
    if (rows != kRows)
      Die(Internal(fmt::format("read {} rows", rows)));
    state.counters["float_bits_exact"] = price_bits_sum == setup.price_bits_sum ? 1 : 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

BENCHMARK(BM_WriteLoadData)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_WriteInsert)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_ReadBinary)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_ReadText)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// Drops the benchmark's database when the process ends.
struct Cleanup {
  ~Cleanup() { DropDatabase(); }
} cleanup;

}  // namespace
}  // namespace sluice::connectors::mysql
