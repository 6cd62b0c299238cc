// ParquetReader: reads a Parquet file into batches, the Parquet schema mapped back to Sluice
// types (README.md has the table).
//
// Reads flat files: required and optional leaf columns of every physical type but INT96, with
// PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY and (booleans) RLE encodings, data pages v1 and v2,
// and the none, snappy, gzip and zstd codecs: everything ParquetWriter writes and what pyarrow
// writes by default. Nested or repeated columns, and types with no exact Sluice type, are
// refused by Open() with an error naming the column. Timestamps and times in milliseconds or
// nanoseconds become microseconds; a nanosecond value that is not a whole microsecond is a
// DataError rather than a silent truncation.
//
// One column chunk per column is held in memory at a time (read with one ReadAt), and one
// decoded page.
// Thread-safety: none; one thread drives a reader. Lifetime: the reader owns its file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/batch.h"
#include "formats/parquet/random_access_file.h"

namespace sluice::formats {

namespace parquet_internal {
class ColumnReader;
struct ReaderFooter;
}  // namespace parquet_internal

class ParquetReader {
 public:
  /// Reads and checks the footer and maps the schema. Errors name the file (and the column).
  static Result<std::unique_ptr<ParquetReader>> Open(std::unique_ptr<RandomAccessFile> file);
  ~ParquetReader();
  ParquetReader(const ParquetReader&) = delete;
  ParquetReader& operator=(const ParquetReader&) = delete;

  /// The file's columns as Sluice fields (OPTIONAL columns nullable).
  const SchemaPtr& schema() const { return schema_; }
  int64_t num_rows() const { return num_rows_; }
  int num_row_groups() const;
  /// The writer the file names ("parquet-cpp-arrow version 26.0.1", "sluice").
  const std::string& created_by() const;

  /// Appends rows to `batch`, which must have schema(), until it is full or the file ends;
  /// returns how many, 0 once every row was read. After an error the batch holds a partial
  /// row and the reader cannot go on: discard both.
  Result<size_t> ReadBatch(Batch* batch);

 private:
  explicit ParquetReader(std::unique_ptr<RandomAccessFile> file);
  Status ReadFooter();
  Status StartRowGroup(int index);

  std::unique_ptr<RandomAccessFile> file_;
  std::unique_ptr<parquet_internal::ReaderFooter> footer_;
  SchemaPtr schema_;
  int64_t num_rows_ = 0;
  std::vector<std::unique_ptr<parquet_internal::ColumnReader>> columns_;
  int next_row_group_ = 0;
  int64_t rows_left_in_row_group_ = 0;
};

}  // namespace sluice::formats
