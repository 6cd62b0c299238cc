#include "connectors/postgres/pgoutput.h"

#include <fmt/core.h>

#include <charconv>

#include "core/endian.h"

namespace sluice::connectors::postgres {

std::string FormatLsn(Lsn lsn) {
  return fmt::format("{:X}/{:X}", static_cast<uint32_t>(lsn >> 32), static_cast<uint32_t>(lsn));
}

bool ParseLsn(std::string_view text, Lsn* lsn) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= text.size())
    return false;
  uint32_t high = 0;
  uint32_t low = 0;
  auto parse = [](std::string_view part, uint32_t* value) {
    auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), *value, 16);
    return error == std::errc() && end == part.data() + part.size();
  };
  if (!parse(text.substr(0, slash), &high) || !parse(text.substr(slash + 1), &low))
    return false;
  *lsn = (static_cast<Lsn>(high) << 32) | low;
  return true;
}

namespace {

// Reads the fields of one message front to back; any read past the end marks it malformed.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool ok() const { return ok_; }
  void Fail() { ok_ = false; }
  size_t left() const { return data_.size() - at_; }

  template <typename T>
  T Int() {
    if (left() < sizeof(T)) {
      ok_ = false;
      return 0;
    }
    T value = ReadBigEndian<T>(data_.data() + at_);
    at_ += sizeof(T);
    return value;
  }
  char Byte() { return static_cast<char>(Int<uint8_t>()); }
  // A NUL-terminated string.
  std::string_view CString() {
    size_t end = data_.find('\0', at_);
    if (end == std::string_view::npos) {
      ok_ = false;
      return {};
    }
    std::string_view out = data_.substr(at_, end - at_);
    at_ = end + 1;
    return out;
  }
  std::string_view Bytes(size_t n) {
    if (left() < n) {
      ok_ = false;
      return {};
    }
    std::string_view out = data_.substr(at_, n);
    at_ += n;
    return out;
  }

 private:
  std::string_view data_;
  size_t at_ = 0;
  bool ok_ = true;
};

void ReadTuple(Reader& in, std::vector<PgOutputValue>* out) {
  out->clear();
  int16_t count = in.Int<int16_t>();
  for (int16_t i = 0; i < count && in.ok(); ++i) {
    PgOutputValue value;
    char kind = in.Byte();
    switch (kind) {
      case 'n':
        value.kind = PgOutputValue::Kind::kNull;
        break;
      case 'u':
        value.kind = PgOutputValue::Kind::kUnchangedToast;
        break;
      case 't':
      case 'b': {
        value.kind = kind == 't' ? PgOutputValue::Kind::kText : PgOutputValue::Kind::kBinary;
        int32_t size = in.Int<int32_t>();
        if (size < 0) {
          in.Fail();
          break;
        }
        value.data = in.Bytes(static_cast<size_t>(size));
        break;
      }
      default:
        in.Fail();  // an unknown kind
        break;
    }
    out->push_back(value);
  }
}

}  // namespace

Status ParsePgOutput(std::string_view message, PgOutputMessage* out) {
  Reader in(message);
  char type = in.Byte();
  out->old_kind = 0;
  out->old_tuple.clear();
  out->new_tuple.clear();
  switch (type) {
    case 'B':
      out->kind = PgOutputMessage::Kind::kBegin;
      out->lsn = in.Int<uint64_t>();
      out->commit_time_us = in.Int<int64_t>() + kPostgresEpochOffsetUs;
      out->xid = in.Int<uint32_t>();
      break;
    case 'C':
      out->kind = PgOutputMessage::Kind::kCommit;
      in.Byte();  // flags, unused
      out->lsn = in.Int<uint64_t>();
      out->end_lsn = in.Int<uint64_t>();
      out->commit_time_us = in.Int<int64_t>() + kPostgresEpochOffsetUs;
      break;
    case 'R': {
      out->kind = PgOutputMessage::Kind::kRelation;
      out->relation = in.Int<uint32_t>();
      out->schema = in.CString();
      out->table = in.CString();
      out->replica_identity = in.Byte();
      int16_t count = in.Int<int16_t>();
      out->columns.clear();
      for (int16_t i = 0; i < count && in.ok(); ++i) {
        PgOutputColumn column;
        column.key = (in.Byte() & 1) != 0;
        column.name = in.CString();
        column.type_oid = in.Int<uint32_t>();
        column.typmod = in.Int<int32_t>();
        out->columns.push_back(std::move(column));
      }
      break;
    }
    case 'I':
      out->kind = PgOutputMessage::Kind::kInsert;
      out->relation = in.Int<uint32_t>();
      if (in.Byte() != 'N')
        return Internal("pgoutput Insert: no new tuple");
      ReadTuple(in, &out->new_tuple);
      break;
    case 'U': {
      out->kind = PgOutputMessage::Kind::kUpdate;
      out->relation = in.Int<uint32_t>();
      char next = in.Byte();
      if (next == 'K' || next == 'O') {
        out->old_kind = next;
        ReadTuple(in, &out->old_tuple);
        next = in.Byte();
      }
      if (next != 'N')
        return Internal("pgoutput Update: no new tuple");
      ReadTuple(in, &out->new_tuple);
      break;
    }
    case 'D': {
      out->kind = PgOutputMessage::Kind::kDelete;
      out->relation = in.Int<uint32_t>();
      char next = in.Byte();
      if (next != 'K' && next != 'O')
        return Internal("pgoutput Delete: no old key or row");
      out->old_kind = next;
      ReadTuple(in, &out->old_tuple);
      break;
    }
    case 'T': {
      out->kind = PgOutputMessage::Kind::kTruncate;
      int32_t count = in.Int<int32_t>();
      in.Byte();  // options (CASCADE, RESTART IDENTITY)
      out->truncated.clear();
      for (int32_t i = 0; i < count && in.ok(); ++i)
        out->truncated.push_back(in.Int<uint32_t>());
      break;
    }
    default:
      out->kind = PgOutputMessage::Kind::kOther;
      return Status::OK();
  }
  if (!in.ok()) {
    return Internal(fmt::format("pgoutput message '{}' of {} bytes is truncated", type,
                                message.size()));
  }
  return Status::OK();
}

}  // namespace sluice::connectors::postgres
