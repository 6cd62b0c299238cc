// The `sluice` subcommands. Each returns the process exit code and writes its human or JSON
// output to stdout, diagnostics to stderr.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::cli {

struct CommonFlags {
  std::vector<std::string> overrides;  // --set key.path=value
  bool json = false;                   // --json: machine-readable output on stdout
  bool progress = true;                // --no-progress turns the live line off
  std::string state_dir;               // --state DIR: where plans and checkpoints live
  bool fresh = false;                  // --fresh: forget an unfinished earlier run
  bool wait = false;                   // run --wait: wait for a running run of the job
  bool read_through = false;           // verify --read-through: no digests in the databases
};

/// `sluice run JOB`: moves the data.
int RunCommand(const std::string& job_path, const CommonFlags& flags);
/// `sluice check JOB`: validates, connects, compares schemas; moves nothing.
int CheckCommand(const std::string& job_path, const CommonFlags& flags);
/// `sluice verify JOB`: compares the job's source and target; exit 5 when they differ.
int VerifyCommand(const std::string& job_path, const CommonFlags& flags);
/// 1234567 -> "1,234,567".
std::string GroupThousands(uint64_t value);

/// `sluice connectors [TYPE]`: the connector types and their options.
int ConnectorsCommand(const std::string& type, const CommonFlags& flags);

struct ServerFlags {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = ".sluice-server";
  std::string db;
  int max_parallel_runs = 32;
  std::string lineage;
  std::string alerts_file;
  bool open_ui = false;
  bool print_openapi = false;
};
/// `sluice server`: the REST API, scheduler and web UI, until SIGINT/SIGTERM.
int ServerCommand(const ServerFlags& flags);

struct ApplyFlags {
  std::string dir;
  std::string server = "http://127.0.0.1:8080";
  std::string token;  // else SLUICE_TOKEN
  std::string team;
  bool dry_run = false;
};
/// `sluice apply DIR`: makes the server's jobs equal a folder of job files.
int ApplyCommand(const ApplyFlags& flags);

/// Installs SIGINT/SIGTERM handlers that set the returned flag; a second signal exits at once.
const std::atomic<bool>* InstallStopHandlers();

}  // namespace sluice::cli
