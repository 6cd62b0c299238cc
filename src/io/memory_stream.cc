#include "io/memory_stream.h"

#include <algorithm>
#include <cstring>

namespace sluice::io {

namespace {

size_t CopyOut(std::string_view data, size_t max_read_bytes, size_t* position, char* buffer,
               size_t n) {
  size_t take = std::min(n, data.size() - *position);
  if (max_read_bytes > 0)
    take = std::min(take, max_read_bytes);
  std::memcpy(buffer, data.data() + *position, take);
  *position += take;
  return take;
}

}  // namespace

Result<size_t> StringInputStream::Read(char* buffer, size_t n) {
  return CopyOut(data_, max_read_bytes_, &position_, buffer, n);
}

Result<size_t> ViewInputStream::Read(char* buffer, size_t n) {
  return CopyOut(data_, max_read_bytes_, &position_, buffer, n);
}

Status StringOutputStream::Write(std::string_view data) {
  if (closed_)
    return Internal("write to a string stream after close");
  out_->append(data);
  return Status::OK();
}

}  // namespace sluice::io
