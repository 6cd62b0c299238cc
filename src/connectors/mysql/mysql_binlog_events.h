// The events of MySQL's and MariaDB's binary log that change data capture reads, parsed from
// their documented byte layout (https://dev.mysql.com/doc/dev/mysql-server/latest/
// page_protocol_replication_binlog_event.html, https://mariadb.com/kb/en/replication-protocol/):
// the common header; FORMAT_DESCRIPTION (checksums, post-header lengths); ROTATE; the group
// markers (MariaDB's GTID, MySQL's GTID and ANONYMOUS_GTID, QUERY "BEGIN"/"COMMIT"/DDL, XID);
// TABLE_MAP with its optional metadata (column names under binlog_row_metadata=FULL); and the
// WRITE/UPDATE/DELETE_ROWS events (version 1, MariaDB's, and version 2, MySQL's) up to their row
// images, which mysql_binlog_rows.h reads.
//
// Parsing only: no I/O, integers little-endian as the binlog stores them. Views point into the
// event's bytes and live as long as they do. A truncated or malformed event is Internal naming
// the event type and what was missing. Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice::connectors::mysql::binlog {

/// Event type codes (MySQL's numbers; MariaDB's from 160).
inline constexpr uint8_t kQueryEvent = 2;
inline constexpr uint8_t kStopEvent = 3;
inline constexpr uint8_t kRotateEvent = 4;
inline constexpr uint8_t kFormatDescriptionEvent = 15;
inline constexpr uint8_t kXidEvent = 16;
inline constexpr uint8_t kTableMapEvent = 19;
inline constexpr uint8_t kWriteRowsEventV1 = 23;
inline constexpr uint8_t kUpdateRowsEventV1 = 24;
inline constexpr uint8_t kDeleteRowsEventV1 = 25;
inline constexpr uint8_t kHeartbeatEvent = 27;
inline constexpr uint8_t kWriteRowsEvent = 30;
inline constexpr uint8_t kUpdateRowsEvent = 31;
inline constexpr uint8_t kDeleteRowsEvent = 32;
inline constexpr uint8_t kGtidEvent = 33;
inline constexpr uint8_t kAnonymousGtidEvent = 34;
inline constexpr uint8_t kXaPrepareEvent = 38;
inline constexpr uint8_t kPartialUpdateRowsEvent = 39;
inline constexpr uint8_t kTransactionPayloadEvent = 40;
inline constexpr uint8_t kMariaGtidEvent = 162;
inline constexpr uint8_t kMariaQueryCompressedEvent = 165;
inline constexpr uint8_t kMariaWriteRowsCompressedEventV1 = 166;
inline constexpr uint8_t kMariaDeleteRowsCompressedEvent = 171;

/// Header flag of events the server made up for the stream (the first ROTATE, a re-sent
/// FORMAT_DESCRIPTION): they are in no file at their position.
inline constexpr uint16_t kArtificialFlag = 0x20;
/// ROWS event flag: the last event of its statement.
inline constexpr uint16_t kStatementEndFlag = 0x01;

/// The 19-byte header every event starts with.
inline constexpr size_t kHeaderSize = 19;

struct EventHeader {
  uint32_t timestamp = 0;  // seconds since the Unix epoch
  uint8_t type = 0;
  uint32_t server_id = 0;
  uint32_t length = 0;  // the whole event, header and checksum included
  /// Where the next event starts in the file: this event's end. 0 for artificial events.
  uint32_t next_position = 0;
  uint16_t flags = 0;

  /// The event's own position in its file (0 for artificial events).
  uint32_t position() const { return next_position >= length ? next_position - length : 0; }
};

/// An event split into its header and its body, without the checksum.
struct Event {
  EventHeader header;
  std::string_view body;
};

/// Splits one event (as the server sends it, after the packet's OK byte). With `checksum`, its
/// last 4 bytes are a CRC32, left out of the body.
Status ParseEvent(std::string_view bytes, bool checksum, Event* out);

/// "TABLE_MAP", "WRITE_ROWS", ... or the number, for messages.
std::string EventTypeName(uint8_t type);

/// What FORMAT_DESCRIPTION says about the events after it.
struct Format {
  /// Events end in a CRC32 (binlog_checksum = CRC32).
  bool checksum = false;
  std::string server_version;
  /// Post-header length of each event type, indexed by type - 1.
  std::string post_header_lengths;

  /// The post-header length of `type`, or `otherwise` when the server did not say.
  uint8_t PostHeaderLength(uint8_t type, uint8_t otherwise) const;
};

/// FORMAT_DESCRIPTION of a checksum-aware server (MySQL 5.6.1+, MariaDB 5.3+): the algorithm
/// byte sits just before the 4 checksum bytes, which it always carries.
Status ParseFormatDescription(std::string_view bytes, Format* out);

struct RotateEvent {
  uint64_t position = 0;
  std::string_view file;
};
Status ParseRotate(const Event& event, RotateEvent* out);

/// The start of an event group: MariaDB's GTID event, or MySQL's GTID / ANONYMOUS_GTID.
struct GtidEvent {
  /// MariaDB "domain-server-sequence", MySQL "source_uuid:transaction_number"; "" when anonymous.
  std::string gtid;
  /// MariaDB: a group without a COMMIT of its own (DDL): the next QUERY ends it.
  bool standalone = false;
};
Status ParseMariaGtid(const Event& event, GtidEvent* out);
Status ParseMysqlGtid(const Event& event, GtidEvent* out);

struct QueryEvent {
  std::string_view database;
  std::string_view statement;
};
Status ParseQuery(const Event& event, const Format& format, QueryEvent* out);

/// A column as TABLE_MAP describes it: its binlog type (a STRING column's real type, ENUM or SET,
/// resolved) and what its metadata says.
struct ColumnType {
  uint8_t type = 0;
  /// STRING, VARCHAR: maximum length in bytes. BLOB, GEOMETRY, JSON: bytes of the length
  /// prefix. ENUM, SET, FLOAT, DOUBLE: bytes of the value.
  uint32_t length = 0;
  /// NEWDECIMAL.
  uint8_t precision = 0;
  uint8_t scale = 0;
  /// TIMESTAMP2, DATETIME2, TIME2: fractional digits.
  uint8_t fsp = 0;
  /// BIT: bits.
  uint32_t bits = 0;

  friend bool operator==(const ColumnType&, const ColumnType&) = default;
};

/// MySQL's column type codes (enum_field_types) as they appear in TABLE_MAP.
namespace field {
inline constexpr uint8_t kDecimal = 0;
inline constexpr uint8_t kTiny = 1;
inline constexpr uint8_t kShort = 2;
inline constexpr uint8_t kLong = 3;
inline constexpr uint8_t kFloat = 4;
inline constexpr uint8_t kDouble = 5;
inline constexpr uint8_t kNull = 6;
inline constexpr uint8_t kTimestamp = 7;
inline constexpr uint8_t kLongLong = 8;
inline constexpr uint8_t kInt24 = 9;
inline constexpr uint8_t kDate = 10;
inline constexpr uint8_t kTime = 11;
inline constexpr uint8_t kDateTime = 12;
inline constexpr uint8_t kYear = 13;
inline constexpr uint8_t kNewDate = 14;
inline constexpr uint8_t kVarchar = 15;
inline constexpr uint8_t kBit = 16;
inline constexpr uint8_t kTimestamp2 = 17;
inline constexpr uint8_t kDateTime2 = 18;
inline constexpr uint8_t kTime2 = 19;
inline constexpr uint8_t kJson = 245;
inline constexpr uint8_t kNewDecimal = 246;
inline constexpr uint8_t kEnum = 247;
inline constexpr uint8_t kSet = 248;
inline constexpr uint8_t kTinyBlob = 249;
inline constexpr uint8_t kMediumBlob = 250;
inline constexpr uint8_t kLongBlob = 251;
inline constexpr uint8_t kBlob = 252;
inline constexpr uint8_t kVarString = 253;
inline constexpr uint8_t kString = 254;
inline constexpr uint8_t kGeometry = 255;
}  // namespace field

/// "varchar", "datetime2", ... or the number, for messages.
std::string FieldTypeName(uint8_t type);

struct TableMapEvent {
  uint64_t table_id = 0;
  std::string database;
  std::string table;
  std::vector<ColumnType> columns;
  /// The column names when the server logs them (binlog_row_metadata = FULL); else empty.
  std::vector<std::string> names;
};
Status ParseTableMap(const Event& event, const Format& format, TableMapEvent* out);

struct RowsEvent {
  enum class Kind { kWrite, kUpdate, kDelete };
  Kind kind = Kind::kWrite;
  uint64_t table_id = 0;
  uint16_t flags = 0;
  uint32_t column_count = 0;
  /// Bitmap of the columns the (before) image carries.
  std::string_view present;
  /// UPDATE: bitmap of the columns the after image carries.
  std::string_view present_after;
  /// The row images, one after the other (UPDATE: before, after, before, after, ...).
  std::string_view rows;
};
/// WRITE/UPDATE/DELETE_ROWS, versions 1 and 2. MariaDB's compressed row events and MySQL's
/// partial JSON updates are Unsupported, saying which server setting makes them.
Status ParseRowsEvent(const Event& event, const Format& format, RowsEvent* out);

/// True for the row events ParseRowsEvent reads, and for the row events it refuses.
bool IsRowsEvent(uint8_t type);

/// Reads a length-encoded integer at `*at` of `bytes`, moving `*at` past it; false when the
/// bytes end first.
bool ReadLengthEncoded(std::string_view bytes, size_t* at, uint64_t* value);

/// Little-endian unsigned integer of `size` (1..8) bytes at `data`.
uint64_t ReadLittleEndian(const char* data, size_t size);

}  // namespace sluice::connectors::mysql::binlog
