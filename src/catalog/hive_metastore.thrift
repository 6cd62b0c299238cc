// The part of Apache Hive's metastore API (ThriftHiveMetastore, in Hive's
// standalone-metastore/metastore-common/src/main/thrift/hive_metastore.thrift) that Sluice calls to
// register a table and its partitions, written out here with Hive 4's field ids, types and method
// names so that the bytes on the wire are Hive's. Hive's file defines hundreds of structs and
// methods (transactions, statistics, privileges, ...); Sluice needs seven calls.
//
// Why a subset works: the binary protocol carries each field's id and type, so a reader skips the
// fields it does not know (those Hive adds to what it returns), and a writer may leave out what it
// does not set. Requiredness is not on the wire either: a few fields that Hive declares with the
// default requiredness are `optional` here, so that the generated C++ does not send an empty
// string where Hive checks for null (a database's or a partition's location: null means "derive
// it", "" is an invalid path; a table's view texts). Method arguments and exceptions keep Hive's
// ids, which is all that matters for a call: the method's name, its argument ids, and the ids of
// the exceptions in its reply. The ids were checked against Hive 4.0.1's generated Java classes
// (hive-standalone-metastore-common), which the test metastore runs.
//
// C++ is generated at build time by `thrift --gen cpp:no_skeleton` (see CMakeLists.txt): the
// types and the client of the service; only hive_metastore_client.cc includes them.

namespace cpp sluice.catalog.hms

enum PrincipalType {
  USER = 1,
  ROLE = 2,
  GROUP = 3,
}

struct FieldSchema {
  1: string name,
  2: string type,      // Hive's type name: "bigint", "decimal(12,2)", "string", ...
  3: string comment
}

struct Database {
  1: string name,
  2: optional string description,
  3: optional string locationUri,            // unset: the server's warehouse/<name>.db
  4: map<string, string> parameters,
  // 5: PrincipalPrivilegeSet privileges, not used
  6: optional string ownerName,
  7: optional PrincipalType ownerType,
  8: optional string catalogName             // unset: the server's default catalog ("hive")
}

struct SerDeInfo {
  1: string name,
  2: string serializationLib,                // the SerDe class
  3: map<string, string> parameters
}

// The sort order of a bucketed table's column (Sluice writes no sorted buckets: always empty).
struct Order {
  1: string col,
  2: i32 order
}

struct StorageDescriptor {
  1: list<FieldSchema> cols,
  2: optional string location,               // unset for a partition: <table location>/<name>
  3: string inputFormat,
  4: string outputFormat,
  5: bool compressed,
  6: i32 numBuckets,                         // -1: not bucketed
  7: SerDeInfo serdeInfo,
  8: list<string> bucketCols,
  9: list<Order> sortCols,
  10: map<string, string> parameters
  // 11: SkewedInfo skewedInfo, 12: bool storedAsSubDirectories: not used
}

struct Table {
  1: string tableName,
  2: string dbName,
  3: optional string owner,
  4: i32 createTime,                         // seconds since the epoch; 0: the server's clock
  5: i32 lastAccessTime,
  6: i32 retention,
  7: StorageDescriptor sd,
  8: list<FieldSchema> partitionKeys,
  9: map<string, string> parameters,         // EXTERNAL=TRUE, comment, ...
  10: optional string viewOriginalText,      // null for a table
  11: optional string viewExpandedText,      // null for a table
  12: string tableType,                      // EXTERNAL_TABLE, MANAGED_TABLE, ...
  // 13..28 (privileges, temporary, catName, writeId, statistics, ...): not used
}

struct Partition {
  1: list<string> values,                    // in the order of the table's partition keys
  2: string dbName,
  3: string tableName,
  4: i32 createTime,
  5: i32 lastAccessTime,
  6: StorageDescriptor sd,
  7: map<string, string> parameters
  // 8..13 (privileges, catName, writeId, statistics, ...): not used
}

struct GetTableRequest {
  1: required string dbName,
  2: required string tblName
  // 3: ClientCapabilities, 4: catName, 6..11 (write ids, statistics, processor capabilities,
  // ...): not used
}

struct GetTableResult {
  1: required Table table
  // 2: bool isStatsCompliant: not used
}

struct AddPartitionsRequest {
  1: required string dbName,
  2: required string tblName,
  3: required list<Partition> parts,
  4: required bool ifNotExists,              // true: partitions that exist already are skipped
  5: optional bool needResult = true
  // 6: catName, 7: validWriteIdList, 8..10: not used
}

struct AddPartitionsResult {
  1: optional list<Partition> partitions
}

exception MetaException {
  1: string message
}

exception NoSuchObjectException {
  1: string message
}

exception AlreadyExistsException {
  1: string message
}

exception InvalidObjectException {
  1: string message
}

// Hive's service extends fb303.FacebookService; none of fb303's calls are used here, and the
// wire names a method by its own name only.
service ThriftHiveMetastore {
  void create_database(1: Database database)
      throws (1: AlreadyExistsException o1, 2: InvalidObjectException o2, 3: MetaException o3)
  Database get_database(1: string name)
      throws (1: NoSuchObjectException o1, 2: MetaException o2)

  void create_table(1: Table tbl)
      throws (1: AlreadyExistsException o1, 2: InvalidObjectException o2, 3: MetaException o3,
              4: NoSuchObjectException o4)
  // Not get_table(dbname, tbl_name): Hive 4's metastore no longer answers it ("Invalid method
  // name"), while the request form is there since Hive 3.
  GetTableResult get_table_req(1: GetTableRequest req)
      throws (1: MetaException o1, 2: NoSuchObjectException o2)

  AddPartitionsResult add_partitions_req(1: AddPartitionsRequest request)
      throws (1: InvalidObjectException o1, 2: AlreadyExistsException o2, 3: MetaException o3)
  list<string> get_partition_names(1: string db_name, 2: string tbl_name, 3: i16 max_parts = -1)
      throws (1: NoSuchObjectException o1, 2: MetaException o2)
  list<Partition> get_partitions(1: string db_name, 2: string tbl_name, 3: i16 max_parts = -1)
      throws (1: NoSuchObjectException o1, 2: MetaException o2)
}
