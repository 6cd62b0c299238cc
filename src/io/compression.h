// Compression: gzip (zlib) and zstd codecs as stream wrappers, chosen by name or by extension.
//
// Decompressors read every member of a multi-member .gz file and every frame of a multi-frame
// .zst file (what `cat a.gz b.gz` and `zstd -c a b` produce). A corrupt or truncated stream is a
// DataError naming the file. Compressors write one gzip member or one zstd frame, ended by
// Close().
//
// zlib and zstd headers stay in compression.cc.
// Thread-safety: none. Lifetime: a wrapper owns the stream it wraps.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "io/stream.h"

namespace sluice::io {

enum class Compression {
  kAuto,  // choose by file extension (.gz, .zst, .zstd); anything else is uncompressed
  kNone,
  kGzip,
  kZstd,
};

/// "auto", "none", "gzip", "zstd".
std::string_view CompressionName(Compression compression);
/// Parses the names above; the error lists them.
Result<Compression> ParseCompression(std::string_view text);

/// The compression a path's extension implies: .gz is gzip, .zst and .zstd are zstd, anything
/// else none.
Compression CompressionFromPath(std::string_view path);
/// Resolves kAuto with CompressionFromPath; returns other values unchanged.
Compression ResolveCompression(Compression compression, std::string_view path);
/// `path` without a trailing .gz, .zst or .zstd ("out/a.csv.gz" -> "out/a.csv").
std::string_view StripCompressionExtension(std::string_view path);

/// Wraps `input` in a decompressor (`compression` must be resolved: kNone returns `input`).
/// `name` (usually the path) appears in error messages.
Result<std::unique_ptr<InputStream>> MakeDecompressingStream(std::unique_ptr<InputStream> input,
                                                             Compression compression,
                                                             std::string name);

/// Wraps `output` in a compressor. `level` 0 picks the codec's default (gzip 6, zstd 3);
/// otherwise gzip takes 1..9 and zstd 1..19 (higher ones up to 22 are slow but accepted).
Result<std::unique_ptr<OutputStream>> MakeCompressingStream(std::unique_ptr<OutputStream> output,
                                                            Compression compression, int level,
                                                            std::string name);

}  // namespace sluice::io
