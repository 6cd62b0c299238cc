// FileSink: writes each stream to CSV or JSON Lines files, plain or compressed.
//
// Naming: with a single writer (parallelism 1) and no rolling, a stream's file is exactly
// `path` ({stream} replaced by the stream name); otherwise every file is a part named
// <stem>-<slot 3 digits>-<part 5 digits><extensions> (out/orders-000-00000.csv.gz).
//
// Every file is written as "<final>.e<epoch>.inprogress" (InProgressPath: the run epoch of the
// run that created it) and renamed into place only once complete, so a reader never sees a
// partial file.
//
// One run at a time: Claim() raises the job's run epoch in the run fence next to the manifests;
// every manifest commit, at-least-once publication and Finish checks it under the fence's lock,
// so a run that a newer run took over cannot commit or publish. Such a run may still write to
// the files it had open until it notices: the newer run (JobContext::earlier_run_may_be_alive)
// continues the committed parts in copies named after its own epoch, and names every file it
// creates after its epoch too, so the two never share a file.
//
// Exactly-once (JobContext::delivery == kExactlyOnce, the default): a writer keeps its current
// part's in-progress file across checkpoints. Prepare() ends the part's gzip member or zstd
// frame and fsyncs it; Commit() records in the slot's manifest (file_manifest.h) the committed
// length of the current part, the parts that rolled since, and the checkpoint's progress, and
// renames the manifest into place (the commit point), then renames the rolled parts to their
// final names. Finish() publishes the current parts and deletes the manifests. So a single-file
// job's `path` appears only when the job succeeds. RecoverProgress() finishes the renames of a
// crashed commit, cuts every current part back to its committed length and returns the union of
// the manifests' progress; the writer of that slot then appends to the part (a new member or
// frame). A resumed run keeps the output mode and part numbering of the run it continues, never
// removes or replaces a published file, and publishes the parts of slots that no longer have a
// writer (fewer writers than before) at Finish. Abort() keeps what a resumed run needs; the
// writer's Abort() cuts its current part back and deletes parts it never committed.
//
// At-least-once: Prepare() closes the current part and Commit() renames it into place (a part
// per checkpoint); no manifest, no progress; a resumed run numbers its parts after the
// published ones.
//
// Thread-safety: Open, Check, Finish, Abort, RecoverProgress and ForgetProgress on the
// coordinator thread; CreateWriter from any thread; each writer is used by one thread.
// Lifetime: writers share the plan with the sink (shared_ptr) and may outlive it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/api.h"
#include "connectors/file/file_manifest.h"
#include "connectors/file/file_options.h"

namespace sluice::connectors::file {

/// Where one stream's files go; fixed at Open and shared read-only with the writers.
/// The column that holds each row's operation ("insert", "update_before", "update_after",
/// "delete") in the files of a changelog stream: the first one.
inline constexpr std::string_view kOperationColumn = "_op";

struct OutputTarget {
  std::string stream;
  /// The columns written: the stream's, after kOperationColumn for a changelog.
  SchemaPtr schema;
  /// The stream is a changelog: each row is written after its operation (RowKindName).
  bool changelog = false;
  std::string directory;
  std::string path;        // the single file: prefix + stem + extensions
  std::string prefix;      // `path` up to its base name ("out/", or "" for a bare name)
  std::string stem;        // base name without extensions ("orders")
  std::string extensions;  // ".csv.gz"

  /// The file of part `part` of writer `slot` (the single file when `single`).
  std::string PartPath(int slot, int part, bool single) const;
  /// True when `name` (a directory entry) is an output of this target, finished or not.
  bool IsOutputName(std::string_view name) const;
  /// The (slot, part) of the finished part file `name` (<stem>-DDD-DDDDD<extensions>), if it is
  /// one.
  std::optional<std::pair<int, int>> ParsePartName(std::string_view name) const;
};

/// What Open decided; shared by the sink and its writers.
struct SinkPlan {
  FileSinkOptions options;
  /// The job's errors policy, for rows the format refuses (JobContext::bad_records).
  BadRecordHandler* bad_records = nullptr;
  FileFormat format = FileFormat::kCsv;
  io::Compression compression = io::Compression::kNone;
  bool single_file = true;
  std::vector<OutputTarget> targets;  // by stream index
  bool exactly_once = false;
  std::string job;
  /// Where the writers' manifests live (exactly-once).
  std::string manifest_directory;
  /// This run's number among the runs of the job (exactly-once; 1 for a fresh run).
  uint64_t generation = 1;
  /// The run epoch Claim() got (0 when the sink was not claimed): names the in-progress files
  /// this run creates, and fences its commits.
  uint64_t run_epoch = 0;
  /// Resumed runs: (stream index, slot) -> the first part number no published file has.
  std::map<std::pair<size_t, int>, int> first_free_part;
};

class FileSink final : public Sink {
 public:
  explicit FileSink(FileSinkOptions options);

  /// Resolves the format and the targets, creates the directories, checks that they are
  /// writable and applies `mode` to earlier outputs (fresh runs only).
  Status Open(const JobContext& context, const std::vector<StreamInfo>& streams) override;
  Status Check(const JobContext& context, const std::vector<StreamInfo>& streams,
               CheckReport* report) override;
  /// One writer when the output is a single file (also when a resumed run asks for more).
  int max_writers() const override;
  Result<std::unique_ptr<SinkWriter>> CreateWriter(int slot) override;
  /// Exactly-once: publishes every slot's parts, then deletes the manifests.
  Status Finish() override;
  /// Exactly-once: keeps the in-progress parts and manifests for a resumed run. At-least-once:
  /// deletes in-progress files.
  void Abort() override;
  DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kExactlyOnce; }
  /// Reads the job's manifests, rolls their commits forward, cuts in-progress parts back to
  /// their committed length, and returns the union of their progress.
  Result<std::vector<SplitProgress>> RecoverProgress(const JobContext& context) override;
  /// Deletes the job's manifests and the in-progress parts they name.
  Status ForgetProgress(const JobContext& context) override;
  /// Raises the job's run epoch in the run fence next to the manifests (file_manifest.h).
  Status Claim(const JobContext& context) override;

 private:
  Result<std::shared_ptr<SinkPlan>> Plan(const JobContext& context,
                                         const std::vector<StreamInfo>& streams) const;
  // Loads and recovers the job's manifests into recovered_.
  Status LoadAndRecover(const std::string& job);
  // Renames the current parts of `manifests` (recovered) to their final names, sealing first
  // those that need an end (Parquet's footer), then deletes the job's manifests; under the run
  // fence when the sink was claimed. `plan` gives the parts' formats and schemas.
  Status Publish(const SinkPlan& plan, std::vector<WriterManifest> manifests,
                 const std::string& job);
  Status PublishUnfenced(const SinkPlan& plan, std::vector<WriterManifest> manifests,
                         const std::string& job);
  // A run that took over from a run that may still write: continues every current part in a
  // copy of its committed bytes named after this run's epoch, and commits manifests naming the
  // copies, so that the earlier run's writes (and its aborting truncation) land in files no
  // longer used.
  Status MoveCurrentPartsToCopies(std::vector<WriterManifest>* manifests);

  FileSinkOptions options_;
  std::string manifest_directory_;
  std::shared_ptr<const SinkPlan> plan_;
  bool recovered_loaded_ = false;
  uint64_t generation_ = 1;
  uint64_t run_epoch_ = 0;   // from Claim
  bool took_over_ = false;   // JobContext::earlier_run_may_be_alive at Claim
  std::mutex mutex_;
  std::map<int, WriterManifest> recovered_;  // by slot; guarded by mutex_; taken by CreateWriter
};

}  // namespace sluice::connectors::file
