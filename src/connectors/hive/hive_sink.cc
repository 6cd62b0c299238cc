#include "connectors/hive/hive_sink.h"

#include <fmt/core.h>

#include <algorithm>
#include <limits>
#include <set>

#include "connectors/stream_naming.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "formats/avro/avro_schema.h"
#include "formats/writer/format_writer.h"
#include "io/file_system.h"

namespace sluice::connectors::hive {

namespace {

constexpr std::string_view kSuccessMarker = "_SUCCESS";

std::string Join(std::string_view directory, std::string_view name) {
  if (directory.empty())
    return std::string(name);
  return fmt::format("{}/{}", directory, name);
}

std::string SanitizedJob(std::string_view job) {
  std::string out;
  for (char c : job) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
    out.push_back(plain ? c : '_');
  }
  return out.empty() ? std::string("job") : out;
}

// The part number of `name` when it is a file of the job: <prefix><slot 3>-<part>.<ext>.
bool ParseFileName(std::string_view name, const HivePlan& plan, int* slot, int64_t* part) {
  if (name.substr(0, plan.file_prefix.size()) != plan.file_prefix)
    return false;
  std::string rest(name.substr(plan.file_prefix.size()));
  int parsed_slot = 0;
  long long parsed_part = 0;
  int consumed = 0;
  if (std::sscanf(rest.c_str(), "%3d-%lld%n", &parsed_slot, &parsed_part, &consumed) != 2)
    return false;
  if (rest.substr(static_cast<size_t>(consumed)) != plan.extension)
    return false;
  *slot = parsed_slot;
  *part = parsed_part;
  return true;
}

formats::FormatWriterOptions FormatOptionsOf(const HiveSinkOptions& options) {
  return options.format_options;
}

// Continues the committed file `entry` and ends it (Parquet's footer), commits and publishes it.
// A file published already (its staged state gone) is left as it is.
Status EndAndPublish(const HivePlan& plan, const HiveTarget& target, const OpenFileEntry& entry) {
  Result<std::unique_ptr<io::StagedFile>> file = target.store->Resume(entry.path, entry.file_state);
  if (!file.ok()) {
    SLUICE_ASSIGN_OR_RETURN(bool published, target.store->Exists(entry.path));
    if (published && file.status().code() == StatusCode::kNotFound)
      return Status::OK();
    return file.status();
  }
  SLUICE_ASSIGN_OR_RETURN(
      std::unique_ptr<formats::FormatWriter> writer,
      formats::ContinueFile(plan.options.format, FormatOptionsOf(plan.options),
                            target.partitioner.file_schema(), target.stream,
                            io::BaseName(entry.path), file->get(), entry.format_state));
  SLUICE_RETURN_IF_ERROR(writer->Finish());
  SLUICE_ASSIGN_OR_RETURN(std::string state, (*file)->Commit());
  SLUICE_RETURN_IF_ERROR((*file)->Close());
  return target.store->Publish(entry.path, state);
}

const HiveTarget* TargetOf(const HivePlan& plan, std::string_view stream) {
  for (const HiveTarget& target : plan.targets) {
    if (target.stream == stream)
      return &target;
  }
  return nullptr;
}

// Publishes what a committed manifest lists as complete, writes its due _SUCCESS markers and
// registers the partitions: what a commit does after its manifest, again after a crash.
Status RollForward(const HivePlan& plan, const SlotManifest& manifest,
                   std::map<std::string, std::unique_ptr<TableCatalog>>* catalogs) {
  std::map<std::string, std::set<std::string>> new_partitions;
  for (const PublishEntry& entry : manifest.publish) {
    const HiveTarget* target = TargetOf(plan, entry.stream);
    if (target == nullptr) {
      return Internal(fmt::format("'{}' belongs to stream '{}', which this job no longer has",
                                  entry.path, entry.stream));
    }
    SLUICE_RETURN_IF_ERROR(target->store->Publish(entry.path, entry.file_state));
    new_partitions[entry.stream].insert(entry.partition);
  }
  for (auto& [stream, partitions] : new_partitions) {
    const HiveTarget* target = TargetOf(plan, stream);
    std::unique_ptr<TableCatalog>& catalog = (*catalogs)[stream];
    if (!catalog) {
      SLUICE_ASSIGN_OR_RETURN(catalog, OpenTableCatalog(plan.options, target->table,
                                                        plan.manifest_store.get(), plan.job));
    }
    std::vector<std::string> list;
    for (const std::string& partition : partitions) {
      if (!partition.empty())
        list.push_back(partition);
    }
    if (!list.empty())
      SLUICE_RETURN_IF_ERROR(catalog->AddPartitions(list));
  }
  if (plan.options.success_marker) {
    for (const StreamPartition& due : manifest.success_due) {
      const HiveTarget* target = TargetOf(plan, due.stream);
      if (target != nullptr)
        SLUICE_RETURN_IF_ERROR(target->store->WriteFile(Join(due.partition, kSuccessMarker), ""));
    }
  }
  return Status::OK();
}

// One writer slot: per (stream, partition), the file being written.
class HiveSinkWriter final : public SinkWriter {
 public:
  HiveSinkWriter(std::shared_ptr<const HivePlan> plan, int slot,
                 std::optional<SlotManifest> adopted)
      : plan_(std::move(plan)), slot_(slot) {
    manifest_.job = plan_->job;
    manifest_.slot = slot_;
    manifest_.generation = plan_->generation;
    auto free = plan_->first_free_part.find(slot_);
    if (free != plan_->first_free_part.end())
      manifest_.next_part = free->second;
    if (adopted)
      Adopt(std::move(*adopted));
  }

  Status Write(const Batch& batch) override {
    if (batch.stream() < 0 || static_cast<size_t>(batch.stream()) >= plan_->targets.size())
      return Internal(fmt::format("batch for unknown stream {}", batch.stream()));
    const size_t index = static_cast<size_t>(batch.stream());
    const HiveTarget& target = plan_->targets[index];
    const HivePartitioner& partitioner = target.partitioner;
    const Batch& rows = partitioner.drops_columns() ? Project(batch, partitioner) : batch;
    size_t begin = 0;
    std::string partition;
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      if (partitioner.has_time()) {
        std::optional<int64_t> time = partitioner.TimeOf(batch, row);
        if (time)
          manifest_.watermark_us = std::max(manifest_.watermark_us, *time);
      }
      if (!partitioner.partitioned())
        continue;
      std::string row_partition = partitioner.PathOf(batch, row);
      if (row == 0) {
        partition = std::move(row_partition);
      } else if (row_partition != partition) {
        SLUICE_RETURN_IF_ERROR(WriteRun(index, partition, rows, begin, row));
        begin = row;
        partition = std::move(row_partition);
      }
    }
    if (begin < batch.num_rows())
      SLUICE_RETURN_IF_ERROR(WriteRun(index, partition, rows, begin, batch.num_rows()));
    return Status::OK();
  }

  Status Prepare() override {
    SLUICE_RETURN_IF_ERROR(CloseTimedOutFiles());
    for (auto& [key, file] : open_) {
      if (!file.dirty)
        continue;
      SLUICE_RETURN_IF_ERROR(file.format->Flush());
      SLUICE_ASSIGN_OR_RETURN(file.entry.file_state, file.staged->Commit());
      file.entry.format_state = file.format->CommitState();
      file.entry.bytes = file.base_bytes + file.format->bytes_written();
      file.dirty = false;
      changed_ = true;
    }
    return Status::OK();
  }

  Status Commit(const CommitContext& commit) override {
    SLUICE_RETURN_IF_ERROR(Prepare());  // a no-op when the runtime prepared
    if (!changed_ && commit.progress.empty())
      return Status::OK();
    for (const SplitProgress& entry : commit.progress) {
      progress_[entry.split_id] = SlotProgress{entry, plan_->generation, commit.checkpoint};
    }
    manifest_.open.clear();
    for (const auto& [key, file] : open_) {
      if (!file.entry.file_state.empty())
        manifest_.open.push_back(file.entry);
    }
    manifest_.progress.clear();
    for (const auto& [id, entry] : progress_)
      manifest_.progress.push_back(entry);
    for (const PublishEntry& entry : manifest_.publish) {
      StreamPartition partition{entry.stream, entry.partition};
      if (std::find(manifest_.published.begin(), manifest_.published.end(), partition) ==
          manifest_.published.end()) {
        manifest_.published.push_back(std::move(partition));
      }
    }
    // A later run's manifests sort after every manifest of an earlier one.
    manifest_.sequence = std::max(manifest_.sequence + 1, plan_->run_epoch << 32);
    SLUICE_FAILPOINT("hive.commit.before_manifest");
    SLUICE_RETURN_IF_ERROR(Fence());
    SLUICE_RETURN_IF_ERROR(WriteSlotManifest(plan_->manifest_store.get(), manifest_));
    SLUICE_FAILPOINT("hive.commit.after_manifest");
    for (auto& [key, file] : open_)
      file.committed = file.committed || !file.entry.file_state.empty();
    // Committed: what follows is rolled forward by the next run if it does not happen.
    if (!manifest_.publish.empty())
      SLUICE_RETURN_IF_ERROR(Fence());
    SLUICE_RETURN_IF_ERROR(RollForward(*plan_, manifest_, &catalogs_));
    SLUICE_FAILPOINT("hive.commit.after_publish");
    manifest_.publish.clear();
    manifest_.success_due.clear();
    changed_ = false;
    return Status::OK();
  }

  void Abort() override {
    // Committed files stay as a crash would leave them (the next run cuts them back); files
    // that no manifest names go.
    for (auto& [key, file] : open_) {
      std::string state = file.entry.file_state;
      file.format.reset();
      if (file.staged)
        (void)file.staged->Close();
      file.staged.reset();
      if (!file.committed && !state.empty())
        (void)plan_->targets[file.stream].store->Discard(file.entry.path, state);
    }
    open_.clear();
  }

 private:
  struct OpenFile {
    size_t stream = 0;
    OpenFileEntry entry;  // as of the last Prepare: what the next manifest names
    std::unique_ptr<io::StagedFile> staged;        // null until reopened after adoption
    std::unique_ptr<formats::FormatWriter> format;
    uint64_t base_bytes = 0;  // bytes of earlier runs in an adopted file
    std::optional<int64_t> time_start;
    // When this run started or took up the file (wall clock): roll_interval_secs counts from it.
    std::chrono::steady_clock::time_point opened_at;
    uint64_t last_used = 0;
    bool dirty = false;      // rows since the last Prepare
    bool committed = false;  // a committed manifest names it
  };
  using Key = std::pair<size_t, std::string>;

  Status Fence() const {
    if (plan_->run_epoch == 0)
      return Status::OK();
    return CheckStoreFence(plan_->manifest_store.get(), plan_->job, plan_->run_epoch);
  }

  const Batch& Project(const Batch& batch, const HivePartitioner& partitioner) {
    const size_t index = static_cast<size_t>(batch.stream());
    std::unique_ptr<Batch>& out = projected_[index];
    if (!out || out->capacity() < batch.num_rows())
      out = std::make_unique<Batch>(partitioner.file_schema(), batch.capacity());
    out->Clear();
    out->set_stream(batch.stream());
    const std::vector<int>& columns = partitioner.file_columns();
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      for (size_t c = 0; c < columns.size(); ++c)
        out->column(c).AppendFrom(batch.column(static_cast<size_t>(columns[c])), row);
      out->FinishRow();
    }
    return *out;
  }

  void Adopt(SlotManifest manifest) {
    manifest_.next_part = std::max(manifest_.next_part, manifest.next_part);
    manifest_.watermark_us = manifest.watermark_us;
    manifest_.sequence = manifest.sequence;
    manifest_.published = std::move(manifest.published);
    for (OpenFileEntry& entry : manifest.open) {
      size_t index = 0;
      while (index < plan_->targets.size() && plan_->targets[index].stream != entry.stream)
        ++index;
      if (index == plan_->targets.size())
        continue;  // Open refused a job without the stream
      OpenFile file;
      file.stream = index;
      file.base_bytes = entry.bytes;
      file.time_start = plan_->targets[index].partitioner.StartOfPath(entry.partition);
      file.committed = true;
      file.opened_at = plan_->options.clock();
      Key key{index, entry.partition};
      file.entry = std::move(entry);
      open_.emplace(std::move(key), std::move(file));
    }
    for (SlotProgress& entry : manifest.progress) {
      std::string id = entry.progress.split_id;
      progress_[id] = std::move(entry);
    }
  }

  Status WriteRun(size_t index, const std::string& partition, const Batch& rows, size_t begin,
                  size_t end) {
    SLUICE_ASSIGN_OR_RETURN(OpenFile * file, FileFor(index, partition, rows, begin));
    // A value the format cannot hold (a TIME past 24 h in Parquet) goes to the errors policy.
    SLUICE_ASSIGN_OR_RETURN(
        size_t kept, file->format->WriteRowsHandingOverRefused(
                         rows, begin, end, [&](size_t row, const Status& reason) {
                           return ReportRefusedRow(index, file->entry.path, rows, row, reason);
                         }));
    file->entry.rows += static_cast<int64_t>(kept);
    file->dirty = true;
    file->last_used = ++use_counter_;
    if (file->base_bytes + file->format->bytes_written() >=
        static_cast<uint64_t>(plan_->options.target_file_bytes)) {
      SLUICE_RETURN_IF_ERROR(EndFile(Key{index, partition}, false));
    }
    return KeepBuffersBounded();
  }

  Status ReportRefusedRow(size_t index, const std::string& path, const Batch& rows, size_t row,
                          const Status& reason) {
    BadRecord record =
        RefusedRow(plan_->targets[index].stream,
                   fmt::format("{} row {}", plan_->targets[index].store->Uri(path), row + 1), rows,
                   row, reason);
    if (plan_->bad_records == nullptr)
      return record.reason;
    return plan_->bad_records->Handle(record);
  }

  // Writes out the largest buffered row group while the open files hold more than
  // writer_buffer_bytes together. Its bytes are not committed until the next Prepare, as any.
  Status KeepBuffersBounded() {
    for (;;) {
      uint64_t total = 0;
      OpenFile* largest = nullptr;
      for (auto& [key, file] : open_) {
        if (!file.format)
          continue;
        uint64_t buffered = file.format->buffered_bytes();
        total += buffered;
        if (largest == nullptr || buffered > largest->format->buffered_bytes())
          largest = &file;
      }
      if (largest == nullptr ||
          total <= static_cast<uint64_t>(plan_->options.writer_buffer_bytes)) {
        return Status::OK();
      }
      SLUICE_RETURN_IF_ERROR(largest->format->Flush());
    }
  }

  Result<OpenFile*> FileFor(size_t index, const std::string& partition, const Batch& rows,
                            size_t row) {
    const HiveTarget& target = plan_->targets[index];
    auto found = open_.find(Key{index, partition});
    if (found != open_.end()) {
      OpenFile& file = found->second;
      if (!file.staged)
        SLUICE_RETURN_IF_ERROR(Reopen(&file));
      return &file;
    }
    if (static_cast<int>(open_.size()) >= plan_->options.max_open_files)
      SLUICE_RETURN_IF_ERROR(EndLeastRecentlyUsed());
    OpenFile file;
    file.stream = index;
    file.entry.stream = target.stream;
    file.entry.partition = partition;
    file.entry.part = manifest_.next_part++;
    std::string name = fmt::format("{}{:03}-{:05}{}", plan_->file_prefix, slot_, file.entry.part,
                                   plan_->extension);
    file.entry.path = Join(partition, name);
    file.opened_at = plan_->options.clock();
    file.time_start = target.partitioner.StartOfPath(partition);
    // A file for a partition that closed already holds late rows: it stays open a period.
    file.entry.opened_at_watermark = std::numeric_limits<int64_t>::min();
    if (file.time_start && manifest_.watermark_us >= target.partitioner.PartitionEnd(
                                                         *file.time_start) +
                                                         plan_->options.lateness_us) {
      file.entry.opened_at_watermark = manifest_.watermark_us;
    }
    SLUICE_ASSIGN_OR_RETURN(file.staged, target.store->Stage(file.entry.path,
                                                             fmt::format("g{}", plan_->generation)));
    SLUICE_ASSIGN_OR_RETURN(
        file.format, formats::StartFile(plan_->options.format, FormatOptionsOf(plan_->options),
                                        target.partitioner.file_schema(), target.stream, name,
                                        file.staged.get()));
    changed_ = true;
    auto [it, inserted] = open_.emplace(Key{index, partition}, std::move(file));
    return &it->second;
  }

  // Continues an adopted file after its committed bytes.
  Status Reopen(OpenFile* file) {
    const HiveTarget& target = plan_->targets[file->stream];
    SLUICE_ASSIGN_OR_RETURN(file->staged,
                            target.store->Resume(file->entry.path, file->entry.file_state));
    SLUICE_ASSIGN_OR_RETURN(
        file->format,
        formats::ContinueFile(plan_->options.format, FormatOptionsOf(plan_->options),
                              target.partitioner.file_schema(), target.stream,
                              io::BaseName(file->entry.path), file->staged.get(),
                              file->entry.format_state));
    return Status::OK();
  }

  // Ends the file of `key` (its footer), commits it to the store and queues it for publishing
  // at the next commit; `closes_partition` queues the partition's _SUCCESS too.
  Status EndFile(const Key& key, bool closes_partition) {
    auto found = open_.find(key);
    OpenFile& file = found->second;
    if (!file.staged)
      SLUICE_RETURN_IF_ERROR(Reopen(&file));
    SLUICE_RETURN_IF_ERROR(file.format->Finish());
    SLUICE_ASSIGN_OR_RETURN(std::string state, file.staged->Commit());
    SLUICE_RETURN_IF_ERROR(file.staged->Close());
    manifest_.publish.push_back(
        PublishEntry{file.entry.stream, file.entry.partition, file.entry.path, std::move(state)});
    if (closes_partition && plan_->options.success_marker)
      manifest_.success_due.push_back(StreamPartition{file.entry.stream, file.entry.partition});
    open_.erase(found);
    changed_ = true;
    return Status::OK();
  }

  Status EndLeastRecentlyUsed() {
    auto oldest = open_.begin();
    for (auto it = open_.begin(); it != open_.end(); ++it) {
      if (it->second.last_used < oldest->second.last_used)
        oldest = it;
    }
    return EndFile(oldest->first, false);
  }

  // A time partition closes once the watermark passed its end by `lateness`; a file of late
  // rows stays open one partition period of event time after it started. Any file ends
  // roll_interval_secs of wall clock after it started (a quiet stream's watermark stands still).
  Status CloseTimedOutFiles() {
    std::vector<Key> due;
    std::vector<Key> old;
    if (plan_->options.roll_interval_secs > 0) {
      auto now = plan_->options.clock();
      for (const auto& [key, file] : open_) {
        if (now - file.opened_at >= std::chrono::seconds(plan_->options.roll_interval_secs))
          old.push_back(key);
      }
    }
    for (const auto& [key, file] : open_) {
      if (!file.time_start)
        continue;
      const HivePartitioner& partitioner = plan_->targets[file.stream].partitioner;
      int64_t end = partitioner.PartitionEnd(*file.time_start);
      int64_t period = end - *file.time_start;
      int64_t close_at = end + plan_->options.lateness_us;
      if (file.entry.opened_at_watermark != std::numeric_limits<int64_t>::min())
        close_at = std::max(close_at, file.entry.opened_at_watermark + period);
      if (manifest_.watermark_us >= close_at)
        due.push_back(key);
    }
    for (const Key& key : due)
      SLUICE_RETURN_IF_ERROR(EndFile(key, true));
    for (const Key& key : old) {
      if (open_.count(key) != 0)
        SLUICE_RETURN_IF_ERROR(EndFile(key, false));
    }
    return Status::OK();
  }

  std::shared_ptr<const HivePlan> plan_;
  int slot_;
  SlotManifest manifest_;  // next_part, watermark, publish, success_due, published, sequence
  std::map<Key, OpenFile> open_;
  std::map<std::string, SlotProgress> progress_;  // every split this slot committed
  std::map<size_t, std::unique_ptr<Batch>> projected_;
  std::map<std::string, std::unique_ptr<TableCatalog>> catalogs_;  // by stream
  uint64_t use_counter_ = 0;
  bool changed_ = false;
};

}  // namespace

HiveSink::HiveSink(HiveSinkOptions options) : options_(std::move(options)) {}

Result<std::shared_ptr<io::FileStore>> HiveSink::ManifestStore() const {
  io::FileStoreOptions store = options_.store;
  size_t marker = store.location.find("{stream}");
  if (marker != std::string::npos) {
    size_t slash = store.location.rfind('/', marker);
    store.location = slash == std::string::npos ? "." : store.location.substr(0, slash);
  }
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<io::FileStore> opened, io::OpenFileStore(store));
  return std::shared_ptr<io::FileStore>(std::move(opened));
}

Result<std::shared_ptr<HivePlan>> HiveSink::Plan(const JobContext& context,
                                                 const std::vector<StreamInfo>& streams) const {
  auto plan = std::make_shared<HivePlan>();
  plan->options = options_;
  plan->job = context.job_name;
  plan->file_prefix = SanitizedJob(context.job_name) + "-";
  plan->extension = options_.format == formats::FileFormat::kAvro ? ".avro" : ".parquet";
  if (streams.size() > 1 && options_.store.location.find("{stream}") == std::string::npos) {
    return InvalidConfig(fmt::format(
        "the source has {} streams: 'location' must contain {{stream}} to give each a table of "
        "its own (e.g. s3://bucket/warehouse/{{stream}})",
        streams.size()));
  }
  SLUICE_ASSIGN_OR_RETURN(plan->manifest_store, ManifestStore());
  for (const StreamInfo& stream : streams) {
    if (stream.changelog) {
      return InvalidConfig(fmt::format(
          "stream '{}' is a changelog (updates and deletes): a Hive table of files holds rows "
          "that are only added; write it with the file sink (an _op column) or to a database",
          stream.name));
    }
    Result<HivePartitioner> partitioner = HivePartitioner::Make(stream.schema, options_);
    if (!partitioner.ok())
      return partitioner.status().WithContext(fmt::format("stream '{}'", stream.name));
    HiveTarget target{stream.name, std::move(*partitioner), nullptr, {}};
    io::FileStoreOptions store = options_.store;
    store.location = ExpandStreamName(options_.store.location, stream.name);
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<io::FileStore> opened, io::OpenFileStore(store));
    target.store = std::move(opened);
    if (options_.format == formats::FileFormat::kAvro) {
      SLUICE_RETURN_IF_ERROR(
          formats::AvroSchemaOf(*target.partitioner.file_schema(), stream.name)
              .status()
              .WithContext(fmt::format("stream '{}'", stream.name)));
    }
    target.table.database = options_.database;
    target.table.table =
        options_.table.empty() ? stream.name : ExpandStreamName(options_.table, stream.name);
    target.table.file_schema = target.partitioner.file_schema();
    target.table.partition_keys = target.partitioner.keys();
    target.table.format = options_.format;
    target.table.location = options_.table_location.empty()
                                ? target.store->Uri("")
                                : ExpandStreamName(options_.table_location, stream.name);
    // A local directory as Hive names one.
    if (target.table.location.starts_with("/"))
      target.table.location = "file:" + target.table.location;
    plan->targets.push_back(std::move(target));
  }
  return plan;
}

Status HiveSink::Claim(const JobContext& context) {
  if (context.run_epoch == 0)
    return Status::OK();
  // Only a check here: the epoch is stored before the run's first write (EnsureClaimed).
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<io::FileStore> store, ManifestStore());
  SLUICE_ASSIGN_OR_RETURN(uint64_t current, StoredFenceEpoch(store.get(), context.job_name));
  if (current > context.run_epoch) {
    return FencedOff(context.job_name, fmt::format("the table at '{}'", store->Uri("")),
                     context.run_epoch, current);
  }
  run_epoch_ = context.run_epoch;
  fence_written_ = false;
  return Status::OK();
}

Status HiveSink::EnsureClaimed(const std::string& job) {
  if (run_epoch_ == 0 || fence_written_)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<io::FileStore> store, ManifestStore());
  SLUICE_RETURN_IF_ERROR(ClaimStoreFence(store.get(), job, run_epoch_));
  fence_written_ = true;
  return Status::OK();
}

Status HiveSink::LoadAndRecover(const std::string& job, const std::vector<StreamInfo>* streams) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<io::FileStore> store, ManifestStore());
  SLUICE_ASSIGN_OR_RETURN(auto manifests,
                          LoadSlotManifests(store.get(), job));
  uint64_t generation = 0;
  for (const auto& [slot, manifest] : manifests)
    generation = std::max(generation, manifest.generation);
  std::lock_guard<std::mutex> lock(mutex_);
  recovered_ = std::move(manifests);
  generation_ = generation + 1;
  recovered_loaded_ = true;
  return Status::OK();
}

Result<std::vector<SplitProgress>> HiveSink::RecoverProgress(const JobContext& context) {
  SLUICE_RETURN_IF_ERROR(EnsureClaimed(context.job_name));
  SLUICE_RETURN_IF_ERROR(LoadAndRecover(context.job_name, nullptr));
  std::lock_guard<std::mutex> lock(mutex_);
  return MergeSlotProgress(recovered_);
}

Status HiveSink::ForgetProgress(const JobContext& context) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<io::FileStore> store, ManifestStore());
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          store->List(ManifestDirectory(context.job_name)));
  bool any_manifest = false;
  for (const std::string& name : names)
    any_manifest = any_manifest || name.starts_with("slot-") || name.starts_with(".slot-");
  if (any_manifest) {
    // The staged files they name go with the stores' other leftovers at Open.
    SLUICE_RETURN_IF_ERROR(EnsureClaimed(context.job_name));
    SLUICE_RETURN_IF_ERROR(RemoveSlotManifests(store.get(), context.job_name));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  recovered_.clear();
  recovered_loaded_ = false;
  generation_ = 1;
  return Status::OK();
}

Status HiveSink::CheckFreshStart(const JobContext& context,
                                 const std::vector<StreamInfo>& streams) {
  if (options_.mode == TableMode::kOverwrite)
    return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<io::FileStore> store, ManifestStore());
  SLUICE_ASSIGN_OR_RETURN(auto manifests, LoadSlotManifests(store.get(), context.job_name));
  for (const auto& [slot, manifest] : manifests) {
    if (!manifest.progress.empty()) {
      return InvalidConfig(fmt::format(
          "job '{}' was interrupted after committing rows to the table at '{}': a fresh run would "
          "add them again. Resume it (run without --fresh), or set mode: overwrite to replace "
          "the files this job wrote",
          context.job_name, store->Uri("")));
    }
  }
  return Status::OK();
}

Status HiveSink::ApplyMode(HivePlan* plan) {
  for (const HiveTarget& target : plan->targets) {
    // Depth-first over the partition directories (names ending in '/').
    std::vector<std::string> pending = {""};
    std::vector<std::string> files;
    while (!pending.empty()) {
      std::string directory = std::move(pending.back());
      pending.pop_back();
      SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, target.store->List(directory));
      for (const std::string& name : names) {
        if (name.empty() || name[0] == '_' || name[0] == '.')
          continue;  // _sluice, _SUCCESS, hidden files
        if (name.back() == '/') {
          pending.push_back(Join(directory, name.substr(0, name.size() - 1)));
          continue;
        }
        int slot = 0;
        int64_t part = 0;
        if (ParseFileName(name, *plan, &slot, &part)) {
          files.push_back(Join(directory, name));
          int64_t& free = plan->first_free_part[slot];
          free = std::max(free, part + 1);
        }
      }
    }
    if (files.empty())
      continue;
    if (options_.mode == TableMode::kErrorIfExists) {
      return InvalidConfig(fmt::format(
          "the table at '{}' holds {} file(s) of job '{}' already, e.g. '{}' (mode: "
          "error_if_exists)",
          target.store->Uri(""), files.size(), plan->job, files.front()));
    }
    if (options_.mode == TableMode::kOverwrite) {
      for (const std::string& file : files)
        SLUICE_RETURN_IF_ERROR(target.store->Delete(file));
      plan->first_free_part.clear();
      log::Info(fmt::format("sink:hive:{}", target.stream),
                "Deleted {} file(s) an earlier run of job '{}' wrote (mode: overwrite)",
                files.size(), plan->job);
    }
  }
  return Status::OK();
}

Status HiveSink::Open(const JobContext& context, const std::vector<StreamInfo>& streams) {
  if (context.delivery != DeliveryGuarantee::kExactlyOnce) {
    log::Info(fmt::format("sink:hive:{}", context.job_name),
              "The hive sink commits exactly once whatever delivery asks for: it costs nothing "
              "more here");
  }
  if (context.resuming) {
    if (!recovered_loaded_)
      SLUICE_RETURN_IF_ERROR(LoadAndRecover(context.job_name, &streams));
  } else {
    SLUICE_RETURN_IF_ERROR(ForgetProgress(context));
  }
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<HivePlan> plan, Plan(context, streams));
  std::map<int, SlotManifest> recovered;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    recovered = recovered_;
    plan->generation = generation_;
  }
  plan->run_epoch = run_epoch_;
  plan->bad_records = context.bad_records;
  // The job is valid: from here on the run writes to the store.
  SLUICE_RETURN_IF_ERROR(EnsureClaimed(plan->job));
  if (run_epoch_ != 0)
    SLUICE_RETURN_IF_ERROR(CheckStoreFence(plan->manifest_store.get(), plan->job, run_epoch_));
  if (recovered.empty())
    SLUICE_RETURN_IF_ERROR(ApplyMode(plan.get()));
  for (const HiveTarget& target : plan->targets) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<TableCatalog> catalog,
                            OpenTableCatalog(options_, target.table, plan->manifest_store.get(),
                                             plan->job));
    SLUICE_RETURN_IF_ERROR(catalog->RegisterTable().WithContext(
        fmt::format("registering table '{}.{}'", target.table.database, target.table.table)));
  }
  if (context.resuming && context.earlier_run_may_be_alive)
    SLUICE_RETURN_IF_ERROR(ForkOpenFiles(*plan, &recovered));
  // Roll forward what the last commits published, then drop staged files no manifest names:
  // they hold rows after the last commit, which the source replays.
  std::map<std::string, std::unique_ptr<TableCatalog>> catalogs;
  std::set<std::pair<std::string, std::string>> referenced;  // (stream, path)
  for (auto& [slot, manifest] : recovered) {
    for (const OpenFileEntry& entry : manifest.open) {
      if (TargetOf(*plan, entry.stream) == nullptr) {
        return InvalidConfig(fmt::format(
            "the job's last run wrote stream '{}', which the source no longer has: run with "
            "--fresh",
            entry.stream));
      }
      referenced.emplace(entry.stream, entry.path);
    }
    SLUICE_RETURN_IF_ERROR(RollForward(*plan, manifest, &catalogs));
    manifest.publish.clear();
    manifest.success_due.clear();
  }
  for (const HiveTarget& target : plan->targets) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<io::StagedEntry> staged,
                            target.store->ListStaged("", plan->file_prefix));
    for (const io::StagedEntry& entry : staged) {
      if (referenced.count({target.stream, entry.path}) != 0)
        continue;
      log::Debug(fmt::format("sink:hive:{}", target.stream),
                 "Dropping '{}', staged after the last commit", entry.path);
      SLUICE_RETURN_IF_ERROR(target.store->Discard(entry.path, entry.state));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    recovered_ = std::move(recovered);
  }
  plan_ = std::move(plan);
  return Status::OK();
}

Status HiveSink::ForkOpenFiles(const HivePlan& plan, std::map<int, SlotManifest>* recovered) {
  for (auto& [slot, manifest] : *recovered) {
    if (manifest.open.empty())
      continue;
    for (OpenFileEntry& entry : manifest.open) {
      const HiveTarget* target = TargetOf(plan, entry.stream);
      if (target == nullptr)
        continue;  // refused above
      SLUICE_ASSIGN_OR_RETURN(entry.file_state,
                              target->store->Fork(entry.path, entry.file_state,
                                                  fmt::format("g{}", plan.generation)));
      log::Info(fmt::format("sink:hive:{}", entry.stream),
                "Continuing '{}' in a file of this run's: the run this one took over may still "
                "write to its own",
                entry.path);
    }
    // Committed before anything else: a crash from here on resumes the forks.
    manifest.sequence = std::max(manifest.sequence + 1, plan.run_epoch << 32);
    SLUICE_RETURN_IF_ERROR(WriteSlotManifest(plan.manifest_store.get(), manifest));
  }
  return Status::OK();
}

Status HiveSink::Check(const JobContext& context, const std::vector<StreamInfo>& streams,
                       CheckReport* report) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<HivePlan> plan, Plan(context, streams));
  for (const HiveTarget& target : plan->targets) {
    std::string layout = "unpartitioned";
    for (size_t k = 0; k < target.table.partition_keys.size(); ++k) {
      layout = fmt::format("{}{}", k == 0 ? "partitioned by " : layout + ", ",
                           target.table.partition_keys[k]);
    }
    report->Note(fmt::format("stream '{}' would be written to {} as {} files, {}", target.stream,
                             target.store->Uri(""),
                             plan->extension.substr(1), layout));
    if (options_.metastore_uri.empty()) {
      report->Note(fmt::format(
          "no metastore: the DDL goes to {}",
          plan->manifest_store->Uri(ManifestDirectory(plan->job) + target.table.table + ".sql")));
    } else {
      report->Note(fmt::format("table {}.{} would be registered in {}", target.table.database,
                               target.table.table, options_.metastore_uri));
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<SinkWriter>> HiveSink::CreateWriter(int slot) {
  if (!plan_)
    return Internal("HiveSink::CreateWriter before Open");
  std::optional<SlotManifest> adopted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = recovered_.find(slot);
    if (found != recovered_.end()) {
      adopted = std::move(found->second);
      recovered_.erase(found);
    }
  }
  return std::unique_ptr<SinkWriter>(new HiveSinkWriter(plan_, slot, std::move(adopted)));
}

Status HiveSink::Finish() {
  if (!plan_)
    return Internal("HiveSink::Finish before Open");
  if (run_epoch_ != 0)
    SLUICE_RETURN_IF_ERROR(CheckStoreFence(plan_->manifest_store.get(), plan_->job, run_epoch_));
  // From the store: every slot's last commit, including slots no writer of this run took.
  SLUICE_ASSIGN_OR_RETURN(auto manifests,
                          LoadSlotManifests(plan_->manifest_store.get(), plan_->job));
  std::map<std::string, std::unique_ptr<TableCatalog>> catalogs;
  std::set<StreamPartition> written;
  for (auto& [slot, manifest] : manifests) {
    SLUICE_RETURN_IF_ERROR(RollForward(*plan_, manifest, &catalogs));
    for (const OpenFileEntry& entry : manifest.open) {
      const HiveTarget* target = TargetOf(*plan_, entry.stream);
      if (target == nullptr)
        return Internal(fmt::format("'{}' belongs to stream '{}'", entry.path, entry.stream));
      SLUICE_RETURN_IF_ERROR(EndAndPublish(*plan_, *target, entry)
                                 .WithContext(fmt::format("ending '{}'", entry.path)));
      written.insert(StreamPartition{entry.stream, entry.partition});
    }
    for (const StreamPartition& partition : manifest.published)
      written.insert(partition);
  }
  for (const HiveTarget& target : plan_->targets) {
    std::vector<std::string> partitions;
    for (const StreamPartition& partition : written) {
      if (partition.stream == target.stream && !partition.partition.empty())
        partitions.push_back(partition.partition);
    }
    std::unique_ptr<TableCatalog>& catalog = catalogs[target.stream];
    if (!catalog) {
      SLUICE_ASSIGN_OR_RETURN(catalog, OpenTableCatalog(options_, target.table,
                                                        plan_->manifest_store.get(), plan_->job));
    }
    if (!partitions.empty())
      SLUICE_RETURN_IF_ERROR(catalog->AddPartitions(partitions));
    if (!options_.success_marker)
      continue;
    for (const std::string& partition : partitions)
      SLUICE_RETURN_IF_ERROR(target.store->WriteFile(Join(partition, kSuccessMarker), ""));
    // The table's root too: every partition of this run is complete.
    SLUICE_RETURN_IF_ERROR(target.store->WriteFile(std::string(kSuccessMarker), ""));
  }
  SLUICE_FAILPOINT("hive.finish.before_remove_manifests");
  return RemoveSlotManifests(plan_->manifest_store.get(), plan_->job);
}

}  // namespace sluice::connectors::hive
