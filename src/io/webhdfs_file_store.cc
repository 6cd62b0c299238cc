// The WebHDFS store: not written yet (issue 14).
#include "io/file_store.h"

namespace sluice::io {

Result<std::unique_ptr<FileStore>> MakeWebHdfsFileStore(std::string url, std::string root,
                                                        std::string user, HttpOptions http) {
  return Unsupported("writing tables to HDFS is not implemented yet");
}

}  // namespace sluice::io
