// Writing batches as CSV: the per-value cost of the file sink's CSV path (canonical text of each
// type, the quoting decision, the output buffer). BM_CsvWriteOrders is the MySQL -> CSV bench
// case's row (16 columns, about 340 bytes a line); BM_CsvWriteType/<type> writes one column of
// a single type, so that each type's formatting shows on its own.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/batch.h"
#include "core/temporal.h"
#include "formats/csv/csv_writer.h"
#include "io/stream.h"

namespace sluice {
namespace {

constexpr size_t kRows = 4096;

// Counts and drops what it is given, as a fast disk would.
class DiscardStream final : public io::OutputStream {
 public:
  Status Write(std::string_view data) override {
    bytes_ += data.size();
    benchmark::DoNotOptimize(data.data());
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t bytes_ = 0;
};

// The bench case's wide orders row (bench/lib.sh, bench_mysql_table ... wide) as the MySQL
// source types it.
SchemaPtr OrdersSchema() {
  return std::make_shared<Schema>(std::vector<Field>{
      {"id", DataType::Int64(), false},
      {"customer", DataType::String(), false},
      {"amount", DataType::Decimal(12, 2), true},
      {"quantity", DataType::Int32(), true},
      {"price", DataType::Float64(), true},
      {"paid", DataType::Int8(), true},
      {"ordered_on", DataType::Date(), true},
      {"created_at", DataType::Timestamp(6), true},
      {"note", DataType::String(), true},
      {"email", DataType::String(), false},
      {"status", DataType::String(), false},
      {"shipped_at", DataType::TimestampTz(0), true},
      {"address", DataType::String(), true},
      {"discount", DataType::Decimal(5, 2), true},
      {"weight", DataType::Float32(), true},
      {"comment", DataType::String(), true},
  });
}

std::string Hex(uint64_t seed, size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (size_t i = 0; i < digits; ++i) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    out.push_back(kHex[(x >> 60) & 15]);
  }
  return out;
}

std::unique_ptr<Batch> OrdersBatch() {
  auto batch = std::make_unique<Batch>(OrdersSchema(), kRows);
  static const char* kStatus[] = {"new", "paid", "shipped", "delivered", "cancelled"};
  const int64_t base_micros = DaysFromCivil(2015, 1, 1) * kMicrosPerDay;
  for (int64_t seq = 1; seq <= static_cast<int64_t>(kRows); ++seq) {
    batch->column(0).Append<int64_t>(seq);
    batch->column(1).AppendView("customer " + std::to_string(seq % 100000) + " é😀");
    batch->column(2).Append<__int128>(seq * 7919 % 100000000);
    batch->column(3).Append<int32_t>(static_cast<int32_t>(seq % 1000));
    batch->column(4).Append<double>(static_cast<double>(seq * 31 % 100000 * 1000000000 / 7) /
                                    1e9);
    batch->column(5).Append<int8_t>(static_cast<int8_t>(seq % 2));
    batch->column(6).Append<int32_t>(static_cast<int32_t>(DaysFromCivil(2015, 1, 1) + seq % 3650));
    batch->column(7).Append<int64_t>(base_micros + (seq * 37 % 315360000) * kMicrosPerSecond +
                                     seq % 1000000);
    if (seq % 20 == 0) {
      batch->column(8).AppendNull();
    } else {
      batch->column(8).AppendView("note " + Hex(seq, 32));
    }
    batch->column(9).AppendView("customer" + std::to_string(seq % 100000) + "@example.com");
    batch->column(10).AppendView(kStatus[seq % 5]);
    if (seq % 3 == 0) {
      batch->column(11).AppendNull();
    } else {
      batch->column(11).Append<int64_t>(base_micros + 365 * kMicrosPerDay +
                                        (seq * 53 % 300000000) * kMicrosPerSecond);
    }
    batch->column(12).AppendView(std::to_string(seq % 9973) + " Main Street, Springfield " +
                                 std::to_string(10000 + seq % 89991) + " " + Hex(seq * 3, 32));
    batch->column(13).Append<__int128>(seq % 5000);
    batch->column(14).Append<float>(static_cast<float>(seq % 10000) / 8.0f);
    batch->column(15).AppendView(Hex(seq * 7, 32) + " " + Hex(seq * 11, 40));
    batch->FinishRow();
  }
  return batch;
}

void WriteBatch(benchmark::State& state, const Batch& batch) {
  DiscardStream stream;
  formats::CsvWriter writer(&stream, formats::CsvDialect{});
  for (auto _ : state) {
    if (!writer.WriteRows(batch, 0, batch.num_rows()).ok())
      state.SkipWithError("WriteRows failed");
  }
  (void)writer.Flush();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch.num_rows()));
  state.SetBytesProcessed(static_cast<int64_t>(stream.bytes()));
}

void BM_CsvWriteOrders(benchmark::State& state) {
  std::unique_ptr<Batch> batch = OrdersBatch();
  WriteBatch(state, *batch);
}
BENCHMARK(BM_CsvWriteOrders);

// One column of one type, typical values (a tenth of them NULL).
void BM_CsvWriteType(benchmark::State& state) {
  struct Case {
    const char* name;
    DataType type;
  };
  static const Case kCases[] = {
      {"int64", DataType::Int64()},
      {"float64", DataType::Float64()},
      {"float32", DataType::Float32()},
      {"decimal(12,2)", DataType::Decimal(12, 2)},
      {"string", DataType::String()},
      {"string,quoted", DataType::String()},
      {"bytes", DataType::Bytes()},
      {"date", DataType::Date()},
      {"time", DataType::Time()},
      {"timestamp", DataType::Timestamp()},
      {"timestamp_tz", DataType::TimestampTz()},
      {"bool", DataType::Bool()},
  };
  const Case& c = kCases[state.range(0)];
  state.SetLabel(c.name);
  Batch batch(std::make_shared<Schema>(std::vector<Field>{{"v", c.type, true}}), kRows);
  Column& column = batch.column(0);
  const std::string name = c.name;
  for (int64_t i = 0; i < static_cast<int64_t>(kRows); ++i) {
    if (i % 10 == 9) {
      column.AppendNull();
    } else if (name == "int64") {
      column.Append<int64_t>(i * 7919 - 1000000);
    } else if (name == "float64") {
      column.Append<double>(static_cast<double>(i * 31 % 100000) / 7.0);
    } else if (name == "float32") {
      column.Append<float>(static_cast<float>(i % 10000) / 8.0f);
    } else if (name == "decimal(12,2)") {
      column.Append<__int128>(i * 7919 % 100000000);
    } else if (name == "string") {
      column.AppendView("note " + Hex(static_cast<uint64_t>(i), 32));
    } else if (name == "string,quoted") {
      column.AppendView(std::to_string(i) + " Main Street, Springfield");
    } else if (name == "bytes") {
      column.AppendView(Hex(static_cast<uint64_t>(i), 16));
    } else if (name == "date") {
      column.Append<int32_t>(static_cast<int32_t>(16436 + i % 3650));
    } else if (name == "time") {
      column.Append<int64_t>(i * 37 % 86400 * kMicrosPerSecond + i % 1000000);
    } else if (name == "timestamp" || name == "timestamp_tz") {
      column.Append<int64_t>(1420070400LL * kMicrosPerSecond + i * 37 % 315360000 * 1000000 +
                             i % 1000000);
    } else {
      column.Append<uint8_t>(static_cast<uint8_t>(i & 1));
    }
    batch.FinishRow();
  }
  WriteBatch(state, batch);
}
BENCHMARK(BM_CsvWriteType)->DenseRange(0, 11);

}  // namespace
}  // namespace sluice
