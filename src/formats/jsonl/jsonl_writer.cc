#include "formats/jsonl/jsonl_writer.h"

#include <cmath>

#include "core/value_text.h"
#include "formats/jsonl/json_text.h"

namespace sluice::formats {

namespace {

template <typename T>
void AppendJsonFloat(T value, std::string* out) {
  if (std::isnan(value)) {
    out->append("\"NaN\"");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else if constexpr (sizeof(T) == 4) {
    AppendFloat(value, out);
  } else {
    AppendDouble(value, out);
  }
}

}  // namespace

JsonlWriter::JsonlWriter(io::OutputStream* output, size_t flush_bytes)
    : output_(output), flush_bytes_(flush_bytes) {
  buffer_.reserve(flush_bytes_ + 4096);
}

void JsonlWriter::PrepareKeys(const Schema& schema) {
  keys_schema_ = &schema;
  key_prefixes_.clear();
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    std::string prefix = i == 0 ? "{" : ",";
    AppendJsonString(schema.field(i).name, &prefix);
    prefix += ':';
    key_prefixes_.push_back(std::move(prefix));
  }
}

void AppendJsonValue(const Column& column, size_t row, std::string* out, std::string* scratch) {
  switch (column.type().id) {
    case TypeId::kNull:
      out->append("null");
      return;
    case TypeId::kBool:
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      AppendValueText(column, row, out);
      return;
    case TypeId::kFloat32:
      AppendJsonFloat(column.Get<float>(row), out);
      return;
    case TypeId::kFloat64:
      AppendJsonFloat(column.Get<double>(row), out);
      return;
    case TypeId::kString:
      AppendJsonString(column.GetView(row), out);
      return;
    case TypeId::kJson: {
      std::string_view json = column.GetView(row);
      out->append(json.empty() ? std::string_view("null") : json);
      return;
    }
    case TypeId::kDecimal:
    case TypeId::kBytes:
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      scratch->clear();
      AppendValueText(column, row, scratch);
      AppendJsonString(*scratch, out);
      return;
  }
}

Status JsonlWriter::WriteRows(const Batch& batch, size_t begin, size_t end) {
  if (&batch.schema() != keys_schema_)
    PrepareKeys(batch.schema());
  const size_t columns = batch.num_columns();
  for (size_t row = begin; row < end; ++row) {
    if (columns == 0)
      buffer_.push_back('{');
    for (size_t i = 0; i < columns; ++i) {
      buffer_.append(key_prefixes_[i]);
      const Column& column = batch.column(i);
      if (column.IsNull(row)) {
        buffer_.append("null");
      } else {
        AppendJsonValue(column, row, &buffer_, &scratch_);
      }
    }
    buffer_.append("}\n");
    if (buffer_.size() >= flush_bytes_)
      SLUICE_RETURN_IF_ERROR(Flush());
  }
  return Status::OK();
}

Status JsonlWriter::Flush() {
  if (buffer_.empty())
    return Status::OK();
  Status status = output_->Write(buffer_);
  flushed_bytes_ += buffer_.size();
  buffer_.clear();
  return status;
}

}  // namespace sluice::formats
