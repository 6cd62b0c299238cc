// Batch and Column: the columnar unit in which rows travel from readers to writers.
//
// A Batch holds up to `capacity` rows of one stream: one Column per schema field, each with a
// validity bitmap (bit set = value present) and a fixed-width value buffer sized for the
// capacity up front. Variable-length values (strings, bytes, json, wide decimals) are copied into
// the batch's Arena and the column keeps std::string_view slots pointing there, so building a
// batch allocates nothing per value.
//
// Rows are built column by column: append one value to every column, then FinishRow(). A row
// abandoned half-way (a bad value under `errors: skip`) is dropped with DiscardPartialRow().
//
// Changelog streams (change data capture, Debezium envelopes) give each row a RowKind: set it
// with SetRowKind() before FinishRow(). A batch of inserts only never allocates or touches the
// kinds array (has_row_kinds() is false and every row_kind() is kInsert), so batch jobs pay
// nothing for it.
//
// Lifetime: views returned by GetView() stay valid until the batch is cleared or destroyed.
// Thread-safety: none; a batch is filled by one thread and then handed over whole.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "core/arena.h"
#include "core/schema.h"

namespace sluice {

/// What a row does to its target. Batch jobs carry inserts only; changelog streams all four. An
/// update travels as its before image (kUpdateBefore, when the source has it) followed by its
/// after image (kUpdateAfter), both with the row's key.
enum class RowKind : uint8_t {
  kInsert = 0,
  kUpdateBefore = 1,
  kUpdateAfter = 2,
  kDelete = 3,
};

/// "insert", "update_before", "update_after", "delete".
std::string_view RowKindName(RowKind kind);

class Column {
 public:
  Column(DataType type, size_t capacity, Arena* arena);
  Column(Column&&) noexcept = default;
  Column& operator=(Column&&) noexcept = default;

  const DataType& type() const { return type_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

  bool IsNull(size_t row) const { return ((validity_[row >> 6] >> (row & 63)) & 1) == 0; }
  bool IsValid(size_t row) const { return !IsNull(row); }

  /// Fixed-width value at `row`; T must match the type's physical storage (see types.h).
  template <typename T>
  T Get(size_t row) const {
    T value;
    std::memcpy(&value, data_.get() + row * sizeof(T), sizeof(T));
    return value;
  }
  /// Variable-width value at `row` (string, bytes, json, wide decimal).
  std::string_view GetView(size_t row) const {
    return reinterpret_cast<const std::string_view*>(data_.get())[row];
  }

  void AppendNull() {
    std::memset(data_.get() + size_ * width_, 0, width_);
    validity_[size_ >> 6] &= ~(uint64_t{1} << (size_ & 63));
    ++size_;
  }
  template <typename T>
  void Append(T value) {
    std::memcpy(data_.get() + size_ * sizeof(T), &value, sizeof(T));
    MarkValid();
  }
  /// Copies `bytes` into the arena and appends a view of the copy.
  void AppendView(std::string_view bytes) { AppendViewNoCopy(arena_->Copy(bytes)); }
  /// Appends `bytes` as is; they must live in this batch's arena or outlive the batch.
  void AppendViewNoCopy(std::string_view bytes) {
    reinterpret_cast<std::string_view*>(data_.get())[size_] = bytes;
    MarkValid();
  }
  /// Appends the value at `row` of `other`, which must have the same physical type.
  void AppendFrom(const Column& other, size_t row);
  /// Whether the value at `row` equals the value at `other_row` of `other` (same physical
  /// type): both NULL, or the same bytes. Compares representations, so a float's -0 and 0 differ.
  bool ValueEquals(size_t row, const Column& other, size_t other_row) const;

  /// Drops rows at and after `rows`.
  void Truncate(size_t rows) { size_ = rows; }
  void Clear() { size_ = 0; }

  /// Raw access for bulk encoders: the value buffer and the bitmap.
  const uint8_t* data() const { return data_.get(); }
  const uint64_t* validity() const { return validity_.get(); }
  Arena* arena() const { return arena_; }

 private:
  void MarkValid() {
    validity_[size_ >> 6] |= uint64_t{1} << (size_ & 63);
    ++size_;
  }

  DataType type_;
  int width_ = 0;
  size_t size_ = 0;
  size_t capacity_ = 0;
  std::unique_ptr<uint8_t[]> data_;
  std::unique_ptr<uint64_t[]> validity_;
  Arena* arena_ = nullptr;
};

class Batch {
 public:
  /// Default rows per batch: large enough to amortise per-batch costs, small enough for caches.
  static constexpr size_t kDefaultCapacity = 4096;

  Batch(SchemaPtr schema, size_t capacity = kDefaultCapacity);
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  const Schema& schema() const { return *schema_; }
  const SchemaPtr& schema_ptr() const { return schema_; }
  size_t num_rows() const { return num_rows_; }
  size_t num_columns() const { return columns_.size(); }
  size_t capacity() const { return capacity_; }
  bool full() const { return num_rows_ >= capacity_; }
  bool empty() const { return num_rows_ == 0; }

  Column& column(size_t i) { return columns_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }
  Arena& arena() { return *arena_; }

  /// Index of the stream (table) this batch belongs to, for multi-table jobs.
  int stream() const { return stream_; }
  void set_stream(int stream) { stream_ = stream; }

  /// Counts the row whose values were just appended to every column.
  void FinishRow() { ++num_rows_; }

  /// True once any row of this batch has a kind other than kInsert.
  bool has_row_kinds() const { return has_row_kinds_; }
  RowKind row_kind(size_t row) const {
    return has_row_kinds_ ? static_cast<RowKind>(row_kinds_[row]) : RowKind::kInsert;
  }
  /// Sets the kind of the row being built (call before FinishRow). Inserts need no call.
  void SetRowKind(RowKind kind) { SetRowKind(num_rows_, kind); }
  /// Sets the kind of row `row` (< capacity).
  void SetRowKind(size_t row, RowKind kind) {
    if (kind == RowKind::kInsert && !has_row_kinds_)
      return;
    if (!has_row_kinds_)
      StartRowKinds();
    row_kinds_[row] = static_cast<uint8_t>(kind);
  }
  /// Appends row `row` of `other` (same physical schema) with its kind: values are copied into
  /// this batch's arena. The batch must not be full.
  void AppendRow(const Batch& other, size_t row);
  /// Drops the values appended since the last FinishRow().
  void DiscardPartialRow();
  /// Empties the batch for reuse, keeping its buffers.
  void Clear();

  /// Approximate in-memory size of the values: fixed-width buffers in use plus arena bytes.
  size_t ByteSize() const;
  /// Bytes held by the arena, for readers that cap a batch by memory as well as rows.
  size_t arena_bytes() const { return arena_->bytes_used(); }

 private:
  SchemaPtr schema_;
  size_t capacity_;
  size_t num_rows_ = 0;
  int stream_ = 0;
  size_t fixed_row_width_ = 0;
  std::unique_ptr<Arena> arena_;  // heap-held so Column's arena pointer survives moves
  std::vector<Column> columns_;
  // One RowKind per row, allocated on the first non-insert row and kept across Clear().
  void StartRowKinds();
  bool has_row_kinds_ = false;
  std::unique_ptr<uint8_t[]> row_kinds_;
};

}  // namespace sluice
