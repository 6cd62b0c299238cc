#include "formats/csv/csv_reader.h"

#include <fmt/core.h>

#include <cstring>

namespace sluice::formats {

namespace {

// Characters (UTF-8 lead bytes) in [begin, end): columns count characters, not bytes.
int64_t CountCharacters(const char* begin, const char* end) {
  int64_t count = 0;
  for (const char* p = begin; p < end; ++p) {
    count += (static_cast<unsigned char>(*p) & 0xC0) != 0x80;
  }
  return count;
}

std::string PrintableByte(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f)
    return std::string(1, c);
  if (c == '\r')
    return "\\r";
  if (c == '\t')
    return "\\t";
  return fmt::format("\\x{:02x}", byte);
}

}  // namespace

int64_t CsvRecord::Column(size_t i) const {
  const CsvField& field = fields_[i];
  return CountCharacters(field.line_start_, field.raw_begin_) + 1;
}

std::string CsvRecord::Location(size_t i) const {
  return fmt::format("{}:{}:{}", file_name_, fields_[i].line, Column(i));
}

std::string CsvRecord::Location() const {
  return fmt::format("{}:{}:1", file_name_, line_);
}

CsvReader::CsvReader(io::InputStream* input, std::string file_name, CsvReadOptions options)
    : input_(input),
      file_name_(std::move(file_name)),
      options_(std::move(options)),
      buffer_(input, options_.buffer_bytes),
      quote_(options_.dialect.quote ? static_cast<unsigned char>(*options_.dialect.quote) : -1) {
  special_[static_cast<unsigned char>(options_.dialect.delimiter)] = true;
  special_['\n'] = true;
  special_['\r'] = true;
  record_.file_name_ = file_name_;
}

Status CsvReader::MalformedError(int64_t line, const char* line_start, const char* at,
                                 std::string_view what) const {
  return DataError(
      fmt::format("{}:{}:{}: {}", file_name_, line, CountCharacters(line_start, at) + 1, what));
}

Status CsvReader::Fill() {
  Result<size_t> filled = buffer_.Fill();
  if (!filled.ok())
    input_error_ = filled.status();
  return filled.status();
}

Status CsvReader::SkipByteOrderMark() {
  while (buffer_.size() < 3 && !buffer_.eof()) {
    SLUICE_RETURN_IF_ERROR(Fill());
  }
  if (buffer_.size() >= 3 && std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) {
    buffer_.Consume(3);
  }
  return Status::OK();
}

Result<std::vector<std::string>> CsvReader::ReadHeader() {
  std::vector<std::string> names;
  SLUICE_ASSIGN_OR_RETURN(bool found, Next());
  if (!found)
    return names;
  names.reserve(record_.size());
  for (const CsvField& field : record_.fields())
    names.emplace_back(field.text);
  return names;
}

Status CsvReader::SeekTo(uint64_t offset, int64_t line) {
  started_ = true;  // a byte order mark can only come first
  Status status = buffer_.SkipTo(offset);
  if (!status.ok()) {
    return status.WithContext(fmt::format("Cannot resume '{}' at offset {}", file_name_, offset));
  }
  next_line_ = line;
  return Status::OK();
}

Result<bool> CsvReader::Next() {
  if (!input_error_.ok())
    return input_error_;
  if (!started_) {
    started_ = true;
    SLUICE_RETURN_IF_ERROR(SkipByteOrderMark());
  }
  for (;;) {
    if (buffer_.size() == 0) {
      if (buffer_.eof())
        return false;
      SLUICE_RETURN_IF_ERROR(Fill());
      continue;
    }
    size_t record_bytes = 0;
    size_t raw_bytes = 0;
    Scan scan = ScanRecord(buffer_.eof(), &record_bytes, &raw_bytes);
    if (scan == Scan::kNeedMore) {
      if (buffer_.size() >= options_.max_record_bytes) {
        // Most likely an unterminated quote: everything after it is one field. Nothing
        // sensible follows, so report once and skip the rest of the stream.
        int64_t line = next_line_;
        std::string_view head(buffer_.data(), std::min<size_t>(buffer_.size(), 1024));
        Status error = DataError(fmt::format(
            "{}:{}:1: record exceeds {} bytes (an unterminated quote?); skipping the rest of "
            "the file",
            file_name_, line, options_.max_record_bytes));
        oversized_raw_.assign(head);
        record_.fields_.clear();
        record_.line_ = line;
        record_.offset_ = buffer_.offset();
        record_.raw_ = oversized_raw_;
        while (!buffer_.eof()) {
          buffer_.Consume(buffer_.size());
          SLUICE_RETURN_IF_ERROR(Fill());
        }
        buffer_.Consume(buffer_.size());
        return error;
      }
      SLUICE_RETURN_IF_ERROR(Fill());
      continue;
    }
    record_.offset_ = buffer_.offset();
    record_.raw_ = std::string_view(buffer_.data(), raw_bytes);
    buffer_.Consume(record_bytes);
    if (scan == Scan::kMalformed)
      return malformed_;
    UnescapeFields();
    return true;
  }
}

void CsvReader::UnescapeFields() {
  if (!any_unescape_)
    return;
  size_t total = 0;
  for (const CsvField& field : record_.fields_) {
    if (field.needs_unescape_)
      total += field.text.size();
  }
  if (total == 0)
    return;
  // Sized once, before any view into it is taken, so no view is invalidated by growth.
  if (unescaped_.size() < total)
    unescaped_.resize(total);
  char* out = unescaped_.data();
  const char quote = static_cast<char>(quote_);
  for (CsvField& field : record_.fields_) {
    if (!field.needs_unescape_)
      continue;
    char* start = out;
    const char* p = field.text.data();
    const char* end = p + field.text.size();
    while (p < end) {
      char c = *p++;
      *out++ = c;
      if (c == quote)
        ++p;  // the second quote of a doubled pair
    }
    field.text = std::string_view(start, static_cast<size_t>(out - start));
  }
}

CsvReader::Scan CsvReader::ScanRecord(bool eof, size_t* record_bytes, size_t* raw_bytes) {
  const char* const begin = buffer_.data();
  const char* const end = begin + buffer_.size();
  const char delimiter = options_.dialect.delimiter;
  const int quote = quote_;
  std::vector<CsvField>& fields = record_.fields_;
  fields.clear();
  int64_t line = next_line_;
  const char* line_start = begin;
  const char* p = begin;
  const char* raw_end = nullptr;  // set when the record ends
  any_unescape_ = false;

  for (;;) {
    CsvField& field = fields.emplace_back();
    field.line = line;
    field.line_start_ = line_start;
    field.raw_begin_ = p;
    if (p < end && static_cast<unsigned char>(*p) == quote) {
      const char* content = ++p;
      for (;;) {
        const char* q = static_cast<const char*>(std::memchr(p, quote, end - p));
        const char* stop = q != nullptr ? q : end;
        for (const char* nl = p;
             (nl = static_cast<const char*>(std::memchr(nl, '\n', stop - nl))) != nullptr;) {
          ++line;
          line_start = ++nl;
        }
        if (q == nullptr) {
          if (!eof)
            return Scan::kNeedMore;
          malformed_ = MalformedError(field.line, field.line_start_, field.raw_begin_,
                                      "unterminated quoted field");
          record_.line_ = next_line_;
          *record_bytes = *raw_bytes = static_cast<size_t>(end - begin);
          next_line_ = line;
          return Scan::kMalformed;
        }
        if (q + 1 < end && static_cast<unsigned char>(q[1]) == quote) {
          field.needs_unescape_ = true;
          any_unescape_ = true;
          p = q + 2;
          continue;
        }
        if (q + 1 == end && !eof)
          return Scan::kNeedMore;  // a doubled quote may follow
        field.text = std::string_view(content, static_cast<size_t>(q - content));
        p = q + 1;
        break;
      }
      field.quoted = true;
      if (p == end) {
        if (!eof)
          return Scan::kNeedMore;
        raw_end = p;
        break;
      }
      if (*p == delimiter) {
        ++p;
        continue;
      }
      if (*p == '\n') {
        raw_end = p++;
        ++line;
        break;
      }
      if (*p == '\r') {
        if (p + 1 == end && !eof)
          return Scan::kNeedMore;
        if (p + 1 == end || p[1] == '\n') {
          raw_end = p;
          p += p + 1 == end ? 1 : 2;
          ++line;
          break;
        }
      }
      // Text after a closing quote: report it and resume after the end of the line.
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (nl == nullptr && !eof)
        return Scan::kNeedMore;
      malformed_ =
          MalformedError(line, line_start, p,
                         fmt::format("unexpected '{}' after a closing quote", PrintableByte(*p)));
      const char* stop = nl != nullptr ? nl : end;
      record_.line_ = next_line_;
      *raw_bytes = static_cast<size_t>(stop - begin);
      if (*raw_bytes > 0 && stop[-1] == '\r' && nl != nullptr)
        --*raw_bytes;
      *record_bytes = static_cast<size_t>((nl != nullptr ? nl + 1 : end) - begin);
      next_line_ = line + (nl != nullptr ? 1 : 0);
      return Scan::kMalformed;
    }

    // Unquoted: runs to the delimiter or the line end; a lone CR is data.
    const char* start = p;
    for (;;) {
      while (p < end && !special_[static_cast<unsigned char>(*p)])
        ++p;
      if (p == end || *p != '\r')
        break;
      if (p + 1 == end) {
        if (!eof)
          return Scan::kNeedMore;
        break;  // a CR ending the stream ends the line
      }
      if (p[1] == '\n')
        break;
      ++p;
    }
    field.text = std::string_view(start, static_cast<size_t>(p - start));
    if (p == end) {
      if (!eof)
        return Scan::kNeedMore;
      raw_end = p;
      break;
    }
    if (*p == delimiter) {
      ++p;
      continue;
    }
    raw_end = p;
    p += *p == '\r' ? (p + 1 == end ? 1 : 2) : 1;
    ++line;
    break;
  }

  record_.line_ = next_line_;
  next_line_ = line;
  *raw_bytes = static_cast<size_t>(raw_end - begin);
  *record_bytes = static_cast<size_t>(p - begin);
  return Scan::kRecord;
}

}  // namespace sluice::formats
