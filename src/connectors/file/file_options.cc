#include "connectors/file/file_options.h"

#include <fmt/core.h>

#include "connectors/store_options.h"

namespace sluice::connectors::file {

namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

Result<std::optional<FileFormat>> ParseFormat(const config::Options& options) {
  if (!options.Has("format"))
    return std::optional<FileFormat>();
  std::string name = options.GetString("format");
  if (name == "csv")
    return std::optional<FileFormat>(FileFormat::kCsv);
  if (name == "jsonl")
    return std::optional<FileFormat>(FileFormat::kJsonl);
  if (name == "avro")
    return std::optional<FileFormat>(FileFormat::kAvro);
  if (name == "parquet")
    return std::optional<FileFormat>(FileFormat::kParquet);
  return options.ErrorAt(
      "format", fmt::format("unknown format '{}' (known: csv, jsonl, avro, parquet)", name));
}

// delimiter, quote and null_marker; a .tsv path defaults the delimiter to a tab.
Result<formats::CsvDialect> ParseDialect(const config::Options& options, std::string_view path) {
  formats::CsvDialect dialect;
  if (options.Has("delimiter")) {
    Result<char> delimiter = formats::ParseDialectChar(options.GetString("delimiter"), "delimiter");
    if (!delimiter.ok())
      return options.ErrorAt("delimiter", delimiter.status().message());
    dialect.delimiter = *delimiter;
  } else if (EndsWith(io::StripCompressionExtension(path), ".tsv")) {
    dialect.delimiter = '\t';
  }
  if (options.Has("quote")) {
    std::string quote = options.GetString("quote");
    if (quote.empty()) {
      dialect.quote = std::nullopt;
    } else {
      Result<char> parsed = formats::ParseDialectChar(quote, "quote");
      if (!parsed.ok())
        return options.ErrorAt("quote", parsed.status().message());
      dialect.quote = *parsed;
    }
  }
  dialect.null_marker = options.GetString("null_marker");
  Status valid = dialect.Validate();
  if (!valid.ok()) {
    std::string_view key = options.Has("delimiter") ? "delimiter"
                           : options.Has("quote")   ? "quote"
                                                    : "null_marker";
    return options.ErrorAt(key, valid.message());
  }
  return dialect;
}

Result<io::Compression> ParseCompressionOption(const config::Options& options) {
  Result<io::Compression> compression = io::ParseCompression(options.GetString("compression"));
  if (!compression.ok())
    return options.ErrorAt("compression", compression.status().message());
  return *compression;
}

Result<std::vector<Field>> ParseSchema(const config::Node& node) {
  std::vector<Field> fields;
  for (const config::Node::Entry& entry : node.entries()) {
    if (!entry.value.is_scalar()) {
      return entry.value.Error(
          fmt::format("the type of column '{}' must be a string such as "
                      "int64 or \"decimal(12,2)\", got a {}",
                      entry.key, entry.value.KindName()));
    }
    Result<DataType> type = ParseDataType(entry.value.scalar());
    if (!type.ok()) {
      return entry.value.Error(fmt::format("column '{}': {}", entry.key, type.status().message()));
    }
    for (const Field& field : fields) {
      if (field.name == entry.key) {
        return InvalidConfig(fmt::format("{}: column '{}' is declared twice in the schema",
                                         entry.key_mark.ToString(), entry.key));
      }
    }
    fields.push_back(Field{entry.key, *type, true, ""});
  }
  if (fields.empty())
    return node.Error("the schema must declare at least one column");
  return fields;
}

const std::vector<config::OptionSpec>& SourceTable() {
  static const std::vector<config::OptionSpec> table = [] {
    std::vector<config::OptionSpec> own = {
      {"path", config::OptionType::kString, "",
       "A file or a glob such as data/orders-*.csv.gz; every matching file is one split, read "
       "in name order.",
       true},
      {"format",
       config::OptionType::kEnum,
       "",
       "csv, jsonl, avro (container files) or parquet; by default taken from the extension (.csv, "
       ".tsv, .jsonl, .ndjson, .json, .avro, .parquet) after stripping .gz/.zst.",
       false,
       {"csv", "jsonl", "avro", "parquet"}},
      {"compression",
       config::OptionType::kEnum,
       "auto",
       "auto (by extension: .gz, .zst, .zstd), none, gzip or zstd.",
       false,
       {"auto", "none", "gzip", "zstd"}},
      {"header", config::OptionType::kBool, "true",
       "CSV: the first line names the columns (matched to the schema by name)."},
      {"delimiter", config::OptionType::kString, ",",
       "CSV: the field separator, one character (\\t for tab; .tsv files default to tab)."},
      {"quote", config::OptionType::kString, "\"",
       "CSV: the quote character; empty turns quoting off."},
      {"null_marker", config::OptionType::kString, "",
       "CSV: unquoted text meaning NULL (e.g. \\N). Empty: an unquoted empty field is NULL and "
       "\"\" is the empty string."},
      {"schema", config::OptionType::kMap, "",
       "Columns and types in order, e.g. { id: int64, amount: \"decimal(12,2)\" }. Without it: "
       "CSV header names as strings (c1, c2, ... without a header), or types inferred from the "
       "first 1000 JSON lines."},
      {"stream", config::OptionType::kString, "",
       "Name of the stream; by default the file stem of `path` (orders for "
       "data/orders-*.csv.gz)."},
    };
    // Reading from HDFS or S3 (a webhdfs:// or s3:// path).
    std::vector<config::OptionSpec> store = StoreOptionSpecs(/*writes=*/false);
    own.insert(own.end(), store.begin(), store.end());
    return own;
  }();
  return table;
}

const std::vector<config::OptionSpec>& SinkTable() {
  static const std::vector<config::OptionSpec> table = {
      {"path", config::OptionType::kString, "",
       "The output file, e.g. out/orders.csv.gz; {stream} stands for the stream name. With "
       "several writers or rolling, -<slot>-<part> goes before the extensions "
       "(out/orders-000-00000.csv.gz).",
       true},
      {"format",
       config::OptionType::kEnum,
       "",
       "csv, jsonl, avro (container files) or parquet; by default taken from the extension (.csv, "
       ".tsv, .jsonl, .ndjson, .json, .avro, .parquet) after stripping .gz/.zst.",
       false,
       {"csv", "jsonl", "avro", "parquet"}},
      {"compression",
       config::OptionType::kEnum,
       "auto",
       "auto (by extension: .gz, .zst, .zstd), none, gzip or zstd.",
       false,
       {"auto", "none", "gzip", "zstd"}},
      {"header", config::OptionType::kBool, "true", "CSV: write the column names first."},
      {"delimiter", config::OptionType::kString, ",",
       "CSV: the field separator, one character (\\t for tab; .tsv files default to tab)."},
      {"quote", config::OptionType::kString, "\"",
       "CSV: the quote character; empty turns quoting off."},
      {"null_marker", config::OptionType::kString, "",
       "CSV: text written for NULL. Empty: NULL is an empty field and the empty string is "
       "written \"\"."},
      {.name = "roll_rows", .type = config::OptionType::kInt, .default_value = "0",
       .description = "Start a new file after this many rows; 0 = never.", .min = 0},
      {.name = "roll_bytes", .type = config::OptionType::kBytes, .default_value = "0",
       .description = "Start a new file once one holds this much uncompressed text, e.g. 256MiB; 0 "
           "= never.", .min = 0},
      {"mode",
       config::OptionType::kEnum,
       "overwrite",
       "overwrite (remove earlier outputs of the same name pattern) or error_if_exists.",
       false,
       {"overwrite", "error_if_exists"}},
      {"avro_codec",
       config::OptionType::kEnum,
       "deflate",
       "Avro: the codec of each block, null, deflate or zstandard (the file is not compressed "
       "again: leave compression at auto).",
       false,
       {"null", "deflate", "zstandard"}},
      {"parquet_compression",
       config::OptionType::kEnum,
       "snappy",
       "Parquet: the codec of the pages, none, snappy, gzip or zstd (the file is not compressed "
       "again: leave compression at auto).",
       false,
       {"none", "snappy", "gzip", "zstd"}},
      {.name = "row_group_bytes", .type = config::OptionType::kBytes, .default_value = "64MiB",
       .description = "Parquet: a row group ends once it holds this much (a commit also ends "
           "one, so frequent checkpoints make smaller row groups).", .min = 1},
  };
  return table;
}

}  // namespace

std::string_view FileFormatName(FileFormat format) {
  switch (format) {
    case FileFormat::kCsv:
      return "csv";
    case FileFormat::kJsonl:
      return "jsonl";
    case FileFormat::kAvro:
      return "avro";
    case FileFormat::kParquet:
      return "parquet";
  }
  return "csv";
}

std::optional<FileFormat> FormatFromPath(std::string_view path) {
  std::string_view stripped = io::StripCompressionExtension(path);
  for (std::string_view extension : {".csv", ".tsv"}) {
    if (EndsWith(stripped, extension))
      return FileFormat::kCsv;
  }
  for (std::string_view extension : {".jsonl", ".ndjson", ".json"}) {
    if (EndsWith(stripped, extension))
      return FileFormat::kJsonl;
  }
  if (EndsWith(stripped, ".avro"))
    return FileFormat::kAvro;
  if (EndsWith(stripped, ".parquet"))
    return FileFormat::kParquet;
  return std::nullopt;
}

Result<FileSourceOptions> FileSourceOptions::FromOptions(const config::Options& options) {
  FileSourceOptions out;
  out.path = options.GetString("path");
  if (out.path.empty())
    return options.ErrorAt("path", "'path' must not be empty");
  out.store = ReadStoreOptions(options, /*writes=*/false);
  SLUICE_ASSIGN_OR_RETURN(out.format, ParseFormat(options));
  SLUICE_ASSIGN_OR_RETURN(out.compression, ParseCompressionOption(options));
  out.header = options.GetBool("header");
  SLUICE_ASSIGN_OR_RETURN(out.dialect, ParseDialect(options, out.path));
  if (const config::Node* schema = options.GetNode("schema"); schema != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<Field> fields, ParseSchema(*schema));
    out.schema = std::move(fields);
  }
  out.stream = options.GetString("stream");
  return out;
}

Result<FileSinkOptions> FileSinkOptions::FromOptions(const config::Options& options) {
  FileSinkOptions out;
  out.path = options.GetString("path");
  if (out.path.empty())
    return options.ErrorAt("path", "'path' must not be empty");
  SLUICE_ASSIGN_OR_RETURN(out.format, ParseFormat(options));
  SLUICE_ASSIGN_OR_RETURN(out.compression, ParseCompressionOption(options));
  out.header = options.GetBool("header");
  SLUICE_ASSIGN_OR_RETURN(out.dialect, ParseDialect(options, out.path));
  out.roll_rows = options.GetInt("roll_rows");
  out.roll_bytes = options.GetBytes("roll_bytes");
  out.mode = options.GetString("mode") == "error_if_exists" ? WriteMode::kErrorIfExists
                                                            : WriteMode::kOverwrite;
  SLUICE_ASSIGN_OR_RETURN(out.avro_codec, formats::ParseAvroCodec(options.GetString("avro_codec")));
  SLUICE_ASSIGN_OR_RETURN(out.parquet_compression,
                          formats::ParseParquetCompression(options.GetString("parquet_compression")));
  out.row_group_bytes = options.GetBytes("row_group_bytes");
  return out;
}

std::span<const config::OptionSpec> FileSourceOptionTable() {
  return SourceTable();
}
std::span<const config::OptionSpec> FileSinkOptionTable() {
  return SinkTable();
}

}  // namespace sluice::connectors::file
