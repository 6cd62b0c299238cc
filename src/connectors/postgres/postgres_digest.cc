#include "connectors/postgres/postgres_digest.h"

#include <fmt/core.h>

#include "connectors/postgres/postgres_client.h"
#include "connectors/postgres/postgres_types.h"
#include "connectors/sql/digest_sql.h"

namespace sluice::connectors::postgres {

namespace {

class PostgresDialect final : public sql::DigestDialect {
 public:
  // `||` rather than concat(): no limit on the number of arguments (wide tables).
  std::string Concat(const std::vector<std::string>& parts) const override {
    std::string out = "(";
    for (size_t i = 0; i < parts.size(); ++i)
      out += (i > 0 ? " || " : "") + parts[i];
    return out + ")";
  }
  std::string Coalesce(std::string_view expr, std::string_view fallback) const override {
    return fmt::format("coalesce({}, {})", expr, fallback);
  }
  std::string UnitSeparator() const override { return "chr(31)"; }
  std::string Md5Prefix(std::string_view text, int hex_digits) const override {
    return fmt::format("('x' || substr(md5({}), 1, {}))::bit({})::bigint", text, hex_digits,
                       hex_digits * 4);
  }
  std::string Exact(std::string_view expr) const override {
    return fmt::format("({})::numeric", expr);
  }
  std::string IntDiv(std::string_view a, std::string_view b) const override {
    return fmt::format("div({}, {})", a, b);
  }
};

bool IsIntegerOid(uint32_t oid) {
  return oid == pg_oid::kInt2 || oid == pg_oid::kInt4 || oid == pg_oid::kInt8 ||
         oid == pg_oid::kOid;
}

// Trailing fractional zeros and a trailing point removed; `text` always has a point.
std::string TrimFraction(const std::string& text) {
  return fmt::format("rtrim(rtrim({}, '0'), '.')", text);
}

class PostgresDigester final : public StoreDigester {
 public:
  PostgresDigester(ConnectionOptions options, std::vector<DigestTable> tables)
      : options_(std::move(options)), tables_(std::move(tables)) {}

  Status CanDigest(const DigestRequest& request) const override {
    // The server version is known only once connected; assume a current one until then.
    return Expressions(request, connection_ ? connection_->server_version() : 150000).status();
  }

  Result<std::optional<std::pair<__int128, __int128>>> KeyBounds(int stream, int field) override {
    const DigestTable& table = tables_.at(static_cast<size_t>(stream));
    SLUICE_ASSIGN_OR_RETURN(PgConnection * connection, Connect());
    std::string column = QuoteIdentifier(table.columns.at(static_cast<size_t>(field)).name);
    SLUICE_ASSIGN_OR_RETURN(
        PgResult result,
        Checked(connection->Query(sql::KeyBoundsQuery(column, table.from, table.where),
                                  "verify: reading the key range of " + table.from)));
    if (result.rows() == 0 || result.IsNull(0, 0) || result.IsNull(0, 1))
      return std::optional<std::pair<__int128, __int128>>();
    SLUICE_ASSIGN_OR_RETURN(__int128 low, ParseInt128(result.Value(0, 0)));
    SLUICE_ASSIGN_OR_RETURN(__int128 high, ParseInt128(result.Value(0, 1)));
    return std::optional<std::pair<__int128, __int128>>(std::pair{low, high});
  }

  Status Digest(const DigestRequest& request, std::vector<BucketDigest>* digests) override {
    SLUICE_ASSIGN_OR_RETURN(PgConnection * connection, Connect());
    SLUICE_ASSIGN_OR_RETURN(sql::DigestExpressions expressions,
                            Expressions(request, connection->server_version()));
    const DigestTable& table = tables_.at(static_cast<size_t>(request.stream));
    SLUICE_ASSIGN_OR_RETURN(
        PgResult result,
        Checked(connection->Query(sql::DigestQuery(expressions, table.from, table.where),
                                  "verify: digesting " + table.from)));
    digests->assign(request.buckets, BucketDigest{});
    for (int row = 0; row < result.rows(); ++row) {
      SLUICE_RETURN_IF_ERROR(sql::AddDigestRow(result.Value(row, 0), result.Value(row, 1),
                                               result.Value(row, 2), digests));
    }
    return Status::OK();
  }

  Status Rows(const DigestRequest& request, const std::vector<size_t>& buckets,
              const DigestRowCallback& on_row) override {
    if (buckets.empty())
      return Status::OK();
    SLUICE_ASSIGN_OR_RETURN(PgConnection * connection, Connect());
    SLUICE_ASSIGN_OR_RETURN(sql::DigestExpressions expressions,
                            Expressions(request, connection->server_version()));
    const DigestTable& table = tables_.at(static_cast<size_t>(request.stream));
    SLUICE_ASSIGN_OR_RETURN(
        PgResult result,
        Checked(connection->Query(
            sql::DigestRowsQuery(expressions, table.from, table.where, request, buckets),
            "verify: reading the differing rows of " + table.from)));
    for (int row = 0; row < result.rows(); ++row)
      SLUICE_RETURN_IF_ERROR(on_row(result.Value(row, 0), result.Value(row, 1)));
    return Status::OK();
  }

 private:
  Result<sql::DigestExpressions> Expressions(const DigestRequest& request,
                                             int server_version) const {
    const DigestTable& table = tables_.at(static_cast<size_t>(request.stream));
    std::vector<std::string> canonical;
    for (const DigestColumn& column : request.columns) {
      SLUICE_ASSIGN_OR_RETURN(
          std::string expression,
          CanonicalExpression(table.columns.at(static_cast<size_t>(column.field)), column.as,
                              server_version));
      canonical.push_back(std::move(expression));
    }
    std::vector<std::string> keys;
    for (size_t position : request.key) {
      keys.push_back(QuoteIdentifier(
          table.columns.at(static_cast<size_t>(request.columns[position].field)).name));
    }
    return sql::BuildDigestExpressions(PostgresDialect(), canonical, keys, request);
  }

  Result<PgConnection*> Connect() {
    if (!connection_) {
      SLUICE_ASSIGN_OR_RETURN(connection_, PgConnection::Connect(options_));
    }
    return connection_.get();
  }

  // A lost connection is dropped, so that a retry connects again.
  template <typename T>
  T Checked(T result) {
    if (!result.ok() && result.status().IsTransient())
      connection_.reset();
    return result;
  }

  ConnectionOptions options_;
  std::vector<DigestTable> tables_;
  std::unique_ptr<PgConnection> connection_;
};

}  // namespace

Result<std::string> CanonicalExpression(const PgColumn& column, const DataType& as,
                                        int server_version) {
  const std::string name = QuoteIdentifier(column.name);
  const uint32_t oid = column.type.base_oid;
  auto unsupported = [&]() -> Status {
    return Unsupported(fmt::format("column '{}' ({}) cannot be rendered as {} in SQL", column.name,
                                   column.type.spelled, as.ToString()));
  };
  const DataType stored = MapForRead(column.type).type;
  switch (as.id) {
    case TypeId::kBool:
      if (oid == pg_oid::kBool)
        return fmt::format("CASE WHEN {} THEN '1' ELSE '0' END", name);
      if (IsIntegerOid(oid))
        return fmt::format("CASE WHEN {} <> 0 THEN '1' ELSE '0' END", name);
      return unsupported();
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      if (IsIntegerOid(oid) ||
          (oid == pg_oid::kNumeric && stored.precision > 0 && stored.scale == 0)) {
        return fmt::format("{}::text", name);
      }
      return unsupported();
    case TypeId::kDecimal:
      if (IsIntegerOid(oid))
        return fmt::format("{}::text", name);
      if (oid == pg_oid::kNumeric && server_version >= 130000)
        return fmt::format("trim_scale({})::text", name);
      return unsupported();
    case TypeId::kString:
      // Not char(n): its text form drops the padding that the binary form keeps.
      if (oid == pg_oid::kText || oid == pg_oid::kVarchar || oid == pg_oid::kName ||
          column.type.typtype == 'e') {
        return fmt::format("{}::text", name);
      }
      return unsupported();
    case TypeId::kBytes:
      if (oid == pg_oid::kBytea)
        return fmt::format("encode({}, 'hex')", name);
      return unsupported();
    case TypeId::kDate:
      if (oid == pg_oid::kDate)
        return fmt::format("to_char({}, 'YYYY-MM-DD')", name);
      return unsupported();
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      if (oid != pg_oid::kTimestamp && oid != pg_oid::kTimestampTz)
        return unsupported();
      std::string value = oid == pg_oid::kTimestampTz ? name + " AT TIME ZONE 'UTC'" : name;
      // Without fractional digits there are no zeros to trim.
      if (stored.precision == 0)
        return fmt::format("to_char({}, 'YYYY-MM-DD HH24:MI:SS')", value);
      return TrimFraction(fmt::format("to_char({}, 'YYYY-MM-DD HH24:MI:SS.US')", value));
    }
    default:
      return unsupported();
  }
}

std::unique_ptr<StoreDigester> MakeDigester(ConnectionOptions options,
                                            std::vector<DigestTable> tables) {
  return std::make_unique<PostgresDigester>(std::move(options), std::move(tables));
}

}  // namespace sluice::connectors::postgres
