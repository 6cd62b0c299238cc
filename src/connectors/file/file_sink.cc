#include "connectors/file/file_sink.h"

#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "connectors/file/part_file.h"
#include "connectors/stream_naming.h"
#include "core/failpoint.h"
#include "core/logging.h"
#include "formats/avro/avro_schema.h"
#include "formats/writer/format_writer.h"
#include "io/file_system.h"

namespace sluice::connectors::file {

namespace {

constexpr std::string_view kInProgress = ".inprogress";

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool AllDigits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
  }
  return true;
}

std::string ReplaceStream(std::string_view path, std::string_view stream) {
  return ExpandStreamName(path, stream);
}

OutputTarget MakeTarget(const std::string& path, const StreamInfo& stream) {
  OutputTarget target;
  target.stream = stream.name;
  target.schema = stream.schema;
  if (stream.changelog) {
    target.changelog = true;
    std::vector<Field> fields;
    fields.push_back(Field{std::string(kOperationColumn), DataType::String(), false});
    for (const Field& field : stream.schema->fields())
      fields.push_back(field);
    std::vector<int> key;
    for (int index : stream.schema->primary_key())
      key.push_back(index + 1);
    target.schema = std::make_shared<Schema>(std::move(fields), std::move(key));
  }
  target.path = path;
  target.directory = io::ParentDirectory(path);
  std::string_view base = io::BaseName(path);
  target.prefix = path.substr(0, path.size() - base.size());
  std::string_view stripped = io::StripCompressionExtension(base);
  std::string_view compression_extension = base.substr(stripped.size());
  size_t dot = stripped.find_last_of('.');
  if (dot == std::string_view::npos || dot == 0)
    dot = stripped.size();
  target.stem = std::string(stripped.substr(0, dot));
  target.extensions = std::string(stripped.substr(dot)) + std::string(compression_extension);
  return target;
}

using formats::FormatWriter;

formats::FormatWriterOptions FormatOptionsOf(const SinkPlan& plan) {
  formats::FormatWriterOptions options;
  options.dialect = plan.options.dialect;
  options.csv_header = plan.options.header;
  options.avro_codec = plan.options.avro_codec;
  options.parquet_compression = plan.options.parquet_compression;
  options.row_group_bytes = static_cast<size_t>(plan.options.row_group_bytes);
  return options;
}

// The format writer of the part `final_path` of `target`, over the part's stream: a new part
// (its header written) or, given its CurrentPart::format_state, a continued one.
Result<std::unique_ptr<FormatWriter>> MakePartWriter(const SinkPlan& plan,
                                                     const OutputTarget& target,
                                                     const std::string& final_path,
                                                     io::OutputStream* output,
                                                     const std::string* resume_state) {
  if (resume_state != nullptr) {
    return formats::ContinueFile(plan.format, FormatOptionsOf(plan), target.schema,
                                 target.stream, io::BaseName(final_path), output, *resume_state);
  }
  return formats::StartFile(plan.format, FormatOptionsOf(plan), target.schema, target.stream,
                            io::BaseName(final_path), output);
}

// One writer slot: per stream, the part being written and the parts that rolled since the last
// Commit(). See file_sink.h for the two delivery modes.
class FileSinkWriter final : public SinkWriter {
 public:
  FileSinkWriter(std::shared_ptr<const SinkPlan> plan, int slot,
                 std::optional<WriterManifest> adopted)
      : plan_(std::move(plan)), slot_(slot), streams_(plan_->targets.size()) {
    for (size_t i = 0; i < streams_.size(); ++i) {
      auto free = plan_->first_free_part.find({i, slot_});
      if (free != plan_->first_free_part.end())
        streams_[i].next_part = free->second;
    }
    if (adopted)
      Adopt(std::move(*adopted));
  }

  ~FileSinkWriter() override {
    // Exactly-once leaves the files as a crash would: the next run's recovery cuts them back.
    if (!plan_->exactly_once)
      Abort();
  }

  Status Write(const Batch& batch) override {
    if (batch.stream() < 0 || static_cast<size_t>(batch.stream()) >= streams_.size()) {
      return Internal(fmt::format("batch for unknown stream {}", batch.stream()));
    }
    const size_t index = static_cast<size_t>(batch.stream());
    if (plan_->targets[index].changelog)
      return WriteRows(WithOperations(batch, index));
    return WriteRows(batch);
  }

  // A changelog batch as written: its operation, then its columns.
  const Batch& WithOperations(const Batch& batch, size_t index) {
    std::unique_ptr<Batch>& out = streams_[index].with_operations;
    if (!out || out->capacity() < batch.num_rows())
      out = std::make_unique<Batch>(plan_->targets[index].schema, batch.capacity());
    out->Clear();
    out->set_stream(batch.stream());
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      out->column(0).AppendViewNoCopy(RowKindName(batch.row_kind(row)));  // static text
      for (size_t c = 0; c < batch.num_columns(); ++c)
        out->column(c + 1).AppendFrom(batch.column(c), row);
      out->FinishRow();
    }
    return *out;
  }

  Status WriteRows(const Batch& batch) {
    const size_t index = static_cast<size_t>(batch.stream());
    StreamState& state = streams_[index];
    const FileSinkOptions& options = plan_->options;
    size_t row = 0;
    while (row < batch.num_rows()) {
      if (!state.file)
        SLUICE_RETURN_IF_ERROR(OpenPart(index));
      size_t end = batch.num_rows();
      if (options.roll_rows > 0) {
        end = std::min(end, row + static_cast<size_t>(options.roll_rows - state.rows_in_part));
      }
      if (options.roll_bytes > 0) {
        // Row by row, so that a part ends on the first row that takes it past the limit.
        // At least one row per part, however long the header.
        while (row < end && (state.rows_in_part == 0 ||
                             TextBytes(state) < static_cast<uint64_t>(options.roll_bytes))) {
          SLUICE_ASSIGN_OR_RETURN(size_t kept, WriteOrHandOver(index, batch, row, row + 1));
          ++row;
          state.rows_in_part += static_cast<int64_t>(kept);
        }
      } else {
        SLUICE_ASSIGN_OR_RETURN(size_t kept, WriteOrHandOver(index, batch, row, end));
        state.rows_in_part += static_cast<int64_t>(kept);
        row = end;
      }
      changed_ = true;
      bool full_rows = options.roll_rows > 0 && state.rows_in_part >= options.roll_rows;
      bool full_bytes =
          options.roll_bytes > 0 && TextBytes(state) >= static_cast<uint64_t>(options.roll_bytes);
      if (full_rows || full_bytes)
        SLUICE_RETURN_IF_ERROR(ClosePart(index));
    }
    return Status::OK();
  }

  // Writes rows [begin, end) to the stream's part; a row whose value the format cannot hold (a
  // TIME past 24 h in Parquet) goes to the job's errors policy. Returns the rows written.
  Result<size_t> WriteOrHandOver(size_t index, const Batch& batch, size_t begin, size_t end) {
    StreamState& state = streams_[index];
    return state.format->WriteRowsHandingOverRefused(
        batch, begin, end, [&](size_t row, const Status& reason) -> Status {
          BadRecord record =
              RefusedRow(plan_->targets[index].stream,
                         fmt::format("{} row {}", state.final_path, row + 1), batch, row, reason);
          if (plan_->bad_records == nullptr)
            return record.reason;
          return plan_->bad_records->Handle(record);
        });
  }

  Status Prepare() override {
    for (size_t i = 0; i < streams_.size(); ++i) {
      StreamState& state = streams_[i];
      // A single-file job writes its file even without rows (a CSV header, or nothing); not
      // when a resumed run finds it published already (next_part > 0).
      if (!state.file && !state.committed && plan_->single_file && state.next_part == 0) {
        SLUICE_RETURN_IF_ERROR(OpenPart(i));
      }
      if (!state.file)
        continue;
      if (!plan_->exactly_once) {
        SLUICE_RETURN_IF_ERROR(ClosePart(i));
        continue;
      }
      // End the member or frame so that the committed length is a valid file, and make it
      // durable before the manifest says so.
      SLUICE_RETURN_IF_ERROR(state.format->Flush());
      SLUICE_RETURN_IF_ERROR(state.file->EndSegment());
      SLUICE_RETURN_IF_ERROR(state.file->Sync());
    }
    return Status::OK();
  }

  Status Commit(const CommitContext& commit) override {
    if (!plan_->exactly_once)
      return PublishClosedParts();
    SLUICE_RETURN_IF_ERROR(Prepare());  // a no-op when the runtime prepared
    if (!changed_ && commit.progress.empty())
      return Status::OK();
    // Files created since the last commit must survive a power loss before the manifest names
    // them.
    for (const std::string& directory : created_in_)
      SLUICE_RETURN_IF_ERROR(io::SyncDirectory(directory));
    created_in_.clear();
    for (const SplitProgress& entry : commit.progress) {
      progress_[entry.split_id] = TaggedProgress{entry, plan_->generation, commit.checkpoint};
    }
    WriterManifest manifest = BuildManifest();
    SLUICE_FAILPOINT("file.commit.before_manifest");
    if (plan_->run_epoch != 0) {
      SLUICE_RETURN_IF_ERROR(CommitUnderRunFence(
          plan_->manifest_directory, plan_->job, plan_->run_epoch,
          [&] { return WriteManifest(plan_->manifest_directory, manifest); }));
    } else {
      SLUICE_RETURN_IF_ERROR(WriteManifest(plan_->manifest_directory, manifest));
    }
    SLUICE_FAILPOINT("file.commit.after_manifest");
    // Committed. The renames below are rolled forward by recovery if they do not happen.
    for (size_t i = 0; i < streams_.size(); ++i) {
      streams_[i].committed = manifest.streams[i].current;
      for (Closed& closed : streams_[i].closed)
        closed.listed = true;
    }
    changed_ = false;
    return PublishClosedParts();
  }

  void Abort() override {
    for (StreamState& state : streams_) {
      state.format.reset();
      if (state.file) {
        std::unique_ptr<PartFile> file = std::move(state.file);
        if (plan_->exactly_once && state.committed && state.committed->path == state.final_path) {
          // Committed up to its recorded length: keep that for a resumed run.
          if (file->length() != state.committed->length)
            (void)file->Truncate(state.committed->length);
        } else {
          std::string path = file->path();
          file.reset();
          (void)io::RemoveFile(path);
        }
      }
      for (const Closed& closed : state.closed) {
        const std::string& in_progress = closed.file;
        if (!plan_->exactly_once) {
          (void)io::RemoveFile(in_progress);
        } else if (closed.listed) {
          continue;  // committed; its rename is rolled forward by the next run
        } else if (closed.committed_length) {
          (void)TruncateFile(in_progress, *closed.committed_length);
        } else {
          (void)io::RemoveFile(in_progress);
        }
      }
      state.closed.clear();
    }
  }

 private:
  struct Closed {
    std::string final_path;
    std::string file;  // the in-progress file
    // Listed as complete in the manifest on disk: committed, only the rename may be missing.
    bool listed = false;
    // When the part rolled after a commit named it the current part: its committed length.
    std::optional<uint64_t> committed_length;
  };
  struct StreamState {
    std::unique_ptr<PartFile> file;
    std::unique_ptr<FormatWriter> format;  // writes to file->stream()
    std::string final_path;
    int part = 0;
    int64_t rows_in_part = 0;
    uint64_t text_base = 0;  // text bytes earlier runs wrote to a reopened part
    int next_part = 0;
    // Exactly-once: the current part as the manifest on disk records it (open or not yet
    // reopened by this run).
    std::optional<CurrentPart> committed;
    std::vector<Closed> closed;  // rolled (or, at-least-once, prepared), not yet renamed
    std::unique_ptr<Batch> with_operations;  // changelog: the rows as written, reused
  };

  static uint64_t TextBytes(const StreamState& state) {
    return state.text_base + state.format->bytes_written();
  }

  void Adopt(WriterManifest manifest) {
    for (StreamManifest& stream : manifest.streams) {
      size_t index = 0;
      while (index < plan_->targets.size() && plan_->targets[index].stream != stream.stream)
        ++index;
      if (index == plan_->targets.size()) {
        foreign_.push_back(std::move(stream));  // kept as it is, published at Finish
        continue;
      }
      StreamState& state = streams_[index];
      state.next_part = std::max(state.next_part, stream.next_part);
      state.committed = std::move(stream.current);
      // Recovery renamed the complete parts already.
    }
    for (TaggedProgress& entry : manifest.progress) {
      std::string id = entry.progress.split_id;
      progress_[id] = std::move(entry);
    }
  }

  Status OpenPart(size_t index) {
    StreamState& state = streams_[index];
    const OutputTarget& target = plan_->targets[index];
    if (state.committed) {
      // Continue the part an earlier run committed, after its committed bytes.
      const CurrentPart& current = *state.committed;
      SLUICE_ASSIGN_OR_RETURN(state.file,
                              PartFile::Reopen(current.file, plan_->compression, current.length));
      state.final_path = current.path;
      state.part = current.part;
      state.rows_in_part = current.rows;
      state.text_base = current.text_bytes;
      SLUICE_ASSIGN_OR_RETURN(state.format,
                              MakePartWriter(*plan_, target, state.final_path,
                                             state.file->stream(), &current.format_state));
      return Status::OK();
    }
    state.part = state.next_part++;
    state.final_path = target.PartPath(slot_, state.part, plan_->single_file && state.part == 0);
    SLUICE_ASSIGN_OR_RETURN(
        state.file,
        PartFile::Create(InProgressPath(state.final_path, plan_->run_epoch), plan_->compression));
    created_in_.insert(target.directory);
    changed_ = true;
    state.rows_in_part = 0;
    state.text_base = 0;
    SLUICE_ASSIGN_OR_RETURN(state.format, MakePartWriter(*plan_, target, state.final_path,
                                                         state.file->stream(), nullptr));
    return Status::OK();
  }

  // Ends the current part: it waits, complete, for the next Commit() to publish it.
  Status ClosePart(size_t index) {
    StreamState& state = streams_[index];
    SLUICE_RETURN_IF_ERROR(state.format->Finish());
    state.format.reset();
    SLUICE_RETURN_IF_ERROR(state.file->Close());
    Closed closed{state.final_path, state.file->path()};
    state.file.reset();
    if (state.committed && state.committed->path == state.final_path) {
      closed.committed_length = state.committed->length;
    }
    state.committed.reset();
    state.closed.push_back(std::move(closed));
    changed_ = true;
    return Status::OK();
  }

  // Renames the closed parts into place and makes the renames durable. At-least-once this is
  // the commit itself: fenced, so that a run taken over never replaces a newer run's part.
  Status PublishClosedParts() {
    if (!plan_->exactly_once && plan_->run_epoch != 0) {
      return CommitUnderRunFence(plan_->manifest_directory, plan_->job, plan_->run_epoch,
                                 [this] { return RenameClosedParts(); });
    }
    return RenameClosedParts();
  }

  Status RenameClosedParts() {
    for (size_t i = 0; i < streams_.size(); ++i) {
      StreamState& state = streams_[i];
      if (state.closed.empty())
        continue;
      for (const Closed& part : state.closed) {
        SLUICE_RETURN_IF_ERROR(io::RenameFile(part.file, part.final_path));
      }
      state.closed.clear();
      SLUICE_RETURN_IF_ERROR(io::SyncDirectory(plan_->targets[i].directory));
    }
    return Status::OK();
  }

  WriterManifest BuildManifest() const {
    WriterManifest manifest;
    manifest.job = plan_->job;
    manifest.slot = slot_;
    manifest.generation = plan_->generation;
    manifest.epoch = plan_->run_epoch;
    manifest.single_file = plan_->single_file;
    for (size_t i = 0; i < streams_.size(); ++i) {
      const StreamState& state = streams_[i];
      StreamManifest stream;
      stream.stream = plan_->targets[i].stream;
      stream.next_part = state.next_part;
      for (const Closed& closed : state.closed)
        stream.complete.push_back(CompletePart{closed.final_path, closed.file});
      if (state.file) {
        stream.current =
            CurrentPart{state.final_path,     state.file->path(),    state.part,
                        state.file->length(), state.rows_in_part,    TextBytes(state),
                        state.format->CommitState()};
      } else {
        stream.current = state.committed;
      }
      manifest.streams.push_back(std::move(stream));
    }
    manifest.streams.insert(manifest.streams.end(), foreign_.begin(), foreign_.end());
    for (const auto& [id, entry] : progress_)
      manifest.progress.push_back(entry);
    return manifest;
  }

  std::shared_ptr<const SinkPlan> plan_;
  int slot_;
  std::vector<StreamState> streams_;
  // Exactly-once only:
  std::map<std::string, TaggedProgress> progress_;  // every split this slot committed
  std::vector<StreamManifest> foreign_;             // adopted streams this run does not write
  std::set<std::string> created_in_;  // directories with files created since the last commit
  bool changed_ = false;              // rows or parts since the last commit
};

}  // namespace

std::string OutputTarget::PartPath(int slot, int part, bool single) const {
  if (single)
    return path;
  return fmt::format("{}{}-{:03}-{:05}{}", prefix, stem, slot, part, extensions);
}

bool OutputTarget::IsOutputName(std::string_view name) const {
  if (std::optional<std::string_view> final_name = FinalNameOfInProgress(name))
    name = *final_name;
  if (name == io::BaseName(path))
    return true;
  // <stem>-DDD-DDDDD<extensions>
  if (name.size() != stem.size() + 10 + extensions.size())
    return false;
  if (name.substr(0, stem.size()) != stem || !EndsWith(name, extensions))
    return false;
  std::string_view middle = name.substr(stem.size(), 10);
  return middle[0] == '-' && AllDigits(middle.substr(1, 3)) && middle[4] == '-' &&
         AllDigits(middle.substr(5, 5));
}

std::optional<std::pair<int, int>> OutputTarget::ParsePartName(std::string_view name) const {
  if (name.size() != stem.size() + 10 + extensions.size())
    return std::nullopt;
  if (name.substr(0, stem.size()) != stem || !EndsWith(name, extensions))
    return std::nullopt;
  std::string_view middle = name.substr(stem.size(), 10);
  if (middle[0] != '-' || !AllDigits(middle.substr(1, 3)) || middle[4] != '-' ||
      !AllDigits(middle.substr(5, 5))) {
    return std::nullopt;
  }
  return std::make_pair(std::stoi(std::string(middle.substr(1, 3))),
                        std::stoi(std::string(middle.substr(5, 5))));
}

FileSink::FileSink(FileSinkOptions options)
    : options_(std::move(options)), manifest_directory_(ManifestDirectory(options_.path)) {}

Result<std::shared_ptr<SinkPlan>> FileSink::Plan(const JobContext& context,
                                                 const std::vector<StreamInfo>& streams) const {
  auto plan = std::make_shared<SinkPlan>();
  plan->options = options_;
  bool per_stream = options_.path.find("{stream}") != std::string::npos;
  if (streams.size() > 1 && !per_stream) {
    return InvalidConfig(fmt::format(
        "the source has {} streams: 'path' must contain {{stream}} to give each its own file "
        "(e.g. out/{{stream}}.csv)",
        streams.size()));
  }
  if (options_.format) {
    plan->format = *options_.format;
  } else if (auto format = FormatFromPath(options_.path)) {
    plan->format = *format;
  } else {
    return InvalidConfig(
        fmt::format("cannot tell the format of '{}' from its extension; set format: csv, jsonl, "
                    "avro or parquet",
                    options_.path));
  }
  plan->compression = io::ResolveCompression(options_.compression, options_.path);
  if (plan->format == FileFormat::kAvro && plan->compression != io::Compression::kNone) {
    return InvalidConfig(fmt::format(
        "Avro files compress their blocks themselves: drop compression: {} (and any .gz/.zst "
        "extension) and choose avro_codec: deflate, zstandard or null",
        io::CompressionName(plan->compression)));
  }
  if (plan->format == FileFormat::kParquet && plan->compression != io::Compression::kNone) {
    return InvalidConfig(fmt::format(
        "Parquet files compress their pages themselves: drop compression: {} (and any .gz/.zst "
        "extension) and choose parquet_compression: snappy, zstd, gzip or none",
        io::CompressionName(plan->compression)));
  }
  plan->single_file =
      context.parallelism <= 1 && options_.roll_rows == 0 && options_.roll_bytes == 0;
  for (const StreamInfo& stream : streams) {
    if (stream.changelog && stream.schema->FieldIndex(std::string(kOperationColumn)) >= 0) {
      return InvalidConfig(fmt::format(
          "stream '{}' is a changelog with a column named '{}', the name the file sink gives the "
          "operation of each row: rename that column (transform: columns)",
          stream.name, kOperationColumn));
    }
    plan->targets.push_back(MakeTarget(ReplaceStream(options_.path, stream.name), stream));
    if (plan->format == FileFormat::kAvro) {
      // Column names Avro cannot spell fail here, before any file is created.
      const OutputTarget& target = plan->targets.back();
      SLUICE_RETURN_IF_ERROR(formats::AvroSchemaOf(*target.schema, target.stream)
                                 .status()
                                 .WithContext(fmt::format("stream '{}'", stream.name)));
    }
  }
  for (size_t i = 0; i < plan->targets.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (plan->targets[i].path == plan->targets[j].path) {
        return InvalidConfig(fmt::format("streams '{}' and '{}' would both write '{}'",
                                         plan->targets[j].stream, plan->targets[i].stream,
                                         plan->targets[i].path));
      }
    }
  }
  plan->exactly_once = context.delivery == DeliveryGuarantee::kExactlyOnce;
  plan->run_epoch = run_epoch_;
  plan->bad_records = context.bad_records;
  plan->job = context.job_name;
  plan->manifest_directory = manifest_directory_;
  return plan;
}

Status FileSink::LoadAndRecover(const std::string& job) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<WriterManifest> manifests,
                          LoadManifests(manifest_directory_, job));
  std::vector<std::string> directories;
  uint64_t generation = 0;
  for (WriterManifest& manifest : manifests) {
    SLUICE_RETURN_IF_ERROR(RecoverManifest(&manifest, &directories, took_over_));
    generation = std::max(generation, manifest.generation);
  }
  for (const std::string& directory : directories)
    SLUICE_RETURN_IF_ERROR(io::SyncDirectory(directory));
  if (took_over_)
    SLUICE_RETURN_IF_ERROR(MoveCurrentPartsToCopies(&manifests));
  std::lock_guard<std::mutex> lock(mutex_);
  recovered_.clear();
  for (WriterManifest& manifest : manifests) {
    if (!manifest.streams.empty() || !manifest.progress.empty()) {
      log::Info(fmt::format("sink:file:{}", job), "Resuming writer slot {} from its manifest",
                manifest.slot);
    }
    int slot = manifest.slot;
    recovered_.emplace(slot, std::move(manifest));
  }
  generation_ = generation + 1;
  recovered_loaded_ = true;
  return Status::OK();
}

Status FileSink::MoveCurrentPartsToCopies(std::vector<WriterManifest>* manifests) {
  for (WriterManifest& manifest : *manifests) {
    bool moved = false;
    for (StreamManifest& stream : manifest.streams) {
      if (!stream.current)
        continue;
      CurrentPart& current = *stream.current;
      std::string copy = InProgressPath(current.path, run_epoch_);
      if (copy == current.file)
        continue;
      SLUICE_RETURN_IF_ERROR(io::CopyFilePrefix(current.file, copy, current.length));
      log::Info(fmt::format("sink:file:{}", manifest.job),
                "Continuing '{}' in a copy of its {} committed bytes: the run this one took over "
                "may still write to '{}'",
                current.path, current.length, current.file);
      current.file = std::move(copy);
      moved = true;
    }
    if (!moved)
      continue;
    manifest.epoch = run_epoch_;
    SLUICE_RETURN_IF_ERROR(
        CommitUnderRunFence(manifest_directory_, manifest.job, run_epoch_,
                            [&] { return WriteManifest(manifest_directory_, manifest); }));
  }
  return Status::OK();
}

Status FileSink::Publish(const SinkPlan& plan, std::vector<WriterManifest> manifests,
                         const std::string& job) {
  if (run_epoch_ != 0) {
    return CommitUnderRunFence(manifest_directory_, job, run_epoch_, [&] {
      return PublishUnfenced(plan, std::move(manifests), job);
    });
  }
  return PublishUnfenced(plan, std::move(manifests), job);
}

namespace {

// Writes the end a committed current part needs before it is published (a Parquet footer from
// its committed row groups), after cutting it back to its committed bytes: a crash between this
// and the rename leaves a part the next run seals again the same way.
Status SealPart(const SinkPlan& plan, const std::string& stream, const CurrentPart& current) {
  if (current.format_state.empty() || !io::PathExists(current.file))
    return Status::OK();  // nothing to end, or renamed already
  const OutputTarget* target = nullptr;
  for (const OutputTarget& candidate : plan.targets) {
    if (candidate.stream == stream)
      target = &candidate;
  }
  if (target == nullptr) {
    return Internal(fmt::format("'{}' belongs to stream '{}', which this job no longer has",
                                current.file, stream));
  }
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PartFile> file,
                          PartFile::Reopen(current.file, io::Compression::kNone, current.length));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<FormatWriter> writer,
                          MakePartWriter(plan, *target, current.path, file->stream(),
                                         &current.format_state));
  SLUICE_RETURN_IF_ERROR(writer->Finish());
  return file->Close();
}

}  // namespace

Status FileSink::PublishUnfenced(const SinkPlan& plan, std::vector<WriterManifest> manifests,
                                 const std::string& job) {
  std::vector<std::string> directories;
  for (const WriterManifest& manifest : manifests) {
    for (const StreamManifest& stream : manifest.streams) {
      if (!stream.current)
        continue;
      SLUICE_RETURN_IF_ERROR(SealPart(plan, stream.stream, *stream.current)
                                 .WithContext(fmt::format("ending '{}'", stream.current->path)));
      SLUICE_RETURN_IF_ERROR(io::RenameFile(stream.current->file, stream.current->path));
      std::string directory = io::ParentDirectory(stream.current->path);
      if (std::find(directories.begin(), directories.end(), directory) == directories.end())
        directories.push_back(directory);
    }
  }
  for (const std::string& directory : directories)
    SLUICE_RETURN_IF_ERROR(io::SyncDirectory(directory));
  // Last: until the manifests are gone a crash is recovered (the renames are idempotent).
  return RemoveManifests(manifest_directory_, job);
}

Status FileSink::Claim(const JobContext& context) {
  if (context.run_epoch == 0)
    return Status::OK();
  SLUICE_RETURN_IF_ERROR(ClaimRunFence(manifest_directory_, context.job_name, context.run_epoch));
  run_epoch_ = context.run_epoch;
  took_over_ = context.earlier_run_may_be_alive;
  return Status::OK();
}

Result<std::vector<SplitProgress>> FileSink::RecoverProgress(const JobContext& context) {
  SLUICE_RETURN_IF_ERROR(LoadAndRecover(context.job_name));
  std::vector<WriterManifest> manifests;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [slot, manifest] : recovered_)
      manifests.push_back(manifest);
  }
  return MergeProgress(manifests);
}

Status FileSink::ForgetProgress(const JobContext& context) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<WriterManifest> manifests,
                          LoadManifests(manifest_directory_, context.job_name));
  for (const WriterManifest& manifest : manifests) {
    for (const StreamManifest& stream : manifest.streams) {
      for (const CompletePart& part : stream.complete)
        SLUICE_RETURN_IF_ERROR(io::RemoveFile(part.file));
      if (stream.current)
        SLUICE_RETURN_IF_ERROR(io::RemoveFile(stream.current->file));
    }
  }
  SLUICE_RETURN_IF_ERROR(RemoveManifests(manifest_directory_, context.job_name));
  std::lock_guard<std::mutex> lock(mutex_);
  recovered_.clear();
  recovered_loaded_ = false;
  generation_ = 1;
  return Status::OK();
}

Status FileSink::Open(const JobContext& context, const std::vector<StreamInfo>& streams) {
  if (context.resuming) {
    if (!recovered_loaded_)
      SLUICE_RETURN_IF_ERROR(LoadAndRecover(context.job_name));
  } else {
    // A fresh run: whatever an earlier run of this job left unpublished goes.
    SLUICE_RETURN_IF_ERROR(ForgetProgress(context));
  }
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<SinkPlan> plan, Plan(context, streams));
  std::vector<WriterManifest> recovered;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [slot, manifest] : recovered_)
      recovered.push_back(manifest);
  }
  // A resumed run writes the way the run it continues did: one file, or parts.
  if (!recovered.empty())
    plan->single_file = recovered.front().single_file;
  plan->generation = generation_;
  SLUICE_RETURN_IF_ERROR(io::CreateDirectories(manifest_directory_));
  if (context.resuming && !plan->exactly_once && !recovered.empty()) {
    // An exactly-once run continued at-least-once: publish what it committed as it stands.
    SLUICE_RETURN_IF_ERROR(Publish(*plan, recovered, context.job_name));
    std::lock_guard<std::mutex> lock(mutex_);
    recovered_.clear();
    recovered.clear();
  }
  std::set<std::string> referenced;  // in-progress files a resumed run continues
  for (const WriterManifest& manifest : recovered) {
    for (const StreamManifest& stream : manifest.streams) {
      if (stream.current)
        referenced.insert(stream.current->file);
    }
  }
  for (size_t index = 0; index < plan->targets.size(); ++index) {
    const OutputTarget& target = plan->targets[index];
    SLUICE_RETURN_IF_ERROR(io::CreateDirectories(target.directory));
    SLUICE_RETURN_IF_ERROR(io::CheckDirectoryWritable(target.directory));
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, io::ListDirectory(target.directory));
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      if (!target.IsOutputName(name))
        continue;
      std::string path = target.directory + "/" + name;
      bool finished = !EndsWith(name, kInProgress);
      if (context.resuming) {
        if (finished) {
          // Published by the run this one continues: never replaced; numbering goes on after.
          std::optional<std::pair<int, int>> part = target.ParsePartName(name);
          if (!part && plan->single_file && name == io::BaseName(target.path))
            part = std::make_pair(0, 0);
          if (part) {
            int& free = plan->first_free_part[{index, part->first}];
            free = std::max(free, part->second + 1);
          }
        } else if (referenced.count(path) == 0) {
          // Written after the last commit, or by an at-least-once run: never committed.
          SLUICE_RETURN_IF_ERROR(io::RemoveFile(path));
        }
        continue;
      }
      if (finished && options_.mode == WriteMode::kErrorIfExists) {
        return InvalidConfig(
            fmt::format("output '{}' already exists (mode: error_if_exists)", path));
      }
      // Leftovers of an earlier run that failed: never a result anyone reads.
      if (!finished || options_.mode == WriteMode::kOverwrite) {
        SLUICE_RETURN_IF_ERROR(io::RemoveFile(path));
        log::Debug(fmt::format("sink:file:{}", target.stream), "Removed earlier output '{}'", path);
      }
    }
  }
  if (plan->exactly_once) {
    // New directories must survive a power loss before manifests name files in them.
    std::set<std::string> directories = {manifest_directory_};
    for (const OutputTarget& target : plan->targets)
      directories.insert(target.directory);
    for (const std::string& directory : directories) {
      SLUICE_RETURN_IF_ERROR(io::SyncDirectory(directory));
      SLUICE_RETURN_IF_ERROR(io::SyncDirectory(io::ParentDirectory(directory)));
    }
  }
  plan_ = std::move(plan);
  return Status::OK();
}

int FileSink::max_writers() const {
  return plan_ && plan_->single_file ? 1 : 0;
}

Status FileSink::Check(const JobContext& context, const std::vector<StreamInfo>& streams,
                       CheckReport* report) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<SinkPlan> plan, Plan(context, streams));
  for (const OutputTarget& target : plan->targets) {
    std::string what =
        plan->single_file ? fmt::format("'{}'", target.path)
                          : fmt::format("'{}', '{}', ... (one series per writer)",
                                        target.PartPath(0, 0, false), target.PartPath(0, 1, false));
    report->Note(fmt::format("stream '{}' would be written to {} as {}{}", target.stream, what,
                             FileFormatName(plan->format),
                             plan->compression == io::Compression::kNone
                                 ? ""
                                 : fmt::format(", {}", io::CompressionName(plan->compression))));
    if (!io::PathExists(target.directory)) {
      if (!io::LooksWritable(target.directory)) {
        return PermissionDenied(
            fmt::format("Directory '{}' cannot be created: an ancestor is "
                        "not writable",
                        target.directory));
      }
      report->Note(
          fmt::format("directory '{}' does not exist yet; it will be created", target.directory));
      continue;
    }
    if (!io::LooksWritable(target.directory)) {
      return PermissionDenied(fmt::format("Directory '{}' is not writable", target.directory));
    }
    report->Note(fmt::format("directory '{}' is writable", target.directory));
    Result<std::vector<std::string>> names = io::ListDirectory(target.directory);
    if (!names.ok())
      continue;
    size_t existing = 0;
    for (const std::string& name : *names) {
      if (target.IsOutputName(name) && !EndsWith(name, kInProgress))
        ++existing;
    }
    if (existing == 0)
      continue;
    if (options_.mode == WriteMode::kErrorIfExists) {
      return InvalidConfig(fmt::format(
          "{} earlier output file{} of stream '{}' exist in '{}' (mode: error_if_exists)", existing,
          existing == 1 ? "" : "s", target.stream, target.directory));
    }
    report->Note(fmt::format("{} earlier output file{} in '{}' will be replaced", existing,
                             existing == 1 ? "" : "s", target.directory));
  }
  return Status::OK();
}

Result<std::unique_ptr<SinkWriter>> FileSink::CreateWriter(int slot) {
  if (!plan_)
    return Internal("FileSink::CreateWriter before Open");
  std::optional<WriterManifest> adopted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = recovered_.find(slot);
    if (found != recovered_.end()) {
      adopted = std::move(found->second);
      recovered_.erase(found);
    }
  }
  return std::unique_ptr<SinkWriter>(new FileSinkWriter(plan_, slot, std::move(adopted)));
}

Status FileSink::Finish() {
  if (!plan_)
    return Internal("FileSink::Finish before Open");
  if (!plan_->exactly_once)
    return Status::OK();  // every part was published at its commit
  // From disk: the writers' last commits, and the slots no writer of this run took. All of it
  // under the run fence: the recovery cuts in-progress parts back, which a run that was taken
  // over must never do to the newer run's parts.
  auto finish = [&]() -> Status {
    SLUICE_ASSIGN_OR_RETURN(std::vector<WriterManifest> manifests,
                            LoadManifests(manifest_directory_, plan_->job));
    std::vector<std::string> directories;
    for (WriterManifest& manifest : manifests)
      SLUICE_RETURN_IF_ERROR(RecoverManifest(&manifest, &directories));
    for (const std::string& directory : directories)
      SLUICE_RETURN_IF_ERROR(io::SyncDirectory(directory));
    return PublishUnfenced(*plan_, std::move(manifests), plan_->job);
  };
  if (run_epoch_ != 0)
    return CommitUnderRunFence(manifest_directory_, plan_->job, run_epoch_, finish);
  return finish();
}

void FileSink::Abort() {
  if (!plan_ || plan_->exactly_once)
    return;  // committed in-progress parts and manifests are what a resumed run continues
  // Writers remove their own in-progress files; this catches writers that never got to.
  for (const OutputTarget& target : plan_->targets) {
    Result<std::vector<std::string>> names = io::ListDirectory(target.directory);
    if (!names.ok())
      continue;
    for (const std::string& name : *names) {
      // Only this run's: a newer run that took the job over writes files of its own epoch.
      std::optional<std::string_view> final_name = FinalNameOfInProgress(name);
      if (final_name && target.IsOutputName(name) &&
          InProgressPath(*final_name, run_epoch_) == name) {
        (void)io::RemoveFile(target.directory + "/" + name);
      }
    }
  }
}

}  // namespace sluice::connectors::file
