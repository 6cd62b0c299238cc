// Rows as Avro binary records (the body of a registry-framed Kafka message, or one record of a
// container file's block) and back, on Debian's libavro (avro-c).
//
// Thread-safety: none; an encoder or decoder is used by one thread. Lifetime: self-contained.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/batch.h"

namespace sluice::formats {

/// Encodes rows of batches whose columns match the record schema it was made with
/// (AvroSchemaOf's: the same fields in the same order).
class AvroRecordEncoder {
 public:
  static Result<std::unique_ptr<AvroRecordEncoder>> Make(const std::string& schema);
  ~AvroRecordEncoder();
  AvroRecordEncoder(const AvroRecordEncoder&) = delete;
  AvroRecordEncoder& operator=(const AvroRecordEncoder&) = delete;

  /// Appends row `row` of `batch` as one Avro binary record to `out`. A value the schema cannot
  /// hold is a DataError naming the column.
  Status Append(const Batch& batch, size_t row, std::string* out);

 private:
  struct State;
  explicit AvroRecordEncoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Decodes records of one writer schema into rows of a batch, by column name: a column the
/// writer schema lacks is NULL; values convert through their canonical text where the types
/// differ.
class AvroRecordDecoder {
 public:
  /// `writer_schema`: the JSON text the records were written with.
  static Result<std::unique_ptr<AvroRecordDecoder>> Make(const std::string& writer_schema);
  ~AvroRecordDecoder();
  AvroRecordDecoder(const AvroRecordDecoder&) = delete;
  AvroRecordDecoder& operator=(const AvroRecordDecoder&) = delete;

  /// The records to decode next are laid end to end in `data`, which must outlive the Append
  /// calls that read them.
  void Reset(std::string_view data);
  /// Decodes the next `count` records as rows of `batch`. A record that does not decode is a
  /// DataError ("record K: ...", K counted from the last Reset); the rows before it stay in the
  /// batch, the bad one is not half added, and the records after it cannot be read (the data's
  /// framing is lost) unless last_record_consumed(): the record decoded but a value did not
  /// fit its column, so the next Append goes on after it.
  Status Append(size_t count, Batch* batch);
  /// After a failed Append: whether the bad record was read whole (a value that does not
  /// convert), so that the records after it can still be read.
  bool last_record_consumed() const;

 private:
  struct State;
  explicit AvroRecordDecoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace sluice::formats
