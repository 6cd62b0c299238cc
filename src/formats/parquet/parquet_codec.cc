#include "formats/parquet/parquet_codec.h"

#include <fmt/core.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include "gen-cpp/parquet_types.h"

namespace sluice::formats {

std::string_view ParquetCompressionName(ParquetCompression compression) {
  switch (compression) {
    case ParquetCompression::kNone:
      return "none";
    case ParquetCompression::kSnappy:
      return "snappy";
    case ParquetCompression::kGzip:
      return "gzip";
    case ParquetCompression::kZstd:
      return "zstd";
  }
  return "unknown";
}

Result<ParquetCompression> ParseParquetCompression(std::string_view text) {
  for (auto compression : {ParquetCompression::kNone, ParquetCompression::kSnappy,
                           ParquetCompression::kGzip, ParquetCompression::kZstd}) {
    if (text == ParquetCompressionName(compression))
      return compression;
  }
  return InvalidConfig(
      fmt::format("unknown Parquet compression '{}' (allowed: none, snappy, gzip, zstd)", text));
}

Status ParquetWriterOptions::Validate() const {
  if (compression == ParquetCompression::kZstd && (compression_level < 0 || compression_level > 22))
    return InvalidConfig(fmt::format("compression_level {} is out of range for zstd (1..22, 0 = "
                                     "default)",
                                     compression_level));
  if (compression == ParquetCompression::kGzip && (compression_level < 0 || compression_level > 9))
    return InvalidConfig(fmt::format("compression_level {} is out of range for gzip (1..9, 0 = "
                                     "default)",
                                     compression_level));
  if (page_bytes < 1024 || page_bytes > (size_t{1} << 30))
    return InvalidConfig(fmt::format("page_bytes {} is out of range (1 KiB..1 GiB)", page_bytes));
  if (page_values == 0)
    return InvalidConfig("page_values must be at least 1");
  if (row_group_bytes < page_bytes)
    return InvalidConfig(fmt::format("row_group_bytes {} is smaller than page_bytes {}",
                                     row_group_bytes, page_bytes));
  if (dictionary_bytes > (size_t{1} << 30))
    return InvalidConfig(
        fmt::format("dictionary_bytes {} is out of range (at most 1 GiB)", dictionary_bytes));
  return Status::OK();
}

namespace parquet_internal {

namespace format = ::sluice::formats::parquet_format;

namespace {

struct ZstdCompressDeleter {
  void operator()(ZSTD_CCtx* context) const { ZSTD_freeCCtx(context); }
};
struct ZstdDecompressDeleter {
  void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
};

// One gzip member of `input` at `level`.
Status GzipCompress(std::string_view input, int level, std::string* out) {
  z_stream stream{};
  // 15 + 16: a gzip header and trailer rather than zlib's.
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return Internal("deflateInit2 failed");
  out->resize(deflateBound(&stream, input.size()) + 32);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out->data());
  stream.avail_out = static_cast<uInt>(out->size());
  int result = deflate(&stream, Z_FINISH);
  size_t produced = stream.total_out;
  deflateEnd(&stream);
  if (result != Z_STREAM_END)
    return Internal(fmt::format("gzip compression of a page failed (zlib {})", result));
  out->resize(produced);
  return Status::OK();
}

Status GzipDecompress(std::string_view input, std::string* out) {
  z_stream stream{};
  // 15 + 32: accept gzip and zlib headers (old writers used either).
  if (inflateInit2(&stream, 15 + 32) != Z_OK)
    return Internal("inflateInit2 failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out->data());
  stream.avail_out = static_cast<uInt>(out->size());
  int result = inflate(&stream, Z_FINISH);
  size_t produced = stream.total_out;
  inflateEnd(&stream);
  if (result != Z_STREAM_END || produced != out->size())
    return DataError(fmt::format("corrupt gzip page (zlib {}, {} of {} bytes)", result, produced,
                                 out->size()));
  return Status::OK();
}

}  // namespace

struct PageCompressor::Contexts {
  std::unique_ptr<ZSTD_CCtx, ZstdCompressDeleter> zstd;
};

PageCompressor::PageCompressor(ParquetCompression compression, int level)
    : compression_(compression), level_(level), contexts_(std::make_unique<Contexts>()) {
  if (compression_ == ParquetCompression::kZstd) {
    contexts_->zstd.reset(ZSTD_createCCtx());
    if (level_ == 0)
      level_ = 3;
  } else if (compression_ == ParquetCompression::kGzip && level_ == 0) {
    level_ = 6;
  }
}

PageCompressor::~PageCompressor() = default;

int PageCompressor::codec() const {
  switch (compression_) {
    case ParquetCompression::kSnappy:
      return format::CompressionCodec::SNAPPY;
    case ParquetCompression::kGzip:
      return format::CompressionCodec::GZIP;
    case ParquetCompression::kZstd:
      return format::CompressionCodec::ZSTD;
    case ParquetCompression::kNone:
      break;
  }
  return format::CompressionCodec::UNCOMPRESSED;
}

Status PageCompressor::Compress(std::string_view input, std::string* out) {
  switch (compression_) {
    case ParquetCompression::kSnappy: {
      out->resize(snappy::MaxCompressedLength(input.size()));
      size_t produced = 0;
      snappy::RawCompress(input.data(), input.size(), out->data(), &produced);
      out->resize(produced);
      return Status::OK();
    }
    case ParquetCompression::kZstd: {
      out->resize(ZSTD_compressBound(input.size()));
      size_t produced = ZSTD_compressCCtx(contexts_->zstd.get(), out->data(), out->size(),
                                          input.data(), input.size(), level_);
      if (ZSTD_isError(produced))
        return Internal(
            fmt::format("zstd compression of a page failed: {}", ZSTD_getErrorName(produced)));
      out->resize(produced);
      return Status::OK();
    }
    case ParquetCompression::kGzip:
      return GzipCompress(input, level_, out);
    case ParquetCompression::kNone:
      break;
  }
  out->assign(input);
  return Status::OK();
}

struct PageDecompressor::Contexts {
  std::unique_ptr<ZSTD_DCtx, ZstdDecompressDeleter> zstd;
};

PageDecompressor::PageDecompressor() : contexts_(std::make_unique<Contexts>()) {}
PageDecompressor::~PageDecompressor() = default;

Status PageDecompressor::Decompress(int codec, std::string_view input, size_t uncompressed_size,
                                    std::string* out) {
  out->resize(uncompressed_size);
  switch (codec) {
    case format::CompressionCodec::UNCOMPRESSED:
      if (input.size() != uncompressed_size)
        return DataError(fmt::format("uncompressed page of {} bytes says it holds {}",
                                     input.size(), uncompressed_size));
      out->assign(input);
      return Status::OK();
    case format::CompressionCodec::SNAPPY: {
      size_t length = 0;
      if (!snappy::GetUncompressedLength(input.data(), input.size(), &length) ||
          length != uncompressed_size ||
          !snappy::RawUncompress(input.data(), input.size(), out->data()))
        return DataError("corrupt snappy page");
      return Status::OK();
    }
    case format::CompressionCodec::GZIP:
      return GzipDecompress(input, out);
    case format::CompressionCodec::ZSTD: {
      if (!contexts_->zstd)
        contexts_->zstd.reset(ZSTD_createDCtx());
      size_t produced = ZSTD_decompressDCtx(contexts_->zstd.get(), out->data(), out->size(),
                                            input.data(), input.size());
      if (ZSTD_isError(produced) || produced != uncompressed_size)
        return DataError(fmt::format(
            "corrupt zstd page ({})",
            ZSTD_isError(produced) ? ZSTD_getErrorName(produced) : "wrong size"));
      return Status::OK();
    }
    default:
      break;
  }
  const auto& names = format::_CompressionCodec_VALUES_TO_NAMES;
  auto name = names.find(codec);
  std::string shown = name != names.end() ? std::string(name->second) : std::to_string(codec);
  return Unsupported(fmt::format(
      "compression codec {} is not supported (supported: snappy, gzip, zstd, none)", shown));
}

}  // namespace parquet_internal
}  // namespace sluice::formats
