#include "io/read_buffer.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

namespace sluice::io {

ReadBuffer::ReadBuffer(InputStream* input, size_t initial_capacity, size_t padding)
    : input_(input),
      buffer_(new char[std::max<size_t>(initial_capacity, 1) + padding]()),
      capacity_(std::max<size_t>(initial_capacity, 1)),
      padding_(padding) {}

Result<size_t> ReadBuffer::Fill() {
  if (eof_)
    return size_t{0};
  size_t live = end_ - begin_;
  // Move the unconsumed tail to the front once the free space behind it gets small, rather
  // than on every call: a memmove per record would cost more than the parsing.
  if (begin_ > 0 && capacity_ - end_ < capacity_ / 2) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, live);
    begin_ = 0;
    end_ = live;
  }
  if (end_ == capacity_) {
    size_t grown = capacity_ * 2;
    std::unique_ptr<char[]> bigger(new char[grown + padding_]());
    std::memcpy(bigger.get(), buffer_.get() + begin_, live);
    buffer_ = std::move(bigger);
    capacity_ = grown;
    begin_ = 0;
    end_ = live;
  }
  SLUICE_ASSIGN_OR_RETURN(size_t got, input_->Read(buffer_.get() + end_, capacity_ - end_));
  if (got == 0) {
    eof_ = true;
    return size_t{0};
  }
  end_ += got;
  return got;
}

Status ReadBuffer::SkipTo(uint64_t offset) {
  if (offset < offset_) {
    return Internal(fmt::format("cannot move back from offset {} to {}", offset_, offset));
  }
  uint64_t distance = offset - offset_;
  if (distance <= end_ - begin_) {
    Consume(static_cast<size_t>(distance));
    return Status::OK();
  }
  uint64_t in_stream = distance - (end_ - begin_);
  begin_ = end_ = 0;
  offset_ = offset;
  eof_ = false;
  return input_->Skip(in_stream);
}

}  // namespace sluice::io
