// TestServers: where the integration tests find the real MariaDB, PostgreSQL, Apache Kafka and
// Redis servers that scripts/test-servers.sh started on loopback (CTest starts them once per run
// as the `servers` fixture; the schema registry as the `registry` fixture; HDFS, an S3 store and
// a Hive metastore as the `hdfs`, `s3` and `metastore` fixtures), plus shell helpers that feed
// SQL to them through the official command-line clients.
#pragma once

#include <optional>
#include <string>

#include "core/result.h"

namespace sluice::testing {

struct ServerEndpoint {
  std::string host;
  int port = 0;
  std::string user;
  std::string password;
};

/// The single-node Kafka broker: a PLAINTEXT listener, a SASL_PLAINTEXT one (mechanism PLAIN)
/// that lets in `sasl_user` (and user "denied") with `sasl_password` (ACLs are checked, but only
/// what a test denies with an ACL is denied: resources without ACLs are open to all), and
/// an SSL one whose certificate (for 127.0.0.1 and localhost) `ssl_ca` signed; a client
/// certificate is checked against `ssl_ca` when presented; and a SASL_SSL one: the same logins
/// as SASL_PLAINTEXT over TLS with the SSL listener's certificate.
struct KafkaEndpoint {
  std::string bootstrap;       // host:port, PLAINTEXT
  std::string sasl_bootstrap;  // host:port, SASL_PLAINTEXT
  std::string sasl_mechanism;  // PLAIN
  std::string sasl_user;
  std::string sasl_password;
  std::string run_class;  // script running a main class of the broker's jars (admin tools)
  std::string ssl_bootstrap;  // host:port, SSL
  std::string ssl_ca;         // PEM of the self-signed CA that signed the broker's certificate
  std::string ssl_other_ca;   // PEM of another self-signed CA, which signed nothing
  std::string ssl_client_certificate;  // PEM, signed by ssl_ca
  std::string ssl_client_key;          // PEM, encrypted with ssl_client_key_password
  std::string ssl_client_key_password;
  std::string sasl_ssl_bootstrap;  // host:port, SASL_SSL (sasl_* logins, ssl_ca's certificate)
};

/// The Redis primary and its replica (`replicaof` the primary, linked before the fixture's start
/// ends), both on loopback, in memory only, the same password for both (AUTH with the default
/// user).
struct RedisEndpoint {
  std::string host;
  int port = 0;          // the primary
  int replica_port = 0;  // its replica (read-only)
  std::string password;
};

/// The HDFS of the `hdfs` fixture (scripts/test-servers.sh start-hdfs): Hadoop's MiniDFSCluster,
/// one NameNode and one DataNode, WebHDFS on, permissions off, one replica, 1 MiB blocks.
struct HdfsEndpoint {
  std::string webhdfs_url;   // http://127.0.0.1:PORT, the NameNode's HTTP address
  std::string namenode_uri;  // hdfs://127.0.0.1:PORT, its RPC address
  std::string user;          // the user name tests act as
};

/// The S3-compatible store of the `s3` fixture (scripts/test-servers.sh start-s3): s3proxy on a
/// folder, checking AWS Signature V4, with one empty bucket.
struct S3Endpoint {
  std::string endpoint;  // http://127.0.0.1:PORT
  std::string access_key;
  std::string secret_key;
  std::string bucket;
  std::string region;
};

/// The Hive metastore of the `metastore` fixture (scripts/test-servers.sh start-metastore): Hive's
/// standalone metastore on an embedded Derby, Thrift's binary protocol unframed and without SASL,
/// a new database every start (only `default` in it).
struct MetastoreEndpoint {
  std::string uri;  // thrift://127.0.0.1:PORT
};

struct TestServers {
  ServerEndpoint mysql;
  ServerEndpoint postgres;
  KafkaEndpoint kafka;
  RedisEndpoint redis;
  /// Base URL of the Confluent-compatible schema registry API (subjects, schemas/ids/...), e.g.
  /// http://127.0.0.1:PORT/apis/ccompat/v7. Empty unless the test requires the `registry`
  /// fixture (sluice_add_test(... REGISTRY)).
  std::string schema_registry_url;
  /// Empty unless the test requires the `hdfs` fixture (sluice_add_test(... HDFS)).
  HdfsEndpoint hdfs;
  /// Empty unless the test requires the `s3` fixture (sluice_add_test(... S3)).
  S3Endpoint s3;
  /// Empty unless the test requires the `metastore` fixture (sluice_add_test(... METASTORE)).
  MetastoreEndpoint metastore;
  std::string mysql_socket;
  std::string mysql_datadir;
  std::string postgres_datadir;
  std::string postgres_bin;  // directory of pg_ctl, psql
  std::string env_file;

  /// Reads $SLUICE_TEST_SERVERS_ENV. Fails with a message saying how to start the servers. The
  /// file may describe only the on-demand servers (HDFS, S3, the metastore): their fixtures start
  /// them into an env file of their own, without the databases and Kafka.
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

/// Creates `topic` with `partitions` partitions (replication factor 1) through Kafka's own
/// TopicCommand, and waits until every partition has a leader. The broker does not create topics
/// on first use: every test creates its own.
Status KafkaCreateTopic(const TestServers& servers, const std::string& topic, int partitions);
/// Limits what producers with client.id `client_id` may send to `bytes_per_second` (a broker
/// quota: a producer over it has its next requests held back); nullopt removes the limit.
Status KafkaSetProducerQuota(const TestServers& servers, const std::string& client_id,
                             std::optional<int64_t> bytes_per_second);
/// Produces one message per line of `lines` to `topic` with kcat (acks=all); with `key_delimiter`
/// each line is KEY, the delimiter, VALUE. Fails when kcat does (a message not acknowledged).
Status KafkaProduce(const TestServers& servers, const std::string& topic, const std::string& lines,
                    const std::string& key_delimiter = "");
/// Reads up to `count` messages of `topic`, all partitions from the beginning, only committed
/// transactions (read_committed), with kcat; stops early at the end of the topic. Returns one
/// line per message, `format` as kcat's -f (default "%k\t%s\n": key, tab, value), partitions
/// interleaved in no set order.
Result<std::string> KafkaConsume(const TestServers& servers, const std::string& topic, int count,
                                 const std::string& format = "%k\t%s\n");

/// Directory of the shared sample databases ($SLUICE_DATASETS, else ../shared/datasets next to
/// the repository). Empty when absent.
std::string DatasetsDir();

}  // namespace sluice::testing
