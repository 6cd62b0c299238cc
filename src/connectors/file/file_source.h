// FileSource: reads CSV or JSON Lines files, plain or compressed, matched by a path or glob.
//
// One stream (named by the `stream` option or the pattern's file stem); one split per file, in
// name order, estimated at the file's size. A split's payload is {"path": ...}; a reader's
// position is {"offset": <decompressed bytes consumed>, "line": <next line>}, and a reader
// created with it seeks (plain files) or skips (compressed files) there. Bad records go to the
// job's BadRecordHandler with their file:line:column.
//
// Thread-safety: Open, streams and CreateEnumerator on the coordinator thread; CreateReader
// from any thread (it reads only what Open left behind). Each reader is used by one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/api.h"
#include "connectors/file/file_options.h"
#include "io/file_store.h"

namespace sluice::connectors::file {

class FileSource final : public Source {
 public:
  explicit FileSource(FileSourceOptions options);

  /// Expands the glob, picks the format and finds the schema (declared, from the first CSV
  /// header, or inferred from the first JSON Lines file).
  Status Open(const JobContext& context) override;
  const std::vector<StreamInfo>& streams() const override { return streams_; }
  Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() override;
  Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                    const std::string& position) override;
  void Describe(CheckReport* report) const override;

  /// The stream name `pattern` implies: its file stem before any glob character, without
  /// extensions and trailing separators ("orders" for data/orders-*.csv.gz), else the
  /// directory name, else "file".
  static std::string StreamNameFor(std::string_view pattern);

 private:
  Status FindCsvSchema();
  Status FindJsonlSchema();
  Status FindAvroSchema();
  Status FindParquetSchema();

  // Files by their names in split ids and errors: local paths, or URLs of the remote store.
  Result<std::unique_ptr<io::InputStream>> OpenInput(const std::string& file) const;
  Result<uint64_t> SizeOf(const std::string& file) const;

  FileSourceOptions options_;
  /// The remote store `options_.path` names (webhdfs://, s3://); null for local files.
  std::shared_ptr<io::FileStore> store_;
  std::string store_location_;  // the URL prefix of the store's files
  JobContext context_;
  FileFormat format_ = FileFormat::kCsv;
  std::vector<std::string> files_;
  std::vector<uint64_t> sizes_;
  std::vector<StreamInfo> streams_;
  std::string schema_origin_;  // how the schema was found, for Describe()
  std::string component_;      // "source:file:<stream>", for log lines
};

}  // namespace sluice::connectors::file
