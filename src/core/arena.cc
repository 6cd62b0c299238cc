#include "core/arena.h"

#include <algorithm>

namespace sluice {

char* Arena::AllocateSlow(size_t bytes) {
  bytes_used_before_current_ += cursor_ - current_start_;
  // Grow geometrically up to 4 MiB blocks; a value bigger than that gets a block of its own.
  size_t next = blocks_.empty() ? first_block_bytes_
                                : std::min<size_t>(blocks_.back().size * 2, kMaxBlockBytes);
  size_t size = std::max(next, bytes);
  // Not value-initialised: every byte handed out is written by the caller first.
  blocks_.push_back(Block{std::unique_ptr<char[]>(new char[size]), size});
  bytes_reserved_ += size;
  current_start_ = blocks_.back().data.get();
  cursor_ = current_start_ + bytes;
  end_ = current_start_ + size;
  return current_start_;
}

void Arena::Reset() {
  if (blocks_.empty())
    return;
  if (blocks_.size() > 1 || blocks_[0].size > kMaxBlockBytes) {
    // Keep one block as big as the last fill needed (up to the block cap), so that a batch
    // refilled to the same size allocates nothing.
    size_t wanted = std::min<size_t>(bytes_reserved_, kMaxBlockBytes);
    blocks_.clear();
    blocks_.push_back(Block{std::unique_ptr<char[]>(new char[wanted]), wanted});
  }
  bytes_reserved_ = blocks_[0].size;
  current_start_ = blocks_[0].data.get();
  cursor_ = current_start_;
  end_ = current_start_ + blocks_[0].size;
  bytes_used_before_current_ = 0;
}

}  // namespace sluice
