// HiveMetastoreClient: registers Hive tables and their partitions in a Hive metastore through its
// Thrift API (ThriftHiveMetastore), the way Hive, Spark and Trino find the files Sluice writes.
//
// One connection, Hive's defaults: the binary protocol over a buffered (not framed) socket,
// without SASL (no Kerberos). The calls are a small subset of Hive's API (hive_metastore.thrift
// beside this file), tested against Hive 4.0.1's standalone metastore; Hive 3 has them too.
//
// Errors name the call and the object, carry the server's message, and map in one function:
//   connection refused, timeout, connection lost         Unavailable (naming the URI)
//   NoSuchObjectException                                 NotFound
//   AlreadyExistsException                                Conflict
//   InvalidObjectException (a bad type or name)           InvalidConfig
//   MetaException (the server failed, e.g. a directory)   IoError
//   an unknown method, a protocol error                   IoError
// After a transport or protocol error the connection is closed; the next call opens it again.
// No retries here: the caller's retry policy decides (Unavailable is transient).
//
// Thread-safety: none; one client per thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "catalog/hive_table.h"
#include "core/result.h"

namespace sluice::catalog {

struct HiveMetastoreTimeouts {
  /// To establish the TCP connection.
  std::chrono::milliseconds connect{10'000};
  /// For each call's request and reply. A metastore creating a table's directory on a slow store
  /// takes seconds; a stuck one fails the call as Unavailable.
  std::chrono::milliseconds call{60'000};
};

class HiveMetastoreClient {
 public:
  /// Connects to `uri`, thrift://host:port (port 9083 when omitted; [v6 address] allowed).
  /// InvalidConfig for another scheme or a bad port; Unavailable when nothing answers.
  static Result<HiveMetastoreClient> Connect(std::string uri, HiveMetastoreTimeouts timeouts = {});

  HiveMetastoreClient(HiveMetastoreClient&&) noexcept;
  HiveMetastoreClient& operator=(HiveMetastoreClient&&) noexcept;
  /// Closes the connection.
  ~HiveMetastoreClient();

  const std::string& uri() const;

  /// Creates database `name` (at the server's warehouse location) unless it exists.
  Status EnsureDatabase(const std::string& name);

  /// Creates the table unless it exists. An existing table must have the spec's columns (names
  /// and types, in order), partition keys and file format, else Conflict saying what differs;
  /// its location and comment are left as they are. The database must exist (NotFound).
  /// Names compare case-insensitively: Hive keeps them in lower case.
  Status EnsureTable(const HiveTableSpec& spec);

  /// Adds the partitions to database.table, skipping those that exist (so that a retried commit
  /// adds nothing twice). Each partition's values pair with the table's partition keys; a
  /// partition without a location gets <table location>/<partition name>.
  Status AddPartitions(const std::string& database, const std::string& table,
                       const std::vector<HivePartitionSpec>& partitions);

  /// The table's partition names (dt=2026-12-04/hr=09), in the server's order.
  Result<std::vector<std::string>> ListPartitionNames(const std::string& database,
                                                      const std::string& table);

  /// The table's partitions with their locations.
  Result<std::vector<HivePartitionSpec>> ListPartitions(const std::string& database,
                                                        const std::string& table);

  /// The table as the metastore has it (names in lower case, as Hive keeps them). Unsupported
  /// for a table stored in a format other than Parquet or Avro.
  Result<HiveTableSpec> GetTable(const std::string& database, const std::string& table);

 private:
  struct Connection;
  explicit HiveMetastoreClient(std::unique_ptr<Connection> connection);
  std::unique_ptr<Connection> connection_;
};

}  // namespace sluice::catalog
