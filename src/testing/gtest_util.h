// Test helpers: ASSERT_OK / EXPECT_OK / ASSERT_OK_AND_ASSIGN for Status and Result<T>, and
// LineDifferences to show how two dumps differ.
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/result.h"

#define SLUICE_TESTING_STATUS(expr) ::sluice::testing::ToStatus((expr))

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    ::sluice::Status _st = SLUICE_TESTING_STATUS(expr);              \
    ASSERT_TRUE(_st.ok()) << #expr << " failed: " << _st.ToString(); \
  } while (false)

#define EXPECT_OK(expr)                                              \
  do {                                                               \
    ::sluice::Status _st = SLUICE_TESTING_STATUS(expr);              \
    EXPECT_TRUE(_st.ok()) << #expr << " failed: " << _st.ToString(); \
  } while (false)

#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)                           \
  auto tmp = (expr);                                                        \
  ASSERT_TRUE(tmp.ok()) << #expr << " failed: " << tmp.status().ToString(); \
  lhs = std::move(tmp).value()

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(SLUICE_CONCAT(_sluice_test_result_, __LINE__), lhs, expr)

namespace sluice::testing {

inline Status ToStatus(const Status& status) {
  return status;
}
template <typename T>
Status ToStatus(const Result<T>& result) {
  return result.status();
}

/// The lines only `want` has and those only `got` has (at most 20 of each), for a failure
/// message comparing two table dumps.
inline std::string LineDifferences(const std::string& want, const std::string& got) {
  auto lines = [](const std::string& text) {
    std::multiset<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos)
        end = text.size();
      out.insert(text.substr(start, end - start));
      start = end + 1;
    }
    return out;
  };
  std::multiset<std::string> a = lines(want);
  std::multiset<std::string> b = lines(got);
  std::string out;
  int shown = 0;
  for (const std::string& line : a) {
    if (b.count(line) < a.count(line) && shown++ < 20)
      out += "  missing: " + line + "\n";
  }
  shown = 0;
  for (const std::string& line : b) {
    if (a.count(line) < b.count(line) && shown++ < 20)
      out += "  extra:   " + line + "\n";
  }
  return out;
}

}  // namespace sluice::testing
