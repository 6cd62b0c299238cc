// SQLite sink write path: 1M rows of mixed types (int64, string, decimal(12,2), float64,
// timestamp) into a fresh database file through SqliteSink, one writer, default options
// (journal_mode wal, synchronous normal, commit_rows 200000), comparing rows per INSERT
// statement (1 = single-row statements).
//
//   build-sqlite-rel/bench/sqlite_sink_benchmark --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "connectors/sqlite/sqlite_sink.h"
#include "core/decimal.h"
#include "core/temporal.h"

namespace sluice::connectors::sqlite {
namespace {

constexpr size_t kRows = 1'000'000;
constexpr size_t kBatchRows = Batch::kDefaultCapacity;

struct Data {
  StreamInfo stream;
  std::vector<std::unique_ptr<Batch>> batches;
};

// Built once and shared by every benchmark: generating the rows is not what is measured.
const Data& MixedRows() {
  static const Data* data = [] {
    auto* out = new Data();
    auto schema = std::make_shared<const Schema>(
        std::vector<Field>{{"id", DataType::Int64(), false},
                           {"customer", DataType::String(), true},
                           {"amount", DataType::Decimal(12, 2), true},
                           {"price", DataType::Float64(), true},
                           {"created_at", DataType::Timestamp(), true}},
        std::vector<int>{0});
    out->stream = {"orders", schema, kRows};
    std::mt19937_64 rng(42);
    const int64_t start = DaysFromCivil(2024, 1, 1) * kMicrosPerDay;
    for (size_t row = 0; row < kRows;) {
      auto batch = std::make_unique<Batch>(schema, kBatchRows);
      for (; row < kRows && !batch->full(); ++row) {
        batch->column(0).Append<int64_t>(static_cast<int64_t>(row) + 1);
        batch->column(1).AppendView(fmt::format("customer {:05d}", rng() % 50'000));
        batch->column(2).Append<int128>(static_cast<int128>(rng() % 10'000'000));
        batch->column(3).Append<double>(static_cast<double>(rng() % 1'000'000) / 7.0);
        batch->column(4).Append<int64_t>(start +
                                         static_cast<int64_t>(rng() % (365 * kMicrosPerDay)));
        batch->FinishRow();
      }
      out->batches.push_back(std::move(batch));
    }
    return out;
  }();
  return *data;
}

std::string FreshDirectory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "sluice-bench-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr)
    std::abort();
  return pattern;
}

void WriteAll(benchmark::State& state, SqliteSinkOptions options) {
  const Data& data = MixedRows();
  FailOnBadRecord bad_records;
  std::atomic<bool> cancelled{false};
  JobContext context;
  context.cancelled = &cancelled;
  context.bad_records = &bad_records;
  for (auto _ : state) {
    state.PauseTiming();
    std::string directory = FreshDirectory();
    options.path = directory + "/bench.db";
    state.ResumeTiming();

    SqliteSink sink(options, config::Options());
    Status status = sink.Open(context, {data.stream});
    Result<std::unique_ptr<SinkWriter>> writer = sink.CreateWriter(0);
    if (status.ok())
      status = writer.status();
    for (size_t b = 0; status.ok() && b < data.batches.size(); ++b) {
      status = (*writer)->Write(*data.batches[b]);
    }
    if (status.ok())
      status = (*writer)->Prepare();
    if (status.ok())
      status = (*writer)->Commit({});
    if (writer.ok())
      writer->reset();
    if (status.ok())
      status = sink.Finish();
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }

    state.PauseTiming();
    std::filesystem::remove_all(directory);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
  state.counters["rows_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kRows), benchmark::Counter::kIsRate);
}

// Arg: rows per INSERT statement.
void BM_SqliteSinkRowsPerInsert(benchmark::State& state) {
  SqliteSinkOptions options;
  options.rows_per_insert = state.range(0);
  WriteAll(state, options);
}
BENCHMARK(BM_SqliteSinkRowsPerInsert)
    ->Arg(1)
    ->Arg(8)
    ->Arg(32)
    ->Arg(64)
    ->Arg(128)
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// The durable end of the options: rollback journal with fsync on every commit.
void BM_SqliteSinkJournalDeleteSyncFull(benchmark::State& state) {
  SqliteSinkOptions options;
  options.rows_per_insert = state.range(0);
  options.journal_mode = "delete";
  options.synchronous = "full";
  WriteAll(state, options);
}
BENCHMARK(BM_SqliteSinkJournalDeleteSyncFull)
    ->Arg(1)
    ->Arg(64)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace sluice::connectors::sqlite
