// Options of the `file` connector: the option tables (names, defaults, descriptions) and the
// typed structs they are parsed into.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "core/schema.h"
#include "formats/avro/avro_container.h"
#include "formats/csv/csv_options.h"
#include "formats/parquet/parquet_options.h"
#include "formats/writer/format_writer.h"
#include "io/file_store.h"
#include "io/compression.h"

namespace sluice::connectors::file {

using FileFormat = formats::FileFormat;

/// "csv", "jsonl", "avro" or "parquet".
std::string_view FileFormatName(FileFormat format);
/// The format a path's extension implies once .gz/.zst/.zstd is stripped: .csv and .tsv are
/// CSV; .jsonl, .ndjson and .json are JSON Lines; .avro is an Avro container file; .parquet
/// Parquet; anything else is unknown.
std::optional<FileFormat> FormatFromPath(std::string_view path);

struct FileSourceOptions {
  /// A file or a glob (data/orders-*.csv.gz); each matching file is one split.
  std::string path;
  /// nullopt: from the extension of `path`.
  std::optional<FileFormat> format;
  io::Compression compression = io::Compression::kAuto;
  /// CSV: the first record names the columns.
  bool header = true;
  formats::CsvDialect dialect;
  /// Declared columns in order; nullopt: from the CSV header (all strings), c1..cN without a
  /// header, or inferred from JSON Lines.
  std::optional<std::vector<Field>> schema;
  /// Stream name; empty: the stem of `path` ("orders" for data/orders-*.csv.gz).
  std::string stream;
  /// How to reach a remote store when `path` is a webhdfs:// or s3:// URL (location unset).
  io::FileStoreOptions store;

  static Result<FileSourceOptions> FromOptions(const config::Options& options);
};

enum class WriteMode {
  kOverwrite,      // remove earlier outputs of the same name pattern at Open
  kErrorIfExists,  // fail at Open when one exists
};

struct FileSinkOptions {
  /// The output file (out/orders.csv.gz); `{stream}` is replaced by each stream's name.
  std::string path;
  std::optional<FileFormat> format;
  io::Compression compression = io::Compression::kAuto;
  bool header = true;
  formats::CsvDialect dialect;
  /// Start a new part after this many rows; 0 = never.
  int64_t roll_rows = 0;
  /// Start a new part once a part holds this many bytes of uncompressed text; 0 = never.
  int64_t roll_bytes = 0;
  WriteMode mode = WriteMode::kOverwrite;
  /// Avro: the codec of the blocks (the file itself is not compressed again).
  formats::AvroCodec avro_codec = formats::AvroCodec::kDeflate;
  /// Parquet: the codec of the pages, and the size a row group is cut at (a commit also ends
  /// one, so that the committed part of a file is complete row groups).
  formats::ParquetCompression parquet_compression = formats::ParquetCompression::kSnappy;
  int64_t row_group_bytes = int64_t{64} << 20;  // held in memory per writer until it ends

  static Result<FileSinkOptions> FromOptions(const config::Options& options);
};

std::span<const config::OptionSpec> FileSourceOptionTable();
std::span<const config::OptionSpec> FileSinkOptionTable();

}  // namespace sluice::connectors::file
