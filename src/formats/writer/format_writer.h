// FormatWriter: rows of one stream written in one file format (CSV, JSON Lines, Avro container,
// Parquet) to an OutputStream, in a way that suits exactly-once sinks: Flush() makes the bytes
// handed to the stream so far a complete prefix of the file, CommitState() says what the format
// needs to continue the file after exactly those bytes (Parquet: its committed row groups), and
// Finish() ends the file (Parquet's footer). The file sink and the hive sink share it.
//
// Thread-safety: none; one writer thread. The stream must outlive the writer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/batch.h"
#include "core/result.h"
#include "core/schema.h"
#include "formats/avro/avro_container.h"
#include "formats/csv/csv_options.h"
#include "formats/parquet/parquet_options.h"
#include "io/stream.h"

namespace sluice::formats {

enum class FileFormat { kCsv, kJsonl, kAvro, kParquet };

/// How the formats lay their files out; each format reads its own fields.
struct FormatWriterOptions {
  CsvDialect dialect;
  bool csv_header = true;
  AvroCodec avro_codec = AvroCodec::kDeflate;
  ParquetCompression parquet_compression = ParquetCompression::kSnappy;
  size_t row_group_bytes = size_t{64} << 20;
};

class FormatWriter {
 public:
  virtual ~FormatWriter() = default;
  virtual Status WriteRows(const Batch& batch, size_t begin, size_t end) = 0;
  /// Hands every row written so far to the stream, so that the file is complete up to there.
  virtual Status Flush() = 0;
  /// Ends the file (Parquet's footer); Flush() for formats complete after every flush.
  virtual Status Finish() { return Flush(); }
  /// After Flush(): what the format needs to continue the file after a crash; empty for
  /// formats that need nothing.
  virtual std::string CommitState() const { return {}; }
  /// Bytes of this writer's rows so far (text for CSV and JSON Lines; encoded for Avro and
  /// Parquet), counted from where it started.
  virtual uint64_t bytes_written() const = 0;
  /// Bytes held in memory until the next Flush() (Parquet's row group); 0 for formats that
  /// stream.
  virtual uint64_t buffered_bytes() const { return 0; }
  /// After WriteRows failed with a DataError: true when it wrote nothing (a value the format
  /// cannot hold was refused up front), so that the rows can be written one by one and the
  /// refused one handed to the errors policy.
  virtual bool refused_whole_call() const { return false; }

  /// WriteRows, except that when the format refuses a value up front (refused_whole_call())
  /// the rows are written one by one and each refused row goes to `refused(row, reason)`,
  /// whose error stops the writing (the errors policy says fail). Returns the rows written.
  Result<size_t> WriteRowsHandingOverRefused(
      const Batch& batch, size_t begin, size_t end,
      const std::function<Status(size_t row, const Status& reason)>& refused);
};

/// A writer of a new file `file_name` (its base name: Avro derives its sync marker from it) of
/// rows of `schema` named `stream`, which writes the header its format has (CSV's column
/// names when asked for, Avro's always) at once.
Result<std::unique_ptr<FormatWriter>> StartFile(FileFormat format,
                                                const FormatWriterOptions& options,
                                                SchemaPtr schema, std::string_view stream,
                                                std::string_view file_name,
                                                io::OutputStream* output);

/// A writer that continues the file `file_name` after the bytes whose CommitState() was
/// `state`; `output` must be positioned there.
Result<std::unique_ptr<FormatWriter>> ContinueFile(FileFormat format,
                                                   const FormatWriterOptions& options,
                                                   SchemaPtr schema, std::string_view stream,
                                                   std::string_view file_name,
                                                   io::OutputStream* output,
                                                   const std::string& state);

}  // namespace sluice::formats
