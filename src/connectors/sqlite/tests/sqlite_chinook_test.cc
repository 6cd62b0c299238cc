// The real Chinook sample database: read every table, copy it through the sink, and compare the
// copy with the original cell by cell.
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "connectors/sqlite/tests/sqlite_test_util.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::connectors::sqlite {
namespace {

using testing::MakeContext;
using testing::RawRow;

// Copies the read-only dataset into `dir`; empty when the dataset directory is absent.
std::string CopyChinook(const sluice::testing::TempDir& dir) {
  std::string datasets = testing::DatasetsDirectory();
  std::string original = datasets + "/chinook/Chinook_Sqlite.sqlite";
  if (!std::filesystem::exists(original)) {
    return {};
  }
  std::string copy = dir.Join("chinook.sqlite");
  std::filesystem::copy_file(original, copy);
  std::filesystem::permissions(
      copy, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return copy;
}

// Cells compare equal when SQLite stored the same thing, or when the copy holds the exact text
// of a number the original stored as a number (NUMERIC(10,2) REALs become DECIMAL_TEXT).
bool SameCell(const std::string& original, const std::string& copy) {
  if (original == copy) {
    return true;
  }
  if (copy.rfind("TEXT:", 0) != 0) {
    return false;
  }
  bool real = original.rfind("REAL:", 0) == 0;
  bool integer = original.rfind("INTEGER:", 0) == 0;
  if (!real && !integer) {
    return false;
  }
  std::string number = original.substr(original.find(':') + 1);
  char* end = nullptr;
  double copied = std::strtod(copy.c_str() + 5, &end);
  return *end == '\0' && copied == std::strtod(number.c_str(), nullptr);
}

TEST(SqliteChinookTest, CopiesEveryTableCellByCell) {
  sluice::testing::TempDir dir;
  std::string chinook = CopyChinook(dir);
  if (chinook.empty()) {
    GTEST_SKIP() << "dataset directory '" << testing::DatasetsDirectory()
                 << "' has no chinook/Chinook_Sqlite.sqlite (set SLUICE_DATASETS)";
  }
  testing::RecordAndFail bad_records;
  JobContext context = MakeContext(&bad_records);
  ASSERT_OK_AND_ASSIGN(
      auto source,
      testing::MakeSource(fmt::format("path: \"{}\"\ntables: [\"*\"]\nsplit_rows: 1000", chinook)));
  ASSERT_OK(source->Open(context));
  std::vector<std::string> names;
  for (const StreamInfo& stream : source->streams()) {
    names.push_back(stream.name);
  }
  EXPECT_THAT(names, ::testing::ElementsAre("Album", "Artist", "Customer", "Employee", "Genre",
                                            "Invoice", "InvoiceLine", "MediaType", "Playlist",
                                            "PlaylistTrack", "Track"));
  EXPECT_EQ(source->streams()[5].schema->ToString(),
            "InvoiceId int64 not null, CustomerId int64 not null, InvoiceDate timestamp not null, "
            "BillingAddress string(70), BillingCity string(40), BillingState string(40), "
            "BillingCountry string(40), BillingPostalCode string(10), Total decimal(10,2) not "
            "null, primary key (InvoiceId)");

  // Read every split of every table into batches and write them through the sink.
  std::string copy = dir.Join("out/copy.db");
  ASSERT_OK_AND_ASSIGN(auto sink, testing::MakeSink(fmt::format("path: \"{}\"", copy)));
  ASSERT_OK(sink->Open(context, source->streams()));
  ASSERT_OK_AND_ASSIGN(auto writer, sink->CreateWriter(0));
  ASSERT_OK_AND_ASSIGN(auto enumerator, source->CreateEnumerator());
  size_t splits = 0;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(std::optional<Split> split, enumerator->Next());
    if (!split) {
      break;
    }
    ++splits;
    ASSERT_OK_AND_ASSIGN(auto reader, source->CreateReader(*split, ""));
    Batch batch(source->streams()[static_cast<size_t>(split->stream)].schema, 500);
    batch.set_stream(split->stream);
    for (;;) {
      batch.Clear();
      ASSERT_OK_AND_ASSIGN(bool more, reader->ReadBatch(&batch));
      ASSERT_OK(writer->Write(batch));
      if (!more) {
        break;
      }
    }
  }
  EXPECT_GT(splits, names.size());  // Track, InvoiceLine and PlaylistTrack have several
  ASSERT_OK(writer->Prepare());
  ASSERT_OK(writer->Commit({}));
  writer.reset();
  ASSERT_OK(sink->Finish());
  EXPECT_TRUE(bad_records.records().empty());

  size_t cells = 0;
  for (const std::string& table : names) {
    SCOPED_TRACE(table);
    std::string query = fmt::format("SELECT * FROM \"{}\" ORDER BY rowid", table);
    std::vector<RawRow> original = testing::QueryOrDie(chinook, query);
    std::vector<RawRow> copied = testing::QueryOrDie(copy, query);
    ASSERT_EQ(copied.size(), original.size());
    ASSERT_FALSE(original.empty());
    for (size_t r = 0; r < original.size(); ++r) {
      ASSERT_EQ(copied[r].size(), original[r].size());
      for (size_t c = 0; c < original[r].size(); ++c, ++cells) {
        ASSERT_TRUE(SameCell(original[r][c], copied[r][c]))
            << "row " << r << " column " << c << ": " << original[r][c] << " vs " << copied[r][c];
      }
    }
  }
  EXPECT_GT(cells, 50'000u);

  // And reading the copy back through the source gives the same values as the original.
  ASSERT_OK_AND_ASSIGN(auto copy_source,
                       testing::MakeSource(fmt::format("path: \"{}\"\ntables: [\"*\"]", copy)));
  ASSERT_OK(copy_source->Open(context));
  ASSERT_OK_AND_ASSIGN(auto from_copy, testing::ReadAll(*copy_source));
  ASSERT_OK_AND_ASSIGN(auto from_original, testing::ReadAll(*source));
  ASSERT_EQ(from_copy.size(), from_original.size());
  for (size_t s = 0; s < from_copy.size(); ++s) {
    EXPECT_EQ(from_copy[s].rows, from_original[s].rows) << names[s];
  }
}

}  // namespace
}  // namespace sluice::connectors::sqlite
