#include "connectors/mysql/mysql_digest.h"

#include <fmt/core.h>

#include <mutex>

#include "connectors/mysql/mysql_client.h"
#include "connectors/sql/digest_sql.h"

namespace sluice::connectors::mysql {

namespace {

class MysqlDialect final : public sql::DigestDialect {
 public:
  std::string Concat(const std::vector<std::string>& parts) const override {
    std::string out = "CONCAT(";
    for (size_t i = 0; i < parts.size(); ++i)
      out += (i > 0 ? ", " : "") + parts[i];
    return out + ")";
  }
  std::string Coalesce(std::string_view expr, std::string_view fallback) const override {
    return fmt::format("IFNULL({}, {})", expr, fallback);
  }
  // Hex literals are binary strings, like the columns' renderings (CanonicalExpression).
  std::string Literal(std::string_view characters) const override {
    std::string hex;
    for (char c : characters)
      hex += fmt::format("{:02X}", static_cast<unsigned char>(c));
    return fmt::format("X'{}'", hex);
  }
  std::string Replace(std::string_view expr, std::string_view from,
                      std::string_view to) const override {
    return fmt::format("REPLACE({}, {}, {})", expr, from, to);
  }
  std::string Md5Prefix(std::string_view text, int hex_digits) const override {
    return fmt::format("CAST(CONV(LEFT(MD5({}), {}), 16, 10) AS UNSIGNED)", text, hex_digits);
  }
  std::string Exact(std::string_view expr) const override {
    return fmt::format("CAST({} AS DECIMAL(40,0))", expr);
  }
  std::string IntDiv(std::string_view a, std::string_view b) const override {
    return fmt::format("(({}) DIV ({}))", a, b);
  }
};

// "1.500" -> "1.5", "2.000" -> "2"; text without a point stays.
std::string TrimFraction(const std::string& text) {
  return fmt::format(
      "IF(INSTR({0}, '.') > 0, TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {0})), {0})", text);
}

bool IsIntegerKind(ValueKind kind) {
  switch (kind) {
    case ValueKind::kInt8:
    case ValueKind::kInt16:
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kUInt8:
    case ValueKind::kUInt16:
    case ValueKind::kUInt32:
    case ValueKind::kUInt64:
    case ValueKind::kYear:
      return true;
    default:
      return false;
  }
}

class MysqlDigester final : public sql::SqlStoreDigester {
 public:
  MysqlDigester(ConnectionOptions options, std::vector<DigestTable> tables)
      : SqlStoreDigester(kDialect, {tables.begin(), tables.end()}),
        options_(std::move(options)),
        tables_(std::move(tables)) {}

 protected:
  Result<std::string> Canonical(int stream, int field, const DataType& as) const override {
    const DigestTable& table = tables_.at(static_cast<size_t>(stream));
    return CanonicalExpression(table.columns.at(static_cast<size_t>(field)), as, table.zero_dates);
  }
  std::string ColumnName(int stream, int field) const override {
    return QuoteIdentifier(
        tables_.at(static_cast<size_t>(stream)).columns.at(static_cast<size_t>(field)).info.name);
  }
  void SetLanes(size_t lanes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (connections_.size() < lanes)
      connections_.resize(lanes);
  }
  Result<TextRows> Query(const std::string& sql, const std::string& what, size_t lane) override {
    Connection& connection = connections_.at(lane);  // sized by SetLanes, never during queries
    if (!connection) {
      SLUICE_ASSIGN_OR_RETURN(Connection opened, Connection::Open(options_));
      std::lock_guard<std::mutex> lock(mutex_);
      connection = std::move(opened);
    }
    Result<std::vector<TextRow>> rows = connection.Query(sql, what);
    if (!rows.ok() && rows.status().IsTransient()) {
      std::lock_guard<std::mutex> lock(mutex_);
      connection = Connection();  // lost: a retry connects again
    }
    return rows;
  }

 public:
  void Cancel() override {
    std::vector<uint64_t> sessions;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const Connection& connection : connections_) {
        if (connection)
          sessions.push_back(connection.thread_id());
      }
    }
    for (uint64_t session : sessions)
      Connection::KillQuery(options_, session);
  }

 private:
  static inline const MysqlDialect kDialect;

  ConnectionOptions options_;
  std::vector<DigestTable> tables_;
  std::mutex mutex_;  // guards connections_ against Cancel() (queries run unlocked)
  std::vector<Connection> connections_;  // by lane
};

}  // namespace

Result<std::string> CanonicalExpression(const SourceColumn& column, const DataType& as,
                                        ZeroDates zero_dates) {
  const std::string name = QuoteIdentifier(column.info.name);
  auto unsupported = [&]() -> Status {
    return Unsupported(fmt::format("column '{}' ({}) cannot be rendered as {} in SQL",
                                   column.info.name, column.info.column_type, as.ToString()));
  };
  if (column.spatial)
    return unsupported();
  const bool integer = IsIntegerKind(column.kind) || column.kind == ValueKind::kBit;
  const std::string as_text = column.kind == ValueKind::kBit
                                  ? fmt::format("CAST({} + 0 AS CHAR)", name)
                                  : fmt::format("CAST({} AS CHAR)", name);
  // Zero dates read as NULL or as text under the `zero_dates` policy; SQL would see them raw.
  const bool temporal_ok = zero_dates == ZeroDates::kError;
  std::string expression;
  if (as.is_integer()) {
    if (!integer && !(column.kind == ValueKind::kDecimal && column.info.numeric_scale == 0))
      return unsupported();
    return fmt::format("CAST({} AS BINARY)", as_text);
  }
  switch (as.id) {
    case TypeId::kBool:
      if (!integer)
        return unsupported();
      expression = fmt::format("IF({} <> 0, '1', '0')", name);
      break;
    case TypeId::kDecimal:
      if (column.kind != ValueKind::kDecimal && !IsIntegerKind(column.kind))
        return unsupported();
      // Only a fraction has zeros to trim (saves evaluating the text three times).
      expression = column.kind == ValueKind::kDecimal && column.info.numeric_scale > 0
                       ? TrimFraction(as_text)
                       : as_text;
      break;
    case TypeId::kString:
      if (column.kind != ValueKind::kText || column.type.id != TypeId::kString)
        return unsupported();
      expression = fmt::format("CONVERT({} USING utf8mb4)", name);
      break;
    case TypeId::kBytes:
      if (column.kind != ValueKind::kBytes)
        return unsupported();
      expression = fmt::format("LOWER(HEX({}))", name);
      break;
    case TypeId::kDate:
      if (column.kind != ValueKind::kDate || !temporal_ok)
        return unsupported();
      expression = fmt::format("DATE_FORMAT({}, '%Y-%m-%d')", name);
      break;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      if ((column.kind != ValueKind::kDateTime && column.kind != ValueKind::kTimestamp) ||
          !temporal_ok) {
        return unsupported();
      }
      // The session's time zone is UTC (Connection::Open), so TIMESTAMP reads in UTC.
      expression = column.info.datetime_precision > 0
                       ? TrimFraction(fmt::format("DATE_FORMAT({}, '%Y-%m-%d %H:%i:%s.%f')", name))
                       : fmt::format("DATE_FORMAT({}, '%Y-%m-%d %H:%i:%s')", name);
      break;
    default:
      return unsupported();
  }
  // Bytes, not characters: no collation to clash with the other columns'.
  return fmt::format("CAST({} AS BINARY)", expression);
}

std::unique_ptr<StoreDigester> MakeDigester(ConnectionOptions options,
                                            std::vector<DigestTable> tables) {
  return std::make_unique<MysqlDigester>(std::move(options), std::move(tables));
}

}  // namespace sluice::connectors::mysql
