// PostgreSQL binary COPY, both ways, on 1M rows of the datagen connector's order-like columns
// (int64 key, strings with multi-byte UTF-8, decimal(12,2), int32, float64, bool, date,
// timestamp): the connector's binary paths against text COPY over the same connection type,
// each parsing into (or encoding from) Sluice batches.
//
// Needs the test servers: scripts/test-servers.sh start /tmp/servers.env, then
//   SLUICE_TEST_SERVERS_ENV=/tmp/servers.env bench/postgres_copy_benchmark
#include <benchmark/benchmark.h>
#include <fmt/core.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "config/options.h"
#include "connectors/postgres/postgres_client.h"
#include "connectors/postgres/postgres_sink.h"
#include "connectors/postgres/postgres_source.h"
#include "core/value_text.h"

namespace sluice::connectors::postgres {
namespace {

constexpr uint64_t kRows = 1'000'000;

using bench::Context;
using bench::Die;

struct Setup {
  ConnectionOptions connection;
  std::vector<std::unique_ptr<Batch>> batches;
  StreamInfo stream;
};

// Creates a database for the run and generates the batches once.
Setup& GetSetup() {
  static Setup* setup = [] {
    auto* s = new Setup();
    std::map<std::string, std::string> values = bench::TestServersEnv();
    s->connection.host = values["SLUICE_TEST_PG_HOST"];
    s->connection.port = std::atoi(values["SLUICE_TEST_PG_PORT"].c_str());
    s->connection.user = values["SLUICE_TEST_PG_USER"];
    s->connection.password = Secret(values["SLUICE_TEST_PG_PASSWORD"]);
    s->connection.database = "postgres";
    {
      auto admin = PgConnection::Connect(s->connection);
      if (!admin.ok())
        Die(admin.status());
      std::string name = fmt::format("bench_copy_{}", getpid());
      if (Status st = (*admin)->Execute("CREATE DATABASE " + name, "create"); !st.ok())
        Die(st);
      s->connection.database = name;
    }
    s->batches = bench::OrderBatches(kRows, &s->stream);
    return s;
  }();
  return *setup;
}

std::unique_ptr<PostgresSink> MakeSink(WriteMode mode, const std::string& table) {
  PostgresSinkOptions options;
  options.connection = GetSetup().connection;
  options.table = table;
  options.mode = mode;
  return std::make_unique<PostgresSink>(options, config::Options());
}

void WriteTable(const std::string& table) {
  Setup& setup = GetSetup();
  auto sink = MakeSink(WriteMode::kOverwrite, table);
  if (Status st = sink->Open(Context(), {setup.stream}); !st.ok())
    Die(st);
  auto writer = sink->CreateWriter(0);
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
  if (Status st = sink->Finish(); !st.ok())
    Die(st);
}

// Sets the visibility map, as on any table autovacuum has seen: chunk planning's index-only
// scans then stay in the index.
void Vacuum() {
  auto conn = PgConnection::Connect(GetSetup().connection);
  if (!conn.ok())
    Die(conn.status());
  if (Status st = (*conn)->Execute("VACUUM ANALYZE orders_binary", "vacuum"); !st.ok())
    Die(st);
}

void BM_WriteBinary(benchmark::State& state) {
  for (auto _ : state)
    WriteTable("orders_binary");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

PGconn* Connect() {
  const ConnectionOptions& c = GetSetup().connection;
  std::string port = std::to_string(c.port);
  const char* keys[] = {"host", "port", "user", "password", "dbname", "client_encoding", nullptr};
  const char* values[] = {
      c.host.c_str(),     port.c_str(), c.user.c_str(), c.password.Reveal().c_str(),
      c.database.c_str(), "UTF8",       nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 0);
  if (PQstatus(conn) != CONNECTION_OK)
    Die(Unavailable(PQerrorMessage(conn)));
  PQexec(conn, "SET DateStyle = ISO; SET TimeZone = UTC; SET extra_float_digits = 3");
  return conn;
}

// COPY text: every value rendered with Sluice's canonical text and escaped for COPY.
void BM_WriteText(benchmark::State& state) {
  Setup& setup = GetSetup();
  PGconn* conn = Connect();
  PQclear(PQexec(conn,
                 "DROP TABLE IF EXISTS orders_text; CREATE TABLE orders_text (LIKE "
                 "orders_binary INCLUDING ALL)"));
  std::string buffer;
  std::string value;
  for (auto _ : state) {
    PQclear(PQexec(conn, "TRUNCATE orders_text"));
    PQclear(PQexec(conn, "COPY orders_text FROM STDIN"));
    for (const auto& batch : setup.batches) {
      for (size_t r = 0; r < batch->num_rows(); ++r) {
        for (size_t c = 0; c < batch->num_columns(); ++c) {
          if (c > 0)
            buffer += '\t';
          const Column& column = batch->column(c);
          if (column.IsNull(r)) {
            buffer += "\\N";
            continue;
          }
          value.clear();
          AppendValueText(column, r, &value);
          for (char ch : value) {
            if (ch == '\\' || ch == '\t' || ch == '\n' || ch == '\r')
              buffer += '\\';
            buffer += ch;
          }
        }
        buffer += '\n';
      }
      if (buffer.size() > (1u << 20)) {
        PQputCopyData(conn, buffer.data(), static_cast<int>(buffer.size()));
        buffer.clear();
      }
    }
    PQputCopyData(conn, buffer.data(), static_cast<int>(buffer.size()));
    buffer.clear();
    PQputCopyEnd(conn, nullptr);
    PGresult* result = PQgetResult(conn);
    if (PQresultStatus(result) != PGRES_COMMAND_OK)
      Die(DataError(PQerrorMessage(conn)));
    PQclear(result);
    while ((result = PQgetResult(conn)) != nullptr)
      PQclear(result);
  }
  PQfinish(conn);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

void BM_ReadBinary(benchmark::State& state) {
  static bool written = (WriteTable("orders_binary"), Vacuum(), true);
  (void)written;
  for (auto _ : state) {
    PostgresSourceOptions options;
    options.connection = GetSetup().connection;
    options.table = "orders_binary";
    // The defaults: 200000-row splits planned from the index, 50000-row pages.
    PostgresSource source(options, config::Options());
    if (Status st = source.Open(Context()); !st.ok())
      Die(st);
    auto enumerator = source.CreateEnumerator();
    Batch batch(source.streams()[0].schema, 4096);
    uint64_t rows = 0;
    while (true) {
      auto split = (*enumerator)->Next();
      if (!split.ok())
        Die(split.status());
      if (!*split)
        break;
      auto reader = source.CreateReader(**split, "");
      while (true) {
        batch.Clear();
        auto more = (*reader)->ReadBatch(&batch);
        if (!more.ok())
          Die(more.status());
        if (!*more)
          break;
        rows += batch.num_rows();
      }
    }
    if (rows != kRows)
      Die(Internal(fmt::format("read {} rows", rows)));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

// COPY text: each line split at tabs and every field parsed with AppendParsedValue.
void BM_ReadText(benchmark::State& state) {
  static bool written = (WriteTable("orders_binary"), Vacuum(), true);
  (void)written;
  Setup& setup = GetSetup();
  PGconn* conn = Connect();
  Batch batch(setup.stream.schema, 4096);
  std::string field;
  for (auto _ : state) {
    PQclear(PQexec(conn, "COPY (SELECT * FROM orders_binary ORDER BY id) TO STDOUT"));
    char* line = nullptr;
    int size;
    uint64_t rows = 0;
    batch.Clear();
    while ((size = PQgetCopyData(conn, &line, 0)) > 0) {
      std::string_view text(line, static_cast<size_t>(size - 1));  // without '\n'
      size_t column = 0;
      while (true) {
        size_t tab = text.find('\t');
        std::string_view raw = text.substr(0, tab);
        if (raw == "\\N") {
          batch.column(column).AppendNull();
        } else {
          field.clear();
          for (size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '\\' && i + 1 < raw.size()) {
              ++i;
              field += raw[i] == 't' ? '\t' : raw[i] == 'n' ? '\n' : raw[i] == 'r' ? '\r' : raw[i];
            } else {
              field += raw[i];
            }
          }
          if (Status st = AppendParsedValue(field, &batch.column(column)); !st.ok())
            Die(st);
        }
        ++column;
        if (tab == std::string_view::npos)
          break;
        text.remove_prefix(tab + 1);
      }
      batch.FinishRow();
      ++rows;
      if (batch.full())
        batch.Clear();
      PQfreemem(line);
    }
    PGresult* result;
    while ((result = PQgetResult(conn)) != nullptr)
      PQclear(result);
    if (rows != kRows)
      Die(Internal(fmt::format("read {} rows", rows)));
  }
  PQfinish(conn);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

BENCHMARK(BM_WriteBinary)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_WriteText)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_ReadBinary)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_ReadText)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace sluice::connectors::postgres
