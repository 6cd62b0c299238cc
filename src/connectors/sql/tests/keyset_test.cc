// Keyset chunking and reading, exercised against a real SQL engine (in-memory SQLite) so that
// the generated conditions are executed, not just compared as text.
#include "connectors/sql/keyset.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "core/value_text.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::sql {
namespace {

KeyColumns SqliteKey(std::vector<Field> fields, bool row_constructors) {
  KeyColumns key;
  key.fields = std::move(fields);
  key.quote_identifier = [](const std::string& name) { return "\"" + name + "\""; };
  key.literal = [](const Field& field, const std::string& text) {
    if (field.type.is_integer())
      return text;
    std::string out = "'";
    for (char c : text)
      out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  };
  key.row_constructors = row_constructors;
  return key;
}

// A KeysetCursor over one SQLite table whose batch has the key columns then `v`.
class SqliteCursor final : public KeysetCursor {
 public:
  SqliteCursor(sqlite3* db, std::string table, KeyColumns key)
      : db_(db), table_(std::move(table)), key_(std::move(key)) {}
  ~SqliteCursor() override { (void)ClosePage(); }

  Status OpenPage(const std::string& condition, uint64_t limit) override {
    ++pages;
    bool keyless = key_.fields.empty();
    std::string sql = fmt::format("SELECT {}v FROM {}{}{}{}{}", keyless ? "" : KeyList(key_) + ", ",
                                  table_, condition.empty() ? "" : " WHERE ", condition,
                                  keyless ? "" : " ORDER BY " + KeyList(key_),
                                  limit > 0 ? fmt::format(" LIMIT {}", limit) : "");
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement_, nullptr) != SQLITE_OK) {
      return Internal(fmt::format("{}: {}", sql, sqlite3_errmsg(db_)));
    }
    return Status::OK();
  }

  Result<bool> Fill(Batch* batch, size_t, Key* last_key, uint64_t* rows) override {
    *rows = 0;
    while (!batch->full()) {
      int rc = sqlite3_step(statement_);
      if (rc == SQLITE_DONE)
        return false;
      if (rc != SQLITE_ROW)
        return Internal(sqlite3_errmsg(db_));
      last_key->clear();
      for (size_t c = 0; c <= key_.fields.size(); ++c) {
        std::string text(reinterpret_cast<const char*>(sqlite3_column_text(statement_, c)),
                         sqlite3_column_bytes(statement_, c));
        if (c < key_.fields.size())
          last_key->push_back(text);
        SLUICE_RETURN_IF_ERROR(AppendParsedValue(text, &batch->column(c)));
      }
      batch->FinishRow();
      ++*rows;
    }
    return true;
  }

  Status ClosePage() override {
    sqlite3_finalize(statement_);
    statement_ = nullptr;
    return Status::OK();
  }

  Result<std::optional<Key>> KeyAtOffset(const std::string& condition, uint64_t offset) override {
    return QueryKey(fmt::format("SELECT {} FROM {}{}{} ORDER BY {} LIMIT 1 OFFSET {}",
                                KeyList(key_), table_, condition.empty() ? "" : " WHERE ",
                                condition, KeyList(key_), offset));
  }

  Result<std::optional<Key>> MaxKey(const std::string& condition) override {
    std::string descending;
    for (const Field& f : key_.fields) {
      if (!descending.empty())
        descending += ", ";
      descending += key_.quote_identifier(f.name) + " DESC";
    }
    return QueryKey(fmt::format("SELECT {} FROM {}{}{} ORDER BY {} LIMIT 1", KeyList(key_), table_,
                                condition.empty() ? "" : " WHERE ", condition, descending));
  }

  Result<uint64_t> CountRows(const std::string& condition) override {
    ++counts;
    sqlite3_stmt* statement = nullptr;
    std::string sql = fmt::format("SELECT count(*) FROM {}{}{}", table_,
                                  condition.empty() ? "" : " WHERE ", condition);
    sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr);
    sqlite3_step(statement);
    uint64_t count = static_cast<uint64_t>(sqlite3_column_int64(statement, 0));
    sqlite3_finalize(statement);
    return count;
  }

  int pages = 0;
  int counts = 0;

 private:
  Result<std::optional<Key>> QueryKey(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      return Internal(fmt::format("{}: {}", sql, sqlite3_errmsg(db_)));
    }
    std::optional<Key> key;
    if (sqlite3_step(statement) == SQLITE_ROW) {
      key.emplace();
      for (size_t c = 0; c < key_.fields.size(); ++c) {
        key->emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(statement, c)),
                          sqlite3_column_bytes(statement, c));
      }
    }
    sqlite3_finalize(statement);
    return key;
  }

  sqlite3* db_;
  std::string table_;
  KeyColumns key_;
  sqlite3_stmt* statement_ = nullptr;
};

class KeysetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    context_.cancelled = &cancelled_;
    context_.batch_rows = 1000;
    context_.offer_split = [this](const std::string& from, Split split) {
      offered_from_.push_back(from);
      offered_.push_back(std::move(split));
    };
  }
  void TearDown() override { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
  }

  void InsertInts(const std::vector<int64_t>& keys) {
    Exec("BEGIN");
    for (int64_t k : keys)
      Exec(fmt::format("INSERT INTO t VALUES ({}, 'v{}')", k, k));
    Exec("COMMIT");
  }

  ChunkedTable Table(const KeyColumns& key, uint64_t split_rows) {
    ChunkedTable table;
    table.name = "t";
    table.key = key;
    table.split_rows = split_rows;
    table.planner = std::make_shared<SqliteCursor>(db_, "t", key);
    return table;
  }

  SchemaPtr Schema(const KeyColumns& key) {
    std::vector<Field> fields = key.fields;
    fields.push_back({"v", DataType::String(), true});
    return std::make_shared<sluice::Schema>(fields);
  }

  // Reads `split` to the end; returns the key texts of the rows (first column).
  std::vector<std::string> ReadSplit(const ChunkedTable& table, const Split& split,
                                     const std::string& position = "",
                                     KeysetReader::Options options = {}) {
    std::string name;
    Result<KeyRange> range = DecodeRange(split.payload, &name);
    EXPECT_TRUE(range.ok());
    Result<std::optional<Key>> after = DecodePosition(position);
    KeysetReader reader(std::make_unique<SqliteCursor>(db_, "t", table.key), table, split, *range,
                        *after, &context_, options);
    std::vector<std::string> keys;
    Batch batch(Schema(table.key), 1000);
    while (true) {
      batch.Clear();
      Result<bool> more = reader.ReadBatch(&batch);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more)
        break;
      for (size_t r = 0; r < batch.num_rows(); ++r) {
        std::string key;
        for (size_t c = 0; c < table.key.fields.size(); ++c) {
          if (c > 0)
            key += "|";
          AppendValueText(batch.column(c), r, &key);
        }
        keys.push_back(key);
      }
    }
    return keys;
  }

  std::vector<Split> AllSplits(KeyChunkEnumerator& enumerator) {
    std::vector<Split> splits;
    while (true) {
      Result<std::optional<Split>> next = enumerator.Next();
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || !*next)
        break;
      splits.push_back(**next);
    }
    return splits;
  }

  sqlite3* db_ = nullptr;
  std::atomic<bool> cancelled_{false};
  JobContext context_;
  std::vector<Split> offered_;
  std::vector<std::string> offered_from_;
};

TEST_F(KeysetTest, ConditionsSpellLexicographicOrder) {
  KeyColumns one = SqliteKey({{"id", DataType::Int64()}}, false);
  EXPECT_EQ(RangeCondition(one, KeyRange{Key{"5"}, Key{"9"}, false}, std::nullopt),
            "(\"id\" >= 5) AND (\"id\" < 9)");
  EXPECT_EQ(RangeCondition(one, KeyRange{Key{"5"}, Key{"9"}, true}, Key{"7"}),
            "(\"id\" > 7) AND (\"id\" <= 9)");
  EXPECT_EQ(RangeCondition(one, KeyRange{}, std::nullopt), "");
  KeyColumns two = SqliteKey({{"a", DataType::String()}, {"b", DataType::Int32()}}, false);
  EXPECT_EQ(RangeCondition(two, KeyRange{Key{"x", "1"}, std::nullopt, false}, std::nullopt),
            "((\"a\" > 'x') OR (\"a\" = 'x' AND \"b\" >= 1))");
  two.row_constructors = true;
  EXPECT_EQ(RangeCondition(two, KeyRange{std::nullopt, Key{"it's", "2"}, false}, std::nullopt),
            "((\"a\", \"b\") < ('it''s', 2))");
}

TEST_F(KeysetTest, PayloadsAndPositionsRoundTrip) {
  KeyRange range{Key{"a\"b", "😀"}, Key{"z"}, true};
  std::string table;
  ASSERT_OK_AND_ASSIGN(KeyRange decoded, DecodeRange(EncodeRange("db.t", range), &table));
  EXPECT_EQ(table, "db.t");
  EXPECT_EQ(decoded.lo, range.lo);
  EXPECT_EQ(decoded.hi, range.hi);
  EXPECT_TRUE(decoded.hi_inclusive);
  std::string not_utf8("caf\xe9\x00!", 6);
  ASSERT_OK_AND_ASSIGN(KeyRange raw,
                       DecodeRange(EncodeRange("t", KeyRange{Key{not_utf8}}), &table));
  EXPECT_EQ(raw.lo, Key{not_utf8});
  ASSERT_OK_AND_ASSIGN(std::optional<Key> after, DecodePosition(EncodePosition(Key{"1", "2"})));
  EXPECT_EQ(after, (Key{"1", "2"}));
  ASSERT_OK_AND_ASSIGN(after, DecodePosition(""));
  EXPECT_FALSE(after.has_value());
}

// A table whose keys are 90% packed into a narrow range splits as evenly as a uniform one.
TEST_F(KeysetTest, SkewedKeysSplitEvenly) {
  Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  std::vector<int64_t> keys;
  std::mt19937_64 random(7);
  std::set<int64_t> seen;
  while (seen.size() < 9000)
    seen.insert(1'000'000 + static_cast<int64_t>(random() % 20000));
  while (seen.size() < 10000)
    seen.insert(static_cast<int64_t>(random() % 1'000'000'000));
  keys.assign(seen.begin(), seen.end());
  InsertInts(keys);
  KeyColumns key = SqliteKey({{"id", DataType::Int64(), false}}, false);
  ChunkedTable table = Table(key, 1000);
  table.estimated_rows = 10000;
  KeyChunkEnumerator enumerator({table});
  EXPECT_EQ(enumerator.pending(), 10u);
  std::vector<Split> splits = AllSplits(enumerator);
  ASSERT_EQ(splits.size(), 10u);  // nine bounded chunks and the open-ended tail
  std::vector<std::string> all;
  for (size_t i = 0; i < splits.size(); ++i) {
    std::vector<std::string> rows = ReadSplit(table, splits[i]);
    EXPECT_EQ(rows.size(), 1000u) << splits[i].payload;
    all.insert(all.end(), rows.begin(), rows.end());
  }
  ASSERT_EQ(all.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i)
    EXPECT_EQ(all[i], std::to_string(keys[i]));
}

TEST_F(KeysetTest, CompositeUnicodeKeysInBothSpellings) {
  for (bool row_constructors : {false, true}) {
    Exec("DROP TABLE IF EXISTS t");
    Exec("CREATE TABLE t (a TEXT, b INTEGER, v TEXT, PRIMARY KEY (a, b))");
    std::vector<std::string> expected;
    Exec("BEGIN");
    for (const char* a : {"", "O'Brien", "zeta", "Ärger", "東京", "😀"}) {
      for (int b = -3; b < 400; ++b) {
        Exec(fmt::format("INSERT INTO t VALUES ('{}', {}, 'x')",
                         std::string(a) == "O'Brien" ? "O''Brien" : a, b));
        expected.push_back(std::string(a) + "|" + std::to_string(b));
      }
    }
    Exec("COMMIT");
    std::sort(expected.begin(), expected.end(), [](const std::string& x, const std::string& y) {
      auto split = [](const std::string& s) {
        size_t bar = s.rfind('|');
        return std::make_pair(s.substr(0, bar), std::stoi(s.substr(bar + 1)));
      };
      return split(x) < split(y);
    });
    KeyColumns key = SqliteKey({{"a", DataType::String(), false}, {"b", DataType::Int32(), false}},
                               row_constructors);
    ChunkedTable table = Table(key, 333);
    KeyChunkEnumerator enumerator({table});
    std::vector<std::string> all;
    for (const Split& split : AllSplits(enumerator)) {
      std::vector<std::string> rows = ReadSplit(table, split);
      all.insert(all.end(), rows.begin(), rows.end());
    }
    EXPECT_EQ(all, expected) << "row_constructors=" << row_constructors;
  }
}

TEST_F(KeysetTest, ResumesAfterThePositionAndPagesThroughBigChunks) {
  Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  std::vector<int64_t> keys;
  for (int64_t k = 1; k <= 5000; ++k)
    keys.push_back(k * 3);
  InsertInts(keys);
  KeyColumns key = SqliteKey({{"id", DataType::Int64(), false}}, false);
  ChunkedTable table = Table(key, 100000);
  KeyChunkEnumerator enumerator({table});
  std::vector<Split> splits = AllSplits(enumerator);
  ASSERT_EQ(splits.size(), 1u);
  KeysetReader::Options small_pages;
  small_pages.page_rows = 700;
  EXPECT_EQ(ReadSplit(table, splits[0], "", small_pages).size(), 5000u);
  std::vector<std::string> tail =
      ReadSplit(table, splits[0], EncodePosition(Key{"9000"}), small_pages);
  ASSERT_EQ(tail.size(), 2000u);
  EXPECT_EQ(tail.front(), "9003");
  EXPECT_EQ(tail.back(), "15000");
}

TEST_F(KeysetTest, CutGivesTheRemainderAwayWithoutLosingOrRepeatingRows) {
  Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  std::vector<int64_t> keys;
  for (int64_t k = 1; k <= 20000; ++k)
    keys.push_back(k);
  InsertInts(keys);
  KeyColumns key = SqliteKey({{"id", DataType::Int64(), false}}, false);
  ChunkedTable table = Table(key, 1'000'000);
  KeyChunkEnumerator enumerator({table});
  std::vector<Split> splits = AllSplits(enumerator);
  ASSERT_EQ(splits.size(), 1u);
  Split split = splits[0];
  split.estimated_rows = 2000;  // a stale plan: the split is ten times bigger than planned
  std::string name;
  ASSERT_OK_AND_ASSIGN(KeyRange range, DecodeRange(split.payload, &name));
  KeysetReader::Options options;
  options.page_rows = 1000;
  options.min_cut_rows = 100;
  auto cursor = std::make_unique<SqliteCursor>(db_, "t", key);
  SqliteCursor* raw_cursor = cursor.get();
  KeysetReader reader(std::move(cursor), table, split, range, std::nullopt, &context_, options);
  Batch batch(Schema(key), 500);
  std::set<std::string> read;
  auto drain_batch = [&] {
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      std::string text;
      AppendValueText(batch.column(0), r, &text);
      EXPECT_TRUE(read.insert(text).second) << "duplicate " << text;
    }
  };
  // Read a little, then an idle reader asks for work.
  ASSERT_OK_AND_ASSIGN(bool more, reader.ReadBatch(&batch));
  ASSERT_TRUE(more);
  drain_batch();
  EXPECT_FALSE(reader.SplitRemainder().has_value());  // deferred to the next page boundary
  while (true) {
    batch.Clear();
    ASSERT_OK_AND_ASSIGN(more, reader.ReadBatch(&batch));
    if (!more)
      break;
    drain_batch();
  }
  EXPECT_EQ(raw_cursor->counts, 1);  // the stale plan is not trusted: the remainder is counted
  ASSERT_EQ(offered_.size(), 1u);
  EXPECT_EQ(offered_[0].id, split.id + ".1");
  EXPECT_EQ(offered_from_[0], split.id);
  // The owner's payload now ends where the cut begins.
  ASSERT_OK_AND_ASSIGN(KeyRange owner_range, DecodeRange(reader.Payload(), &name));
  ASSERT_OK_AND_ASSIGN(KeyRange cut_range, DecodeRange(offered_[0].payload, &name));
  EXPECT_EQ(owner_range.hi, cut_range.lo);
  EXPECT_FALSE(owner_range.hi_inclusive);
  size_t owner_rows = read.size();
  EXPECT_LT(owner_rows, 11000u);
  std::vector<std::string> rest = ReadSplit(table, offered_[0]);
  for (const std::string& k : rest)
    EXPECT_TRUE(read.insert(k).second) << "duplicate " << k;
  EXPECT_EQ(read.size(), 20000u);
  EXPECT_NEAR(static_cast<double>(rest.size()), static_cast<double>(owner_rows), 1200.0);
}

TEST_F(KeysetTest, OpenEndedLastChunkStopsAtTheMaximumSeenWhenItStarts) {
  Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  InsertInts({1, 2, 3, 4, 5});
  KeyColumns key = SqliteKey({{"id", DataType::Int64(), false}}, false);
  ChunkedTable table = Table(key, 100);
  KeyChunkEnumerator enumerator({table});
  std::vector<Split> splits = AllSplits(enumerator);
  ASSERT_EQ(splits.size(), 1u);
  std::string name;
  ASSERT_OK_AND_ASSIGN(KeyRange range, DecodeRange(splits[0].payload, &name));
  EXPECT_FALSE(range.hi.has_value());
  KeysetReader::Options options;
  options.page_rows = 2;
  KeysetReader reader(std::make_unique<SqliteCursor>(db_, "t", key), table, splits[0], range,
                      std::nullopt, &context_, options);
  Batch batch(Schema(key), 2);
  ASSERT_OK_AND_ASSIGN(bool more, reader.ReadBatch(&batch));
  ASSERT_TRUE(more);
  InsertInts({6, 7, 8});  // arrives after the reader started
  size_t rows = batch.num_rows();
  while (true) {
    batch.Clear();
    ASSERT_OK_AND_ASSIGN(more, reader.ReadBatch(&batch));
    if (!more)
      break;
    rows += batch.num_rows();
  }
  EXPECT_EQ(rows, 5u);
  EXPECT_EQ(reader.Position(), EncodePosition(Key{"5"}));
}

TEST_F(KeysetTest, KeylessTableIsOneSplitReadWhole) {
  Exec("CREATE TABLE t (id INTEGER, v TEXT)");
  InsertInts({5, 5, 1, 9});
  KeyColumns key = SqliteKey({}, false);
  ChunkedTable table = Table(key, 2);
  table.keyless = true;
  KeyChunkEnumerator enumerator({table});
  std::vector<Split> splits = AllSplits(enumerator);
  ASSERT_EQ(splits.size(), 1u);
  std::string name;
  ASSERT_OK_AND_ASSIGN(KeyRange range, DecodeRange(splits[0].payload, &name));
  KeysetReader reader(std::make_unique<SqliteCursor>(db_, "t", key), table, splits[0], range,
                      std::nullopt, &context_, {});
  EXPECT_FALSE(reader.SplitRemainder().has_value());
  auto schema = std::make_shared<sluice::Schema>(std::vector<Field>{{"v", DataType::String()}});
  Batch batch(schema, 100);
  ASSERT_OK_AND_ASSIGN(bool more, reader.ReadBatch(&batch));
  EXPECT_TRUE(more);
  EXPECT_EQ(batch.num_rows(), 4u);
}

}  // namespace
}  // namespace sluice::connectors::sql

namespace sluice::connectors::sql {
namespace {

TEST_F(KeysetTest, ResumedPlanningContinuesAfterEveryCoveredRange) {
  Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  std::vector<int64_t> keys;
  for (int64_t k = 1; k <= 5000; ++k)
    keys.push_back(k);
  InsertInts(keys);
  KeyColumns key = SqliteKey({{"id", DataType::Int64(), false}}, false);
  ChunkedTable table = Table(key, 1000);
  std::vector<Split> all;
  {
    KeyChunkEnumerator enumerator({table});
    all = AllSplits(enumerator);
  }
  ASSERT_EQ(all.size(), 5u);
  // An earlier run planned two chunks and cut the second one twice.
  std::vector<Split> planned = {all[0], all[1]};
  std::string name;
  ASSERT_OK_AND_ASSIGN(KeyRange second, DecodeRange(all[1].payload, &name));  // [1001, 2001)
  Split parent = all[1];
  parent.payload = EncodeRange("t", KeyRange{second.lo, Key{"1500"}, false});
  Split cut = all[1];
  cut.id = all[1].id + ".1";
  cut.payload = EncodeRange("t", KeyRange{Key{"1500"}, Key{"1800"}, false});
  Split cut_of_cut = all[1];
  cut_of_cut.id = all[1].id + ".1.1";
  cut_of_cut.payload = EncodeRange("t", KeyRange{Key{"1800"}, second.hi, false});
  planned = {all[0], parent, cut, cut_of_cut};
  KeyChunkEnumerator resumed({table}, planned);
  std::vector<Split> rest = AllSplits(resumed);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].id, "t#00003");
  EXPECT_EQ(rest[0].payload, all[2].payload);  // continues exactly at 2001
  // Everything planned before is not planned again, and nothing is missing.
  std::set<std::string> read;
  for (const Split& split : planned) {
    for (const std::string& k : ReadSplit(table, split))
      EXPECT_TRUE(read.insert(k).second) << k;
  }
  for (const Split& split : rest) {
    for (const std::string& k : ReadSplit(table, split))
      EXPECT_TRUE(read.insert(k).second) << k;
  }
  EXPECT_EQ(read.size(), 5000u);

  // Once the open-ended last chunk was planned, nothing is left.
  KeyChunkEnumerator finished({table}, all);
  EXPECT_TRUE(AllSplits(finished).empty());
}

}  // namespace
}  // namespace sluice::connectors::sql

namespace sluice::connectors::sql {
namespace {

TEST_F(KeysetTest, ResumedSplitNumbersItsCutsAfterTheEarlierOnes) {
  Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  std::vector<int64_t> keys;
  for (int64_t k = 1; k <= 20000; ++k)
    keys.push_back(k);
  InsertInts(keys);
  KeyColumns key = SqliteKey({{"id", DataType::Int64(), false}}, false);
  ChunkedTable table = Table(key, 1'000'000);
  Split split;
  split.id = "t#00001";
  split.payload = EncodeRange("t", KeyRange{Key{"1"}, Key{"20001"}, false}, 2);  // cut twice
  std::string name;
  ASSERT_OK_AND_ASSIGN(KeyRange range, DecodeRange(split.payload, &name));
  KeysetReader::Options options;
  options.page_rows = 1000;
  options.min_cut_rows = 100;
  KeysetReader reader(std::make_unique<SqliteCursor>(db_, "t", key), table, split, range,
                      std::nullopt, &context_, options);
  Batch batch(Schema(key), 500);
  ASSERT_OK_AND_ASSIGN(bool more, reader.ReadBatch(&batch));
  ASSERT_TRUE(more);
  reader.SplitRemainder();
  while (true) {
    batch.Clear();
    ASSERT_OK_AND_ASSIGN(more, reader.ReadBatch(&batch));
    if (!more)
      break;
  }
  ASSERT_EQ(offered_.size(), 1u);
  EXPECT_EQ(offered_[0].id, "t#00001.3");
  EXPECT_NE(reader.Payload().find("\"cuts\":3"), std::string::npos) << reader.Payload();
}

}  // namespace
}  // namespace sluice::connectors::sql
