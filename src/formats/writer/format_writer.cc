#include "formats/writer/format_writer.h"

#include <algorithm>

#include "formats/avro/avro_container.h"
#include "formats/csv/csv_writer.h"
#include "formats/jsonl/jsonl_writer.h"
#include "formats/parquet/parquet_writer.h"

namespace sluice::formats {

Result<size_t> FormatWriter::WriteRowsHandingOverRefused(
    const Batch& batch, size_t begin, size_t end,
    const std::function<Status(size_t row, const Status& reason)>& refused) {
  Status written = WriteRows(batch, begin, end);
  if (written.ok())
    return end - begin;
  if (written.code() != StatusCode::kDataError || !refused_whole_call())
    return written;
  size_t kept = 0;
  for (size_t row = begin; row < end; ++row) {
    Status one = WriteRows(batch, row, row + 1);
    if (one.ok()) {
      ++kept;
      continue;
    }
    if (one.code() != StatusCode::kDataError || !refused_whole_call())
      return one;
    SLUICE_RETURN_IF_ERROR(refused(row, one));
  }
  return kept;
}

namespace {

class CsvFormatWriter final : public FormatWriter {
 public:
  CsvFormatWriter(io::OutputStream* output, const CsvDialect& dialect)
      : writer_(output, dialect) {}
  Status WriteHeader(const Schema& schema) { return writer_.WriteHeader(schema); }
  Status WriteRows(const Batch& batch, size_t begin, size_t end) override {
    return writer_.WriteRows(batch, begin, end);
  }
  Status Flush() override { return writer_.Flush(); }
  uint64_t bytes_written() const override { return writer_.bytes_written(); }

 private:
  CsvWriter writer_;
};

class JsonlFormatWriter final : public FormatWriter {
 public:
  explicit JsonlFormatWriter(io::OutputStream* output) : writer_(output) {}
  Status WriteRows(const Batch& batch, size_t begin, size_t end) override {
    return writer_.WriteRows(batch, begin, end);
  }
  Status Flush() override { return writer_.Flush(); }
  uint64_t bytes_written() const override { return writer_.bytes_written(); }

 private:
  JsonlWriter writer_;
};

// An Avro container file: the header carries the schema, and every Flush() (each commit and
// the end of the file) ends a block, so the file is complete up to there.
class AvroFormatWriter final : public FormatWriter {
 public:
  explicit AvroFormatWriter(std::unique_ptr<AvroContainerWriter> writer)
      : writer_(std::move(writer)) {}
  Status WriteHeader() { return writer_->WriteHeader(); }
  Status WriteRows(const Batch& batch, size_t begin, size_t end) override {
    return writer_->WriteRows(batch, begin, end);
  }
  Status Flush() override { return writer_->Flush(); }
  uint64_t bytes_written() const override { return writer_->bytes_written(); }

 private:
  std::unique_ptr<AvroContainerWriter> writer_;
};

// A Parquet file: a flush ends a row group, and the completed row groups' metadata is the
// commit state, so that a crashed file is cut back to them and continued
// (ParquetWriter::Resume); the footer is written when the file ends.
class ParquetFormatWriter final : public FormatWriter {
 public:
  explicit ParquetFormatWriter(std::unique_ptr<ParquetWriter> writer)
      : writer_(std::move(writer)), start_bytes_(writer_->committed_bytes()) {}
  Status WriteRows(const Batch& batch, size_t begin, size_t end) override {
    return writer_->WriteRows(batch, begin, end);
  }
  Status Flush() override { return writer_->FlushRowGroup(); }
  Status Finish() override { return writer_->Finish(); }
  std::string CommitState() const override { return writer_->CommittedState(); }
  // Since this writer started: a continued file's earlier bytes are counted by its owner.
  uint64_t bytes_written() const override {
    return writer_->committed_bytes() - start_bytes_ + writer_->buffered_bytes();
  }
  uint64_t buffered_bytes() const override { return writer_->buffered_bytes(); }
  bool refused_whole_call() const override { return writer_->usable(); }

 private:
  std::unique_ptr<ParquetWriter> writer_;
  uint64_t start_bytes_;
};

ParquetWriterOptions ParquetOptionsOf(const FormatWriterOptions& options) {
  ParquetWriterOptions parquet;
  parquet.compression = options.parquet_compression;
  parquet.row_group_bytes = options.row_group_bytes;
  // Small row groups (tests, tiny files) get pages no larger than themselves.
  parquet.page_bytes = std::min(parquet.page_bytes, parquet.row_group_bytes);
  return parquet;
}

Result<std::unique_ptr<AvroContainerWriter>> MakeAvroWriter(const FormatWriterOptions& options,
                                                            const Schema& schema,
                                                            std::string_view stream,
                                                            std::string_view file_name,
                                                            io::OutputStream* output) {
  AvroContainerOptions avro;
  avro.codec = options.avro_codec;
  // The file's name seeds its sync marker: a file continued after a crash keeps it.
  return AvroContainerWriter::Make(output, schema, std::string(stream), file_name, avro);
}

}  // namespace

Result<std::unique_ptr<FormatWriter>> StartFile(FileFormat format,
                                                const FormatWriterOptions& options,
                                                SchemaPtr schema, std::string_view stream,
                                                std::string_view file_name,
                                                io::OutputStream* output) {
  switch (format) {
    case FileFormat::kCsv: {
      auto writer = std::make_unique<CsvFormatWriter>(output, options.dialect);
      if (options.csv_header)
        SLUICE_RETURN_IF_ERROR(writer->WriteHeader(*schema));
      return std::unique_ptr<FormatWriter>(std::move(writer));
    }
    case FileFormat::kJsonl:
      return std::unique_ptr<FormatWriter>(std::make_unique<JsonlFormatWriter>(output));
    case FileFormat::kAvro: {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<AvroContainerWriter> avro,
                              MakeAvroWriter(options, *schema, stream, file_name, output));
      auto writer = std::make_unique<AvroFormatWriter>(std::move(avro));
      SLUICE_RETURN_IF_ERROR(writer->WriteHeader());
      return std::unique_ptr<FormatWriter>(std::move(writer));
    }
    case FileFormat::kParquet: {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ParquetWriter> writer,
                              ParquetWriter::Open(output, schema, ParquetOptionsOf(options)));
      return std::unique_ptr<FormatWriter>(
          std::make_unique<ParquetFormatWriter>(std::move(writer)));
    }
  }
  return Internal("unknown file format");
}

Result<std::unique_ptr<FormatWriter>> ContinueFile(FileFormat format,
                                                   const FormatWriterOptions& options,
                                                   SchemaPtr schema, std::string_view stream,
                                                   std::string_view file_name,
                                                   io::OutputStream* output,
                                                   const std::string& state) {
  switch (format) {
    case FileFormat::kCsv:
      return std::unique_ptr<FormatWriter>(
          std::make_unique<CsvFormatWriter>(output, options.dialect));
    case FileFormat::kJsonl:
      return std::unique_ptr<FormatWriter>(std::make_unique<JsonlFormatWriter>(output));
    case FileFormat::kAvro: {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<AvroContainerWriter> avro,
                              MakeAvroWriter(options, *schema, stream, file_name, output));
      return std::unique_ptr<FormatWriter>(std::make_unique<AvroFormatWriter>(std::move(avro)));
    }
    case FileFormat::kParquet: {
      SLUICE_ASSIGN_OR_RETURN(
          std::unique_ptr<ParquetWriter> writer,
          ParquetWriter::Resume(output, schema, ParquetOptionsOf(options), state));
      return std::unique_ptr<FormatWriter>(
          std::make_unique<ParquetFormatWriter>(std::move(writer)));
    }
  }
  return Internal("unknown file format");
}

}  // namespace sluice::formats
