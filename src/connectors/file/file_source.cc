#include "connectors/file/file_source.h"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>

#include "connectors/split_queue.h"
#include "core/logging.h"
#include "core/strings.h"
#include "core/value_text.h"
#include "formats/avro/avro_container.h"
#include "formats/avro/avro_schema.h"
#include "formats/csv/csv_batch_builder.h"
#include "formats/csv/csv_reader.h"
#include "formats/jsonl/jsonl_batch_builder.h"
#include "formats/jsonl/jsonl_reader.h"
#include "formats/jsonl/jsonl_schema.h"
#include "formats/parquet/parquet_reader.h"
#include "formats/parquet/random_access_file.h"
#include "io/file_system.h"

namespace sluice::connectors::file {

namespace {

// Raw records in bad-record reports are cut to this many bytes.
constexpr size_t kMaxRawBytes = 1024;

std::string TruncateRaw(std::string_view raw) {
  if (raw.size() <= kMaxRawBytes)
    return std::string(raw);
  size_t cut = kMaxRawBytes;
  // Back off to a character boundary so that the report stays valid UTF-8.
  while (cut > 0 && (static_cast<unsigned char>(raw[cut]) & 0xC0) == 0x80)
    --cut;
  return std::string(raw.substr(0, cut));
}

// "orders.csv:17:4" out of "orders.csv:17:4: 'x' is not an integer", knowing the file name.
std::string LocationOf(const Status& status, std::string_view file) {
  std::string_view message = status.message();
  if (message.substr(0, file.size()) == file && message.size() > file.size() &&
      message[file.size()] == ':') {
    size_t end = message.find(": ", file.size());
    if (end != std::string_view::npos)
      return std::string(message.substr(0, end));
  }
  return std::string(file);
}

struct ResumePoint {
  uint64_t offset = 0;
  int64_t line = 1;
};

Result<ResumePoint> ParsePosition(const std::string& text, std::string_view split) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("offset") ||
      !json.contains("line") || !json["offset"].is_number_unsigned() ||
      !json["line"].is_number_integer()) {
    return InvalidConfig(fmt::format("bad resume position for '{}': {}", split, text));
  }
  return ResumePoint{json["offset"].get<uint64_t>(), json["line"].get<int64_t>()};
}

std::string FormatPosition(uint64_t offset, int64_t line) {
  return nlohmann::json{{"offset", offset}, {"line", line}}.dump();
}

Result<std::string> PathFromPayload(const Split& split) {
  nlohmann::json json = nlohmann::json::parse(split.payload, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("path") ||
      !json["path"].is_string()) {
    return Internal(fmt::format("bad file split payload: {}", split.payload));
  }
  return json["path"].get<std::string>();
}

// What every reader needs from the source; copied into each reader so that readers never
// touch the source again.
struct ReaderSetup {
  std::string path;
  /// The remote store holding `path` (its location prefix stripped: `store_path`); null for a
  /// local file.
  std::shared_ptr<io::FileStore> store;
  std::string store_path;
  uint64_t size = 0;
  std::string stream_name;
  std::string component;
  SchemaPtr schema;
  JobContext context;
};

// The loop shared by the CSV and JSON Lines readers: batch limits, cancellation, bad records,
// progress and position.
class FileSplitReader : public SplitReader {
 public:
  explicit FileSplitReader(ReaderSetup setup) : setup_(std::move(setup)) {}

  Result<bool> ReadBatch(Batch* batch) override {
    if (setup_.context.cancelled != nullptr && setup_.context.cancelled->load()) {
      return Cancelled(fmt::format("reading '{}' stopped on request", setup_.path));
    }
    if (exhausted_)
      return false;
    started_ = true;
    const size_t before = batch->num_rows();
    while (!batch->full() && batch->ByteSize() < setup_.context.batch_bytes) {
      SLUICE_ASSIGN_OR_RETURN(bool more, ReadRow(batch));
      if (!more) {
        exhausted_ = true;
        break;
      }
    }
    progress_bytes_.store(source_bytes_read(), std::memory_order_relaxed);
    return batch->num_rows() > before || !exhausted_;
  }

  std::string Position() const override {
    if (!started_)
      return {};
    return FormatPosition(next_offset(), next_line());
  }

  double Progress() const override {
    if (setup_.size == 0)
      return exhausted_ ? 1.0 : 0.0;
    return std::min(1.0, static_cast<double>(progress_bytes_.load(std::memory_order_relaxed)) /
                             static_cast<double>(setup_.size));
  }

 protected:
  // Appends one row, or reports one bad record; false at the end of the file.
  virtual Result<bool> ReadRow(Batch* batch) = 0;
  virtual uint64_t next_offset() const = 0;
  virtual int64_t next_line() const = 0;
  virtual uint64_t source_bytes_read() const = 0;

  // Hands a bad record to the job's policy: OK skips it, an error stops the reader.
  Status Report(const Status& reason, std::string_view raw) {
    if (reason.code() != StatusCode::kDataError)
      return reason;
    BadRecord record;
    record.stream = setup_.stream_name;
    record.location = LocationOf(reason, setup_.path);
    record.raw = TruncateRaw(raw);
    record.reason = reason;
    if (setup_.context.bad_records == nullptr)
      return reason;
    return setup_.context.bad_records->Handle(record);
  }

  ReaderSetup setup_;

 private:
  bool started_ = false;
  std::atomic<bool> exhausted_{false};
  std::atomic<uint64_t> progress_bytes_{0};
};

class CsvSplitReader final : public FileSplitReader {
 public:
  CsvSplitReader(ReaderSetup setup, std::unique_ptr<io::InputStream> input,
                 formats::CsvReadOptions options)
      : FileSplitReader(std::move(setup)),
        input_(std::move(input)),
        reader_(input_.get(), setup_.path, std::move(options)) {}

  // Reads the header (mapping columns by name) or maps by position, then moves to `position`.
  Status Start(bool header, const formats::CsvDialect& dialect, bool schema_declared,
               const std::optional<ResumePoint>& position) {
    const Schema& schema = *setup_.schema;
    std::vector<int> mapping;
    if (header) {
      SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, reader_.ReadHeader());
      if (!names.empty() || schema.num_fields() > 0) {
        for (const std::string& name : names) {
          int column = schema.FieldIndex(name);
          // Only the first of two equal names fills the column.
          if (column >= 0 && std::find(mapping.begin(), mapping.end(), column) != mapping.end()) {
            column = -1;
          }
          mapping.push_back(column);
        }
        for (size_t c = 0; c < schema.num_fields(); ++c) {
          if (std::find(mapping.begin(), mapping.end(), static_cast<int>(c)) == mapping.end()) {
            if (names.empty())
              break;  // an empty file: nothing to map, nothing to read
            return InvalidConfig(fmt::format(
                "column '{}' of the {} is not in the header of '{}' (header: {})",
                schema.field(c).name, schema_declared ? "schema" : "first file's header",
                setup_.path, JoinNames(names)));
          }
        }
      }
    } else {
      for (size_t c = 0; c < schema.num_fields(); ++c)
        mapping.push_back(static_cast<int>(c));
    }
    builder_ =
        std::make_unique<formats::CsvBatchBuilder>(setup_.schema, std::move(mapping), dialect);
    if (position)
      SLUICE_RETURN_IF_ERROR(reader_.SeekTo(position->offset, position->line));
    return Status::OK();
  }

 protected:
  Result<bool> ReadRow(Batch* batch) override {
    Result<bool> next = reader_.Next();
    if (!next.ok()) {
      if (reader_.input_failed())
        return next.status();  // the file, not a record, is bad
      SLUICE_RETURN_IF_ERROR(Report(next.status(), reader_.record().raw()));
      return true;
    }
    if (!*next)
      return false;
    const formats::CsvRecord& record = reader_.record();
    if (builder_->Skips(record))
      return true;
    Status status = builder_->Append(record, batch);
    if (!status.ok())
      SLUICE_RETURN_IF_ERROR(Report(status, record.raw()));
    return true;
  }
  uint64_t next_offset() const override { return reader_.next_offset(); }
  int64_t next_line() const override { return reader_.next_line(); }
  uint64_t source_bytes_read() const override { return reader_.source_bytes_read(); }

 private:
  std::unique_ptr<io::InputStream> input_;
  formats::CsvReader reader_;
  std::unique_ptr<formats::CsvBatchBuilder> builder_;
};

class JsonlSplitReader final : public FileSplitReader {
 public:
  JsonlSplitReader(ReaderSetup setup, std::unique_ptr<io::InputStream> input)
      : FileSplitReader(std::move(setup)),
        input_(std::move(input)),
        reader_(input_.get(), setup_.path),
        builder_(setup_.schema, setup_.component) {}

  Status Start(const std::optional<ResumePoint>& position) {
    if (position)
      return reader_.SeekTo(position->offset, position->line);
    return Status::OK();
  }

 protected:
  Result<bool> ReadRow(Batch* batch) override {
    formats::JsonlLine line;
    Result<bool> next = reader_.Next(&line);
    if (!next.ok()) {
      if (reader_.input_failed())
        return next.status();  // the file, not a line, is bad
      SLUICE_RETURN_IF_ERROR(Report(next.status(), {}));
      return true;
    }
    if (!*next)
      return false;
    Status status = builder_.Append(line, batch);
    if (!status.ok())
      SLUICE_RETURN_IF_ERROR(Report(status, line.text));
    return true;
  }
  uint64_t next_offset() const override { return reader_.next_offset(); }
  int64_t next_line() const override { return reader_.next_line(); }
  uint64_t source_bytes_read() const override { return reader_.source_bytes_read(); }

 private:
  std::unique_ptr<io::InputStream> input_;
  formats::JsonlReader reader_;
  formats::JsonlBatchBuilder builder_;
};

// Avro container files. A position is {"offset": the offset of a block, "line": how many of
// its records were read}. A record that does not decode fails the split: the block's framing
// is lost after it, so there is no next record to go on with.
class AvroSplitReader final : public FileSplitReader {
 public:
  AvroSplitReader(ReaderSetup setup, std::unique_ptr<io::InputStream> input)
      : FileSplitReader(std::move(setup)), input_(std::move(input)) {}

  Status Start(const std::optional<ResumePoint>& position) {
    SLUICE_ASSIGN_OR_RETURN(reader_, formats::AvroContainerReader::Open(input_.get(), setup_.path));
    if (position) {
      Batch scratch(setup_.schema, 1024);
      SLUICE_RETURN_IF_ERROR(reader_->SeekTo(position->offset,
                                             static_cast<uint64_t>(position->line), &scratch));
    }
    return Status::OK();
  }

 protected:
  Result<bool> ReadRow(Batch* batch) override {
    Result<bool> read = reader_->Read(batch, 1);
    if (read.ok() || !reader_->can_skip_bad_record())
      return read;  // corrupt bytes: the records after them cannot be found
    // A value that does not fit its column: the record goes to the errors policy.
    SLUICE_RETURN_IF_ERROR(Report(read.status(), ""));
    return true;
  }
  uint64_t next_offset() const override { return reader_->block_offset(); }
  int64_t next_line() const override { return static_cast<int64_t>(reader_->records_into_block()); }
  uint64_t source_bytes_read() const override { return reader_->bytes_read(); }

 private:
  std::unique_ptr<io::InputStream> input_;
  std::unique_ptr<formats::AvroContainerReader> reader_;
};

// Parquet files: read by row groups through random access, a batch at a time. Columns are
// matched by name when a file's differ from the stream's (declared, or the first file's). A
// position is {"offset": 0, "line": rows read}; a resumed reader reads and drops that many rows.
class ParquetSplitReader final : public SplitReader {
 public:
  explicit ParquetSplitReader(ReaderSetup setup) : setup_(std::move(setup)) {}

  Status Start(const std::optional<ResumePoint>& position) {
    std::unique_ptr<formats::RandomAccessFile> input;
    if (setup_.store) {
      SLUICE_ASSIGN_OR_RETURN(input, formats::StoreRandomAccessFile::Open(setup_.store.get(),
                                                                          setup_.store_path));
    } else {
      SLUICE_ASSIGN_OR_RETURN(input, formats::LocalRandomAccessFile::Open(setup_.path));
    }
    SLUICE_ASSIGN_OR_RETURN(reader_, formats::ParquetReader::Open(std::move(input)));
    if (!(*reader_->schema() == *setup_.schema)) {
      // Another file's columns, or declared ones: matched by name, values converted through
      // their canonical text.
      const Schema& file = *reader_->schema();
      for (const Field& field : setup_.schema->fields()) {
        const int index = file.FieldIndex(field.name);
        if (index < 0) {
          return InvalidConfig(fmt::format("column '{}' is not in '{}' (its columns: {})",
                                           field.name, setup_.path, file.ToString()));
        }
        mapping_.push_back(index);
      }
    }
    if (position && position->line > 0) {
      const int64_t skip = position->line;
      while (rows_read_ < skip) {
        // A batch never larger than what is left to skip: ReadBatch stops when it is full.
        Batch scratch(reader_->schema(),
                      static_cast<size_t>(std::min<int64_t>(skip - rows_read_, 65536)));
        SLUICE_ASSIGN_OR_RETURN(size_t got, reader_->ReadBatch(&scratch));
        if (got == 0) {
          return DataError(fmt::format("'{}' has fewer rows than the resume position {}: the "
                                       "file changed",
                                       setup_.path, skip));
        }
        rows_read_ += static_cast<int64_t>(got);
      }
    }
    return Status::OK();
  }

  Result<bool> ReadBatch(Batch* batch) override {
    if (setup_.context.cancelled != nullptr && setup_.context.cancelled->load())
      return Cancelled(fmt::format("reading '{}' stopped on request", setup_.path));
    started_ = true;
    size_t got = 0;
    if (mapping_.empty()) {
      SLUICE_ASSIGN_OR_RETURN(got, reader_->ReadBatch(batch));
    } else {
      SLUICE_ASSIGN_OR_RETURN(got, ReadMapped(batch));
    }
    rows_read_ += static_cast<int64_t>(got);
    read_rows_.store(rows_read_, std::memory_order_relaxed);
    return got > 0;
  }

  std::string Position() const override {
    if (!started_)
      return {};
    return FormatPosition(0, rows_read_);
  }

  // Reads the file's columns, then appends the mapped ones to `batch`'s columns.
  Result<size_t> ReadMapped(Batch* batch) {
    Batch file(reader_->schema(), batch->capacity() - std::min(batch->capacity(), batch->num_rows()));
    SLUICE_ASSIGN_OR_RETURN(size_t got, reader_->ReadBatch(&file));
    for (size_t row = 0; row < got; ++row) {
      for (size_t c = 0; c < mapping_.size(); ++c) {
        const Column& from = file.column(static_cast<size_t>(mapping_[c]));
        Column& to = batch->column(c);
        if (from.IsNull(row)) {
          to.AppendNull();
          continue;
        }
        text_.clear();
        AppendValueText(from, row, &text_);
        Status converted = AppendParsedValue(text_, &to);
        if (!converted.ok()) {
          for (size_t done = 0; done < c; ++done)
            batch->column(done).Truncate(batch->num_rows());
          return DataError(fmt::format("{}: row {}: column '{}': {}", setup_.path,
                                       rows_read_ + static_cast<int64_t>(row) + 1,
                                       setup_.schema->field(c).name, converted.message()));
        }
      }
      batch->FinishRow();
    }
    return got;
  }

  double Progress() const override {
    const int64_t total = reader_ ? reader_->num_rows() : 0;
    if (total == 0)
      return 1.0;
    return std::min(1.0, static_cast<double>(read_rows_.load(std::memory_order_relaxed)) /
                             static_cast<double>(total));
  }

 private:
  ReaderSetup setup_;
  std::unique_ptr<formats::ParquetReader> reader_;
  std::vector<int> mapping_;  // file column of each column read; empty: the same columns
  std::string text_;
  bool started_ = false;
  int64_t rows_read_ = 0;
  std::atomic<int64_t> read_rows_{0};
};

}  // namespace

FileSource::FileSource(FileSourceOptions options) : options_(std::move(options)) {}

std::string FileSource::StreamNameFor(std::string_view pattern) {
  std::string_view base = io::BaseName(pattern);
  base = io::StripCompressionExtension(base);
  if (size_t glob = base.find_first_of("*?["); glob != std::string_view::npos) {
    base = base.substr(0, glob);
  } else if (size_t dot = base.find_last_of('.'); dot != std::string_view::npos && dot > 0) {
    base = base.substr(0, dot);
  }
  while (!base.empty() &&
         (base.back() == '-' || base.back() == '_' || base.back() == '.' || base.back() == ' ')) {
    base.remove_suffix(1);
  }
  if (!base.empty())
    return std::string(base);
  std::string directory = io::ParentDirectory(pattern);
  std::string_view name = io::BaseName(directory);
  if (!name.empty() && name != "." && name != "/" && !io::HasGlobCharacters(name)) {
    return std::string(name);
  }
  return "file";
}

Result<std::unique_ptr<io::InputStream>> FileSource::OpenInput(const std::string& file) const {
  if (!store_)
    return io::OpenInputFile(file, options_.compression);
  return io::OpenStoreInput(store_.get(), file.substr(store_location_.size()),
                            options_.compression);
}

Result<uint64_t> FileSource::SizeOf(const std::string& file) const {
  if (!store_)
    return io::FileSize(file);
  return store_->Size(file.substr(store_location_.size()));
}

Status FileSource::Open(const JobContext& context) {
  context_ = context;
  if (std::optional<std::pair<std::string, std::string>> remote =
          io::SplitStoreUrl(options_.path)) {
    // A remote store: files are named by their URLs, read with ranged requests.
    io::FileStoreOptions store_options = options_.store;
    store_options.location = remote->first;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<io::FileStore> store,
                            io::OpenFileStore(store_options));
    store_ = std::move(store);
    store_location_ = remote->first;
    if (!store_location_.ends_with("/"))
      store_location_ += "/";
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> found,
                            io::ExpandStoreGlob(store_.get(), remote->second));
    files_.clear();
    for (const std::string& path : found)
      files_.push_back(store_location_ + path);
  } else {
    SLUICE_ASSIGN_OR_RETURN(files_, io::ExpandGlob(options_.path));
  }
  sizes_.clear();
  for (const std::string& file : files_) {
    SLUICE_ASSIGN_OR_RETURN(uint64_t size, SizeOf(file));
    sizes_.push_back(size);
  }
  if (options_.format) {
    format_ = *options_.format;
  } else if (auto format = FormatFromPath(options_.path)) {
    format_ = *format;
  } else if (auto first = FormatFromPath(files_.front())) {
    format_ = *first;
  } else {
    return InvalidConfig(
        fmt::format("cannot tell the format of '{}' from its extension; set format: csv, jsonl, avro or parquet",
                    options_.path));
  }
  std::string name = options_.stream.empty() ? StreamNameFor(options_.path) : options_.stream;
  component_ = fmt::format("source:file:{}", name);
  streams_.clear();
  streams_.push_back(StreamInfo{name, nullptr, std::nullopt});
  if (options_.schema) {
    streams_[0].schema = std::make_shared<Schema>(*options_.schema);
    schema_origin_ = "declared in the job";
    return Status::OK();
  }
  switch (format_) {
    case FileFormat::kCsv:
      return FindCsvSchema();
    case FileFormat::kJsonl:
      return FindJsonlSchema();
    case FileFormat::kAvro:
      return FindAvroSchema();
    case FileFormat::kParquet:
      return FindParquetSchema();
  }
  return Internal("unknown file format");
}

Status FileSource::FindCsvSchema() {
  formats::CsvReadOptions read_options;
  read_options.dialect = options_.dialect;
  // The first file with a record names (or counts) the columns.
  for (const std::string& file : files_) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<io::InputStream> input, OpenInput(file));
    formats::CsvReader reader(input.get(), file, read_options);
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, reader.ReadHeader());
    if (names.empty())
      continue;
    std::vector<Field> fields;
    for (size_t i = 0; i < names.size(); ++i) {
      std::string name = options_.header ? names[i] : "";
      if (name.empty())
        name = fmt::format("c{}", i + 1);
      for (const Field& field : fields) {
        if (field.name == name) {
          return InvalidConfig(fmt::format(
              "column '{}' appears twice in the header of '{}'; declare a schema to pick one", name,
              file));
        }
      }
      fields.push_back(Field{std::move(name), DataType::String(), true, ""});
    }
    streams_[0].schema = std::make_shared<Schema>(std::move(fields));
    schema_origin_ =
        options_.header ? fmt::format("from the header of '{}', all columns string", file)
                        : fmt::format("{} columns counted in '{}', all string", names.size(), file);
    return Status::OK();
  }
  streams_[0].schema = std::make_shared<Schema>();
  schema_origin_ = "no columns: every file is empty";
  log::Warn(component_, "Every file matching '{}' is empty; no columns are known", options_.path);
  return Status::OK();
}

Status FileSource::FindJsonlSchema() {
  for (const std::string& file : files_) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<io::InputStream> input, OpenInput(file));
    formats::JsonlReader reader(input.get(), file);
    SLUICE_ASSIGN_OR_RETURN(Schema schema, formats::InferJsonlSchema(&reader));
    if (schema.num_fields() == 0)
      continue;
    schema_origin_ = fmt::format("inferred from the first lines of '{}'", file);
    log::Info(component_, "Schema inferred from '{}': {}", file, schema.ToString());
    streams_[0].schema = std::make_shared<Schema>(std::move(schema));
    return Status::OK();
  }
  streams_[0].schema = std::make_shared<Schema>();
  schema_origin_ = "no columns: no file has a JSON object";
  log::Warn(component_, "No file matching '{}' has a JSON object; no columns are known",
            options_.path);
  return Status::OK();
}

Status FileSource::FindAvroSchema() {
  // Every container file carries its writer schema: the first file's names the columns, and
  // the others' records are matched to them by name.
  const std::string& file = files_.front();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<io::InputStream> input, OpenInput(file));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<formats::AvroContainerReader> reader,
                          formats::AvroContainerReader::Open(input.get(), file));
  Result<std::vector<Field>> fields = formats::AvroColumns(reader->schema_json());
  if (!fields.ok())
    return fields.status().WithContext(file);
  streams_[0].schema = std::make_shared<Schema>(std::move(*fields));
  schema_origin_ = fmt::format("the writer schema of '{}'", file);
  log::Info(component_, "Schema from the Avro header of '{}': {}", file,
            streams_[0].schema->ToString());
  return Status::OK();
}

Status FileSource::FindParquetSchema() {
  const std::string& file = files_.front();
  std::unique_ptr<formats::RandomAccessFile> input;
  if (store_) {
    SLUICE_ASSIGN_OR_RETURN(input, formats::StoreRandomAccessFile::Open(
                                       store_.get(), file.substr(store_location_.size())));
  } else {
    SLUICE_ASSIGN_OR_RETURN(input, formats::LocalRandomAccessFile::Open(file));
  }
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<formats::ParquetReader> reader,
                          formats::ParquetReader::Open(std::move(input)));
  streams_[0].schema = reader->schema();
  schema_origin_ = fmt::format("the footer of '{}'", file);
  log::Info(component_, "Schema from the Parquet footer of '{}': {}", file,
            streams_[0].schema->ToString());
  return Status::OK();
}

Result<std::unique_ptr<SplitEnumerator>> FileSource::CreateEnumerator() {
  std::vector<Split> splits;
  for (size_t i = 0; i < files_.size(); ++i) {
    Split split;
    split.id = files_[i];
    split.stream = 0;
    split.payload = nlohmann::json{{"path", files_[i]}}.dump();
    split.estimated_bytes = sizes_[i];
    splits.push_back(std::move(split));
  }
  return std::unique_ptr<SplitEnumerator>(new SplitQueue(std::move(splits)));
}

Result<std::unique_ptr<SplitReader>> FileSource::CreateReader(const Split& split,
                                                              const std::string& position) {
  SLUICE_ASSIGN_OR_RETURN(std::string path, PathFromPayload(split));
  std::optional<ResumePoint> resume;
  if (!position.empty()) {
    SLUICE_ASSIGN_OR_RETURN(ResumePoint parsed, ParsePosition(position, split.id));
    resume = parsed;
  }
  ReaderSetup setup;
  setup.path = path;
  auto known = std::find(files_.begin(), files_.end(), path);
  if (known != files_.end()) {
    setup.size = sizes_[static_cast<size_t>(known - files_.begin())];
  } else {
    SLUICE_ASSIGN_OR_RETURN(setup.size, SizeOf(path));
  }
  if (store_) {
    if (!path.starts_with(store_location_)) {
      return InvalidConfig(fmt::format("split '{}' is not a file of '{}'", split.id,
                                       store_location_));
    }
    setup.store = store_;
    setup.store_path = path.substr(store_location_.size());
  }
  setup.stream_name = streams_[0].name;
  setup.component = component_;
  setup.schema = streams_[0].schema;
  setup.context = context_;
  if (format_ == FileFormat::kParquet) {
    auto reader = std::make_unique<ParquetSplitReader>(std::move(setup));
    SLUICE_RETURN_IF_ERROR(reader->Start(resume));
    return std::unique_ptr<SplitReader>(std::move(reader));
  }
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<io::InputStream> input, OpenInput(path));
  if (format_ == FileFormat::kCsv) {
    formats::CsvReadOptions read_options;
    read_options.dialect = options_.dialect;
    auto reader =
        std::make_unique<CsvSplitReader>(std::move(setup), std::move(input), read_options);
    SLUICE_RETURN_IF_ERROR(
        reader->Start(options_.header, options_.dialect, options_.schema.has_value(), resume));
    return std::unique_ptr<SplitReader>(std::move(reader));
  }
  if (format_ == FileFormat::kAvro) {
    auto reader = std::make_unique<AvroSplitReader>(std::move(setup), std::move(input));
    SLUICE_RETURN_IF_ERROR(reader->Start(resume));
    return std::unique_ptr<SplitReader>(std::move(reader));
  }
  auto reader = std::make_unique<JsonlSplitReader>(std::move(setup), std::move(input));
  SLUICE_RETURN_IF_ERROR(reader->Start(resume));
  return std::unique_ptr<SplitReader>(std::move(reader));
}

void FileSource::Describe(CheckReport* report) const {
  uint64_t total = 0;
  for (uint64_t size : sizes_)
    total += size;
  report->Note(fmt::format("{} {} '{}' ({} bytes), read as {}{}", files_.size(),
                           files_.size() == 1 ? "file matches" : "files match", options_.path,
                           total, FileFormatName(format_),
                           options_.compression == io::Compression::kAuto
                               ? ""
                               : fmt::format(", {}", io::CompressionName(options_.compression))));
  report->Note(fmt::format("schema of stream '{}': {}", streams_.empty() ? "" : streams_[0].name,
                           schema_origin_));
}

}  // namespace sluice::connectors::file
