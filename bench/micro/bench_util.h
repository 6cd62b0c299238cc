// Shared by the micro-benchmarks that drive connectors directly: fail-fast error handling, a job
// context, the test servers' endpoints and the order rows the database benchmarks move.
#pragma once

#include <fmt/core.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "connectors/datagen/datagen_source.h"

namespace sluice::bench {

/// A benchmark cannot go on without what failed: print it and abort.
[[noreturn]] inline void Die(const Status& status) {
  fmt::print(stderr, "{}\n", status.ToString());
  std::abort();
}

/// A job context for a connector driven outside a job: 4096-row batches, one reader, never
/// cancelled, failing on the first bad record.
inline connectors::JobContext& Context() {
  static connectors::FailOnBadRecord bad_records;
  static std::atomic<bool> cancelled{false};
  static connectors::JobContext context = [] {
    connectors::JobContext c;
    c.cancelled = &cancelled;
    c.bad_records = &bad_records;
    c.batch_rows = 4096;
    c.parallelism = 1;
    return c;
  }();
  return context;
}

/// The KEY=VALUE lines of $SLUICE_TEST_SERVERS_ENV (written by scripts/test-servers.sh).
inline std::map<std::string, std::string> TestServersEnv() {
  const char* env = std::getenv("SLUICE_TEST_SERVERS_ENV");
  if (env == nullptr)
    Die(Unavailable("set SLUICE_TEST_SERVERS_ENV (scripts/test-servers.sh)"));
  std::map<std::string, std::string> values;
  std::ifstream in(env);
  for (std::string line; std::getline(in, line);) {
    size_t equals = line.find('=');
    if (equals != std::string::npos)
      values[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return values;
}

/// `rows` order-like rows (int64 key, strings with multi-byte UTF-8, decimal(12,2), int32,
/// float64, bool, date, timestamp) from the datagen connector, in 4096-row batches; `*stream`
/// receives their stream.
inline std::vector<std::unique_ptr<Batch>> OrderBatches(uint64_t rows,
                                                        connectors::StreamInfo* stream) {
  connectors::datagen::DatagenOptions options;
  options.rows = rows;
  options.split_rows = rows;
  options.stream = "orders";
  options.columns = {
      {"id", DataType::Int64(), false},           {"customer", DataType::String(), true},
      {"amount", DataType::Decimal(12, 2), true}, {"quantity", DataType::Int32(), true},
      {"price", DataType::Float64(), true},       {"paid", DataType::Bool(), true},
      {"ordered_on", DataType::Date(), true},     {"created_at", DataType::Timestamp(), true},
      {"note", DataType::String(), true},
  };
  connectors::datagen::DatagenSource source(options);
  if (Status st = source.Open(Context()); !st.ok())
    Die(st);
  *stream = source.streams()[0];
  std::vector<std::unique_ptr<Batch>> batches;
  auto enumerator = source.CreateEnumerator();
  if (!enumerator.ok())
    Die(enumerator.status());
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
      auto batch = std::make_unique<Batch>(stream->schema, 4096);
      auto more = (*reader)->ReadBatch(batch.get());
      if (!more.ok())
        Die(more.status());
      if (!*more)
        break;
      batches.push_back(std::move(batch));
    }
  }
  return batches;
}

}  // namespace sluice::bench
