#include "testing/conformance/conformance.h"

#include <fmt/core.h>

namespace sluice::testing::conformance {

SchemaPtr OrdersSchema() {
  return std::make_shared<const Schema>(std::vector<Field>{{"id", DataType::Int64(), false},
                                                           {"name", DataType::String(), true},
                                                           {"amount", DataType::String(), true}});
}

std::vector<Row> OrdersRows(size_t count, int64_t first_id) {
  // Text that trips quoting, escaping and encodings, among plain names.
  static const char* const kTricky[] = {"O'Brien, \"quoted\"", "two\nlines", "héllo 日本 😀",
                                        "", "tab\there", "trailing space "};
  std::vector<Row> rows;
  rows.reserve(count);
  for (int64_t id = first_id; id < first_id + static_cast<int64_t>(count); ++id) {
    Row row;
    row.emplace_back(std::to_string(id));
    if (id % 7 == 0) {
      row.emplace_back(std::nullopt);
    } else if (id % 11 == 0) {
      row.emplace_back(kTricky[(id / 11) % std::size(kTricky)]);
    } else {
      row.emplace_back(fmt::format("customer {}", id));
    }
    if (id % 5 == 0) {
      row.emplace_back(std::nullopt);
    } else {
      int64_t whole = (id * 37) % 1000;
      bool negative = id % 3 == 0 && whole > 0;
      row.emplace_back(fmt::format("{}{}.{:02}", negative ? "-" : "", whole, id % 100));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace sluice::testing::conformance
