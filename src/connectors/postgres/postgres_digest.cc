#include "connectors/postgres/postgres_digest.h"

#include <fmt/core.h>

#include <mutex>

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
  std::string Literal(std::string_view characters) const override {
    std::string escapes;
    for (char c : characters)
      escapes += fmt::format("\\x{:02X}", static_cast<unsigned char>(c));
    return fmt::format("E'{}'", escapes);
  }
  std::string Replace(std::string_view expr, std::string_view from,
                      std::string_view to) const override {
    return fmt::format("replace({}, {}, {})", expr, from, to);
  }
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

class PostgresDigester final : public sql::SqlStoreDigester {
 public:
  PostgresDigester(ConnectionOptions options, std::vector<DigestTable> tables)
      : SqlStoreDigester(kDialect, {tables.begin(), tables.end()}),
        options_(std::move(options)),
        tables_(std::move(tables)) {}

 protected:
  Result<std::string> Canonical(int stream, int field, const DataType& as) const override {
    // The server version is known once connected; until then assume a current one.
    return CanonicalExpression(
        tables_.at(static_cast<size_t>(stream)).columns.at(static_cast<size_t>(field)), as,
        !connections_.empty() && connections_[0] ? connections_[0]->server_version() : 150000);
  }
  std::string ColumnName(int stream, int field) const override {
    return QuoteIdentifier(
        tables_.at(static_cast<size_t>(stream)).columns.at(static_cast<size_t>(field)).name);
  }
  void SetLanes(size_t lanes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (connections_.size() < lanes)
      connections_.resize(lanes);
  }
  Result<TextRows> Query(const std::string& sql, const std::string& what, size_t lane) override {
    std::unique_ptr<PgConnection>& connection = connections_.at(lane);  // sized by SetLanes
    if (!connection) {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> opened,
                              PgConnection::Connect(options_));
      std::lock_guard<std::mutex> lock(mutex_);
      connection = std::move(opened);
    }
    Result<PgResult> result = connection->Query(sql, what);
    if (!result.ok()) {
      if (result.status().IsTransient()) {
        std::lock_guard<std::mutex> lock(mutex_);
        connection.reset();  // lost: a retry connects again
      }
      return result.status();
    }
    TextRows rows(static_cast<size_t>(result->rows()));
    for (int row = 0; row < result->rows(); ++row) {
      for (int column = 0; column < result->columns(); ++column) {
        rows[static_cast<size_t>(row)].push_back(
            result->IsNull(row, column) ? std::nullopt
                                        : std::optional<std::string>(result->Value(row, column)));
      }
    }
    return rows;
  }

 public:
  void Cancel() override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& connection : connections_) {
      if (connection)
        connection->Cancel();
    }
  }

 private:
  static inline const PostgresDialect kDialect;

  ConnectionOptions options_;
  std::vector<DigestTable> tables_;
  std::mutex mutex_;  // guards connections_ against Cancel() (queries run unlocked)
  std::vector<std::unique_ptr<PgConnection>> connections_;  // by lane
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
  if (as.is_integer()) {
    if (IsIntegerOid(oid) || (oid == pg_oid::kNumeric && stored.precision > 0 && stored.scale == 0))
      return fmt::format("{}::text", name);
    return unsupported();
  }
  switch (as.id) {
    case TypeId::kBool:
      if (oid == pg_oid::kBool)
        return fmt::format("CASE WHEN {} THEN '1' ELSE '0' END", name);
      if (IsIntegerOid(oid))
        return fmt::format("CASE WHEN {} <> 0 THEN '1' ELSE '0' END", name);
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
