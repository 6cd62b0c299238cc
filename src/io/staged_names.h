// How the stores that stage a file as a hidden sibling (local, HDFS) name it and describe it:
// ".<name>.<tag>.inprogress" beside the final file, and the state {"file", "length"} its commits
// return. Internal to io (file_store.cc, webhdfs_file_store.cc); not part of FileStore's API.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "io/file_system.h"

namespace sluice::io::staged {

inline constexpr std::string_view kInProgress = ".inprogress";

inline bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}
inline bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

/// "dir" + "name" -> "dir/name"; either may be empty.
inline std::string JoinPath(std::string_view directory, std::string_view name) {
  if (directory.empty())
    return std::string(name);
  if (name.empty())
    return std::string(directory);
  return fmt::format("{}/{}", directory, name);
}

/// ".<name>.<tag>.inprogress" beside `path`.
inline std::string StagedSibling(std::string_view path, std::string_view tag) {
  std::string_view base = BaseName(path);
  std::string_view parent = path.substr(0, path.size() - base.size());
  return fmt::format("{}.{}.{}{}", parent, base, tag, kInProgress);
}

/// For a staged file's name, the final name it stands for; nullopt for any other name.
inline std::optional<std::string> FinalNameOfStaged(std::string_view name) {
  if (name.size() < 2 || name[0] != '.' || !EndsWith(name, kInProgress))
    return std::nullopt;
  std::string_view inner = name.substr(1, name.size() - 1 - kInProgress.size());
  size_t dot = inner.find_last_of('.');
  if (dot == std::string_view::npos || dot == 0)
    return std::nullopt;
  return std::string(inner.substr(0, dot));
}

/// A staged sibling's committed state: the sibling (relative to the store's root) and how many
/// of its bytes are committed.
struct SiblingState {
  std::string file;
  uint64_t length = 0;
};

inline std::string EncodeSiblingState(const SiblingState& state) {
  return nlohmann::json{{"file", state.file}, {"length", state.length}}.dump();
}

/// `store` names the kind of store in the message ("local", "HDFS").
inline Result<SiblingState> DecodeSiblingState(std::string_view text, std::string_view store) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("file") || !json["file"].is_string() ||
      !json.contains("length") || !json["length"].is_number_unsigned()) {
    return DataError(fmt::format("not the state of a staged {} file: {}", store, text));
  }
  return SiblingState{json["file"].get<std::string>(), json["length"].get<uint64_t>()};
}

}  // namespace sluice::io::staged
