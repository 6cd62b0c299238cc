#include "formats/csv/csv_writer.h"

#include <fmt/core.h>

#include "core/value_text.h"

namespace sluice::formats {

CsvWriter::CsvWriter(io::OutputStream* output, CsvDialect dialect, size_t flush_bytes)
    : output_(output), dialect_(std::move(dialect)), flush_bytes_(flush_bytes) {
  buffer_.reserve(flush_bytes_ + 4096);
  special_[static_cast<unsigned char>(dialect_.delimiter)] = true;
  special_[static_cast<unsigned char>('\r')] = true;
  special_[static_cast<unsigned char>('\n')] = true;
  if (dialect_.quote)
    special_[static_cast<unsigned char>(*dialect_.quote)] = true;
}

Status CsvWriter::QuoteIfNeeded(size_t start) {
  std::string_view text(buffer_.data() + start, buffer_.size() - start);
  bool needs = text.empty() || text.front() == ' ' || text.back() == ' ';
  if (!needs) {
    for (char c : text) {
      if (special_[static_cast<unsigned char>(c)]) {
        needs = true;
        break;
      }
    }
  }
  if (!needs && !dialect_.null_marker.empty() && text == dialect_.null_marker)
    needs = true;
  if (!needs)
    return Status::OK();
  if (!dialect_.quote) {
    return DataError(fmt::format(
        "cannot write '{}' without a quote character: it holds the delimiter, a line break, an "
        "edge space, or is empty or the null marker",
        text.substr(0, 40)));
  }
  const char quote = *dialect_.quote;
  scratch_.assign(text);
  buffer_.resize(start);
  buffer_.push_back(quote);
  for (char c : scratch_) {
    buffer_.push_back(c);
    if (c == quote)
      buffer_.push_back(quote);
  }
  buffer_.push_back(quote);
  return Status::OK();
}

Status CsvWriter::WriteHeader(const Schema& schema) {
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    if (i > 0)
      buffer_.push_back(dialect_.delimiter);
    size_t start = buffer_.size();
    buffer_.append(schema.field(i).name);
    SLUICE_RETURN_IF_ERROR(QuoteIfNeeded(start));
  }
  buffer_.push_back('\n');
  return Status::OK();
}

Status CsvWriter::WriteRows(const Batch& batch, size_t begin, size_t end) {
  const size_t columns = batch.num_columns();
  for (size_t row = begin; row < end; ++row) {
    for (size_t i = 0; i < columns; ++i) {
      if (i > 0)
        buffer_.push_back(dialect_.delimiter);
      const Column& column = batch.column(i);
      if (column.IsNull(row)) {
        buffer_.append(dialect_.null_marker);
        continue;
      }
      size_t start = buffer_.size();
      AppendValueText(column, row, &buffer_);
      SLUICE_RETURN_IF_ERROR(QuoteIfNeeded(start));
    }
    buffer_.push_back('\n');
    if (buffer_.size() >= flush_bytes_)
      SLUICE_RETURN_IF_ERROR(Flush());
  }
  return Status::OK();
}

Status CsvWriter::Flush() {
  if (buffer_.empty())
    return Status::OK();
  Status status = output_->Write(buffer_);
  flushed_bytes_ += buffer_.size();
  buffer_.clear();
  return status;
}

}  // namespace sluice::formats
