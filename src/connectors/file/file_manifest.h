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
// Format (version 2):
//   {"version": 2, "job": "orders-copy", "slot": 0, "generation": 2, "epoch": 5,
//    "single_file": false,
//    "streams": [{"stream": "orders", "next_part": 3,
//                 "complete": [{"path": "out/orders-000-00001.csv",
//                               "file": "out/orders-000-00001.csv.e5.inprogress"}],
//                 "current": {"path": "out/orders-000-00002.csv",
//                             "file": "out/orders-000-00002.csv.e4.inprogress", "part": 2,
//                             "length": 4096, "rows": 120, "text_bytes": 4096}}],
//    "progress": [{"split": "orders#0", "position": "{...}", "done": false, "generation": 2,
//                  "checkpoint": 7}]}
// `path` is a part's final name; its bytes live in `file` until published. A run names the
// files it creates after its run epoch (InProgressPath), so a run that was taken over and still
// writes can only ever touch files no later run uses. Version 1 had no `file` (the bytes were in
// "<path>.inprogress") and no `epoch`; it is still read.
//
// The run fence: `<dir>/.sluice-<job>.epoch` holds the epoch of the run that claimed the job's
// outputs last (ClaimRunFence), and `<dir>/.sluice-<job>.lock` is the lock that orders claims
// and commits: a commit (CommitUnderRunFence) holds it shared while it checks the epoch and
// renames its manifest into place; a claim holds it exclusively while it stores its epoch.
// `generation` counts the runs of the job (each resumed run adds one); a split's progress with
// the highest (generation, checkpoint) wins when several slots' manifests name it (a split that
// moved to another slot after the writer count changed).
//
// Thread-safety: functions may be called from any thread; two writers never share a manifest.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/api.h"

namespace sluice::connectors::file {

/// The part a writer slot is writing, as of its last commit.
struct CurrentPart {
  std::string path;  // final name
  std::string file;  // the in-progress file holding its bytes
  int part = 0;
  uint64_t length = 0;  // committed bytes of `file`
  int64_t rows = 0;
  uint64_t text_bytes = 0;  // uncompressed text, for roll_bytes
  /// What the format writer needs to continue the part after `length` bytes (Parquet: its
  /// committed row groups); empty for formats that need nothing.
  std::string format_state;
};

/// A part complete in its in-progress file, to be renamed to its final name.
struct CompletePart {
  std::string path;  // final name
  std::string file;  // in-progress file

  friend bool operator==(const CompletePart&, const CompletePart&) = default;
};

struct StreamManifest {
  std::string stream;
  int next_part = 0;
  std::vector<CompletePart> complete;
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
  /// The run epoch of the run that wrote it (0 in version 1).
  uint64_t epoch = 0;
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

/// The in-progress file in which run `epoch` writes the part whose final name is `path`:
/// "<path>.e<epoch>.inprogress" ("<path>.inprogress" for epoch 0, as before run epochs).
std::string InProgressPath(std::string_view path, uint64_t epoch);
/// For an in-progress file name, the final name it stands for; nullopt for other names.
std::optional<std::string_view> FinalNameOfInProgress(std::string_view name);

/// Takes the outputs of `job` in `directory` (created when missing) for the run of `epoch`:
/// waits for commits in flight, then stores `epoch`, unless a higher one is stored (a newer run
/// claimed them: FencedOff).
Status ClaimRunFence(const std::string& directory, std::string_view job, uint64_t epoch);
/// Runs `commit` (a manifest rename, a publication) while no claim can happen, if the job's
/// stored epoch is still `epoch`; otherwise returns FencedOff and runs nothing.
Status CommitUnderRunFence(const std::string& directory, std::string_view job, uint64_t epoch,
                           const std::function<Status()>& commit);

/// Every manifest of `job` in `directory`, by slot; none when it is not a directory.
/// Removes temp files a crash left behind. A manifest that does not parse is a DataError.
Result<std::vector<WriterManifest>> LoadManifests(const std::string& directory,
                                                  std::string_view job);

/// Writes `manifest` atomically and durably: temp file, fsync, rename, fsync of the directory.
Status WriteManifest(const std::string& directory, const WriterManifest& manifest);

/// Removes every manifest (and temp file) of `job` in `directory`, then fsyncs it.
Status RemoveManifests(const std::string& directory, std::string_view job);

/// Makes the files agree with `manifest` after a crash: renames its complete parts to their
/// final names (when not done yet) and cuts its current parts back to their committed length
/// (unless `keep_current_files`: a run that may still be alive has them open, see
/// JobContext::earlier_run_may_be_alive; they are then left untouched).
/// A current part whose final file exists instead was published by an interrupted Finish: it is
/// dropped from `*manifest`. Adds each directory touched to `*directories` and does not sync
/// them. A missing file is NotFound naming it.
Status RecoverManifest(WriterManifest* manifest, std::vector<std::string>* directories,
                       bool keep_current_files = false);

/// The union of the manifests' progress: per split, the entry with the highest (generation,
/// checkpoint).
std::vector<SplitProgress> MergeProgress(const std::vector<WriterManifest>& manifests);

std::string EncodeManifest(const WriterManifest& manifest);
/// `name` appears in errors.
Result<WriterManifest> DecodeManifest(std::string_view text, const std::string& name);

}  // namespace sluice::connectors::file
