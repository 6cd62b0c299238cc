#include "formats/avro/avro_container.h"

#include <fmt/core.h>
#include <zlib.h>
#include <zstd.h>

#include <array>

#include "formats/avro/avro_record.h"
#include "formats/avro/avro_schema.h"

namespace sluice::formats {

namespace {

constexpr std::string_view kMagic("Obj\x01", 4);
constexpr size_t kSyncSize = 16;

// Avro's long: zigzag, then base-128 varint, low groups first.
void AppendLong(int64_t value, std::string* out) {
  uint64_t zigzag = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  while (zigzag >= 0x80) {
    out->push_back(static_cast<char>((zigzag & 0x7f) | 0x80));
    zigzag >>= 7;
  }
  out->push_back(static_cast<char>(zigzag));
}

void AppendBytes(std::string_view bytes, std::string* out) {
  AppendLong(static_cast<int64_t>(bytes.size()), out);
  out->append(bytes);
}

// 16 bytes from the seed: two FNV-1a hashes with different offsets, mixed (splitmix64's
// finalizer) so that near names get unrelated markers.
std::string SyncMarker(std::string_view seed) {
  auto hash = [&](uint64_t state) {
    for (unsigned char c : seed)
      state = (state ^ c) * 0x100000001b3ull;
    state ^= state >> 30;
    state *= 0xbf58476d1ce4e5b9ull;
    state ^= state >> 27;
    state *= 0x94d049bb133111ebull;
    return state ^ (state >> 31);
  };
  std::string marker;
  for (uint64_t part : {hash(0xcbf29ce484222325ull), hash(0x84222325cbf29ce4ull)}) {
    for (int i = 0; i < 8; ++i)
      marker.push_back(static_cast<char>((part >> (8 * i)) & 0xff));
  }
  return marker;
}

Status Deflate(std::string_view data, int level, std::string* out) {
  z_stream stream{};
  // Negative window bits: raw deflate, without zlib's header and checksum (the spec's choice).
  if (deflateInit2(&stream, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, -15, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("deflate: cannot start the codec");
  }
  out->resize(deflateBound(&stream, data.size()));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out->data());
  stream.avail_out = static_cast<uInt>(out->size());
  int rc = deflate(&stream, Z_FINISH);
  out->resize(stream.total_out);
  deflateEnd(&stream);
  return rc == Z_STREAM_END ? Status::OK() : Internal("deflate: the block did not compress");
}

Status Inflate(std::string_view data, std::string* out) {
  z_stream stream{};
  if (inflateInit2(&stream, -15) != Z_OK)
    return Internal("deflate: cannot start the codec");
  out->clear();
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::array<char, 64 * 1024> chunk;
  int rc = Z_OK;
  while (rc == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&stream, Z_NO_FLUSH);
    out->append(chunk.data(), chunk.size() - stream.avail_out);
    if (rc == Z_BUF_ERROR && stream.avail_in == 0)
      break;
  }
  inflateEnd(&stream);
  return rc == Z_STREAM_END ? Status::OK()
                            : DataError("a deflate block is corrupt or cut short");
}

Status ZstdCompress(std::string_view data, int level, std::string* out) {
  out->resize(ZSTD_compressBound(data.size()));
  size_t size = ZSTD_compress(out->data(), out->size(), data.data(), data.size(),
                              level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
  if (ZSTD_isError(size))
    return Internal(fmt::format("zstd: {}", ZSTD_getErrorName(size)));
  out->resize(size);
  return Status::OK();
}

// Streaming, since writers need not record the content size in the frame.
Status ZstdDecompress(std::string_view data, std::string* out) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
  out->clear();
  ZSTD_inBuffer input{data.data(), data.size(), 0};
  std::array<char, 64 * 1024> chunk;
  size_t rc = 1;
  while (input.pos < input.size || rc != 0) {
    ZSTD_outBuffer output{chunk.data(), chunk.size(), 0};
    rc = ZSTD_decompressStream(context.get(), &output, &input);
    if (ZSTD_isError(rc))
      return DataError(fmt::format("a zstandard block is corrupt: {}", ZSTD_getErrorName(rc)));
    out->append(chunk.data(), output.pos);
    if (input.pos == input.size && output.pos == 0 && rc != 0)
      return DataError("a zstandard block is cut short");
  }
  return Status::OK();
}

}  // namespace

std::string_view AvroCodecName(AvroCodec codec) {
  switch (codec) {
    case AvroCodec::kNull:
      return "null";
    case AvroCodec::kDeflate:
      return "deflate";
    case AvroCodec::kZstandard:
      return "zstandard";
  }
  return "null";
}

Result<AvroCodec> ParseAvroCodec(std::string_view name) {
  for (AvroCodec codec : {AvroCodec::kNull, AvroCodec::kDeflate, AvroCodec::kZstandard}) {
    if (name == AvroCodecName(codec))
      return codec;
  }
  if (name == "zstd")
    return AvroCodec::kZstandard;
  return InvalidConfig(fmt::format(
      "unknown Avro codec '{}': use null, deflate or zstandard (zstd)", name));
}

// --- Writer -------------------------------------------------------------------------------------

AvroContainerWriter::AvroContainerWriter(io::OutputStream* output, std::string schema_json,
                                         std::unique_ptr<AvroRecordEncoder> encoder,
                                         std::string sync, AvroContainerOptions options)
    : output_(output),
      schema_json_(std::move(schema_json)),
      encoder_(std::move(encoder)),
      sync_(std::move(sync)),
      options_(options) {}

AvroContainerWriter::~AvroContainerWriter() = default;

Result<std::unique_ptr<AvroContainerWriter>> AvroContainerWriter::Make(
    io::OutputStream* output, const Schema& schema, const std::string& record_name,
    std::string_view sync_seed, AvroContainerOptions options) {
  SLUICE_ASSIGN_OR_RETURN(std::string schema_json, AvroSchemaOf(schema, record_name));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<AvroRecordEncoder> encoder,
                          AvroRecordEncoder::Make(schema_json));
  return std::unique_ptr<AvroContainerWriter>(new AvroContainerWriter(
      output, std::move(schema_json), std::move(encoder), SyncMarker(sync_seed), options));
}

Status AvroContainerWriter::WriteHeader() {
  std::string header(kMagic);
  AppendLong(2, &header);  // one block of two metadata entries, then the empty block
  AppendBytes("avro.schema", &header);
  AppendBytes(schema_json_, &header);
  AppendBytes("avro.codec", &header);
  AppendBytes(AvroCodecName(options_.codec), &header);
  AppendLong(0, &header);
  header.append(sync_);
  SLUICE_RETURN_IF_ERROR(output_->Write(header));
  written_ += header.size();
  return Status::OK();
}

Status AvroContainerWriter::WriteRows(const Batch& batch, size_t begin, size_t end) {
  for (size_t row = begin; row < end; ++row) {
    SLUICE_RETURN_IF_ERROR(encoder_->Append(batch, row, &block_));
    ++block_records_;
    if (block_.size() >= options_.block_bytes)
      SLUICE_RETURN_IF_ERROR(Flush());
  }
  return Status::OK();
}

Status AvroContainerWriter::Flush() {
  if (block_records_ == 0)
    return Status::OK();
  std::string compressed;
  std::string_view data = block_;
  if (options_.codec == AvroCodec::kDeflate) {
    SLUICE_RETURN_IF_ERROR(Deflate(block_, options_.level, &compressed));
    data = compressed;
  } else if (options_.codec == AvroCodec::kZstandard) {
    SLUICE_RETURN_IF_ERROR(ZstdCompress(block_, options_.level, &compressed));
    data = compressed;
  }
  frame_.clear();
  AppendLong(static_cast<int64_t>(block_records_), &frame_);
  AppendLong(static_cast<int64_t>(data.size()), &frame_);
  frame_.append(data);
  frame_.append(sync_);
  SLUICE_RETURN_IF_ERROR(output_->Write(frame_));
  written_ += frame_.size();
  block_.clear();
  block_records_ = 0;
  return Status::OK();
}

// --- Reader -------------------------------------------------------------------------------------

AvroContainerReader::AvroContainerReader(io::InputStream* input, std::string name)
    : input_(input), name_(std::move(name)) {}

AvroContainerReader::~AvroContainerReader() = default;

Result<std::unique_ptr<AvroContainerReader>> AvroContainerReader::Open(io::InputStream* input,
                                                                       std::string name) {
  std::unique_ptr<AvroContainerReader> reader(new AvroContainerReader(input, std::move(name)));
  SLUICE_RETURN_IF_ERROR(reader->ReadHeader());
  return reader;
}

Status AvroContainerReader::ReadExactly(char* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    SLUICE_ASSIGN_OR_RETURN(size_t got, input_->Read(out + done, n - done));
    if (got == 0)
      return DataError(fmt::format("{}: the file ends inside a block (at byte {})", name_,
                                   offset_ + done));
    done += got;
  }
  offset_ += n;
  return Status::OK();
}

Result<int64_t> AvroContainerReader::ReadLong() {
  uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    char byte = 0;
    SLUICE_RETURN_IF_ERROR(ReadExactly(&byte, 1));
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0)
      return static_cast<int64_t>((value >> 1) ^ (~(value & 1) + 1));
  }
  return DataError(fmt::format("{}: a malformed length at byte {}", name_, offset_));
}

Result<std::string> AvroContainerReader::ReadBytes() {
  SLUICE_ASSIGN_OR_RETURN(int64_t size, ReadLong());
  if (size < 0 || size > (int64_t{1} << 31))
    return DataError(fmt::format("{}: a malformed length at byte {}", name_, offset_));
  std::string bytes(static_cast<size_t>(size), '\0');
  SLUICE_RETURN_IF_ERROR(ReadExactly(bytes.data(), bytes.size()));
  return bytes;
}

Status AvroContainerReader::ReadHeader() {
  char magic[4];
  size_t got = 0;
  while (got < sizeof(magic)) {
    SLUICE_ASSIGN_OR_RETURN(size_t n, input_->Read(magic + got, sizeof(magic) - got));
    if (n == 0)
      break;
    got += n;
  }
  offset_ = got;
  if (got < sizeof(magic) || std::string_view(magic, sizeof(magic)) != kMagic)
    return DataError(fmt::format("{}: not an Avro container file (no 'Obj\\x01' magic)", name_));
  std::string codec = "null";
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(int64_t entries, ReadLong());
    if (entries == 0)
      break;
    if (entries < 0) {
      entries = -entries;
      SLUICE_RETURN_IF_ERROR(ReadLong().status());  // the block's byte size
    }
    for (int64_t i = 0; i < entries; ++i) {
      SLUICE_ASSIGN_OR_RETURN(std::string key, ReadBytes());
      SLUICE_ASSIGN_OR_RETURN(std::string value, ReadBytes());
      if (key == "avro.schema")
        schema_json_ = std::move(value);
      else if (key == "avro.codec")
        codec = std::move(value);
    }
  }
  if (schema_json_.empty())
    return DataError(fmt::format("{}: the Avro header has no avro.schema", name_));
  Result<AvroCodec> parsed = ParseAvroCodec(codec);
  if (!parsed.ok()) {
    return DataError(fmt::format("{}: written with the Avro codec '{}', which Sluice does not "
                                 "read (null, deflate, zstandard)",
                                 name_, codec));
  }
  codec_ = *parsed;
  sync_.resize(kSyncSize);
  SLUICE_RETURN_IF_ERROR(ReadExactly(sync_.data(), sync_.size()));
  block_offset_ = offset_;
  Result<std::unique_ptr<AvroRecordDecoder>> decoder = AvroRecordDecoder::Make(schema_json_);
  if (!decoder.ok())
    return DataError(fmt::format("{}: {}", name_, decoder.status().message()));
  decoder_ = std::move(*decoder);
  return Status::OK();
}

Result<bool> AvroContainerReader::NextBlock() {
  block_offset_ = offset_;
  // The end of the file comes where the next block would start.
  char first = 0;
  SLUICE_ASSIGN_OR_RETURN(size_t got, input_->Read(&first, 1));
  if (got == 0)
    return false;
  ++offset_;
  uint64_t value = static_cast<uint8_t>(first) & 0x7f;
  int shift = 7;
  char byte = first;
  while ((byte & 0x80) != 0) {
    if (shift >= 70)
      return DataError(fmt::format("{}: a malformed block at byte {}", name_, block_offset_));
    SLUICE_RETURN_IF_ERROR(ReadExactly(&byte, 1));
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    shift += 7;
  }
  const int64_t count = static_cast<int64_t>((value >> 1) ^ (~(value & 1) + 1));
  if (count < 0)
    return DataError(fmt::format("{}: a malformed block at byte {}", name_, block_offset_));
  SLUICE_ASSIGN_OR_RETURN(raw_, ReadBytes());
  std::string sync(kSyncSize, '\0');
  SLUICE_RETURN_IF_ERROR(ReadExactly(sync.data(), sync.size()));
  if (sync != sync_) {
    return DataError(fmt::format("{}: the block at byte {} does not end with the file's sync "
                                 "marker (corrupt or cut)",
                                 name_, block_offset_));
  }
  Status decompressed;
  switch (codec_) {
    case AvroCodec::kNull:
      block_.swap(raw_);
      break;
    case AvroCodec::kDeflate:
      decompressed = Inflate(raw_, &block_);
      break;
    case AvroCodec::kZstandard:
      decompressed = ZstdDecompress(raw_, &block_);
      break;
  }
  if (!decompressed.ok()) {
    return DataError(fmt::format("{}: the block at byte {}: {}", name_, block_offset_,
                                 decompressed.message()));
  }
  block_count_ = static_cast<uint64_t>(count);
  block_left_ = block_count_;
  decoder_->Reset(block_);
  return true;
}

Result<bool> AvroContainerReader::Read(Batch* batch, size_t max_rows) {
  size_t appended = 0;
  while (appended < max_rows) {
    if (block_left_ == 0) {
      SLUICE_ASSIGN_OR_RETURN(bool more, NextBlock());
      if (!more)
        break;
      continue;
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(block_left_, max_rows - appended));
    const size_t before = batch->num_rows();
    Status status = decoder_->Append(take, batch);
    const size_t added = batch->num_rows() - before;
    block_left_ -= added;
    appended += added;
    if (!status.ok()) {
      Status error = DataError(fmt::format("{}: the block at byte {}, {}", name_, block_offset_,
                                           status.message()));
      can_skip_ = decoder_->last_record_consumed();
      if (can_skip_) {
        block_left_ -= 1;  // the bad record is behind the reader
        if (block_left_ == 0)
          block_offset_ = offset_;
      }
      return error;
    }
  }
  if (block_left_ == 0)
    block_offset_ = offset_;  // the next record starts the next block
  return appended > 0;
}

Status AvroContainerReader::SeekTo(uint64_t block_offset, uint64_t records_into_block,
                                   Batch* scratch) {
  if (block_offset < offset_) {
    return Internal(fmt::format("{}: cannot seek back to byte {} from byte {}", name_,
                                block_offset, offset_));
  }
  SLUICE_RETURN_IF_ERROR(input_->Skip(block_offset - offset_));
  offset_ = block_offset;
  block_offset_ = offset_;
  block_left_ = 0;
  if (records_into_block == 0)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(bool more, NextBlock());
  if (!more || records_into_block > block_count_) {
    return DataError(fmt::format("{}: no record {} in the block at byte {}: the file changed",
                                 name_, records_into_block, block_offset));
  }
  // Decode and drop the records before the position; one that went to the errors policy
  // before (a value that did not fit) is passed over again.
  uint64_t left = records_into_block;
  while (left > 0) {
    scratch->Clear();
    const size_t take = static_cast<size_t>(std::min<uint64_t>(left, scratch->capacity()));
    Status status = decoder_->Append(take, scratch);
    left -= scratch->num_rows();
    if (!status.ok()) {
      if (!decoder_->last_record_consumed())
        return DataError(fmt::format("{}: the block at byte {}, {}", name_, block_offset,
                                     status.message()));
      left -= 1;
    }
  }
  scratch->Clear();
  block_left_ = block_count_ - records_into_block;
  return Status::OK();
}

}  // namespace sluice::formats
