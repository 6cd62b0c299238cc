// Helpers shared by the io tests.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <string>

#include "testing/temp_dir.h"

namespace sluice::io {

/// Text that compresses like real data (repeated words, numbers), `bytes` long.
inline std::string MakeText(size_t bytes, uint32_t seed = 1) {
  static const char* const kWords[] = {"alpha",      "beta",  "gamma", "delta", "orders", "x",
                                       "2024-01-01", "héllo", "😀",     "\n",    ",",      "\"q\""};
  std::mt19937 random(seed);
  std::string out;
  out.reserve(bytes + 16);
  while (out.size() < bytes) {
    out += kWords[random() % std::size(kWords)];
    out += std::to_string(random() % 100000);
  }
  out.resize(bytes);
  return out;
}

/// A directory this process cannot create files in, or "" when there is none (root ignores
/// permission bits, so then a read-only kernel file system stands in).
inline std::string UnwritableDirectory(const testing::TempDir& temp) {
  if (::geteuid() != 0) {
    std::string dir = temp.Join("read-only");
    ::mkdir(dir.c_str(), 0555);
    return dir;
  }
  std::string probe = "/sys/.sluice-probe";
  if (::mkdir(probe.c_str(), 0700) == 0) {
    ::rmdir(probe.c_str());
    return "";
  }
  return errno == EACCES || errno == EPERM || errno == EROFS ? "/sys" : "";
}

}  // namespace sluice::io
