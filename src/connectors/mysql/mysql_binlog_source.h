// MysqlBinlogSource (`mode: cdc`): the changes of tables read from the server's binary log as a
// replica would read it, as changelog rows, until the job stops.
//
// Open() checks that the server logs full row images (log_bin, binlog_format ROW,
// binlog_row_image FULL), resolves the tables like the snapshot source (mysql_catalog.h),
// checks that each has a primary key and only columns the binlog can be read for, and reads
// the server's binlog position, where a first run starts (`start_from: current`; `earliest`, the
// oldest binlog kept; or a FILE:POSITION). The whole
// binlog is one split carrying every table's stream in commit order (SplitReader::NextStream);
// its payload holds where the first run started. The reader streams the binlog
// (mysql_binlog_stream.h), follows event groups (MariaDB's GTID event or BEGIN, to XID, COMMIT
// or a DDL statement), maps each TABLE_MAP's columns by name onto the stream's, which are fixed
// at Open for the run (names from the map when the server logs them, binlog_row_metadata FULL,
// else from a schema history: the table's columns known at the event's position, read from the
// catalog again at each DDL statement naming it; a column added is left out, one gone is NULL,
// a key column gone or a type whose values no longer convert stops the job) and turns WRITE, UPDATE and
// DELETE rows into insert, update_before + update_after and delete rows, values converted as
// the snapshot source reads them (mysql_binlog_rows.h).
//
// Positions: {"file", "pos": where the last group whose rows were all returned ends, "gtid": its
// GTID (informational), "txn": {"file", "pos", "events", "rows"}: the group being returned, how
// many of its row events were consumed and how many rows of the next, "columns": {"db.t":
// [[name, COLUMN_TYPE], ...]}: the schema history at "file"/"pos", for the tables whose columns
// differ from Open's, or all when the server logs no names}. A resumed reader restarts the dump
// at "file"/"pos" and skips what "txn" covers, so that a checkpoint taken inside a large
// transaction resumes inside it. The server purges binlogs by its own expiry; nothing is
// acknowledged to it.
//
// Threads: with `decode_threads: 1` (the default) the reader's thread does everything: it reads
// an event, runs the state machine on it and decodes its rows straight into the batch. With N >
// 1, a fetch thread reads the stream ahead into owned copies of the events (up to 8 MB); the
// reader's thread runs the state machine on them in order (groups, table maps, schema history,
// resume skipping) and hands each captured row event, with the table map it was read with, to N
// decode threads that read its row images and convert its values into chunks of rows of the
// stream's schema (at most 8 MB of row events read ahead of the rows returned); the reader's
// thread returns the decoded changes strictly in binlog order, copying them into the batch and
// handing bad ones to the job's policy in their place, and decodes an event itself when no
// decode thread has taken it. The state machine runs ahead of the rows returned, so each step
// it takes carries a copy of its position state, which the reader adopts as it returns the
// step's rows: Position() is exactly what decoding on one thread gives. Errors (of the stream,
// of the state machine, of a row) are returned when the reader gets to them, after the rows
// before them. Cancel() wakes the reader at once; the threads are joined when the reader is
// destroyed.
//
// Thread-safety: as Source; the reader is driven by one thread, Lag and Cancel from any.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "connectors/api.h"
#include "connectors/mysql/mysql_catalog.h"
#include "connectors/mysql/mysql_options.h"

namespace sluice::connectors::mysql {

class Connection;
struct BinlogTable;

/// The binlog split's id is this prefix and the database's name; no table chunk's id starts so
/// (a table name holds no ':' in its split ids' place).
inline constexpr std::string_view kBinlogSplitPrefix = "binlog:";

class MysqlBinlogSource final : public Source {
 public:
  /// `config` is kept to point config errors found at Open (an unknown column) at the job file.
  MysqlBinlogSource(MysqlSourceOptions options, config::Options config);
  ~MysqlBinlogSource() override;

  Status Open(const JobContext& context) override;
  const std::vector<StreamInfo>& streams() const override { return streams_; }
  bool bounded() const override { return false; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() override;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) override;
  void Describe(CheckReport* report) const override;

  uint32_t server_id() const { return server_id_; }
  /// After Open: a split made now starts at `start` instead of the server's position at Open
  /// (snapshot_then_cdc: where the snapshot was taken).
  void StartAt(BinlogCoordinates start) { start_ = std::move(start); }

 private:
  Status CheckServer(Connection& connection);
  Status AddTable(Connection& connection, const std::string& name);
  // start_from earliest or FILE:POSITION: where a split made now starts.
  Status ChooseStart(Connection& connection);

  MysqlSourceOptions options_;
  config::Options config_;
  const JobContext* context_ = nullptr;
  std::string component_;
  uint32_t server_id_ = 0;
  /// Where a split made now starts (the server's position at Open).
  BinlogCoordinates start_;
  std::vector<StreamInfo> streams_;
  std::vector<std::shared_ptr<const BinlogTable>> tables_;  // parallel to streams_
};

}  // namespace sluice::connectors::mysql
