#include "connectors/hive/hive_manifest.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "core/value_text.h"

namespace sluice::connectors::hive {

namespace {

using nlohmann::json;

json PartitionsToJson(const std::vector<StreamPartition>& partitions) {
  json out = json::array();
  for (const StreamPartition& entry : partitions)
    out.push_back(json::array({entry.stream, entry.partition}));
  return out;
}

std::vector<StreamPartition> PartitionsFromJson(const json& in) {
  std::vector<StreamPartition> out;
  for (const json& entry : in)
    out.push_back(StreamPartition{entry.at(0).get<std::string>(), entry.at(1).get<std::string>()});
  return out;
}

// Format states are bytes (Parquet's Thrift metadata): hex in the JSON.
std::string HexOf(std::string_view bytes) {
  std::string hex;
  AppendHexDigits(bytes, &hex);
  return hex;
}

std::string BytesOfHex(std::string_view hex, const std::string& name) {
  std::string bytes;
  if (!DecodeHexBytes(hex, &bytes).ok())
    throw json::other_error::create(0, "format_state is not hex", nullptr);
  return bytes;
}

// slot-<slot 3>-<sequence 12>.json
std::string ManifestName(int slot, uint64_t sequence) {
  return fmt::format("slot-{:03}-{:012}.json", slot, sequence);
}

bool ParseManifestName(std::string_view name, int* slot, uint64_t* sequence) {
  unsigned long long parsed_sequence = 0;
  int parsed_slot = 0;
  int consumed = 0;
  std::string text(name);
  if (std::sscanf(text.c_str(), "slot-%d-%llu.json%n", &parsed_slot, &parsed_sequence,
                  &consumed) != 2 ||
      consumed != static_cast<int>(text.size())) {
    return false;
  }
  *slot = parsed_slot;
  *sequence = parsed_sequence;
  return true;
}

}  // namespace

std::string EncodeSlotManifest(const SlotManifest& manifest) {
  json open = json::array();
  for (const OpenFileEntry& entry : manifest.open) {
    open.push_back(json{{"stream", entry.stream},
                        {"partition", entry.partition},
                        {"path", entry.path},
                        {"part", entry.part},
                        {"file_state", entry.file_state},
                        {"format_state", HexOf(entry.format_state)},
                        {"bytes", entry.bytes},
                        {"rows", entry.rows},
                        {"opened_at_watermark", entry.opened_at_watermark}});
  }
  json publish = json::array();
  for (const PublishEntry& entry : manifest.publish) {
    publish.push_back(json{{"stream", entry.stream},
                           {"partition", entry.partition},
                           {"path", entry.path},
                           {"file_state", entry.file_state}});
  }
  json progress = json::array();
  for (const SlotProgress& entry : manifest.progress) {
    progress.push_back(json{{"split", entry.progress.split_id},
                            {"position", entry.progress.position},
                            {"done", entry.progress.done},
                            {"generation", entry.generation},
                            {"checkpoint", entry.checkpoint}});
  }
  json root{{"version", 1},
            {"job", manifest.job},
            {"slot", manifest.slot},
            {"sequence", manifest.sequence},
            {"generation", manifest.generation},
            {"next_part", manifest.next_part},
            {"watermark_us", manifest.watermark_us},
            {"open", std::move(open)},
            {"publish", std::move(publish)},
            {"success_due", PartitionsToJson(manifest.success_due)},
            {"published", PartitionsToJson(manifest.published)},
            {"progress", std::move(progress)}};
  // Split ids and positions are bytes a source chose: replace what is not UTF-8 rather than
  // throw (positions are ASCII JSON in practice).
  return root.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<SlotManifest> DecodeSlotManifest(std::string_view text, const std::string& name) {
  try {
    json root = json::parse(text);
    if (root.at("version").get<int>() != 1)
      return DataError(fmt::format("{}: unknown manifest version", name));
    SlotManifest manifest;
    manifest.job = root.at("job").get<std::string>();
    manifest.slot = root.at("slot").get<int>();
    manifest.sequence = root.at("sequence").get<uint64_t>();
    manifest.generation = root.at("generation").get<uint64_t>();
    manifest.next_part = root.at("next_part").get<int64_t>();
    manifest.watermark_us = root.at("watermark_us").get<int64_t>();
    for (const json& entry : root.at("open")) {
      manifest.open.push_back(OpenFileEntry{
          entry.at("stream").get<std::string>(), entry.at("partition").get<std::string>(),
          entry.at("path").get<std::string>(), entry.at("part").get<int64_t>(),
          entry.at("file_state").get<std::string>(),
          BytesOfHex(entry.at("format_state").get<std::string>(), name),
          entry.at("bytes").get<uint64_t>(), entry.at("rows").get<int64_t>(),
          entry.at("opened_at_watermark").get<int64_t>()});
    }
    for (const json& entry : root.at("publish")) {
      manifest.publish.push_back(PublishEntry{
          entry.at("stream").get<std::string>(), entry.at("partition").get<std::string>(),
          entry.at("path").get<std::string>(), entry.at("file_state").get<std::string>()});
    }
    manifest.success_due = PartitionsFromJson(root.at("success_due"));
    manifest.published = PartitionsFromJson(root.at("published"));
    for (const json& entry : root.at("progress")) {
      SlotProgress tagged;
      tagged.progress.split_id = entry.at("split").get<std::string>();
      tagged.progress.position = entry.at("position").get<std::string>();
      tagged.progress.done = entry.at("done").get<bool>();
      tagged.generation = entry.at("generation").get<uint64_t>();
      tagged.checkpoint = entry.at("checkpoint").get<uint64_t>();
      manifest.progress.push_back(std::move(tagged));
    }
    return manifest;
  } catch (const json::exception& error) {
    return DataError(fmt::format("{}: not a hive sink manifest: {}", name, error.what()));
  }
}

std::string ManifestDirectory(std::string_view job) {
  std::string escaped;
  for (char c : job) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
    if (plain)
      escaped.push_back(c);
    else
      escaped += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return fmt::format("_sluice/{}/", escaped);
}

Result<std::map<int, SlotManifest>> LoadSlotManifests(io::FileStore* store, std::string_view job) {
  std::string directory = ManifestDirectory(job);
  // A manifest write a crash cut short leaves its temporary file: never a commit.
  SLUICE_ASSIGN_OR_RETURN(std::vector<io::StagedEntry> unfinished,
                          store->ListStaged(directory, "slot-"));
  for (const io::StagedEntry& entry : unfinished)
    SLUICE_RETURN_IF_ERROR(store->Discard(entry.path, entry.state));
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, store->List(directory));
  // Newest first within each slot: the first one that parses wins.
  std::map<int, std::vector<std::pair<uint64_t, std::string>>> by_slot;
  for (const std::string& name : names) {
    int slot = 0;
    uint64_t sequence = 0;
    if (ParseManifestName(name, &slot, &sequence))
      by_slot[slot].emplace_back(sequence, name);
  }
  std::map<int, SlotManifest> manifests;
  for (auto& [slot, candidates] : by_slot) {
    std::sort(candidates.rbegin(), candidates.rend());
    for (const auto& [sequence, name] : candidates) {
      SLUICE_ASSIGN_OR_RETURN(std::string text, store->ReadFile(directory + name));
      Result<SlotManifest> manifest = DecodeSlotManifest(text, directory + name);
      if (!manifest.ok())
        continue;  // a write cut short: the one before it is the commit
      manifest->sequence = sequence;
      manifests.emplace(slot, std::move(*manifest));
      break;
    }
  }
  return manifests;
}

Status WriteSlotManifest(io::FileStore* store, const SlotManifest& manifest) {
  std::string directory = ManifestDirectory(manifest.job);
  SLUICE_RETURN_IF_ERROR(store->WriteFile(directory + ManifestName(manifest.slot, manifest.sequence),
                                          EncodeSlotManifest(manifest)));
  // Committed. The previous manifest only costs a listing now; older ones a crash left are
  // removed by recovery (RemoveStaleSlotManifests).
  if (manifest.sequence > 0)
    return store->Delete(directory + ManifestName(manifest.slot, manifest.sequence - 1));
  return Status::OK();
}

Result<uint64_t> StoredFenceEpoch(io::FileStore* store, std::string_view job) {
  Result<std::string> text = store->ReadFile(ManifestDirectory(job) + "epoch");
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return uint64_t{0};
    return text.status();
  }
  unsigned long long epoch = 0;
  if (std::sscanf(text->c_str(), "epoch %llu", &epoch) != 1)
    return DataError(fmt::format("{}: not a run epoch: '{}'", store->Uri(ManifestDirectory(job) + "epoch"), *text));
  return static_cast<uint64_t>(epoch);
}

Status ClaimStoreFence(io::FileStore* store, std::string_view job, uint64_t epoch) {
  SLUICE_ASSIGN_OR_RETURN(uint64_t current, StoredFenceEpoch(store, job));
  if (current > epoch)
    return FencedOff(job, fmt::format("the table at '{}'", store->Uri("")), epoch, current);
  if (current == epoch)
    return Status::OK();
  return store->WriteFile(ManifestDirectory(job) + "epoch", fmt::format("epoch {}\n", epoch));
}

Status CheckStoreFence(io::FileStore* store, std::string_view job, uint64_t epoch) {
  SLUICE_ASSIGN_OR_RETURN(uint64_t current, StoredFenceEpoch(store, job));
  if (current != epoch)
    return FencedOff(job, fmt::format("the table at '{}'", store->Uri("")), epoch, current);
  return Status::OK();
}

Status RemoveSlotManifests(io::FileStore* store, std::string_view job) {
  std::string directory = ManifestDirectory(job);
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, store->List(directory));
  for (const std::string& name : names) {
    int slot = 0;
    uint64_t sequence = 0;
    if (ParseManifestName(name, &slot, &sequence))
      SLUICE_RETURN_IF_ERROR(store->Delete(directory + name));
  }
  return Status::OK();
}

std::vector<SplitProgress> MergeSlotProgress(const std::map<int, SlotManifest>& manifests) {
  std::map<std::string, const SlotProgress*> best;
  for (const auto& [slot, manifest] : manifests) {
    for (const SlotProgress& entry : manifest.progress) {
      const SlotProgress*& current = best[entry.progress.split_id];
      if (current == nullptr || std::tie(entry.generation, entry.checkpoint) >
                                    std::tie(current->generation, current->checkpoint)) {
        current = &entry;
      }
    }
  }
  std::vector<SplitProgress> merged;
  for (const auto& [id, entry] : best)
    merged.push_back(entry->progress);
  return merged;
}

}  // namespace sluice::connectors::hive
