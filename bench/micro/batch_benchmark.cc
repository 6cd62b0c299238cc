// Building columnar batches: the per-value cost every reader pays (appends into fixed-width
// buffers and the arena, validity bits), reading them back as a writer does, plus the
// canonical-text round trip casts use. BM_BuildBatches and BM_ReadBatches are the inserts-only
// paths that per-row kinds (changelog streams) must not slow down; BM_BuildChangelogBatches
// shows what the kinds cost when a stream has them.
#include <benchmark/benchmark.h>

#include <string>

#include "core/batch.h"
#include "core/value_text.h"

namespace sluice {
namespace {

SchemaPtr MixedSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int64(), false},
                                                     {"name", DataType::String(), true},
                                                     {"amount", DataType::Decimal(12, 2), true},
                                                     {"at", DataType::Timestamp(), true}});
}

void BM_BuildBatches(benchmark::State& state) {
  Batch batch(MixedSchema(), 4096);
  const std::string names[] = {"alpha", "Zürich", "東京 station",
                               "a somewhat longer customer name"};
  int64_t rows = 0;
  for (auto _ : state) {
    batch.Clear();
    for (int64_t i = 0; i < 4096; ++i) {
      batch.column(0).Append<int64_t>(i);
      if (i % 17 == 0) {
        batch.column(1).AppendNull();
      } else {
        batch.column(1).AppendView(names[i & 3]);
      }
      batch.column(2).Append<__int128>(i * 101);
      batch.column(3).Append<int64_t>(1'700'000'000'000'000 + i);
      batch.FinishRow();
    }
    rows += 4096;
    benchmark::DoNotOptimize(batch.num_rows());
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_BuildBatches);

// As BM_BuildBatches, with an update_before/update_after pair or a delete on every row.
void BM_BuildChangelogBatches(benchmark::State& state) {
  Batch batch(MixedSchema(), 4096);
  const std::string names[] = {"alpha", "Zürich", "東京 station",
                               "a somewhat longer customer name"};
  const RowKind kinds[] = {RowKind::kInsert, RowKind::kUpdateBefore, RowKind::kUpdateAfter,
                           RowKind::kDelete};
  int64_t rows = 0;
  for (auto _ : state) {
    batch.Clear();
    for (int64_t i = 0; i < 4096; ++i) {
      batch.column(0).Append<int64_t>(i);
      if (i % 17 == 0) {
        batch.column(1).AppendNull();
      } else {
        batch.column(1).AppendView(names[i & 3]);
      }
      batch.column(2).Append<__int128>(i * 101);
      batch.column(3).Append<int64_t>(1'700'000'000'000'000 + i);
      batch.SetRowKind(kinds[i & 3]);
      batch.FinishRow();
    }
    rows += 4096;
    benchmark::DoNotOptimize(batch.num_rows());
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_BuildChangelogBatches);

// Reads every value of a built batch, as a sink's encoder does.
void BM_ReadBatches(benchmark::State& state) {
  Batch batch(MixedSchema(), 4096);
  for (int64_t i = 0; i < 4096; ++i) {
    batch.column(0).Append<int64_t>(i);
    if (i % 17 == 0) {
      batch.column(1).AppendNull();
    } else {
      batch.column(1).AppendView("customer");
    }
    batch.column(2).Append<__int128>(i * 101);
    batch.column(3).Append<int64_t>(1'700'000'000'000'000 + i);
    batch.FinishRow();
  }
  int64_t rows = 0;
  for (auto _ : state) {
    int64_t sum = 0;
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      sum += batch.column(0).Get<int64_t>(r);
      if (batch.column(1).IsValid(r))
        sum += static_cast<int64_t>(batch.column(1).GetView(r).size());
      sum += static_cast<int64_t>(batch.column(2).Get<__int128>(r));
      sum += batch.column(3).Get<int64_t>(r);
    }
    rows += 4096;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_ReadBatches);

void BM_ParseIntoBatches(benchmark::State& state) {
  Batch batch(MixedSchema(), 4096);
  int64_t rows = 0;
  for (auto _ : state) {
    batch.Clear();
    for (int i = 0; i < 4096; ++i) {
      (void)AppendParsedValue("123456789", &batch.column(0));
      (void)AppendParsedValue("customer 42", &batch.column(1));
      (void)AppendParsedValue("12345.67", &batch.column(2));
      (void)AppendParsedValue("2024-02-29 12:34:56.789", &batch.column(3));
      batch.FinishRow();
    }
    rows += 4096;
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_ParseIntoBatches);

void BM_CanonicalText(benchmark::State& state) {
  Batch batch(MixedSchema(), 4096);
  for (int i = 0; i < 4096; ++i) {
    batch.column(0).Append<int64_t>(i * 7919);
    batch.column(1).AppendView("customer");
    batch.column(2).Append<__int128>(i * 101);
    batch.column(3).Append<int64_t>(1'700'000'000'000'000 + i);
    batch.FinishRow();
  }
  std::string out;
  int64_t rows = 0;
  for (auto _ : state) {
    out.clear();
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      for (size_t c = 0; c < batch.num_columns(); ++c)
        AppendValueText(batch.column(c), r, &out);
    }
    rows += 4096;
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_CanonicalText);

}  // namespace
}  // namespace sluice
