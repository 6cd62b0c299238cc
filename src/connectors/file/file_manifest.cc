#include "connectors/file/file_manifest.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <thread>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "connectors/file/part_file.h"
#include "core/value_text.h"
#include "io/file_system.h"

namespace sluice::connectors::file {

namespace {

constexpr std::string_view kPrefix = ".sluice-";
constexpr std::string_view kSuffix = ".manifest";
constexpr std::string_view kTempSuffix = ".manifest.tmp";
constexpr std::string_view kInProgress = ".inprogress";
constexpr int kVersion = 2;

using nlohmann::json;

// A missing directory, or a file where it should be, holds no manifests; Open reports the latter.
bool IsDirectory(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string EncodeJob(std::string_view job) {
  std::string out;
  for (unsigned char c : job) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
    if (safe) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The slot of a manifest (or temp file) of the job whose encoded name is `job`, or -1.
int SlotOf(std::string_view name, std::string_view job, std::string_view suffix) {
  if (!StartsWith(name, kPrefix) || !EndsWith(name, suffix)) {
    return -1;
  }
  name.remove_prefix(kPrefix.size());
  name.remove_suffix(suffix.size());
  if (!StartsWith(name, job) || name.size() < job.size() + 2 || name[job.size()] != '-') {
    return -1;
  }
  std::string_view digits = name.substr(job.size() + 1);
  if (digits.size() > 6) {
    return -1;
  }
  int slot = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return -1;
    }
    slot = slot * 10 + (c - '0');
  }
  return slot;
}

// Split ids and positions are connector-defined bytes (a file path may not be UTF-8), which a
// JSON string cannot always carry: those go as {"hex": "..."}.
json EncodeText(const std::string& text) {
  if (IsValidUtf8(text)) {
    return text;
  }
  std::string hex;
  for (unsigned char c : text) {
    hex += fmt::format("{:02x}", c);
  }
  return json{{"hex", hex}};
}

std::string DecodeText(const json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  std::string hex = value.at("hex").get<std::string>();
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<io::InputStream> in,
                          io::OpenInputFile(path, io::Compression::kNone));
  std::string text;
  char buffer[16384];
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(size_t got, in->Read(buffer, sizeof(buffer)));
    if (got == 0) {
      return text;
    }
    text.append(buffer, got);
  }
}

Status WriteAndSync(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    return ErrnoStatus("Cannot create", path, errno);
  }
  Status status;
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      status = ErrnoStatus("Cannot write", path, errno);
      break;
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  if (status.ok() && ::fsync(fd) != 0) {
    status = ErrnoStatus("Cannot sync", path, errno);
  }
  if (::close(fd) != 0 && status.ok()) {
    status = ErrnoStatus("Cannot close", path, errno);
  }
  return status;
}

// An open file descriptor, closed on destruction (which also drops a flock held on it).
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string FencePath(const std::string& directory, std::string_view job,
                      std::string_view suffix) {
  return fmt::format("{}/{}{}{}", directory, kPrefix, EncodeJob(job), suffix);
}

// Opens the job's lock file and locks it (`operation` LOCK_SH or LOCK_EX). A holder frozen in
// the middle of a commit would block forever: give up after a while as a transient failure.
Result<std::unique_ptr<FileDescriptor>> LockRunFence(const std::string& directory,
                                                     std::string_view job, int operation) {
  std::string path = FencePath(directory, job, ".lock");
  auto fd = std::make_unique<FileDescriptor>(
      ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666));
  if (fd->get() < 0)
    return ErrnoStatus("Cannot open the run fence", path, errno);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (::flock(fd->get(), operation | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR)
      return ErrnoStatus("Cannot lock the run fence", path, errno);
    if (std::chrono::steady_clock::now() > deadline) {
      return Aborted(fmt::format(
          "the run fence '{}' stayed locked for 60 s by another run of job '{}' (frozen in the "
          "middle of a commit?)",
          path, job));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return fd;
}

// The epoch stored for the job (0 when none is).
Result<uint64_t> ReadRunEpoch(const std::string& directory, std::string_view job) {
  std::string path = FencePath(directory, job, ".epoch");
  if (!io::PathExists(path))
    return uint64_t{0};
  SLUICE_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  uint64_t epoch = 0;
  if (std::sscanf(text.c_str(), "epoch %" SCNu64, &epoch) != 1) {
    return DataError(fmt::format("run fence '{}' is damaged (it should read 'epoch N'); delete "
                                 "it to let the next run claim the outputs",
                                 path));
  }
  return epoch;
}

}  // namespace

std::string InProgressPath(std::string_view path, uint64_t epoch) {
  if (epoch == 0)
    return std::string(path) + std::string(kInProgress);
  return fmt::format("{}.e{}{}", path, epoch, kInProgress);
}

std::optional<std::string_view> FinalNameOfInProgress(std::string_view name) {
  if (!EndsWith(name, kInProgress))
    return std::nullopt;
  name.remove_suffix(kInProgress.size());
  // ".e<digits>" after the final name, when a run epoch named the file.
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos && name.size() > dot + 2 && name[dot + 1] == 'e') {
    std::string_view digits = name.substr(dot + 2);
    if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      name = name.substr(0, dot);
  }
  return name;
}

Status ClaimRunFence(const std::string& directory, std::string_view job, uint64_t epoch) {
  SLUICE_RETURN_IF_ERROR(io::CreateDirectories(directory));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<FileDescriptor> lock,
                          LockRunFence(directory, job, LOCK_EX));
  SLUICE_ASSIGN_OR_RETURN(uint64_t current, ReadRunEpoch(directory, job));
  if (current > epoch)
    return FencedOff(job, fmt::format("file outputs in '{}'", directory), epoch, current);
  if (current == epoch)
    return Status::OK();  // this run, claiming again after a retry
  std::string path = FencePath(directory, job, ".epoch");
  SLUICE_RETURN_IF_ERROR(WriteAndSync(path + ".tmp", fmt::format("epoch {}\n", epoch)));
  SLUICE_RETURN_IF_ERROR(io::RenameFile(path + ".tmp", path));
  return io::SyncDirectory(directory);
}

Status CommitUnderRunFence(const std::string& directory, std::string_view job, uint64_t epoch,
                           const std::function<Status()>& commit) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<FileDescriptor> lock,
                          LockRunFence(directory, job, LOCK_SH));
  SLUICE_ASSIGN_OR_RETURN(uint64_t current, ReadRunEpoch(directory, job));
  if (current != epoch)
    return FencedOff(job, fmt::format("file outputs in '{}'", directory), epoch, current);
  return commit();
}

std::string ManifestDirectory(std::string_view path_template) {
  size_t placeholder = path_template.find("{stream}");
  std::string_view fixed =
      placeholder == std::string_view::npos ? path_template : path_template.substr(0, placeholder);
  // The directory of a file named after the fixed text: "out/" and "out/orders-" give "out".
  return io::ParentDirectory(std::string(fixed) + "x");
}

std::string ManifestPath(const std::string& directory, std::string_view job, int slot) {
  return fmt::format("{}/{}{}-{}{}", directory, kPrefix, EncodeJob(job), slot, kSuffix);
}

std::string EncodeManifest(const WriterManifest& manifest) {
  json streams = json::array();
  for (const StreamManifest& stream : manifest.streams) {
    json entry{{"stream", EncodeText(stream.stream)},
               {"next_part", stream.next_part},
               {"complete", json::array()}};
    for (const CompletePart& part : stream.complete) {
      entry["complete"].push_back(
          json{{"path", EncodeText(part.path)}, {"file", EncodeText(part.file)}});
    }
    if (stream.current) {
      const CurrentPart& current = *stream.current;
      entry["current"] = json{{"path", EncodeText(current.path)},
                              {"file", EncodeText(current.file)},
                              {"part", current.part},
                              {"length", current.length},
                              {"rows", current.rows},
                              {"text_bytes", current.text_bytes}};
      if (!current.format_state.empty())
        entry["current"]["format_state"] = EncodeText(current.format_state);
    }
    streams.push_back(std::move(entry));
  }
  json progress = json::array();
  for (const TaggedProgress& tagged : manifest.progress) {
    progress.push_back(json{{"split", EncodeText(tagged.progress.split_id)},
                            {"position", EncodeText(tagged.progress.position)},
                            {"done", tagged.progress.done},
                            {"generation", tagged.generation},
                            {"checkpoint", tagged.checkpoint}});
  }
  json root{{"version", kVersion},
            {"job", EncodeText(manifest.job)},
            {"slot", manifest.slot},
            {"generation", manifest.generation},
            {"epoch", manifest.epoch},
            {"single_file", manifest.single_file},
            {"streams", std::move(streams)},
            {"progress", std::move(progress)}};
  return root.dump() + "\n";
}

Result<WriterManifest> DecodeManifest(std::string_view text, const std::string& name) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return DataError(fmt::format("manifest '{}' is not valid JSON", name));
  }
  // Field access throws on a missing key or a wrong type: a manifest edited by hand.
  try {
    int version = root.at("version").get<int>();
    if (version != 1 && version != kVersion) {
      return DataError(fmt::format(
          "manifest '{}' has version {}; this Sluice reads versions 1 and {}", name,
          root.at("version").dump(), kVersion));
    }
    // Version 1 kept a part's bytes in "<final name>.inprogress".
    auto file_of = [&](const json& entry, const std::string& path) {
      return version == 1 ? InProgressPath(path, 0) : DecodeText(entry.at("file"));
    };
    WriterManifest manifest;
    manifest.job = DecodeText(root.at("job"));
    manifest.slot = root.at("slot").get<int>();
    manifest.generation = root.at("generation").get<uint64_t>();
    if (version >= 2)
      manifest.epoch = root.at("epoch").get<uint64_t>();
    manifest.single_file = root.at("single_file").get<bool>();
    for (const json& entry : root.at("streams")) {
      StreamManifest stream;
      stream.stream = DecodeText(entry.at("stream"));
      stream.next_part = entry.at("next_part").get<int>();
      for (const json& complete : entry.at("complete")) {
        CompletePart part;
        part.path = DecodeText(version == 1 ? complete : complete.at("path"));
        part.file = file_of(complete, part.path);
        stream.complete.push_back(std::move(part));
      }
      if (entry.contains("current")) {
        const json& current = entry.at("current");
        CurrentPart part;
        part.path = DecodeText(current.at("path"));
        part.file = file_of(current, part.path);
        part.part = current.at("part").get<int>();
        part.length = current.at("length").get<uint64_t>();
        part.rows = current.at("rows").get<int64_t>();
        part.text_bytes = current.at("text_bytes").get<uint64_t>();
        if (current.contains("format_state"))
          part.format_state = DecodeText(current.at("format_state"));
        stream.current = std::move(part);
      }
      manifest.streams.push_back(std::move(stream));
    }
    for (const json& entry : root.at("progress")) {
      TaggedProgress tagged;
      tagged.progress.split_id = DecodeText(entry.at("split"));
      tagged.progress.position = DecodeText(entry.at("position"));
      tagged.progress.done = entry.at("done").get<bool>();
      tagged.generation = entry.at("generation").get<uint64_t>();
      tagged.checkpoint = entry.at("checkpoint").get<uint64_t>();
      manifest.progress.push_back(std::move(tagged));
    }
    return manifest;
  } catch (const std::exception& error) {
    return DataError(fmt::format("manifest '{}' is malformed: {}", name, error.what()));
  }
}

Result<std::vector<WriterManifest>> LoadManifests(const std::string& directory,
                                                  std::string_view job) {
  std::vector<WriterManifest> manifests;
  if (!IsDirectory(directory)) {
    return manifests;
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, io::ListDirectory(directory));
  std::sort(names.begin(), names.end());
  std::string encoded = EncodeJob(job);
  for (const std::string& name : names) {
    std::string path = directory + "/" + name;
    if (SlotOf(name, encoded, kTempSuffix) >= 0) {
      // A manifest that never got renamed into place: its commit did not happen.
      SLUICE_RETURN_IF_ERROR(io::RemoveFile(path));
      continue;
    }
    int slot = SlotOf(name, encoded, kSuffix);
    if (slot < 0) {
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
    SLUICE_ASSIGN_OR_RETURN(WriterManifest manifest, DecodeManifest(text, path));
    if (manifest.job != job || manifest.slot != slot) {
      return DataError(fmt::format("manifest '{}' belongs to job '{}' slot {}", path, manifest.job,
                                   manifest.slot));
    }
    manifests.push_back(std::move(manifest));
  }
  std::sort(manifests.begin(), manifests.end(),
            [](const WriterManifest& a, const WriterManifest& b) { return a.slot < b.slot; });
  return manifests;
}

Status WriteManifest(const std::string& directory, const WriterManifest& manifest) {
  std::string path = ManifestPath(directory, manifest.job, manifest.slot);
  std::string temp = path + ".tmp";
  SLUICE_RETURN_IF_ERROR(WriteAndSync(temp, EncodeManifest(manifest)));
  SLUICE_RETURN_IF_ERROR(io::RenameFile(temp, path));
  return io::SyncDirectory(directory);
}

Status RemoveManifests(const std::string& directory, std::string_view job) {
  if (!IsDirectory(directory)) {
    return Status::OK();
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, io::ListDirectory(directory));
  std::string encoded = EncodeJob(job);
  bool removed = false;
  for (const std::string& name : names) {
    if (SlotOf(name, encoded, kSuffix) >= 0 || SlotOf(name, encoded, kTempSuffix) >= 0) {
      SLUICE_RETURN_IF_ERROR(io::RemoveFile(directory + "/" + name));
      removed = true;
    }
  }
  return removed ? io::SyncDirectory(directory) : Status::OK();
}

Status RecoverManifest(WriterManifest* manifest, std::vector<std::string>* directories,
                       bool keep_current_files) {
  auto touched = [&](const std::string& path) {
    std::string directory = io::ParentDirectory(path);
    if (std::find(directories->begin(), directories->end(), directory) == directories->end()) {
      directories->push_back(directory);
    }
  };
  std::string manifest_name = fmt::format("job '{}' slot {}", manifest->job, manifest->slot);
  for (StreamManifest& stream : manifest->streams) {
    for (const CompletePart& part : stream.complete) {
      if (io::PathExists(part.file)) {
        SLUICE_RETURN_IF_ERROR(io::RenameFile(part.file, part.path));
        touched(part.path);
      } else if (!io::PathExists(part.path)) {
        return NotFound(fmt::format(
            "cannot resume {}: its committed part '{}' is gone (neither it nor '{}' exists); "
            "run the job with --fresh",
            manifest_name, part.path, part.file));
      }
    }
    if (!stream.current) {
      continue;
    }
    const CurrentPart& current = *stream.current;
    const std::string& in_progress = current.file;
    if (io::PathExists(in_progress)) {
      // Bytes after the committed length were written after the last commit: their rows are
      // read again from the committed position. A run that may still write there keeps its file;
      // the caller copies the committed bytes out instead.
      if (!keep_current_files) {
        SLUICE_RETURN_IF_ERROR(TruncateFile(in_progress, current.length)
                                   .WithContext(fmt::format("cannot resume {}", manifest_name)));
      }
    } else if (io::PathExists(current.path)) {
      stream.current.reset();  // published by a Finish that a crash interrupted
    } else {
      return NotFound(fmt::format(
          "cannot resume {}: its in-progress part '{}' is gone; run the job with --fresh",
          manifest_name, in_progress));
    }
  }
  return Status::OK();
}

std::vector<SplitProgress> MergeProgress(const std::vector<WriterManifest>& manifests) {
  std::map<std::string, const TaggedProgress*> best;
  for (const WriterManifest& manifest : manifests) {
    for (const TaggedProgress& tagged : manifest.progress) {
      const TaggedProgress*& slot = best[tagged.progress.split_id];
      if (slot == nullptr || std::tie(tagged.generation, tagged.checkpoint) >
                                 std::tie(slot->generation, slot->checkpoint)) {
        slot = &tagged;
      }
    }
  }
  std::vector<SplitProgress> out;
  out.reserve(best.size());
  for (const auto& [id, tagged] : best) {
    out.push_back(tagged->progress);
  }
  return out;
}

}  // namespace sluice::connectors::file
