#include "core/batch.h"

namespace sluice {

std::string_view RowKindName(RowKind kind) {
  switch (kind) {
    case RowKind::kInsert:
      return "insert";
    case RowKind::kUpdateBefore:
      return "update_before";
    case RowKind::kUpdateAfter:
      return "update_after";
    case RowKind::kDelete:
      return "delete";
  }
  return "unknown";
}

Column::Column(DataType type, size_t capacity, Arena* arena)
    : type_(type), width_(type.physical_width()), capacity_(capacity), arena_(arena) {
  // At least one byte per slot keeps AppendNull's memset valid for the null type.
  data_ = std::make_unique<uint8_t[]>(capacity * static_cast<size_t>(width_ > 0 ? width_ : 1));
  validity_ = std::make_unique<uint64_t[]>((capacity + 63) / 64);
  if (width_ == 0)
    width_ = 1;
}

void Column::AppendFrom(const Column& other, size_t row) {
  if (other.IsNull(row)) {
    AppendNull();
    return;
  }
  if (type_.is_variable_width()) {
    AppendView(other.GetView(row));
    return;
  }
  std::memcpy(data_.get() + size_ * width_, other.data_.get() + row * other.width_, width_);
  MarkValid();
}

bool Column::ValueEquals(size_t row, const Column& other, size_t other_row) const {
  bool null = IsNull(row);
  if (null != other.IsNull(other_row))
    return false;
  if (null)
    return true;
  if (type_.is_variable_width())
    return GetView(row) == other.GetView(other_row);
  return std::memcmp(data_.get() + row * width_, other.data_.get() + other_row * other.width_,
                     width_) == 0;
}

Batch::Batch(SchemaPtr schema, size_t capacity)
    : schema_(std::move(schema)), capacity_(capacity), arena_(std::make_unique<Arena>()) {
  columns_.reserve(schema_->num_fields());
  for (const Field& field : schema_->fields()) {
    columns_.emplace_back(field.type, capacity_, arena_.get());
    fixed_row_width_ += field.type.is_variable_width() ? 0 : field.type.physical_width();
  }
}

void Batch::AppendRow(const Batch& other, size_t row) {
  for (size_t c = 0; c < columns_.size(); ++c)
    columns_[c].AppendFrom(other.columns_[c], row);
  SetRowKind(other.row_kind(row));
  FinishRow();
}

void Batch::DiscardPartialRow() {
  for (Column& column : columns_)
    column.Truncate(num_rows_);
  if (has_row_kinds_ && num_rows_ < capacity_)
    row_kinds_[num_rows_] = static_cast<uint8_t>(RowKind::kInsert);
}

void Batch::StartRowKinds() {
  if (!row_kinds_)
    row_kinds_ = std::make_unique<uint8_t[]>(capacity_);
  // Every row so far was an insert; so is every later row built without SetRowKind.
  std::memset(row_kinds_.get(), static_cast<int>(RowKind::kInsert), capacity_);
  has_row_kinds_ = true;
}

void Batch::Clear() {
  num_rows_ = 0;
  has_row_kinds_ = false;
  for (Column& column : columns_)
    column.Clear();
  arena_->Reset();
}

size_t Batch::ByteSize() const {
  return num_rows_ * fixed_row_width_ + arena_->bytes_used();
}

}  // namespace sluice
