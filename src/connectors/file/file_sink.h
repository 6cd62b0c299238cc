// FileSink: writes each stream to CSV or JSON Lines files, plain or compressed.
//
// Naming: with a single writer (parallelism 1) and no rolling, a stream's file is exactly
// `path` ({stream} replaced by the stream name); otherwise every file is a part named
// <stem>-<slot 3 digits>-<part 5 digits><extensions> (out/orders-000-00000.csv.gz).
//
// Visibility: every file is written as "<final>.inprogress" and renamed into place only by
// SinkWriter::Commit(), so a reader never sees a partial file. Prepare() ends (flushes,
// fsyncs) the current part; a part closed by rolling waits for the next Commit(); Abort()
// deletes in-progress files. If a writer is committed more than once, its later parts are
// numbered even in single-file mode rather than replacing the first file.
//
// Guarantee: at-least-once (a rerun after a failure rewrites the files; checkpoints come later).
// Thread-safety: Open, Check, Finish and Abort on the coordinator thread; CreateWriter from any
// thread; each writer is used by one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "connectors/file/file_options.h"

namespace sluice::connectors::file {

/// Where one stream's files go; fixed at Open and shared read-only with the writers.
struct OutputTarget {
  std::string stream;
  SchemaPtr schema;
  std::string directory;
  std::string path;        // the single file: prefix + stem + extensions
  std::string prefix;      // `path` up to its base name ("out/", or "" for a bare name)
  std::string stem;        // base name without extensions ("orders")
  std::string extensions;  // ".csv.gz"

  /// The file of part `part` of writer `slot` (the single file when `single`).
  std::string PartPath(int slot, int part, bool single) const;
  /// True when `name` (a directory entry) is an output of this target, finished or not.
  bool IsOutputName(std::string_view name) const;
};

/// What Open decided; shared by the sink and its writers.
struct SinkPlan {
  FileSinkOptions options;
  FileFormat format = FileFormat::kCsv;
  io::Compression compression = io::Compression::kNone;
  bool single_file = true;
  std::vector<OutputTarget> targets;  // by stream index
};

class FileSink final : public Sink {
 public:
  explicit FileSink(FileSinkOptions options);

  /// Resolves the format and the targets, creates the directories, checks that they are
  /// writable and applies `mode` to earlier outputs.
  Status Open(const JobContext& context, const std::vector<StreamInfo>& streams) override;
  Status Check(const JobContext& context, const std::vector<StreamInfo>& streams,
               CheckReport* report) override;
  Result<std::unique_ptr<SinkWriter>> CreateWriter(int slot) override;
  Status Finish() override;
  void Abort() override;
  DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kAtLeastOnce; }

 private:
  Result<std::shared_ptr<SinkPlan>> Plan(const JobContext& context,
                                         const std::vector<StreamInfo>& streams) const;

  FileSinkOptions options_;
  std::shared_ptr<const SinkPlan> plan_;
};

}  // namespace sluice::connectors::file
