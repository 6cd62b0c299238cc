#include "connectors/kafka/kafka_avro.h"

#include <avro.h>
#include <curl/curl.h>
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "core/decimal.h"
#include "core/temporal.h"
#include "core/value_text.h"

namespace sluice::connectors::kafka {

namespace {

size_t OnBody(char* data, size_t size, size_t count, void* opaque) {
  static_cast<std::string*>(opaque)->append(data, size * count);
  return size * count;
}

// How a writer field's values become text: its Avro logical type, if any.
enum class Logical {
  kNone,
  kDate,
  kTimeMillis,
  kTimeMicros,
  kTimestampMillis,
  kTimestampMicros,
  kLocalTimestampMillis,
  kLocalTimestampMicros,
  kDecimal,
};

struct FieldPlan {
  Logical logical = Logical::kNone;
  int scale = 0;
};

// The non-null branch of ["null", T], or the type itself.
const nlohmann::json& NonNull(const nlohmann::json& type, bool* nullable) {
  if (type.is_array() && type.size() == 2) {
    if (type[0] == "null") {
      *nullable = true;
      return type[1];
    }
    if (type[1] == "null") {
      *nullable = true;
      return type[0];
    }
  }
  return type;
}

FieldPlan PlanOf(const nlohmann::json& type) {
  FieldPlan plan;
  if (!type.is_object())
    return plan;
  std::string logical = type.value("logicalType", "");
  if (logical == "date") {
    plan.logical = Logical::kDate;
  } else if (logical == "time-millis") {
    plan.logical = Logical::kTimeMillis;
  } else if (logical == "time-micros") {
    plan.logical = Logical::kTimeMicros;
  } else if (logical == "timestamp-millis") {
    plan.logical = Logical::kTimestampMillis;
  } else if (logical == "timestamp-micros") {
    plan.logical = Logical::kTimestampMicros;
  } else if (logical == "local-timestamp-millis") {
    plan.logical = Logical::kLocalTimestampMillis;
  } else if (logical == "local-timestamp-micros") {
    plan.logical = Logical::kLocalTimestampMicros;
  } else if (logical == "decimal") {
    plan.logical = Logical::kDecimal;
    plan.scale = type.value("scale", 0);
  }
  return plan;
}

DataType TypeOf(const nlohmann::json& type) {
  if (type.is_string()) {
    std::string name = type.get<std::string>();
    if (name == "boolean")
      return DataType::Bool();
    if (name == "int")
      return DataType::Int32();
    if (name == "long")
      return DataType::Int64();
    if (name == "float")
      return DataType::Float32();
    if (name == "double")
      return DataType::Float64();
    if (name == "bytes")
      return DataType::Bytes();
    if (name == "string" || name == "null")
      return DataType::String();
    return DataType::Json();  // a named type defined elsewhere
  }
  if (!type.is_object())
    return DataType::Json();
  switch (PlanOf(type).logical) {
    case Logical::kDate:
      return DataType::Date();
    case Logical::kTimeMillis:
    case Logical::kTimeMicros:
      return DataType::Time();
    case Logical::kTimestampMillis:
    case Logical::kTimestampMicros:
      return DataType::TimestampTz();
    case Logical::kLocalTimestampMillis:
    case Logical::kLocalTimestampMicros:
      return DataType::Timestamp();
    case Logical::kDecimal:
      return DataType::Decimal(type.value("precision", 38), type.value("scale", 0));
    case Logical::kNone:
      break;
  }
  std::string kind = type.value("type", "");
  if (kind == "enum")
    return DataType::String();
  if (kind == "fixed")
    return DataType::Bytes();
  if (kind == "record" || kind == "array" || kind == "map")
    return DataType::Json();
  return TypeOf(type["type"]);
}

struct SchemaDeleter {
  void operator()(avro_obj_t* schema) const { avro_schema_decref(schema); }
};
struct IfaceDeleter {
  void operator()(avro_value_iface_t* iface) const { avro_value_iface_decref(iface); }
};
struct ReaderDeleter {
  void operator()(avro_reader_t reader) const { avro_reader_free(reader); }
};

}  // namespace

SchemaRegistry::SchemaRegistry(std::string url, std::string user, Secret password)
    : url_(std::move(url)), user_(std::move(user)), password_(std::move(password)) {
  while (!url_.empty() && url_.back() == '/')
    url_.pop_back();
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<std::string> SchemaRegistry::Get(const std::string& path,
                                        const std::string* post_body) const {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl)
    return Internal("cannot create a libcurl handle");
  std::string url = url_ + path;
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, curl_slist_free_all);
  if (post_body != nullptr) {
    headers.reset(
        curl_slist_append(nullptr, "Content-Type: application/vnd.schemaregistry.v1+json"));
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, post_body->c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(post_body->size()));
  }
  std::string credentials;
  if (!user_.empty()) {
    credentials = user_ + ":" + password_.Reveal();
    curl_easy_setopt(curl.get(), CURLOPT_USERPWD, credentials.c_str());
  }
  CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    return Unavailable(fmt::format("Cannot reach the schema registry at '{}': {}", url,
                                   curl_easy_strerror(code)));
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status == 401 || status == 403) {
    return PermissionDenied(fmt::format("The schema registry refused '{}' (HTTP {}): check "
                                        "schema_registry_user and schema_registry_password",
                                        url, status));
  }
  if (status == 404)
    return NotFound(fmt::format("The schema registry has no '{}' (HTTP 404)", url));
  if (status == 409 || status == 422) {
    return InvalidConfig(fmt::format("The schema registry refused the schema for '{}' (HTTP {}, "
                                     "e.g. incompatible with the subject's earlier versions): {}",
                                     url, status, body.substr(0, 300)));
  }
  if (status != 200) {
    return Unavailable(fmt::format("The schema registry answered HTTP {} to '{}': {}", status,
                                   url, body.substr(0, 300)));
  }
  return body;
}

Result<std::pair<int32_t, std::string>> SchemaRegistry::Latest(const std::string& subject) const {
  SLUICE_ASSIGN_OR_RETURN(std::string body, Get("/subjects/" + subject + "/versions/latest"));
  try {
    nlohmann::json json = nlohmann::json::parse(body);
    int32_t id = json.at("id").get<int32_t>();
    std::string schema = json.at("schema").get<std::string>();
    std::lock_guard<std::mutex> lock(mutex_);
    by_id_[id] = schema;
    return std::make_pair(id, schema);
  } catch (const std::exception& error) {
    return Unavailable(fmt::format("The schema registry's answer for subject '{}' is not "
                                   "understood: {}",
                                   subject, error.what()));
  }
}

Result<std::string> SchemaRegistry::ById(int32_t id) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = by_id_.find(id); it != by_id_.end())
      return it->second;
  }
  SLUICE_ASSIGN_OR_RETURN(std::string body, Get(fmt::format("/schemas/ids/{}", id)));
  try {
    std::string schema = nlohmann::json::parse(body).at("schema").get<std::string>();
    std::lock_guard<std::mutex> lock(mutex_);
    by_id_[id] = schema;
    return schema;
  } catch (const std::exception& error) {
    return Unavailable(fmt::format("The schema registry's answer for schema id {} is not "
                                   "understood: {}",
                                   id, error.what()));
  }
}

Result<int32_t> SchemaRegistry::Register(const std::string& subject,
                                         const std::string& schema) const {
  std::string body = nlohmann::json{{"schema", schema}}.dump();
  SLUICE_ASSIGN_OR_RETURN(std::string answer, Get("/subjects/" + subject + "/versions", &body));
  try {
    int32_t id = nlohmann::json::parse(answer).at("id").get<int32_t>();
    std::lock_guard<std::mutex> lock(mutex_);
    by_id_[id] = schema;
    return id;
  } catch (const std::exception& error) {
    return Unavailable(fmt::format("The schema registry's answer to registering subject '{}' is "
                                   "not understood: {}",
                                   subject, error.what()));
  }
}

namespace {

bool IsAvroName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// The Avro type of a column (without the null of a nullable one).
nlohmann::ordered_json AvroTypeOf(const DataType& type) {
  auto logical = [](const char* base, const char* name) {
    return nlohmann::ordered_json{{"type", base}, {"logicalType", name}};
  };
  auto decimal = [](int precision, int scale) {
    return nlohmann::ordered_json{
        {"type", "bytes"}, {"logicalType", "decimal"}, {"precision", precision}, {"scale", scale}};
  };
  if (type.id == TypeId::kUInt64)
    return decimal(20, 0);
  if (type.is_integer())
    return type.id == TypeId::kInt64 || type.id == TypeId::kUInt32 ? "long" : "int";
  switch (type.id) {
    case TypeId::kBool:
      return "boolean";
    case TypeId::kFloat32:
      return "float";
    case TypeId::kFloat64:
      return "double";
    case TypeId::kDecimal:
      if (type.is_fast_decimal())
        return decimal(type.precision, type.scale);
      return "string";
    case TypeId::kBytes:
      return "bytes";
    case TypeId::kDate:
      return logical("int", "date");
    case TypeId::kTime:
      return logical("long", "time-micros");
    case TypeId::kTimestamp:
      return logical("long", "local-timestamp-micros");
    case TypeId::kTimestampTz:
      return logical("long", "timestamp-micros");
    default:  // string, json; the integers above
      return "string";
  }
}

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

}  // namespace

Result<std::string> AvroSchemaOf(const Schema& schema, const std::string& record_name) {
  std::string name;
  for (char c : record_name)
    name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    name.insert(name.begin(), '_');
  nlohmann::ordered_json fields = nlohmann::ordered_json::array();
  for (const Field& field : schema.fields()) {
    if (!IsAvroName(field.name)) {
      return InvalidConfig(fmt::format("column '{}' is not a valid Avro field name (letters, "
                                       "digits and '_', not starting with a digit): rename it "
                                       "with a transform",
                                       field.name));
    }
    nlohmann::ordered_json type = AvroTypeOf(field.type);
    if (field.nullable) {
      fields.push_back({{"name", field.name},
                        {"type", nlohmann::ordered_json::array({"null", type})},
                        {"default", nullptr}});
    } else {
      fields.push_back({{"name", field.name}, {"type", type}});
    }
  }
  nlohmann::ordered_json record = {
      {"type", "record"}, {"name", name}, {"namespace", "sluice"}, {"fields", fields}};
  return record.dump();
}

struct AvroEncoder::State {
  int32_t id = 0;
  std::unique_ptr<avro_obj_t, SchemaDeleter> schema;
  std::unique_ptr<avro_value_iface_t, IfaceDeleter> iface;
  avro_value_t record{};
  std::string text;
  std::string body;

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
        error = avro_value_set_bytes(field, const_cast<char*>(bytes.data()), bytes.size());
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

AvroEncoder::AvroEncoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
AvroEncoder::~AvroEncoder() = default;

Result<std::unique_ptr<AvroEncoder>> AvroEncoder::Make(const std::string& schema, int32_t id) {
  auto state = std::make_unique<State>();
  state->id = id;
  avro_schema_t parsed = nullptr;
  if (avro_schema_from_json_length(schema.data(), schema.size(), &parsed) != 0)
    return Internal(fmt::format("the value schema is not valid Avro: {}", avro_strerror()));
  state->schema.reset(parsed);
  state->iface.reset(avro_generic_class_from_schema(parsed));
  if (!state->iface || avro_generic_value_new(state->iface.get(), &state->record) != 0)
    return Internal(fmt::format("the value schema: {}", avro_strerror()));
  return std::unique_ptr<AvroEncoder>(new AvroEncoder(std::move(state)));
}

Status AvroEncoder::Append(const Batch& batch, size_t row, std::string* out) {
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
  state.body.resize(size);
  std::unique_ptr<std::remove_pointer_t<avro_writer_t>, void (*)(avro_writer_t)> writer(
      avro_writer_memory(state.body.data(), static_cast<int64_t>(size)), avro_writer_free);
  if (avro_value_write(writer.get(), &state.record) != 0)
    return DataError(fmt::format("a row as Avro: {}", avro_strerror()));
  uint32_t id = static_cast<uint32_t>(state.id);
  out->push_back('\0');
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((id >> shift) & 0xff));
  out->append(state.body);
  return Status::OK();
}

Result<std::vector<Field>> AvroColumns(const std::string& schema) {
  try {
    nlohmann::json json = nlohmann::json::parse(schema);
    if (!json.is_object() || json.value("type", "") != "record")
      return InvalidConfig("the value schema is not an Avro record: declare the columns");
    std::vector<Field> fields;
    for (const nlohmann::json& field : json.at("fields")) {
      bool nullable = false;
      const nlohmann::json& type = NonNull(field.at("type"), &nullable);
      fields.push_back(Field{field.at("name").get<std::string>(), TypeOf(type), true});
    }
    return fields;
  } catch (const std::exception& error) {
    return InvalidConfig(fmt::format("the Avro schema is not understood: {}", error.what()));
  }
}

// A writer schema: libavro's parsed schema and value class, and each field's plan by name.
struct AvroDecoder::Writer {
  std::unique_ptr<avro_obj_t, SchemaDeleter> schema;
  std::unique_ptr<avro_value_iface_t, IfaceDeleter> iface;
  std::map<std::string, FieldPlan> plans;
};

AvroDecoder::AvroDecoder(std::shared_ptr<const SchemaRegistry> registry, SchemaPtr value_schema)
    : registry_(std::move(registry)), value_schema_(std::move(value_schema)) {}

AvroDecoder::~AvroDecoder() = default;

Result<AvroDecoder::Writer*> AvroDecoder::WriterFor(int32_t id) {
  if (auto it = writers_.find(id); it != writers_.end())
    return it->second.get();
  SLUICE_ASSIGN_OR_RETURN(std::string text, registry_->ById(id));
  auto writer = std::make_unique<Writer>();
  avro_schema_t schema = nullptr;
  if (avro_schema_from_json_length(text.data(), text.size(), &schema) != 0) {
    return DataError(fmt::format("schema id {} is not a valid Avro schema: {}", id,
                                 avro_strerror()));
  }
  writer->schema.reset(schema);
  writer->iface.reset(avro_generic_class_from_schema(schema));
  if (!writer->iface)
    return DataError(fmt::format("schema id {}: {}", id, avro_strerror()));
  try {
    nlohmann::json json = nlohmann::json::parse(text);
    if (json.is_object() && json.contains("fields")) {
      for (const nlohmann::json& field : json["fields"]) {
        bool nullable = false;
        writer->plans[field.at("name").get<std::string>()] =
            PlanOf(NonNull(field.at("type"), &nullable));
      }
    }
  } catch (const std::exception& error) {
    return DataError(fmt::format("schema id {}: {}", id, error.what()));
  }
  Writer* out = writer.get();
  writers_[id] = std::move(writer);
  return out;
}

namespace {

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

Status AvroDecoder::Append(std::string_view message, const std::string& location, Batch* batch) {
  if (message.size() < 5 || message[0] != 0) {
    return DataError(fmt::format("{}: not an Avro message of the schema registry's wire format "
                                 "(a 0 byte and a 4-byte schema id first)",
                                 location));
  }
  int32_t id = static_cast<int32_t>((static_cast<uint32_t>(static_cast<uint8_t>(message[1])) << 24) |
                                    (static_cast<uint32_t>(static_cast<uint8_t>(message[2])) << 16) |
                                    (static_cast<uint32_t>(static_cast<uint8_t>(message[3])) << 8) |
                                    static_cast<uint32_t>(static_cast<uint8_t>(message[4])));
  Result<Writer*> found = WriterFor(id);
  if (!found.ok()) {
    if (found.status().code() == StatusCode::kDataError)
      return DataError(fmt::format("{}: {}", location, found.status().message()));
    return found.status().WithContext(location);
  }
  Writer* writer = *found;
  avro_value_t record;
  if (avro_generic_value_new(writer->iface.get(), &record) != 0)
    return Internal(fmt::format("{}: {}", location, avro_strerror()));
  std::unique_ptr<avro_value_t, void (*)(avro_value_t*)> owned(&record, avro_value_decref);
  avro_reader_t reader = avro_reader_memory(message.data() + 5, static_cast<int64_t>(message.size() - 5));
  std::unique_ptr<std::remove_pointer_t<avro_reader_t>, ReaderDeleter> owned_reader(reader);
  if (avro_value_read(reader, &record) != 0) {
    return DataError(fmt::format("{}: the Avro body does not match schema id {}: {}", location, id,
                                 avro_strerror()));
  }
  for (size_t c = 0; c < value_schema_->num_fields(); ++c) {
    const Field& field = value_schema_->field(c);
    Column& column = batch->column(c);
    avro_value_t child;
    size_t index = 0;
    if (avro_value_get_by_name(&record, field.name.c_str(), &child, &index) != 0) {
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
    auto plan = writer->plans.find(field.name);
    Status appended = AppendAvro(&child, plan == writer->plans.end() ? FieldPlan{} : plan->second,
                                 &column, &text_);
    if (!appended.ok()) {
      for (size_t done = 0; done < c; ++done)
        batch->column(done).Truncate(batch->num_rows());
      return DataError(fmt::format("{}: column '{}': {}", location, field.name,
                                   appended.message()));
    }
  }
  batch->FinishRow();
  return Status::OK();
}

}  // namespace sluice::connectors::kafka
