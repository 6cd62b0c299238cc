// The SQL side of verification digests (connectors/store_digest.h), shared by the SQL database
// connectors: each connector renders its columns canonically in its own dialect; this builds the
// row text, key text, row hash and bucket expressions and the queries around them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/store_digest.h"

namespace sluice::connectors::sql {

/// What differs between SQL dialects in a digest query.
class DigestDialect {
 public:
  virtual ~DigestDialect() = default;
  /// Concatenation of string expressions.
  virtual std::string Concat(const std::vector<std::string>& parts) const = 0;
  /// `expr` when not NULL, else `fallback`.
  virtual std::string Coalesce(std::string_view expr, std::string_view fallback) const = 0;
  /// A string literal of `characters` (control characters, no quotes or backslashes).
  virtual std::string Literal(std::string_view characters) const = 0;
  /// `expr` with every occurrence of `from` replaced by `to` (string expressions).
  virtual std::string Replace(std::string_view expr, std::string_view from,
                              std::string_view to) const = 0;
  /// The integer spelled by the first `hex_digits` (<= 15) hex digits of MD5(`text`).
  virtual std::string Md5Prefix(std::string_view text, int hex_digits) const = 0;
  /// `expr` (an integer column) as an exact number wide enough for key arithmetic.
  virtual std::string Exact(std::string_view expr) const = 0;
  /// Integer division of non-negative exact numbers, truncated.
  virtual std::string IntDiv(std::string_view a, std::string_view b) const = 0;
};

/// The expressions for one request. `canonical`: per request column, the expression rendering
/// it canonically (NULL for NULL). `key_columns`: per key position, the plain column
/// expression (compared with range boundaries).
struct DigestExpressions {
  std::string row_text;
  std::string row_hash;
  std::string bucket;
  std::string key_text;
  std::vector<std::string> key_columns;
};

DigestExpressions BuildDigestExpressions(const DigestDialect& dialect,
                                         const std::vector<std::string>& canonical,
                                         const std::vector<std::string>& key_columns,
                                         const DigestRequest& request);

/// SELECT bucket, COUNT(*), SUM(row hash) ... GROUP BY bucket. `where` and `more` (further
/// conditions) may be empty.
std::string DigestQuery(const DigestExpressions& expressions, std::string_view from,
                        std::string_view where, std::string_view more = {});
/// The key range of buckets first..last (key-range buckets only).
std::string BucketKeysCondition(const DigestExpressions& expressions, const DigestRequest& request,
                                size_t first_bucket, size_t last_bucket);
/// SELECT key text, row text of the rows in `buckets`: key ranges become range conditions on
/// the key column (index scans), hash buckets a filter on the bucket expression.
std::string DigestRowsQuery(const DigestExpressions& expressions, std::string_view from,
                            std::string_view where, const DigestRequest& request,
                            const std::vector<size_t>& buckets);
/// SELECT MIN(column), MAX(column).
std::string KeyBoundsQuery(std::string_view column, std::string_view from, std::string_view where);

/// Adds one result row of DigestQuery (bucket, count, sum as text) to `digests`.
Status AddDigestRow(std::string_view bucket, std::string_view count, std::string_view sum,
                    std::vector<BucketDigest>* digests);

/// A StoreDigester for a SQL database: the queries and their results are handled here; the
/// connector supplies its dialect, its columns' canonical expressions and a way to run a query.
class SqlStoreDigester : public StoreDigester {
 public:
  /// One stream as the digester reads it.
  struct Table {
    std::string from;   // the quoted, qualified table
    std::string where;  // the source's `where:`, or empty
  };
  /// Rows of a query as text (nullopt: NULL).
  using TextRows = std::vector<std::vector<std::optional<std::string>>>;

  Status CanDigest(const DigestRequest& request) const override;
  Result<std::optional<std::pair<__int128, __int128>>> KeyBounds(int stream, int field) override;
  Status Digest(const DigestRequest& request, std::vector<BucketDigest>* digests) override;
  Status Rows(const DigestRequest& request, const std::vector<size_t>& buckets,
              const DigestRowCallback& on_row) override;

 protected:
  SqlStoreDigester(const DigestDialect& dialect, std::vector<Table> tables)
      : dialect_(dialect), tables_(std::move(tables)) {}

  /// The expression rendering `field` of `stream` canonically as `as`, or Unsupported.
  virtual Result<std::string> Canonical(int stream, int field, const DataType& as) const = 0;
  /// The quoted name of `field` of `stream`.
  virtual std::string ColumnName(int stream, int field) const = 0;
  /// Makes `lanes` connections available to Query. Called while no query runs.
  virtual void SetLanes(size_t lanes) = 0;
  /// Runs `sql` on connection `lane` and returns all of its rows. Lanes run in parallel, each
  /// on its own connection; a lost connection should be reconnected next time.
  virtual Result<TextRows> Query(const std::string& sql, const std::string& what, size_t lane) = 0;

 private:
  Result<DigestExpressions> Expressions(const DigestRequest& request) const;

  const DigestDialect& dialect_;
  std::vector<Table> tables_;
};

}  // namespace sluice::connectors::sql
