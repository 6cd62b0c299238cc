#include "formats/csv/csv_writer.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/decimal.h"
#include "core/temporal.h"
#include "core/value_text.h"

namespace sluice::formats {

namespace {

// Every character the canonical text of a value of `type` can hold (core/value_text.h,
// temporal.h, decimal.h), for types with bounded text; nullptr for the others.
const char* Alphabet(const DataType& type) {
  switch (type.id) {
    case TypeId::kBool:
      return "truefals";
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      return "-0123456789";
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      return "-+.0123456789eNaInfity";
    case TypeId::kDecimal:
      return "-.0123456789";
    case TypeId::kDate:
      return "-0123456789 BCinfity";
    case TypeId::kTime:
      return "-0123456789:.";
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return "-+0123456789 :.BCinfity";
    case TypeId::kBytes:
      return "\\x0123456789abcdef";
    default:
      return nullptr;
  }
}

}  // namespace

CsvWriter::CsvWriter(io::OutputStream* output, CsvDialect dialect, size_t flush_bytes)
    : output_(output), dialect_(std::move(dialect)), flush_bytes_(flush_bytes) {
  capacity_ = flush_bytes_ + 4096;
  buffer_.reset(new char[capacity_]);
  special_[static_cast<unsigned char>(dialect_.delimiter)] = true;
  special_[static_cast<unsigned char>('\r')] = true;
  special_[static_cast<unsigned char>('\n')] = true;
  if (dialect_.quote)
    special_[static_cast<unsigned char>(*dialect_.quote)] = true;
}

void CsvWriter::Plan(SchemaPtr schema) {
  planned_for_ = std::move(schema);
  plans_.clear();
  for (const Field& field : planned_for_->fields()) {
    ColumnPlan plan{Form::kOther, Check::kFull};
    if (field.type.id == TypeId::kBytes) {
      plan.form = Form::kBytes;
    } else if (HasFixedValueText(field.type)) {
      switch (field.type.id) {
        case TypeId::kInt32:
          plan.form = Form::kInt32;
          break;
        case TypeId::kInt64:
          plan.form = Form::kInt64;
          break;
        case TypeId::kDecimal:
          plan.form = Form::kDecimal;
          break;
        case TypeId::kDate:
          plan.form = Form::kDate;
          break;
        case TypeId::kTimestamp:
          plan.form = Form::kTimestamp;
          break;
        case TypeId::kTimestampTz:
          plan.form = Form::kTimestampTz;
          break;
        default:
          plan.form = Form::kFixed;
          break;
      }
    } else if (field.type.is_variable_width()) {
      plan.form = Form::kText;  // string, json, wide decimal
    }
    const char* alphabet = Alphabet(field.type);
    if (plan.form != Form::kText && plan.form != Form::kOther && alphabet != nullptr) {
      // Bounded text is never empty and never starts or ends with a space: only a special
      // character or the null marker can call for quotes.
      bool special = false;
      for (const char* c = alphabet; *c != '\0'; ++c)
        special = special || special_[static_cast<unsigned char>(*c)];
      bool could_be_marker = !dialect_.null_marker.empty();
      for (char c : dialect_.null_marker)
        could_be_marker = could_be_marker && std::strchr(alphabet, c) != nullptr;
      plan.check = special ? Check::kFull : could_be_marker ? Check::kMarker : Check::kNone;
    }
    plans_.push_back(plan);
  }
}

void CsvWriter::Grow(size_t bytes) {
  size_t capacity = std::max(capacity_ * 2, size_ + bytes);
  std::unique_ptr<char[]> grown(new char[capacity]);
  std::memcpy(grown.get(), buffer_.get(), size_);
  buffer_ = std::move(grown);
  capacity_ = capacity;
}

void CsvWriter::PutBytes(std::string_view bytes) {
  Reserve(bytes.size());
  std::memcpy(buffer_.get() + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
}

#if defined(__SSE2__)
namespace {

// Bytes of one 16-byte block equal to the delimiter, the quote, CR or LF, as a bit mask.
struct SpecialBytes {
  explicit SpecialBytes(const CsvDialect& dialect)
      : delimiter(_mm_set1_epi8(dialect.delimiter)),
        quote(_mm_set1_epi8(dialect.quote.value_or(dialect.delimiter))),
        cr(_mm_set1_epi8('\r')),
        lf(_mm_set1_epi8('\n')) {}
  int Mask(__m128i v) const {
    __m128i hits =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, delimiter), _mm_cmpeq_epi8(v, quote)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
    return _mm_movemask_epi8(hits);
  }
  __m128i delimiter, quote, cr, lf;
};

__m128i Load(const char* at) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
}

}  // namespace
#endif

bool CsvWriter::HasSpecial(std::string_view text) const {
  const char* p = text.data();
  const size_t n = text.size();
#if defined(__SSE2__)
  if (n >= 16) {
    const SpecialBytes special(dialect_);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      if (special.Mask(Load(p + i)) != 0)
        return true;
    }
    // The last block overlaps the one before it: no byte outside the value is read.
    return i < n && special.Mask(Load(p + n - 16)) != 0;
  }
#endif
  for (size_t i = 0; i < n; ++i) {
    if (special_[static_cast<unsigned char>(p[i])])
      return true;
  }
  return false;
}

bool CsvWriter::NeedsQuotes(std::string_view text) const {
  return text.empty() || text.front() == ' ' || text.back() == ' ' || HasSpecial(text) ||
         (!dialect_.null_marker.empty() && text == dialect_.null_marker);
}

Status CsvWriter::Unquotable(std::string_view text) const {
  return DataError(fmt::format(
      "cannot write '{}' without a quote character: it holds the delimiter, a line break, an "
      "edge space, or is empty or the null marker",
      text.substr(0, 40)));
}

void CsvWriter::WriteQuoted(std::string_view text) {
  const char quote = *dialect_.quote;
  Reserve(2 * text.size() + 2);
  char* p = buffer_.get() + size_;
  *p++ = quote;
  for (;;) {
    const void* found = std::memchr(text.data(), quote, text.size());
    size_t run = found == nullptr ? text.size()
                                  : static_cast<size_t>(static_cast<const char*>(found) -
                                                        text.data()) + 1;
    std::memcpy(p, text.data(), run);
    p += run;
    if (found == nullptr)
      break;
    *p++ = quote;  // doubled
    text.remove_prefix(run);
  }
  *p++ = quote;
  size_ = static_cast<size_t>(p - buffer_.get());
}

Status CsvWriter::WriteText(std::string_view text) {
#if defined(__SSE2__)
  const size_t n = text.size();
  if (n >= 16 && text.front() != ' ' && text.back() != ' ') {
    // Scan and copy in one pass, 16 bytes at a time; on a special byte, start over the slow way
    // (what was copied is overwritten).
    Reserve(n);
    const SpecialBytes special(dialect_);
    const char* from = text.data();
    char* to = buffer_.get() + size_;
    size_t i = 0;
    bool clean = true;
    for (; i + 16 <= n; i += 16) {
      __m128i block = Load(from + i);
      if (special.Mask(block) != 0) {
        clean = false;
        break;
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(to + i), block);
    }
    if (clean && i < n) {
      // The last block overlaps the one before it, in the value and in the buffer alike.
      __m128i block = Load(from + n - 16);
      clean = special.Mask(block) == 0;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(to + n - 16), block);
    }
    if (clean && (dialect_.null_marker.empty() || text != dialect_.null_marker)) {
      size_ += n;
      return Status::OK();
    }
    if (!clean) {
      if (!dialect_.quote)
        return Unquotable(text);
      WriteQuoted(text);  // a special byte: quotes are needed, no need to look again
      return Status::OK();
    }
  }
#endif
  if (!NeedsQuotes(text)) {
    PutBytes(text);
    return Status::OK();
  }
  if (!dialect_.quote)
    return Unquotable(text);
  WriteQuoted(text);
  return Status::OK();
}

Status CsvWriter::QuoteIfNeeded(size_t start) {
  std::string_view text(buffer_.get() + start, size_ - start);
  if (!NeedsQuotes(text))
    return Status::OK();
  if (!dialect_.quote)
    return Unquotable(text);
  scratch_.assign(text);
  size_ = start;
  WriteQuoted(scratch_);
  return Status::OK();
}

Status CsvWriter::WriteHeader(const Schema& schema) {
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    if (i > 0)
      PutBytes({&dialect_.delimiter, 1});
    SLUICE_RETURN_IF_ERROR(WriteText(schema.field(i).name));
  }
  PutBytes("\n");
  return Status::OK();
}

Status CsvWriter::WriteRows(const Batch& batch, size_t begin, size_t end) {
  if (batch.schema_ptr() != planned_for_)
    Plan(batch.schema_ptr());
  const size_t columns = batch.num_columns();
  const char delimiter = dialect_.delimiter;
  const std::string_view marker = dialect_.null_marker;
  // Room for a delimiter, a bounded value or the null marker, and the line's end.
  const size_t room = kMaxFixedValueText + marker.size() + 2;
  for (size_t row = begin; row < end; ++row) {
    for (size_t i = 0; i < columns; ++i) {
      Reserve(room);
      if (i > 0)
        Put(delimiter);
      const Column& column = batch.column(i);
      if (column.IsNull(row)) {
        std::memcpy(buffer_.get() + size_, marker.data(), marker.size());
        size_ += marker.size();
        continue;
      }
      const ColumnPlan plan = plans_[i];
      const size_t start = size_;
      char* const at = buffer_.get() + size_;
      auto wrote_to = [&](const char* end) { size_ += static_cast<size_t>(end - at); };
      switch (plan.form) {
        case Form::kFixed:
          wrote_to(WriteFixedValueText(column, row, at));
          break;
        case Form::kInt32:
          wrote_to(std::to_chars(at, at + 24, column.Get<int32_t>(row)).ptr);
          break;
        case Form::kInt64:
          wrote_to(std::to_chars(at, at + 24, column.Get<int64_t>(row)).ptr);
          break;
        case Form::kDecimal:
          wrote_to(WriteDecimal128(column.Get<int128>(row), column.type().scale, at));
          break;
        case Form::kDate:
          wrote_to(WriteDate(column.Get<int32_t>(row), at));
          break;
        case Form::kTimestamp:
          wrote_to(WriteTimestamp(column.Get<int64_t>(row), false, at));
          break;
        case Form::kTimestampTz:
          wrote_to(WriteTimestamp(column.Get<int64_t>(row), true, at));
          break;
        case Form::kText:
          SLUICE_RETURN_IF_ERROR(WriteText(column.GetView(row)));
          continue;
        case Form::kOther:
          scratch_.clear();
          AppendValueText(column, row, &scratch_);
          SLUICE_RETURN_IF_ERROR(WriteText(scratch_));
          continue;
        case Form::kBytes: {
          std::string_view bytes = column.GetView(row);
          Reserve(2 + 2 * bytes.size());
          static constexpr char kHex[] = "0123456789abcdef";
          char* p = buffer_.get() + size_;
          *p++ = '\\';
          *p++ = 'x';
          for (unsigned char c : bytes) {
            *p++ = kHex[c >> 4];
            *p++ = kHex[c & 15];
          }
          size_ = static_cast<size_t>(p - buffer_.get());
          break;
        }
      }
      if (plan.check == Check::kMarker) {
        if (std::string_view(buffer_.get() + start, size_ - start) == marker)
          SLUICE_RETURN_IF_ERROR(QuoteIfNeeded(start));
      } else if (plan.check == Check::kFull) {
        SLUICE_RETURN_IF_ERROR(QuoteIfNeeded(start));
      }
    }
    Reserve(1);
    Put('\n');
    if (size_ >= flush_bytes_)
      SLUICE_RETURN_IF_ERROR(Flush());
  }
  return Status::OK();
}

Status CsvWriter::Flush() {
  if (size_ == 0)
    return Status::OK();
  Status status = output_->Write(std::string_view(buffer_.get(), size_));
  flushed_bytes_ += size_;
  size_ = 0;
  return status;
}

}  // namespace sluice::formats
