// SQLite client: move-only owners of sqlite3* and sqlite3_stmt*, and the one function that maps
// SQLite result codes to Status.
//
// sqlite3.h stays out of headers: the handles are forward-declared and only the connector's .cc
// files call the C API. A Connection is used by one thread at a time (connections are opened
// with SQLITE_OPEN_NOMUTEX); give each reader and writer its own.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::connectors::sqlite {

/// Maps a SQLite result code (extended codes allowed) from an operation on `db` to a Status whose
/// message is "<what>: <sqlite3_errmsg>" plus the database path where it helps:
///   SQLITE_BUSY, SQLITE_LOCKED      -> Aborted (transient: another connection holds the lock)
///   SQLITE_CANTOPEN                 -> NotFound, or PermissionDenied when the OS said so
///   SQLITE_READONLY, SQLITE_PERM,
///   SQLITE_AUTH                     -> PermissionDenied
///   SQLITE_CORRUPT, SQLITE_NOTADB   -> DataError naming the file
///   SQLITE_FULL, SQLITE_IOERR       -> IoError
///   SQLITE_CONSTRAINT, _MISMATCH,
///   SQLITE_TOOBIG, SQLITE_RANGE     -> DataError (the row does not fit the table)
///   SQLITE_INTERRUPT                -> Cancelled
///   SQLITE_ERROR                    -> InvalidConfig (bad SQL: a `where` filter, a missing table)
///   anything else                   -> Internal
/// `db` may be null (then only the code's generic text is used).
Status SqliteStatus(int code, sqlite3* db, std::string_view what, std::string_view path);

/// Quotes an identifier for SQL text: "name" with embedded quotes doubled.
std::string QuoteIdentifier(std::string_view name);
/// Quotes a string literal: 'text' with embedded quotes doubled.
std::string QuoteLiteral(std::string_view text);

/// Owns one prepared statement; finalizes it on destruction. Move-only.
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

/// Owns one database connection; closes it with sqlite3_close_v2 on destruction (statements
/// still alive keep it as a zombie until they are finalized). Move-only; one thread at a time.
class Connection {
 public:
  enum class Mode {
    kReadOnly,         // SQLITE_OPEN_READONLY: never creates or changes the file
    kReadWriteCreate,  // SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
  };

  /// Opens `path` with extended result codes and a busy timeout, so that a brief lock held by
  /// another connection is waited for instead of failing. `what` prefixes errors.
  static Result<Connection> Open(const std::string& path, Mode mode, std::string_view what);

  Connection() = default;
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }
  /// True when the connection cannot write (read-only mode, or a write-protected file that
  /// SQLite silently opened read-only).
  bool read_only() const;

  /// Runs one or more statements that return no rows we need (DDL, PRAGMA, BEGIN/COMMIT).
  Status Execute(std::string_view sql, std::string_view what);
  /// Prepares one statement (persistent when `persistent`: cached for repeated use).
  Result<Statement> Prepare(std::string_view sql, std::string_view what, bool persistent = false);
  /// Runs `sql` and returns the first column of the first row as text ("" when no row or NULL).
  Result<std::string> QueryText(std::string_view sql, std::string_view what);

  /// Maps `code` from the last call on this connection (see SqliteStatus).
  Status Error(int code, std::string_view what) const {
    return SqliteStatus(code, db_, what, path_);
  }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  void Close();

  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace sluice::connectors::sqlite
