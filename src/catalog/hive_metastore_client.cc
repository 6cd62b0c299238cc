// HiveMetastoreClient over Thrift's C++ library: the generated ThriftHiveMetastoreClient on a
// binary protocol, buffered transport and TCP socket, with every Thrift exception turned into a
// Status in one place (MapThriftError).
#include "catalog/hive_metastore_client.h"

#include <fmt/core.h>
#include <thrift/TApplicationException.h>
#include <thrift/TOutput.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TProtocolException.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "ThriftHiveMetastore.h"
#include "catalog/hive_ddl.h"
#include "core/logging.h"

namespace sluice::catalog {
namespace {

using apache::thrift::TApplicationException;
using apache::thrift::TException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TProtocolException;
using apache::thrift::transport::TBufferedTransport;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TTransport;
using apache::thrift::transport::TTransportException;

constexpr int kDefaultMetastorePort = 9083;
constexpr std::string_view kExternalTable = "EXTERNAL_TABLE";
constexpr std::string_view kManagedTable = "MANAGED_TABLE";
// Partitions per add_partitions_req: one request stays a few hundred KiB even for wide tables.
constexpr size_t kPartitionsPerRequest = 500;
// get_partition_names / get_partitions: all of them.
constexpr int16_t kAllPartitions = -1;

// Thrift's library prints its own errors (a refused connect, ...) to stderr; they repeat what
// the Status says, so they go to the debug log instead.
void RouteThriftOutputToLog() {
  static std::once_flag once;
  std::call_once(once, [] {
    apache::thrift::GlobalOutput.setOutputFunction(
        [](const char* message) { log::Debug("thrift", "{}", message); });
  });
}

struct HostPort {
  std::string host;
  int port = kDefaultMetastorePort;
};

Result<HostPort> ParseMetastoreUri(std::string_view uri) {
  constexpr std::string_view kScheme = "thrift://";
  if (uri.substr(0, kScheme.size()) != kScheme) {
    return InvalidConfig(fmt::format(
        "Hive metastore URI '{}' does not start with thrift:// (thrift://host:9083)", uri));
  }
  std::string_view rest = uri.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  HostPort address;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6 address]:port
    size_t close = rest.find(']');
    if (close == std::string_view::npos)
      return InvalidConfig(fmt::format("Hive metastore URI '{}': no ']' after the address", uri));
    address.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return InvalidConfig(fmt::format("Hive metastore URI '{}': ':' expected after ']'", uri));
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = rest.rfind(':');
    address.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos)
      port_text = rest.substr(colon + 1);
  }
  if (address.host.empty() || address.host.find_first_of("/?#") != std::string::npos)
    return InvalidConfig(
        fmt::format("Hive metastore URI '{}' has no host (thrift://host:9083)", uri));
  if (!port_text.empty()) {
    int port = 0;
    const char* last = port_text.data() + port_text.size();
    auto [end, error] = std::from_chars(port_text.data(), last, port);
    if (error != std::errc() || end != last || port < 1 || port > 65535) {
      return InvalidConfig(fmt::format("Hive metastore URI '{}': bad port '{}'", uri, port_text));
    }
    address.port = port;
  }
  return address;
}

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// Hive keeps type names in lower case; "decimal(12, 2)" and "decimal(12,2)" are the same type.
std::string NormalizedType(std::string_view type) {
  std::string normalized;
  for (char c : type) {
    if (c != ' ')
      normalized += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return normalized;
}

std::string DescribeColumn(const HiveColumn& column) {
  return fmt::format("{} {}", QuoteHiveIdentifier(column.name), column.type);
}

std::string DescribeColumns(const std::vector<HiveColumn>& columns) {
  std::string text = "(";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0)
      text += ", ";
    text += DescribeColumn(columns[i]);
  }
  return text + ")";
}

// What differs between the metastore's columns (or partition keys) and the spec's; nullopt when
// they match: same count, and pairwise the same name (ignoring case) and type.
std::optional<std::string> ColumnDifference(std::string_view what,
                                            const std::vector<HiveColumn>& in_metastore,
                                            const std::vector<HiveColumn>& in_spec) {
  size_t common = std::min(in_metastore.size(), in_spec.size());
  for (size_t i = 0; i < common; ++i) {
    const HiveColumn& have = in_metastore[i];
    const HiveColumn& want = in_spec[i];
    if (AsciiLower(have.name) != AsciiLower(want.name) ||
        NormalizedType(have.type) != NormalizedType(want.type)) {
      return fmt::format("{} {} is {} in the metastore but {} in the job", what, i + 1,
                         DescribeColumn(have), DescribeColumn(want));
    }
  }
  if (in_metastore.size() != in_spec.size()) {
    return fmt::format("the metastore has {} {}s {}, the job {} {}", in_metastore.size(), what,
                       DescribeColumns(in_metastore), in_spec.size(), DescribeColumns(in_spec));
  }
  return std::nullopt;
}

std::vector<hms::FieldSchema> ToFieldSchemas(const std::vector<HiveColumn>& columns) {
  std::vector<hms::FieldSchema> fields;
  fields.reserve(columns.size());
  for (const HiveColumn& column : columns) {
    hms::FieldSchema field;
    field.name = column.name;
    field.type = column.type;
    field.comment = column.comment;
    fields.push_back(std::move(field));
  }
  return fields;
}

std::vector<HiveColumn> FromFieldSchemas(const std::vector<hms::FieldSchema>& fields) {
  std::vector<HiveColumn> columns;
  columns.reserve(fields.size());
  for (const hms::FieldSchema& field : fields)
    columns.push_back({field.name, field.type, field.comment});
  return columns;
}

hms::Table ToThriftTable(const HiveTableSpec& spec) {
  HiveStorageClasses classes = StorageClassesOf(spec.format);
  hms::StorageDescriptor sd;
  sd.cols = ToFieldSchemas(spec.columns);
  if (!spec.location.empty())
    sd.__set_location(spec.location);
  sd.inputFormat = classes.input_format;
  sd.outputFormat = classes.output_format;
  sd.compressed = false;  // the files compress their own pages (Parquet) or blocks (Avro)
  sd.numBuckets = -1;     // not bucketed
  sd.serdeInfo.serializationLib = classes.serde;
  // What Hive writes for every SerDe it creates; some readers look for it.
  sd.serdeInfo.parameters["serialization.format"] = "1";

  hms::Table table;
  table.dbName = spec.database;
  table.tableName = spec.table;
  // Shown as the owner by DESCRIBE FORMATTED; authorization, when on, is Hive's business.
  table.__set_owner("sluice");
  table.sd = std::move(sd);
  table.partitionKeys = ToFieldSchemas(spec.partition_keys);
  if (spec.external) {
    table.tableType = kExternalTable;
    // Hive's own marker beside the type: the files stay when the table is dropped.
    table.parameters["EXTERNAL"] = "TRUE";
  } else {
    table.tableType = kManagedTable;
  }
  if (!spec.comment.empty())
    table.parameters["comment"] = spec.comment;
  return table;
}

Result<HiveTableSpec> FromThriftTable(const hms::Table& table) {
  std::optional<HiveFileFormat> format = FileFormatOfSerde(table.sd.serdeInfo.serializationLib);
  if (!format) {
    return Unsupported(fmt::format(
        "Hive table {}.{} is stored with SerDe '{}': Sluice writes Parquet and Avro tables only",
        table.dbName, table.tableName, table.sd.serdeInfo.serializationLib));
  }
  HiveTableSpec spec;
  spec.database = table.dbName;
  spec.table = table.tableName;
  spec.columns = FromFieldSchemas(table.sd.cols);
  spec.partition_keys = FromFieldSchemas(table.partitionKeys);
  spec.format = *format;
  spec.location = table.sd.location;
  if (auto comment = table.parameters.find("comment"); comment != table.parameters.end())
    spec.comment = comment->second;
  auto external = table.parameters.find("EXTERNAL");
  spec.external = table.tableType == kExternalTable ||
                  (external != table.parameters.end() && AsciiLower(external->second) == "true");
  return spec;
}

}  // namespace

struct HiveMetastoreClient::Connection {
  std::string uri;
  HostPort address;
  HiveMetastoreTimeouts timeouts;
  std::shared_ptr<TSocket> socket;
  std::shared_ptr<TTransport> transport;
  std::unique_ptr<hms::ThriftHiveMetastoreClient> client;

  ~Connection() { Close(); }

  // Opens a new socket (after a transport error the old one is out of step with the server).
  Status Open() {
    Close();
    socket = std::make_shared<TSocket>(address.host, address.port);
    socket->setConnTimeout(static_cast<int>(timeouts.connect.count()));
    socket->setRecvTimeout(static_cast<int>(timeouts.call.count()));
    socket->setSendTimeout(static_cast<int>(timeouts.call.count()));
    transport = std::make_shared<TBufferedTransport>(socket);
    auto protocol = std::make_shared<TBinaryProtocol>(transport);
    client = std::make_unique<hms::ThriftHiveMetastoreClient>(protocol);
    try {
      transport->open();
    } catch (const TException& error) {
      Close();
      return Unavailable(
          fmt::format("cannot connect to the Hive metastore at {}: {}", uri, error.what()));
    }
    return Status::OK();
  }

  void Close() noexcept {
    if (transport) {
      try {
        transport->close();
      } catch (const std::exception&) {
        // Closing a socket that failed: nothing left to release.
      }
    }
    client.reset();
    transport.reset();
    socket.reset();
  }

  // Every Thrift exception as a Status, with `what` (the call and its object) as context.
  Status MapThriftError(std::string_view what, std::exception_ptr thrown) {
    try {
      std::rethrow_exception(thrown);
    } catch (const hms::NoSuchObjectException& error) {
      return NotFound(fmt::format("{}: {}", what, error.message));
    } catch (const hms::AlreadyExistsException& error) {
      return Conflict(fmt::format("{}: {}", what, error.message));
    } catch (const hms::InvalidObjectException& error) {
      return InvalidConfig(fmt::format("{}: the metastore refused it: {}", what, error.message));
    } catch (const hms::MetaException& error) {
      return IoError(fmt::format("{}: the metastore failed: {}", what, error.message));
    } catch (const TTransportException& error) {
      Close();
      return Unavailable(
          fmt::format("{}: connection to the Hive metastore at {} failed: {}", what, uri,
                      error.what()));
    } catch (const TProtocolException& error) {
      Close();
      return IoError(fmt::format("{}: bad reply from the Hive metastore at {}: {}", what, uri,
                                 error.what()));
    } catch (const TApplicationException& error) {
      // The server read the request but could not run it: an unknown method (an older Hive), or
      // an error on its side it did not declare (its log says more).
      return IoError(fmt::format("{}: the Hive metastore at {} answered with an error: {}", what,
                                 uri, error.what()));
    } catch (const std::exception& error) {
      Close();
      return IoError(fmt::format("{}: {}", what, error.what()));
    }
  }

  // Runs `call` with the Thrift client, reopening the connection first if an error closed it.
  template <typename Call>
  Status Run(std::string_view what, Call&& call) {
    if (!client)
      SLUICE_RETURN_IF_ERROR(Open().WithContext(what));
    try {
      call(*client);
    } catch (...) {
      return MapThriftError(what, std::current_exception());
    }
    return Status::OK();
  }

  Result<hms::Table> GetTable(const std::string& database, const std::string& table) {
    hms::GetTableRequest request;
    request.dbName = database;
    request.tblName = table;
    hms::GetTableResult result;
    SLUICE_RETURN_IF_ERROR(Run(fmt::format("get_table_req of Hive table {}.{}", database, table),
                               [&](hms::ThriftHiveMetastoreClient& c) {
                                 c.get_table_req(result, request);
                               }));
    return std::move(result.table);
  }
};

HiveMetastoreClient::HiveMetastoreClient(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)) {}
HiveMetastoreClient::HiveMetastoreClient(HiveMetastoreClient&&) noexcept = default;
HiveMetastoreClient& HiveMetastoreClient::operator=(HiveMetastoreClient&&) noexcept = default;
HiveMetastoreClient::~HiveMetastoreClient() = default;

Result<HiveMetastoreClient> HiveMetastoreClient::Connect(std::string uri,
                                                         HiveMetastoreTimeouts timeouts) {
  RouteThriftOutputToLog();
  SLUICE_ASSIGN_OR_RETURN(HostPort address, ParseMetastoreUri(uri));
  auto connection = std::make_unique<Connection>();
  connection->uri = std::move(uri);
  connection->address = std::move(address);
  connection->timeouts = timeouts;
  SLUICE_RETURN_IF_ERROR(connection->Open());
  return HiveMetastoreClient(std::move(connection));
}

const std::string& HiveMetastoreClient::uri() const {
  return connection_->uri;
}

Status HiveMetastoreClient::EnsureDatabase(const std::string& name) {
  std::string what = fmt::format("Hive database {}", QuoteHiveIdentifier(name));
  hms::Database existing;
  Status found = connection_->Run(
      "get_database of " + what,
      [&](hms::ThriftHiveMetastoreClient& c) { c.get_database(existing, name); });
  if (found.code() != StatusCode::kNotFound)
    return found;
  hms::Database database;
  database.name = name;
  database.__set_description("created by Sluice");
  Status created = connection_->Run("create_database of " + what,
                                    [&](hms::ThriftHiveMetastoreClient& c) {
                                      c.create_database(database);
                                    });
  // Another writer created it between the two calls: what we wanted.
  if (created.code() == StatusCode::kConflict)
    return Status::OK();
  return created;
}

Status HiveMetastoreClient::EnsureTable(const HiveTableSpec& spec) {
  std::string name = fmt::format("{}.{}", spec.database, spec.table);
  Result<HiveTableSpec> existing = GetTable(spec.database, spec.table);
  if (existing.status().code() == StatusCode::kNotFound) {
    hms::Table table = ToThriftTable(spec);
    Status created = connection_->Run("create_table of Hive table " + name,
                                      [&](hms::ThriftHiveMetastoreClient& c) {
                                        c.create_table(table);
                                      });
    if (created.code() != StatusCode::kConflict)
      return created;
    // Another writer created it meanwhile: compare with theirs.
    existing = GetTable(spec.database, spec.table);
  }
  if (existing.status().code() == StatusCode::kUnsupported) {
    return Conflict(fmt::format("Hive table {} exists in another format than the job's ({}): {}",
                                name, HiveFileFormatName(spec.format),
                                existing.status().message()));
  }
  if (!existing.ok())
    return existing.status();
  if (existing->format != spec.format) {
    return Conflict(fmt::format("Hive table {} exists stored as {}, the job writes {}", name,
                                HiveFileFormatName(existing->format),
                                HiveFileFormatName(spec.format)));
  }
  if (auto difference = ColumnDifference("column", existing->columns, spec.columns)) {
    return Conflict(fmt::format("Hive table {} exists with other columns than the job's: {}",
                                name, *difference));
  }
  if (auto difference =
          ColumnDifference("partition key", existing->partition_keys, spec.partition_keys)) {
    return Conflict(fmt::format(
        "Hive table {} exists with other partition keys than the job's: {}", name, *difference));
  }
  return Status::OK();
}

Status HiveMetastoreClient::AddPartitions(const std::string& database, const std::string& table,
                                          const std::vector<HivePartitionSpec>& partitions) {
  if (partitions.empty())
    return Status::OK();
  std::string name = fmt::format("{}.{}", database, table);
  // The table's storage descriptor is every partition's template (columns, formats, SerDe).
  SLUICE_ASSIGN_OR_RETURN(hms::Table existing, connection_->GetTable(database, table));
  std::vector<HiveColumn> keys = FromFieldSchemas(existing.partitionKeys);

  std::vector<hms::Partition> batch;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const HivePartitionSpec& spec = partitions[i];
    if (spec.values.size() != keys.size()) {
      return InvalidConfig(fmt::format(
          "partition {} of Hive table {} has {} values, the table has {} partition keys {}", i + 1,
          name, spec.values.size(), keys.size(), DescribeColumns(keys)));
    }
    hms::Partition partition;
    partition.values = spec.values;
    partition.dbName = existing.dbName;
    partition.tableName = existing.tableName;
    partition.sd = existing.sd;
    partition.sd.__isset.location = false;
    partition.sd.location.clear();
    if (!spec.location.empty())
      partition.sd.__set_location(spec.location);
    batch.push_back(std::move(partition));

    if (batch.size() == kPartitionsPerRequest || i + 1 == partitions.size()) {
      hms::AddPartitionsRequest request;
      request.dbName = existing.dbName;
      request.tblName = existing.tableName;
      request.parts = std::move(batch);
      request.ifNotExists = true;
      request.__set_needResult(false);
      hms::AddPartitionsResult result;
      SLUICE_RETURN_IF_ERROR(connection_->Run(
          fmt::format("add_partitions_req of {} partitions to Hive table {} (first: {})",
                      request.parts.size(), name,
                      HivePartitionName(keys, request.parts.front().values)),
          [&](hms::ThriftHiveMetastoreClient& c) { c.add_partitions_req(result, request); }));
      batch.clear();
    }
  }
  return Status::OK();
}

Result<std::vector<std::string>> HiveMetastoreClient::ListPartitionNames(
    const std::string& database, const std::string& table) {
  std::vector<std::string> names;
  SLUICE_RETURN_IF_ERROR(connection_->Run(
      fmt::format("get_partition_names of Hive table {}.{}", database, table),
      [&](hms::ThriftHiveMetastoreClient& c) {
        c.get_partition_names(names, database, table, kAllPartitions);
      }));
  return names;
}

Result<std::vector<HivePartitionSpec>> HiveMetastoreClient::ListPartitions(
    const std::string& database, const std::string& table) {
  std::vector<hms::Partition> found;
  SLUICE_RETURN_IF_ERROR(connection_->Run(
      fmt::format("get_partitions of Hive table {}.{}", database, table),
      [&](hms::ThriftHiveMetastoreClient& c) {
        c.get_partitions(found, database, table, kAllPartitions);
      }));
  std::vector<HivePartitionSpec> partitions;
  partitions.reserve(found.size());
  for (hms::Partition& partition : found)
    partitions.push_back({std::move(partition.values), std::move(partition.sd.location)});
  return partitions;
}

Result<HiveTableSpec> HiveMetastoreClient::GetTable(const std::string& database,
                                                    const std::string& table) {
  SLUICE_ASSIGN_OR_RETURN(hms::Table found, connection_->GetTable(database, table));
  return FromThriftTable(found);
}

}  // namespace sluice::catalog
