// The messages of PostgreSQL's logical replication output plugin `pgoutput` (protocol version 1,
// text values), as the walsender sends them inside XLogData: Begin, Commit, Relation, Insert,
// Update, Delete, Truncate; the others (Origin, Type, Message) are recognised and skipped.
// https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
//
// Parsing only: no I/O, no allocation per value (values are views into the message, valid while
// its buffer lives). Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice::connectors::postgres {

/// A WAL position (XLogRecPtr), printed as PostgreSQL prints it: "16/B374D848".
using Lsn = uint64_t;
std::string FormatLsn(Lsn lsn);
/// Parses "16/B374D848"; false when `text` is not an LSN.
bool ParseLsn(std::string_view text, Lsn* lsn);

/// Microseconds between the PostgreSQL epoch (2000-01-01) and the Unix epoch.
inline constexpr int64_t kPostgresEpochOffsetUs = 946'684'800'000'000;

struct PgOutputColumn {
  std::string name;
  uint32_t type_oid = 0;
  int32_t typmod = -1;
  bool key = false;  // part of the replica identity
};

/// One value of a tuple.
struct PgOutputValue {
  enum class Kind : char {
    kNull = 'n',
    kUnchangedToast = 'u',  // an unchanged TOASTed value the update did not log
    kText = 't',
    kBinary = 'b',
  };
  Kind kind = Kind::kNull;
  std::string_view data;
};

struct PgOutputMessage {
  enum class Kind : char {
    kBegin = 'B',
    kCommit = 'C',
    kRelation = 'R',
    kInsert = 'I',
    kUpdate = 'U',
    kDelete = 'D',
    kTruncate = 'T',
    kOther = '?',  // Origin, Type, Message, stream control: nothing to do
  };
  Kind kind = Kind::kOther;
  /// Begin: the transaction's commit LSN (final_lsn). Commit: the commit LSN.
  Lsn lsn = 0;
  /// Commit: the end of the commit record (where the next transaction may start).
  Lsn end_lsn = 0;
  /// Begin and Commit: commit time, microseconds since the Unix epoch.
  int64_t commit_time_us = 0;
  uint32_t xid = 0;
  /// Relation, Insert, Update, Delete: the relation's OID.
  uint32_t relation = 0;
  /// Relation.
  std::string schema;
  std::string table;
  char replica_identity = 'd';  // d default, n nothing, f full, i index
  std::vector<PgOutputColumn> columns;
  /// Update and Delete: 'K' (old key columns), 'O' (old row: REPLICA IDENTITY FULL) or 0.
  char old_kind = 0;
  std::vector<PgOutputValue> old_tuple;
  /// Insert and Update: the new row.
  std::vector<PgOutputValue> new_tuple;
  /// Truncate: the relations truncated.
  std::vector<uint32_t> truncated;
};

/// Parses one pgoutput message (the XLogData payload) into `out`, reusing its vectors. A
/// malformed message is Internal, naming the message type and what was missing.
Status ParsePgOutput(std::string_view message, PgOutputMessage* out);

}  // namespace sluice::connectors::postgres
