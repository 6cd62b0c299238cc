#include "connectors/sql/changelog_apply.h"

#include <fmt/core.h>

namespace sluice::connectors::sql {

namespace {
constexpr uint8_t kNone = 0;
constexpr uint8_t kUpsert = 1;
constexpr uint8_t kDelete = 2;
}  // namespace

bool ApplyPlanner::SameKey(const Batch& batch, size_t a, size_t b) const {
  for (int index : key_) {
    const Column& column = batch.column(static_cast<size_t>(index));
    if (!column.ValueEquals(a, column, b))
      return false;
  }
  return true;
}

void ApplyPlanner::EncodeKey(const Batch& batch, size_t row, std::string* out) const {
  for (int index : key_) {
    const Column& column = batch.column(static_cast<size_t>(index));
    if (column.IsNull(row)) {
      out->push_back('\0');
      continue;
    }
    out->push_back('\1');
    if (column.type().is_variable_width()) {
      std::string_view bytes = column.GetView(row);
      uint32_t size = static_cast<uint32_t>(bytes.size());
      out->append(reinterpret_cast<const char*>(&size), sizeof(size));
      out->append(bytes);
    } else {
      size_t width = static_cast<size_t>(column.type().physical_width());
      out->append(reinterpret_cast<const char*>(column.data()) + row * width, width);
    }
  }
}

void ApplyPlanner::Plan(const Batch& batch, ApplyPlan* plan) {
  plan->upserts.clear();
  plan->deletes.clear();
  const size_t rows = batch.num_rows();
  action_.assign(rows, kNone);
  last_.clear();
  for (size_t row = 0; row < rows; ++row) {
    uint8_t action = kUpsert;
    switch (batch.row_kind(row)) {
      case RowKind::kInsert:
      case RowKind::kUpdateAfter:
        break;
      case RowKind::kDelete:
        action = kDelete;
        break;
      case RowKind::kUpdateBefore:
        if (row + 1 < rows && batch.row_kind(row + 1) == RowKind::kUpdateAfter &&
            SameKey(batch, row, row + 1)) {
          continue;  // the update_after replaces the row
        }
        action = kDelete;  // the key changed: the old key goes
        break;
    }
    scratch_.clear();
    EncodeKey(batch, row, &scratch_);
    auto [it, inserted] = last_.try_emplace(scratch_, static_cast<uint32_t>(row));
    if (!inserted) {
      action_[it->second] = kNone;  // superseded by this later change
      it->second = static_cast<uint32_t>(row);
    }
    action_[row] = action;
  }
  for (size_t row = 0; row < rows; ++row) {
    if (action_[row] == kUpsert)
      plan->upserts.push_back(static_cast<uint32_t>(row));
    else if (action_[row] == kDelete)
      plan->deletes.push_back(static_cast<uint32_t>(row));
  }
}

void CopyRows(const Batch& from, const std::vector<uint32_t>& rows, Batch* to) {
  for (uint32_t row : rows)
    to->AppendRow(from, row);
}

Status ChangelogNeedsApplyMode(std::string_view sink, std::string_view stream,
                               std::string_view mode) {
  return InvalidConfig(fmt::format(
      "stream '{}' is a changelog (inserts, updates and deletes), which mode: {} of the {} sink "
      "cannot write: set mode: apply to apply each change by primary key",
      stream, mode, sink));
}

Status ApplyNeedsPrimaryKey(std::string_view sink, std::string_view table) {
  return InvalidConfig(fmt::format(
      "{} has no primary key, which mode: apply of the {} sink needs to find the row of each "
      "change: add a primary key to the table (or, when the sink creates it, give the stream "
      "one), or use another mode",
      table, sink));
}

}  // namespace sluice::connectors::sql
