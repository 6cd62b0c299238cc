#include "io/compression.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/file_system.h"
#include "io/memory_stream.h"
#include "io/tests/io_test_util.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::io {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Status WriteFile(const std::string& path, std::string_view contents, Compression compression,
                 int level = 0) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<OutputStream> out,
                          CreateOutputFile(path, compression, level, SyncMode::kFsyncOnClose));
  // Uneven pieces exercise the codecs' buffering.
  size_t piece = 1;
  while (!contents.empty()) {
    size_t take = std::min(piece, contents.size());
    SLUICE_RETURN_IF_ERROR(out->Write(contents.substr(0, take)));
    contents.remove_prefix(take);
    piece = piece * 3 + 7;
  }
  return out->Close();
}

Result<std::string> ReadAll(InputStream* in, size_t chunk = 64 * 1024) {
  std::string out;
  std::string buffer(chunk, '\0');
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(size_t got, in->Read(buffer.data(), buffer.size()));
    if (got == 0)
      break;
    out.append(buffer.data(), got);
  }
  return out;
}

Result<std::string> ReadFile(const std::string& path, Compression compression,
                             size_t chunk = 64 * 1024) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<InputStream> in, OpenInputFile(path, compression));
  return ReadAll(in.get(), chunk);
}

TEST(CompressionTest, NamesAndExtensions) {
  EXPECT_EQ(CompressionFromPath("a/b.csv.gz"), Compression::kGzip);
  EXPECT_EQ(CompressionFromPath("b.jsonl.zst"), Compression::kZstd);
  EXPECT_EQ(CompressionFromPath("b.jsonl.zstd"), Compression::kZstd);
  EXPECT_EQ(CompressionFromPath("b.csv"), Compression::kNone);
  EXPECT_EQ(CompressionFromPath("gz"), Compression::kNone);
  EXPECT_EQ(StripCompressionExtension("out/a.csv.gz"), "out/a.csv");
  EXPECT_EQ(StripCompressionExtension("out/a.csv.zstd"), "out/a.csv");
  EXPECT_EQ(StripCompressionExtension("out/a.csv"), "out/a.csv");
  EXPECT_EQ(ResolveCompression(Compression::kAuto, "x.gz"), Compression::kGzip);
  EXPECT_EQ(ResolveCompression(Compression::kNone, "x.gz"), Compression::kNone);
  for (Compression c :
       {Compression::kAuto, Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    ASSERT_OK_AND_ASSIGN(Compression parsed, ParseCompression(CompressionName(c)));
    EXPECT_EQ(parsed, c);
  }
  Result<Compression> bad = ParseCompression("bzip2");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().ToString(),
            "config error: unknown compression 'bzip2' (known: auto, none, gzip, zstd)");
}

TEST(CompressionTest, RoundTripsEveryCodecAndSize) {
  testing::TempDir temp;
  for (const char* extension : {".txt", ".gz", ".zst"}) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{1000}, size_t{5} << 20}) {
      std::string path = temp.Join("data" + std::to_string(size) + extension);
      std::string text = MakeText(size, static_cast<uint32_t>(size));
      ASSERT_OK(WriteFile(path, text, Compression::kAuto));
      ASSERT_OK_AND_ASSIGN(std::string back, ReadFile(path, Compression::kAuto));
      EXPECT_EQ(back.size(), text.size()) << path;
      EXPECT_TRUE(back == text) << path;
      // Tiny reads take another path through every stream.
      if (size <= 1000) {
        ASSERT_OK_AND_ASSIGN(std::string slow, ReadFile(path, Compression::kAuto, 7));
        EXPECT_TRUE(slow == text) << path;
      }
    }
  }
}

TEST(CompressionTest, CompressedFilesAreSmallerAndReadableByName) {
  testing::TempDir temp;
  std::string text = MakeText(1 << 20);
  ASSERT_OK(WriteFile(temp.Join("a.bin"), text, Compression::kGzip, 9));
  ASSERT_OK(WriteFile(temp.Join("b.bin"), text, Compression::kZstd, 19));
  ASSERT_OK_AND_ASSIGN(uint64_t gzip_size, FileSize(temp.Join("a.bin")));
  ASSERT_OK_AND_ASSIGN(uint64_t zstd_size, FileSize(temp.Join("b.bin")));
  EXPECT_LT(gzip_size, text.size() / 2);
  EXPECT_LT(zstd_size, text.size() / 2);
  // No telling extension: the caller names the codec.
  ASSERT_OK_AND_ASSIGN(std::string a, ReadFile(temp.Join("a.bin"), Compression::kGzip));
  ASSERT_OK_AND_ASSIGN(std::string b, ReadFile(temp.Join("b.bin"), Compression::kZstd));
  EXPECT_TRUE(a == text);
  EXPECT_TRUE(b == text);
}

TEST(CompressionTest, ConcatenatedMembersAndFramesReadFully) {
  testing::TempDir temp;
  for (const char* extension : {".gz", ".zst"}) {
    std::string joined;
    std::string expected;
    for (int part = 0; part < 3; ++part) {
      std::string path = temp.Join("part" + std::to_string(part) + extension);
      std::string text = part == 1 ? "" : MakeText(300000 + part, part);
      ASSERT_OK(WriteFile(path, text, Compression::kAuto));
      joined += testing::ReadFileOrDie(path);
      expected += text;
    }
    std::string path = temp.Join(std::string("joined") + extension);
    testing::WriteFileOrDie(path, joined);
    ASSERT_OK_AND_ASSIGN(std::string back, ReadFile(path, Compression::kAuto));
    EXPECT_EQ(back.size(), expected.size()) << extension;
    EXPECT_TRUE(back == expected) << extension;
  }
}

TEST(CompressionTest, TruncatedInputIsADataErrorNamingTheFile) {
  testing::TempDir temp;
  struct Case {
    const char* extension;
    const char* message;
  };
  for (const Case& c : {Case{".gz", "unexpected end of gzip data (truncated file?)"},
                        Case{".zst", "unexpected end of zstd data (truncated file?)"}}) {
    std::string path = temp.Join(std::string("t") + c.extension);
    ASSERT_OK(WriteFile(path, MakeText(200000), Compression::kAuto));
    std::string bytes = testing::ReadFileOrDie(path);
    for (size_t keep : {bytes.size() - 1, bytes.size() / 2, size_t{12}}) {
      testing::WriteFileOrDie(path, bytes.substr(0, keep));
      Result<std::string> read = ReadFile(path, Compression::kAuto);
      ASSERT_FALSE(read.ok()) << path << " cut at " << keep;
      EXPECT_EQ(read.status().code(), StatusCode::kDataError);
      EXPECT_EQ(read.status().message(), fmt::format("Cannot read '{}': {}", path, c.message));
    }
  }
}

TEST(CompressionTest, CorruptInputIsADataErrorNamingTheFile) {
  testing::TempDir temp;
  for (const char* extension : {".gz", ".zst"}) {
    std::string path = temp.Join(std::string("c") + extension);
    ASSERT_OK(WriteFile(path, MakeText(200000), Compression::kAuto));
    std::string bytes = testing::ReadFileOrDie(path);
    for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 64; ++i)
      bytes[i] ^= 0x5a;
    testing::WriteFileOrDie(path, bytes);
    Result<std::string> read = ReadFile(path, Compression::kAuto);
    ASSERT_FALSE(read.ok()) << path;
    EXPECT_EQ(read.status().code(), StatusCode::kDataError);
    EXPECT_THAT(read.status().message(),
                StartsWith(fmt::format("Cannot read '{}': corrupt", path)));
  }
  // Plain text read as gzip or zstd.
  std::string path = temp.Join("plain.gz");
  testing::WriteFileOrDie(path, "id,name\n1,a\n");
  Result<std::string> gzip = ReadFile(path, Compression::kGzip);
  ASSERT_FALSE(gzip.ok());
  EXPECT_EQ(gzip.status().ToString(),
            fmt::format("data error: Cannot read '{}': corrupt gzip data (incorrect header check)",
                        path));
  Result<std::string> zstd = ReadFile(path, Compression::kZstd);
  ASSERT_FALSE(zstd.ok());
  EXPECT_EQ(zstd.status().ToString(),
            fmt::format("data error: Cannot read '{}': corrupt zstd data (Unknown frame "
                        "descriptor)",
                        path));
}

TEST(CompressionTest, SkipMovesForwardInEveryCodec) {
  testing::TempDir temp;
  std::string text = MakeText(3 << 20);
  for (const char* extension : {".txt", ".gz", ".zst"}) {
    std::string path = temp.Join(std::string("s") + extension);
    ASSERT_OK(WriteFile(path, text, Compression::kAuto));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<InputStream> in, OpenInputFile(path));
    char first[10];
    ASSERT_OK_AND_ASSIGN(size_t got, in->Read(first, sizeof(first)));
    ASSERT_EQ(got, sizeof(first));
    ASSERT_OK(in->Skip(2'000'000));
    ASSERT_OK_AND_ASSIGN(std::string rest, ReadAll(in.get()));
    EXPECT_TRUE(rest == text.substr(2'000'010)) << path;
    EXPECT_GT(in->source_bytes_read(), 0u);

    ASSERT_OK_AND_ASSIGN(std::unique_ptr<InputStream> again, OpenInputFile(path));
    Status past_end = again->Skip(text.size() + 1);
    EXPECT_EQ(past_end.code(), StatusCode::kDataError) << path << ": " << past_end.ToString();
  }
}

TEST(CompressionTest, LevelsOutOfRangeAreConfigErrors) {
  std::string sink;
  Result<std::unique_ptr<OutputStream>> gzip = MakeCompressingStream(
      std::make_unique<StringOutputStream>(&sink), Compression::kGzip, 10, "x.gz");
  ASSERT_FALSE(gzip.ok());
  EXPECT_EQ(gzip.status().ToString(), "config error: gzip level must be 1..9, got 10");
  Result<std::unique_ptr<OutputStream>> zstd = MakeCompressingStream(
      std::make_unique<StringOutputStream>(&sink), Compression::kZstd, 99, "x.zst");
  ASSERT_FALSE(zstd.ok());
  EXPECT_THAT(zstd.status().message(), HasSubstr("zstd level must be 1.."));
}

TEST(CompressionTest, MemoryStreamsRoundTripThroughCodecs) {
  for (Compression compression : {Compression::kGzip, Compression::kZstd}) {
    std::string compressed;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputStream> out,
                         MakeCompressingStream(std::make_unique<StringOutputStream>(&compressed),
                                               compression, 1, "memory"));
    ASSERT_OK(out->Write("hello "));
    ASSERT_OK(out->Write("world"));
    ASSERT_OK(out->Close());
    ASSERT_OK(out->Close());  // idempotent
    EXPECT_FALSE(out->Write("late").ok());
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<InputStream> in,
                         MakeDecompressingStream(std::make_unique<StringInputStream>(compressed, 3),
                                                 compression, "memory"));
    ASSERT_OK_AND_ASSIGN(std::string back, ReadAll(in.get(), 2));
    EXPECT_EQ(back, "hello world");
  }
}

}  // namespace
}  // namespace sluice::io
