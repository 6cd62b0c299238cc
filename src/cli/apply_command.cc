// `sluice apply DIR`: makes a server's jobs equal a folder of job files, so that jobs live in
// git. It reads every *.yaml / *.yml file of DIR (one job each), compares them with the
// server's jobs, prints the difference, has the server check every new or changed job
// (dry run) and only then creates, replaces and deletes. Applying the same folder again
// changes nothing.
#include <fmt/core.h>
#include <httplib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "config/node.h"

namespace sluice::cli {

namespace {

struct Plan {
  std::map<std::string, std::string> create;   // name -> yaml
  std::map<std::string, std::string> replace;  // name -> yaml
  std::map<std::string, std::string> before;   // name -> the server's yaml (replaced ones)
  std::set<std::string> remove;
  int unchanged = 0;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// A short line diff: lines only in the old text with '-', only in the new with '+'.
void PrintDiff(const std::string& before, const std::string& after) {
  const std::vector<std::string> a = Lines(before);
  const std::vector<std::string> b = Lines(after);
  // Longest common subsequence, fine for job files of a few hundred lines.
  std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      ++i;
      ++j;
    } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
      fmt::print("    + {}\n", b[j++]);
    } else {
      fmt::print("    - {}\n", a[i++]);
    }
  }
}

std::string ErrorMessage(const httplib::Result& result) {
  if (!result)
    return fmt::format("no answer ({})", httplib::to_string(result.error()));
  nlohmann::json body = nlohmann::json::parse(result->body, nullptr, false);
  if (body.is_object() && body.contains("error"))
    return fmt::format("HTTP {}: {}", result->status, body["error"].value("message", ""));
  return fmt::format("HTTP {}", result->status);
}

}  // namespace

int ApplyCommand(const ApplyFlags& apply) {
  std::string token = apply.token;
  if (token.empty()) {
    if (const char* env = std::getenv("SLUICE_TOKEN"); env != nullptr)
      token = env;
  }
  if (token.empty()) {
    fmt::print(stderr,
               "sluice apply: give the server's API token in SLUICE_TOKEN or --token-file\n");
    return kExitConfig;
  }
  // The folder's jobs, by name.
  std::map<std::string, std::string> wanted;
  std::error_code error;
  if (!std::filesystem::is_directory(apply.dir, error)) {
    fmt::print(stderr, "sluice apply: '{}' is not a folder\n", apply.dir);
    return kExitConfig;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(apply.dir)) {
    const std::string extension = entry.path().extension().string();
    if (entry.is_regular_file() && (extension == ".yaml" || extension == ".yml"))
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const std::filesystem::path& path : files) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Result<config::Node> root = config::ParseYaml(text, path.string());
    if (!root.ok()) {
      fmt::print(stderr, "sluice apply: {}\n", root.status().message());
      return kExitConfig;
    }
    const config::Node* name = root->Find("name");
    if (name == nullptr || !name->is_scalar() || name->scalar().empty()) {
      fmt::print(stderr, "sluice apply: {}: a job file needs a 'name'\n", path.string());
      return kExitConfig;
    }
    if (!wanted.emplace(name->scalar(), text).second) {
      fmt::print(stderr, "sluice apply: {}: job '{}' is defined twice in {}\n", path.string(),
                 name->scalar(), apply.dir);
      return kExitConfig;
    }
  }

  httplib::Client client(apply.server);
  client.set_connection_timeout(10);
  client.set_read_timeout(60);
  const httplib::Headers headers = {{"Authorization", "Bearer " + token}};
  const std::string team_query = apply.team.empty() ? "" : "?team=" + apply.team;
  httplib::Result listed = client.Get("/api/v1/jobs" + team_query, headers);
  if (!listed || listed->status != 200) {
    fmt::print(stderr, "sluice apply: cannot list the server's jobs at {}: {}\n", apply.server,
               ErrorMessage(listed));
    return kExitConnection;
  }
  std::map<std::string, std::string> existing;
  const nlohmann::json listing = nlohmann::json::parse(listed->body, nullptr, false);
  if (!listing.is_object() || !listing.contains("jobs")) {
    fmt::print(stderr, "sluice apply: {} did not answer with a job list\n", apply.server);
    return kExitConnection;
  }
  for (const nlohmann::json& job : listing["jobs"])
    existing[job["name"].get<std::string>()] = job["yaml"].get<std::string>();

  Plan plan;
  for (const auto& [name, yaml] : wanted) {
    auto found = existing.find(name);
    if (found == existing.end()) {
      plan.create[name] = yaml;
    } else if (found->second != yaml) {
      plan.replace[name] = yaml;
      plan.before[name] = found->second;
    } else {
      ++plan.unchanged;
    }
  }
  for (const auto& [name, yaml] : existing) {
    if (wanted.count(name) == 0)
      plan.remove.insert(name);
  }

  for (const auto& [name, yaml] : plan.create)
    fmt::print("+ job {} (new)\n", name);
  for (const auto& [name, yaml] : plan.replace) {
    fmt::print("~ job {}\n", name);
    PrintDiff(plan.before[name], yaml);
  }
  for (const std::string& name : plan.remove)
    fmt::print("- job {} (not in {})\n", name, apply.dir);
  fmt::print("{} to create, {} to change, {} to delete, {} unchanged\n", plan.create.size(),
             plan.replace.size(), plan.remove.size(), plan.unchanged);
  if (plan.create.empty() && plan.replace.empty() && plan.remove.empty())
    return kExitOk;

  // The server checks every new or changed job before anything changes.
  const std::string separator = team_query.empty() ? "?" : "&";
  bool all_valid = true;
  auto check = [&](const std::string& name, const std::string& yaml) {
    httplib::Result checked =
        client.Put("/api/v1/jobs/" + name + team_query + separator + "dry_run=true", headers,
                   yaml, "application/yaml");
    if (!checked || checked->status / 100 != 2) {
      fmt::print(stderr, "sluice apply: job '{}': {}\n", name, ErrorMessage(checked));
      all_valid = false;
    }
  };
  for (const auto& [name, yaml] : plan.create)
    check(name, yaml);
  for (const auto& [name, yaml] : plan.replace)
    check(name, yaml);
  if (!all_valid) {
    fmt::print(stderr, "sluice apply: nothing changed\n");
    return kExitConfig;
  }
  if (apply.dry_run) {
    fmt::print("dry run: every job checks out; nothing changed\n");
    return kExitOk;
  }
  // Jobs a job runs `after` must exist before it: apply in passes until none is left.
  std::map<std::string, std::string> pending = plan.create;
  pending.insert(plan.replace.begin(), plan.replace.end());
  while (!pending.empty()) {
    std::vector<std::string> done;
    std::string last_error;
    for (const auto& [name, yaml] : pending) {
      httplib::Result put =
          client.Put("/api/v1/jobs/" + name + team_query, headers, yaml, "application/yaml");
      if (put && put->status / 100 == 2) {
        fmt::print("applied job {}\n", name);
        done.push_back(name);
      } else {
        last_error = fmt::format("job '{}': {}", name, ErrorMessage(put));
      }
    }
    if (done.empty()) {
      fmt::print(stderr, "sluice apply: {}\n", last_error);
      return kExitConnection;
    }
    for (const std::string& name : done)
      pending.erase(name);
  }
  for (const std::string& name : plan.remove) {
    httplib::Result deleted = client.Delete("/api/v1/jobs/" + name + team_query, headers);
    if (!deleted || deleted->status / 100 != 2) {
      fmt::print(stderr, "sluice apply: cannot delete job '{}': {}\n", name,
                 ErrorMessage(deleted));
      return kExitConnection;
    }
    fmt::print("deleted job {}\n", name);
  }
  return kExitOk;
}

}  // namespace sluice::cli
