#include "formats/csv/csv_batch_builder.h"

#include <fmt/core.h>

#include <charconv>

#include "core/value_text.h"
#include "formats/jsonl/json_text.h"

namespace sluice::formats {

CsvBatchBuilder::CsvBatchBuilder(SchemaPtr schema, std::vector<int> field_to_column,
                                 CsvDialect dialect)
    : schema_(std::move(schema)),
      dialect_(std::move(dialect)),
      field_count_(field_to_column.size()) {
  std::vector<bool> filled(schema_->num_fields(), false);
  targets_.reserve(field_to_column.size());
  for (int column : field_to_column) {
    Kind kind = Kind::kOther;
    if (column >= 0) {
      filled[static_cast<size_t>(column)] = true;
      switch (schema_->field(static_cast<size_t>(column)).type.id) {
        case TypeId::kString:
          kind = Kind::kString;
          break;
        case TypeId::kInt64:
          kind = Kind::kInt64;
          break;
        case TypeId::kFloat64:
          kind = Kind::kFloat64;
          break;
        case TypeId::kJson:
          kind = Kind::kJson;
          break;
        default:
          break;
      }
      if (kind == Kind::kJson && !json_validator_) {
        json_validator_ = std::make_unique<JsonValidator>();
      }
    }
    targets_.push_back(Target{column, kind});
  }
  for (size_t i = 0; i < filled.size(); ++i) {
    if (!filled[i])
      unfilled_columns_.push_back(static_cast<int>(i));
  }
}

CsvBatchBuilder::~CsvBatchBuilder() = default;

Status CsvBatchBuilder::FieldError(const CsvRecord& record, size_t i, int column,
                                   std::string_view what) const {
  return DataError(fmt::format("{}: {} (column '{}')", record.Location(i), what,
                               schema_->field(static_cast<size_t>(column)).name));
}

Status CsvBatchBuilder::AppendField(const CsvRecord& record, size_t i, const Target& target,
                                    Batch* batch) {
  const CsvField& field = record[i];
  Column& column = batch->column(static_cast<size_t>(target.column));
  std::string_view text = field.text;
  if (!field.quoted &&
      (dialect_.null_marker.empty() ? text.empty() : text == dialect_.null_marker)) {
    column.AppendNull();
    return Status::OK();
  }
  if (text.empty() && target.kind != Kind::kString) {
    column.AppendNull();
    return Status::OK();
  }
  switch (target.kind) {
    case Kind::kString:
      if (FindInvalidUtf8(text) != std::string_view::npos) {
        return DataError(fmt::format("{}: invalid UTF-8 in column '{}'", record.Location(i),
                                     schema_->field(static_cast<size_t>(target.column)).name));
      }
      column.AppendView(text);
      return Status::OK();
    case Kind::kInt64: {
      int64_t value;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error == std::errc() && end == text.data() + text.size()) {
        column.Append<int64_t>(value);
        return Status::OK();
      }
      break;  // the general parser accepts "+5" and " 5", and words the error
    }
    case Kind::kFloat64: {
      // from_chars would also take "nan(...)" and "inf"; leave every letter to the general
      // parser so that the accepted spellings stay exactly core's.
      char first = text[0];
      if ((first >= '0' && first <= '9') || first == '-' || first == '.') {
        double value;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error == std::errc() && end == text.data() + text.size()) {
          column.Append<double>(value);
          return Status::OK();
        }
      }
      break;
    }
    case Kind::kJson: {
      if (FindInvalidUtf8(text) != std::string_view::npos) {
        return DataError(fmt::format("{}: invalid UTF-8 in column '{}'", record.Location(i),
                                     schema_->field(static_cast<size_t>(target.column)).name));
      }
      Status valid = json_validator_->Validate(text);
      if (!valid.ok())
        return FieldError(record, i, target.column, valid.message());
      column.AppendView(text);
      return Status::OK();
    }
    case Kind::kOther:
      break;
  }
  Status status = AppendParsedValue(text, &column);
  if (!status.ok())
    return FieldError(record, i, target.column, status.message());
  return Status::OK();
}

Status CsvBatchBuilder::Append(const CsvRecord& record, Batch* batch) {
  if (record.size() != field_count_) {
    return DataError(fmt::format("{}: expected {} field{}, got {}", record.Location(), field_count_,
                                 field_count_ == 1 ? "" : "s", record.size()));
  }
  for (size_t i = 0; i < field_count_; ++i) {
    const Target& target = targets_[i];
    if (target.column < 0)
      continue;
    Status status = AppendField(record, i, target, batch);
    if (!status.ok()) {
      batch->DiscardPartialRow();
      return status;
    }
  }
  for (int column : unfilled_columns_)
    batch->column(static_cast<size_t>(column)).AppendNull();
  batch->FinishRow();
  return Status::OK();
}

}  // namespace sluice::formats
