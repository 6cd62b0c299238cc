#include "connectors/file/file_sink.h"

#include <fmt/core.h>

#include <algorithm>

#include "core/logging.h"
#include "formats/csv/csv_writer.h"
#include "formats/jsonl/jsonl_writer.h"
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
  std::string out(path);
  for (size_t at = out.find("{stream}"); at != std::string::npos;
       at = out.find("{stream}", at + stream.size())) {
    out.replace(at, 8, stream);
  }
  return out;
}

OutputTarget MakeTarget(const std::string& path, const StreamInfo& stream) {
  OutputTarget target;
  target.stream = stream.name;
  target.schema = stream.schema;
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

// A format writer over one part's output stream.
class PartWriter {
 public:
  virtual ~PartWriter() = default;
  virtual Status WriteRows(const Batch& batch, size_t begin, size_t end) = 0;
  virtual Status Flush() = 0;
  virtual uint64_t bytes_written() const = 0;
};

class CsvPartWriter final : public PartWriter {
 public:
  CsvPartWriter(io::OutputStream* output, const formats::CsvDialect& dialect)
      : writer_(output, dialect) {}
  Status WriteHeader(const Schema& schema) { return writer_.WriteHeader(schema); }
  Status WriteRows(const Batch& batch, size_t begin, size_t end) override {
    return writer_.WriteRows(batch, begin, end);
  }
  Status Flush() override { return writer_.Flush(); }
  uint64_t bytes_written() const override { return writer_.bytes_written(); }

 private:
  formats::CsvWriter writer_;
};

class JsonlPartWriter final : public PartWriter {
 public:
  explicit JsonlPartWriter(io::OutputStream* output) : writer_(output) {}
  Status WriteRows(const Batch& batch, size_t begin, size_t end) override {
    return writer_.WriteRows(batch, begin, end);
  }
  Status Flush() override { return writer_.Flush(); }
  uint64_t bytes_written() const override { return writer_.bytes_written(); }

 private:
  formats::JsonlWriter writer_;
};

// One writer slot: per stream, the part being written and the parts waiting for Commit().
class FileSinkWriter final : public SinkWriter {
 public:
  FileSinkWriter(std::shared_ptr<const SinkPlan> plan, int slot)
      : plan_(std::move(plan)), slot_(slot), streams_(plan_->targets.size()) {}

  ~FileSinkWriter() override { Abort(); }

  Status Write(const Batch& batch) override {
    if (batch.stream() < 0 || static_cast<size_t>(batch.stream()) >= streams_.size()) {
      return Internal(fmt::format("batch for unknown stream {}", batch.stream()));
    }
    const size_t index = static_cast<size_t>(batch.stream());
    StreamState& state = streams_[index];
    const FileSinkOptions& options = plan_->options;
    size_t row = 0;
    while (row < batch.num_rows()) {
      if (!state.part)
        SLUICE_RETURN_IF_ERROR(OpenPart(index));
      size_t end = batch.num_rows();
      if (options.roll_rows > 0) {
        end = std::min(end, row + static_cast<size_t>(options.roll_rows - state.rows_in_part));
      }
      if (options.roll_bytes > 0) {
        // Row by row, so that a part ends on the first row that takes it past the limit.
        // At least one row per part, however long the header.
        while (row < end &&
               (state.rows_in_part == 0 ||
                state.part->bytes_written() < static_cast<uint64_t>(options.roll_bytes))) {
          SLUICE_RETURN_IF_ERROR(state.part->WriteRows(batch, row, row + 1));
          ++row;
          ++state.rows_in_part;
        }
      } else {
        SLUICE_RETURN_IF_ERROR(state.part->WriteRows(batch, row, end));
        state.rows_in_part += static_cast<int64_t>(end - row);
        row = end;
      }
      bool full_rows = options.roll_rows > 0 && state.rows_in_part >= options.roll_rows;
      bool full_bytes = options.roll_bytes > 0 &&
                        state.part->bytes_written() >= static_cast<uint64_t>(options.roll_bytes);
      if (full_rows || full_bytes)
        SLUICE_RETURN_IF_ERROR(ClosePart(index));
    }
    return Status::OK();
  }

  Status Prepare() override {
    for (size_t i = 0; i < streams_.size(); ++i) {
      StreamState& state = streams_[i];
      // A single-file job writes its file even without rows (a CSV header, or nothing).
      if (!state.part && plan_->single_file && state.parts_opened == 0) {
        SLUICE_RETURN_IF_ERROR(OpenPart(i));
      }
      if (state.part)
        SLUICE_RETURN_IF_ERROR(ClosePart(i));
    }
    return Status::OK();
  }

  Status Commit(const CommitContext& commit) override {
    for (StreamState& state : streams_) {
      if (state.pending.empty())
        continue;
      for (const Finished& part : state.pending) {
        SLUICE_RETURN_IF_ERROR(io::RenameFile(part.in_progress, part.final_path));
      }
      state.pending.clear();
    }
    for (size_t i = 0; i < streams_.size(); ++i) {
      if (streams_[i].renamed_since_sync) {
        SLUICE_RETURN_IF_ERROR(io::SyncDirectory(plan_->targets[i].directory));
        streams_[i].renamed_since_sync = false;
      }
    }
    return Status::OK();
  }

  void Abort() override {
    for (StreamState& state : streams_) {
      if (state.part) {
        state.part.reset();
        state.output.reset();  // discards what is buffered
        (void)io::RemoveFile(state.in_progress);
      }
      for (const Finished& part : state.pending)
        (void)io::RemoveFile(part.in_progress);
      state.pending.clear();
    }
  }

 private:
  struct Finished {
    std::string in_progress;
    std::string final_path;
  };
  struct StreamState {
    std::unique_ptr<io::OutputStream> output;
    std::unique_ptr<PartWriter> part;
    std::string in_progress;
    std::string final_path;
    int64_t rows_in_part = 0;
    int parts_opened = 0;
    std::vector<Finished> pending;  // closed, waiting for Commit()
    bool renamed_since_sync = false;
  };

  Status OpenPart(size_t index) {
    StreamState& state = streams_[index];
    const OutputTarget& target = plan_->targets[index];
    bool single = plan_->single_file && state.parts_opened == 0;
    state.final_path = target.PartPath(slot_, state.parts_opened, single);
    state.in_progress = state.final_path + std::string(kInProgress);
    SLUICE_ASSIGN_OR_RETURN(state.output,
                            io::CreateOutputFile(state.in_progress, plan_->compression, 0,
                                                 io::SyncMode::kFsyncOnClose));
    ++state.parts_opened;
    state.rows_in_part = 0;
    if (plan_->format == FileFormat::kCsv) {
      auto csv = std::make_unique<CsvPartWriter>(state.output.get(), plan_->options.dialect);
      if (plan_->options.header)
        SLUICE_RETURN_IF_ERROR(csv->WriteHeader(*target.schema));
      state.part = std::move(csv);
    } else {
      state.part = std::make_unique<JsonlPartWriter>(state.output.get());
    }
    return Status::OK();
  }

  Status ClosePart(size_t index) {
    StreamState& state = streams_[index];
    SLUICE_RETURN_IF_ERROR(state.part->Flush());
    SLUICE_RETURN_IF_ERROR(state.output->Close());
    state.part.reset();
    state.output.reset();
    state.pending.push_back(Finished{state.in_progress, state.final_path});
    state.renamed_since_sync = true;
    return Status::OK();
  }

  std::shared_ptr<const SinkPlan> plan_;
  int slot_;
  std::vector<StreamState> streams_;
};

}  // namespace

std::string OutputTarget::PartPath(int slot, int part, bool single) const {
  if (single)
    return path;
  return fmt::format("{}{}-{:03}-{:05}{}", prefix, stem, slot, part, extensions);
}

bool OutputTarget::IsOutputName(std::string_view name) const {
  if (EndsWith(name, kInProgress))
    name.remove_suffix(kInProgress.size());
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

FileSink::FileSink(FileSinkOptions options) : options_(std::move(options)) {}

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
        fmt::format("cannot tell the format of '{}' from its extension; set format: csv or jsonl",
                    options_.path));
  }
  plan->compression = io::ResolveCompression(options_.compression, options_.path);
  plan->single_file =
      context.parallelism <= 1 && options_.roll_rows == 0 && options_.roll_bytes == 0;
  for (const StreamInfo& stream : streams) {
    plan->targets.push_back(MakeTarget(ReplaceStream(options_.path, stream.name), stream));
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
  return plan;
}

Status FileSink::Open(const JobContext& context, const std::vector<StreamInfo>& streams) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<SinkPlan> plan, Plan(context, streams));
  for (const OutputTarget& target : plan->targets) {
    SLUICE_RETURN_IF_ERROR(io::CreateDirectories(target.directory));
    SLUICE_RETURN_IF_ERROR(io::CheckDirectoryWritable(target.directory));
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, io::ListDirectory(target.directory));
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      if (!target.IsOutputName(name))
        continue;
      std::string path = target.directory + "/" + name;
      bool finished = !EndsWith(name, kInProgress);
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
  plan_ = std::move(plan);
  return Status::OK();
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
  return std::unique_ptr<SinkWriter>(new FileSinkWriter(plan_, slot));
}

Status FileSink::Finish() {
  return Status::OK();
}

void FileSink::Abort() {
  if (!plan_)
    return;
  // Writers remove their own in-progress files; this catches writers that never got to.
  for (const OutputTarget& target : plan_->targets) {
    Result<std::vector<std::string>> names = io::ListDirectory(target.directory);
    if (!names.ok())
      continue;
    for (const std::string& name : *names) {
      if (EndsWith(name, kInProgress) && target.IsOutputName(name)) {
        (void)io::RemoveFile(target.directory + "/" + name);
      }
    }
  }
}

}  // namespace sluice::connectors::file
