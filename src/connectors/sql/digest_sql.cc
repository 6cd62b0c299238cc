#include "connectors/sql/digest_sql.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <future>

#include "core/logging.h"

namespace sluice::connectors::sql {

namespace {

std::string WhereClause(std::string_view where, std::string_view more = {}) {
  if (where.empty() && more.empty())
    return {};
  if (more.empty())
    return fmt::format(" WHERE ({})", where);
  if (where.empty())
    return fmt::format(" WHERE ({})", more);
  return fmt::format(" WHERE ({}) AND ({})", where, more);
}

// The escaped text (store_digest.h) of a canonical text expression: the escape character
// first, so that the escapes added for separators are not escaped again.
std::string EscapedText(const DigestDialect& dialect, const std::string& canonical) {
  const std::string escape(1, kDigestEscape);
  const std::string separator(1, kDigestSeparator);
  std::string escaped =
      dialect.Replace(canonical, dialect.Literal(escape), dialect.Literal(escape + escape));
  return dialect.Replace(escaped, dialect.Literal(separator), dialect.Literal(escape + separator));
}

}  // namespace

DigestExpressions BuildDigestExpressions(const DigestDialect& dialect,
                                         const std::vector<std::string>& canonical,
                                         const std::vector<std::string>& key_columns,
                                         const DigestRequest& request) {
  DigestExpressions out;
  std::vector<std::string> escaped;
  for (size_t i = 0; i < canonical.size(); ++i) {
    escaped.push_back(DigestTextMayNeedEscaping(request.columns[i].as)
                          ? EscapedText(dialect, canonical[i])
                          : canonical[i]);
  }
  const std::string separator = dialect.Literal(std::string(1, kDigestSeparator));
  const std::string value_tag = fmt::format("'{}'", kDigestValueTag);
  const std::string null_element = fmt::format("'{}'", kDigestNullElement);
  std::vector<std::string> parts;
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (i > 0)
      parts.push_back(separator);
    parts.push_back(dialect.Coalesce(dialect.Concat({value_tag, escaped[i]}), null_element));
  }
  out.row_text = dialect.Concat(parts);
  out.row_hash = dialect.Md5Prefix(out.row_text, 15);
  if (request.key.empty()) {
    out.key_text = out.row_text;
  } else {
    parts.clear();
    for (size_t i = 0; i < request.key.size(); ++i) {
      if (i > 0)
        parts.push_back(separator);
      parts.push_back(escaped[request.key[i]]);
    }
    out.key_text = parts.size() == 1 ? parts[0] : dialect.Concat(parts);
  }
  out.key_columns = key_columns;
  if (request.range && key_columns.size() == 1) {
    // Clamped before dividing so that keys far outside the range (rows only the target has)
    // cannot overflow; integer division, as decimal division would round.
    std::string span =
        Int128ToString(request.range->width * static_cast<__int128>(request.buckets));
    std::string offset =
        fmt::format("LEAST(GREATEST({} - ({}), 0), {})", dialect.Exact(key_columns[0]),
                    Int128ToString(request.range->low), span);
    out.bucket =
        fmt::format("LEAST({}, {})", dialect.IntDiv(offset, Int128ToString(request.range->width)),
                    request.buckets - 1);
  } else {
    out.bucket = fmt::format("({} % {})", dialect.Md5Prefix(out.key_text, 8), request.buckets);
  }
  return out;
}

std::string BucketKeysCondition(const DigestExpressions& expressions, const DigestRequest& request,
                                size_t first_bucket, size_t last_bucket) {
  auto first = DigestBucketKeys(first_bucket, *request.range, request.buckets).first;
  auto last = DigestBucketKeys(last_bucket, *request.range, request.buckets).second;
  const std::string& key = expressions.key_columns[0];
  if (first && last)
    return fmt::format("{0} >= {1} AND {0} <= {2}", key, Int128ToString(*first),
                       Int128ToString(*last));
  if (first)
    return fmt::format("{} >= {}", key, Int128ToString(*first));
  if (last)
    return fmt::format("{} <= {}", key, Int128ToString(*last));
  return "1 = 1";
}

std::string DigestQuery(const DigestExpressions& expressions, std::string_view from,
                        std::string_view where, std::string_view more) {
  return fmt::format(
      "SELECT b, COUNT(*), SUM(h) FROM (SELECT {} AS b, {} AS h FROM {}{}) d GROUP BY b",
      expressions.bucket, expressions.row_hash, from, WhereClause(where, more));
}

std::string DigestRowsQuery(const DigestExpressions& expressions, std::string_view from,
                            std::string_view where, const DigestRequest& request,
                            const std::vector<size_t>& buckets) {
  std::string filter;
  if (request.range && expressions.key_columns.size() == 1) {
    for (size_t bucket : buckets) {
      filter += fmt::format("{}({})", filter.empty() ? "" : " OR ",
                            BucketKeysCondition(expressions, request, bucket, bucket));
    }
  } else {
    std::string list;
    for (size_t bucket : buckets)
      list += fmt::format("{}{}", list.empty() ? "" : ", ", bucket);
    filter = fmt::format("{} IN ({})", expressions.bucket, list);
  }
  return fmt::format("SELECT {}, {} FROM {}{}", expressions.key_text, expressions.row_text, from,
                     WhereClause(where, filter));
}

std::string KeyBoundsQuery(std::string_view column, std::string_view from, std::string_view where) {
  return fmt::format("SELECT MIN({0}), MAX({0}) FROM {1}{2}", column, from, WhereClause(where));
}

Status AddDigestRow(std::string_view bucket, std::string_view count, std::string_view sum,
                    std::vector<BucketDigest>* digests) {
  size_t index = 0;
  uint64_t rows = 0;
  // MySQL returns FLOOR(DECIMAL) as "12" and PostgreSQL numeric FLOOR as "12"; both integers.
  auto [bucket_end, bucket_error] =
      std::from_chars(bucket.data(), bucket.data() + bucket.size(), index);
  auto [count_end, count_error] = std::from_chars(count.data(), count.data() + count.size(), rows);
  if (bucket_error != std::errc() || count_error != std::errc() || index >= digests->size()) {
    return Internal(fmt::format("unexpected digest row (bucket '{}', count '{}')", bucket, count));
  }
  SLUICE_ASSIGN_OR_RETURN(uint64_t total, ParseDigestSum(sum));
  (*digests)[index].rows += rows;
  (*digests)[index].sum += total;
  return Status::OK();
}

// --- SqlStoreDigester ------------------------------------------------------------------------

Result<DigestExpressions> SqlStoreDigester::Expressions(const DigestRequest& request) const {
  std::vector<std::string> canonical;
  for (const DigestColumn& column : request.columns) {
    SLUICE_ASSIGN_OR_RETURN(std::string expression,
                            Canonical(request.stream, column.field, column.as));
    canonical.push_back(std::move(expression));
  }
  std::vector<std::string> keys;
  for (size_t position : request.key)
    keys.push_back(ColumnName(request.stream, request.columns[position].field));
  return BuildDigestExpressions(dialect_, canonical, keys, request);
}

Status SqlStoreDigester::CanDigest(const DigestRequest& request) const {
  return Expressions(request).status();
}

Result<std::optional<std::pair<__int128, __int128>>> SqlStoreDigester::KeyBounds(int stream,
                                                                                 int field) {
  const Table& table = tables_.at(static_cast<size_t>(stream));
  SetLanes(1);
  SLUICE_ASSIGN_OR_RETURN(TextRows rows,
                          Query(KeyBoundsQuery(ColumnName(stream, field), table.from, table.where),
                                "verify: reading the key range of " + table.from, 0));
  if (rows.empty() || rows[0].size() < 2 || !rows[0][0] || !rows[0][1])
    return std::optional<std::pair<__int128, __int128>>();
  SLUICE_ASSIGN_OR_RETURN(__int128 low, ParseInt128(*rows[0][0]));
  SLUICE_ASSIGN_OR_RETURN(__int128 high, ParseInt128(*rows[0][1]));
  return std::optional<std::pair<__int128, __int128>>(std::pair{low, high});
}

Status SqlStoreDigester::Digest(const DigestRequest& request, std::vector<BucketDigest>* digests) {
  SLUICE_ASSIGN_OR_RETURN(DigestExpressions expressions, Expressions(request));
  const Table& table = tables_.at(static_cast<size_t>(request.stream));
  // Key-range buckets split into contiguous groups, one query (and connection) each: the
  // server digests them on as many cores, each group an index range scan.
  size_t lanes = request.range && expressions.key_columns.size() == 1
                     ? std::clamp<size_t>(request.parallelism, 1, request.buckets)
                     : 1;
  SetLanes(lanes);
  std::vector<std::future<Result<TextRows>>> parts;
  for (size_t lane = 0; lane < lanes; ++lane) {
    std::string range;
    if (lanes > 1) {
      range = BucketKeysCondition(expressions, request, lane * request.buckets / lanes,
                                  (lane + 1) * request.buckets / lanes - 1);
    }
    std::string sql = DigestQuery(expressions, table.from, table.where, range);
    log::Debug("verify", "Digesting {}: {}", table.from, sql);
    parts.push_back(std::async(std::launch::async, [this, sql = std::move(sql), lane, &table] {
      return Query(sql, "verify: digesting " + table.from, lane);
    }));
  }
  digests->assign(request.buckets, BucketDigest{});
  Status status = Status::OK();
  for (auto& part : parts) {
    Result<TextRows> rows = part.get();  // every lane is waited for, failed or not
    if (!rows.ok()) {
      if (status.ok())
        status = rows.status();
      continue;
    }
    for (const auto& row : *rows) {
      if (row.size() < 3)
        return Internal("verify: a digest row without its three columns");
      SLUICE_RETURN_IF_ERROR(
          AddDigestRow(row[0].value_or(""), row[1].value_or(""), row[2].value_or(""), digests));
    }
  }
  return status;
}

Status SqlStoreDigester::Rows(const DigestRequest& request, const std::vector<size_t>& buckets,
                              const DigestRowCallback& on_row) {
  if (buckets.empty())
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(DigestExpressions expressions, Expressions(request));
  const Table& table = tables_.at(static_cast<size_t>(request.stream));
  SetLanes(1);
  SLUICE_ASSIGN_OR_RETURN(
      TextRows rows, Query(DigestRowsQuery(expressions, table.from, table.where, request, buckets),
                           "verify: reading the differing rows of " + table.from, 0));
  for (const auto& row : rows) {
    if (row.size() < 2)
      return Internal("verify: a differing row without its key and row text");
    SLUICE_RETURN_IF_ERROR(on_row(row[0].value_or(""), row[1].value_or("")));
  }
  return Status::OK();
}

}  // namespace sluice::connectors::sql
