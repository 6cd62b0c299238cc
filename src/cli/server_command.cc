#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "connectors/registry.h"
#include "server/api.h"
#include "server/server.h"
#include <nlohmann/json.hpp>

namespace sluice::cli {

int ServerCommand(const ServerFlags& server_flags) {
  if (server_flags.print_openapi) {
    fmt::print("{}\n", server::OpenApiDocument().dump(2));
    return kExitOk;
  }
  const std::atomic<bool>* stop = InstallStopHandlers();
  server::ServerOptions options;
  options.listen = server_flags.listen;
  options.data_dir = server_flags.data_dir;
  options.db = server_flags.db;
  options.max_parallel_runs = server_flags.max_parallel_runs;
  options.lineage = server_flags.lineage;
  options.alerts_file = server_flags.alerts_file;
  Result<std::unique_ptr<server::Server>> started =
      server::Server::Start(options, connectors::ConnectorRegistry::Builtin());
  if (!started.ok()) {
    fmt::print(stderr, "sluice server: {}\n", started.status().ToString());
    return ExitCodeFor(started.status());
  }
  server::Server& server = **started;
  // Like a notebook server: the first start shows the admin token once, in the UI's address,
  // to the person who started it (stdout, never the log). Later starts point at its file.
  std::string ui = server.url() + "/";
  if (!server.new_admin_token().empty())
    ui += "#token=" + server.new_admin_token();
  fmt::print("Sluice server on {}\n  UI:      {}\n  API:     {}/api/v1 (OpenAPI: "
             "{}/api/v1/openapi.json)\n  metrics: {}/metrics\n  admin token: {}\n",
             server.url(), ui, server.url(), server.url(), server.url(),
             server.admin_token_path());
  std::fflush(stdout);
  if (server_flags.open_ui) {
    // Best effort: a desktop opens the UI; a headless machine just has the address above.
    std::string command = fmt::format("xdg-open '{}' >/dev/null 2>&1 &", ui);
    if (std::system("command -v xdg-open >/dev/null 2>&1") == 0)
      (void)std::system(command.c_str());
  }
  while (!stop->load())
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  fmt::print(stderr, "sluice server: stopping (running runs stop at a checkpoint and resume at "
                     "the next start)\n");
  server.Shutdown();
  return kExitOk;
}

}  // namespace sluice::cli
