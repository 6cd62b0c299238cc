#include "core/status.h"

#include <gtest/gtest.h>

#include "core/result.h"

namespace sluice {
namespace {

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.ToString(), "OK");
  EXPECT_TRUE(ok.WithContext("ignored").ok());
}

TEST(StatusTest, ContextIsPrependedAndCodeKept) {
  Status status = NotFound("no such table").WithContext("source mysql 'orders'");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "source mysql 'orders': no such table");
  EXPECT_EQ(status.ToString(), "not found: source mysql 'orders': no such table");
}

TEST(StatusTest, TransientCodesAreRetryable) {
  EXPECT_TRUE(Unavailable("x").IsTransient());
  EXPECT_TRUE(Aborted("x").IsTransient());
  EXPECT_FALSE(PermissionDenied("x").IsTransient());
  EXPECT_FALSE(DataError("x").IsTransient());
}

Result<int> Half(int v) {
  if (v % 2 != 0)
    return DataError("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  SLUICE_ASSIGN_OR_RETURN(int half, Half(v));
  SLUICE_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(12), 3);
  Result<int> bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "odd");
}

TEST(StatusTest, ErrnoMapsToCodes) {
  EXPECT_EQ(ErrnoStatus("Cannot open", "/x", ENOENT).code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoStatus("Cannot open", "/x", EACCES).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoStatus("Cannot open", "/x", ENOSPC).code(), StatusCode::kIoError);
  EXPECT_EQ(ErrnoStatus("Cannot open", "/x", ENOENT).message(),
            "Cannot open '/x': No such file or directory");
}

}  // namespace
}  // namespace sluice
