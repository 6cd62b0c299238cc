// Avro messages in the schema registry's wire format (a 0 byte, the writer schema's id as a
// big-endian int32, the Avro binary body), as Confluent's serializers write them: a client of the
// registry's HTTP API (Confluent's, also served by Apicurio's ccompat API), a decoder of such
// messages into rows, and an encoder of rows into them.
//
// Thread-safety: SchemaRegistry is thread-safe (its schema cache is locked; each request uses
// its own libcurl handle). An AvroDecoder is used by one reader thread, an AvroEncoder by one
// writer thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/secret.h"
#include "formats/avro/avro_record.h"
#include "formats/avro/avro_schema.h"

namespace sluice::connectors::kafka {

class SchemaRegistry {
 public:
  /// `url`: the API's base ("http://registry:8081"); user and password for HTTP basic auth.
  SchemaRegistry(std::string url, std::string user, Secret password);

  /// The latest schema registered under `subject`: its id and its text.
  Result<std::pair<int32_t, std::string>> Latest(const std::string& subject) const;
  /// The schema with id `id` (cached: ids never change meaning).
  Result<std::string> ById(int32_t id) const;
  /// Registers `schema` under `subject` (a new version unless the subject has it) and returns
  /// its id.
  Result<int32_t> Register(const std::string& subject, const std::string& schema) const;

 private:
  /// GET `path`, or POST `post_body` to it when given.
  Result<std::string> Get(const std::string& path, const std::string* post_body = nullptr) const;

  std::string url_;
  std::string user_;
  Secret password_;
  mutable std::mutex mutex_;
  mutable std::map<int32_t, std::string> by_id_;  // guarded by mutex_
};

using formats::AvroColumns;
using formats::AvroSchemaOf;

/// Encodes rows of one stream as wire-format messages of a registered schema (AvroSchemaOf's).
class AvroEncoder {
 public:
  /// `schema`: AvroSchemaOf(*columns, ...), registered with id `id`.
  static Result<std::unique_ptr<AvroEncoder>> Make(const std::string& schema, int32_t id);
  ~AvroEncoder();
  AvroEncoder(const AvroEncoder&) = delete;
  AvroEncoder& operator=(const AvroEncoder&) = delete;

  /// Appends row `row` of `batch` as one message (header and body) to `out`.
  Status Append(const Batch& batch, size_t row, std::string* out);

 private:
  AvroEncoder(std::unique_ptr<formats::AvroRecordEncoder> records, int32_t id);
  std::unique_ptr<formats::AvroRecordEncoder> records_;
  int32_t id_;
};

/// Decodes wire-format messages into rows of a value schema, by column name; a column the
/// writer schema lacks is NULL. Values convert through their canonical text where the types
/// differ.
class AvroDecoder {
 public:
  AvroDecoder(std::shared_ptr<const SchemaRegistry> registry, SchemaPtr value_schema);
  ~AvroDecoder();
  AvroDecoder(const AvroDecoder&) = delete;
  AvroDecoder& operator=(const AvroDecoder&) = delete;

  /// Appends `message` as one row of `batch` (whose schema is the value schema). A message
  /// that is not in the wire format or does not decode is a DataError starting with `location`;
  /// the batch is then left as it was.
  Status Append(std::string_view message, const std::string& location, Batch* batch);

 private:
  /// The decoder of writer schema `id`, made on first use.
  Result<formats::AvroRecordDecoder*> DecoderFor(int32_t id);

  std::shared_ptr<const SchemaRegistry> registry_;
  SchemaPtr value_schema_;
  std::map<int32_t, std::unique_ptr<formats::AvroRecordDecoder>> decoders_;
};

}  // namespace sluice::connectors::kafka
