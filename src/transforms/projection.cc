#include "transforms/projection.h"

#include <fmt/core.h>

#include "core/value_text.h"

namespace sluice::transforms {

Result<Projection> Projection::Make(const config::TransformConfig& config, const SchemaPtr& input,
                                    std::string stream_name) {
  Projection projection;
  projection.input_ = input;
  projection.stream_name_ = std::move(stream_name);
  for (const Field& field : input->fields())
    projection.input_names_.push_back(field.name);
  std::vector<Field> fields;
  std::vector<int> output_of_input(input->num_fields(), -1);
  for (const config::ColumnMapping& mapping : config.columns) {
    int index = input->FieldIndex(mapping.input);
    if (index < 0) {
      std::string names;
      for (const Field& field : input->fields()) {
        if (!names.empty())
          names += ", ";
        names += field.name;
      }
      return InvalidConfig(fmt::format("{}: transform: no column '{}' in stream '{}' (columns: {})",
                                       mapping.mark.ToString(), mapping.input,
                                       projection.stream_name_, names));
    }
    Field field = input->field(static_cast<size_t>(index));
    field.name = mapping.output;
    bool cast = mapping.cast.has_value() && *mapping.cast != field.type;
    if (cast) {
      field.type = *mapping.cast;
      field.native_type.clear();
      field.collation.clear();
    }
    output_of_input[static_cast<size_t>(index)] = static_cast<int>(fields.size());
    fields.push_back(std::move(field));
    projection.steps_.push_back(Step{index, cast});
  }
  std::vector<int> primary_key;
  for (int key : input->primary_key()) {
    int mapped = output_of_input[static_cast<size_t>(key)];
    if (mapped < 0) {
      primary_key.clear();
      break;
    }
    primary_key.push_back(mapped);
  }
  projection.output_ = std::make_shared<Schema>(std::move(fields), std::move(primary_key));
  return projection;
}

Status Projection::Apply(const Batch& in, Batch* out,
                         connectors::BadRecordHandler* bad_records) const {
  std::string text;
  for (size_t row = 0; row < in.num_rows(); ++row) {
    Status failure;
    size_t failed_column = 0;
    for (size_t c = 0; c < steps_.size(); ++c) {
      const Column& source = in.column(static_cast<size_t>(steps_[c].input));
      Column& target = out->column(c);
      if (!steps_[c].cast || source.IsNull(row)) {
        target.AppendFrom(source, row);
        continue;
      }
      // Casts go through the canonical text: one exact path for every pair of types.
      text.clear();
      AppendValueText(source, row, &text);
      failure = AppendParsedValue(text, &target);
      if (!failure.ok()) {
        failed_column = c;
        break;
      }
    }
    if (failure.ok()) {
      out->SetRowKind(in.row_kind(row));  // a changelog's rows keep what they do
      out->FinishRow();
      continue;
    }
    out->DiscardPartialRow();
    const Field& field = output_->field(failed_column);
    connectors::BadRecord record;
    record.stream = stream_name_;
    // The key as the source names it: the row to look for there.
    std::string key;
    connectors::AppendKeyLocation(in, row, input_->primary_key(), input_names_, &key);
    record.location = fmt::format("stream '{}'{} column '{}'", stream_name_, key, field.name);
    record.raw = text.substr(0, 1024);
    record.reason = DataError(fmt::format("{}: cannot cast to {}: {}", record.location,
                                          field.type.ToString(), failure.message()));
    SLUICE_RETURN_IF_ERROR(bad_records->Handle(record));
  }
  return Status::OK();
}

}  // namespace sluice::transforms
