#include "connectors/store_digest.h"

#include <fmt/core.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>

#include "core/temporal.h"
#include "core/value_text.h"

namespace sluice::connectors {

namespace {

struct DigestContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

// MD5 of `text`; one context per thread, reused (creating one per row would dominate).
std::array<unsigned char, 16> Md5(std::string_view text) {
  thread_local std::unique_ptr<EVP_MD_CTX, DigestContextDeleter> context(EVP_MD_CTX_new());
  std::array<unsigned char, 16> out{};
  unsigned int size = 0;
  EVP_DigestInit_ex(context.get(), EVP_md5(), nullptr);
  EVP_DigestUpdate(context.get(), text.data(), text.size());
  EVP_DigestFinal_ex(context.get(), out.data(), &size);
  return out;
}

// The integer the first `hex_digits` hex digits of the digest spell.
uint64_t HexPrefix(const std::array<unsigned char, 16>& digest, int hex_digits) {
  uint64_t value = 0;
  for (int i = 0; i < hex_digits; ++i) {
    unsigned char byte = digest[static_cast<size_t>(i / 2)];
    value = (value << 4) | ((i % 2 == 0) ? (byte >> 4) : (byte & 15));
  }
  return value;
}

__int128 FloorDiv(__int128 a, __int128 b) {
  __int128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

}  // namespace

void AppendDigestText(const Column& column, size_t row, std::string* out) {
  const DataType& type = column.type();
  switch (type.id) {
    case TypeId::kBool:
      out->push_back(column.Get<uint8_t>(row) != 0 ? '1' : '0');
      return;
    case TypeId::kDecimal: {
      size_t start = out->size();
      AppendValueText(column, row, out);
      if (out->find('.', start) != std::string::npos) {
        while (out->back() == '0')
          out->pop_back();
        if (out->back() == '.')
          out->pop_back();
      }
      return;
    }
    case TypeId::kBytes:
      AppendHexDigits(column.GetView(row), out);
      return;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      AppendTimestamp(column.Get<int64_t>(row), /*with_zone=*/false, out);
      return;
    default:
      AppendValueText(column, row, out);
      return;
  }
}

bool DigestTextMayNeedEscaping(const DataType& type) {
  if (type.is_integer())
    return false;
  switch (type.id) {
    case TypeId::kBool:
    case TypeId::kDecimal:
    case TypeId::kBytes:
    case TypeId::kDate:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return false;
    default:
      return true;
  }
}

void EscapeDigestText(std::string* text, size_t from) {
  auto special = [](char c) { return c == kDigestEscape || c == kDigestSeparator; };
  auto specials = static_cast<size_t>(std::count_if(text->begin() + static_cast<ptrdiff_t>(from),
                                                    text->end(), special));
  if (specials == 0)
    return;  // the usual case: nothing moves
  // Grown once, then filled from the back so that every character moves once.
  size_t read = text->size();
  size_t write = read + specials;
  text->resize(write);
  while (read > from) {
    char c = (*text)[--read];
    (*text)[--write] = c;
    if (special(c))
      (*text)[--write] = kDigestEscape;
  }
}

std::vector<std::string> SplitDigestText(std::string_view text) {
  std::vector<std::string> elements(1);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == kDigestEscape && i + 1 < text.size()) {
      elements.back().push_back(text[++i]);
    } else if (c == kDigestSeparator) {
      elements.emplace_back();
    } else {
      elements.back().push_back(c);
    }
  }
  return elements;
}

void DigestRowText::AppendNull() {
  if (!values_.empty())
    text_.push_back(kDigestSeparator);
  values_.emplace_back(text_.size(), 0);
  text_.append(kDigestNullElement);
}

std::string* DigestRowText::BeginValue() {
  if (!values_.empty())
    text_.push_back(kDigestSeparator);
  text_.push_back(kDigestValueTag);
  values_.emplace_back(text_.size(), 0);
  return &text_;
}

void DigestRowText::EndValue() {
  auto& [start, length] = values_.back();
  EscapeDigestText(&text_, start);
  length = text_.size() - start;
}

void DigestRowText::KeyText(const std::vector<size_t>& key, std::string* out) const {
  out->clear();
  for (size_t k = 0; k < key.size(); ++k) {
    if (k > 0)
      out->push_back(kDigestSeparator);
    const auto& [start, length] = values_[key[k]];
    out->append(text_, start, length);
  }
}

uint64_t DigestRowHash(std::string_view row_text) {
  return HexPrefix(Md5(row_text), 15);
}

size_t DigestHashBucket(std::string_view key_text, size_t buckets) {
  return static_cast<size_t>(HexPrefix(Md5(key_text), 8) % buckets);
}

size_t DigestRangeBucket(__int128 key, const DigestKeyRange& range, size_t buckets) {
  __int128 bucket = FloorDiv(key - range.low, range.width);
  bucket = std::clamp<__int128>(bucket, 0, static_cast<__int128>(buckets) - 1);
  return static_cast<size_t>(bucket);
}

std::pair<std::optional<__int128>, std::optional<__int128>> DigestBucketKeys(
    size_t bucket, const DigestKeyRange& range, size_t buckets) {
  std::optional<__int128> first;
  std::optional<__int128> last;
  if (bucket > 0)
    first = range.low + static_cast<__int128>(bucket) * range.width;
  if (bucket + 1 < buckets)
    last = range.low + static_cast<__int128>(bucket + 1) * range.width - 1;
  return {first, last};
}

Result<uint64_t> ParseDigestSum(std::string_view text) {
  if (text.empty())
    return uint64_t{0};  // SUM over no rows
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return Internal(fmt::format("unexpected digest sum '{}'", text));
    value = value * 10 + static_cast<uint64_t>(c - '0');  // wraps: modulo 2^64
  }
  return value;
}

Result<__int128> ParseInt128(std::string_view text) {
  bool negative = !text.empty() && text[0] == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 38)
    return Internal(fmt::format("'{}' is not an integer key", text));
  __int128 value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9')
      return Internal(fmt::format("'{}' is not an integer key", text));
    value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

std::string Int128ToString(__int128 value) {
  if (value == 0)
    return "0";
  bool negative = value < 0;
  unsigned __int128 magnitude = negative ? static_cast<unsigned __int128>(-(value + 1)) + 1
                                         : static_cast<unsigned __int128>(value);
  std::string out;
  while (magnitude != 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  if (negative)
    out.push_back('-');
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace sluice::connectors
