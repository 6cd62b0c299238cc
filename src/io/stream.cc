#include "io/stream.h"

#include <fmt/core.h>

#include <memory>

namespace sluice::io {

Status InputStream::Skip(uint64_t n) {
  constexpr size_t kChunk = 256 * 1024;
  auto scratch = std::make_unique<char[]>(kChunk);
  uint64_t skipped = 0;
  while (skipped < n) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, n - skipped));
    SLUICE_ASSIGN_OR_RETURN(size_t got, Read(scratch.get(), want));
    if (got == 0) {
      return DataError(fmt::format("cannot skip {} bytes: the stream ends after {}", n, skipped));
    }
    skipped += got;
  }
  return Status::OK();
}

}  // namespace sluice::io
