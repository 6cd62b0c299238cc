#include "connectors/sqlite/sqlite_client.h"

#include <fmt/core.h>
#include <sqlite3.h>

#include <cerrno>
#include <cstring>

namespace sluice::connectors::sqlite {

namespace {

// Long enough to ride out another connection's commit or checkpoint, short enough that a stuck
// lock surfaces as a transient error the runtime can retry.
constexpr int kBusyTimeoutMillis = 10'000;

}  // namespace

Status SqliteStatus(int code, sqlite3* db, std::string_view what, std::string_view path) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  int system_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
  // `what` says what was being done ("insert into 'orders'"); empty when the path says enough.
  std::string prefix = what.empty() ? std::string() : std::string(what) + ": ";
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Aborted(fmt::format("{}{} (SQLite database '{}' is locked by another connection)",
                                 prefix, detail, path));
    case SQLITE_CANTOPEN: {
      std::string reason = system_errno != 0 ? std::strerror(system_errno) : detail;
      std::string message =
          fmt::format("{}cannot open SQLite database '{}': {}", prefix, path, reason);
      if (system_errno == EACCES || system_errno == EPERM || system_errno == EROFS) {
        return PermissionDenied(std::move(message));
      }
      return NotFound(std::move(message));
    }
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return PermissionDenied(fmt::format("{}{} (SQLite database '{}')", prefix, detail, path));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataError(
          fmt::format("{}'{}' is not a valid SQLite database: {}", prefix, path, detail));
    case SQLITE_FULL:
    case SQLITE_IOERR:
      return IoError(fmt::format("{}{} (SQLite database '{}')", prefix, detail, path));
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return DataError(fmt::format("{}{}", prefix, detail));
    case SQLITE_INTERRUPT:
      return Cancelled(fmt::format("{}{}", prefix, detail));
    case SQLITE_ERROR:
      return InvalidConfig(fmt::format("{}{}", prefix, detail));
    default:
      return Internal(
          fmt::format("{}{} (SQLite code {}, database '{}')", prefix, detail, code, path));
  }
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  for (char c : name) {
    if (c == '"') {
      out.push_back('"');
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string QuoteLiteral(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  for (char c : text) {
    if (c == '\'') {
      out.push_back('\'');
    }
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Result<Connection> Connection::Open(const std::string& path, Mode mode, std::string_view what) {
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |=
      mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  // sqlite3_open_v2 returns a handle even on failure (unless out of memory); it must be closed.
  Connection connection(db, path);
  if (rc != SQLITE_OK) {
    return connection.Error(rc, what);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMillis);
  return connection;
}

Connection::~Connection() {
  Close();
}

Connection::Connection(Connection&& other) noexcept
    : db_(other.db_), path_(std::move(other.path_)) {
  other.db_ = nullptr;
}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    Close();
    db_ = other.db_;
    path_ = std::move(other.path_);
    other.db_ = nullptr;
  }
  return *this;
}

void Connection::Close() {
  if (db_ != nullptr) {
    sqlite3_close_v2(db_);
  }
  db_ = nullptr;
}

bool Connection::read_only() const {
  return sqlite3_db_readonly(db_, "main") == 1;
}

Status Connection::Execute(std::string_view sql, std::string_view what) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return Error(rc, what);
  }
  return Status::OK();
}

Result<Statement> Connection::Prepare(std::string_view sql, std::string_view what,
                                      bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc, what);
  }
  if (stmt == nullptr) {
    return Internal(fmt::format("{}: empty SQL statement", what));
  }
  return Statement(stmt);
}

Result<std::string> Connection::QueryText(std::string_view sql, std::string_view what) {
  SLUICE_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql, what));
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) {
    return std::string();
  }
  if (rc != SQLITE_ROW) {
    return Error(rc, what);
  }
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
  int bytes = sqlite3_column_bytes(stmt.get(), 0);
  return text == nullptr ? std::string() : std::string(text, static_cast<size_t>(bytes));
}

}  // namespace sluice::connectors::sqlite
