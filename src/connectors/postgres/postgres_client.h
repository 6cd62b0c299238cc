// PostgreSQL client: move-only owners of libpq's PGconn and PGresult, the one function that maps
// server errors (SQLSTATE) and connection failures to Status, and SQL quoting.
//
// libpq-fe.h stays out of headers: the handles are forward-declared and only this folder's .cc
// files call the C API. Every connection is set up the same way (client_encoding UTF8, TimeZone
// UTC, DateStyle ISO, IntervalStyle postgres, extra_float_digits 3, standard_conforming_strings
// on), so that text and binary values mean the same thing whatever the server's defaults.
//
// Thread-safety: a PgConnection is used by one thread at a time, except Cancel(), which any
// thread may call while another runs a query. Errors never contain the password: it is handed to
// libpq as a separate parameter and no connection string is ever built or echoed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/postgres/postgres_options.h"
#include "core/result.h"

struct pg_conn;
struct pg_result;
struct pg_cancel;

namespace sluice::connectors::postgres {

/// Maps a failed statement's error to a Status: "<endpoint>: <what>: <server message>".
///   28P01, 28000, 42501 (privilege)   -> PermissionDenied
///   3D000 (database), 42P01 (table)   -> NotFound
///   08xxx, 57P01..57P03, 53xxx, a lost
///     connection (libpq's own message,
///     no SQLSTATE)                    -> Unavailable (transient)
///   40001, 40P01, 55P03               -> Aborted (transient)
///   22xxx, 23xxx                      -> DataError
///   57014 (query cancelled)           -> Cancelled
///   other 42xxx (bad SQL: `where`)    -> InvalidConfig
///   anything else                     -> Internal
/// `result` may be null (then the connection's last error is used).
Status PgStatus(const pg_conn* conn, const pg_result* result, std::string_view endpoint,
                std::string_view what);

/// Quotes an identifier: "name" with embedded quotes doubled.
std::string QuoteIdentifier(std::string_view name);
/// "schema"."table".
std::string QuoteQualified(std::string_view schema, std::string_view table);
/// Quotes a string literal ('it''s'); backslashes stay literal (standard_conforming_strings).
std::string QuoteLiteral(std::string_view text);

/// Owns one PGresult; PQclear on destruction. Move-only.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* result) : result_(result) {}
  ~PgResult();
  PgResult(PgResult&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  pg_result* get() const { return result_; }
  int rows() const;
  int columns() const;
  bool IsNull(int row, int column) const;
  /// Text of a value (valid while this result lives); "" for NULL.
  std::string_view Value(int row, int column) const;
  std::string Text(int row, int column) const { return std::string(Value(row, column)); }
  /// Type OID and type modifier of result column `column`.
  uint32_t ColumnType(int column) const;
  int ColumnTypmod(int column) const;

 private:
  pg_result* result_ = nullptr;
};

/// Owns one connection; PQfinish on destruction. Move-only through unique_ptr.
class PgConnection {
 public:
  /// Connects and applies the session settings above. On failure the half-made handle libpq
  /// returns is freed and the error says what to fix (see PgStatus and ConnectError).
  /// `replication`: a logical replication connection (replication=database), which also takes
  /// the walsender's commands (START_REPLICATION, CREATE_REPLICATION_SLOT).
  static Result<std::unique_ptr<PgConnection>> Connect(const ConnectionOptions& options,
                                                       bool replication = false);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  pg_conn* get() const { return conn_; }
  /// "postgres <host>:<port>".
  const std::string& endpoint() const { return endpoint_; }
  /// The server's encoding ("UTF8", "SQL_ASCII", ...).
  const std::string& server_encoding() const { return server_encoding_; }
  int server_version() const;

  /// Runs statements that return no rows we need (BEGIN, SET, DDL, INSERT ... SELECT).
  /// `params` are $1.. as text (nullopt: NULL).
  Status Execute(std::string_view sql, std::string_view what,
                 const std::vector<std::optional<std::string>>& params = {});
  /// Runs COMMIT. Fails (Aborted) when the server rolled back instead because the transaction
  /// had failed earlier; a lost connection leaves the outcome unknown (Unavailable).
  Status Commit(std::string_view what);
  /// Runs a query and returns its rows (text format). `params` are $1.. as text (nullopt: NULL).
  Result<PgResult> Query(std::string_view sql, std::string_view what,
                         const std::vector<std::optional<std::string>>& params = {});

  /// Starts `COPY ... TO STDOUT`.
  Status StartCopyOut(std::string_view sql, std::string_view what);
  /// Waits for the next COPY data message. Returns its size with *data set (free it with
  /// FreeCopyData), 0 once the COPY completed successfully, or the server's error.
  Result<int> GetCopyData(char** data, std::string_view what);
  static void FreeCopyData(char* data);
  /// Abandons a running COPY TO STDOUT and leaves the connection ready for the next statement:
  /// drains the remaining rows (after asking the server to stop when `cancel`).
  void AbandonCopyOut(bool cancel);

  /// Starts `COPY ... FROM STDIN`.
  Status StartCopyIn(std::string_view sql, std::string_view what);
  Status PutCopyData(const char* data, size_t size, std::string_view what);
  /// Ends COPY FROM STDIN; with `error` the server discards the rows and the statement fails.
  Status EndCopyIn(std::string_view what, const char* error = nullptr);

  /// True while the connection is usable and not inside a failed transaction.
  bool Healthy() const;
  /// True once libpq knows the connection is gone.
  bool Broken() const;
  /// Outside a transaction, reads without blocking what the server sent while the connection sat
  /// idle (the notice of a terminated session, the end of the stream); false when the connection
  /// is gone. For a long-lived connection that reconnects before its next statement rather than
  /// failing it.
  bool CheckIdle();
  /// True inside a transaction block (idle or active).
  bool InTransaction() const;

  /// Asks the server to cancel the running statement. Thread-safe; best effort.
  void Cancel();

 private:
  PgConnection(pg_conn* conn, std::string endpoint);
  Status Error(const pg_result* result, std::string_view what) const {
    return PgStatus(conn_, result, endpoint_, what);
  }
  // The error of a failed PQputCopyData/PQputCopyEnd, the server's own when it sent one.
  Status CopyInFailed(std::string_view what);

  pg_conn* conn_ = nullptr;
  pg_cancel* cancel_ = nullptr;  // created once: PQcancel may then run from any thread
  std::string endpoint_;
  std::string server_encoding_;
};

}  // namespace sluice::connectors::postgres
