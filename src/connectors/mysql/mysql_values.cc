#include "connectors/mysql/mysql_values.h"

#include <fmt/core.h>
#include <mysql.h>

#include <algorithm>

#include "core/temporal.h"

namespace sluice::connectors::mysql {

bool IsOffCalendar(const MYSQL_TIME& t) {
  return t.month == 0 || t.day == 0 || !IsValidCivilDate(t.year, t.month, t.day);
}

void AppendPrintedTemporal(const MYSQL_TIME& t, bool date_only, int fsp, std::string* out) {
  auto digits = [&](unsigned long value, int width) { AppendDigits(value, width, out); };
  digits(t.year, 4);
  out->push_back('-');
  digits(t.month, 2);
  out->push_back('-');
  digits(t.day, 2);
  if (date_only)
    return;
  out->push_back(' ');
  digits(t.hour, 2);
  out->push_back(':');
  digits(t.minute, 2);
  out->push_back(':');
  digits(t.second, 2);
  if (fsp > 0) {
    out->push_back('.');
    const size_t at = out->size();
    AppendDigits(t.second_part, 6, out);
    out->resize(at + static_cast<size_t>(std::min(fsp, 6)));  // the first fsp digits
  }
}

int64_t DateTimeMicros(const MYSQL_TIME& t) {
  int64_t days = DaysFromCivil(t.year, t.month, t.day);
  return days * kMicrosPerDay +
         ((static_cast<int64_t>(t.hour) * 60 + t.minute) * 60 + t.second) * kMicrosPerSecond +
         static_cast<int64_t>(t.second_part);
}

int64_t TimeMicros(const MYSQL_TIME& t) {
  // The client library may or may not fold days into hours; count both.
  int64_t hours = static_cast<int64_t>(t.day) * 24 + t.hour;
  int64_t micros = ((hours * 60 + t.minute) * 60 + t.second) * kMicrosPerSecond +
                   static_cast<int64_t>(t.second_part);
  return t.neg ? -micros : micros;
}

bool ParseServerDecimal(std::string_view text, int precision, int scale, int128* out) {
  const char* p = text.data();
  const char* const end = p + text.size();
  bool negative = false;
  if (p != end && *p == '-') {
    negative = true;
    ++p;
  }
  uint64_t value = 0;
  const char* start = p;
  while (p != end && static_cast<unsigned>(*p - '0') < 10) {
    value = value * 10 + static_cast<unsigned>(*p - '0');
    ++p;
  }
  const char* integer_end = p;
  if (p != end && *p == '.') {
    ++p;
    while (p != end && static_cast<unsigned>(*p - '0') < 10) {
      value = value * 10 + static_cast<unsigned>(*p - '0');
      ++p;
    }
  }
  const auto integer_digits = integer_end - start;
  const auto fraction_digits = p == integer_end ? 0 : p - integer_end - 1;
  if (p != end || integer_digits + fraction_digits == 0 || integer_digits + fraction_digits > 18 ||
      fraction_digits != scale) {
    return false;
  }
  while (start != integer_end && *start == '0')
    ++start;  // leading zeros do not count against the precision
  if (integer_end - start > precision - scale)
    return false;
  *out = negative ? -static_cast<int128>(value) : static_cast<int128>(value);
  return true;
}


Status AppendDecimalValue(std::string_view text, const SourceColumn& column, Column* out,
                          std::string* scratch) {
  const DataType& type = out->type();
  if (type.is_fast_decimal()) {
    int128 unscaled;
    if (ParseServerDecimal(text, type.precision, type.scale, &unscaled)) {
      out->Append<int128>(unscaled);
      return Status::OK();
    }
    Result<int128> value = ParseDecimal128(text, type.precision, type.scale);
    if (!value.ok()) {
      return DataError(
          fmt::format("column '{}': {}", column.info.name, value.status().message()));
    }
    out->Append<int128>(*value);
    return Status::OK();
  }
  Status status = CanonicalDecimalText(text, type.precision, type.scale, scratch);
  if (!status.ok())
    return DataError(fmt::format("column '{}': {}", column.info.name, status.message()));
  out->AppendView(*scratch);
  return Status::OK();
}

Status AppendTemporalValue(const MYSQL_TIME& time, const SourceColumn& column,
                           ZeroDates zero_dates, Column* out, std::string* scratch) {
  switch (column.kind) {
    case ValueKind::kDate:
    case ValueKind::kDateTime:
    case ValueKind::kTimestamp: {
      if (IsOffCalendar(time)) {
        if (zero_dates == ZeroDates::kNull) {
          out->AppendNull();
          return Status::OK();
        }
        scratch->clear();
        AppendPrintedTemporal(time, column.kind == ValueKind::kDate, column.fsp, scratch);
        bool zero_part = time.month == 0 || time.day == 0;
        return DataError(fmt::format(
            "column '{}': {} '{}' (set zero_dates: null or string on the source)",
            column.info.name, zero_part ? "zero date" : "invalid date", *scratch));
      }
      if (column.kind == ValueKind::kDate) {
        out->Append<int32_t>(static_cast<int32_t>(DaysFromCivil(time.year, time.month, time.day)));
      } else {
        out->Append<int64_t>(DateTimeMicros(time));
      }
      return Status::OK();
    }
    case ValueKind::kTime:
      out->Append<int64_t>(TimeMicros(time));
      return Status::OK();
    case ValueKind::kTemporalText:
      scratch->clear();
      AppendPrintedTemporal(time, column.info.data_type == "date", column.fsp, scratch);
      out->AppendView(*scratch);
      return Status::OK();
    default:
      return Internal(fmt::format("column '{}' is no date or time", column.info.name));
  }
}

}  // namespace sluice::connectors::mysql
