#include "formats/parquet/parquet_metadata.h"

#include <fmt/core.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <exception>
#include <memory>

namespace sluice::formats::parquet_internal {

namespace {

using apache::thrift::TConfiguration;
using apache::thrift::protocol::TCompactProtocolT;
using apache::thrift::transport::TMemoryBuffer;

// Thrift's default message limit is 100 MB; a footer of many row groups, or statistics of
// long strings, must not hit it, so allow what a 32-bit page size allows.
std::shared_ptr<TConfiguration> LargeMessageConfiguration() {
  static const auto configuration = std::make_shared<TConfiguration>(
      std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::max());
  return configuration;
}

std::string NameOf(const std::map<int, const char*>& names, int value) {
  auto found = names.find(value);
  return found != names.end() ? std::string(found->second) : std::to_string(value);
}

format::LogicalType IntegerType(int bits, bool is_signed) {
  format::IntType integer;
  integer.bitWidth = static_cast<int8_t>(bits);
  integer.isSigned = is_signed;
  format::LogicalType logical;
  logical.__set_INTEGER(integer);
  return logical;
}

format::TimeUnit MicrosUnit() {
  format::TimeUnit unit;
  unit.__set_MICROS(format::MicroSeconds());
  return unit;
}

}  // namespace

template <typename T>
void AppendThrift(const T& value, std::string* out) {
  auto buffer = std::make_shared<TMemoryBuffer>(LargeMessageConfiguration());
  TCompactProtocolT<TMemoryBuffer> protocol(buffer);
  value.write(&protocol);
  uint8_t* bytes = nullptr;
  uint32_t size = 0;
  buffer->getBuffer(&bytes, &size);
  out->append(reinterpret_cast<const char*>(bytes), size);
}

template <typename T>
Result<size_t> ReadThrift(std::string_view bytes, T* out) {
  try {
    auto buffer = std::make_shared<TMemoryBuffer>(
        reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data())),
        static_cast<uint32_t>(std::min<size_t>(bytes.size(), UINT32_MAX)), TMemoryBuffer::OBSERVE,
        LargeMessageConfiguration());
    TCompactProtocolT<TMemoryBuffer> protocol(buffer);
    out->read(&protocol);
    return bytes.size() - buffer->available_read();
  } catch (const std::exception& error) {
    return DataError(fmt::format("corrupt Parquet metadata: {}", error.what()));
  }
}

// The structs the writer and reader (de)serialize.
template void AppendThrift(const format::PageHeader&, std::string*);
template void AppendThrift(const format::FileMetaData&, std::string*);
template void AppendThrift(const format::SluiceWriterState&, std::string*);
template Result<size_t> ReadThrift(std::string_view, format::PageHeader*);
template Result<size_t> ReadThrift(std::string_view, format::FileMetaData*);
template Result<size_t> ReadThrift(std::string_view, format::SluiceWriterState*);

int DecimalByteWidth(int precision) {
  using uint128 = unsigned __int128;
  uint128 largest = 1;  // 10^precision - 1, the largest unscaled magnitude
  for (int i = 0; i < precision; ++i)
    largest *= 10;
  largest -= 1;
  int bytes = 1;
  while (bytes < 16 && largest > (uint128{1} << (8 * bytes - 1)) - 1)
    ++bytes;
  return bytes;
}

Result<format::SchemaElement> SchemaElementForField(const Field& field) {
  format::SchemaElement element;
  element.name = field.name;
  element.__set_repetition_type(field.nullable ? format::FieldRepetitionType::OPTIONAL
                                               : format::FieldRepetitionType::REQUIRED);
  const DataType& type = field.type;
  auto set_integer = [&](format::Type::type physical, int bits, bool is_signed,
                         format::ConvertedType::type converted) {
    element.__set_type(physical);
    element.__set_logicalType(IntegerType(bits, is_signed));
    element.__set_converted_type(converted);
  };
  switch (type.id) {
    case TypeId::kBool:
      element.__set_type(format::Type::BOOLEAN);
      break;
    case TypeId::kInt8:
      set_integer(format::Type::INT32, 8, true, format::ConvertedType::INT_8);
      break;
    case TypeId::kInt16:
      set_integer(format::Type::INT32, 16, true, format::ConvertedType::INT_16);
      break;
    case TypeId::kInt32:
      set_integer(format::Type::INT32, 32, true, format::ConvertedType::INT_32);
      break;
    case TypeId::kInt64:
      set_integer(format::Type::INT64, 64, true, format::ConvertedType::INT_64);
      break;
    case TypeId::kUInt8:
      set_integer(format::Type::INT32, 8, false, format::ConvertedType::UINT_8);
      break;
    case TypeId::kUInt16:
      set_integer(format::Type::INT32, 16, false, format::ConvertedType::UINT_16);
      break;
    case TypeId::kUInt32:
      set_integer(format::Type::INT32, 32, false, format::ConvertedType::UINT_32);
      break;
    case TypeId::kUInt64:
      set_integer(format::Type::INT64, 64, false, format::ConvertedType::UINT_64);
      break;
    case TypeId::kFloat32:
      element.__set_type(format::Type::FLOAT);
      break;
    case TypeId::kFloat64:
      element.__set_type(format::Type::DOUBLE);
      break;
    case TypeId::kDecimal: {
      if (!type.is_fast_decimal())
        return Unsupported(fmt::format(
            "column '{}': {} cannot be written to Parquet exactly: only decimals with a "
            "precision of 1..{} are supported (cast the column to string to keep its text)",
            field.name, type.ToString(), kMaxFastDecimalPrecision));
      if (type.scale < 0 || type.scale > type.precision)
        return Unsupported(fmt::format("column '{}': {} has a scale outside 0..precision, which "
                                       "Parquet's DECIMAL does not allow",
                                       field.name, type.ToString()));
      if (type.precision <= 9) {
        element.__set_type(format::Type::INT32);
      } else if (type.precision <= 18) {
        element.__set_type(format::Type::INT64);
      } else {
        element.__set_type(format::Type::FIXED_LEN_BYTE_ARRAY);
        element.__set_type_length(DecimalByteWidth(type.precision));
      }
      format::DecimalType decimal;
      decimal.precision = type.precision;
      decimal.scale = type.scale;
      format::LogicalType logical;
      logical.__set_DECIMAL(decimal);
      element.__set_logicalType(logical);
      element.__set_converted_type(format::ConvertedType::DECIMAL);
      element.__set_precision(type.precision);
      element.__set_scale(type.scale);
      break;
    }
    case TypeId::kString: {
      element.__set_type(format::Type::BYTE_ARRAY);
      format::LogicalType logical;
      logical.__set_STRING(format::StringType());
      element.__set_logicalType(logical);
      element.__set_converted_type(format::ConvertedType::UTF8);
      break;
    }
    case TypeId::kJson: {
      element.__set_type(format::Type::BYTE_ARRAY);
      format::LogicalType logical;
      logical.__set_JSON(format::JsonType());
      element.__set_logicalType(logical);
      element.__set_converted_type(format::ConvertedType::JSON);
      break;
    }
    case TypeId::kBytes:
      element.__set_type(format::Type::BYTE_ARRAY);
      break;
    case TypeId::kDate: {
      element.__set_type(format::Type::INT32);
      format::LogicalType logical;
      logical.__set_DATE(format::DateType());
      element.__set_logicalType(logical);
      element.__set_converted_type(format::ConvertedType::DATE);
      break;
    }
    case TypeId::kTime: {
      element.__set_type(format::Type::INT64);
      format::TimeType time;
      time.isAdjustedToUTC = false;
      time.unit = MicrosUnit();
      format::LogicalType logical;
      logical.__set_TIME(time);
      element.__set_logicalType(logical);
      // No converted type: the legacy TIME_MICROS means UTC-adjusted, which a time of day is
      // not (pyarrow writes the same).
      break;
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      element.__set_type(format::Type::INT64);
      format::TimestampType timestamp;
      timestamp.isAdjustedToUTC = type.id == TypeId::kTimestampTz;
      timestamp.unit = MicrosUnit();
      format::LogicalType logical;
      logical.__set_TIMESTAMP(timestamp);
      element.__set_logicalType(logical);
      // The legacy TIMESTAMP_MICROS means UTC-adjusted; a wall-clock timestamp has none.
      if (timestamp.isAdjustedToUTC)
        element.__set_converted_type(format::ConvertedType::TIMESTAMP_MICROS);
      break;
    }
    case TypeId::kNull:
      return Unsupported(
          fmt::format("column '{}': type null cannot be written to Parquet", field.name));
  }
  return element;
}

namespace {

// Sluice type of an INTEGER annotation (logical or converted) on `physical`.
Result<DataType> IntegerDataType(const std::string& column, int bits, bool is_signed) {
  switch (bits) {
    case 8:
      return is_signed ? DataType::Int8() : DataType::UInt8();
    case 16:
      return is_signed ? DataType::Int16() : DataType::UInt16();
    case 32:
      return is_signed ? DataType::Int32() : DataType::UInt32();
    case 64:
      return is_signed ? DataType::Int64() : DataType::UInt64();
    default:
      return Unsupported(
          fmt::format("column '{}': INTEGER bit width {} is not valid", column, bits));
  }
}

Result<DataType> DecimalDataType(const std::string& column, int precision, int scale) {
  if (precision < 1 || precision > kMaxFastDecimalPrecision || scale < 0 || scale > precision)
    return Unsupported(fmt::format("column '{}': DECIMAL({},{}) is not supported (precision "
                                   "1..{}, scale 0..precision)",
                                   column, precision, scale, kMaxFastDecimalPrecision));
  return DataType::Decimal(precision, scale);
}

}  // namespace

Result<Field> FieldForSchemaElement(const format::SchemaElement& element) {
  Field field;
  field.name = element.name;
  if (!element.__isset.type)
    return Unsupported(fmt::format("column '{}': a group (nested column) is not supported",
                                   element.name));
  if (element.__isset.repetition_type &&
      element.repetition_type == format::FieldRepetitionType::REPEATED)
    return Unsupported(fmt::format(
        "column '{}': repeated (list) columns are not supported", element.name));
  field.nullable = !(element.__isset.repetition_type &&
                     element.repetition_type == format::FieldRepetitionType::REQUIRED);
  const bool has_logical = element.__isset.logicalType;
  const format::LogicalType& logical = element.logicalType;
  const bool has_converted = element.__isset.converted_type;
  const auto converted = element.converted_type;
  const std::string& name = element.name;
  auto refuse = [&](std::string_view what) -> Result<Field> {
    return Unsupported(fmt::format("column '{}': {} is not supported", name, what));
  };

  auto decimal = [&]() -> Result<DataType> {
    int precision = element.__isset.precision ? element.precision : 0;
    int scale = element.__isset.scale ? element.scale : 0;
    if (has_logical && logical.__isset.DECIMAL) {
      precision = logical.DECIMAL.precision;
      scale = logical.DECIMAL.scale;
    }
    return DecimalDataType(name, precision, scale);
  };
  const bool is_decimal = (has_logical && logical.__isset.DECIMAL) ||
                          (has_converted && converted == format::ConvertedType::DECIMAL);

  switch (element.type) {
    case format::Type::BOOLEAN:
      field.type = DataType::Bool();
      break;
    case format::Type::INT32:
    case format::Type::INT64: {
      const bool is_int32 = element.type == format::Type::INT32;
      if (is_decimal) {
        SLUICE_ASSIGN_OR_RETURN(field.type, decimal());
      } else if (has_logical && logical.__isset.INTEGER) {
        SLUICE_ASSIGN_OR_RETURN(field.type, IntegerDataType(name, logical.INTEGER.bitWidth,
                                                            logical.INTEGER.isSigned));
      } else if ((has_logical && logical.__isset.DATE) ||
                 (has_converted && converted == format::ConvertedType::DATE)) {
        if (!is_int32)
          return refuse("DATE on INT64");
        field.type = DataType::Date();
      } else if ((has_logical && logical.__isset.TIME) ||
                 (has_converted && (converted == format::ConvertedType::TIME_MILLIS ||
                                    converted == format::ConvertedType::TIME_MICROS))) {
        field.type = DataType::Time();
      } else if ((has_logical && logical.__isset.TIMESTAMP) ||
                 (has_converted && (converted == format::ConvertedType::TIMESTAMP_MILLIS ||
                                    converted == format::ConvertedType::TIMESTAMP_MICROS))) {
        if (is_int32)
          return refuse("TIMESTAMP on INT32");
        bool utc = has_logical && logical.__isset.TIMESTAMP ? logical.TIMESTAMP.isAdjustedToUTC
                                                            : true;
        field.type = utc ? DataType::TimestampTz() : DataType::Timestamp();
      } else if (has_converted && converted >= format::ConvertedType::UINT_8 &&
                 converted <= format::ConvertedType::INT_64) {
        static constexpr int kBits[] = {8, 16, 32, 64, 8, 16, 32, 64};
        int index = converted - format::ConvertedType::UINT_8;
        SLUICE_ASSIGN_OR_RETURN(field.type, IntegerDataType(name, kBits[index], index >= 4));
      } else if (has_logical && logical.__isset.UNKNOWN) {
        return refuse("the NULL logical type");
      } else {
        field.type = is_int32 ? DataType::Int32() : DataType::Int64();
      }
      break;
    }
    case format::Type::INT96:
      return refuse("INT96 (legacy timestamps; write them as INT64 TIMESTAMP)");
    case format::Type::FLOAT:
      field.type = DataType::Float32();
      break;
    case format::Type::DOUBLE:
      field.type = DataType::Float64();
      break;
    case format::Type::BYTE_ARRAY:
    case format::Type::FIXED_LEN_BYTE_ARRAY:
      if (is_decimal) {
        SLUICE_ASSIGN_OR_RETURN(field.type, decimal());
      } else if (has_logical && logical.__isset.FLOAT16) {
        return refuse("FLOAT16");
      } else if ((has_logical && (logical.__isset.STRING || logical.__isset.ENUM)) ||
                 (has_converted && (converted == format::ConvertedType::UTF8 ||
                                    converted == format::ConvertedType::ENUM))) {
        field.type = DataType::String();
      } else if ((has_logical && logical.__isset.JSON) ||
                 (has_converted && converted == format::ConvertedType::JSON)) {
        field.type = DataType::Json();
      } else {
        field.type = DataType::Bytes();
      }
      break;
    default:
      return refuse(fmt::format("physical type {}", static_cast<int>(element.type)));
  }
  return field;
}

std::string PhysicalTypeName(int type) {
  return NameOf(format::_Type_VALUES_TO_NAMES, type);
}

std::string EncodingName(int encoding) {
  return NameOf(format::_Encoding_VALUES_TO_NAMES, encoding);
}

}  // namespace sluice::formats::parquet_internal
