// Arena: bump allocator for the variable-length values of one Batch.
//
// Values are appended into large blocks, so building a batch allocates a few blocks instead of
// one buffer per value. Nothing is freed individually: Reset() keeps one block as big as the
// blocks in use (at most kMaxBlockBytes) and drops the rest, so that a batch reused for rows of
// the same size allocates nothing. Pointers stay valid until Reset() or destruction.
//
// Thread-safety: none; an arena belongs to one batch, filled by one thread at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace sluice {

class Arena {
 public:
  /// Blocks grow geometrically up to this size; a bigger value gets a block of its own.
  static constexpr size_t kMaxBlockBytes = 4u << 20;

  explicit Arena(size_t first_block_bytes = 64 * 1024) : first_block_bytes_(first_block_bytes) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  /// Returns `bytes` of uninitialised memory, valid until Reset().
  char* Allocate(size_t bytes) {
    if (bytes > static_cast<size_t>(end_ - cursor_))
      return AllocateSlow(bytes);
    char* out = cursor_;
    cursor_ += bytes;
    return out;
  }

  /// Copies `bytes` into the arena and returns a view of the copy.
  std::string_view Copy(std::string_view bytes) {
    if (bytes.empty())
      return {};
    char* out = Allocate(bytes.size());
    __builtin_memcpy(out, bytes.data(), bytes.size());
    return {out, bytes.size()};
  }

  /// Forgets every value; keeps the first block for reuse.
  void Reset();

  /// Bytes handed out since the last Reset() (what the values occupy).
  size_t bytes_used() const { return bytes_used_before_current_ + (cursor_ - current_start_); }
  /// Bytes held in blocks (what the arena costs).
  size_t bytes_reserved() const { return bytes_reserved_; }

 private:
  char* AllocateSlow(size_t bytes);

  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  size_t first_block_bytes_;
  std::vector<Block> blocks_;
  char* cursor_ = nullptr;
  char* end_ = nullptr;
  char* current_start_ = nullptr;
  size_t bytes_used_before_current_ = 0;
  size_t bytes_reserved_ = 0;
};

}  // namespace sluice
