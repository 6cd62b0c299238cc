#include "connectors/mysql/mysql_binlog_events.h"

#include <fmt/core.h>

namespace sluice::connectors::mysql::binlog {

namespace {

// Reads the body of one event front to back; every read says what it wanted when the body ends
// first.
class Reader {
 public:
  Reader(std::string_view bytes, uint8_t type) : bytes_(bytes), type_(type) {}

  size_t offset() const { return at_; }
  size_t left() const { return bytes_.size() - at_; }
  std::string_view rest() const { return bytes_.substr(at_); }

  Status Take(size_t size, std::string_view what, std::string_view* out) {
    if (left() < size)
      return Truncated(what);
    *out = bytes_.substr(at_, size);
    at_ += size;
    return Status::OK();
  }
  Status Skip(size_t size, std::string_view what) {
    std::string_view ignored;
    return Take(size, what, &ignored);
  }
  template <typename T>
  Status Int(size_t size, std::string_view what, T* out) {
    std::string_view bytes;
    SLUICE_RETURN_IF_ERROR(Take(size, what, &bytes));
    *out = static_cast<T>(ReadLittleEndian(bytes.data(), size));
    return Status::OK();
  }
  Status LengthEncoded(std::string_view what, uint64_t* out) {
    if (!ReadLengthEncoded(bytes_, &at_, out))
      return Truncated(what);
    return Status::OK();
  }
  Status Truncated(std::string_view what) const {
    return Internal(fmt::format("binlog event {} is truncated: {} missing at byte {} of {}",
                                EventTypeName(type_), what, at_, bytes_.size()));
  }

 private:
  std::string_view bytes_;
  uint8_t type_;
  size_t at_ = 0;
};

}  // namespace

uint64_t ReadLittleEndian(const char* data, size_t size) {
  uint64_t value = 0;
  for (size_t i = size; i > 0; --i)
    value = (value << 8) | static_cast<unsigned char>(data[i - 1]);
  return value;
}

bool ReadLengthEncoded(std::string_view bytes, size_t* at, uint64_t* value) {
  if (*at >= bytes.size())
    return false;
  auto first = static_cast<unsigned char>(bytes[*at]);
  size_t size = first < 251 ? 0 : first == 252 ? 2 : first == 253 ? 3 : first == 254 ? 8 : 0;
  if (first == 251 || first == 255)
    return false;  // NULL and an error marker: no length here
  if (bytes.size() - *at - 1 < size)
    return false;
  *value = size == 0 ? first : ReadLittleEndian(bytes.data() + *at + 1, size);
  *at += 1 + size;
  return true;
}

std::string EventTypeName(uint8_t type) {
  switch (type) {
    case kQueryEvent:
      return "QUERY";
    case kStopEvent:
      return "STOP";
    case kRotateEvent:
      return "ROTATE";
    case kFormatDescriptionEvent:
      return "FORMAT_DESCRIPTION";
    case kXidEvent:
      return "XID";
    case kTableMapEvent:
      return "TABLE_MAP";
    case kWriteRowsEventV1:
    case kWriteRowsEvent:
      return "WRITE_ROWS";
    case kUpdateRowsEventV1:
    case kUpdateRowsEvent:
      return "UPDATE_ROWS";
    case kDeleteRowsEventV1:
    case kDeleteRowsEvent:
      return "DELETE_ROWS";
    case kHeartbeatEvent:
      return "HEARTBEAT";
    case kGtidEvent:
      return "GTID";
    case kAnonymousGtidEvent:
      return "ANONYMOUS_GTID";
    case kXaPrepareEvent:
      return "XA_PREPARE";
    case kPartialUpdateRowsEvent:
      return "PARTIAL_UPDATE_ROWS";
    case kTransactionPayloadEvent:
      return "TRANSACTION_PAYLOAD";
    case kMariaGtidEvent:
      return "GTID (MariaDB)";
    case kMariaQueryCompressedEvent:
      return "QUERY_COMPRESSED";
    default:
      if (type >= kMariaWriteRowsCompressedEventV1 && type <= kMariaDeleteRowsCompressedEvent)
        return "ROWS_COMPRESSED";
      return fmt::format("type {}", type);
  }
}

Status ParseEvent(std::string_view bytes, bool checksum, Event* out) {
  if (bytes.size() < kHeaderSize + (checksum ? 4 : 0)) {
    return Internal(
        fmt::format("binlog event of {} bytes is shorter than its header", bytes.size()));
  }
  EventHeader& header = out->header;
  const char* p = bytes.data();
  header.timestamp = static_cast<uint32_t>(ReadLittleEndian(p, 4));
  header.type = static_cast<uint8_t>(p[4]);
  header.server_id = static_cast<uint32_t>(ReadLittleEndian(p + 5, 4));
  header.length = static_cast<uint32_t>(ReadLittleEndian(p + 9, 4));
  header.next_position = static_cast<uint32_t>(ReadLittleEndian(p + 13, 4));
  header.flags = static_cast<uint16_t>(ReadLittleEndian(p + 17, 2));
  if (header.length != bytes.size()) {
    return Internal(fmt::format("binlog event {} says it has {} bytes, the packet holds {}",
                                EventTypeName(header.type), header.length, bytes.size()));
  }
  out->body = bytes.substr(kHeaderSize, bytes.size() - kHeaderSize - (checksum ? 4 : 0));
  return Status::OK();
}

uint8_t Format::PostHeaderLength(uint8_t type, uint8_t otherwise) const {
  if (type == 0 || type > post_header_lengths.size())
    return otherwise;
  return static_cast<uint8_t>(post_header_lengths[type - 1]);
}

Status ParseFormatDescription(std::string_view bytes, Format* out) {
  // Body: binlog version (2), server version (50), create time (4), header length (1),
  // post-header lengths (one per type), checksum algorithm (1), checksum (4).
  constexpr size_t kFixed = 2 + 50 + 4 + 1;
  if (bytes.size() < kHeaderSize + kFixed + 5)
    return Internal(fmt::format("binlog event FORMAT_DESCRIPTION of {} bytes is truncated",
                                bytes.size()));
  std::string_view body = bytes.substr(kHeaderSize);
  uint16_t version = static_cast<uint16_t>(ReadLittleEndian(body.data(), 2));
  if (version != 4)
    return Unsupported(fmt::format("binlog format version {} (only version 4 is read)", version));
  std::string_view server = body.substr(2, 50);
  out->server_version.assign(server.substr(0, server.find('\0')));
  uint8_t header_length = static_cast<uint8_t>(body[2 + 50 + 4]);
  if (header_length != kHeaderSize)
    return Unsupported(
        fmt::format("binlog event headers of {} bytes (19 expected)", header_length));
  uint8_t algorithm = static_cast<uint8_t>(bytes[bytes.size() - 5]);
  if (algorithm != 0 && algorithm != 1) {
    return Unsupported(fmt::format("binlog checksum algorithm {} (NONE or CRC32 expected)",
                                   algorithm));
  }
  out->checksum = algorithm == 1;
  out->post_header_lengths.assign(body.substr(kFixed, body.size() - kFixed - 5));
  return Status::OK();
}

Status ParseRotate(const Event& event, RotateEvent* out) {
  Reader reader(event.body, kRotateEvent);
  SLUICE_RETURN_IF_ERROR(reader.Int(8, "the position", &out->position));
  out->file = reader.rest();
  if (out->file.empty())
    return reader.Truncated("the file name");
  return Status::OK();
}

Status ParseMariaGtid(const Event& event, GtidEvent* out) {
  // sequence number (8), domain id (4), flags (1), then what the flags announce.
  Reader reader(event.body, kMariaGtidEvent);
  uint64_t sequence = 0;
  uint32_t domain = 0;
  uint8_t flags = 0;
  SLUICE_RETURN_IF_ERROR(reader.Int(8, "the sequence number", &sequence));
  SLUICE_RETURN_IF_ERROR(reader.Int(4, "the domain id", &domain));
  SLUICE_RETURN_IF_ERROR(reader.Int(1, "the flags", &flags));
  out->gtid = fmt::format("{}-{}-{}", domain, event.header.server_id, sequence);
  out->standalone = (flags & 0x01) != 0;  // FL_STANDALONE
  return Status::OK();
}

Status ParseMysqlGtid(const Event& event, GtidEvent* out) {
  // flags (1), source UUID (16), transaction number (8), then logical clocks and more.
  Reader reader(event.body, event.header.type);
  std::string_view uuid;
  uint64_t number = 0;
  SLUICE_RETURN_IF_ERROR(reader.Skip(1, "the flags"));
  SLUICE_RETURN_IF_ERROR(reader.Take(16, "the source UUID", &uuid));
  SLUICE_RETURN_IF_ERROR(reader.Int(8, "the transaction number", &number));
  out->standalone = false;
  if (event.header.type == kAnonymousGtidEvent) {
    out->gtid.clear();
    return Status::OK();
  }
  constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      text += '-';
    auto byte = static_cast<unsigned char>(uuid[i]);
    text += kHex[byte >> 4];
    text += kHex[byte & 15];
  }
  out->gtid = fmt::format("{}:{}", text, number);
  return Status::OK();
}

Status ParseQuery(const Event& event, const Format& format, QueryEvent* out) {
  // Post-header: thread id (4), execution time (4), database name length (1), error code (2),
  // status variables length (2); then the status variables, the database name and a NUL, and the
  // statement.
  Reader reader(event.body, kQueryEvent);
  uint8_t database_length = 0;
  uint16_t status_length = 0;
  uint8_t post_header = format.PostHeaderLength(kQueryEvent, 13);
  SLUICE_RETURN_IF_ERROR(reader.Skip(8, "the thread id and execution time"));
  SLUICE_RETURN_IF_ERROR(reader.Int(1, "the database name length", &database_length));
  SLUICE_RETURN_IF_ERROR(reader.Skip(2, "the error code"));
  SLUICE_RETURN_IF_ERROR(reader.Int(2, "the status variables length", &status_length));
  if (post_header > 13)
    SLUICE_RETURN_IF_ERROR(reader.Skip(post_header - 13u, "the post-header"));
  SLUICE_RETURN_IF_ERROR(reader.Skip(status_length, "the status variables"));
  SLUICE_RETURN_IF_ERROR(reader.Take(database_length, "the database name", &out->database));
  SLUICE_RETURN_IF_ERROR(reader.Skip(1, "the database name's NUL"));
  out->statement = reader.rest();
  return Status::OK();
}

std::string FieldTypeName(uint8_t type) {
  switch (type) {
    case field::kDecimal:
      return "decimal (old)";
    case field::kTiny:
      return "tiny";
    case field::kShort:
      return "short";
    case field::kLong:
      return "long";
    case field::kFloat:
      return "float";
    case field::kDouble:
      return "double";
    case field::kNull:
      return "null";
    case field::kTimestamp:
      return "timestamp";
    case field::kLongLong:
      return "longlong";
    case field::kInt24:
      return "int24";
    case field::kDate:
      return "date";
    case field::kTime:
      return "time";
    case field::kDateTime:
      return "datetime";
    case field::kYear:
      return "year";
    case field::kNewDate:
      return "newdate";
    case field::kVarchar:
      return "varchar";
    case field::kBit:
      return "bit";
    case field::kTimestamp2:
      return "timestamp2";
    case field::kDateTime2:
      return "datetime2";
    case field::kTime2:
      return "time2";
    case field::kJson:
      return "json";
    case field::kNewDecimal:
      return "newdecimal";
    case field::kEnum:
      return "enum";
    case field::kSet:
      return "set";
    case field::kTinyBlob:
    case field::kMediumBlob:
    case field::kLongBlob:
    case field::kBlob:
      return "blob";
    case field::kVarString:
      return "var_string";
    case field::kString:
      return "string";
    case field::kGeometry:
      return "geometry";
    default:
      return fmt::format("type {}", type);
  }
}

Status ParseTableMap(const Event& event, const Format& format, TableMapEvent* out) {
  // Post-header: table id (6, or 4 when the post-header is 6 bytes), flags (2). Body: database
  // name (length byte, name, NUL), table name (likewise), column count (length-encoded), column
  // types (one byte each), metadata (length-encoded size, then each column's), NULL bitmap, then
  // optional metadata as (type, length-encoded size, value) fields.
  Reader reader(event.body, kTableMapEvent);
  size_t id_size = format.PostHeaderLength(kTableMapEvent, 8) == 6 ? 4 : 6;
  uint8_t name_length = 0;
  std::string_view name;
  uint64_t count = 0;
  std::string_view types;
  uint64_t metadata_size = 0;
  std::string_view metadata;
  SLUICE_RETURN_IF_ERROR(reader.Int(id_size, "the table id", &out->table_id));
  SLUICE_RETURN_IF_ERROR(reader.Skip(2, "the flags"));
  SLUICE_RETURN_IF_ERROR(reader.Int(1, "the database name length", &name_length));
  SLUICE_RETURN_IF_ERROR(reader.Take(name_length, "the database name", &name));
  out->database.assign(name);
  SLUICE_RETURN_IF_ERROR(reader.Skip(1, "the database name's NUL"));
  SLUICE_RETURN_IF_ERROR(reader.Int(1, "the table name length", &name_length));
  SLUICE_RETURN_IF_ERROR(reader.Take(name_length, "the table name", &name));
  out->table.assign(name);
  SLUICE_RETURN_IF_ERROR(reader.Skip(1, "the table name's NUL"));
  SLUICE_RETURN_IF_ERROR(reader.LengthEncoded("the column count", &count));
  SLUICE_RETURN_IF_ERROR(reader.Take(count, "the column types", &types));
  SLUICE_RETURN_IF_ERROR(reader.LengthEncoded("the metadata size", &metadata_size));
  SLUICE_RETURN_IF_ERROR(reader.Take(metadata_size, "the metadata", &metadata));
  SLUICE_RETURN_IF_ERROR(reader.Skip((count + 7) / 8, "the NULL bitmap"));

  out->columns.assign(count, ColumnType());
  size_t at = 0;
  auto meta = [&](size_t size, std::string_view* bytes) -> Status {
    if (metadata.size() - at < size) {
      return Internal(fmt::format("binlog event TABLE_MAP of {}.{} is truncated: the column "
                                  "metadata ends early",
                                  out->database, out->table));
    }
    *bytes = metadata.substr(at, size);
    at += size;
    return Status::OK();
  };
  for (size_t c = 0; c < count; ++c) {
    ColumnType& column = out->columns[c];
    column.type = static_cast<uint8_t>(types[c]);
    std::string_view bytes;
    switch (column.type) {
      case field::kFloat:
      case field::kDouble:
      case field::kBlob:
      case field::kTinyBlob:
      case field::kMediumBlob:
      case field::kLongBlob:
      case field::kGeometry:
      case field::kJson:
        SLUICE_RETURN_IF_ERROR(meta(1, &bytes));
        column.length = static_cast<unsigned char>(bytes[0]);
        break;
      case field::kTimestamp2:
      case field::kDateTime2:
      case field::kTime2:
        SLUICE_RETURN_IF_ERROR(meta(1, &bytes));
        column.fsp = static_cast<uint8_t>(bytes[0]);
        break;
      case field::kVarchar:
      case field::kVarString:
        SLUICE_RETURN_IF_ERROR(meta(2, &bytes));
        column.length = static_cast<uint32_t>(ReadLittleEndian(bytes.data(), 2));
        break;
      case field::kNewDecimal:
        SLUICE_RETURN_IF_ERROR(meta(2, &bytes));
        column.precision = static_cast<uint8_t>(bytes[0]);
        column.scale = static_cast<uint8_t>(bytes[1]);
        break;
      case field::kBit:
        SLUICE_RETURN_IF_ERROR(meta(2, &bytes));
        column.bits = static_cast<unsigned char>(bytes[0]) +
                      8u * static_cast<unsigned char>(bytes[1]);
        break;
      case field::kString:
      case field::kEnum:
      case field::kSet: {
        // The real type and the length, whose two high bits (CHAR longer than 255 bytes) hide
        // in the real type's byte.
        SLUICE_RETURN_IF_ERROR(meta(2, &bytes));
        auto real = static_cast<unsigned char>(bytes[0]);
        auto low = static_cast<unsigned char>(bytes[1]);
        if ((real & 0x30) != 0x30) {
          column.length = low | (((real & 0x30) ^ 0x30) << 4);
          real = static_cast<unsigned char>(real | 0x30);
        } else {
          column.length = low;
        }
        if (real == field::kEnum || real == field::kSet)
          column.type = real;
        break;
      }
      default:
        break;
    }
  }

  // Optional metadata (MySQL 8.0.1+, MariaDB 10.5+): the column names are field 4.
  out->names.clear();
  constexpr uint8_t kColumnNames = 4;
  while (reader.left() > 0) {
    uint8_t field_type = 0;
    uint64_t size = 0;
    std::string_view value;
    SLUICE_RETURN_IF_ERROR(reader.Int(1, "an optional metadata field", &field_type));
    SLUICE_RETURN_IF_ERROR(reader.LengthEncoded("an optional metadata size", &size));
    SLUICE_RETURN_IF_ERROR(reader.Take(size, "an optional metadata value", &value));
    if (field_type != kColumnNames)
      continue;
    size_t name_at = 0;
    while (name_at < value.size()) {
      uint64_t length = 0;
      if (!ReadLengthEncoded(value, &name_at, &length) || value.size() - name_at < length)
        return reader.Truncated("a column name");
      out->names.emplace_back(value.substr(name_at, length));
      name_at += length;
    }
    if (out->names.size() != count) {
      return Internal(fmt::format("binlog event TABLE_MAP of {}.{} names {} columns of {}",
                                  out->database, out->table, out->names.size(), count));
    }
  }
  return Status::OK();
}

bool IsRowsEvent(uint8_t type) {
  return (type >= kWriteRowsEventV1 && type <= kDeleteRowsEventV1) ||
         (type >= kWriteRowsEvent && type <= kDeleteRowsEvent) ||
         type == kPartialUpdateRowsEvent ||
         (type >= kMariaWriteRowsCompressedEventV1 && type <= kMariaDeleteRowsCompressedEvent);
}

Status ParseRowsEvent(const Event& event, const Format& format, RowsEvent* out) {
  const uint8_t type = event.header.type;
  bool version2 = false;
  switch (type) {
    case kWriteRowsEventV1:
      out->kind = RowsEvent::Kind::kWrite;
      break;
    case kUpdateRowsEventV1:
      out->kind = RowsEvent::Kind::kUpdate;
      break;
    case kDeleteRowsEventV1:
      out->kind = RowsEvent::Kind::kDelete;
      break;
    case kWriteRowsEvent:
      out->kind = RowsEvent::Kind::kWrite;
      version2 = true;
      break;
    case kUpdateRowsEvent:
      out->kind = RowsEvent::Kind::kUpdate;
      version2 = true;
      break;
    case kDeleteRowsEvent:
      out->kind = RowsEvent::Kind::kDelete;
      version2 = true;
      break;
    case kPartialUpdateRowsEvent:
      return Unsupported(
          "the binlog holds partial JSON updates (binlog_row_value_options = PARTIAL_JSON): "
          "change data capture needs full row images; set binlog_row_value_options = ''");
    default:
      return Unsupported(
          "the binlog holds compressed row events (log_bin_compress = ON): change data "
          "capture does not decompress them yet; set log_bin_compress = OFF");
  }
  // Post-header: table id (6, or 4 when the post-header is 6 bytes), flags (2), and in version
  // 2 the size of the extra data that follows (which counts its own 2 bytes). Body: column count
  // (length-encoded), columns-present bitmap, for updates the after image's bitmap, then the
  // row images.
  Reader reader(event.body, type);
  size_t id_size = format.PostHeaderLength(type, version2 ? 10 : 8) == 6 ? 4 : 6;
  uint64_t count = 0;
  SLUICE_RETURN_IF_ERROR(reader.Int(id_size, "the table id", &out->table_id));
  SLUICE_RETURN_IF_ERROR(reader.Int(2, "the flags", &out->flags));
  if (version2) {
    uint16_t extra = 0;
    SLUICE_RETURN_IF_ERROR(reader.Int(2, "the extra data size", &extra));
    if (extra < 2)
      return reader.Truncated("the extra data size");
    SLUICE_RETURN_IF_ERROR(reader.Skip(extra - 2u, "the extra data"));
  }
  SLUICE_RETURN_IF_ERROR(reader.LengthEncoded("the column count", &count));
  out->column_count = static_cast<uint32_t>(count);
  size_t bitmap = (count + 7) / 8;
  SLUICE_RETURN_IF_ERROR(reader.Take(bitmap, "the columns-present bitmap", &out->present));
  out->present_after = {};
  if (out->kind == RowsEvent::Kind::kUpdate) {
    SLUICE_RETURN_IF_ERROR(
        reader.Take(bitmap, "the after image's columns-present bitmap", &out->present_after));
  }
  out->rows = reader.rest();
  return Status::OK();
}

}  // namespace sluice::connectors::mysql::binlog
