#include "testing/test_servers.h"

#include <fmt/core.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "testing/temp_dir.h"

namespace sluice::testing {

namespace {

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string MysqlCommand(const TestServers& servers, const std::string& database) {
  return fmt::format(
      "MYSQL_PWD={} mariadb --no-defaults --protocol=TCP -h {} -P {} -u {} -N -B "
      "--default-character-set=utf8mb4 {}",
      ShellQuote(servers.mysql.password), servers.mysql.host, servers.mysql.port,
      servers.mysql.user, database.empty() ? "" : ShellQuote(database));
}

std::string PsqlCommand(const TestServers& servers, const std::string& database) {
  return fmt::format(
      "PGPASSWORD={} PGCLIENTENCODING=UTF8 {}/psql -X -q -v ON_ERROR_STOP=1 -A -t -F '\t' -h {} "
      "-p {} -U {} -d {}",
      ShellQuote(servers.postgres.password), servers.postgres_bin, servers.postgres.host,
      servers.postgres.port, servers.postgres.user,
      ShellQuote(database.empty() ? "postgres" : database));
}

}  // namespace

Result<TestServers> TestServers::FromEnvironment() {
  const char* path = std::getenv("SLUICE_TEST_SERVERS_ENV");
  if (path == nullptr || *path == '\0') {
    return Unavailable(
        "SLUICE_TEST_SERVERS_ENV is not set: run the tests through ctest (which starts the "
        "servers) or `scripts/test-servers.sh start /tmp/servers.env` and export "
        "SLUICE_TEST_SERVERS_ENV=/tmp/servers.env");
  }
  std::ifstream in(path);
  if (!in)
    return Unavailable(fmt::format("cannot read test server env file '{}'", path));
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    size_t equals = line.find('=');
    if (equals != std::string::npos)
      values[line.substr(0, equals)] = line.substr(equals + 1);
  }
  TestServers servers;
  servers.env_file = path;
  servers.mysql = {values["SLUICE_TEST_MYSQL_HOST"],
                   std::atoi(values["SLUICE_TEST_MYSQL_PORT"].c_str()),
                   values["SLUICE_TEST_MYSQL_USER"], values["SLUICE_TEST_MYSQL_PASSWORD"]};
  servers.postgres = {values["SLUICE_TEST_PG_HOST"],
                      std::atoi(values["SLUICE_TEST_PG_PORT"].c_str()),
                      values["SLUICE_TEST_PG_USER"], values["SLUICE_TEST_PG_PASSWORD"]};
  servers.mysql_socket = values["SLUICE_TEST_MYSQL_SOCKET"];
  servers.mysql_datadir = values["SLUICE_TEST_MYSQL_DATADIR"];
  servers.postgres_datadir = values["SLUICE_TEST_PG_DATADIR"];
  servers.postgres_bin = values["SLUICE_TEST_PG_BIN"];
  servers.kafka = {values["SLUICE_TEST_KAFKA_BOOTSTRAP"],
                   values["SLUICE_TEST_KAFKA_SASL_BOOTSTRAP"],
                   values["SLUICE_TEST_KAFKA_SASL_MECHANISM"],
                   values["SLUICE_TEST_KAFKA_SASL_USER"],
                   values["SLUICE_TEST_KAFKA_SASL_PASSWORD"],
                   values["SLUICE_TEST_KAFKA_RUN_CLASS"],
                   values["SLUICE_TEST_KAFKA_SSL_BOOTSTRAP"],
                   values["SLUICE_TEST_KAFKA_SSL_CA"],
                   values["SLUICE_TEST_KAFKA_SSL_OTHER_CA"],
                   values["SLUICE_TEST_KAFKA_SSL_CLIENT_CERT"],
                   values["SLUICE_TEST_KAFKA_SSL_CLIENT_KEY"],
                   values["SLUICE_TEST_KAFKA_SSL_CLIENT_KEY_PASSWORD"],
                   values["SLUICE_TEST_KAFKA_SASL_SSL_BOOTSTRAP"]};
  servers.redis = {values["SLUICE_TEST_REDIS_HOST"],
                   std::atoi(values["SLUICE_TEST_REDIS_PORT"].c_str()),
                   std::atoi(values["SLUICE_TEST_REDIS_REPLICA_PORT"].c_str()),
                   values["SLUICE_TEST_REDIS_PASSWORD"]};
  servers.schema_registry_url = values["SLUICE_TEST_SCHEMA_REGISTRY_URL"];
  servers.hdfs = {values["SLUICE_TEST_HDFS_WEBHDFS"], values["SLUICE_TEST_HDFS_NAMENODE"],
                  values["SLUICE_TEST_HDFS_USER"]};
  servers.s3 = {values["SLUICE_TEST_S3_ENDPOINT"], values["SLUICE_TEST_S3_ACCESS_KEY"],
                values["SLUICE_TEST_S3_SECRET_KEY"], values["SLUICE_TEST_S3_BUCKET"],
                values["SLUICE_TEST_S3_REGION"]};
  servers.metastore = {values["SLUICE_TEST_METASTORE_URI"]};
  bool has_main_servers =
      servers.mysql.port != 0 && servers.postgres.port != 0 && !servers.kafka.bootstrap.empty();
  bool has_on_demand_servers = !servers.hdfs.webhdfs_url.empty() || !servers.s3.endpoint.empty() ||
                               !servers.metastore.uri.empty();
  if (!has_main_servers && !has_on_demand_servers) {
    return Unavailable(fmt::format("test server env file '{}' is incomplete", path));
  }
  return servers;
}

Result<std::string> RunShell(const std::string& command) {
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr)
    return Internal("popen failed");
  std::string output;
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    output.append(buffer, n);
  int status = pclose(pipe);
  if (status != 0) {
    return Internal(fmt::format("command failed (status {}): {}\n{}", WEXITSTATUS(status),
                                command.substr(0, 300), output.substr(0, 4000)));
  }
  return output;
}

Result<std::string> MysqlExec(const TestServers& servers, const std::string& database,
                              const std::string& sql) {
  return RunShell(MysqlCommand(servers, database) + " -e " + ShellQuote(sql));
}

Status MysqlLoadFile(const TestServers& servers, const std::string& database,
                     const std::string& path) {
  return RunShell(MysqlCommand(servers, database) + " < " + ShellQuote(path)).status();
}

Result<std::string> PsqlExec(const TestServers& servers, const std::string& database,
                             const std::string& sql) {
  return RunShell(PsqlCommand(servers, database) + " -c " + ShellQuote(sql));
}

Status PsqlLoadFile(const TestServers& servers, const std::string& database,
                    const std::string& path) {
  return RunShell(PsqlCommand(servers, database) + " -f " + ShellQuote(path)).status();
}

Status KafkaCreateTopic(const TestServers& servers, const std::string& topic, int partitions) {
  SLUICE_RETURN_IF_ERROR(
      RunShell(fmt::format("{} org.apache.kafka.tools.TopicCommand --bootstrap-server {} --create "
                           "--topic {} --partitions {} --replication-factor 1",
                           ShellQuote(servers.kafka.run_class), servers.kafka.bootstrap,
                           ShellQuote(topic), partitions))
          .status());
  // The controller has the topic; wait (up to 30 s) until the broker serves every partition.
  std::string wait = fmt::format(
      R"sh(for i in $(seq 1 300); do
             leaders=$(kcat -b {} -L -t {} -m 5 2>/dev/null | grep -c 'partition .*, leader 1,')
             [ "$leaders" = {} ] && exit 0
             sleep 0.1
           done
           echo "topic {}: $leaders of {} partitions have a leader after 30 s"; exit 1)sh",
      servers.kafka.bootstrap, ShellQuote(topic), partitions, topic, partitions);
  return RunShell(wait).status();
}

Status KafkaSetProducerQuota(const TestServers& servers, const std::string& client_id,
                             std::optional<int64_t> bytes_per_second) {
  std::string change = bytes_per_second
                           ? fmt::format("--add-config producer_byte_rate={}", *bytes_per_second)
                           : std::string("--delete-config producer_byte_rate");
  return RunShell(fmt::format("{} org.apache.kafka.tools.ConfigCommand --bootstrap-server {} "
                              "--alter {} --entity-type clients --entity-name {}",
                              ShellQuote(servers.kafka.run_class), servers.kafka.bootstrap,
                              change, ShellQuote(client_id)))
      .status();
}

Status KafkaProduce(const TestServers& servers, const std::string& topic, const std::string& lines,
                    const std::string& key_delimiter) {
  TempDir dir;
  std::string input = dir.Join("messages");
  WriteFileOrDie(input, lines);
  std::string command = fmt::format("kcat -P -q -b {} -t {} -X acks=all -m 30 < {}",
                                    servers.kafka.bootstrap, ShellQuote(topic), ShellQuote(input));
  if (!key_delimiter.empty())
    command += " -K " + ShellQuote(key_delimiter);
  return RunShell(command).status();
}

Result<std::string> KafkaConsume(const TestServers& servers, const std::string& topic, int count,
                                 const std::string& format) {
  return RunShell(fmt::format(
      "timeout 120 kcat -C -q -b {} -t {} -o beginning -e -c {} -X isolation.level=read_committed "
      "-f {}",
      servers.kafka.bootstrap, ShellQuote(topic), count, ShellQuote(format)));
}

std::string DatasetsDir() {
  if (const char* env = std::getenv("SLUICE_DATASETS"); env != nullptr && *env != '\0') {
    return std::filesystem::is_directory(env) ? std::string(env) : std::string();
  }
  std::filesystem::path candidate =
      std::filesystem::path(SLUICE_SOURCE_DIR).parent_path() / "shared" / "datasets";
  return std::filesystem::is_directory(candidate) ? candidate.string() : std::string();
}

}  // namespace sluice::testing
