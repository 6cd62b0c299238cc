// Avro object container files (the Avro specification's "Object Container Files"): a header
// (magic, the writer schema and codec in metadata, a 16-byte sync marker), then blocks of
// records, each with its record count, byte length and the sync marker after it. Codecs: null,
// deflate (raw RFC 1951, zlib) and zstandard (libzstd).
//
// A file is complete and readable after every block, so the file sink's exactly-once parts
// (connectors/file/part_file.h) end a block at every commit and, after a crash, cut a part back
// to its last committed block and go on writing blocks. The sync marker is derived from a seed
// (the part's name) rather than drawn at random, so the continuation uses the marker the header
// declared and a part written twice from the same rows is the same bytes.
//
// Thread-safety: none; one thread per writer or reader. Lifetime: the stream must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch.h"
#include "io/stream.h"

namespace sluice::formats {

enum class AvroCodec { kNull, kDeflate, kZstandard };

/// "null", "deflate", "zstandard" (the names the specification uses in avro.codec).
std::string_view AvroCodecName(AvroCodec codec);
/// The codec named `name`; InvalidConfig listing the names otherwise.
Result<AvroCodec> ParseAvroCodec(std::string_view name);

struct AvroContainerOptions {
  AvroCodec codec = AvroCodec::kDeflate;
  /// The codec's level; 0 for its default.
  int level = 0;
  /// A block ends once its records take this many (uncompressed) bytes.
  size_t block_bytes = 1 << 20;
};

class AvroRecordEncoder;
class AvroRecordDecoder;

class AvroContainerWriter {
 public:
  /// A writer of rows of `schema` (AvroSchemaOf(schema, record_name)) to `output`.
  static Result<std::unique_ptr<AvroContainerWriter>> Make(io::OutputStream* output,
                                                           const Schema& schema,
                                                           const std::string& record_name,
                                                           std::string_view sync_seed,
                                                           AvroContainerOptions options = {});
  ~AvroContainerWriter();
  AvroContainerWriter(const AvroContainerWriter&) = delete;
  AvroContainerWriter& operator=(const AvroContainerWriter&) = delete;

  /// Writes the file's header: once, first, in a new file (not in one being continued).
  Status WriteHeader();
  /// Adds rows [begin, end) of `batch`; writes a block whenever one is full.
  Status WriteRows(const Batch& batch, size_t begin, size_t end);
  /// Writes the block being filled, if it has records: the file is complete up to here.
  Status Flush();
  /// Bytes produced so far, the open block's uncompressed records included.
  uint64_t bytes_written() const { return written_ + block_.size(); }
  const std::string& schema_json() const { return schema_json_; }

 private:
  AvroContainerWriter(io::OutputStream* output, std::string schema_json,
                      std::unique_ptr<AvroRecordEncoder> encoder, std::string sync,
                      AvroContainerOptions options);

  io::OutputStream* output_;
  std::string schema_json_;
  std::unique_ptr<AvroRecordEncoder> encoder_;
  std::string sync_;
  AvroContainerOptions options_;
  std::string block_;  // the encoded records of the block being filled
  uint64_t block_records_ = 0;
  uint64_t written_ = 0;
  std::string frame_;  // scratch: the block's compressed bytes and framing
};

/// Reads a container file's header, then its records as rows of the columns its writer schema
/// maps to (AvroColumns), or of the columns a caller declares (matched by name).
class AvroContainerReader {
 public:
  /// Reads the header from `input`. `name` (the file's path) starts every error. A file that is
  /// not an Avro container (bad magic, no schema, unknown codec) is a DataError.
  static Result<std::unique_ptr<AvroContainerReader>> Open(io::InputStream* input,
                                                           std::string name);
  ~AvroContainerReader();
  AvroContainerReader(const AvroContainerReader&) = delete;
  AvroContainerReader& operator=(const AvroContainerReader&) = delete;

  const std::string& schema_json() const { return schema_json_; }
  AvroCodec codec() const { return codec_; }

  /// Appends up to `max_rows` rows to `batch` (whose schema names the columns to fill); false
  /// once the file is read to its end and nothing was appended. A bad record is a DataError
  /// naming the block and the record; reading can go on after it when can_skip_bad_record().
  Result<bool> Read(Batch* batch, size_t max_rows);
  /// After Read failed: the bad record was read whole (a value that does not fit its column,
  /// not corrupt bytes) and is behind the reader, so that the next Read goes on after it.
  bool can_skip_bad_record() const { return can_skip_; }

  /// Where the next record is: the offset of its block and how many records of that block come
  /// before it. A resumed read starts there with SeekTo.
  uint64_t block_offset() const { return block_offset_; }
  uint64_t records_into_block() const { return block_left_ == 0 ? 0 : block_count_ - block_left_; }
  /// Moves to a position block_offset()/records_into_block() gave (forward only).
  Status SeekTo(uint64_t block_offset, uint64_t records_into_block, Batch* scratch);
  /// Bytes taken from the input so far.
  uint64_t bytes_read() const { return offset_; }

 private:
  AvroContainerReader(io::InputStream* input, std::string name);
  Status ReadHeader();
  /// Reads the next block; false at the end of the file.
  Result<bool> NextBlock();
  Status ReadExactly(char* out, size_t n);
  Result<int64_t> ReadLong();
  Result<std::string> ReadBytes();

  io::InputStream* input_;
  std::string name_;
  std::string schema_json_;
  AvroCodec codec_ = AvroCodec::kNull;
  std::string sync_;
  std::unique_ptr<AvroRecordDecoder> decoder_;
  uint64_t offset_ = 0;        // bytes read from the input
  uint64_t block_offset_ = 0;  // offset of the block being read (or the next one)
  uint64_t block_count_ = 0;
  uint64_t block_left_ = 0;
  bool can_skip_ = false;
  std::string raw_;    // the block as stored
  std::string block_;  // its records, decompressed
};

}  // namespace sluice::formats
