// CSV read path: a generated ~50 MB CSV parsed by CsvReader and converted into batches by
// CsvBatchBuilder, from memory (no file I/O, no decompression). Reports bytes/s of CSV text.
//
//   Tokenize        records and fields only (no conversion)
//   SimpleFields    int64 and short string columns: the fast paths
//   MixedTypes      int64, string, decimal(12,2), int32, float64, bool, date, timestamp, string
//   MixedAsText     the mixed file with every column read as a string (no schema)
//   JsonlMixed      the same rows as JSON Lines through JsonlReader + JsonlBatchBuilder
//
//   build-files-rel/bench/csv_reader_benchmark --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/temporal.h"
#include "core/value_text.h"
#include "formats/csv/csv_batch_builder.h"
#include "formats/csv/csv_reader.h"
#include "formats/jsonl/jsonl_batch_builder.h"
#include "formats/jsonl/jsonl_reader.h"
#include "io/memory_stream.h"

namespace sluice::formats {
namespace {

constexpr size_t kTargetBytes = 50u << 20;

struct Dataset {
  SchemaPtr schema;
  std::string csv;    // with a header line
  std::string jsonl;  // the same rows
};

std::string Customer(std::mt19937_64& random) {
  static const char* const kNames[] = {"Alice Martin",    "Bob",          "Chloé Dupont", "Dmitri",
                                       "Eve \"E\" Stone", "Fatima Zahra", "Grace, Ltd"};
  return kNames[random() % std::size(kNames)];
}

// Built once: generating the text is not what is measured.
const Dataset& Mixed() {
  static const Dataset* data = [] {
    auto* out = new Dataset();
    out->schema =
        std::make_shared<const Schema>(std::vector<Field>{{"id", DataType::Int64()},
                                                          {"customer", DataType::String()},
                                                          {"amount", DataType::Decimal(12, 2)},
                                                          {"quantity", DataType::Int32()},
                                                          {"price", DataType::Float64()},
                                                          {"paid", DataType::Bool()},
                                                          {"ordered_on", DataType::Date()},
                                                          {"created_at", DataType::Timestamp()},
                                                          {"note", DataType::String()}});
    std::mt19937_64 random(42);
    out->csv = "id,customer,amount,quantity,price,paid,ordered_on,created_at,note\n";
    std::string value;
    std::string line;
    for (int64_t id = 1; out->csv.size() < kTargetBytes; ++id) {
      line.clear();
      std::string customer = Customer(random);
      std::string amount;
      AppendDecimal128(static_cast<int128>(random() % 10'000'000), 2, &amount);
      int quantity = static_cast<int>(random() % 100);
      std::string price;
      AppendDouble(static_cast<double>(random() % 100000) / 100.0, &price);
      bool paid = random() % 2 == 0;
      std::string date;
      AppendDate(static_cast<int32_t>(18000 + random() % 2000), &date);
      std::string timestamp;
      AppendTimestamp(
          static_cast<int64_t>(1'600'000'000 + random() % 100'000'000) * kMicrosPerSecond, false,
          &timestamp);
      std::string note = random() % 4 == 0 ? "" : "note " + std::to_string(random() % 1000);
      std::string quoted_customer = customer;
      if (customer.find_first_of(",\"") != std::string::npos) {
        quoted_customer = "\"";
        for (char c : customer) {
          quoted_customer += c;
          if (c == '"')
            quoted_customer += '"';
        }
        quoted_customer += '"';
      }
      out->csv += fmt::format("{},{},{},{},{},{},{},{},{}\n", id, quoted_customer, amount, quantity,
                              price, paid ? "true" : "false", date, timestamp, note);
      std::string json_customer;
      for (char c : customer) {
        if (c == '"')
          json_customer += '\\';
        json_customer += c;
      }
      out->jsonl += fmt::format(
          "{{\"id\":{},\"customer\":\"{}\",\"amount\":\"{}\",\"quantity\":{},\"price\":{},"
          "\"paid\":{},\"ordered_on\":\"{}\",\"created_at\":\"{}\",\"note\":{}}}\n",
          id, json_customer, amount, quantity, price, paid ? "true" : "false", date, timestamp,
          note.empty() ? "null" : "\"" + note + "\"");
    }
    return out;
  }();
  return *data;
}

const Dataset& Simple() {
  static const Dataset* data = [] {
    auto* out = new Dataset();
    out->schema = std::make_shared<const Schema>(std::vector<Field>{{"id", DataType::Int64()},
                                                                    {"code", DataType::String()},
                                                                    {"count", DataType::Int64()},
                                                                    {"city", DataType::String()},
                                                                    {"total", DataType::Int64()}});
    static const char* const kCities[] = {"Paris", "Berlin", "Lagos", "Lima", "Osaka", "Oslo"};
    std::mt19937_64 random(7);
    out->csv = "id,code,count,city,total\n";
    for (int64_t id = 1; out->csv.size() < kTargetBytes; ++id) {
      out->csv += fmt::format("{},C{:05},{},{},{}\n", id, random() % 100000, random() % 1000,
                              kCities[random() % std::size(kCities)],
                              static_cast<int64_t>(random() % 10'000'000'000) - 5'000'000'000);
    }
    return out;
  }();
  return *data;
}

std::vector<int> Identity(size_t n) {
  std::vector<int> mapping(n);
  for (size_t i = 0; i < n; ++i)
    mapping[i] = static_cast<int>(i);
  return mapping;
}

// Reads `text` into batches of `schema` (recycled as a sink would), returning the rows read.
size_t ReadCsv(const std::string& text, const SchemaPtr& schema) {
  io::ViewInputStream input(text);
  CsvReader reader(&input, "bench.csv");
  Result<std::vector<std::string>> header = reader.ReadHeader();
  if (!header.ok())
    std::abort();
  CsvBatchBuilder builder(schema, Identity(schema->num_fields()), CsvDialect{});
  Batch batch(schema);
  size_t rows = 0;
  for (;;) {
    Result<bool> next = reader.Next();
    if (!next.ok())
      std::abort();
    if (!*next)
      break;
    if (!builder.Append(reader.record(), &batch).ok())
      std::abort();
    if (batch.full()) {
      rows += batch.num_rows();
      batch.Clear();
    }
  }
  return rows + batch.num_rows();
}

void BM_Tokenize(benchmark::State& state) {
  const Dataset& data = Mixed();
  size_t fields = 0;
  for (auto _ : state) {
    io::ViewInputStream input(data.csv);
    CsvReader reader(&input, "bench.csv");
    for (;;) {
      Result<bool> next = reader.Next();
      if (!next.ok())
        std::abort();
      if (!*next)
        break;
      fields += reader.record().size();
    }
  }
  benchmark::DoNotOptimize(fields);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.csv.size()));
}
BENCHMARK(BM_Tokenize)->Unit(benchmark::kMillisecond);

void BM_SimpleFields(benchmark::State& state) {
  const Dataset& data = Simple();
  size_t rows = 0;
  for (auto _ : state)
    rows = ReadCsv(data.csv, data.schema);
  state.counters["rows"] = static_cast<double>(rows);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.csv.size()));
}
BENCHMARK(BM_SimpleFields)->Unit(benchmark::kMillisecond);

void BM_MixedTypes(benchmark::State& state) {
  const Dataset& data = Mixed();
  size_t rows = 0;
  for (auto _ : state)
    rows = ReadCsv(data.csv, data.schema);
  state.counters["rows"] = static_cast<double>(rows);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.csv.size()));
}
BENCHMARK(BM_MixedTypes)->Unit(benchmark::kMillisecond);

void BM_MixedAsText(benchmark::State& state) {
  const Dataset& data = Mixed();
  std::vector<Field> fields;
  for (const Field& field : data.schema->fields()) {
    fields.push_back(Field{field.name, DataType::String(), true, ""});
  }
  auto schema = std::make_shared<const Schema>(std::move(fields));
  size_t rows = 0;
  for (auto _ : state)
    rows = ReadCsv(data.csv, schema);
  state.counters["rows"] = static_cast<double>(rows);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.csv.size()));
}
BENCHMARK(BM_MixedAsText)->Unit(benchmark::kMillisecond);

void BM_JsonlMixed(benchmark::State& state) {
  const Dataset& data = Mixed();
  size_t rows = 0;
  for (auto _ : state) {
    io::ViewInputStream input(data.jsonl);
    JsonlReader reader(&input, "bench.jsonl");
    JsonlBatchBuilder builder(data.schema, "bench");
    Batch batch(data.schema);
    rows = 0;
    JsonlLine line;
    for (;;) {
      Result<bool> next = reader.Next(&line);
      if (!next.ok())
        std::abort();
      if (!*next)
        break;
      if (!builder.Append(line, &batch).ok())
        std::abort();
      if (batch.full()) {
        rows += batch.num_rows();
        batch.Clear();
      }
    }
    rows += batch.num_rows();
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.jsonl.size()));
}
BENCHMARK(BM_JsonlMixed)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice::formats
