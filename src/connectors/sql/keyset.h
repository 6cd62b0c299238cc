// Key-range splitting and keyset reading, shared by the SQL database connectors (mysql,
// postgres). The database-specific part is a KeysetCursor; everything about planning chunks
// from the real key distribution, reading a chunk page by page, resuming from the last key and
// cutting a running chunk lives here once.
//
// Planning: chunk boundaries come from the data, not from min/max arithmetic. The enumerator
// asks the database for "the key `split_rows` rows after the previous boundary" (an index-only
// ORDER BY key LIMIT 1 OFFSET n), lazily, when a reader wants the next chunk, so planning
// overlaps reading and a table whose keys are 90% packed into a narrow range splits as evenly as
// a uniform one. The last chunk is open-ended; its reader closes it by reading the key maximum
// when it starts, so rows inserted later never stretch it.
//
// Reading: a chunk is read in pages (`WHERE key in range AND key > last ORDER BY key LIMIT n`),
// so the reader always knows the last key it returned (its resume position) and, between pages,
// can run its own queries on its connection. When an idle reader asks for work
// (SplitRemainder), the owner cuts at its next page boundary: it finds the key halfway through
// its unread remainder in the data, shrinks its own range to end there and offers the rest as a
// new split (JobContext::offer_split).
//
// Keys are tuples of canonical texts (core/value_text.h), never NULL. Splits and positions are
// JSON: {"table": "...", "lo": [...], "hi": [...], "hi_inclusive": false} and {"after": [...]}.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/api.h"

namespace sluice::connectors::sql {

/// A key value: one canonical text per key column.
using Key = std::vector<std::string>;

struct KeyRange {
  std::optional<Key> lo;  // inclusive; nullopt = from the first row
  std::optional<Key> hi;  // nullopt = to the last row
  bool hi_inclusive = false;
};

/// The key columns of a table and how to spell conditions on them in one SQL dialect.
struct KeyColumns {
  std::vector<Field> fields;
  /// Quotes an identifier (`id` for MySQL, "id" for PostgreSQL).
  std::function<std::string(const std::string& name)> quote_identifier;
  /// Renders a key value (canonical text) of `field` as an SQL literal.
  std::function<std::string(const Field& field, const std::string& canonical)> literal;
  /// Compare composite keys with row constructors "(a, b) > (1, 2)" (PostgreSQL, SQLite)
  /// instead of the expanded "a > 1 OR (a = 1 AND b > 2)" (what MySQL optimises best).
  bool row_constructors = false;
};

/// "`a` > 1 OR (`a` = 1 AND `b` >= 'x')"-style condition, parenthesised; "" when unbounded.
/// `after`: rows strictly after this key; otherwise rows from `range.lo` (inclusive).
std::string RangeCondition(const KeyColumns& key, const KeyRange& range,
                           const std::optional<Key>& after);
/// "`a`, `b`" for ORDER BY and SELECT lists.
std::string KeyList(const KeyColumns& key);

/// `cuts`: how many splits were already cut from this one (their ids end in .1, .2, ...), kept
/// in the payload so that a resumed run numbers its own cuts after them.
std::string EncodeRange(const std::string& table, const KeyRange& range, int cuts = 0);
Result<KeyRange> DecodeRange(const std::string& payload, std::string* table);
std::string EncodePosition(const std::optional<Key>& after);
Result<std::optional<Key>> DecodePosition(const std::string& position);

/// The database side of keyset reading: one connection, used by one thread at a time.
class KeysetCursor {
 public:
  virtual ~KeysetCursor() = default;
  /// Starts streaming `SELECT <columns> FROM <table> WHERE <condition> ORDER BY <key> LIMIT
  /// <limit>`. The condition may be empty; the connector adds its own `where:` filter; ORDER BY
  /// is omitted for a table without key columns and LIMIT when `limit` is 0.
  virtual Status OpenPage(const std::string& condition, uint64_t limit) = 0;
  /// Appends rows of the open page to `batch` until it is full, its bytes exceed `max_bytes`,
  /// or the page ends. Sets `*last_key` to the key of the last row consumed (appended, or
  /// skipped by the bad-record policy) and `*rows` to the number consumed: KeysetReader takes
  /// a page with fewer than page_rows rows as the end of the range. Returns false when the
  /// page has no more rows.
  virtual Result<bool> Fill(Batch* batch, size_t max_bytes, Key* last_key, uint64_t* rows) = 0;
  /// Abandons the rest of the open page (if any), leaving the connection usable.
  virtual Status ClosePage() = 0;
  /// The key `offset` rows into `condition` in key order, or nullopt when fewer rows match.
  virtual Result<std::optional<Key>> KeyAtOffset(const std::string& condition, uint64_t offset) = 0;
  /// The greatest key matching `condition`, or nullopt when no row matches.
  virtual Result<std::optional<Key>> MaxKey(const std::string& condition) = 0;
  /// Rows matching `condition` (used to size a cut when the plan's estimate is exhausted).
  virtual Result<uint64_t> CountRows(const std::string& condition) = 0;
  /// Interrupts a running query from another thread (best effort).
  virtual void Cancel() {}
};

/// One table to chunk.
struct ChunkedTable {
  std::string name;  // for split ids and messages ("shop.orders")
  int stream = 0;
  KeyColumns key;
  uint64_t split_rows = 100000;
  std::optional<uint64_t> estimated_rows;
  /// Tables without a usable key: one split over the whole table, read without paging.
  bool keyless = false;
  /// A cursor for boundary queries (the planner's own connection). Not used when keyless.
  std::shared_ptr<KeysetCursor> planner;
};

/// Hands out key-range chunks of several tables, planning each boundary when a reader asks.
/// Thread-safe; boundary queries run under its lock, one at a time, on each table's planner.
class KeyChunkEnumerator final : public SplitEnumerator {
 public:
  /// `planned`: the splits an earlier run handed out (resume); planning continues after the
  /// ranges they cover. Tables are planned one after the other, so every table before the last
  /// one seen in `planned` is done, and the last one continues after its highest boundary: the
  /// upper end of the family of its last chunk (the chunk and the splits cut from it) that is
  /// no member's lower end.
  explicit KeyChunkEnumerator(std::vector<ChunkedTable> tables,
                              const std::vector<Split>& planned = {});

  Result<std::optional<Split>> Next() override;
  void Add(Split split) override;
  size_t pending() const override;

 private:
  struct TableState {
    ChunkedTable table;
    std::optional<Key> next_lo;
    int chunks = 0;
    bool done = false;
  };
  mutable std::mutex mutex_;
  std::vector<TableState> tables_;  // guarded by mutex_
  std::vector<Split> returned_;     // guarded by mutex_; cut splits, handed out first
  size_t current_ = 0;              // guarded by mutex_
};

/// Reads one key-range split page by page with a KeysetCursor; see the file comment.
class KeysetReader final : public SplitReader {
 public:
  struct Options {
    uint64_t page_rows = 50000;
    /// Remainders smaller than this are not worth cutting.
    uint64_t min_cut_rows = 20000;
    bool keyless = false;
  };

  /// `cursor` is this reader's connection (in the job's snapshot when there is one).
  KeysetReader(std::unique_ptr<KeysetCursor> cursor, const ChunkedTable& table, const Split& split,
               KeyRange range, std::optional<Key> after, const JobContext* context,
               Options options);
  ~KeysetReader() override;

  Result<bool> ReadBatch(Batch* batch) override;
  std::string Position() const override;
  std::string Payload() const override;
  std::optional<Split> SplitRemainder() override;
  double Progress() const override;
  void Cancel() override;

  /// Gives the cursor back (e.g. to a connection pool) once the reader is done.
  std::unique_ptr<KeysetCursor> ReleaseCursor();

 private:
  Status StartPage();
  Status CutRemainder();
  std::string CurrentCondition() const;

  std::unique_ptr<KeysetCursor> cursor_;
  ChunkedTable table_;
  Split split_;
  const JobContext* context_;
  Options options_;

  // Owned by the reading thread.
  KeyRange range_;
  bool page_open_ = false;
  bool range_done_ = false;
  bool started_ = false;
  uint64_t page_rows_returned_ = 0;
  int cuts_ = 0;

  mutable std::mutex mutex_;
  std::optional<Key> after_;           // guarded by mutex_: the resume position
  uint64_t rows_read_ = 0;             // guarded by mutex_
  std::optional<uint64_t> estimated_;  // guarded by mutex_: rows this split should hold
  bool finished_ = false;              // guarded by mutex_
  std::string payload_;                // guarded by mutex_: the range as last cut
  std::atomic<bool> cut_requested_{false};
};

}  // namespace sluice::connectors::sql
