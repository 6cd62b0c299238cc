#include "connectors/postgres/postgres_client.h"

#include <fmt/core.h>
#include <libpq-fe.h>

#include "core/logging.h"

namespace sluice::connectors::postgres {

namespace {

// Session settings that make values unambiguous (see the header). Passed as the `options`
// connection parameter, so they cost no extra round trip.
constexpr const char* kSessionOptions =
    "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 "
    "-c standard_conforming_strings=on";

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The first line of a libpq message, without "ERROR:  " / "FATAL:  " and trailing spaces.
std::string FirstLine(std::string_view message) {
  for (std::string_view prefix : {"ERROR:  ", "FATAL:  "}) {
    if (size_t at = message.find(prefix); at != std::string_view::npos) {
      message = message.substr(at + prefix.size());
      break;
    }
  }
  message = message.substr(0, message.find('\n'));
  while (!message.empty() && (message.back() == ' ' || message.back() == '\r')) {
    message.remove_suffix(1);
  }
  return std::string(message);
}

// libpq's wording when the socket broke under a statement (its messages have no SQLSTATE).
bool LooksLikeLostConnection(std::string_view message) {
  for (std::string_view sign :
       {"server closed the connection unexpectedly", "could not send data to server",
        "could not receive data from server", "no connection to the server",
        "connection to server was lost", "SSL SYSCALL error", "SSL connection has been closed",
        "Connection reset by peer", "Broken pipe", "lost synchronization with server"}) {
    if (Contains(message, sign))
      return true;
  }
  return false;
}

// Server notices ("table does not exist, skipping") go to the debug log, not to stderr.
void LogNotice(void* endpoint, const char* message) {
  log::Debug(*static_cast<const std::string*>(endpoint), "{}", FirstLine(message));
}

// Replaces libpq's "name" quoting with Sluice's 'name' in a server message, so that errors read
// the same whoever produced them.
std::string RequoteNames(std::string text) {
  for (char& c : text) {
    if (c == '"')
      c = '\'';
  }
  return text;
}

// A failed connection attempt has no SQLSTATE to look at (libpq reports it as text), so the
// common causes are recognised by libpq's and the server's stable wording.
Status ConnectError(std::string_view message, const ConnectionOptions& options) {
  const std::string endpoint = options.Describe();
  std::string line = FirstLine(message);
  if (Contains(message, "password authentication failed")) {
    return PermissionDenied(
        fmt::format("{}: password authentication failed for user '{}'", endpoint, options.user));
  }
  if (Contains(message, "no password supplied")) {
    return PermissionDenied(
        fmt::format("{}: the server requires a password for user '{}'", endpoint, options.user));
  }
  if (Contains(message, "database \"") && Contains(message, "does not exist")) {
    return NotFound(fmt::format("{}: database '{}' does not exist", endpoint, options.database));
  }
  if (Contains(message, "role \"") && Contains(message, "does not exist")) {
    return PermissionDenied(fmt::format("{}: role '{}' does not exist", endpoint, options.user));
  }
  if (Contains(message, "permission denied for database")) {
    return PermissionDenied(fmt::format("{}: permission denied for database '{}' (user '{}')",
                                        endpoint, options.database, options.user));
  }
  if (Contains(message, "no pg_hba.conf entry")) {
    return PermissionDenied(fmt::format(
        "{}: the server's pg_hba.conf allows no connection for user '{}' to database '{}'",
        endpoint, options.user, options.database));
  }
  if (Contains(message, "could not translate host name")) {
    return NotFound(fmt::format("{}: unknown host", endpoint));
  }
  if (Contains(message, "Connection refused")) {
    return Unavailable(fmt::format("{}: connection refused", endpoint));
  }
  if (Contains(message, "timeout expired")) {
    return Unavailable(
        fmt::format("{}: no connection within {} s", endpoint, options.connect_timeout_secs));
  }
  return Unavailable(fmt::format("{}: cannot connect: {}", endpoint, RequoteNames(line)));
}

}  // namespace

Status PgStatus(const pg_conn* conn, const pg_result* result, std::string_view endpoint,
                std::string_view what) {
  std::string_view sqlstate;
  std::string message;
  if (result != nullptr) {
    if (const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE))
      sqlstate = state;
    if (const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) {
      message = primary;
    } else {
      message = FirstLine(PQresultErrorMessage(result));
    }
  }
  if (message.empty() && conn != nullptr)
    message = FirstLine(PQerrorMessage(conn));
  if (message.empty())
    message = "unknown error";
  message = RequoteNames(std::move(message));
  std::string text = what.empty() ? fmt::format("{}: {}", endpoint, message)
                                  : fmt::format("{}: {}: {}", endpoint, what, message);
  auto starts = [&](std::string_view prefix) {
    return sqlstate.substr(0, prefix.size()) == prefix;
  };
  if (sqlstate.empty() && conn != nullptr) {
    // The server's FATAL message may or may not have made it before the socket closed; when it
    // did, libpq keeps it in the connection's message rather than in a result.
    if (Contains(PQerrorMessage(conn), "terminating connection due to administrator command")) {
      sqlstate = "57P01";
      message = "terminating connection due to administrator command";
    }
  }
  if (sqlstate.empty()) {
    // libpq's own errors carry no SQLSTATE. A lost connection must read as transient even
    // before libpq marks the handle bad (a failed send is noticed before the EOF is read).
    const bool lost = (conn != nullptr && PQstatus(conn) == CONNECTION_BAD) ||
                      LooksLikeLostConnection(message) ||
                      (conn != nullptr && LooksLikeLostConnection(PQerrorMessage(conn)));
    if (lost) {
      return Unavailable(what.empty()
                             ? fmt::format("{}: connection lost: {}", endpoint, message)
                             : fmt::format("{}: {}: connection lost: {}", endpoint, what, message));
    }
    return Internal(std::move(text));
  }
  if (sqlstate == "28P01" || sqlstate == "28000" || sqlstate == "42501") {
    return PermissionDenied(std::move(text));
  }
  if (sqlstate == "3D000" || sqlstate == "42P01" || sqlstate == "3F000") {
    return NotFound(std::move(text));
  }
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") {
    return Unavailable(
        what.empty()
            ? fmt::format("{}: server ended the session: {}", endpoint, message)
            : fmt::format("{}: {}: server ended the session: {}", endpoint, what, message));
  }
  if (sqlstate == "57014")
    return Cancelled(std::move(text));
  if (starts("08") || starts("53"))
    return Unavailable(std::move(text));
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return Aborted(std::move(text));
  }
  if (starts("22") || starts("23"))
    return DataError(std::move(text));
  if (starts("42"))
    return InvalidConfig(std::move(text));
  return Internal(std::move(text));
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  for (char c : name) {
    if (c == '"')
      out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string QuoteQualified(std::string_view schema, std::string_view table) {
  return QuoteIdentifier(schema) + "." + QuoteIdentifier(table);
}

std::string QuoteLiteral(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  for (char c : text) {
    if (c == '\'')
      out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// --- PgResult --------------------------------------------------------------------------------

PgResult::~PgResult() {
  if (result_ != nullptr)
    PQclear(result_);
}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr)
      PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

int PgResult::rows() const {
  return result_ ? PQntuples(result_) : 0;
}
int PgResult::columns() const {
  return result_ ? PQnfields(result_) : 0;
}
bool PgResult::IsNull(int row, int column) const {
  return PQgetisnull(result_, row, column) != 0;
}
std::string_view PgResult::Value(int row, int column) const {
  return {PQgetvalue(result_, row, column), static_cast<size_t>(PQgetlength(result_, row, column))};
}

uint32_t PgResult::ColumnType(int column) const {
  return PQftype(result_, column);
}
int PgResult::ColumnTypmod(int column) const {
  return PQfmod(result_, column);
}

// --- PgConnection ----------------------------------------------------------------------------

PgConnection::PgConnection(pg_conn* conn, std::string endpoint)
    : conn_(conn), cancel_(PQgetCancel(conn)), endpoint_(std::move(endpoint)) {
  PQsetNoticeProcessor(conn_, LogNotice, &endpoint_);
  if (const char* encoding = PQparameterStatus(conn_, "server_encoding")) {
    server_encoding_ = encoding;
  }
}

PgConnection::~PgConnection() {
  if (cancel_ != nullptr)
    PQfreeCancel(cancel_);
  if (conn_ != nullptr)
    PQfinish(conn_);
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const ConnectionOptions& options,
                                                            bool replication) {
  std::string port = std::to_string(options.port);
  std::string timeout = std::to_string(options.connect_timeout_secs);
  // Keywords and values separately (expand_dbname = 0): a database name is never parsed as a
  // connection string, and no string holding the password is ever built.
  std::vector<const char*> keywords = {"host",
                                       "port",
                                       "user",
                                       "dbname",
                                       "connect_timeout",
                                       "client_encoding",
                                       "options",
                                       "application_name"};
  std::vector<const char*> values = {
      options.host.c_str(), port.c_str(), options.user.c_str(), options.database.c_str(),
      timeout.c_str(),      "UTF8",       kSessionOptions,      "sluice"};
  if (replication) {
    keywords.push_back("replication");
    values.push_back("database");
  }
  if (!options.password.empty()) {
    keywords.push_back("password");
    values.push_back(options.password.Reveal().c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  pg_conn* conn = PQconnectdbParams(keywords.data(), values.data(), 0);
  if (conn == nullptr)
    return Internal(fmt::format("{}: out of memory", options.Describe()));
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq hands back a handle even when connecting failed; it must still be freed.
    Status status = ConnectError(PQerrorMessage(conn), options);
    PQfinish(conn);
    return status;
  }
  auto connection = std::unique_ptr<PgConnection>(new PgConnection(conn, options.Describe()));
  if (connection->server_encoding() == "SQL_ASCII") {
    // SQL_ASCII stores any bytes; converting them to UTF8 on the server fails a whole COPY at
    // the first invalid byte. Take them raw instead and validate value by value, so that a bad
    // value is one bad record.
    SLUICE_RETURN_IF_ERROR(
        connection->Execute("SET client_encoding TO 'SQL_ASCII'", "cannot set client_encoding"));
  }
  return connection;
}

int PgConnection::server_version() const {
  return PQserverVersion(conn_);
}

Status PgConnection::Execute(std::string_view sql, std::string_view what,
                             const std::vector<std::optional<std::string>>& params) {
  std::string text(sql);
  PgResult result;
  if (params.empty()) {
    result = PgResult(PQexec(conn_, text.c_str()));
  } else {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& param : params)
      values.push_back(param ? param->c_str() : nullptr);
    result = PgResult(PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                                   values.data(), nullptr, nullptr, 0));
  }
  ExecStatusType status = result.get() ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    return Error(result.get(), what);
  return Status::OK();
}

Status PgConnection::Commit(std::string_view what) {
  PgResult result(PQexec(conn_, "COMMIT"));
  if (!result.get() || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return Error(result.get(), what);
  }
  // COMMIT of a transaction that already failed succeeds with the tag ROLLBACK: nothing was
  // made durable, and the caller must not believe otherwise.
  if (std::string_view(PQcmdStatus(result.get())) != "COMMIT") {
    return Aborted(
        fmt::format("{}: {}: the transaction had failed and was rolled back", endpoint_, what));
  }
  return Status::OK();
}

Result<PgResult> PgConnection::Query(std::string_view sql, std::string_view what,
                                     const std::vector<std::optional<std::string>>& params) {
  std::string text(sql);
  PgResult result;
  if (params.empty()) {
    result = PgResult(PQexec(conn_, text.c_str()));
  } else {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& param : params)
      values.push_back(param ? param->c_str() : nullptr);
    result = PgResult(PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                                   values.data(), nullptr, nullptr, 0));
  }
  if (!result.get() || PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return Error(result.get(), what);
  }
  return result;
}

Status PgConnection::StartCopyOut(std::string_view sql, std::string_view what) {
  std::string text(sql);
  PgResult result(PQexec(conn_, text.c_str()));
  if (!result.get() || PQresultStatus(result.get()) != PGRES_COPY_OUT) {
    return Error(result.get(), what);
  }
  return Status::OK();
}

Result<int> PgConnection::GetCopyData(char** data, std::string_view what) {
  int size = PQgetCopyData(conn_, data, 0);
  if (size > 0)
    return size;
  // -1: the COPY ended (successfully or not: the final result says); -2: a failure.
  Status status;
  while (PGresult* raw = PQgetResult(conn_)) {
    PgResult result(raw);
    if (status.ok() && PQresultStatus(raw) != PGRES_COMMAND_OK)
      status = Error(raw, what);
  }
  if (status.ok() && size == -2)
    status = Error(nullptr, what);
  if (!status.ok())
    return status;
  return 0;
}

void PgConnection::FreeCopyData(char* data) {
  PQfreemem(data);
}

void PgConnection::AbandonCopyOut(bool cancel) {
  if (cancel)
    Cancel();
  char* data = nullptr;
  int size;
  while ((size = PQgetCopyData(conn_, &data, 0)) > 0)
    PQfreemem(data);
  while (PGresult* raw = PQgetResult(conn_))
    PQclear(raw);
}

Status PgConnection::StartCopyIn(std::string_view sql, std::string_view what) {
  std::string text(sql);
  PgResult result(PQexec(conn_, text.c_str()));
  if (!result.get() || PQresultStatus(result.get()) != PGRES_COPY_IN) {
    return Error(result.get(), what);
  }
  return Status::OK();
}

Status PgConnection::CopyInFailed(std::string_view what) {
  // The server may have ended the COPY (or the session) with an error of its own, e.g. 57P01
  // from pg_terminate_backend: report that rather than libpq's "no COPY in progress", so that
  // it is classified by its SQLSTATE.
  Status status;
  if (PQstatus(conn_) == CONNECTION_OK)
    (void)PQconsumeInput(conn_);
  if (!PQisBusy(conn_) || PQstatus(conn_) == CONNECTION_BAD) {
    while (PGresult* raw = PQgetResult(conn_)) {
      PgResult result(raw);
      if (status.ok() && PQresultStatus(raw) == PGRES_FATAL_ERROR)
        status = Error(raw, what);
      if (PQresultStatus(raw) == PGRES_COPY_IN)
        break;  // still copying: nothing more to learn
    }
  }
  return status.ok() ? Error(nullptr, what) : status;
}

Status PgConnection::PutCopyData(const char* data, size_t size, std::string_view what) {
  // Blocking mode: PQputCopyData returns once libpq has queued (and if need be sent) the data.
  while (size > 0) {
    int chunk = static_cast<int>(std::min<size_t>(size, 1u << 30));
    if (PQputCopyData(conn_, data, chunk) != 1)
      return CopyInFailed(what);
    data += chunk;
    size -= static_cast<size_t>(chunk);
  }
  return Status::OK();
}

Status PgConnection::EndCopyIn(std::string_view what, const char* error) {
  if (PQputCopyEnd(conn_, error) != 1)
    return CopyInFailed(what);
  Status status;
  while (PGresult* raw = PQgetResult(conn_)) {
    PgResult result(raw);
    if (status.ok() && PQresultStatus(raw) != PGRES_COMMAND_OK)
      status = Error(raw, what);
  }
  return status;
}

bool PgConnection::Healthy() const {
  if (PQstatus(conn_) != CONNECTION_OK)
    return false;
  PGTransactionStatusType state = PQtransactionStatus(conn_);
  return state == PQTRANS_IDLE || state == PQTRANS_INTRANS;
}

bool PgConnection::Broken() const {
  return PQstatus(conn_) == CONNECTION_BAD;
}

bool PgConnection::CheckIdle() {
  if (PQstatus(conn_) != CONNECTION_OK)
    return false;
  // libpq's socket is non-blocking: PQconsumeInput reads what is there and returns. An EOF or a
  // FATAL message marks the connection bad.
  if (PQtransactionStatus(conn_) == PQTRANS_IDLE && PQconsumeInput(conn_) == 0)
    return false;
  return PQstatus(conn_) == CONNECTION_OK;
}

bool PgConnection::InTransaction() const {
  PGTransactionStatusType state = PQtransactionStatus(conn_);
  return state == PQTRANS_INTRANS || state == PQTRANS_INERROR || state == PQTRANS_ACTIVE;
}

void PgConnection::Cancel() {
  if (cancel_ == nullptr)
    return;
  char error[256];
  (void)PQcancel(cancel_, error, sizeof(error));
}

}  // namespace sluice::connectors::postgres
