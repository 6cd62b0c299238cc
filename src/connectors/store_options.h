// The options that reach a remote file store (HDFS through WebHDFS, S3), shared by the
// connectors that read or write files there (file, hive): one spelling, one description, one
// parser.
#pragma once

#include <vector>

#include "config/options.h"
#include "io/file_store.h"

namespace sluice::connectors {

/// hdfs_user, s3_endpoint, s3_region, s3_access_key_id, s3_secret_access_key; s3_part_bytes too
/// for connectors that write (`writes`).
std::vector<config::OptionSpec> StoreOptionSpecs(bool writes);

/// The store options of a block validated against a table that includes
/// StoreOptionSpecs(writes); `location` is left empty.
io::FileStoreOptions ReadStoreOptions(const config::Options& options, bool writes);

}  // namespace sluice::connectors
