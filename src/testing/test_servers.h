// TestServers: where the integration tests find the real MariaDB and PostgreSQL servers that
// scripts/test-servers.sh started on loopback (CTest starts them once per run as the `servers`
// fixture), plus shell helpers that feed SQL to them through the official command-line clients.
#pragma once

#include <string>

#include "core/result.h"

namespace sluice::testing {

struct ServerEndpoint {
  std::string host;
  int port = 0;
  std::string user;
  std::string password;
};

struct TestServers {
  ServerEndpoint mysql;
  ServerEndpoint postgres;
  std::string mysql_socket;
  std::string mysql_datadir;
  std::string postgres_datadir;
  std::string postgres_bin;  // directory of pg_ctl, psql
  std::string env_file;

  /// Reads $SLUICE_TEST_SERVERS_ENV. Fails with a message saying how to start the servers.
  static Result<TestServers> FromEnvironment();
};

/// Runs `command` with /bin/sh; returns its stdout, or an error with its exit status and output.
Result<std::string> RunShell(const std::string& command);

/// Runs SQL through the `mariadb` client against `database` ("" = none). Returns stdout (tab
/// separated, no headers).
Result<std::string> MysqlExec(const TestServers& servers, const std::string& database,
                              const std::string& sql);
/// Loads a .sql file through the `mariadb` client.
Status MysqlLoadFile(const TestServers& servers, const std::string& database,
                     const std::string& path);
/// Runs SQL through `psql` against `database`. Returns stdout (unaligned, tab separated, no
/// headers).
Result<std::string> PsqlExec(const TestServers& servers, const std::string& database,
                             const std::string& sql);
Status PsqlLoadFile(const TestServers& servers, const std::string& database,
                    const std::string& path);

/// Directory of the shared sample databases ($SLUICE_DATASETS, else ../shared/datasets next to
/// the repository). Empty when absent.
std::string DatasetsDir();

}  // namespace sluice::testing
