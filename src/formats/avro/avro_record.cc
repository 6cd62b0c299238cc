#include "formats/avro/avro_record.h"

#include <avro.h>
#include <fmt/core.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/decimal.h"
#include "core/temporal.h"
#include "core/value_text.h"
#include "formats/avro/avro_logical.h"

namespace sluice::formats {

namespace {

using avro_internal::FieldPlan;
using avro_internal::Logical;

struct SchemaDeleter {
  void operator()(avro_obj_t* schema) const { avro_schema_decref(schema); }
};
struct IfaceDeleter {
  void operator()(avro_value_iface_t* iface) const { avro_value_iface_decref(iface); }
};
struct ReaderDeleter {
  void operator()(avro_reader_t reader) const { avro_reader_free(reader); }
};

struct ValueDeleter {
  void operator()(avro_value_t* value) const { avro_value_decref(value); }
};

// Big-endian two's complement in as few bytes as hold `value`, as Avro decimals are written.
void AppendDecimalBytes(int128 value, std::string* out) {
  char bytes[16];
  for (int i = 15; i >= 0; --i) {
    bytes[i] = static_cast<char>(static_cast<uint8_t>(value & 0xff));
    value >>= 8;
  }
  int start = 0;
  while (start < 15 && ((bytes[start] == 0 && (bytes[start + 1] & 0x80) == 0) ||
                        (bytes[start] == '\xff' && (bytes[start + 1] & 0x80) != 0))) {
    ++start;
  }
  out->assign(bytes + start, 16 - start);
}

// Appends `value` (a non-union, non-null Avro value) to `column` per `plan`.
Status AppendAvro(avro_value_t* value, const FieldPlan& plan, Column* column, std::string* text) {
  text->clear();
  avro_type_t type = avro_value_get_type(value);
  switch (type) {
    case AVRO_BOOLEAN: {
      int flag = 0;
      avro_value_get_boolean(value, &flag);
      text->assign(flag ? "true" : "false");
      break;
    }
    case AVRO_INT32: {
      int32_t number = 0;
      avro_value_get_int(value, &number);
      if (plan.logical == Logical::kDate) {
        AppendDate(number, text);
      } else if (plan.logical == Logical::kTimeMillis) {
        AppendTime(int64_t{number} * 1000, text);
      } else {
        text->assign(std::to_string(number));
      }
      break;
    }
    case AVRO_INT64: {
      int64_t number = 0;
      avro_value_get_long(value, &number);
      switch (plan.logical) {
        case Logical::kTimeMicros:
          AppendTime(number, text);
          break;
        case Logical::kTimestampMillis:
        case Logical::kLocalTimestampMillis:
          AppendTimestamp(number * 1000, plan.logical == Logical::kTimestampMillis, text);
          break;
        case Logical::kTimestampMicros:
        case Logical::kLocalTimestampMicros:
          AppendTimestamp(number, plan.logical == Logical::kTimestampMicros, text);
          break;
        default:
          text->assign(std::to_string(number));
      }
      break;
    }
    case AVRO_FLOAT: {
      float number = 0;
      avro_value_get_float(value, &number);
      AppendFloat(number, text);
      break;
    }
    case AVRO_DOUBLE: {
      double number = 0;
      avro_value_get_double(value, &number);
      AppendDouble(number, text);
      break;
    }
    case AVRO_STRING: {
      const char* chars = nullptr;
      size_t size = 0;
      avro_value_get_string(value, &chars, &size);
      // libavro counts the terminating NUL.
      text->assign(chars, size > 0 ? size - 1 : 0);
      break;
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
      const void* bytes = nullptr;
      size_t size = 0;
      if (type == AVRO_BYTES) {
        avro_value_get_bytes(value, &bytes, &size);
      } else {
        avro_value_get_fixed(value, &bytes, &size);
      }
      std::string_view raw(static_cast<const char*>(bytes), size);
      if (plan.logical == Logical::kDecimal) {
        if (size > 16)
          return DataError("a decimal wider than 16 bytes");
        // Big-endian two's complement.
        int128 unscaled = size > 0 && (raw[0] & 0x80) ? -1 : 0;
        for (char byte : raw)
          unscaled = (unscaled << 8) | static_cast<uint8_t>(byte);
        AppendDecimal128(unscaled, plan.scale, text);
        break;
      }
      if (column->type().id == TypeId::kBytes) {
        column->AppendView(raw);
        return Status::OK();
      }
      AppendHexBytes(raw, text);
      break;
    }
    case AVRO_ENUM: {
      int index = 0;
      avro_value_get_enum(value, &index);
      const char* symbol = avro_schema_enum_get(avro_value_get_schema(value), index);
      text->assign(symbol == nullptr ? "" : symbol);
      break;
    }
    default: {
      char* json = nullptr;
      if (avro_value_to_json(value, 1, &json) != 0)
        return DataError(fmt::format("a value that cannot be written as JSON: {}", avro_strerror()));
      // libavro escapes every non-ASCII character (\uD83D\uDE00): written again as UTF-8, in
      // the field order of the record.
      try {
        text->assign(nlohmann::ordered_json::parse(json).dump());
      } catch (const std::exception&) {
        text->assign(json);
      }
      free(json);
      break;
    }
  }
  return AppendParsedValue(*text, column);
}

}  // namespace

struct AvroRecordEncoder::State {
  std::unique_ptr<avro_obj_t, SchemaDeleter> schema;
  std::unique_ptr<avro_value_iface_t, IfaceDeleter> iface;
  avro_value_t record{};
  std::string text;

  ~State() {
    if (record.iface != nullptr)
      avro_value_decref(&record);
  }

  // Sets `field` (not a union) to the non-null value at `row` of `column`.
  Status Set(avro_value_t* field, const Column& column, size_t row) {
    const DataType& type = column.type();
    int error = 0;
    if (type.is_integer() && type.id != TypeId::kUInt64) {
      // int or long, as AvroTypeOf chose by width: every value fits.
      int64_t number = VisitIntegerType(
          type.id, [&]<typename T>(T) { return static_cast<int64_t>(column.Get<T>(row)); });
      error = avro_value_get_type(field) == AVRO_INT32
                  ? avro_value_set_int(field, static_cast<int32_t>(number))
                  : avro_value_set_long(field, number);
      return error != 0 ? DataError(avro_strerror()) : Status::OK();
    }
    switch (type.id) {
      case TypeId::kBool:
        error = avro_value_set_boolean(field, column.Get<uint8_t>(row) != 0);
        break;
      case TypeId::kTime:
      case TypeId::kTimestamp:
      case TypeId::kTimestampTz:
        error = avro_value_set_long(field, column.Get<int64_t>(row));
        break;
      case TypeId::kDate:
        error = avro_value_set_int(field, column.Get<int32_t>(row));
        break;
      case TypeId::kFloat32:
        error = avro_value_set_float(field, column.Get<float>(row));
        break;
      case TypeId::kFloat64:
        error = avro_value_set_double(field, column.Get<double>(row));
        break;
      case TypeId::kUInt64:
        AppendDecimalBytes(static_cast<int128>(column.Get<uint64_t>(row)), &text);
        error = avro_value_set_bytes(field, text.data(), text.size());
        break;
      case TypeId::kBytes: {
        std::string_view bytes = column.GetView(row);
        // libavro refuses a null pointer even for no bytes.
        static char kNoBytes[1] = {0};
        error = avro_value_set_bytes(field, bytes.empty() ? kNoBytes : const_cast<char*>(bytes.data()),
                                     bytes.size());
        break;
      }
      case TypeId::kDecimal:
        if (type.is_fast_decimal()) {
          AppendDecimalBytes(column.Get<int128>(row), &text);
          error = avro_value_set_bytes(field, text.data(), text.size());
          break;
        }
        [[fallthrough]];
      default:  // string, json; the integers but uint64 are set above
        // libavro's string length counts a terminating NUL.
        text.clear();
        AppendValueText(column, row, &text);
        error = avro_value_set_string_len(field, text.c_str(), text.size() + 1);
        break;
    }
    if (error != 0)
      return DataError(avro_strerror());
    return Status::OK();
  }
};

AvroRecordEncoder::AvroRecordEncoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
AvroRecordEncoder::~AvroRecordEncoder() = default;

Result<std::unique_ptr<AvroRecordEncoder>> AvroRecordEncoder::Make(const std::string& schema) {
  auto state = std::make_unique<State>();
  avro_schema_t parsed = nullptr;
  if (avro_schema_from_json_length(schema.data(), schema.size(), &parsed) != 0)
    return Internal(fmt::format("the Avro schema is not valid: {}", avro_strerror()));
  state->schema.reset(parsed);
  state->iface.reset(avro_generic_class_from_schema(parsed));
  if (!state->iface || avro_generic_value_new(state->iface.get(), &state->record) != 0)
    return Internal(fmt::format("the Avro schema: {}", avro_strerror()));
  return std::unique_ptr<AvroRecordEncoder>(new AvroRecordEncoder(std::move(state)));
}

Status AvroRecordEncoder::Append(const Batch& batch, size_t row, std::string* out) {
  State& state = *state_;
  avro_value_reset(&state.record);
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    const Column& column = batch.column(c);
    avro_value_t field;
    avro_value_get_by_index(&state.record, c, &field, nullptr);
    if (avro_value_get_type(&field) == AVRO_UNION) {
      avro_value_t branch;
      bool null = column.IsNull(row);
      avro_value_set_branch(&field, null ? 0 : 1, &branch);
      if (null) {
        avro_value_set_null(&branch);
        continue;
      }
      field = branch;
    }
    Status set = state.Set(&field, column, row);
    if (!set.ok()) {
      return DataError(fmt::format("column '{}' as Avro: {}", batch.schema().field(c).name,
                                   set.message()));
    }
  }
  size_t size = 0;
  avro_value_sizeof(&state.record, &size);
  const size_t start = out->size();
  out->resize(start + size);
  std::unique_ptr<std::remove_pointer_t<avro_writer_t>, void (*)(avro_writer_t)> writer(
      avro_writer_memory(out->data() + start, static_cast<int64_t>(size)), avro_writer_free);
  if (avro_value_write(writer.get(), &state.record) != 0) {
    out->resize(start);
    return DataError(fmt::format("a row as Avro: {}", avro_strerror()));
  }
  return Status::OK();
}

// A writer schema: libavro's parsed schema, value class and one reusable record, and each
// field's plan by name.
struct AvroRecordDecoder::State {
  std::unique_ptr<avro_obj_t, SchemaDeleter> schema;
  std::unique_ptr<avro_value_iface_t, IfaceDeleter> iface;
  avro_value_t record{};
  std::map<std::string, FieldPlan> plans;
  std::unique_ptr<std::remove_pointer_t<avro_reader_t>, ReaderDeleter> reader;
  size_t records_read = 0;
  bool last_consumed = false;  // the last failed record was read whole
  std::string text;

  ~State() {
    if (record.iface != nullptr)
      avro_value_decref(&record);
  }
};

AvroRecordDecoder::AvroRecordDecoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
AvroRecordDecoder::~AvroRecordDecoder() = default;

Result<std::unique_ptr<AvroRecordDecoder>> AvroRecordDecoder::Make(
    const std::string& writer_schema) {
  auto state = std::make_unique<State>();
  avro_schema_t schema = nullptr;
  if (avro_schema_from_json_length(writer_schema.data(), writer_schema.size(), &schema) != 0)
    return DataError(fmt::format("not a valid Avro schema: {}", avro_strerror()));
  state->schema.reset(schema);
  state->iface.reset(avro_generic_class_from_schema(schema));
  if (!state->iface || avro_generic_value_new(state->iface.get(), &state->record) != 0)
    return DataError(fmt::format("the Avro schema: {}", avro_strerror()));
  try {
    nlohmann::json json = nlohmann::json::parse(writer_schema);
    if (json.is_object() && json.contains("fields")) {
      for (const nlohmann::json& field : json["fields"]) {
        bool nullable = false;
        state->plans[field.at("name").get<std::string>()] =
            avro_internal::PlanOf(avro_internal::NonNull(field.at("type"), &nullable));
      }
    }
  } catch (const std::exception& error) {
    return DataError(fmt::format("the Avro schema: {}", error.what()));
  }
  return std::unique_ptr<AvroRecordDecoder>(new AvroRecordDecoder(std::move(state)));
}

void AvroRecordDecoder::Reset(std::string_view data) {
  State& state = *state_;
  if (!state.reader) {
    state.reader.reset(avro_reader_memory(data.data(), static_cast<int64_t>(data.size())));
  } else {
    avro_reader_memory_set_source(state.reader.get(), data.data(),
                                  static_cast<int64_t>(data.size()));
  }
  state.records_read = 0;
}

bool AvroRecordDecoder::last_record_consumed() const { return state_->last_consumed; }

Status AvroRecordDecoder::Append(size_t count, Batch* batch) {
  State& state = *state_;
  if (!state.reader)
    return Internal("AvroRecordDecoder::Append before Reset");
  const Schema& columns = batch->schema();
  for (size_t n = 0; n < count; ++n) {
    const size_t record = state.records_read++;
    avro_value_reset(&state.record);
    state.last_consumed = false;
    if (avro_value_read(state.reader.get(), &state.record) != 0)
      return DataError(fmt::format("record {}: {}", record + 1, avro_strerror()));
    for (size_t c = 0; c < columns.num_fields(); ++c) {
      const Field& field = columns.field(c);
      Column& column = batch->column(c);
      avro_value_t child;
      size_t index = 0;
      if (avro_value_get_by_name(&state.record, field.name.c_str(), &child, &index) != 0) {
        column.AppendNull();
        continue;
      }
      if (avro_value_get_type(&child) == AVRO_UNION) {
        avro_value_t branch;
        avro_value_get_current_branch(&child, &branch);
        child = branch;
      }
      if (avro_value_get_type(&child) == AVRO_NULL) {
        column.AppendNull();
        continue;
      }
      auto plan = state.plans.find(field.name);
      Status appended =
          AppendAvro(&child, plan == state.plans.end() ? FieldPlan{} : plan->second, &column,
                     &state.text);
      if (!appended.ok()) {
        for (size_t done = 0; done < c; ++done)
          batch->column(done).Truncate(batch->num_rows());
        state.last_consumed = true;  // decoded whole: the next record is where it should be
        return DataError(fmt::format("record {}: column '{}': {}", record + 1, field.name,
                                     appended.message()));
      }
    }
    batch->FinishRow();
  }
  return Status::OK();
}

}  // namespace sluice::formats
