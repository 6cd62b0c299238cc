// Page compression for Parquet: snappy, gzip (RFC 1952 members, as Parquet's GZIP means) and
// zstd, each page compressed on its own. Internal to formats/parquet.
//
// The codec libraries' headers stay in parquet_codec.cc.
// Thread-safety: none; one compressor or decompressor per writer or reader. Each keeps its
// codec context between pages (zstd's is worth reusing).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "formats/parquet/parquet_options.h"

namespace sluice::formats::parquet_internal {

class PageCompressor {
 public:
  /// `level` 0 is the codec's default.
  PageCompressor(ParquetCompression compression, int level);
  ~PageCompressor();
  PageCompressor(const PageCompressor&) = delete;
  PageCompressor& operator=(const PageCompressor&) = delete;

  ParquetCompression compression() const { return compression_; }
  /// Thrift CompressionCodec value of the codec.
  int codec() const;
  /// Compresses `input` into `*out` (replacing its contents). Not called for kNone.
  Status Compress(std::string_view input, std::string* out);

 private:
  struct Contexts;
  ParquetCompression compression_;
  int level_;
  std::unique_ptr<Contexts> contexts_;
};

class PageDecompressor {
 public:
  PageDecompressor();
  ~PageDecompressor();
  PageDecompressor(const PageDecompressor&) = delete;
  PageDecompressor& operator=(const PageDecompressor&) = delete;

  /// Decompresses `input`, compressed with Thrift CompressionCodec `codec`, into `*out`, which
  /// must come out exactly `uncompressed_size` bytes long. Errors are DataErrors (corrupt page)
  /// or Unsupported (LZO, Brotli, LZ4), without context: the caller adds file and column.
  Status Decompress(int codec, std::string_view input, size_t uncompressed_size,
                    std::string* out);

 private:
  struct Contexts;
  std::unique_ptr<Contexts> contexts_;
};

}  // namespace sluice::formats::parquet_internal
