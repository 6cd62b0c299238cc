// ResultReader: streams the rows of one prepared statement (binary protocol, unbuffered) and
// turns each value into a Column value without going through text: integers and FLOAT/DOUBLE
// arrive as raw binary (bit-exact), dates and times as MYSQL_TIME, DECIMAL as its exact text.
//
// Two ways to get at a row's values, chosen per statement once its result types are known:
//  - Raw (the usual one): the client library hands each value's wire bytes to a callback
//    (STMT_ATTR_CB_RESULT, MariaDB Connector/C 3.1+) and the reader decodes them itself, straight
//    from the packet: strings are copied once, into the batch's arena, and no per-column fetch
//    function runs. Used when every column's wire type is one the reader decodes the way the
//    library would for the bound type, and the library takes the callback.
//  - Bound (anything else): values are fetched into per-column buffers bound once per
//    statement; a value longer than its buffer (a 16 MB LONGBLOB) is fetched a second time
//    straight into the batch's arena at its full length.
// Either way nothing is allocated per value and nothing is cut short. Rows are pulled one at a
// time from the server (mysql_stmt_fetch without mysql_stmt_store_result): memory stays bounded
// whatever the result size.
//
// Thread-safety: one thread at a time, with the statement's connection.
// Lifetime: the reader refers to `columns` and to the statement passed to Start(); both must
// outlive it (or the next Start()).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/mysql/mysql_client.h"
#include "connectors/mysql/mysql_types.h"
#include "core/batch.h"

namespace sluice::connectors::mysql {

class ResultReader {
 public:
  /// `columns[i]` describes result column i. Zero dates follow `zero_dates` (kString columns
  /// already carry ValueKind::kTemporalText).
  ResultReader(std::vector<const SourceColumn*> columns, ZeroDates zero_dates);
  ~ResultReader();
  ResultReader(const ResultReader&) = delete;
  ResultReader& operator=(const ResultReader&) = delete;

  /// Executes the prepared `statement` (whose select list matches the columns) and binds the
  /// result. `what` prefixes errors.
  Status Start(Statement* statement, std::string_view what);
  /// Fetches the next row; false at the end of the result. The previous row's values are gone
  /// once this is called (in raw mode they live in the connection's packet buffer).
  Result<bool> Next();
  /// Stops reading the current result (unread rows are discarded by the statement's close).
  void Finish() { statement_ = nullptr; }

  bool IsNull(size_t column) const;
  /// Appends result column `column` of the current row to `out` (NULL included). On a value the
  /// policy refuses (a zero date under zero_dates: error) appends nothing and returns a data
  /// error "column 'c': zero date '0000-00-00' (...)" for the caller to locate.
  Status Append(size_t column, Column* out);
  /// Appends result columns [0, count) of the current row to the first `count` columns of
  /// `batch`, as Append() would one by one; stops at the first refused value and returns its
  /// error (the caller discards the partial row).
  Status AppendRow(Batch* batch, size_t count);
  /// Appends the canonical text (core/value_text.h) of the non-null value of `column` in the
  /// current row, as used for keys and bad-record locations.
  void AppendText(size_t column, std::string* out);
  /// The value as MySQL would print it, for bad-record raw text (best effort).
  void AppendRawText(size_t column, std::string* out);

  size_t num_columns() const { return columns_.size(); }
  /// True when the current statement is read through the raw callback.
  bool raw() const { return raw_; }
  /// With false, later statements are read through bound buffers only (tests compare the two).
  void set_raw_allowed(bool allowed) { raw_allowed_ = allowed; }

 private:
  struct Slot;
  /// Chooses raw mode for `stmt` when every column's wire type allows it; sets each slot's wire
  /// form.
  bool PlanRaw(st_mysql_stmt* stmt);
  /// The result callback: decodes one value of the current row (or its NULL) into its slot.
  static void OnValue(void* reader, unsigned int column, unsigned char** row);
  Status FetchLong(size_t column, char* destination, unsigned long length);
  std::string_view VariableValue(size_t column);

  std::vector<const SourceColumn*> columns_;
  ZeroDates zero_dates_;
  Statement* statement_ = nullptr;
  std::unique_ptr<Slot[]> slots_;
  struct Binds;
  std::unique_ptr<Binds> binds_;
  std::string what_;
  std::string scratch_;  // reused for formatted values: no allocation per value
  bool raw_ = false;
  bool raw_allowed_ = true;
  size_t values_seen_ = 0;  // raw mode: callbacks during the last fetch
};

}  // namespace sluice::connectors::mysql
