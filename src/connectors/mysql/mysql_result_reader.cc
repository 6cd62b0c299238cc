#include "connectors/mysql/mysql_result_reader.h"

#include <fmt/core.h>
#include <mysql.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <optional>

#include "connectors/mysql/mysql_values.h"
#include "core/decimal.h"
#include "core/temporal.h"
#include "core/value_text.h"

namespace sluice::connectors::mysql {

namespace {

// Bound buffer sizes for variable-length values. Longer values are fetched again at their full
// length, so these only trade a second copy for memory.
constexpr unsigned long kMaxBuffer = 16 * 1024;
constexpr unsigned long kMinBuffer = 64;

bool IsVariable(ValueKind kind) {
  return kind == ValueKind::kText || kind == ValueKind::kBytes || kind == ValueKind::kDecimal ||
         kind == ValueKind::kBit;
}

bool IsTimeStruct(ValueKind kind) {
  return kind == ValueKind::kDate || kind == ValueKind::kDateTime ||
         kind == ValueKind::kTimestamp || kind == ValueKind::kTime ||
         kind == ValueKind::kTemporalText;
}

unsigned long BufferSize(const SourceColumn& column) {
  int64_t declared = 0;
  switch (column.kind) {
    case ValueKind::kDecimal:
      return 80;  // 65 digits, sign, point
    case ValueKind::kBit:
      return 8;
    case ValueKind::kText:
      if (!column.members.empty())
        return 256;
      declared = column.type.length > 0 ? static_cast<int64_t>(column.type.length) * 4 : 0;
      break;
    case ValueKind::kBytes:
      declared = column.type.length;
      break;
    default:
      return 0;
  }
  if (declared <= 0 || declared > static_cast<int64_t>(kMaxBuffer))
    return kMaxBuffer;
  return std::max<unsigned long>(kMinBuffer, static_cast<unsigned long>(declared) + 1);
}

enum_field_types BindType(const SourceColumn& column) {
  switch (column.kind) {
    case ValueKind::kInt8:
    case ValueKind::kUInt8:
      return MYSQL_TYPE_TINY;
    case ValueKind::kInt16:
    case ValueKind::kUInt16:
    case ValueKind::kYear:
      return MYSQL_TYPE_SHORT;
    case ValueKind::kInt32:
    case ValueKind::kUInt32:
      return MYSQL_TYPE_LONG;
    case ValueKind::kInt64:
    case ValueKind::kUInt64:
      return MYSQL_TYPE_LONGLONG;
    case ValueKind::kFloat:
      return MYSQL_TYPE_FLOAT;
    case ValueKind::kDouble:
      return MYSQL_TYPE_DOUBLE;
    case ValueKind::kDecimal:
    case ValueKind::kText:
      return MYSQL_TYPE_STRING;
    case ValueKind::kBytes:
    case ValueKind::kBit:
      return MYSQL_TYPE_BLOB;
    case ValueKind::kDate:
      return MYSQL_TYPE_DATE;
    case ValueKind::kDateTime:
      return MYSQL_TYPE_DATETIME;
    case ValueKind::kTimestamp:
      return MYSQL_TYPE_TIMESTAMP;
    case ValueKind::kTime:
      return MYSQL_TYPE_TIME;
    case ValueKind::kTemporalText:
      return column.info.data_type == "date" ? MYSQL_TYPE_DATE : MYSQL_TYPE_DATETIME;
  }
  return MYSQL_TYPE_STRING;
}

bool IsUnsignedKind(ValueKind kind) {
  return kind == ValueKind::kUInt8 || kind == ValueKind::kUInt16 || kind == ValueKind::kUInt32 ||
         kind == ValueKind::kUInt64;
}

// How a value of one column sits in a binary-protocol row (raw mode).
enum class Wire : uint8_t {
  kFixed1,   // TINY
  kFixed2,   // SHORT, YEAR
  kFixed4,   // LONG, INT24, FLOAT
  kFixed8,   // LONGLONG, DOUBLE
  kLength,   // a length-encoded string: text, blobs, DECIMAL, BIT, ENUM, SET, JSON, GEOMETRY
  kDate,     // DATE, DATETIME, TIMESTAMP: a length byte (0, 4, 7, 11), then the fields
  kTime,     // TIME: a length byte (0, 8, 12), then the fields
  kNothing,  // the NULL type: every value is NULL
};

// The wire form of `field_type`, when the reader decodes it; nullopt otherwise.
std::optional<Wire> WireOf(enum_field_types field_type) {
  switch (field_type) {
    case MYSQL_TYPE_TINY:
      return Wire::kFixed1;
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_YEAR:
      return Wire::kFixed2;
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_FLOAT:
      return Wire::kFixed4;
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_DOUBLE:
      return Wire::kFixed8;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_BIT:
    case MYSQL_TYPE_ENUM:
    case MYSQL_TYPE_SET:
    case MYSQL_TYPE_JSON:
    case MYSQL_TYPE_GEOMETRY:
      return Wire::kLength;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
      return Wire::kDate;
    case MYSQL_TYPE_TIME:
      return Wire::kTime;
    case MYSQL_TYPE_NULL:
      return Wire::kNothing;
    default:
      return std::nullopt;
  }
}

// True when decoding `field_type` as `wire` gives a column of `kind` the very value the client
// library gives the bound buffer (BindType): same-width integers and floats bit for bit,
// strings byte for byte, temporal fields one for one.
bool RawFits(const SourceColumn& column, enum_field_types field_type, Wire wire) {
  if (wire == Wire::kNothing)
    return true;
  switch (column.kind) {
    case ValueKind::kInt8:
    case ValueKind::kUInt8:
      return field_type == MYSQL_TYPE_TINY;
    case ValueKind::kInt16:
    case ValueKind::kUInt16:
    case ValueKind::kYear:
      return field_type == MYSQL_TYPE_SHORT || field_type == MYSQL_TYPE_YEAR;
    case ValueKind::kInt32:
    case ValueKind::kUInt32:
      return field_type == MYSQL_TYPE_LONG || field_type == MYSQL_TYPE_INT24;
    case ValueKind::kInt64:
    case ValueKind::kUInt64:
      return field_type == MYSQL_TYPE_LONGLONG;
    case ValueKind::kFloat:
      return field_type == MYSQL_TYPE_FLOAT;
    case ValueKind::kDouble:
      return field_type == MYSQL_TYPE_DOUBLE;
    case ValueKind::kDecimal:
      return field_type == MYSQL_TYPE_NEWDECIMAL || field_type == MYSQL_TYPE_DECIMAL;
    case ValueKind::kBit:
      return field_type == MYSQL_TYPE_BIT;
    case ValueKind::kText:
    case ValueKind::kBytes:
      return wire == Wire::kLength && field_type != MYSQL_TYPE_NEWDECIMAL &&
             field_type != MYSQL_TYPE_DECIMAL && field_type != MYSQL_TYPE_BIT;
    case ValueKind::kDate:
      return field_type == MYSQL_TYPE_DATE;
    case ValueKind::kDateTime:
    case ValueKind::kTimestamp:
      return field_type == MYSQL_TYPE_DATETIME || field_type == MYSQL_TYPE_TIMESTAMP;
    case ValueKind::kTemporalText:
      return column.info.data_type == "date"
                 ? field_type == MYSQL_TYPE_DATE
                 : field_type == MYSQL_TYPE_DATETIME || field_type == MYSQL_TYPE_TIMESTAMP;
    case ValueKind::kTime:
      return field_type == MYSQL_TYPE_TIME;
  }
  return false;
}

uint32_t Little4(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

template <typename T>
void AppendInteger(T value, std::string* out) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, static_cast<size_t>(end - buffer));
}

}  // namespace

struct ResultReader::Slot {
  unsigned long length = 0;
  my_bool is_null = 0;
  my_bool error = 0;
  union {
    int8_t i8;
    uint8_t u8;
    int16_t i16;
    uint16_t u16;
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f32;
    double f64;
  } number{};
  MYSQL_TIME time{};
  std::unique_ptr<char[]> buffer;
  unsigned long capacity = 0;
  /// The value did not fit the buffer; `full` holds it once fetched.
  bool truncated = false;
  bool full_valid = false;
  std::string_view full;
  std::string overflow;
  /// Raw mode: how the value sits on the wire, and a variable-length value in the packet.
  Wire wire = Wire::kLength;
  std::string_view raw;
  /// The column's kind (a copy, next to the value).
  ValueKind kind = ValueKind::kText;
};

struct ResultReader::Binds {
  std::vector<MYSQL_BIND> binds;
};

ResultReader::ResultReader(std::vector<const SourceColumn*> columns, ZeroDates zero_dates)
    : columns_(std::move(columns)),
      zero_dates_(zero_dates),
      slots_(new Slot[columns_.size()]),
      binds_(std::make_unique<Binds>()) {
  binds_->binds.resize(columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) {
    const SourceColumn& column = *columns_[i];
    Slot& slot = slots_[i];
    MYSQL_BIND& bind = binds_->binds[i];
    slot.kind = column.kind;
    std::memset(&bind, 0, sizeof(bind));
    bind.buffer_type = BindType(column);
    bind.length = &slot.length;
    bind.is_null = &slot.is_null;
    bind.error = &slot.error;
    bind.is_unsigned = IsUnsignedKind(column.kind) ? 1 : 0;
    if (IsVariable(column.kind)) {
      slot.capacity = BufferSize(column);
      slot.buffer.reset(new char[slot.capacity]);
      bind.buffer = slot.buffer.get();
      bind.buffer_length = slot.capacity;
    } else if (IsTimeStruct(column.kind)) {
      bind.buffer = &slot.time;
      bind.buffer_length = sizeof(MYSQL_TIME);
    } else {
      bind.buffer = &slot.number;
      bind.buffer_length = sizeof(slot.number);
    }
  }
}

ResultReader::~ResultReader() = default;

bool ResultReader::PlanRaw(st_mysql_stmt* stmt) {
  if constexpr (std::endian::native != std::endian::little)
    return false;  // fixed-width values are copied as they are: little-endian on the wire
  ResultSet metadata(mysql_stmt_result_metadata(stmt));
  if (!metadata.get() || mysql_num_fields(metadata.get()) != columns_.size())
    return false;
  MYSQL_FIELD* fields = mysql_fetch_fields(metadata.get());
  for (size_t i = 0; i < columns_.size(); ++i) {
    std::optional<Wire> wire = WireOf(fields[i].type);
    if (!wire || !RawFits(*columns_[i], fields[i].type, *wire))
      return false;
    slots_[i].wire = *wire;
  }
  return mysql_stmt_attr_set(stmt, STMT_ATTR_CB_USER_DATA, this) == 0 &&
         mysql_stmt_attr_set(stmt, STMT_ATTR_CB_RESULT,
                             reinterpret_cast<const void*>(&ResultReader::OnValue)) == 0;
}

void ResultReader::OnValue(void* reader, unsigned int column, unsigned char** row) {
  auto* self = static_cast<ResultReader*>(reader);
  ++self->values_seen_;
  Slot& slot = self->slots_[column];
  if (row == nullptr) {
    slot.is_null = 1;
    return;
  }
  slot.is_null = 0;
  const unsigned char* p = *row;
  switch (slot.wire) {
    case Wire::kFixed1:
      std::memcpy(&slot.number, p, 1);
      *row += 1;
      return;
    case Wire::kFixed2:
      std::memcpy(&slot.number, p, 2);
      *row += 2;
      return;
    case Wire::kFixed4:
      std::memcpy(&slot.number, p, 4);
      *row += 4;
      return;
    case Wire::kFixed8:
      std::memcpy(&slot.number, p, 8);
      *row += 8;
      return;
    case Wire::kLength: {
      // The length-encoded integer: one byte below 251, else 2, 3 or 8 bytes after a marker.
      uint64_t length = p[0];
      size_t header = 1;
      if (length == 252) {
        length = static_cast<uint64_t>(p[1]) | static_cast<uint64_t>(p[2]) << 8;
        header = 3;
      } else if (length == 253) {
        length = static_cast<uint64_t>(p[1]) | static_cast<uint64_t>(p[2]) << 8 |
                 static_cast<uint64_t>(p[3]) << 16;
        header = 4;
      } else if (length == 254) {
        length = static_cast<uint64_t>(Little4(p + 1)) |
                 static_cast<uint64_t>(Little4(p + 5)) << 32;
        header = 9;
      }
      slot.raw = {reinterpret_cast<const char*>(p + header), static_cast<size_t>(length)};
      slot.length = static_cast<unsigned long>(length);
      *row += header + length;
      return;
    }
    case Wire::kDate: {
      // As the library's MYSQL_TIME for DATE, DATETIME and TIMESTAMP: missing parts are zero.
      const unsigned length = p[0];
      MYSQL_TIME& t = slot.time;
      std::memset(&t, 0, sizeof(t));
      if (length >= 4) {
        t.year = static_cast<unsigned>(p[1]) | static_cast<unsigned>(p[2]) << 8;
        t.month = p[3];
        t.day = p[4];
      }
      if (length >= 7) {
        t.hour = p[5];
        t.minute = p[6];
        t.second = p[7];
      }
      if (length >= 11)
        t.second_part = Little4(p + 8);
      *row += 1 + length;
      return;
    }
    case Wire::kTime: {
      const unsigned length = p[0];
      MYSQL_TIME& t = slot.time;
      std::memset(&t, 0, sizeof(t));
      if (length >= 8) {
        t.neg = p[1] != 0;
        t.day = Little4(p + 2);
        t.hour = p[6];
        t.minute = p[7];
        t.second = p[8];
      }
      if (length >= 12)
        t.second_part = Little4(p + 9);
      *row += 1 + length;
      return;
    }
    case Wire::kNothing:
      slot.is_null = 1;  // a NULL-typed column sends no bytes
      return;
  }
}

Status ResultReader::Start(Statement* statement, std::string_view what) {
  statement_ = statement;
  what_ = what;
  MYSQL_STMT* stmt = statement->get();
  if (mysql_stmt_field_count(stmt) != columns_.size()) {
    return Internal(fmt::format("{}: the query returns {} columns, expected {}", what,
                                mysql_stmt_field_count(stmt), columns_.size()));
  }
  if (mysql_stmt_execute(stmt) != 0)
    return statement->LastError(what);
  // The result's types as executed (a table altered since the prepare shows here).
  raw_ = raw_allowed_ && PlanRaw(stmt);
  if (!raw_ && mysql_stmt_bind_result(stmt, binds_->binds.data()) != 0)
    return statement->LastError(what);
  return Status::OK();
}

Result<bool> ResultReader::Next() {
  MYSQL_STMT* stmt = statement_->get();
  values_seen_ = 0;
  int rc = mysql_stmt_fetch(stmt);
  if (rc == MYSQL_NO_DATA)
    return false;
  if (rc == 1)
    return statement_->LastError(what_);
  if (raw_) {
    if (values_seen_ != columns_.size()) {
      return Internal(fmt::format("{}: the client library handed over {} of the row's {} values",
                                  what_, values_seen_, columns_.size()));
    }
    return true;
  }
  const bool truncated = rc == MYSQL_DATA_TRUNCATED;
  for (size_t i = 0; i < columns_.size(); ++i) {
    Slot& slot = slots_[i];
    slot.full_valid = false;
    slot.truncated = truncated && slot.error && !slot.is_null && slot.length > slot.capacity;
  }
  return true;
}

bool ResultReader::IsNull(size_t column) const {
  return slots_[column].is_null != 0;
}

Status ResultReader::FetchLong(size_t column, char* destination, unsigned long length) {
  MYSQL_BIND bind;
  std::memset(&bind, 0, sizeof(bind));
  unsigned long fetched_length = 0;
  my_bool is_null = 0;
  bind.buffer_type = binds_->binds[column].buffer_type;
  bind.buffer = destination;
  bind.buffer_length = length;
  bind.length = &fetched_length;
  bind.is_null = &is_null;
  if (mysql_stmt_fetch_column(statement_->get(), &bind, static_cast<unsigned int>(column), 0) !=
      0) {
    return statement_->LastError(what_);
  }
  return Status::OK();
}

std::string_view ResultReader::VariableValue(size_t column) {
  Slot& slot = slots_[column];
  if (raw_)
    return slot.raw;
  if (!slot.truncated)
    return {slot.buffer.get(), slot.length};
  if (!slot.full_valid) {
    slot.overflow.resize(slot.length);
    if (!FetchLong(column, slot.overflow.data(), slot.length).ok()) {
      return {slot.buffer.get(), slot.capacity};
    }
    slot.full = slot.overflow;
    slot.full_valid = true;
  }
  return slot.full;
}

Status ResultReader::AppendRow(Batch* batch, size_t count) {
  // The common values inline, in one loop; anything else (and every error) through Append().
  for (size_t c = 0; c < count; ++c) {
    const Slot& slot = slots_[c];
    Column& out = batch->column(c);
    if (slot.is_null) {
      out.AppendNull();
      continue;
    }
    switch (slot.kind) {
      case ValueKind::kInt8:
        out.Append<int8_t>(slot.number.i8);
        continue;
      case ValueKind::kInt16:
      case ValueKind::kYear:
        out.Append<int16_t>(slot.number.i16);
        continue;
      case ValueKind::kInt32:
        out.Append<int32_t>(slot.number.i32);
        continue;
      case ValueKind::kInt64:
        out.Append<int64_t>(slot.number.i64);
        continue;
      case ValueKind::kFloat:
        out.Append<float>(slot.number.f32);
        continue;
      case ValueKind::kDouble:
        out.Append<double>(slot.number.f64);
        continue;
      case ValueKind::kText:
      case ValueKind::kBytes:
        if (raw_) {
          out.AppendView(slot.raw);
          continue;
        }
        break;
      case ValueKind::kDecimal: {
        int128 unscaled;
        const DataType& type = out.type();
        if (raw_ && type.is_fast_decimal() &&
            ParseServerDecimal(slot.raw, type.precision, type.scale, &unscaled)) {
          out.Append<int128>(unscaled);
          continue;
        }
        break;
      }
      case ValueKind::kDate:
        if (!IsOffCalendar(slot.time)) {
          out.Append<int32_t>(
              static_cast<int32_t>(DaysFromCivil(slot.time.year, slot.time.month, slot.time.day)));
          continue;
        }
        break;
      case ValueKind::kDateTime:
      case ValueKind::kTimestamp:
        if (!IsOffCalendar(slot.time)) {
          out.Append<int64_t>(DateTimeMicros(slot.time));
          continue;
        }
        break;
      default:
        break;
    }
    SLUICE_RETURN_IF_ERROR(Append(c, &out));
  }
  return Status::OK();
}

Status ResultReader::Append(size_t column, Column* out) {
  Slot& slot = slots_[column];
  if (slot.is_null) {
    out->AppendNull();
    return Status::OK();
  }
  const SourceColumn& source = *columns_[column];
  switch (source.kind) {
    case ValueKind::kInt8:
      out->Append<int8_t>(slot.number.i8);
      return Status::OK();
    case ValueKind::kUInt8:
      out->Append<uint8_t>(slot.number.u8);
      return Status::OK();
    case ValueKind::kInt16:
    case ValueKind::kYear:
      out->Append<int16_t>(slot.number.i16);
      return Status::OK();
    case ValueKind::kUInt16:
      out->Append<uint16_t>(slot.number.u16);
      return Status::OK();
    case ValueKind::kInt32:
      out->Append<int32_t>(slot.number.i32);
      return Status::OK();
    case ValueKind::kUInt32:
      out->Append<uint32_t>(slot.number.u32);
      return Status::OK();
    case ValueKind::kInt64:
      out->Append<int64_t>(slot.number.i64);
      return Status::OK();
    case ValueKind::kUInt64:
      out->Append<uint64_t>(slot.number.u64);
      return Status::OK();
    case ValueKind::kFloat:
      out->Append<float>(slot.number.f32);
      return Status::OK();
    case ValueKind::kDouble:
      out->Append<double>(slot.number.f64);
      return Status::OK();
    case ValueKind::kBit: {
      uint64_t value = 0;
      std::string_view bits = VariableValue(column);
      const auto* bytes = reinterpret_cast<const unsigned char*>(bits.data());
      for (size_t i = 0; i < std::min<size_t>(bits.size(), 8); ++i) {
        value = (value << 8) | bytes[i];
      }
      out->Append<uint64_t>(value);
      return Status::OK();
    }
    case ValueKind::kDecimal:
      return AppendDecimalValue(VariableValue(column), source, out, &scratch_);
    case ValueKind::kText:
    case ValueKind::kBytes: {
      if (raw_) {
        out->AppendView(slot.raw);  // the one copy, from the packet into the arena
        return Status::OK();
      }
      if (!slot.truncated) {
        out->AppendView({slot.buffer.get(), slot.length});
        return Status::OK();
      }
      if (slot.full_valid) {
        out->AppendView(slot.full);
        return Status::OK();
      }
      // Fetch the long value straight into the batch's arena: one copy, no temporary.
      char* destination = out->arena()->Allocate(slot.length);
      SLUICE_RETURN_IF_ERROR(FetchLong(column, destination, slot.length));
      slot.full = {destination, slot.length};
      slot.full_valid = true;
      out->AppendViewNoCopy(slot.full);
      return Status::OK();
    }
    case ValueKind::kDate:
    case ValueKind::kDateTime:
    case ValueKind::kTimestamp:
    case ValueKind::kTime:
    case ValueKind::kTemporalText:
      return AppendTemporalValue(slot.time, source, zero_dates_, out, &scratch_);
  }
  return Internal("unknown value kind");
}

void ResultReader::AppendText(size_t column, std::string* out) {
  Slot& slot = slots_[column];
  const SourceColumn& source = *columns_[column];
  switch (source.kind) {
    case ValueKind::kInt8:
      AppendInteger(slot.number.i8, out);
      return;
    case ValueKind::kUInt8:
      AppendInteger(slot.number.u8, out);
      return;
    case ValueKind::kInt16:
    case ValueKind::kYear:
      AppendInteger(slot.number.i16, out);
      return;
    case ValueKind::kUInt16:
      AppendInteger(slot.number.u16, out);
      return;
    case ValueKind::kInt32:
      AppendInteger(slot.number.i32, out);
      return;
    case ValueKind::kUInt32:
      AppendInteger(slot.number.u32, out);
      return;
    case ValueKind::kInt64:
      AppendInteger(slot.number.i64, out);
      return;
    case ValueKind::kUInt64:
      AppendInteger(slot.number.u64, out);
      return;
    case ValueKind::kFloat:
      AppendFloat(slot.number.f32, out);
      return;
    case ValueKind::kDouble:
      AppendDouble(slot.number.f64, out);
      return;
    case ValueKind::kBit: {
      uint64_t value = 0;
      std::string_view bits = VariableValue(column);
      const auto* bytes = reinterpret_cast<const unsigned char*>(bits.data());
      for (size_t i = 0; i < std::min<size_t>(bits.size(), 8); ++i) {
        value = (value << 8) | bytes[i];
      }
      AppendInteger(value, out);
      return;
    }
    case ValueKind::kDecimal: {
      std::string_view text = VariableValue(column);
      if (CanonicalDecimalText(text, source.type.precision, source.type.scale, &scratch_).ok()) {
        out->append(scratch_);
      } else {
        out->append(text);
      }
      return;
    }
    case ValueKind::kText:
      out->append(VariableValue(column));
      return;
    case ValueKind::kBytes:
      AppendHexBytes(VariableValue(column), out);
      return;
    case ValueKind::kDate:
    case ValueKind::kDateTime:
    case ValueKind::kTimestamp:
      if (IsOffCalendar(slot.time)) {
        AppendPrintedTemporal(slot.time, source.kind == ValueKind::kDate, source.fsp, out);
      } else if (source.kind == ValueKind::kDate) {
        AppendDate(
            static_cast<int32_t>(DaysFromCivil(slot.time.year, slot.time.month, slot.time.day)),
            out);
      } else {
        AppendTimestamp(DateTimeMicros(slot.time), source.kind == ValueKind::kTimestamp, out);
      }
      return;
    case ValueKind::kTime:
      AppendTime(TimeMicros(slot.time), out);
      return;
    case ValueKind::kTemporalText:
      AppendPrintedTemporal(slot.time, source.info.data_type == "date", source.fsp, out);
      return;
  }
}

void ResultReader::AppendRawText(size_t column, std::string* out) {
  Slot& slot = slots_[column];
  if (slot.is_null) {
    out->append("NULL");
    return;
  }
  const SourceColumn& source = *columns_[column];
  if (IsTimeStruct(source.kind) && source.kind != ValueKind::kTime) {
    AppendPrintedTemporal(slot.time, source.info.data_type == "date", source.fsp, out);
    return;
  }
  AppendText(column, out);
}

}  // namespace sluice::connectors::mysql
