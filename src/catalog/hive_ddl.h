// HiveQL text for a table and its partitions: what the `hive` sink prints for the user to run
// (beeline, Spark SQL, Trino's Hive connector) when no metastore is configured, and what a
// metastore registration amounts to.
//
// Identifiers are quoted with backticks (a backtick inside doubled), string literals with single
// quotes (backslash escapes: \' \\ and the control characters \n \r \t), so any name or location
// survives, including non-ASCII names. Statements end without a semicolon; a caller printing a
// script adds one per statement.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/hive_table.h"

namespace sluice::catalog {

/// `name` as a HiveQL identifier: `my``col`.
std::string QuoteHiveIdentifier(std::string_view name);
/// `text` as a HiveQL string literal: 'it\'s'.
std::string QuoteHiveString(std::string_view text);

/// CREATE [EXTERNAL] TABLE IF NOT EXISTS `db`.`t` (`id` bigint, ...) [COMMENT '...']
/// [PARTITIONED BY (`dt` string, ...)] STORED AS PARQUET|AVRO LOCATION '...'
std::string CreateTableDdl(const HiveTableSpec& spec);

/// ALTER TABLE `db`.`t` ADD IF NOT EXISTS PARTITION (`dt`='2026-12-04', `hr`='09')
/// [LOCATION '...']. `partition.values` pairs with `keys` in order; its size must equal
/// keys.size() (HiveMetastoreClient::AddPartitions checks; here a debug check).
std::string AddPartitionDdl(std::string_view database, std::string_view table,
                            const std::vector<HiveColumn>& keys,
                            const HivePartitionSpec& partition);

/// `text` as Hive escapes a partition key or value in a directory name: %XX (upper-case hex)
/// for control characters and "#%'*/:=?\{[]^ and DEL; everything else, UTF-8 included, as it is.
std::string EscapeHivePathName(std::string_view text);

/// Hive's name of a partition, as get_partition_names lists it: dt=2026-12-04/hr=09, with the
/// characters Hive escapes in directory names (%, /, =, :, #, ... and control characters) as
/// %XX. Also the partition's directory below the table's location.
std::string HivePartitionName(const std::vector<HiveColumn>& keys,
                              const std::vector<std::string>& values);

}  // namespace sluice::catalog
