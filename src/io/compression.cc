#include "io/compression.h"

#include <fmt/core.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace sluice::io {

namespace {

// Compressed bytes pulled from (or pushed to) the wrapped stream at a time.
constexpr size_t kCodecChunk = 256 * 1024;

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// ---- gzip ----------------------------------------------------------------------------------

class GzipInputStream final : public InputStream {
 public:
  GzipInputStream(std::unique_ptr<InputStream> source, std::string name)
      : source_(std::move(source)), name_(std::move(name)), input_(new char[kCodecChunk]) {}
  ~GzipInputStream() override {
    if (initialised_)
      inflateEnd(&stream_);
  }

  Status Init() {
    std::memset(&stream_, 0, sizeof(stream_));
    // 15 + 32: the largest window, and detect a gzip or zlib header automatically.
    if (inflateInit2(&stream_, 15 + 32) != Z_OK) {
      return Internal(fmt::format("Cannot start gzip decompression of '{}'", name_));
    }
    initialised_ = true;
    return Status::OK();
  }

  Result<size_t> Read(char* buffer, size_t n) override {
    if (n == 0)
      return size_t{0};
    n = std::min<size_t>(n, UINT_MAX);
    stream_.next_out = reinterpret_cast<Bytef*>(buffer);
    stream_.avail_out = static_cast<uInt>(n);
    while (stream_.avail_out == n) {
      if (stream_.avail_in == 0 && !source_eof_) {
        SLUICE_ASSIGN_OR_RETURN(size_t got, source_->Read(input_.get(), kCodecChunk));
        if (got == 0) {
          source_eof_ = true;
        } else {
          stream_.next_in = reinterpret_cast<Bytef*>(input_.get());
          stream_.avail_in = static_cast<uInt>(got);
        }
      }
      if (stream_.avail_in == 0 && source_eof_ && !in_member_)
        break;  // clean end
      if (stream_.avail_in > 0)
        in_member_ = true;
      int rc = inflate(&stream_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // The end of one member; a concatenated file continues with the next.
        in_member_ = false;
        inflateReset(&stream_);
      } else if (rc == Z_BUF_ERROR) {
        if (stream_.avail_in == 0 && source_eof_) {
          return DataError(fmt::format(
              "Cannot read '{}': unexpected end of gzip data (truncated file?)", name_));
        }
      } else if (rc != Z_OK) {
        return DataError(fmt::format("Cannot read '{}': corrupt gzip data ({})", name_,
                                     stream_.msg ? stream_.msg : zError(rc)));
      }
    }
    return n - stream_.avail_out;
  }

  uint64_t source_bytes_read() const override { return source_->source_bytes_read(); }

 private:
  std::unique_ptr<InputStream> source_;
  std::string name_;
  std::unique_ptr<char[]> input_;
  z_stream stream_;
  bool initialised_ = false;
  bool source_eof_ = false;
  bool in_member_ = false;  // inside a member that has not ended yet
};

class GzipOutputStream final : public OutputStream {
 public:
  GzipOutputStream(std::unique_ptr<OutputStream> sink, std::string name)
      : sink_(std::move(sink)), name_(std::move(name)), output_(new char[kCodecChunk]) {}
  ~GzipOutputStream() override {
    if (initialised_)
      deflateEnd(&stream_);
  }

  Status Init(int level) {
    std::memset(&stream_, 0, sizeof(stream_));
    // 15 + 16: the largest window, with a gzip header and trailer.
    if (deflateInit2(&stream_, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      return Internal(fmt::format("Cannot start gzip compression of '{}'", name_));
    }
    initialised_ = true;
    ResetOutput();
    return Status::OK();
  }

  Status Write(std::string_view data) override {
    if (closed_)
      return Internal(fmt::format("write to '{}' after close", name_));
    while (!data.empty()) {
      size_t piece = std::min<size_t>(data.size(), UINT_MAX);
      stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      stream_.avail_in = static_cast<uInt>(piece);
      while (stream_.avail_in > 0) {
        SLUICE_RETURN_IF_ERROR(Deflate(Z_NO_FLUSH));
      }
      data.remove_prefix(piece);
    }
    return Status::OK();
  }

  Status Close() override {
    if (closed_)
      return Status::OK();
    closed_ = true;
    stream_.avail_in = 0;
    for (;;) {
      int rc = deflate(&stream_, Z_FINISH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        return Internal(fmt::format("gzip compression of '{}' failed: {}", name_, zError(rc)));
      }
      if (stream_.avail_out == 0 || rc == Z_STREAM_END)
        SLUICE_RETURN_IF_ERROR(FlushOutput());
      if (rc == Z_STREAM_END)
        break;
    }
    return sink_->Close();
  }

 private:
  void ResetOutput() {
    stream_.next_out = reinterpret_cast<Bytef*>(output_.get());
    stream_.avail_out = static_cast<uInt>(kCodecChunk);
  }
  Status FlushOutput() {
    size_t used = kCodecChunk - stream_.avail_out;
    ResetOutput();
    if (used == 0)
      return Status::OK();
    return sink_->Write({output_.get(), used});
  }
  Status Deflate(int flush) {
    int rc = deflate(&stream_, flush);
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return Internal(fmt::format("gzip compression of '{}' failed: {}", name_, zError(rc)));
    }
    if (stream_.avail_out == 0)
      return FlushOutput();
    return Status::OK();
  }

  std::unique_ptr<OutputStream> sink_;
  std::string name_;
  std::unique_ptr<char[]> output_;
  z_stream stream_;
  bool initialised_ = false;
  bool closed_ = false;
};

// ---- zstd ----------------------------------------------------------------------------------

struct ZstdDContextDeleter {
  void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
};
struct ZstdCContextDeleter {
  void operator()(ZSTD_CCtx* context) const { ZSTD_freeCCtx(context); }
};

class ZstdInputStream final : public InputStream {
 public:
  ZstdInputStream(std::unique_ptr<InputStream> source, std::string name,
                  std::unique_ptr<ZSTD_DCtx, ZstdDContextDeleter> context)
      : source_(std::move(source)),
        name_(std::move(name)),
        context_(std::move(context)),
        input_(new char[kCodecChunk]) {}

  Result<size_t> Read(char* buffer, size_t n) override {
    if (n == 0)
      return size_t{0};
    ZSTD_outBuffer out{buffer, n, 0};
    while (out.pos == 0) {
      if (in_.pos == in_.size && !source_eof_) {
        SLUICE_ASSIGN_OR_RETURN(size_t got, source_->Read(input_.get(), kCodecChunk));
        if (got == 0) {
          source_eof_ = true;
        } else {
          in_ = ZSTD_inBuffer{input_.get(), got, 0};
        }
      }
      if (in_.pos == in_.size && source_eof_ && !in_frame_)
        break;  // clean end
      size_t in_before = in_.pos;
      size_t rc = ZSTD_decompressStream(context_.get(), &out, &in_);
      if (ZSTD_isError(rc)) {
        return DataError(
            fmt::format("Cannot read '{}': corrupt zstd data ({})", name_, ZSTD_getErrorName(rc)));
      }
      // 0: a frame ended and everything decoded was flushed.
      in_frame_ = rc != 0;
      if (in_frame_ && source_eof_ && in_.pos == in_.size && in_before == in_.pos && out.pos == 0) {
        return DataError(
            fmt::format("Cannot read '{}': unexpected end of zstd data (truncated file?)", name_));
      }
    }
    return out.pos;
  }

  uint64_t source_bytes_read() const override { return source_->source_bytes_read(); }

 private:
  std::unique_ptr<InputStream> source_;
  std::string name_;
  std::unique_ptr<ZSTD_DCtx, ZstdDContextDeleter> context_;
  std::unique_ptr<char[]> input_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool source_eof_ = false;
  bool in_frame_ = false;
};

class ZstdOutputStream final : public OutputStream {
 public:
  ZstdOutputStream(std::unique_ptr<OutputStream> sink, std::string name,
                   std::unique_ptr<ZSTD_CCtx, ZstdCContextDeleter> context)
      : sink_(std::move(sink)),
        name_(std::move(name)),
        context_(std::move(context)),
        output_(new char[kCodecChunk]) {}

  Status Write(std::string_view data) override {
    if (closed_)
      return Internal(fmt::format("write to '{}' after close", name_));
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer out{output_.get(), kCodecChunk, 0};
      size_t rc = ZSTD_compressStream2(context_.get(), &out, &in, ZSTD_e_continue);
      if (ZSTD_isError(rc))
        return Failed(rc);
      if (out.pos > 0)
        SLUICE_RETURN_IF_ERROR(sink_->Write({output_.get(), out.pos}));
    }
    return Status::OK();
  }

  Status Close() override {
    if (closed_)
      return Status::OK();
    closed_ = true;
    ZSTD_inBuffer in{nullptr, 0, 0};
    for (;;) {
      ZSTD_outBuffer out{output_.get(), kCodecChunk, 0};
      size_t remaining = ZSTD_compressStream2(context_.get(), &out, &in, ZSTD_e_end);
      if (ZSTD_isError(remaining))
        return Failed(remaining);
      if (out.pos > 0)
        SLUICE_RETURN_IF_ERROR(sink_->Write({output_.get(), out.pos}));
      if (remaining == 0)
        break;
    }
    return sink_->Close();
  }

 private:
  Status Failed(size_t rc) const {
    return Internal(
        fmt::format("zstd compression of '{}' failed: {}", name_, ZSTD_getErrorName(rc)));
  }

  std::unique_ptr<OutputStream> sink_;
  std::string name_;
  std::unique_ptr<ZSTD_CCtx, ZstdCContextDeleter> context_;
  std::unique_ptr<char[]> output_;
  bool closed_ = false;
};

}  // namespace

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kAuto:
      return "auto";
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
  }
  return "?";
}

Result<Compression> ParseCompression(std::string_view text) {
  for (Compression c :
       {Compression::kAuto, Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    if (CompressionName(c) == text)
      return c;
  }
  return InvalidConfig(
      fmt::format("unknown compression '{}' (known: auto, none, gzip, zstd)", text));
}

Compression CompressionFromPath(std::string_view path) {
  if (EndsWith(path, ".gz"))
    return Compression::kGzip;
  if (EndsWith(path, ".zst") || EndsWith(path, ".zstd"))
    return Compression::kZstd;
  return Compression::kNone;
}

Compression ResolveCompression(Compression compression, std::string_view path) {
  return compression == Compression::kAuto ? CompressionFromPath(path) : compression;
}

std::string_view StripCompressionExtension(std::string_view path) {
  for (std::string_view extension : {".gz", ".zst", ".zstd"}) {
    if (EndsWith(path, extension))
      return path.substr(0, path.size() - extension.size());
  }
  return path;
}

Result<std::unique_ptr<InputStream>> MakeDecompressingStream(std::unique_ptr<InputStream> input,
                                                             Compression compression,
                                                             std::string name) {
  switch (compression) {
    case Compression::kNone:
      return input;
    case Compression::kGzip: {
      auto stream = std::make_unique<GzipInputStream>(std::move(input), std::move(name));
      SLUICE_RETURN_IF_ERROR(stream->Init());
      return std::unique_ptr<InputStream>(std::move(stream));
    }
    case Compression::kZstd: {
      std::unique_ptr<ZSTD_DCtx, ZstdDContextDeleter> context(ZSTD_createDCtx());
      if (!context) {
        return Internal(fmt::format("Cannot start zstd decompression of '{}'", name));
      }
      return std::unique_ptr<InputStream>(
          new ZstdInputStream(std::move(input), std::move(name), std::move(context)));
    }
    case Compression::kAuto:
      break;
  }
  return Internal("MakeDecompressingStream needs a resolved compression");
}

Result<std::unique_ptr<OutputStream>> MakeCompressingStream(std::unique_ptr<OutputStream> output,
                                                            Compression compression, int level,
                                                            std::string name) {
  switch (compression) {
    case Compression::kNone:
      return output;
    case Compression::kGzip: {
      if (level < 0 || level > 9) {
        return InvalidConfig(fmt::format("gzip level must be 1..9, got {}", level));
      }
      auto stream = std::make_unique<GzipOutputStream>(std::move(output), std::move(name));
      SLUICE_RETURN_IF_ERROR(stream->Init(level));
      return std::unique_ptr<OutputStream>(std::move(stream));
    }
    case Compression::kZstd: {
      if (level < 0 || level > ZSTD_maxCLevel()) {
        return InvalidConfig(
            fmt::format("zstd level must be 1..{}, got {}", ZSTD_maxCLevel(), level));
      }
      std::unique_ptr<ZSTD_CCtx, ZstdCContextDeleter> context(ZSTD_createCCtx());
      if (!context)
        return Internal(fmt::format("Cannot start zstd compression of '{}'", name));
      size_t rc = ZSTD_CCtx_setParameter(context.get(), ZSTD_c_compressionLevel,
                                         level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
      if (ZSTD_isError(rc)) {
        return Internal(fmt::format("Cannot set zstd level {}: {}", level, ZSTD_getErrorName(rc)));
      }
      return std::unique_ptr<OutputStream>(
          new ZstdOutputStream(std::move(output), std::move(name), std::move(context)));
    }
    case Compression::kAuto:
      break;
  }
  return Internal("MakeCompressingStream needs a resolved compression");
}

}  // namespace sluice::io
