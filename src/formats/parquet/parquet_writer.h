// ParquetWriter: writes batches as one Parquet file through an io::OutputStream.
//
// Every Sluice type maps to one exact Parquet type (README.md has the table): flat columns,
// REQUIRED for non-nullable fields and OPTIONAL with RLE definition levels otherwise. Values are
// dictionary-encoded (RLE_DICTIONARY, the dictionary page PLAIN) until a column chunk's
// dictionary would pass `dictionary_bytes`, then PLAIN for the rest of that chunk; booleans are
// PLAIN. Data pages are version 1, cut at `page_bytes`, compressed with the file's codec, and
// carry statistics (min/max in the column's sort order, null count), as does each column chunk.
//
// A row group is built in memory and goes to the stream whole, when it reaches
// `row_group_bytes` or on FlushRowGroup(). That makes a file resumable: after FlushRowGroup()
// every row written so far is in the stream, and CommittedState() describes the file up to
// there. A later process that truncated the file back to CommittedFileBytes(state) continues it
// with Resume(); the finished file is the same as one written in one go with the same flushes.
// Finish() writes the footer; a file without it is not readable Parquet.
//
// Values that Parquet cannot hold are refused, never altered: a time outside 00:00..24:00 is a
// DataError naming column and row; a decimal wider than 38 digits is Unsupported when the writer
// is opened.
//
// Thread-safety: none; one thread drives a writer. Lifetime: the output stream must outlive the
// writer, which never closes it. After an error from Write/FlushRowGroup/Finish other than a
// DataError, the writer refuses further calls (the file must be truncated and resumed).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch.h"
#include "formats/parquet/parquet_options.h"
#include "io/stream.h"

namespace sluice::formats {

namespace parquet_internal {
class ColumnWriter;
class PageCompressor;
struct WriterRowGroups;
}  // namespace parquet_internal

class ParquetWriter {
 public:
  /// Starts a file: writes the leading magic "PAR1" to `output`.
  static Result<std::unique_ptr<ParquetWriter>> Open(io::OutputStream* output, SchemaPtr schema,
                                                     ParquetWriterOptions options = {});
  /// Continues a file described by `committed_state` (from CommittedState()) for the same
  /// schema. `output` must be positioned at CommittedFileBytes(committed_state): the file
  /// truncated back to that length and opened for appending.
  static Result<std::unique_ptr<ParquetWriter>> Resume(io::OutputStream* output,
                                                       SchemaPtr schema,
                                                       ParquetWriterOptions options,
                                                       std::string_view committed_state);
  /// The file length a committed state describes, to truncate the file to before Resume().
  static Result<uint64_t> CommittedFileBytes(std::string_view committed_state);

  ~ParquetWriter();
  ParquetWriter(const ParquetWriter&) = delete;
  ParquetWriter& operator=(const ParquetWriter&) = delete;

  /// Writes all rows of `batch`, whose schema must have the writer's column types.
  Status Write(const Batch& batch) { return WriteRows(batch, 0, batch.num_rows()); }
  /// Writes rows [begin, end) of `batch`. Checks every value first, so a DataError leaves the
  /// file as it was.
  Status WriteRows(const Batch& batch, size_t begin, size_t end);
  /// False once an error made the writer unusable. A DataError from WriteRows for a value
  /// Parquet cannot hold (a TIME past 24 h, a NULL in a required column) leaves it usable:
  /// nothing of that call was written.
  bool usable() const { return failed_.ok(); }

  /// Ends the current row group (if it has rows) and hands it to the stream.
  Status FlushRowGroup();
  /// Bytes that describe the file as far as its completed row groups: what Resume() takes.
  /// Rows not yet flushed are not in it. Binary (a Thrift compact struct), a few hundred bytes
  /// per row group and column.
  std::string CommittedState() const;
  /// File length up to the end of the last completed row group.
  uint64_t committed_bytes() const { return committed_bytes_; }

  /// Flushes the last row group and writes the footer. The stream stays open.
  Status Finish();

  /// Rows accepted so far, buffered ones included.
  int64_t rows_written() const { return committed_rows_ + buffered_rows_; }
  /// Bytes held for the row group being built (compressed pages plus the pages being filled).
  size_t buffered_bytes() const;

 private:
  ParquetWriter(io::OutputStream* output, SchemaPtr schema, ParquetWriterOptions options);
  Status Start();
  Status CheckBatch(const Batch& batch, size_t begin, size_t end) const;
  Status WriteToStream(std::string_view bytes);

  io::OutputStream* output_;
  SchemaPtr schema_;
  ParquetWriterOptions options_;
  std::unique_ptr<parquet_internal::PageCompressor> compressor_;  // shared by the columns
  std::vector<std::unique_ptr<parquet_internal::ColumnWriter>> columns_;
  // The completed row groups' metadata (Thrift structs, kept out of this header).
  std::unique_ptr<parquet_internal::WriterRowGroups> row_groups_;
  uint64_t committed_bytes_ = 0;
  int64_t committed_rows_ = 0;
  int64_t buffered_rows_ = 0;
  bool finished_ = false;
  Status failed_;  // the error that made the writer unusable
};

}  // namespace sluice::formats
