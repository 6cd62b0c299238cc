#include "connectors/store_options.h"

namespace sluice::connectors {

std::vector<config::OptionSpec> StoreOptionSpecs(bool writes) {
  using config::OptionType;
  std::vector<config::OptionSpec> specs = {
      {"hdfs_user", OptionType::kString, "", "HDFS (webhdfs:// paths): the user requests act as."},
      {"s3_endpoint", OptionType::kString, "",
       "S3 (s3:// paths): http(s)://host[:port] of the store (AWS: "
       "https://s3.<region>.amazonaws.com)."},
      {"s3_region", OptionType::kString, "us-east-1", "S3: the region requests are signed for."},
      {"s3_access_key_id", OptionType::kString, "", "S3: the access key id."},
      {"s3_secret_access_key", OptionType::kSecret, "", "S3: the secret key (never printed)."},
  };
  if (writes) {
    specs.push_back({.name = "s3_part_bytes", .type = OptionType::kBytes,
                     .default_value = "16MiB",
                     .description = "S3: the size of each uploaded part.", .min = 5 << 20});
  }
  return specs;
}

io::FileStoreOptions ReadStoreOptions(const config::Options& options, bool writes) {
  io::FileStoreOptions store;
  store.hdfs_user = options.GetString("hdfs_user");
  store.s3_endpoint = options.GetString("s3_endpoint");
  store.s3_region = options.GetString("s3_region");
  store.s3_access_key_id = options.GetString("s3_access_key_id");
  store.s3_secret_access_key = options.GetSecret("s3_secret_access_key");
  if (writes)
    store.s3_part_bytes = static_cast<uint64_t>(options.GetBytes("s3_part_bytes"));
  return store;
}

}  // namespace sluice::connectors
