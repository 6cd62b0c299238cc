// Helpers shared by the io tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
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

/// A loopback port nothing listens on: bound once to get a free one, then closed again. A
/// connection to it is refused, as to a store that is down.
inline int ClosedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace sluice::io
