#include "config/node.h"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace sluice::config {

std::string Mark::ToString() const {
  std::string name = origin ? *origin : std::string("<config>");
  if (line <= 0)
    return name;
  return fmt::format("{}:{}:{}", name, line, column);
}

Node Node::Scalar(std::string value, Mark mark) {
  Node node;
  node.kind_ = Kind::kScalar;
  node.scalar_ = std::move(value);
  node.mark_ = std::move(mark);
  return node;
}

Node Node::Map(Mark mark) {
  Node node;
  node.kind_ = Kind::kMap;
  node.mark_ = std::move(mark);
  return node;
}

Node Node::Sequence(Mark mark) {
  Node node;
  node.kind_ = Kind::kSequence;
  node.mark_ = std::move(mark);
  return node;
}

const Node* Node::Find(std::string_view key) const {
  if (kind_ != Kind::kMap)
    return nullptr;
  for (const Entry& entry : entries_) {
    if (entry.key == key)
      return &entry.value;
  }
  return nullptr;
}

Node* Node::Find(std::string_view key) {
  return const_cast<Node*>(static_cast<const Node*>(this)->Find(key));
}

void Node::Set(std::string key, Mark key_mark, Node value) {
  if (Node* existing = Find(key)) {
    *existing = std::move(value);
    return;
  }
  entries_.push_back(Entry{std::move(key), std::move(key_mark), std::move(value)});
}

std::string_view Node::KindName() const {
  switch (kind_) {
    case Kind::kNull:
      return "null";
    case Kind::kScalar:
      return "scalar";
    case Kind::kMap:
      return "map";
    case Kind::kSequence:
      return "list";
  }
  return "?";
}

Status Node::Error(std::string_view message) const {
  return InvalidConfig(fmt::format("{}: {}", mark_.ToString(), message));
}

class YamlLoader {
 public:
  explicit YamlLoader(std::shared_ptr<const std::string> origin) : origin_(std::move(origin)) {}

  Mark MarkOf(const YAML::Mark& mark) const {
    return Mark{origin_, mark.line + 1, mark.column + 1};
  }

  Result<Node> Convert(const YAML::Node& yaml) {
    Mark mark = MarkOf(yaml.Mark());
    switch (yaml.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: {
        Node node;
        node.mark_ = mark;
        return node;
      }
      case YAML::NodeType::Scalar: {
        Node node = Node::Scalar(yaml.Scalar(), mark);
        node.quoted_ = yaml.Tag() == "!";
        return node;
      }
      case YAML::NodeType::Sequence: {
        Node node = Node::Sequence(mark);
        for (const YAML::Node& item : yaml) {
          SLUICE_ASSIGN_OR_RETURN(Node child, Convert(item));
          node.items_.push_back(std::move(child));
        }
        return node;
      }
      case YAML::NodeType::Map: {
        Node node = Node::Map(mark);
        for (const auto& pair : yaml) {
          Mark key_mark = MarkOf(pair.first.Mark());
          if (!pair.first.IsScalar()) {
            return InvalidConfig(
                fmt::format("{}: map keys must be plain names", key_mark.ToString()));
          }
          std::string key = pair.first.Scalar();
          if (node.Find(key) != nullptr) {
            return InvalidConfig(fmt::format("{}: duplicate key '{}'", key_mark.ToString(), key));
          }
          SLUICE_ASSIGN_OR_RETURN(Node child, Convert(pair.second));
          if (child.is_null() && child.mark_.line == 0)
            child.mark_ = key_mark;
          node.entries_.push_back(Node::Entry{std::move(key), key_mark, std::move(child)});
        }
        return node;
      }
    }
    return Internal("unknown YAML node type");
  }

 private:
  std::shared_ptr<const std::string> origin_;
};

Result<Node> ParseYaml(std::string_view text, std::string origin) {
  auto shared_origin = std::make_shared<const std::string>(std::move(origin));
  YAML::Node yaml;
  try {
    yaml = YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    Mark mark{shared_origin, error.mark.line + 1, error.mark.column + 1};
    if (error.mark.is_null())
      mark.line = 0;
    return InvalidConfig(fmt::format("{}: invalid YAML: {}", mark.ToString(), error.msg));
  }
  YamlLoader loader(shared_origin);
  return loader.Convert(yaml);
}

Result<Node> ParseYamlFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Status status = ErrnoStatus("Cannot read job file", path, errno);
    // A missing job file is a configuration mistake, whatever errno says.
    return InvalidConfig(status.message());
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseYaml(text.str(), path);
}

namespace {

Status SubstituteScalar(Node* node) {
  const std::string& in = node->scalar();
  if (in.find('$') == std::string::npos)
    return Status::OK();
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    if (in.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (in.compare(i, 2, "${") != 0) {
      out += in[i++];
      continue;
    }
    size_t close = in.find('}', i + 2);
    if (close == std::string::npos) {
      return node->Error(fmt::format("unterminated '${{' in '{}'", in));
    }
    std::string_view body(in.data() + i + 2, close - i - 2);
    std::string_view name = body;
    std::string_view fallback;
    bool has_fallback = false;
    if (size_t sep = body.find(":-"); sep != std::string_view::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
      has_fallback = true;
    }
    if (name.rfind("env:", 0) == 0)
      name.remove_prefix(4);  // ${env:NAME} is ${NAME}, spelled like ${file:...}
    if (name.rfind("file:", 0) == 0) {
      // ${file:/run/secrets/pg}: a secret mounted as a file (its trailing newline dropped).
      // The error names the path, never what the file holds.
      std::string path(name.substr(5));
      std::ifstream file(path, std::ios::binary);
      if (path.empty() || !file) {
        if (!has_fallback) {
          return node->Error(fmt::format("cannot read the file '{}' named by '${{file:{}}}'",
                                         path, path));
        }
        out += fallback;
      } else {
        std::string content((std::istreambuf_iterator<char>(file)),
                            std::istreambuf_iterator<char>());
        while (!content.empty() && (content.back() == '\n' || content.back() == '\r'))
          content.pop_back();
        out += content;
      }
      i = close + 1;
      continue;
    }
    if (name.empty())
      return node->Error("empty variable name in '${}'");
    const char* value = std::getenv(std::string(name).c_str());
    if (value != nullptr && (*value != '\0' || !has_fallback)) {
      out += value;
    } else if (has_fallback) {
      out += fallback;
    } else {
      return node->Error(fmt::format(
          "environment variable '{}' is not set (write ${{{}:-default}} to give a default)", name,
          name));
    }
    i = close + 1;
  }
  node->set_scalar(std::move(out));
  return Status::OK();
}

}  // namespace

Status SubstituteEnvironment(Node* root) {
  switch (root->kind()) {
    case Node::Kind::kScalar:
      return SubstituteScalar(root);
    case Node::Kind::kMap:
      for (Node::Entry& entry : root->entries()) {
        SLUICE_RETURN_IF_ERROR(SubstituteEnvironment(&entry.value));
      }
      return Status::OK();
    case Node::Kind::kSequence:
      for (Node& item : root->items())
        SLUICE_RETURN_IF_ERROR(SubstituteEnvironment(&item));
      return Status::OK();
    case Node::Kind::kNull:
      return Status::OK();
  }
  return Status::OK();
}

Status ApplyOverride(Node* root, std::string_view assignment) {
  // Never quote the value, nor an argument that may be one: it may hold a password.
  size_t equals = assignment.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return InvalidConfig(
        "--set expects key.path=value (an argument without a key before '=' was given)");
  }
  std::string path(assignment.substr(0, equals));
  std::string value(assignment.substr(equals + 1));
  // Errors point at "--set <key>:<line>:<column>" inside the value.
  std::string origin = fmt::format("--set {}", path);
  SLUICE_ASSIGN_OR_RETURN(Node parsed, ParseYaml(value, origin));
  // Positions inside a one-line override are not useful; point at the override itself.
  Mark mark{std::make_shared<const std::string>(origin), 0, 0};
  if (parsed.is_null())
    parsed = Node::Scalar("", mark);

  Node* current = root;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty())
      return InvalidConfig(fmt::format("--set: empty key in '{}'", path));
    if (!current->is_map()) {
      return InvalidConfig(
          fmt::format("--set {}: '{}' is a {}, not a map", path, key, current->KindName()));
    }
    if (dot == std::string::npos) {
      current->Set(key, mark, std::move(parsed));
      return Status::OK();
    }
    Node* next = current->Find(key);
    if (next == nullptr) {
      current->Set(key, mark, Node::Map(mark));
      next = current->Find(key);
    }
    current = next;
    start = dot + 1;
  }
}

}  // namespace sluice::config
