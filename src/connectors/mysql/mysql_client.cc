#include "connectors/mysql/mysql_client.h"

#include <fmt/core.h>
#include <mysql.h>

#include <algorithm>
#include <mutex>

namespace sluice::connectors::mysql {

namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

// The client library initialises global state on first use; that first use must not race.
void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

// The first '...'-quoted part of `message` ("Unknown database 'x'" -> x), or "".
std::string_view Quoted(std::string_view message) {
  size_t open = message.find('\'');
  if (open == std::string_view::npos)
    return {};
  size_t close = message.find('\'', open + 1);
  if (close == std::string_view::npos)
    return {};
  return message.substr(open + 1, close - open - 1);
}

// Server texts never contain the password, but a text the user supplied (a `where:` filter
// echoed in a syntax error) might; scrub it anyway. Very short passwords are left alone so as
// not to mangle every message that happens to contain them.
std::string Scrub(std::string_view message, const Secret& password) {
  std::string out(message);
  const std::string& secret = password.Reveal();
  if (secret.size() < 4)
    return out;
  for (size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at)) {
    out.replace(at, secret.size(), "**REDACTED**");
    at += 12;
  }
  return out;
}

}  // namespace

bool IsDataErrorCode(unsigned int code) {
  switch (code) {
    case 1048:  // ER_BAD_NULL_ERROR: column cannot be null
    case 1062:  // ER_DUP_ENTRY
    case 1136:  // ER_WRONG_VALUE_COUNT_ON_ROW
    case 1216:  // ER_NO_REFERENCED_ROW
    case 1217:  // ER_ROW_IS_REFERENCED
    case 1263:  // ER_WARN_NULL_TO_NOTNULL
    case 1264:  // ER_WARN_DATA_OUT_OF_RANGE
    case 1265:  // WARN_DATA_TRUNCATED
    case 1292:  // ER_TRUNCATED_WRONG_VALUE (bad date, ...)
    case 1366:  // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD (bad integer, bad utf8, ...)
    case 1367:  // ER_ILLEGAL_VALUE_FOR_TYPE
    case 1406:  // ER_DATA_TOO_LONG
    case 1411:  // ER_WRONG_VALUE_FOR_TYPE
    case 1416:  // ER_CANT_CREATE_GEOMETRY_OBJECT
    case 1451:  // ER_ROW_IS_REFERENCED_2
    case 1452:  // ER_NO_REFERENCED_ROW_2
    case 1690:  // ER_DATA_OUT_OF_RANGE
    case 3140:  // ER_INVALID_JSON_TEXT (MySQL)
    case 3819:  // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
    case 4025:  // ER_CONSTRAINT_FAILED (MariaDB, e.g. json_valid)
      return true;
    default:
      return false;
  }
}

Status MysqlStatus(unsigned int code, std::string_view server_message,
                   const ConnectionOptions& options, std::string_view what) {
  std::string prefix = options.Describe();
  if (!what.empty())
    prefix += fmt::format(": {}", what);
  std::string message = Scrub(server_message, options.password);
  auto text = [&](std::string_view detail) { return fmt::format("{}: {}", prefix, detail); };
  auto with_code = [&] { return text(fmt::format("{} (error {})", message, code)); };
  switch (code) {
    case 1045:
      return PermissionDenied(
          text(fmt::format("access denied for user '{}' (check user and password)", options.user)));
    case 1044:  // ER_DBACCESS_DENIED_ERROR
    case 1142:  // ER_TABLEACCESS_DENIED_ERROR
    case 1143:  // ER_COLUMNACCESS_DENIED_ERROR
    case 1227:  // ER_SPECIFIC_ACCESS_DENIED_ERROR
    case 1370:  // ER_PROCACCESS_DENIED_ERROR
      return PermissionDenied(with_code());
    case 1049: {
      std::string_view name = Quoted(message);
      return NotFound(
          text(fmt::format("unknown database '{}'", name.empty() ? options.database : name)));
    }
    case 1146:
      return NotFound(text(fmt::format("table '{}' does not exist", Quoted(message))));
    case 1054:
      return NotFound(text(fmt::format("unknown column '{}'", Quoted(message))));
    case 2005:  // CR_UNKNOWN_HOST
      return NotFound(text(fmt::format("unknown host '{}'", options.host)));
    case 2002:  // CR_CONNECTION_ERROR
    case 2003:  // CR_CONN_HOST_ERROR
      return Unavailable(text(fmt::format("cannot connect: {} (error {})", message, code)));
    case 1040:  // ER_CON_COUNT_ERROR
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1158:  // ER_NET_READ_ERROR
    case 1159:  // ER_NET_READ_INTERRUPTED
    case 1160:  // ER_NET_ERROR_ON_WRITE
    case 1161:  // ER_NET_WRITE_INTERRUPTED
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT (MariaDB: idle session disconnected)
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
      return Unavailable(text(fmt::format("connection lost: {} (error {})", message, code)));
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
    case 1213:  // ER_LOCK_DEADLOCK
    case 1412:  // ER_TABLE_DEF_CHANGED: DDL during the snapshot
      return Aborted(with_code());
    case 1317:  // ER_QUERY_INTERRUPTED (KILL QUERY)
      return Cancelled(with_code());
    case 1064:  // ER_PARSE_ERROR
    case 1059:  // ER_TOO_LONG_IDENT
    case 1060:  // ER_DUP_FIELDNAME: a column name twice (names ignore case)
    case 1103:  // ER_WRONG_TABLE_NAME
    case 1166:  // ER_WRONG_COLUMN_NAME
    case 1305:  // ER_SP_DOES_NOT_EXIST: an unknown function (in a `where:`)
    case 1582:  // ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT
    case 1583:  // ER_WRONG_PARAMETERS_TO_NATIVE_FCT
    case 1630:  // ER_FUNC_INEXISTENT_NAME_COLLISION
      return InvalidConfig(with_code());
    default:
      if (IsDataErrorCode(code))
        return DataError(with_code());
      if (code >= 2000 && code < 3000)
        return Unavailable(with_code());
      return Internal(with_code());
  }
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`')
      out += '`';
    out += c;
  }
  out += '`';
  return out;
}

std::string QualifiedName(std::string_view database, std::string_view table) {
  return QuoteIdentifier(database) + "." + QuoteIdentifier(table);
}

std::string BinaryLiteral(std::string_view bytes) {
  std::string out;
  out.reserve(3 + bytes.size() * 2);
  out += "X'";
  for (unsigned char c : bytes) {
    out += kHexDigits[c >> 4];
    out += kHexDigits[c & 15];
  }
  out += '\'';
  return out;
}

std::string Utf8Literal(std::string_view text) {
  return "_utf8mb4 " + BinaryLiteral(text);
}

// ---------------------------------------------------------------------------------------------

Result<Connection> Connection::Open(const ConnectionOptions& options) {
  InitLibraryOnce();
  MYSQL* mysql = mysql_init(nullptr);
  if (mysql == nullptr)
    return Internal(options.Describe() + ": mysql_init failed (out of memory)");
  unsigned int timeout = static_cast<unsigned int>(options.connect_timeout_secs);
  mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  unsigned int local_infile = options.local_infile ? 1 : 0;
  mysql_optionsv(mysql, MYSQL_OPT_LOCAL_INFILE, &local_infile);
  my_bool reconnect = 0;
  mysql_optionsv(mysql, MYSQL_OPT_RECONNECT, &reconnect);
  if (options.read_timeout_secs > 0) {
    unsigned int read_timeout = static_cast<unsigned int>(options.read_timeout_secs);
    mysql_optionsv(mysql, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
  }
  const std::string& password = options.password.Reveal();
  if (mysql_real_connect(mysql, options.host.c_str(), options.user.c_str(),
                         password.empty() ? nullptr : password.c_str(), options.database.c_str(),
                         static_cast<unsigned int>(options.port), nullptr,
                         CLIENT_MULTI_RESULTS) == nullptr) {
    Status status = MysqlStatus(mysql_errno(mysql), mysql_error(mysql), options, "");
    mysql_close(mysql);
    return status;
  }
  Connection connection;
  connection.mysql_ = mysql;
  connection.options_ = options;
  connection.server_version_ = mysql_get_server_info(mysql);
  if (connection.server_version_.find("TiDB") != std::string::npos) {
    connection.flavor_ = ServerFlavor::kTiDb;
  } else if (connection.server_version_.find("MariaDB") != std::string::npos) {
    connection.flavor_ = ServerFlavor::kMariaDb;
  }
  SLUICE_RETURN_IF_ERROR(connection.Execute("SET time_zone = '+00:00'", "setting up the session"));
  return connection;
}

Connection::~Connection() {
  if (mysql_ != nullptr)
    mysql_close(mysql_);
}

Connection::Connection(Connection&& other) noexcept
    : mysql_(other.mysql_),
      options_(std::move(other.options_)),
      flavor_(other.flavor_),
      server_version_(std::move(other.server_version_)) {
  other.mysql_ = nullptr;
}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (mysql_ != nullptr)
      mysql_close(mysql_);
    mysql_ = other.mysql_;
    other.mysql_ = nullptr;
    options_ = std::move(other.options_);
    flavor_ = other.flavor_;
    server_version_ = std::move(other.server_version_);
  }
  return *this;
}

uint64_t Connection::thread_id() const {
  return mysql_thread_id(mysql_);
}

Status Connection::LastError(std::string_view what) const {
  return MysqlStatus(mysql_errno(mysql_), mysql_error(mysql_), options_, what);
}

unsigned int Connection::last_errno() const {
  return mysql_errno(mysql_);
}
unsigned int Connection::warning_count() const {
  return mysql_warning_count(mysql_);
}

Status Connection::Execute(std::string_view sql, std::string_view what) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0)
    return LastError(what);
  affected_rows_ = mysql_affected_rows(mysql_);  // reading results below resets it
  // Drain every result (multi-statement procedures return several).
  for (;;) {
    MYSQL_RES* result = mysql_store_result(mysql_);
    if (result != nullptr) {
      mysql_free_result(result);
    } else if (mysql_field_count(mysql_) != 0) {
      return LastError(what);
    }
    int next = mysql_next_result(mysql_);
    if (next > 0)
      return LastError(what);
    if (next < 0)
      return Status::OK();
  }
}

Result<std::vector<TextRow>> Connection::Query(std::string_view sql, std::string_view what) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0)
    return LastError(what);
  ResultSet result(mysql_store_result(mysql_));
  if (result.get() == nullptr) {
    if (mysql_field_count(mysql_) != 0)
      return LastError(what);
    return std::vector<TextRow>();
  }
  unsigned int fields = mysql_num_fields(result.get());
  std::vector<TextRow> rows;
  rows.reserve(mysql_num_rows(result.get()));
  while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
    unsigned long* lengths = mysql_fetch_lengths(result.get());
    TextRow out(fields);
    for (unsigned int i = 0; i < fields; ++i) {
      if (row[i] != nullptr)
        out[i].emplace(row[i], lengths[i]);
    }
    rows.push_back(std::move(out));
  }
  // Drain trailing results so that the connection stays usable.
  while (mysql_more_results(mysql_) && mysql_next_result(mysql_) == 0) {
    ResultSet extra(mysql_store_result(mysql_));
  }
  return rows;
}

Result<std::optional<TextRow>> Connection::QueryRow(std::string_view sql, std::string_view what) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<TextRow> rows, Query(sql, what));
  if (rows.empty())
    return std::optional<TextRow>();
  return std::optional<TextRow>(std::move(rows.front()));
}

void Connection::KillQuery(const ConnectionOptions& options, uint64_t thread_id) {
  ConnectionOptions short_lived = options;
  short_lived.local_infile = false;
  short_lived.connect_timeout_secs = std::min(short_lived.connect_timeout_secs, 5);
  Result<Connection> killer = Open(short_lived);
  if (!killer.ok())
    return;
  (void)killer->Execute(fmt::format("KILL QUERY {}", thread_id), "cancelling a query");
}

// ---------------------------------------------------------------------------------------------

Result<Statement> Statement::Prepare(Connection& connection, std::string_view sql,
                                     std::string_view what) {
  MYSQL_STMT* stmt = mysql_stmt_init(connection.get());
  if (stmt == nullptr)
    return connection.LastError(what);
  Statement statement(stmt, connection.get(), connection.options());
  if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0)
    return statement.LastError(what);
  return statement;
}

Statement::~Statement() {
  Reset();
}

void Statement::Reset() {
  if (stmt_ != nullptr)
    mysql_stmt_close(stmt_);
  stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Reset();
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
    mysql_ = other.mysql_;
    options_ = std::move(other.options_);
  }
  return *this;
}

Status Statement::LastError(std::string_view what) const {
  if (mysql_stmt_errno(stmt_) == 0 && mysql_ != nullptr && mysql_errno(mysql_) != 0) {
    return MysqlStatus(mysql_errno(mysql_), mysql_error(mysql_), options_, what);
  }
  return MysqlStatus(mysql_stmt_errno(stmt_), mysql_stmt_error(stmt_), options_, what);
}

ResultSet::~ResultSet() {
  if (result_ != nullptr)
    mysql_free_result(result_);
}

ResultSet& ResultSet::operator=(ResultSet&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr)
      mysql_free_result(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

}  // namespace sluice::connectors::mysql
