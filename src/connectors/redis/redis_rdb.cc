// RdbParser (see redis_rdb.h). The format is Redis's own (rdb.h, listpack.c, ziplist.c,
// intset.c, t_stream.c); numbers inside blobs are little-endian, lengths of 32 and 64 bits are
// big-endian.
#include "connectors/redis/redis_rdb.h"

#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

extern "C" {
#include <liblzf/lzf.h>
}

namespace sluice::connectors::redis {

namespace {

// Opcodes before a key (rdb.h).
constexpr uint8_t kOpSlotInfo = 0xF4;
constexpr uint8_t kOpFunction2 = 0xF5;
constexpr uint8_t kOpFunctionPreGa = 0xF6;
constexpr uint8_t kOpModuleAux = 0xF7;
constexpr uint8_t kOpIdle = 0xF8;
constexpr uint8_t kOpFreq = 0xF9;
constexpr uint8_t kOpAux = 0xFA;
constexpr uint8_t kOpResizeDb = 0xFB;
constexpr uint8_t kOpExpireTimeMs = 0xFC;
constexpr uint8_t kOpExpireTime = 0xFD;
constexpr uint8_t kOpSelectDb = 0xFE;
constexpr uint8_t kOpEof = 0xFF;

// Value types.
enum : uint8_t {
  kTypeString = 0,
  kTypeList = 1,
  kTypeSet = 2,
  kTypeZset = 3,
  kTypeHash = 4,
  kTypeZset2 = 5,
  kTypeModulePreGa = 6,
  kTypeModule2 = 7,
  kTypeHashZipmap = 9,
  kTypeListZiplist = 10,
  kTypeSetIntset = 11,
  kTypeZsetZiplist = 12,
  kTypeHashZiplist = 13,
  kTypeListQuicklist = 14,
  kTypeStreamListpacks = 15,
  kTypeHashListpack = 16,
  kTypeZsetListpack = 17,
  kTypeListQuicklist2 = 18,
  kTypeStreamListpacks2 = 19,
  kTypeSetListpack = 20,
  kTypeStreamListpacks3 = 21,
};

// String encodings after a length byte of 11xxxxxx.
constexpr uint64_t kEncInt8 = 0;
constexpr uint64_t kEncInt16 = 1;
constexpr uint64_t kEncInt32 = 2;
constexpr uint64_t kEncLzf = 3;

uint64_t LittleEndian(const unsigned char* p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i)
    value = (value << 8) | p[i];
  return value;
}

int64_t SignExtend(uint64_t value, int bits) {
  if (bits >= 64)
    return static_cast<int64_t>(value);
  const uint64_t sign = uint64_t{1} << (bits - 1);
  value &= (uint64_t{1} << bits) - 1;
  return static_cast<int64_t>((value ^ sign) - sign);
}

// The decimal text of an integer entry, in `buffer`.
std::string_view IntText(int64_t value, char (&buffer)[24]) {
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string_view(buffer, result.ptr - buffer);
}

Status Corrupt(std::string_view what) {
  return DataError(fmt::format("the RDB stream is not valid: {}", what));
}

double ParseScore(std::string_view text) {
  std::string copy(text);
  return std::strtod(copy.c_str(), nullptr);
}

RdbKind KindOf(uint8_t type) {
  switch (type) {
    case kTypeString:
      return RdbKind::kString;
    case kTypeList:
    case kTypeListZiplist:
    case kTypeListQuicklist:
    case kTypeListQuicklist2:
      return RdbKind::kList;
    case kTypeSet:
    case kTypeSetIntset:
    case kTypeSetListpack:
      return RdbKind::kSet;
    case kTypeZset:
    case kTypeZset2:
    case kTypeZsetZiplist:
    case kTypeZsetListpack:
      return RdbKind::kZset;
    case kTypeHash:
    case kTypeHashZipmap:
    case kTypeHashZiplist:
    case kTypeHashListpack:
      return RdbKind::kHash;
    default:
      return RdbKind::kStream;
  }
}

bool KnownType(uint8_t type) {
  return type <= kTypeZset2 || (type >= kTypeHashZipmap && type <= kTypeStreamListpacks3);
}

}  // namespace

std::string_view RdbKindName(RdbKind kind) {
  switch (kind) {
    case RdbKind::kString:
      return "string";
    case RdbKind::kList:
      return "list";
    case RdbKind::kSet:
      return "set";
    case RdbKind::kZset:
      return "zset";
    case RdbKind::kHash:
      return "hash";
    case RdbKind::kStream:
      return "stream";
  }
  return "string";
}

Status RdbParser::ReadBytes(char* out, size_t size) {
  SLUICE_RETURN_IF_ERROR(input_->Read(out, size));
  bytes_read_ += size;
  return Status::OK();
}

Result<uint8_t> RdbParser::ReadByte() {
  char byte;
  SLUICE_RETURN_IF_ERROR(ReadBytes(&byte, 1));
  return static_cast<uint8_t>(byte);
}

Result<uint64_t> RdbParser::ReadLength(bool* encoded) {
  if (encoded != nullptr)
    *encoded = false;
  SLUICE_ASSIGN_OR_RETURN(uint8_t first, ReadByte());
  switch (first >> 6) {
    case 0:
      return first & 0x3F;
    case 1: {
      SLUICE_ASSIGN_OR_RETURN(uint8_t second, ReadByte());
      return (uint64_t{first & 0x3Fu} << 8) | second;
    }
    case 2: {
      int bytes = first == 0x80 ? 4 : first == 0x81 ? 8 : 0;
      if (bytes == 0)
        return Corrupt(fmt::format("length byte 0x{:02x}", first));
      unsigned char raw[8];
      SLUICE_RETURN_IF_ERROR(ReadBytes(reinterpret_cast<char*>(raw), bytes));
      uint64_t value = 0;
      for (int i = 0; i < bytes; ++i)
        value = (value << 8) | raw[i];
      return value;
    }
    default:
      if (encoded == nullptr)
        return Corrupt("an encoded string where a length belongs");
      *encoded = true;
      return first & 0x3F;
  }
}

Status RdbParser::ReadString(std::string* out) {
  bool encoded = false;
  SLUICE_ASSIGN_OR_RETURN(uint64_t length, ReadLength(&encoded));
  if (!encoded) {
    out->resize(length);
    return ReadBytes(out->data(), length);
  }
  unsigned char raw[4];
  char text[24];
  switch (length) {
    case kEncInt8:
      SLUICE_RETURN_IF_ERROR(ReadBytes(reinterpret_cast<char*>(raw), 1));
      out->assign(IntText(SignExtend(raw[0], 8), text));
      return Status::OK();
    case kEncInt16:
      SLUICE_RETURN_IF_ERROR(ReadBytes(reinterpret_cast<char*>(raw), 2));
      out->assign(IntText(SignExtend(LittleEndian(raw, 2), 16), text));
      return Status::OK();
    case kEncInt32:
      SLUICE_RETURN_IF_ERROR(ReadBytes(reinterpret_cast<char*>(raw), 4));
      out->assign(IntText(SignExtend(LittleEndian(raw, 4), 32), text));
      return Status::OK();
    case kEncLzf: {
      SLUICE_ASSIGN_OR_RETURN(uint64_t compressed, ReadLength());
      SLUICE_ASSIGN_OR_RETURN(uint64_t plain, ReadLength());
      scratch_.resize(compressed);
      SLUICE_RETURN_IF_ERROR(ReadBytes(scratch_.data(), compressed));
      out->resize(plain);
      if (plain > 0 &&
          lzf_decompress(scratch_.data(), static_cast<unsigned>(compressed), out->data(),
                         static_cast<unsigned>(plain)) != plain) {
        return Corrupt("an LZF string does not decompress to its length");
      }
      return Status::OK();
    }
    default:
      return Corrupt(fmt::format("string encoding {}", length));
  }
}

Status RdbParser::SkipString() {
  return ReadString(&scratch_);
}

Result<double> RdbParser::ReadTextScore() {
  SLUICE_ASSIGN_OR_RETURN(uint8_t length, ReadByte());
  if (length == 253)
    return std::numeric_limits<double>::quiet_NaN();
  if (length == 254)
    return std::numeric_limits<double>::infinity();
  if (length == 255)
    return -std::numeric_limits<double>::infinity();
  char text[256];
  SLUICE_RETURN_IF_ERROR(ReadBytes(text, length));
  return ParseScore(std::string_view(text, length));
}

Result<double> RdbParser::ReadBinaryScore() {
  unsigned char raw[8];
  SLUICE_RETURN_IF_ERROR(ReadBytes(reinterpret_cast<char*>(raw), 8));
  uint64_t bits = LittleEndian(raw, 8);
  double value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

Status RdbParser::Parse() {
  char header[9];
  SLUICE_RETURN_IF_ERROR(ReadBytes(header, 9));
  if (std::memcmp(header, "REDIS", 5) != 0)
    return Corrupt("it does not start with REDIS");
  version_ = std::atoi(std::string(header + 5, 4).c_str());
  if (version_ < 1 || version_ > 12) {
    return Unsupported(fmt::format("RDB version {} (the redis source reads versions 1 to 12, "
                                   "what Redis 2.6 to 7.4 write)",
                                   version_));
  }
  int db = 0;
  int64_t expire_at_ms = -1;
  std::string name;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(uint8_t type, ReadByte());
    switch (type) {
      case kOpEof: {
        if (version_ >= 5) {
          char checksum[8];
          SLUICE_RETURN_IF_ERROR(ReadBytes(checksum, 8));
        }
        return Status::OK();
      }
      case kOpSelectDb: {
        SLUICE_ASSIGN_OR_RETURN(uint64_t number, ReadLength());
        db = static_cast<int>(number);
        continue;
      }
      case kOpResizeDb:
        SLUICE_RETURN_IF_ERROR(ReadLength().status());
        SLUICE_RETURN_IF_ERROR(ReadLength().status());
        continue;
      case kOpSlotInfo:
        for (int i = 0; i < 3; ++i)
          SLUICE_RETURN_IF_ERROR(ReadLength().status());
        continue;
      case kOpAux:
        SLUICE_RETURN_IF_ERROR(ReadString(&name));
        SLUICE_RETURN_IF_ERROR(ReadString(&value_));
        SLUICE_RETURN_IF_ERROR(visitor_->OnAux(name, value_));
        continue;
      case kOpExpireTime: {
        unsigned char raw[4];
        SLUICE_RETURN_IF_ERROR(ReadBytes(reinterpret_cast<char*>(raw), 4));
        expire_at_ms = static_cast<int64_t>(LittleEndian(raw, 4)) * 1000;
        continue;
      }
      case kOpExpireTimeMs: {
        unsigned char raw[8];
        SLUICE_RETURN_IF_ERROR(ReadBytes(reinterpret_cast<char*>(raw), 8));
        expire_at_ms = static_cast<int64_t>(LittleEndian(raw, 8));
        continue;
      }
      case kOpFreq:
        SLUICE_RETURN_IF_ERROR(ReadByte().status());
        continue;
      case kOpIdle:
        SLUICE_RETURN_IF_ERROR(ReadLength().status());
        continue;
      case kOpFunction2:
        SLUICE_RETURN_IF_ERROR(SkipString());  // a function library's code: not data
        continue;
      case kOpFunctionPreGa:
        return Unsupported("the RDB holds functions in the format of a Redis 7.0 release "
                           "candidate; upgrade the server");
      case kOpModuleAux:
        return Unsupported("the RDB holds a module's own data (a Redis module is loaded on the "
                           "server); the redis source cannot read module data");
      default:
        break;
    }
    if (type == kTypeModulePreGa || type == kTypeModule2) {
      return Unsupported("the RDB holds a key of a module's type (a Redis module is loaded on "
                         "the server); the redis source cannot read module data");
    }
    if (!KnownType(type)) {
      return Unsupported(fmt::format(
          "the RDB holds a value of type {} (from a newer Redis, such as hashes with field "
          "expiry); the redis source reads what Redis 2.6 to 7.4 write",
          type));
    }
    SLUICE_RETURN_IF_ERROR(ReadString(&key_));
    RdbKey key{db, key_, KindOf(type), expire_at_ms};
    expire_at_ms = -1;
    SLUICE_RETURN_IF_ERROR(visitor_->OnKeyBegin(key));
    SLUICE_RETURN_IF_ERROR(ReadValue(key, type));
    SLUICE_RETURN_IF_ERROR(visitor_->OnKeyEnd());
  }
}

Status RdbParser::ReadValue(const RdbKey& key, uint8_t type) {
  index_ = 0;
  RdbElement element;
  switch (type) {
    case kTypeString:
      SLUICE_RETURN_IF_ERROR(ReadString(&value_));
      return visitor_->OnString(value_);
    case kTypeList:
    case kTypeSet: {
      SLUICE_ASSIGN_OR_RETURN(uint64_t count, ReadLength());
      for (uint64_t i = 0; i < count; ++i) {
        SLUICE_RETURN_IF_ERROR(ReadString(&member_));
        element = RdbElement{};
        if (type == kTypeList) {
          element.value = member_;
          element.index = i;
        } else {
          element.member = member_;
        }
        SLUICE_RETURN_IF_ERROR(visitor_->OnElement(element));
      }
      return Status::OK();
    }
    case kTypeZset:
    case kTypeZset2: {
      SLUICE_ASSIGN_OR_RETURN(uint64_t count, ReadLength());
      for (uint64_t i = 0; i < count; ++i) {
        SLUICE_RETURN_IF_ERROR(ReadString(&member_));
        Result<double> score = type == kTypeZset ? ReadTextScore() : ReadBinaryScore();
        SLUICE_RETURN_IF_ERROR(score.status());
        element = RdbElement{};
        element.member = member_;
        element.score = *score;
        SLUICE_RETURN_IF_ERROR(visitor_->OnElement(element));
      }
      return Status::OK();
    }
    case kTypeHash: {
      SLUICE_ASSIGN_OR_RETURN(uint64_t count, ReadLength());
      for (uint64_t i = 0; i < count; ++i) {
        SLUICE_RETURN_IF_ERROR(ReadString(&member_));
        SLUICE_RETURN_IF_ERROR(ReadString(&value_));
        element = RdbElement{};
        element.member = member_;
        element.value = value_;
        SLUICE_RETURN_IF_ERROR(visitor_->OnElement(element));
      }
      return Status::OK();
    }
    case kTypeListQuicklist:
    case kTypeListQuicklist2: {
      SLUICE_ASSIGN_OR_RETURN(uint64_t nodes, ReadLength());
      for (uint64_t i = 0; i < nodes; ++i) {
        uint64_t container = 2;  // quicklist 1: every node a ziplist
        if (type == kTypeListQuicklist2) {
          SLUICE_ASSIGN_OR_RETURN(container, ReadLength());
        }
        SLUICE_RETURN_IF_ERROR(ReadString(&blob_));
        if (container == 1) {  // a plain node: one big element
          element = RdbElement{};
          element.value = blob_;
          element.index = index_++;
          SLUICE_RETURN_IF_ERROR(visitor_->OnElement(element));
          continue;
        }
        SLUICE_RETURN_IF_ERROR(BlobElements(RdbKind::kList, blob_,
                                            type == kTypeListQuicklist ? kTypeListZiplist
                                                                       : kTypeListQuicklist2));
      }
      return Status::OK();
    }
    case kTypeStreamListpacks:
    case kTypeStreamListpacks2:
    case kTypeStreamListpacks3:
      return ReadStream(type);
    default:  // one blob holding the whole collection
      SLUICE_RETURN_IF_ERROR(ReadString(&blob_));
      return BlobElements(key.kind, blob_, type);
  }
}

Status RdbParser::BlobElements(RdbKind kind, std::string_view blob, uint8_t encoding) {
  bool have_first = false;
  RdbElement element;
  auto visit = [&](std::string_view entry) -> Status {
    if (kind == RdbKind::kHash || kind == RdbKind::kZset) {
      if (!have_first) {
        member_.assign(entry);
        have_first = true;
        return Status::OK();
      }
      have_first = false;
      element = RdbElement{};
      element.member = member_;
      if (kind == RdbKind::kHash) {
        element.value = entry;
      } else {
        element.score = ParseScore(entry);
      }
      return visitor_->OnElement(element);
    }
    element = RdbElement{};
    if (kind == RdbKind::kList) {
      element.value = entry;
      element.index = index_++;
    } else {
      element.member = entry;
    }
    return visitor_->OnElement(element);
  };
  switch (encoding) {
    case kTypeHashZipmap:
      return ZipmapEntries(blob, visit);
    case kTypeSetIntset:
      return IntsetEntries(blob, visit);
    case kTypeListZiplist:
    case kTypeZsetZiplist:
    case kTypeHashZiplist:
      return ZiplistEntries(blob, visit);
    default:  // listpacks: hash, zset, set, quicklist 2 nodes
      return ListpackEntries(blob, visit);
  }
}

Status RdbParser::ListpackEntries(std::string_view blob,
                                  const std::function<Status(std::string_view)>& f) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  const auto* end = p + blob.size();
  if (blob.size() < 7)
    return Corrupt("a listpack shorter than its header");
  p += 6;  // total bytes (4), element count (2)
  char text[24];
  while (p < end && *p != 0xFF) {
    const unsigned char b = *p;
    size_t header = 1, data = 0;
    std::string_view entry;
    if ((b & 0x80) == 0) {
      entry = IntText(b & 0x7F, text);
    } else if ((b & 0xC0) == 0x80) {
      data = b & 0x3F;
    } else if ((b & 0xE0) == 0xC0) {
      if (end - p < 2)
        break;
      entry = IntText(SignExtend((uint64_t{b & 0x1Fu} << 8) | p[1], 13), text);
      header = 2;
    } else if ((b & 0xF0) == 0xE0) {
      if (end - p < 2)
        break;
      data = (size_t{b & 0x0Fu} << 8) | p[1];
      header = 2;
    } else if (b == 0xF0) {
      if (end - p < 5)
        break;
      data = LittleEndian(p + 1, 4);
      header = 5;
    } else if (b >= 0xF1 && b <= 0xF4) {
      static constexpr int kBytes[] = {2, 3, 4, 8};
      const int bytes = kBytes[b - 0xF1];
      if (end - p < 1 + bytes)
        break;
      entry = IntText(SignExtend(LittleEndian(p + 1, bytes), bytes * 8), text);
      header = 1 + bytes;
    } else {
      return Corrupt(fmt::format("listpack entry byte 0x{:02x}", b));
    }
    if (static_cast<size_t>(end - p) < header + data)
      break;
    if (entry.data() == nullptr)
      entry = std::string_view(reinterpret_cast<const char*>(p + header), data);
    const size_t length = header + data;
    const size_t backlen = length <= 127 ? 1 : length < 16383 ? 2 : length < 2097151 ? 3
                           : length < 268435455 ? 4 : 5;
    p += length + backlen;
    SLUICE_RETURN_IF_ERROR(f(entry));
  }
  if (p >= end)
    return Corrupt("a listpack without its end byte");
  return Status::OK();
}

Status RdbParser::ZiplistEntries(std::string_view blob,
                                 const std::function<Status(std::string_view)>& f) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  const auto* end = p + blob.size();
  if (blob.size() < 11)
    return Corrupt("a ziplist shorter than its header");
  p += 10;  // total bytes (4), tail offset (4), entry count (2)
  char text[24];
  while (p < end && *p != 0xFF) {
    p += *p < 254 ? 1 : 5;  // the previous entry's length
    if (p >= end)
      break;
    const unsigned char b = *p;
    size_t header = 1, data = 0;
    std::string_view entry;
    switch (b >> 6) {
      case 0:
        data = b & 0x3F;
        break;
      case 1:
        if (end - p < 2)
          return Corrupt("a truncated ziplist");
        data = (size_t{b & 0x3Fu} << 8) | p[1];
        header = 2;
        break;
      case 2:
        if (end - p < 5)
          return Corrupt("a truncated ziplist");
        data = (size_t{p[1]} << 24) | (size_t{p[2]} << 16) | (size_t{p[3]} << 8) | p[4];
        header = 5;
        break;
      default: {
        int bytes = 0;
        switch (b) {
          case 0xC0: bytes = 2; break;
          case 0xD0: bytes = 4; break;
          case 0xE0: bytes = 8; break;
          case 0xF0: bytes = 3; break;
          case 0xFE: bytes = 1; break;
          default:
            if (b >= 0xF1 && b <= 0xFD) {
              entry = IntText((b & 0x0F) - 1, text);
            } else {
              return Corrupt(fmt::format("ziplist entry byte 0x{:02x}", b));
            }
        }
        if (bytes > 0) {
          if (end - p < 1 + bytes)
            return Corrupt("a truncated ziplist");
          entry = IntText(SignExtend(LittleEndian(p + 1, bytes), bytes * 8), text);
          header = 1 + bytes;
        }
      }
    }
    if (static_cast<size_t>(end - p) < header + data)
      return Corrupt("a truncated ziplist");
    if (entry.data() == nullptr)
      entry = std::string_view(reinterpret_cast<const char*>(p + header), data);
    p += header + data;
    SLUICE_RETURN_IF_ERROR(f(entry));
  }
  return Status::OK();
}

Status RdbParser::ZipmapEntries(std::string_view blob,
                                const std::function<Status(std::string_view)>& f) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  const auto* end = p + blob.size();
  if (p == end)
    return Corrupt("an empty zipmap");
  ++p;  // element count (a hint)
  auto read_length = [&](size_t* length) -> bool {
    if (p >= end || *p == 0xFF)
      return false;
    if (*p < 254) {
      *length = *p++;
      return true;
    }
    if (end - p < 5)
      return false;
    *length = LittleEndian(p + 1, 4);
    p += 5;
    return true;
  };
  for (;;) {
    size_t key_length = 0, value_length = 0;
    if (!read_length(&key_length))
      return Status::OK();
    if (static_cast<size_t>(end - p) < key_length)
      return Corrupt("a truncated zipmap");
    SLUICE_RETURN_IF_ERROR(f(std::string_view(reinterpret_cast<const char*>(p), key_length)));
    p += key_length;
    if (!read_length(&value_length) || p >= end)
      return Corrupt("a zipmap key without its value");
    const size_t free = *p++;
    if (static_cast<size_t>(end - p) < value_length + free)
      return Corrupt("a truncated zipmap");
    SLUICE_RETURN_IF_ERROR(f(std::string_view(reinterpret_cast<const char*>(p), value_length)));
    p += value_length + free;
  }
}

Status RdbParser::IntsetEntries(std::string_view blob,
                                const std::function<Status(std::string_view)>& f) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  if (blob.size() < 8)
    return Corrupt("an intset shorter than its header");
  const int width = static_cast<int>(LittleEndian(p, 4));
  const uint64_t count = LittleEndian(p + 4, 4);
  if ((width != 2 && width != 4 && width != 8) || blob.size() < 8 + count * width)
    return Corrupt("an intset of a bad width or length");
  char text[24];
  for (uint64_t i = 0; i < count; ++i) {
    SLUICE_RETURN_IF_ERROR(
        f(IntText(SignExtend(LittleEndian(p + 8 + i * width, width), width * 8), text)));
  }
  return Status::OK();
}

Status RdbParser::ReadStream(uint8_t type) {
  SLUICE_ASSIGN_OR_RETURN(uint64_t nodes, ReadLength());
  std::vector<std::string> entries;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string master_key;
  for (uint64_t node = 0; node < nodes; ++node) {
    SLUICE_RETURN_IF_ERROR(ReadString(&master_key));
    if (master_key.size() != 16)
      return Corrupt("a stream node key that is not a 128-bit id");
    uint64_t master_ms = 0, master_seq = 0;
    for (int i = 0; i < 8; ++i) {
      master_ms = (master_ms << 8) | static_cast<unsigned char>(master_key[i]);
      master_seq = (master_seq << 8) | static_cast<unsigned char>(master_key[8 + i]);
    }
    SLUICE_RETURN_IF_ERROR(ReadString(&blob_));
    entries.clear();
    SLUICE_RETURN_IF_ERROR(ListpackEntries(blob_, [&](std::string_view entry) {
      entries.emplace_back(entry);
      return Status::OK();
    }));
    auto number = [&](size_t i) -> int64_t {
      return i < entries.size() ? std::strtoll(entries[i].c_str(), nullptr, 10) : 0;
    };
    // Master entry: count, deleted, field count, fields..., 0.
    const int64_t master_fields = number(2);
    size_t at = 3 + static_cast<size_t>(master_fields) + 1;
    if (master_fields < 0 || at > entries.size())
      return Corrupt("a stream node's master entry");
    while (at < entries.size()) {
      const int64_t flags = number(at);
      const uint64_t ms = master_ms + static_cast<uint64_t>(number(at + 1));
      const uint64_t seq = master_seq + static_cast<uint64_t>(number(at + 2));
      at += 3;
      fields.clear();
      if (flags & 2) {  // the master entry's fields
        for (int64_t i = 0; i < master_fields && at < entries.size(); ++i, ++at)
          fields.emplace_back(entries[3 + i], entries[at]);
      } else {
        const int64_t count = number(at++);
        for (int64_t i = 0; i < count && at + 1 < entries.size(); ++i, at += 2)
          fields.emplace_back(entries[at], entries[at + 1]);
      }
      ++at;  // lp-count
      if (at > entries.size())
        return Corrupt("a truncated stream node");
      if (flags & 1)
        continue;  // deleted
      member_ = fmt::format("{}-{}", ms, seq);
      RdbElement element;
      element.member = member_;
      element.fields = &fields;
      SLUICE_RETURN_IF_ERROR(visitor_->OnElement(element));
    }
  }
  // Length, last id; since version 2 also the first id, the max deleted id, entries added.
  const int counters = type == kTypeStreamListpacks ? 3 : 8;
  for (int i = 0; i < counters; ++i)
    SLUICE_RETURN_IF_ERROR(ReadLength().status());
  SLUICE_ASSIGN_OR_RETURN(uint64_t groups, ReadLength());
  char raw[24];
  for (uint64_t g = 0; g < groups; ++g) {
    SLUICE_RETURN_IF_ERROR(SkipString());
    SLUICE_RETURN_IF_ERROR(ReadLength().status());  // last id
    SLUICE_RETURN_IF_ERROR(ReadLength().status());
    if (type != kTypeStreamListpacks)
      SLUICE_RETURN_IF_ERROR(ReadLength().status());  // entries read
    SLUICE_ASSIGN_OR_RETURN(uint64_t pending, ReadLength());
    for (uint64_t i = 0; i < pending; ++i) {
      SLUICE_RETURN_IF_ERROR(ReadBytes(raw, 16 + 8));  // id, delivery time
      SLUICE_RETURN_IF_ERROR(ReadLength().status());   // delivery count
    }
    SLUICE_ASSIGN_OR_RETURN(uint64_t consumers, ReadLength());
    for (uint64_t c = 0; c < consumers; ++c) {
      SLUICE_RETURN_IF_ERROR(SkipString());
      SLUICE_RETURN_IF_ERROR(ReadBytes(raw, type == kTypeStreamListpacks3 ? 16 : 8));
      SLUICE_ASSIGN_OR_RETURN(uint64_t owned, ReadLength());
      for (uint64_t i = 0; i < owned; ++i)
        SLUICE_RETURN_IF_ERROR(ReadBytes(raw, 16));
    }
  }
  return Status::OK();
}

}  // namespace sluice::connectors::redis
