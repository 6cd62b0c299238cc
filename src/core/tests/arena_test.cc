#include "core/arena.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice {
namespace {

// Fills `arena` with `count` values of `size` bytes and checks that each kept its bytes.
void Fill(Arena* arena, int count, size_t size) {
  std::vector<std::string_view> views;
  for (int i = 0; i < count; ++i)
    views.push_back(arena->Copy(std::string(size, static_cast<char>('a' + i % 26))));
  for (int i = 0; i < count; ++i)
    ASSERT_EQ(views[i], std::string(size, static_cast<char>('a' + i % 26))) << i;
}

TEST(ArenaTest, RefillingToTheSameSizeAllocatesNothing) {
  Arena arena(64 * 1024);
  Fill(&arena, 4096, 200);  // about 800 KB over several growing blocks
  size_t used = arena.bytes_used();
  EXPECT_GE(arena.bytes_reserved(), used);
  arena.Reset();
  EXPECT_EQ(arena.bytes_used(), 0u);
  size_t kept = arena.bytes_reserved();
  EXPECT_GE(kept, used);  // one block that holds the whole fill
  for (int round = 0; round < 3; ++round) {
    Fill(&arena, 4096, 200);
    EXPECT_EQ(arena.bytes_reserved(), kept) << "round " << round;
    arena.Reset();
  }
}

TEST(ArenaTest, ResetKeepsAtMostTheBlockCap) {
  Arena arena;
  arena.Copy(std::string(3 * Arena::kMaxBlockBytes, 'x'));
  arena.Copy("after");
  arena.Reset();
  EXPECT_EQ(arena.bytes_reserved(), Arena::kMaxBlockBytes);
  Fill(&arena, 10, 1000);
}

}  // namespace
}  // namespace sluice
