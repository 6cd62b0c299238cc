// A streaming parser of Redis's RDB format, as a primary sends it to a replica in a full sync:
// it reads the bytes as they arrive (RdbInput) and hands each key to an RdbVisitor element by
// element, so that a key of any size passes through in pages of its own encoding, never whole.
//
// Covers what Redis 2.6 to 7.2 write (RDB versions 6 to 12): strings (raw, integer, LZF through
// liblzf), lists (linked, ziplist, quicklist, quicklist of listpacks), sets (plain, intset,
// listpack), sorted sets (plain, binary scores, ziplist, listpack), hashes (plain, zipmap,
// ziplist, listpack), streams (listpacks, versions 1 to 3, consumer groups skipped), the aux
// fields, database selection, expiry times, LRU/LFU hints and function libraries (skipped).
// Module types and module aux data are refused (Unsupported): their encoding belongs to the module.
//
// Not thread-safe; one parser per sync.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace sluice::connectors::redis {

/// Where the RDB bytes come from (a socket, a file, a test buffer).
class RdbInput {
 public:
  virtual ~RdbInput() = default;
  /// Reads exactly `size` bytes; an error ends the parse.
  virtual Status Read(char* out, size_t size) = 0;
};

enum class RdbKind { kString, kList, kSet, kZset, kHash, kStream };

/// "string", "list", "set", "zset", "hash", "stream": TYPE's names.
std::string_view RdbKindName(RdbKind kind);

struct RdbKey {
  int db = 0;
  std::string_view key;
  RdbKind kind = RdbKind::kString;
  int64_t expire_at_ms = -1;  // absolute Unix milliseconds; -1: no expiry
};

/// One element of a collection, valid during the call. Lists: `value`, `index`. Sets: `member`.
/// Sorted sets: `member`, `score`. Hashes: `member` (the field), `value`. Streams: `member` (the
/// entry id, "ms-seq"), `fields` (the entry's field/value pairs in order).
struct RdbElement {
  std::string_view member;
  std::string_view value;
  double score = 0;
  uint64_t index = 0;
  const std::vector<std::pair<std::string, std::string>>* fields = nullptr;
};

class RdbVisitor {
 public:
  virtual ~RdbVisitor() = default;
  /// A key starts; a string key's value follows in OnString, a collection's in OnElement calls.
  virtual Status OnKeyBegin(const RdbKey& key) = 0;
  virtual Status OnString(std::string_view value) = 0;
  virtual Status OnElement(const RdbElement& element) = 0;
  virtual Status OnKeyEnd() = 0;
  /// Aux fields ("redis-ver", "repl-id", ...).
  virtual Status OnAux(std::string_view name, std::string_view value) { return Status::OK(); }
};

class RdbParser {
 public:
  RdbParser(RdbInput* input, RdbVisitor* visitor) : input_(input), visitor_(visitor) {}

  /// Reads the header, every key, the EOF opcode and the checksum (not verified: the transport
  /// is TCP, and a replica running with rdbchecksum off sends zeros). DataError for bytes that
  /// are no RDB; errors of the input or the visitor as they come.
  Status Parse();

  /// Bytes consumed so far.
  uint64_t bytes_read() const { return bytes_read_; }
  int version() const { return version_; }

 private:
  Status ReadBytes(char* out, size_t size);
  Result<uint8_t> ReadByte();
  /// A length; `encoded` says it is a special string encoding (its value the encoding).
  Result<uint64_t> ReadLength(bool* encoded = nullptr);
  /// A string object (raw, integer or LZF) into `out`.
  Status ReadString(std::string* out);
  Status SkipString();
  Result<double> ReadTextScore();    // RDB_TYPE_ZSET's length-prefixed text
  Result<double> ReadBinaryScore();  // RDB_TYPE_ZSET_2's little-endian double

  Status ReadValue(const RdbKey& key, uint8_t type);
  Status ReadStream(uint8_t type);

  // Blob encodings (one string holding many elements): each entry as text.
  Status ListpackEntries(std::string_view blob, const std::function<Status(std::string_view)>& f);
  Status ZiplistEntries(std::string_view blob, const std::function<Status(std::string_view)>& f);
  Status ZipmapEntries(std::string_view blob, const std::function<Status(std::string_view)>& f);
  Status IntsetEntries(std::string_view blob, const std::function<Status(std::string_view)>& f);
  /// Elements of a blob-encoded collection of `kind`: pairs for hashes and sorted sets.
  Status BlobElements(RdbKind kind, std::string_view blob, uint8_t encoding);

  RdbInput* input_;
  RdbVisitor* visitor_;
  uint64_t bytes_read_ = 0;
  int version_ = 0;
  std::string key_;       // the current key
  std::string blob_;      // the current listpack/ziplist/intset
  std::string member_;    // reused per element
  std::string value_;
  std::string scratch_;   // LZF input
  uint64_t index_ = 0;    // list element index within the key
};

}  // namespace sluice::connectors::redis
