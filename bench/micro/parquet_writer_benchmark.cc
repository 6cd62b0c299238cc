// Writing Parquet: ParquetWriter encoding order-like rows of mixed types (int64, int32, int8,
// decimal(12,2), float64, float32, date, timestamps, strings of low and high cardinality, a few
// NULLs) into a discarding stream, per codec. bench/micro/parquet_vs_pyarrow.sh times pyarrow's
// pq.write_table on the same rows (this binary writes them to $SLUICE_PARQUET_BENCH_SAMPLE) and
// prints the ratio.
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/temporal.h"
#include "formats/parquet/parquet_writer.h"
#include "io/file_system.h"
#include "io/stream.h"

namespace sluice {
namespace {

constexpr size_t kRows = 200'000;
constexpr size_t kBatchRows = 4096;

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
      {"status", DataType::String(), false},
      {"shipped_at", DataType::TimestampTz(6), true},
      {"weight", DataType::Float32(), true},
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

std::vector<std::unique_ptr<Batch>> OrdersBatches() {
  static const char* kStatus[] = {"new", "paid", "shipped", "delivered", "cancelled"};
  const int64_t base_micros = DaysFromCivil(2015, 1, 1) * kMicrosPerDay;
  std::vector<std::unique_ptr<Batch>> batches;
  SchemaPtr schema = OrdersSchema();
  for (int64_t seq = 1; seq <= static_cast<int64_t>(kRows); ++seq) {
    if (batches.empty() || batches.back()->full())
      batches.push_back(std::make_unique<Batch>(schema, kBatchRows));
    Batch& batch = *batches.back();
    batch.column(0).Append<int64_t>(seq);
    batch.column(1).AppendView("customer " + std::to_string(seq * 7919 % 50000) + " é");
    batch.column(2).Append<__int128>(seq * 7919 % 100000000);
    batch.column(3).Append<int32_t>(static_cast<int32_t>(seq % 1000));
    batch.column(4).Append<double>(static_cast<double>(seq * 31 % 100000) / 7.0);
    batch.column(5).Append<int8_t>(static_cast<int8_t>(seq % 2));
    batch.column(6).Append<int32_t>(static_cast<int32_t>(DaysFromCivil(2015, 1, 1) + seq % 3650));
    batch.column(7).Append<int64_t>(base_micros + (seq * 37 % 315360000) * kMicrosPerSecond +
                                    seq % 1000000);
    if (seq % 20 == 0)
      batch.column(8).AppendNull();
    else
      batch.column(8).AppendView("note " + Hex(seq, 24));
    batch.column(9).AppendView(kStatus[seq % 5]);
    if (seq % 3 == 0)
      batch.column(10).AppendNull();
    else
      batch.column(10).Append<int64_t>(base_micros + (seq * 53 % 300000000) * kMicrosPerSecond);
    batch.column(11).Append<float>(static_cast<float>(seq % 10000) / 8.0f);
    batch.FinishRow();
  }
  return batches;
}

const std::vector<std::unique_ptr<Batch>>& Batches() {
  static const auto batches = OrdersBatches();
  return batches;
}

Status WriteAll(io::OutputStream* output, formats::ParquetWriterOptions options) {
  SLUICE_ASSIGN_OR_RETURN(auto writer,
                          formats::ParquetWriter::Open(output, OrdersSchema(), options));
  for (const auto& batch : Batches())
    SLUICE_RETURN_IF_ERROR(writer->Write(*batch));
  return writer->Finish();
}

void BM_ParquetWriteOrders(benchmark::State& state) {
  formats::ParquetWriterOptions options;
  options.compression = static_cast<formats::ParquetCompression>(state.range(0));
  state.SetLabel(std::string(formats::ParquetCompressionName(options.compression)));
  uint64_t bytes = 0;
  for (auto _ : state) {
    DiscardStream stream;
    Status status = WriteAll(&stream, options);
    if (!status.ok())
      state.SkipWithError(status.ToString().c_str());
    bytes = stream.bytes();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
  state.counters["file_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ParquetWriteOrders)
    ->Arg(static_cast<int>(formats::ParquetCompression::kSnappy))
    ->Arg(static_cast<int>(formats::ParquetCompression::kZstd))
    ->Unit(benchmark::kMillisecond);

// The rows as a file, for the pyarrow comparison (bench/micro/parquet_vs_pyarrow.sh).
[[maybe_unused]] const bool kSampleWritten = [] {
  const char* path = std::getenv("SLUICE_PARQUET_BENCH_SAMPLE");
  if (path == nullptr)
    return false;
  auto output = io::CreateOutputFile(path, io::Compression::kNone);
  Status status = output.ok() ? WriteAll(output->get(), {}) : output.status();
  if (status.ok())
    status = (*output)->Close();
  if (!status.ok()) {
    fmt::print(stderr, "{}\n", status.ToString());
    std::abort();
  }
  return true;
}();

}  // namespace
}  // namespace sluice
