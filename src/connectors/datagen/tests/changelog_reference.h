// The final state a datagen changelog implies, computed the plain way for sink tests: read every
// change of the source in order and apply it to an in-memory map by key. Independent of the
// sinks' apply code (no deduplication, no batching): what a table must hold at the end.
// Header-only; test-only.
#pragma once

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "connectors/datagen/datagen_source.h"
#include "testing/memory_connector.h"

namespace sluice::connectors::datagen::testing {

/// One change read from the source: its kind and its row as canonical texts.
struct ChangeRow {
  RowKind kind;
  sluice::testing::Row row;
};

/// What the changelog of `options` contains, split by split, plus counts a test can assert
/// (that the mix really holds every case).
struct Changelog {
  std::vector<ChangeRow> changes;
  int inserts = 0, updates = 0, key_changes = 0, deletes = 0, deletes_of_missing_keys = 0;
};

/// The changelog the sink tests apply: ids 1..keys changed `rows` times, with NULLs, unicode
/// text, decimals and timestamps; splits of `split_rows` own disjoint keys.
inline DatagenOptions TestChangelog(uint64_t rows, uint64_t keys, uint64_t split_rows) {
  DatagenOptions options;
  options.changelog = true;
  options.rows = rows;
  options.keys = keys;
  options.split_rows = split_rows;
  options.seed = 11;
  options.null_fraction = 0.15;
  options.stream = "changes";
  options.columns = {{"id", DataType::Int64(), false},
                     {"name", DataType::String(), true},
                     {"amount", DataType::Decimal(12, 2), true},
                     {"at", DataType::Timestamp(), true}};
  return options;
}

/// `options` (made by TestChangelog) as the `source:` map of a job file.
inline std::string SourceYaml(const DatagenOptions& options) {
  return fmt::format(
      "{{type: datagen, changelog: true, rows: {}, keys: {}, split_rows: {}, seed: {}, "
      "null_fraction: {}, stream: {}, columns: {{id: int64, name: string, amount: "
      "'decimal(12,2)', at: timestamp}}}}",
      options.rows, options.keys, options.split_rows, options.seed, options.null_fraction,
      options.stream);
}

/// Reads the whole changelog of `options` (id is column `key`), splits in plan order.
inline Changelog ReadChangelog(const DatagenOptions& options, size_t batch_rows = 100) {
  DatagenSource source(options);
  std::atomic<bool> cancelled{false};
  FailOnBadRecord handler;
  JobContext context;
  context.cancelled = &cancelled;
  context.bad_records = &handler;
  Changelog out;
  Status opened = source.Open(context);
  EXPECT_TRUE(opened.ok()) << opened.ToString();
  auto enumerator = source.CreateEnumerator();
  EXPECT_TRUE(enumerator.ok());
  Batch batch(source.streams()[0].schema, batch_rows);
  while (true) {
    auto split = (*enumerator)->Next();
    if (!split.ok() || !*split)
      break;
    auto reader = source.CreateReader(**split, "");
    EXPECT_TRUE(reader.ok());
    while (true) {
      batch.Clear();
      auto more = (*reader)->ReadBatch(&batch);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more)
        break;
      for (size_t r = 0; r < batch.num_rows(); ++r)
        out.changes.push_back({batch.row_kind(r), sluice::testing::RowFromBatch(batch, r)});
    }
  }
  return out;
}

/// Applies `changes` in order by the value of column `key`: inserts and update_afters put the
/// row, deletes remove the key (present or not), an update_before removes its key unless the
/// update_after right after it has the same key. Counts the cases into `log`.
inline std::map<std::string, sluice::testing::Row> FinalState(Changelog* log, size_t key = 0) {
  std::map<std::string, sluice::testing::Row> state;
  const std::vector<ChangeRow>& changes = log->changes;
  for (size_t i = 0; i < changes.size(); ++i) {
    const ChangeRow& change = changes[i];
    const std::string& id = *change.row[key];
    switch (change.kind) {
      case RowKind::kInsert:
        EXPECT_EQ(state.count(id), 0u) << "datagen inserted a present key " << id;
        ++log->inserts;
        state[id] = change.row;
        break;
      case RowKind::kUpdateAfter:
        state[id] = change.row;
        break;
      case RowKind::kUpdateBefore: {
        EXPECT_EQ(state.count(id), 1u) << "datagen updated a missing key " << id;
        EXPECT_EQ(state[id], change.row) << "the before image is not the row";
        bool same_key = i + 1 < changes.size() &&
                        changes[i + 1].kind == RowKind::kUpdateAfter &&
                        *changes[i + 1].row[key] == id;
        ++(same_key ? log->updates : log->key_changes);
        if (!same_key)
          state.erase(id);
        break;
      }
      case RowKind::kDelete:
        ++log->deletes;
        if (state.erase(id) == 0)
          ++log->deletes_of_missing_keys;
        break;
    }
  }
  return state;
}

}  // namespace sluice::connectors::datagen::testing
