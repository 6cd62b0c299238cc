#include "core/failpoint.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "testing/gtest_util.h"

namespace sluice::failpoint {
namespace {

class FailpointTest : public ::testing::Test {
 protected:
  void TearDown() override { DisarmAll(); }
};

Status Operation() {
  SLUICE_FAILPOINT("test.operation");
  return Status::OK();
}

TEST_F(FailpointTest, NothingArmedCostsNothingAndPassesAreNotCounted) {
  EXPECT_FALSE(AnyArmed());
  EXPECT_OK(Operation());
  EXPECT_EQ(Passes("test.operation"), 0u);
}

TEST_F(FailpointTest, FailFiresOnTheNamedPassOnly) {
  ASSERT_OK(Arm("test.operation=fail@3"));
  EXPECT_TRUE(AnyArmed());
  EXPECT_OK(Operation());
  EXPECT_OK(Operation());
  Status third = Operation();
  EXPECT_EQ(third.code(), StatusCode::kUnavailable);
  EXPECT_NE(third.message().find("test.operation"), std::string::npos) << third.ToString();
  EXPECT_OK(Operation());
  EXPECT_EQ(Passes("test.operation"), 4u);
}

TEST_F(FailpointTest, PlusFiresOnEveryLaterPass) {
  ASSERT_OK(Arm("test.operation=error@2+"));
  EXPECT_OK(Operation());
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(Operation().code(), StatusCode::kInternal);
}

TEST_F(FailpointTest, StopIsReturnedToTheCallerAndIsNoErrorElsewhere) {
  ASSERT_OK(Arm(" test.operation = stop ; test.other=stop@2 "));
  EXPECT_OK(Operation());
  EXPECT_EQ(Hit("test.other"), Action::kNone);
  EXPECT_EQ(Hit("test.other"), Action::kStop);
}

TEST_F(FailpointTest, SeveralRulesAtOnePointAndTheStrongerWins) {
  ASSERT_OK(Arm("test.point=checkpoint@1+;test.point=stop@3"));
  EXPECT_EQ(Hit("test.point"), Action::kCheckpoint);
  EXPECT_EQ(Hit("test.point"), Action::kCheckpoint);
  EXPECT_EQ(Hit("test.point"), Action::kStop);
  EXPECT_EQ(Hit("test.point"), Action::kCheckpoint);
}

TEST_F(FailpointTest, CallbackStatusIsTheOperationsResult) {
  int calls = 0;
  ArmCallback("test.operation", 2, [&] {
    ++calls;
    return DataError("injected");
  });
  EXPECT_OK(Operation());
  EXPECT_EQ(Operation().code(), StatusCode::kDataError);
  EXPECT_OK(Operation());
  EXPECT_EQ(calls, 1);
}

TEST_F(FailpointTest, CallbacksRunBesideTheActionAndMayArmTheNextPass) {
  int calls = 0;
  ArmCallback(
      "test.operation", 1,
      [&] {
        if (++calls == 2) {
          // What StopAfterCut does: arm an action for the point's next pass, from inside.
          return Arm(fmt::format("test.operation=fail@{}", Passes("test.operation") + 1));
        }
        return Status::OK();
      },
      /*and_later=*/true);
  EXPECT_OK(Operation());
  EXPECT_OK(Operation());
  // The callback keeps firing every pass, and the fail armed from it fires as well.
  EXPECT_EQ(Operation().code(), StatusCode::kUnavailable);
  EXPECT_OK(Operation());
  EXPECT_EQ(calls, 4);
}

TEST_F(FailpointTest, MalformedSpecificationsAreConfigErrors) {
  for (const char* bad : {"test.operation", "=crash", "test.operation=explode",
                          "test.operation=crash@0", "test.operation=crash@x", "a=crash@"}) {
    Status status = Arm(bad);
    EXPECT_EQ(status.code(), StatusCode::kInvalidConfig) << bad;
  }
  EXPECT_FALSE(AnyArmed());
}

TEST_F(FailpointTest, CrashKillsTheProcessWithSigkill) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (!Arm("test.operation=crash@2").ok())
      _exit(3);
    (void)Operation();
    (void)Operation();
    _exit(0);  // only when the crash did not happen
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST_F(FailpointTest, PauseFreezesTheProcessUntilContinued) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (!Arm("test.operation=pause").ok())
      _exit(3);
    (void)Operation();
    _exit(7);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, WUNTRACED), child);
  ASSERT_TRUE(WIFSTOPPED(status));
  // A SIGHUP and a SIGCONT alone, as the kernel sends when the process group becomes orphaned:
  // the process stops again and lives.
  kill(child, SIGHUP);
  kill(child, SIGCONT);
  ASSERT_EQ(waitpid(child, &status, WUNTRACED), child);
  ASSERT_TRUE(WIFSTOPPED(status)) << "a bare SIGCONT ended the pause";
  kill(child, SIGUSR2);
  kill(child, SIGCONT);
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

}  // namespace
}  // namespace sluice::failpoint
