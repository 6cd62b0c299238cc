// The S3 store: not written yet (issue 14).
#include "io/file_store.h"

namespace sluice::io {

Result<std::unique_ptr<FileStore>> MakeS3FileStore(const FileStoreOptions& options,
                                                   std::string bucket, std::string prefix) {
  return Unsupported("writing tables to S3 is not implemented yet");
}

}  // namespace sluice::io
