// Node: a parsed configuration tree (maps, sequences, scalars) that remembers where every value
// came from, so that validation errors read "job.yaml:12:5: unknown key 'tabel' in sink".
//
// Job files are YAML today; a later REST API can build the same tree from JSON. Map entries keep
// their file order. Nodes are plain values; copy freely.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sluice::config {

/// A position in a configuration source. `origin` is a file name or a description such as
/// "--set"; line and column are 1-based (0 when unknown).
struct Mark {
  std::shared_ptr<const std::string> origin;
  int line = 0;
  int column = 0;

  /// "job.yaml:12:5", or the bare origin when there is no line.
  std::string ToString() const;
};

class Node {
 public:
  enum class Kind { kNull, kScalar, kMap, kSequence };
  struct Entry;

  Node() = default;
  static Node Scalar(std::string value, Mark mark);
  static Node Map(Mark mark);
  static Node Sequence(Mark mark);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_map() const { return kind_ == Kind::kMap; }
  bool is_sequence() const { return kind_ == Kind::kSequence; }
  const Mark& mark() const { return mark_; }
  /// True when the scalar was written in quotes ("123" is then a string, not a number).
  bool quoted() const { return quoted_; }

  const std::string& scalar() const { return scalar_; }
  void set_scalar(std::string value) { scalar_ = std::move(value); }
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& entries() { return entries_; }
  const std::vector<Node>& items() const { return items_; }
  std::vector<Node>& items() { return items_; }

  /// Map lookup; nullptr when absent or not a map.
  const Node* Find(std::string_view key) const;
  Node* Find(std::string_view key);
  /// Adds or replaces `key` in a map.
  void Set(std::string key, Mark key_mark, Node value);

  /// "map", "list", "scalar" or "null", for error messages.
  std::string_view KindName() const;

  /// Builds "<mark>: <message>" as a config error.
  Status Error(std::string_view message) const;

 private:
  friend class YamlLoader;
  Kind kind_ = Kind::kNull;
  Mark mark_;
  bool quoted_ = false;
  std::string scalar_;
  std::vector<Entry> entries_;
  std::vector<Node> items_;
};

struct Node::Entry {
  std::string key;
  Mark key_mark;
  Node value;
};

/// Parses YAML text; `origin` names it in errors (usually the file path).
Result<Node> ParseYaml(std::string_view text, std::string origin);
/// Reads and parses a YAML file.
Result<Node> ParseYamlFile(const std::string& path);

/// Replaces ${VAR} and ${VAR:-default} in every scalar with the environment's value; "$${"
/// stands for a literal "${". An unset variable without a default is an error at its position.
Status SubstituteEnvironment(Node* root);

/// Applies a command-line override "a.b.c=value": the value is parsed as YAML (so lists and maps
/// work: "source.tables=[a, b]"); missing intermediate maps are created.
Status ApplyOverride(Node* root, std::string_view assignment);

}  // namespace sluice::config
