// SlotManifest: what one writer slot of the hive sink has committed, kept in the table's store
// under `_sluice/<job>/slot-<slot>-<sequence>.json` (Hive, Spark and Trino skip directories
// starting with '_').
//
// Each commit writes the next sequence number whole (FileStore::WriteFile, atomic on every
// store) and then deletes the older ones: the newest manifest that parses is the slot's commit.
// That rename or PUT is the commit point of the slot's rows and their progress together. It
// names the files being written (`open`: each one's store state and format state as of the
// commit, FileStore::Resume continues them), the files complete but perhaps not yet published
// (`publish`, rolled forward by recovery), the partitions whose `_SUCCESS` is due, the partitions
// the slot published files in, the next file number, the writer's event-time watermark and the
// progress of every split it committed.
//
// Thread-safety: functions may be called from any thread; two writers never share a manifest.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "io/file_store.h"

namespace sluice::connectors::hive {

struct OpenFileEntry {
  std::string stream;
  std::string partition;  // "dt=2026-12-04/hr=09", "" when unpartitioned
  std::string path;       // final path in the stream's store
  int64_t part = 0;
  std::string file_state;    // FileStore state after its last commit
  std::string format_state;  // FormatWriter::CommitState()
  uint64_t bytes = 0;        // encoded bytes committed
  int64_t rows = 0;
  /// The writer's watermark when the file was started: a file for a closed partition (late
  /// rows) stays open at least one partition period after it, so late rows do not make a file
  /// per checkpoint.
  int64_t opened_at_watermark = INT64_MIN;  // INT64_MIN: not a late file
};

struct PublishEntry {
  std::string stream;
  std::string partition;
  std::string path;
  std::string file_state;
};

struct StreamPartition {
  std::string stream;
  std::string partition;
  friend auto operator<=>(const StreamPartition&, const StreamPartition&) = default;
};

struct SlotProgress {
  SplitProgress progress;
  uint64_t generation = 0;
  uint64_t checkpoint = 0;
};

struct SlotManifest {
  std::string job;
  int slot = 0;
  uint64_t sequence = 0;
  uint64_t generation = 1;
  int64_t next_part = 0;
  int64_t watermark_us = INT64_MIN;
  std::vector<OpenFileEntry> open;
  std::vector<PublishEntry> publish;
  std::vector<StreamPartition> success_due;  // _SUCCESS to write once `publish` is done
  std::vector<StreamPartition> published;    // partitions this slot published files in
  std::vector<SlotProgress> progress;
};

std::string EncodeSlotManifest(const SlotManifest& manifest);
Result<SlotManifest> DecodeSlotManifest(std::string_view text, const std::string& name);

/// `_sluice/<job>/`, the job name's bytes outside [A-Za-z0-9._-] written %XX.
std::string ManifestDirectory(std::string_view job);

/// The newest manifest of every slot of `job` in `store`, by slot. A manifest that does not
/// parse (a write cut short) is skipped in favour of the one before it; the temporary files of
/// writes a crash cut short are deleted (call it while no writer of the job runs).
Result<std::map<int, SlotManifest>> LoadSlotManifests(io::FileStore* store, std::string_view job);

/// Writes `manifest` (its sequence set by the caller) and then deletes the slot's older ones.
Status WriteSlotManifest(io::FileStore* store, const SlotManifest& manifest);

/// The run fence in the store: `_sluice/<job>/epoch` holds the epoch of the run that claimed
/// the job's table last. ClaimStoreFence stores `epoch` unless a higher one is there
/// (FencedOff); CheckStoreFence fails (FencedOff) unless the stored epoch is still `epoch`. A
/// store offers no lock, so a claim landing between a check and the write it guards is not
/// caught: the check narrows the window of a run that lost its lease to one store call.
Status ClaimStoreFence(io::FileStore* store, std::string_view job, uint64_t epoch);
/// The epoch stored in the fence (0 when none).
Result<uint64_t> StoredFenceEpoch(io::FileStore* store, std::string_view job);
Status CheckStoreFence(io::FileStore* store, std::string_view job, uint64_t epoch);

/// Deletes every manifest of `job`.
Status RemoveSlotManifests(io::FileStore* store, std::string_view job);

/// Per split, the progress with the highest (generation, checkpoint) across the manifests.
std::vector<SplitProgress> MergeSlotProgress(const std::map<int, SlotManifest>& manifests);

}  // namespace sluice::connectors::hive
