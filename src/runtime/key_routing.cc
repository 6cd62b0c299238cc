#include "runtime/key_routing.h"

#include <functional>
#include <string>

#include "core/value_text.h"

namespace sluice::runtime {

std::vector<std::unique_ptr<Batch>> RouteByKey(const Batch& batch, std::span<const int> key,
                                               size_t writers, BatchPool& pool) {
  std::vector<std::unique_ptr<Batch>> parts(writers);
  std::string text;
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    text.clear();
    for (int column : key) {
      const Column& values = batch.column(static_cast<size_t>(column));
      if (values.IsNull(row)) {
        text.push_back('\0');
      } else {
        AppendValueText(values, row, &text);
        text.push_back('\x1f');
      }
    }
    std::unique_ptr<Batch>& part = parts[std::hash<std::string>{}(text) % writers];
    if (!part)
      part = pool.Get(batch.stream());
    for (size_t c = 0; c < batch.num_columns(); ++c)
      part->column(c).AppendFrom(batch.column(c), row);
    part->SetRowKind(batch.row_kind(row));
    part->FinishRow();
  }
  return parts;
}

}  // namespace sluice::runtime
