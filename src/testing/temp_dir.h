// TempDir: a fresh directory under $TMPDIR removed with everything in it on destruction.
#pragma once

#include <string>

namespace sluice::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// path() + "/" + name.
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Reads a whole file; aborts the test run on failure (test-only).
std::string ReadFileOrDie(const std::string& path);
/// Writes `contents` to `path`, replacing it.
void WriteFileOrDie(const std::string& path, const std::string& contents);

}  // namespace sluice::testing
