// Verification digests computed inside a store (`sluice verify` without moving the rows).
//
// `sluice verify` reduces each side of a job to per-bucket digests: a row count and a sum of row
// hashes per bucket. A source whose store can compute them itself (a SQL database) offers a
// StoreDigester, and only the bucket totals cross the network; every other source is read
// through Sluice and digested on this side (verify/read_through.cc). Both ways must give the same
// numbers for the same data, so the digest is defined on a canonical text that SQL can produce
// as well as C++ (AppendDigestText):
//
//   value      canonical text
//   bool       "1" / "0"
//   integers   decimal digits, "-" when negative
//   decimal    the digits with trailing fractional zeros and a trailing "." removed ("1.50" ->
//              "1.5", "2.00" -> "2")
//   string     its UTF-8 bytes
//   bytes      lowercase hex, no prefix
//   date       YYYY-MM-DD
//   timestamp  YYYY-MM-DD HH:MM:SS[.ffffff], trailing fractional zeros removed; with a time
//              zone: in UTC, no suffix
//   other      Sluice's value text (float, time, json: these are digested on Sluice's side)
//
//   escaped    the canonical text with U+001E (the escape) and U+001F (the separator) each
//              preceded by U+001E; only string and other texts can hold either, so SQL
//              escapes only those (DigestTextMayNeedEscaping)
//   row text   one element per column joined by U+001F: "n" for NULL, else "v" + escaped text
//   key text   the key columns' escaped texts joined by U+001F (no key: the row text)
//   row hash   the first 15 hex digits of MD5(row text) as an integer (60 bits)
//   bucket     key-range buckets for a single integer key: min(max(floor((key - low) / width),
//              0), buckets - 1); else the first 8 hex digits of MD5(key text) modulo buckets
//   digest     per bucket: the row count and the sum of row hashes modulo 2^64
//
// Escaping makes the texts unambiguous (issue 10): a separator inside a value is never taken for
// a column boundary, so ('x<US>vy', 'z') and ('x', 'y<US>vz') have different row texts, and every
// text splits back into its elements (SplitDigestText). The tags keep NULL apart from '' and
// from the text "n". A length prefix per value would do as well, but would make SQL evaluate
// each column's rendering twice (MySQL shares no common subexpressions); escaping costs two
// REPLACE scans of string values only, which find nothing in almost all data.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch.h"
#include "core/status.h"

namespace sluice::connectors {

/// Key-range buckets over a single integer key.
struct DigestKeyRange {
  __int128 low = 0;
  __int128 width = 1;  // >= 1
};

struct DigestColumn {
  /// The column's index in the digested stream's schema.
  int field = 0;
  /// The type whose canonical text the value is rendered in (the job's reference type; a store
  /// renders a value of a different but compatible type as this one, or declines).
  DataType as;
};

struct DigestRequest {
  int stream = 0;
  /// The row, in the order both sides agree on.
  std::vector<DigestColumn> columns;
  /// Positions in `columns` of the key; empty when the stream has none (rows then compare as a
  /// multiset, bucketed by the row text).
  std::vector<size_t> key;
  size_t buckets = 4096;
  std::optional<DigestKeyRange> range;
  /// How many queries the store may run at once (key-range buckets are split between them).
  size_t parallelism = 1;
};

struct BucketDigest {
  uint64_t rows = 0;
  uint64_t sum = 0;

  bool operator==(const BucketDigest&) const = default;
};

/// Receives one row of a bucket: its key text and row text (see above).
using DigestRowCallback = std::function<Status(std::string_view key, std::string_view row)>;

/// Optional capability of a Source (Source::digester()). Valid while its source is; one thread
/// at a time, except Cancel().
class StoreDigester {
 public:
  virtual ~StoreDigester() = default;
  /// OK when the store can render every column of `request` canonically; otherwise Unsupported,
  /// saying which column and why (verify then digests that side on Sluice's side).
  virtual Status CanDigest(const DigestRequest& request) const = 0;
  /// The smallest and largest value of integer column `field` of `stream` (nullopt when the
  /// stream is empty).
  virtual Result<std::optional<std::pair<__int128, __int128>>> KeyBounds(int stream, int field) = 0;
  /// Fills `digests` (request.buckets entries) for the whole stream.
  virtual Status Digest(const DigestRequest& request, std::vector<BucketDigest>* digests) = 0;
  /// Calls `on_row` for each row in one of `buckets` (sorted, unique).
  virtual Status Rows(const DigestRequest& request, const std::vector<size_t>& buckets,
                      const DigestRowCallback& on_row) = 0;
  /// Stops the queries running now (they fail, Cancelled). Thread-safe: called by whoever
  /// notices the stop while another thread waits for a query.
  virtual void Cancel() = 0;
};

/// Appends the canonical text of `column[row]` (not NULL) rendered as its own type.
void AppendDigestText(const Column& column, size_t row, std::string* out);

/// The framing of row and key texts (see above).
inline constexpr char kDigestSeparator = '\x1f';
inline constexpr char kDigestEscape = '\x1e';
inline constexpr char kDigestValueTag = 'v';
inline constexpr std::string_view kDigestNullElement = "n";

/// Whether the canonical text of a value of `type` may hold kDigestEscape or kDigestSeparator
/// (false: escaping leaves it as it is, and SQL need not spend a REPLACE on it).
bool DigestTextMayNeedEscaping(const DataType& type);
/// Escapes `text` from `from` to its end in place.
void EscapeDigestText(std::string* text, size_t from);
/// The elements of a row or key text, unescaped (row text elements keep their tag).
std::vector<std::string> SplitDigestText(std::string_view text);

/// Builds a row text and the key texts within it, on Sluice's side. Reused row after row; not
/// thread-safe.
class DigestRowText {
 public:
  /// Starts the next row.
  void Clear() {
    text_.clear();
    values_.clear();
  }
  void AppendNull();
  /// Starts the next column's value: append its canonical text to the returned string (valid
  /// until the next call), then call EndValue().
  std::string* BeginValue();
  void EndValue();

  /// The row text of the columns so far.
  std::string_view text() const { return text_; }
  /// Replaces `out` with the key text of the columns at `key` (positions in this row); a NULL
  /// key value is an empty element.
  void KeyText(const std::vector<size_t>& key, std::string* out) const;

 private:
  std::string text_;
  /// Per column: where its escaped value starts in text_ and how long it is (0 for NULL).
  std::vector<std::pair<size_t, size_t>> values_;
};

/// The row hash of a row text.
uint64_t DigestRowHash(std::string_view row_text);
/// The hash bucket of a key text.
size_t DigestHashBucket(std::string_view key_text, size_t buckets);
/// The key-range bucket of an integer key.
size_t DigestRangeBucket(__int128 key, const DigestKeyRange& range, size_t buckets);
/// The key range a buckets spans: [first, last] (inclusive); the first and last bucket are open
/// at their outer end (nullopt).
std::pair<std::optional<__int128>, std::optional<__int128>> DigestBucketKeys(
    size_t bucket, const DigestKeyRange& range, size_t buckets);

/// Parses a non-negative decimal integer (a SQL SUM of row hashes) modulo 2^64.
Result<uint64_t> ParseDigestSum(std::string_view text);
/// Parses a decimal integer into an __int128.
Result<__int128> ParseInt128(std::string_view text);
std::string Int128ToString(__int128 value);

}  // namespace sluice::connectors
