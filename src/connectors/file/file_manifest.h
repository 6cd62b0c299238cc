// WriterManifest: what one writer slot of an exactly-once file sink has committed, kept as a
// small JSON file next to the outputs: `<dir>/.sluice-<job>-<slot>.manifest`.
//
// It names the slot's part being written (`current`: its committed byte length, rows and text
// bytes), the parts that are complete but not renamed to their final names yet, the next part
// number, and the progress of every split the slot committed. WriteManifest() writes a temp
// file, fsyncs it and renames it into place: that rename is the commit point of the slot's rows
// and progress together. Recovery (RecoverManifest) rolls the renames forward and cuts the
// current part back to its committed length, which makes the files agree with the manifest
// again whatever instant a crash hit.
//
// Format (version 1):
//   {"version": 1, "job": "orders-copy", "slot": 0, "generation": 2, "single_file": false,
//    "streams": [{"stream": "orders", "next_part": 3, "complete": ["out/orders-000-00001.csv"],
//                 "current": {"path": "out/orders-000-00002.csv", "part": 2, "length": 4096,
//                             "rows": 120, "text_bytes": 4096}}],
//    "progress": [{"split": "orders#0", "position": "{...}", "done": false, "generation": 2,
//                  "checkpoint": 7}]}
// Paths are the final names; the bytes live in "<path>.inprogress" until published.
// `generation` counts the runs of the job (each resumed run adds one); a split's progress with
// the highest (generation, checkpoint) wins when several slots' manifests name it (a split that
// moved to another slot after the writer count changed).
//
// Thread-safety: functions may be called from any thread; two writers never share a manifest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/api.h"

namespace sluice::connectors::file {

/// The part a writer slot is writing, as of its last commit.
struct CurrentPart {
  std::string path;  // final name
  int part = 0;
  uint64_t length = 0;  // committed bytes of path + ".inprogress"
  int64_t rows = 0;
  uint64_t text_bytes = 0;  // uncompressed text, for roll_bytes
};

struct StreamManifest {
  std::string stream;
  int next_part = 0;
  /// Final names of parts complete in "<name>.inprogress", to be renamed.
  std::vector<std::string> complete;
  std::optional<CurrentPart> current;
};

struct TaggedProgress {
  SplitProgress progress;
  uint64_t generation = 0;
  uint64_t checkpoint = 0;
};

struct WriterManifest {
  std::string job;
  int slot = 0;
  uint64_t generation = 1;
  bool single_file = false;
  std::vector<StreamManifest> streams;
  std::vector<TaggedProgress> progress;
};

/// The directory that holds the manifests of a sink writing `path_template`: the directory of
/// its part before any "{stream}" ("out/{stream}/x.csv" -> "out", "{stream}.csv" -> ".").
std::string ManifestDirectory(std::string_view path_template);

/// `<directory>/.sluice-<job>-<slot>.manifest`; bytes of the job name outside [A-Za-z0-9._-]
/// are written %XX.
std::string ManifestPath(const std::string& directory, std::string_view job, int slot);

/// Every manifest of `job` in `directory`, by slot; none when it is not a directory.
/// Removes temp files a crash left behind. A manifest that does not parse is a DataError.
Result<std::vector<WriterManifest>> LoadManifests(const std::string& directory,
                                                  std::string_view job);

/// Writes `manifest` atomically and durably: temp file, fsync, rename, fsync of the directory.
Status WriteManifest(const std::string& directory, const WriterManifest& manifest);

/// Removes every manifest (and temp file) of `job` in `directory`, then fsyncs it.
Status RemoveManifests(const std::string& directory, std::string_view job);

/// Makes the files agree with `manifest` after a crash: renames its complete parts to their
/// final names (when not done yet) and cuts its current parts back to their committed length.
/// A current part whose final file exists instead was published by an interrupted Finish: it is
/// dropped from `*manifest`. Adds each directory touched to `*directories` and does not sync
/// them. A missing file is NotFound naming it.
Status RecoverManifest(WriterManifest* manifest, std::vector<std::string>* directories);

/// The union of the manifests' progress: per split, the entry with the highest (generation,
/// checkpoint).
std::vector<SplitProgress> MergeProgress(const std::vector<WriterManifest>& manifests);

std::string EncodeManifest(const WriterManifest& manifest);
/// `name` appears in errors.
Result<WriterManifest> DecodeManifest(std::string_view text, const std::string& name);

}  // namespace sluice::connectors::file
