// Test helpers: ASSERT_OK / EXPECT_OK / ASSERT_OK_AND_ASSIGN for Status and Result<T>.
#pragma once

#include <gtest/gtest.h>

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

}  // namespace sluice::testing
