// RdbParser on RDB bytes built here, for the encodings a Redis 7 server no longer writes (and so
// the replicate tests against the real replica cannot meet): ziplists, zipmaps, quicklists of
// ziplists, sorted sets with text scores, second expiry times; plus LZF strings, integer strings
// and what a parser must refuse (not an RDB, a truncated stream, a module type).
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include <liblzf/lzf.h>
}

#include "connectors/redis/redis_rdb.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::redis {
namespace {

class BufferInput final : public RdbInput {
 public:
  explicit BufferInput(std::string bytes) : bytes_(std::move(bytes)) {}
  Status Read(char* out, size_t size) override {
    if (bytes_.size() - at_ < size)
      return Unavailable("end of input");
    std::memcpy(out, bytes_.data() + at_, size);
    at_ += size;
    return Status::OK();
  }

 private:
  std::string bytes_;
  size_t at_ = 0;
};

struct Collected : RdbVisitor {
  struct Key {
    std::string kind;
    int db = 0;
    int64_t expire_at_ms = -1;
    std::string string_value;
    std::vector<std::string> elements;  // "member=value@score" per element
  };
  std::map<std::string, Key> keys;
  std::string current;

  Status OnKeyBegin(const RdbKey& key) override {
    current = std::string(key.key);
    keys[current] = Key{std::string(RdbKindName(key.kind)), key.db, key.expire_at_ms, {}, {}};
    return Status::OK();
  }
  Status OnString(std::string_view value) override {
    keys[current].string_value = std::string(value);
    return Status::OK();
  }
  Status OnElement(const RdbElement& element) override {
    std::string text = std::string(element.member) + "=" + std::string(element.value);
    if (keys[current].kind == "zset")
      text += "@" + std::to_string(element.score);
    keys[current].elements.push_back(text);
    return Status::OK();
  }
  Status OnKeyEnd() override { return Status::OK(); }
};

// RDB building blocks.
std::string Length(size_t n) {
  if (n < 64)
    return std::string(1, static_cast<char>(n));
  if (n < 16384)
    return {static_cast<char>(0x40 | (n >> 8)), static_cast<char>(n & 0xFF)};
  std::string out(1, static_cast<char>(0x80));
  for (int shift = 24; shift >= 0; shift -= 8)
    out += static_cast<char>((n >> shift) & 0xFF);
  return out;
}
std::string String(std::string_view text) {
  return Length(text.size()) + std::string(text);
}
std::string LittleEndian(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i)
    out += static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

// A ziplist of entries: text, or an integer when `ints` says so.
std::string Ziplist(const std::vector<std::string>& entries, const std::vector<bool>& ints = {}) {
  std::string body;
  size_t previous = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string entry = previous < 254 ? std::string(1, static_cast<char>(previous))
                                       : "\xFE" + LittleEndian(previous, 4);
    if (i < ints.size() && ints[i]) {
      const int64_t value = std::stoll(entries[i]);
      if (value >= 0 && value <= 12) {
        entry += static_cast<char>(0xF1 + value);
      } else if (value >= -128 && value <= 127) {
        entry += '\xFE';
        entry += static_cast<char>(value);
      } else {
        entry += '\xC0';
        entry += LittleEndian(static_cast<uint16_t>(value), 2);
      }
    } else {
      entry += static_cast<char>(entries[i].size());  // 00pppppp: shorter than 64
      entry += entries[i];
    }
    previous = entry.size();
    body += entry;
  }
  std::string header = LittleEndian(10 + body.size() + 1, 4) + LittleEndian(0, 4) +
                       LittleEndian(entries.size(), 2);
  return header + body + "\xFF";
}

std::string Zipmap(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out(1, static_cast<char>(pairs.size()));
  for (const auto& [key, value] : pairs) {
    out += static_cast<char>(key.size()) + key;
    out += static_cast<char>(value.size());
    out += '\x02';  // free bytes after the value
    out += value + "..";
  }
  return out + "\xFF";
}

std::string Lzf(const std::string& text) {
  std::string compressed(text.size() + 16, '\0');
  unsigned size = lzf_compress(text.data(), text.size(), compressed.data(), compressed.size());
  compressed.resize(size);
  return "\xC3" + Length(compressed.size()) + Length(text.size()) + compressed;
}

std::string OldRdb() {
  std::string rdb = "REDIS0006";
  rdb += "\xFE" + Length(2);  // SELECTDB 2
  rdb += "\x0D" + String("hash:ziplist") +
         String(Ziplist({"f1", "v1", "n", "42"}, {false, false, false, true}));
  rdb += "\x09" + String("hash:zipmap") + String(Zipmap({{"a", "1"}, {"bb", "22"}}));
  rdb += "\x0A" + String("list:ziplist") + String(Ziplist({"x", "7", "-300"}, {false, true, true}));
  rdb += "\x0E" + String("list:quicklist") + Length(2) + String(Ziplist({"a", "b"})) +
         String(Ziplist({"c"}));
  rdb += "\x0C" + String("zset:ziplist") + String(Ziplist({"m1", "1.5", "m2", "3"},
                                                           {false, false, false, true}));
  rdb += "\x03" + String("zset:text") + Length(2) + String("a") + "\x03" + "2.5" + String("b") +
         "\xFE";  // +inf
  rdb += "\xFD" + LittleEndian(2000000000, 4) + std::string(1, '\0') + String("string:expiring") +
         String("v");
  rdb += std::string("\x00", 1) + String("string:lzf") + Lzf(std::string(300, 'q') + "tail");
  rdb += std::string("\x00", 1) + String("string:int") + "\xC1" + LittleEndian(-1234 & 0xFFFF, 2);
  rdb += "\x0B" + String("set:intset") +
         String(LittleEndian(4, 4) + LittleEndian(2, 4) + LittleEndian(5, 4) +
                LittleEndian(static_cast<uint32_t>(-9), 4));
  rdb += "\xFF" + std::string(8, '\0');
  return rdb;
}

TEST(RdbParserTest, ReadsTheEncodingsOfOlderServers) {
  BufferInput input(OldRdb());
  Collected keys;
  RdbParser parser(&input, &keys);
  ASSERT_OK(parser.Parse());
  EXPECT_EQ(parser.version(), 6);
  ASSERT_EQ(keys.keys.size(), 10u);
  EXPECT_EQ(keys.keys["hash:ziplist"].kind, "hash");
  EXPECT_EQ(keys.keys["hash:ziplist"].db, 2);
  EXPECT_EQ(keys.keys["hash:ziplist"].elements, (std::vector<std::string>{"f1=v1", "n=42"}));
  EXPECT_EQ(keys.keys["hash:zipmap"].elements, (std::vector<std::string>{"a=1", "bb=22"}));
  EXPECT_EQ(keys.keys["list:ziplist"].elements,
            (std::vector<std::string>{"=x", "=7", "=-300"}));
  EXPECT_EQ(keys.keys["list:quicklist"].elements, (std::vector<std::string>{"=a", "=b", "=c"}));
  EXPECT_EQ(keys.keys["zset:ziplist"].elements,
            (std::vector<std::string>{"m1=@1.500000", "m2=@3.000000"}));
  EXPECT_EQ(keys.keys["zset:text"].elements,
            (std::vector<std::string>{"a=@2.500000", "b=@inf"}));
  EXPECT_EQ(keys.keys["string:expiring"].expire_at_ms, 2000000000000);
  EXPECT_EQ(keys.keys["string:lzf"].string_value, std::string(300, 'q') + "tail");
  EXPECT_EQ(keys.keys["string:int"].string_value, "-1234");
  EXPECT_EQ(keys.keys["set:intset"].elements, (std::vector<std::string>{"5=", "-9="}));
}

TEST(RdbParserTest, RefusesWhatIsNoRdbOrCannotBeRead) {
  Collected keys;
  BufferInput not_rdb("HELLO0009");
  EXPECT_EQ(RdbParser(&not_rdb, &keys).Parse().code(), StatusCode::kDataError);

  std::string rdb = OldRdb();
  BufferInput truncated(rdb.substr(0, rdb.size() / 2));
  EXPECT_EQ(RdbParser(&truncated, &keys).Parse().code(), StatusCode::kUnavailable);

  BufferInput module(std::string("REDIS0009\x07", 10) + String("k") + "junk");
  Status refused = RdbParser(&module, &keys).Parse();
  EXPECT_EQ(refused.code(), StatusCode::kUnsupported);
  EXPECT_NE(refused.message().find("module"), std::string::npos);

  BufferInput newer("REDIS0013");
  EXPECT_EQ(RdbParser(&newer, &keys).Parse().code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace sluice::connectors::redis
