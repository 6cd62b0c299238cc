// The `sluice` command: run, check and list data-integration jobs.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/failpoint.h"
#include "core/logging.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace sluice;
  CLI::App app{"Sluice moves data between stores: batch and streaming, one binary."};
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  cli::CommonFlags flags;
  std::string log_level = "info";
  bool quiet = false;
  app.add_option("--set", flags.overrides, "Override a job-file value: --set sink.table=orders")
      ->type_name("KEY=VALUE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      // One value per --set, so that `run --set k=v job.yaml` leaves the job to `run`.
      ->allow_extra_args(false);
  app.add_flag("--json", flags.json, "Print a machine-readable JSON result on stdout");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors on stderr; no progress line");

  std::string job_path;
  std::string connector_type;
  bool no_progress = false;
  CLI::App* run = app.add_subcommand("run", "Run a job until it completes");
  run->add_option("job", job_path, "Job file (YAML)")->required();
  run->add_flag("--no-progress", no_progress, "Do not show the live progress");
  run->add_flag("--fresh", flags.fresh,
                "Start over instead of resuming an unfinished earlier run of the job");
  run->add_flag("--wait", flags.wait,
                "When the job is already running, wait for that run to end, then run");
  app.add_option("--state", flags.state_dir,
                 "Directory of the state store (default: the job's `state:`, else .sluice)")
      ->type_name("DIR");
  CLI::App* check = app.add_subcommand(
      "check", "Validate a job, connect to both ends and compare schemas; moves nothing");
  check->add_option("job", job_path, "Job file (YAML)")->required();
  CLI::App* verify = app.add_subcommand(
      "verify", "Compare a job's source and target: counts and checksums per key range");
  verify->add_option("job", job_path, "Job file (YAML)")->required();
  verify->add_flag("--read-through", flags.read_through,
                   "Read both sides through Sluice instead of having MySQL and PostgreSQL "
                   "compute the checksums");
  CLI::App* list = app.add_subcommand("connectors", "List connector types and their options");
  list->add_option("type", connector_type, "Show only this connector");

  cli::ServerFlags server_flags;
  CLI::App* server = app.add_subcommand(
      "server", "Serve the REST API, scheduler, metrics and web UI (until Ctrl-C)");
  server->add_option("--listen", server_flags.listen, "HOST:PORT (default 127.0.0.1:8080)");
  server->add_option("--data", server_flags.data_dir,
                     "Folder of the server's store, key, tokens and job state (default "
                     ".sluice-server)")
      ->type_name("DIR");
  server->add_option("--db", server_flags.db,
                     "The store: postgres://user@host/db for a team's server (default: the SQLite "
                     "file server.db in --data)")
      ->type_name("URL");
  server->add_option("--max-parallel-runs", server_flags.max_parallel_runs,
                     "Runs moving data at once, over all teams (default 32)")
      ->check(CLI::Range(1, 10000));
  server->add_option("--lineage", server_flags.lineage,
                     "Send OpenLineage events to http(s)://... or file:/path.jsonl");
  server->add_option("--alerts", server_flags.alerts_file, "Alert rules file (YAML)")
      ->type_name("FILE");
  server->add_flag("--open", server_flags.open_ui, "Open the web UI in a browser");
  server->add_flag("--openapi", server_flags.print_openapi,
                   "Print the API's OpenAPI document and exit (no server starts)");

  cli::ApplyFlags apply_flags;
  std::string token_file;
  CLI::App* apply = app.add_subcommand(
      "apply", "Make a server's jobs equal a folder of job files (shows the difference first)");
  apply->add_option("dir", apply_flags.dir, "Folder of job files (*.yaml)")->required();
  apply->add_option("--server", apply_flags.server, "The server (default http://127.0.0.1:8080)");
  apply->add_option("--token-file", token_file, "File holding the API token (else $SLUICE_TOKEN)");
  apply->add_option("--team", apply_flags.team, "Act for this team (admin tokens)");
  apply->add_flag("--dry-run", apply_flags.dry_run, "Show and check the changes; change nothing");

  app.footer(
      "Exit codes: 0 ok, 1 internal error, 2 configuration error, 3 connection or resource "
      "error,\n            4 data error, 5 verification mismatch, 6 the job is already running "
      "(or was\n            taken over), 130 interrupted (run again to resume).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? cli::kExitOk : cli::kExitConfig;
  }

  log::Level level = log::Level::kInfo;
  log::ParseLevel(log_level, &level);
  if (quiet && level < log::Level::kWarn)
    level = log::Level::kWarn;
  log::SetLevel(level);
  // Failpoints (core/failpoint.h) are for tests: armed only through SLUICE_FAILPOINTS.
  Result<std::string> failpoints = failpoint::ArmFromEnvironment();
  if (!failpoints.ok()) {
    fmt::print(stderr, "sluice: {}\n", failpoints.status().ToString());
    return cli::kExitConfig;
  }
  if (!failpoints->empty())
    log::Warn("cli", "Failpoints armed for testing: {}", *failpoints);
  flags.progress = !no_progress && !quiet && !flags.json;

  if (run->parsed())
    return cli::RunCommand(job_path, flags);
  if (check->parsed())
    return cli::CheckCommand(job_path, flags);
  if (verify->parsed())
    return cli::VerifyCommand(job_path, flags);
  if (server->parsed())
    return cli::ServerCommand(server_flags);
  if (apply->parsed()) {
    if (!token_file.empty()) {
      std::ifstream in(token_file);
      if (!std::getline(in, apply_flags.token)) {
        fmt::print(stderr, "sluice apply: cannot read the token file '{}'\n", token_file);
        return cli::kExitConfig;
      }
    }
    return cli::ApplyCommand(apply_flags);
  }
  if (list->parsed())
    return cli::ConnectorsCommand(connector_type, flags);
  return cli::kExitConfig;
}
