// SQLite source read path: 1M rows of mixed types (int64 key, string, decimal(12,2), float64,
// timestamp) written once through SqliteSink, then read split by split by one reader into
// 4096-row batches.
//
//   build-sqlite-rel/bench/sqlite_source_benchmark --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "connectors/sqlite/sqlite_sink.h"
#include "connectors/sqlite/sqlite_source.h"
#include "core/decimal.h"
#include "core/temporal.h"

namespace sluice::connectors::sqlite {
namespace {

constexpr size_t kRows = 1'000'000;

using bench::Context;

// Writes the table once per process; returns the database path.
const std::string& Database() {
  static const std::string* path = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      std::abort();
    static const std::string directory = pattern;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(directory, ignored);
    });
    auto* out = new std::string(pattern + "/source.db");
    auto schema = std::make_shared<const Schema>(
        std::vector<Field>{{"id", DataType::Int64(), false},
                           {"customer", DataType::String(), true},
                           {"amount", DataType::Decimal(12, 2), true},
                           {"price", DataType::Float64(), true},
                           {"created_at", DataType::Timestamp(), true}},
        std::vector<int>{0});
    SqliteSinkOptions options;
    options.path = *out;
    SqliteSink sink(options, config::Options());
    JobContext context = Context();
    StreamInfo stream{"orders", schema, kRows};
    if (!sink.Open(context, {stream}).ok())
      std::abort();
    auto writer = std::move(sink.CreateWriter(0)).value();
    std::mt19937_64 rng(42);
    const int64_t start = DaysFromCivil(2024, 1, 1) * kMicrosPerDay;
    Batch batch(schema);
    for (size_t row = 0; row < kRows;) {
      batch.Clear();
      for (; row < kRows && !batch.full(); ++row) {
        batch.column(0).Append<int64_t>(static_cast<int64_t>(row) + 1);
        batch.column(1).AppendView(fmt::format("customer {:05d}", rng() % 50'000));
        batch.column(2).Append<int128>(static_cast<int128>(rng() % 10'000'000));
        batch.column(3).Append<double>(static_cast<double>(rng() % 1'000'000) / 7.0);
        batch.column(4).Append<int64_t>(start +
                                        static_cast<int64_t>(rng() % (365 * kMicrosPerDay)));
        batch.FinishRow();
      }
      if (!writer->Write(batch).ok())
        std::abort();
    }
    if (!writer->Commit({}).ok() || !sink.Finish().ok())
      std::abort();
    return out;
  }();
  return *path;
}

void BM_SqliteSourceReadAll(benchmark::State& state) {
  const std::string& path = Database();
  size_t rows = 0;
  for (auto _ : state) {
    SqliteSourceOptions options;
    options.path = path;
    options.table = "orders";
    options.split_rows = state.range(0);
    SqliteSource source(options, config::Options());
    Status status = source.Open(Context());
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
    auto enumerator = std::move(source.CreateEnumerator()).value();
    Batch batch(source.streams()[0].schema);
    for (;;) {
      std::optional<Split> split = std::move(enumerator->Next()).value();
      if (!split)
        break;
      auto reader = std::move(source.CreateReader(*split, "")).value();
      for (;;) {
        batch.Clear();
        Result<bool> more = reader->ReadBatch(&batch);
        if (!more.ok())
          std::abort();
        rows += batch.num_rows();
        if (!*more)
          break;
      }
    }
  }
  state.counters["rows_per_second"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
// Arg: split_rows.
BENCHMARK(BM_SqliteSourceReadAll)
    ->Arg(200'000)
    ->Arg(20'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace sluice::connectors::sqlite
