// ParquetWriterOptions: how ParquetWriter lays out a file (compression, page, row-group and
// dictionary sizes). Defaults follow pyarrow's where it has one.
//
// A plain value type; copy freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/result.h"

namespace sluice::formats {

/// The page codec, one per file.
enum class ParquetCompression : uint8_t { kNone, kSnappy, kGzip, kZstd };

/// "none", "snappy", "gzip", "zstd".
std::string_view ParquetCompressionName(ParquetCompression compression);
/// Parses the names above; the error lists them.
Result<ParquetCompression> ParseParquetCompression(std::string_view text);

struct ParquetWriterOptions {
  /// Page codec. snappy, as pyarrow: fast, and every reader has it.
  ParquetCompression compression = ParquetCompression::kSnappy;
  /// Codec level: 0 is the codec's default (zstd 3, gzip 6); zstd takes 1..22, gzip 1..9.
  /// Ignored by snappy and none.
  int compression_level = 0;
  /// A data page is cut once its encoded values and levels reach this many bytes (before
  /// compression). A single value larger than this gets a page of its own.
  size_t page_bytes = size_t{1} << 20;
  /// ... or once it holds this many values (NULLs included), as Arrow's and parquet-mr's
  /// writers do: a dictionary page of small indices would otherwise buffer millions of values
  /// (their indices and levels take 5 bytes each in memory until the page is cut).
  size_t page_values = 20000;
  /// A row group is ended once the pages buffered for it reach this many bytes (compressed,
  /// plus the page being filled). The whole row group is held in memory until then.
  size_t row_group_bytes = size_t{128} << 20;
  /// Dictionary encoding (RLE_DICTIONARY) for every column but booleans, falling back to PLAIN
  /// for the rest of a column chunk once its dictionary would pass `dictionary_bytes`.
  bool dictionary = true;
  size_t dictionary_bytes = size_t{1} << 20;

  /// Checks the ranges above; an InvalidConfig error names the option.
  Status Validate() const;
};

}  // namespace sluice::formats
