// MySQL client: move-only owners of MYSQL* (mysql_close), MYSQL_STMT* (mysql_stmt_close) and
// MYSQL_RES* (mysql_free_result), and the one function that maps the client library's and the
// server's error numbers to Status.
//
// mysql.h stays out of headers: the handles are forward-declared and only this connector's .cc
// files call the C API. Every connection talks utf8mb4 and runs its session in UTC
// (time_zone '+00:00'), so TIMESTAMP values arrive as UTC. Automatic reconnection stays off: a
// silently reconnected session would leave the job's snapshot without a word.
//
// Thread-safety: a Connection (and its statements) is used by one thread at a time; give each
// reader and writer its own. KillQuery() opens its own short connection and may be called from
// any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/mysql/mysql_options.h"
#include "core/result.h"

struct st_mysql;
struct st_mysql_stmt;
struct st_mysql_res;

namespace sluice::connectors::mysql {

/// Maps an error number from the client library (2xxx) or the server to a Status whose message
/// starts with `options.Describe()` ("mysql host:port"), then `what` (when not empty):
///   1045 wrong password              -> PermissionDenied "access denied for user 'u' (check
///                                       user and password)"
///   1044, 1142, 1143, 1227 privilege -> PermissionDenied with the server's text (it names the
///                                       privilege or the object)
///   1049, 1146, 1054, 2005           -> NotFound "unknown database 'x'", "table 'd.t' does not
///                                       exist", ..., "unknown host 'x'"
///   2002, 2003, 2006, 2013, 1927,
///   1040, 1053, 1158-1161, 2055,
///   4031, other 2xxx client errors   -> Unavailable (transient: refused, gone, lost, killed,
///                                       server shutting down, network read/write failed)
///   1205 lock wait, 1213 deadlock,
///   1412 table changed in snapshot   -> Aborted (transient)
///   1317 query interrupted           -> Cancelled
///   1048, 1062, 1264, 1265, 1292,
///   1366, 1406, 1451, 1452, 3140,
///   4025, 1416, ...                  -> DataError
///   1064 syntax                      -> InvalidConfig (almost always a `where:` filter)
///   anything else                    -> Internal, with the server's text and number
/// The password never appears: server texts are scrubbed of it.
Status MysqlStatus(unsigned int code, std::string_view server_message,
                   const ConnectionOptions& options, std::string_view what);

/// True for the error numbers MysqlStatus maps to DataError.
bool IsDataErrorCode(unsigned int code);

/// `name` quoted as an identifier, backticks doubled.
std::string QuoteIdentifier(std::string_view name);
/// `db`.`table`.
std::string QualifiedName(std::string_view database, std::string_view table);
/// A character-string literal no sql_mode can misread: _utf8mb4 X'<hex>'.
std::string Utf8Literal(std::string_view text);
/// A binary-string literal: X'<hex>'.
std::string BinaryLiteral(std::string_view bytes);

enum class ServerFlavor { kMySql, kMariaDb, kTiDb };

/// One row of a text-protocol result: nullopt for NULL.
using TextRow = std::vector<std::optional<std::string>>;

/// Owns one MYSQL connection. Move-only; one thread at a time.
class Connection {
 public:
  /// Connects with utf8mb4, time_zone '+00:00', the connect timeout and (when asked) LOCAL
  /// INFILE enabled. Errors come from MysqlStatus.
  static Result<Connection> Open(const ConnectionOptions& options);

  Connection() = default;
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  st_mysql* get() const { return mysql_; }
  explicit operator bool() const { return mysql_ != nullptr; }
  const ConnectionOptions& options() const { return options_; }
  ServerFlavor flavor() const { return flavor_; }
  const std::string& server_version() const { return server_version_; }
  /// The server's id of this session, for KILL.
  uint64_t thread_id() const;

  /// Runs `sql` (text protocol), discarding any result. `what` prefixes errors.
  Status Execute(std::string_view sql, std::string_view what);
  /// Runs `sql` and returns all rows (buffered: for small metadata results only).
  Result<std::vector<TextRow>> Query(std::string_view sql, std::string_view what);
  /// The first row of `sql`, or nullopt when there is none.
  Result<std::optional<TextRow>> QueryRow(std::string_view sql, std::string_view what);

  /// The Status for the connection's last error.
  Status LastError(std::string_view what) const;
  unsigned int last_errno() const;
  unsigned int warning_count() const;
  /// Rows changed by the last Execute().
  uint64_t affected_rows() const { return affected_rows_; }

  /// Stops the statement running on session `thread_id` with KILL QUERY over a short
  /// connection of its own. Best effort. Thread-safe.
  static void KillQuery(const ConnectionOptions& options, uint64_t thread_id);

 private:
  st_mysql* mysql_ = nullptr;
  ConnectionOptions options_;
  ServerFlavor flavor_ = ServerFlavor::kMySql;
  std::string server_version_;
  uint64_t affected_rows_ = 0;
};

/// Owns one prepared statement (binary protocol). Move-only; one thread at a time, with the
/// connection that prepared it, which must outlive it.
class Statement {
 public:
  /// Prepares `sql` on `connection`.
  static Result<Statement> Prepare(Connection& connection, std::string_view sql,
                                   std::string_view what);

  Statement() = default;
  ~Statement();
  Statement(Statement&& other) noexcept
      : stmt_(other.stmt_), mysql_(other.mysql_), options_(std::move(other.options_)) {
    other.stmt_ = nullptr;
  }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  st_mysql_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }
  /// The Status for the statement's last error.
  Status LastError(std::string_view what) const;
  /// Closes the statement now (reading off any unread rows); the destructor does the same.
  void Reset();

 private:
  Statement(st_mysql_stmt* stmt, st_mysql* mysql, ConnectionOptions options)
      : stmt_(stmt), mysql_(mysql), options_(std::move(options)) {}
  st_mysql_stmt* stmt_ = nullptr;
  st_mysql* mysql_ = nullptr;  // the connection's handle: fetch errors are reported there
  ConnectionOptions options_;  // for error messages
};

/// Owns one MYSQL_RES. Move-only.
class ResultSet {
 public:
  ResultSet() = default;
  explicit ResultSet(st_mysql_res* result) : result_(result) {}
  ~ResultSet();
  ResultSet(ResultSet&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  ResultSet& operator=(ResultSet&& other) noexcept;
  ResultSet(const ResultSet&) = delete;
  ResultSet& operator=(const ResultSet&) = delete;

  st_mysql_res* get() const { return result_; }

 private:
  st_mysql_res* result_ = nullptr;
};

}  // namespace sluice::connectors::mysql
