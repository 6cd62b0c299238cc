#include "server/scheduler.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>

#include "core/failpoint.h"
#include "core/logging.h"

namespace sluice::server {

namespace {

constexpr std::string_view kComponent = "server:scheduler";

int64_t NowSeconds() {
  return NowMicros() / 1'000'000;
}

bool SameSchedule(const ScheduleEntry& a, const ScheduleEntry& b) {
  const bool same_cron =
      a.cron.has_value() == b.cron.has_value() &&
      (!a.cron || (a.cron->expression() == b.cron->expression() &&
                   a.cron->time_zone() == b.cron->time_zone()));
  return a.team == b.team && a.job == b.job && same_cron;
}

}  // namespace

Scheduler::Scheduler(ServerStore* store, RunManager* runs, ScheduleSource source,
                     JobScheduleSource job_source)
    : store_(store),
      runs_(runs),
      source_(std::move(source)),
      job_source_(std::move(job_source)) {}

Scheduler::~Scheduler() {
  Shutdown();
}

Status Scheduler::Start() {
  SLUICE_RETURN_IF_ERROR(Reload());
  FireDue(NowSeconds(), /*coalesce=*/true);
  // Dependencies whose trigger a crash may have cut off.
  std::vector<std::pair<std::string, std::string>> upstreams;
  for (const ScheduleEntry& entry : Entries()) {
    for (const std::string& upstream : entry.after)
      upstreams.emplace_back(entry.team, upstream);
  }
  for (const auto& [team, upstream] : upstreams)
    SLUICE_RETURN_IF_ERROR(CheckDependents(team, upstream));
  thread_ = std::thread([this] { Loop(); });
  return Status::OK();
}

void Scheduler::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }
  if (thread_.joinable())
    thread_.join();
}

Status Scheduler::Prepare(ScheduleEntry* entry, const std::vector<ScheduleEntry>& previous,
                          int64_t now) {
  auto kept = std::find_if(previous.begin(), previous.end(),
                           [&](const ScheduleEntry& p) { return SameSchedule(p, *entry); });
  if (kept != previous.end()) {
    entry->next_fire = kept->next_fire;
    return Status::OK();
  }
  if (!entry->cron)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(std::optional<int64_t> last, store_->LastFire(entry->team, entry->job));
  if (!last) {
    // A new schedule starts from now: it does not fire for times before it existed.
    SLUICE_RETURN_IF_ERROR(store_->StartLedger(entry->team, entry->job, now));
    last = now;
  }
  entry->next_fire = entry->cron->NextAfter(*last);
  return Status::OK();
}

Status Scheduler::Reload() {
  SLUICE_ASSIGN_OR_RETURN(std::vector<ScheduleEntry> loaded, source_());
  const int64_t now = NowSeconds();
  const std::vector<ScheduleEntry> previous = Entries();
  for (ScheduleEntry& entry : loaded)
    SLUICE_RETURN_IF_ERROR(Prepare(&entry, previous, now));
  std::lock_guard<std::mutex> lock(mutex_);
  entries_ = std::move(loaded);
  changed_.notify_all();
  return Status::OK();
}

Status Scheduler::Update(const std::string& team, const std::string& job) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<ScheduleEntry> loaded, job_source_(team, job));
  const std::vector<ScheduleEntry> previous = Entries();
  if (loaded)
    SLUICE_RETURN_IF_ERROR(Prepare(&*loaded, previous, NowSeconds()));
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const ScheduleEntry& e) { return e.team == team && e.job == job; }),
                 entries_.end());
  if (loaded)
    entries_.push_back(std::move(*loaded));
  changed_.notify_all();
  return Status::OK();
}

std::vector<ScheduleEntry> Scheduler::Entries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_;
}

uint64_t Scheduler::fires() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fires_;
}

bool Scheduler::FireDue(int64_t now, bool coalesce) {
  std::vector<DueFire> due;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (ScheduleEntry& entry : entries_) {
      if (!entry.cron || !entry.next_fire || *entry.next_fire > now)
        continue;
      int64_t fire = *entry.next_fire;
      if (coalesce) {
        // Fires missed while the server was down are coalesced into the latest.
        for (int i = 0; i < 10'000'000; ++i) {
          std::optional<int64_t> next = entry.cron->NextAfter(fire);
          if (!next || *next > now)
            break;
          fire = *next;
        }
      } else {
        // A running server fires every due time, even when it woke late (a loaded machine):
        // each is a run of its own, in order.
        for (int i = 0; i < 1000; ++i) {
          std::optional<int64_t> next = entry.cron->NextAfter(fire);
          if (!next || *next > now)
            break;
          due.push_back(DueFire{entry.team, entry.job, fire});
          fire = *next;
        }
      }
      due.push_back(DueFire{entry.team, entry.job, fire});
      entry.next_fire = entry.cron->NextAfter(fire);
    }
  }
  if (due.empty())
    return false;
  Result<std::vector<int64_t>> ids = store_->FireSchedules(due, NowMicros());
  if (!ids.ok()) {
    log::Error(kComponent, "cannot record {} due fire(s): {}; retrying", due.size(),
               ids.status().ToString());
    // Not recorded: the ledger did not move, so the next pass fires them again (the earliest
    // of each job's first).
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = due.rbegin(); it != due.rend(); ++it) {
      for (ScheduleEntry& entry : entries_) {
        if (entry.team == it->team && entry.job == it->job)
          entry.next_fire = it->fire;
      }
    }
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fires_ += ids->size();
  }
  // Tests: a crash between the fires' record and their runs' start.
  if (failpoint::AnyArmed())
    (void)failpoint::Check("server.scheduler.after_fire");
  if (!ids->empty())
    runs_->Wake();
  return !ids->empty();
}

void Scheduler::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    std::optional<int64_t> earliest;
    for (const ScheduleEntry& entry : entries_) {
      if (entry.next_fire && (!earliest || *entry.next_fire < *earliest))
        earliest = entry.next_fire;
    }
    const auto wake_at = earliest ? std::chrono::system_clock::time_point(
                                        std::chrono::seconds(*earliest))
                                  : std::chrono::system_clock::now() + std::chrono::seconds(60);
    // Woken early by Reload (a new schedule may be due sooner) or Shutdown.
    changed_.wait_until(lock, wake_at);
    if (stopping_)
      break;
    const int64_t now = NowSeconds();
    bool due = std::any_of(entries_.begin(), entries_.end(), [&](const ScheduleEntry& entry) {
      return entry.next_fire && *entry.next_fire <= now;
    });
    if (!due)
      continue;
    lock.unlock();
    FireDue(now, /*coalesce=*/false);
    lock.lock();
  }
}

void Scheduler::OnRunFinished(const RunRecord& run, const config::JobConfig*,
                              const runtime::JobSummary*) {
  if (run.state != RunState::kSucceeded)
    return;
  if (Status checked = CheckDependents(run.team, run.job); !checked.ok())
    log::Error(kComponent, "cannot start the jobs after '{}': {}", run.job, checked.ToString());
}

Status Scheduler::CheckDependents(const std::string& team, const std::string& upstream) {
  std::vector<ScheduleEntry> dependents;
  for (const ScheduleEntry& entry : Entries()) {
    if (entry.team == team &&
        std::find(entry.after.begin(), entry.after.end(), upstream) != entry.after.end())
      dependents.push_back(entry);
  }
  for (const ScheduleEntry& dependent : dependents) {
    // The upstream run that last triggered this job (its id is the trigger's fire).
    ServerStore::RunFilter mine;
    mine.team = team;
    mine.job = dependent.job;
    mine.limit = 1000;
    SLUICE_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, store_->ListRuns(mine));
    int64_t last_trigger = 0;
    for (const RunRecord& r : runs) {
      if (r.trigger == "after") {
        last_trigger = r.fire;
        break;
      }
    }
    int64_t newest = 0;
    bool all_succeeded_since = true;
    for (const std::string& name : dependent.after) {
      ServerStore::RunFilter theirs;
      theirs.team = team;
      theirs.job = name;
      theirs.state = RunState::kSucceeded;
      theirs.limit = 1;
      SLUICE_ASSIGN_OR_RETURN(std::vector<RunRecord> succeeded, store_->ListRuns(theirs));
      if (succeeded.empty() || succeeded[0].id <= last_trigger) {
        all_succeeded_since = false;
        break;
      }
      newest = std::max(newest, succeeded[0].id);
    }
    if (!all_succeeded_since)
      continue;
    SLUICE_ASSIGN_OR_RETURN(std::optional<RunRecord> queued,
                            runs_->Trigger(team, dependent.job, "after", newest, false));
    if (queued)
      log::Info(kComponent, "job '{}' queued as run {}: '{}' succeeded", dependent.job,
                queued->id, upstream);
  }
  return Status::OK();
}

}  // namespace sluice::server
