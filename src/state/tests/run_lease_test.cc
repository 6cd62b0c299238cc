// The run lease of the state store: one run of a job at a time, taken over from a run whose
// process is gone at once, from a frozen or cut-off run after the lease time, and fenced by
// epoch afterwards.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "state/state_store.h"
#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::state {
namespace {

// A live process of this machine other than this one (the parent), described as its run would
// describe itself.
RunOwner LiveNeighbour() {
  RunOwner owner = RunOwner::ThisProcess();
  pid_t child = fork();
  if (child == 0) {
    // Lives until the test kills it.
    pause();
    _exit(0);
  }
  owner.pid = child;
  owner.process_start = 0;  // unknown start time: the pid alone says it lives
  return owner;
}

TEST(RunLeaseTest, OneRunAtATimeAndTheHolderIsNamed) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto first, OpenSqliteStateStore(dir.Join("state.db")));
  ASSERT_OK_AND_ASSIGN(auto second, OpenSqliteStateStore(dir.Join("state.db")));
  RunOwner neighbour = LiveNeighbour();
  ASSERT_OK_AND_ASSIGN(RunClaim claim, first->AcquireRun("orders", neighbour, 30));
  ASSERT_TRUE(claim.lease.has_value());
  EXPECT_FALSE(claim.lease->took_over_from.has_value());
  EXPECT_GT(claim.lease->epoch, 1'600'000'000'000'000u);  // microseconds of the wall clock

  ASSERT_OK_AND_ASSIGN(RunClaim held, second->AcquireRun("orders", RunOwner::ThisProcess(), 30));
  EXPECT_FALSE(held.lease.has_value());
  ASSERT_TRUE(held.holder.has_value());
  EXPECT_EQ(held.holder->owner.pid, neighbour.pid);
  EXPECT_EQ(held.holder->epoch, claim.lease->epoch);
  EXPECT_EQ(held.holder->owner.Describe(),
            fmt::format("pid {} on host {} since {} UTC", neighbour.pid, neighbour.host,
                        neighbour.started_at));
  // Another job is free.
  ASSERT_OK_AND_ASSIGN(RunClaim other, second->AcquireRun("other", RunOwner::ThisProcess(), 30));
  EXPECT_TRUE(other.lease.has_value());

  // Released, the job is free at once; the next epoch is higher.
  ASSERT_OK(first->ReleaseRun("orders"));
  ASSERT_OK_AND_ASSIGN(RunClaim next, second->AcquireRun("orders", RunOwner::ThisProcess(), 30));
  ASSERT_TRUE(next.lease.has_value());
  EXPECT_GT(next.lease->epoch, claim.lease->epoch);
  kill(static_cast<pid_t>(neighbour.pid), SIGKILL);
  waitpid(static_cast<pid_t>(neighbour.pid), nullptr, 0);
}

TEST(RunLeaseTest, AHolderWhoseProcessIsGoneIsTakenOverAtOnce) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStateStore(dir.Join("state.db")));
  RunOwner dead = LiveNeighbour();
  kill(static_cast<pid_t>(dead.pid), SIGKILL);
  waitpid(static_cast<pid_t>(dead.pid), nullptr, 0);
  ASSERT_OK_AND_ASSIGN(RunClaim crashed, store->AcquireRun("orders", dead, 3600));
  ASSERT_TRUE(crashed.lease.has_value());
  ASSERT_OK_AND_ASSIGN(auto next_store, OpenSqliteStateStore(dir.Join("state.db")));
  ASSERT_OK_AND_ASSIGN(RunClaim claim,
                       next_store->AcquireRun("orders", RunOwner::ThisProcess(), 3600));
  ASSERT_TRUE(claim.lease.has_value()) << "the lease of a dead process held the job";
  EXPECT_FALSE(claim.lease->took_over_from.has_value());  // gone, not frozen
  EXPECT_GT(claim.lease->epoch, crashed.lease->epoch);
}

TEST(RunLeaseTest, AFrozenHolderIsTakenOverAfterTheLeaseAndFencedOff) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto frozen, OpenSqliteStateStore(dir.Join("state.db")));
  ASSERT_OK_AND_ASSIGN(auto newer, OpenSqliteStateStore(dir.Join("state.db")));
  // A holder on another host: this machine cannot tell whether it lives; only its lease can.
  RunOwner elsewhere = RunOwner::ThisProcess();
  elsewhere.host = "another-host";
  elsewhere.process_space = "another-boot/pid:[1]";
  constexpr double kLeaseSecs = 0.3;
  ASSERT_OK_AND_ASSIGN(RunClaim first, frozen->AcquireRun("orders", elsewhere, kLeaseSecs));
  ASSERT_TRUE(first.lease.has_value());
  ASSERT_OK(frozen->Reset("orders", "fp"));
  ASSERT_OK(frozen->RecordSplits("orders", {connectors::Split{"s1", 0, "{}", 10, 10}}));
  ASSERT_OK(frozen->RenewRun("orders"));

  // Judged with a lease of an hour, a lease renewed just now is fresh however slow the machine
  // (with kLeaseSecs, a pause of 0.3 s before this line would make it stale).
  ASSERT_OK_AND_ASSIGN(RunClaim early,
                       newer->AcquireRun("orders", RunOwner::ThisProcess(), 3600));
  EXPECT_TRUE(early.holder.has_value()) << "taken over while its lease was fresh";
  // The holder stops renewing (frozen, cut off): a real wait, for the lease to run out.
  std::this_thread::sleep_for(std::chrono::duration<double>(kLeaseSecs * 1.5));
  ASSERT_OK_AND_ASSIGN(RunClaim taken, newer->AcquireRun("orders", RunOwner::ThisProcess(),
                                                         kLeaseSecs));
  ASSERT_TRUE(taken.lease.has_value());
  ASSERT_TRUE(taken.lease->took_over_from.has_value());
  EXPECT_EQ(taken.lease->took_over_from->host, "another-host");
  EXPECT_GT(taken.lease->epoch, first.lease->epoch);

  // The frozen run wakes up: every change it tries is refused, and changes nothing.
  for (Status status :
       {frozen->RenewRun("orders"), frozen->CommitCheckpoint("orders", 1, {{"s1", "x", true}}, 0),
        frozen->RecordSplits("orders", {connectors::Split{"s2", 0, "{}", 1, 1}}),
        frozen->SetStatus("orders", JobStatus::kSucceeded), frozen->Reset("orders", "fp")}) {
    EXPECT_EQ(status.code(), StatusCode::kConflict) << status.ToString();
    EXPECT_NE(status.message().find("taken over by a newer run"), std::string::npos);
  }
  ASSERT_OK_AND_ASSIGN(std::optional<JobState> state, newer->Load("orders"));
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->splits.size(), 1u);
  EXPECT_TRUE(state->progress.empty());
  EXPECT_EQ(state->status, JobStatus::kRunning);
  // Releasing a lease one no longer holds leaves the newer run's alone.
  ASSERT_OK(frozen->ReleaseRun("orders"));
  ASSERT_OK(newer->RenewRun("orders"));
}

TEST(RunLeaseTest, FinishingIsNotUndoneByAFailure) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStateStore(dir.Join("state.db")));
  ASSERT_OK(store->Reset("orders", "fp"));
  ASSERT_OK(store->SetStatus("orders", JobStatus::kFinishing));
  ASSERT_OK(store->SetStatus("orders", JobStatus::kFailed));
  ASSERT_OK(store->SetStatus("orders", JobStatus::kInterrupted));
  ASSERT_OK_AND_ASSIGN(std::optional<JobState> state, store->Load("orders"));
  EXPECT_EQ(state->status, JobStatus::kFinishing);
  ASSERT_OK(store->SetStatus("orders", JobStatus::kSucceeded));
  ASSERT_OK_AND_ASSIGN(state, store->Load("orders"));
  EXPECT_EQ(state->status, JobStatus::kSucceeded);
}

}  // namespace
}  // namespace sluice::state
