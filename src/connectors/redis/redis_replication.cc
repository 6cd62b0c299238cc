// ReplicaLink (see redis_replication.h).
#include "connectors/redis/redis_replication.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::connectors::redis {

namespace {

constexpr size_t kBufferBytes = 256 * 1024;
constexpr size_t kEofMarkBytes = 40;

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Waits until `fd` is ready for `events` or `timeout` passes; false on timeout.
Result<bool> PollFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd entry{fd, events, 0};
  for (;;) {
    int ready = ::poll(&entry, 1, static_cast<int>(timeout.count()));
    if (ready > 0)
      return true;
    if (ready == 0)
      return false;
    if (errno != EINTR)
      return Unavailable(fmt::format("poll failed: {}", std::strerror(errno)));
  }
}

}  // namespace

ReplicaLink::ReplicaLink(int fd, std::string address, std::chrono::milliseconds timeout)
    : fd_(fd), address_(std::move(address)), timeout_(timeout), buffer_(kBufferBytes) {}

ReplicaLink::~ReplicaLink() {
  if (fd_ >= 0)
    ::close(fd_);
}

Result<std::unique_ptr<ReplicaLink>> ReplicaLink::Connect(const RedisConnectOptions& options) {
  const std::string address = fmt::format("{}:{}", options.host, options.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  if (int rc = ::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Unavailable(fmt::format("Redis at {}: cannot resolve the host: {}", address,
                                   ::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);
  std::string failure = "no address";
  for (addrinfo* at = found; at != nullptr; at = at->ai_next) {
    int fd = ::socket(at->ai_family, at->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      at->ai_protocol);
    if (fd < 0)
      continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc = ::connect(fd, at->ai_addr, at->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      Result<bool> ready = PollFor(fd, POLLOUT, options.connect_timeout);
      int error = 0;
      socklen_t length = sizeof(error);
      if (!ready.ok() || !*ready) {
        error = ETIMEDOUT;
      } else {
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      }
      rc = error == 0 ? 0 : -1;
      errno = error;
    }
    if (rc != 0) {
      failure = std::strerror(errno);
      ::close(fd);
      continue;
    }
    std::unique_ptr<ReplicaLink> link(new ReplicaLink(fd, address, options.command_timeout));
    if (!options.password.empty()) {
      std::vector<std::string_view> auth{"AUTH"};
      if (!options.user.empty())
        auth.push_back(options.user);
      auth.push_back(options.password.Reveal());
      SLUICE_RETURN_IF_ERROR(link->Send(auth));
      SLUICE_ASSIGN_OR_RETURN(std::string reply, link->ReadLine());
      if (StartsWith(reply, "-"))
        return RedisStatus(address, "AUTH", 0, reply.substr(1));
    }
    return link;
  }
  return Unavailable(fmt::format("Redis at {}: cannot connect: {}", address, failure));
}

Status ReplicaLink::Lost(std::string_view what) {
  return Unavailable(fmt::format("Redis at {}: the replication link was lost: {}", address_,
                                 what));
}

Status ReplicaLink::Send(const std::vector<std::string_view>& args) {
  std::string request = fmt::format("*{}\r\n", args.size());
  for (std::string_view arg : args) {
    request += fmt::format("${}\r\n", arg.size());
    request.append(arg);
    request += "\r\n";
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      SLUICE_ASSIGN_OR_RETURN(bool ready, PollFor(fd_, POLLOUT, timeout_));
      if (!ready)
        return Lost(fmt::format("no write possible for {} s", timeout_.count() / 1000));
      continue;
    }
    return Lost(std::strerror(errno));
  }
  return Status::OK();
}

Status ReplicaLink::Fill() {
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  for (;;) {
    ssize_t n = ::recv(fd_, buffer_.data() + end_, buffer_.size() - end_, 0);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return Status::OK();
    }
    if (n == 0)
      return Lost("the server closed the connection");
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return Lost(std::strerror(errno));
    SLUICE_ASSIGN_OR_RETURN(bool ready, PollFor(fd_, POLLIN, timeout_));
    if (!ready)
      return Lost(fmt::format("no data for {} s", timeout_.count() / 1000));
  }
}

Result<std::string> ReplicaLink::ReadLine() {
  for (;;) {
    std::string_view unread(buffer_.data() + begin_, end_ - begin_);
    size_t newline = unread.find("\r\n");
    if (newline != std::string_view::npos) {
      std::string line(unread.substr(0, newline));
      begin_ += newline + 2;
      return line;
    }
    if (end_ - begin_ >= buffer_.size() / 2)
      return Lost("a reply line longer than 128 KB");
    SLUICE_RETURN_IF_ERROR(Fill());
  }
}

Status ReplicaLink::Read(char* out, size_t size) {
  while (size > 0) {
    if (begin_ == end_)
      SLUICE_RETURN_IF_ERROR(Fill());
    size_t take = std::min(size, end_ - begin_);
    std::memcpy(out, buffer_.data() + begin_, take);
    begin_ += take;
    out += take;
    size -= take;
  }
  return Status::OK();
}

Result<PsyncReply> ReplicaLink::Psync(std::string_view replid, int64_t next_offset) {
  SLUICE_RETURN_IF_ERROR(Send({"REPLCONF", "capa", "eof", "capa", "psync2"}));
  SLUICE_ASSIGN_OR_RETURN(std::string capa, ReadLine());
  auto refused = [&](std::string_view what, const std::string& line) -> Status {
    std::string_view message = std::string_view(line).substr(1);
    if (StartsWith(message, "NOMASTERLINK") || StartsWith(message, "LOADING") ||
        StartsWith(message, "MASTERDOWN")) {
      return Unavailable(fmt::format("Redis at {} cannot serve replication now: {}", address_,
                                     message));
    }
    if (StartsWith(message, "NOPERM")) {
      return PermissionDenied(fmt::format(
          "Redis at {} refused {}: the user may not replicate; grant it +psync +replconf "
          "(ACL SETUSER) or connect as a user that may ({})",
          address_, what, message));
    }
    return RedisStatus(address_, what, 0, message);
  };
  if (StartsWith(capa, "-"))
    return refused("REPLCONF", capa);
  const std::string offset = std::to_string(next_offset);
  SLUICE_RETURN_IF_ERROR(Send({"PSYNC", replid, offset}));
  SLUICE_RETURN_IF_ERROR(SkipNewlines());
  SLUICE_ASSIGN_OR_RETURN(std::string line, ReadLine());
  PsyncReply reply;
  if (StartsWith(line, "+FULLRESYNC ")) {
    char id[64] = {0};
    long long at = 0;
    if (std::sscanf(line.c_str() + 12, "%63s %lld", id, &at) != 2)
      return Lost(fmt::format("PSYNC answered '{}'", line.substr(0, 100)));
    reply.full_sync = true;
    reply.replid = id;
    reply.offset = at;
    return reply;
  }
  if (StartsWith(line, "+CONTINUE")) {
    reply.replid = line.size() > 10 ? line.substr(10) : std::string(replid);
    reply.offset = next_offset - 1;
    return reply;
  }
  if (StartsWith(line, "-"))
    return refused("PSYNC", line);
  return Lost(fmt::format("PSYNC answered '{}'", line.substr(0, 100)));
}

Status ReplicaLink::SkipNewlines() {
  // Newlines keep the link alive while the server prepares the sync (before and after PSYNC's
  // answer); they are no part of the replication stream.
  for (;;) {
    if (begin_ == end_)
      SLUICE_RETURN_IF_ERROR(Fill());
    if (buffer_[begin_] != '\n')
      return Status::OK();
    ++begin_;
  }
}

Status ReplicaLink::BeginPayload() {
  SLUICE_RETURN_IF_ERROR(SkipNewlines());
  SLUICE_ASSIGN_OR_RETURN(std::string header, ReadLine());
  if (StartsWith(header, "-"))
    return RedisStatus(address_, "SYNC", 0, header.substr(1));
  if (StartsWith(header, "$EOF:") && header.size() == 5 + kEofMarkBytes) {
    eof_mark_ = header.substr(5);
    payload_bytes_ = 0;
    return Status::OK();
  }
  if (!StartsWith(header, "$"))
    return Lost(fmt::format("the full sync began with '{}'", header.substr(0, 60)));
  eof_mark_.clear();
  payload_bytes_ = std::strtoull(header.c_str() + 1, nullptr, 10);
  return Status::OK();
}

Status ReplicaLink::EndPayload(uint64_t rdb_bytes) {
  if (!eof_mark_.empty()) {
    char mark[kEofMarkBytes];
    SLUICE_RETURN_IF_ERROR(Read(mark, kEofMarkBytes));
    if (std::string_view(mark, kEofMarkBytes) != eof_mark_)
      return Lost("the full sync's payload did not end with its mark");
    return Status::OK();
  }
  if (rdb_bytes > payload_bytes_)
    return Lost("the RDB ran past the payload's size");
  std::vector<char> rest(payload_bytes_ - rdb_bytes);  // a trailer an RDB does not need
  return Read(rest.data(), rest.size());
}

Result<bool> ReplicaLink::WaitReadable(std::chrono::milliseconds wait) {
  if (begin_ < end_)
    return true;
  return PollFor(fd_, POLLIN, wait);
}

Status ReplicaLink::ReadCommand(std::vector<std::string>* args, size_t* bytes) {
  SLUICE_ASSIGN_OR_RETURN(std::string header, ReadLine());
  size_t total = header.size() + 2;
  if (!StartsWith(header, "*"))
    return Lost(fmt::format("the command stream holds '{}'", header.substr(0, 60)));
  const long count = std::strtol(header.c_str() + 1, nullptr, 10);
  if (count < 0 || count > 1024 * 1024)
    return Lost(fmt::format("the command stream holds '{}'", header.substr(0, 60)));
  args->resize(static_cast<size_t>(count));
  for (std::string& arg : *args) {
    SLUICE_ASSIGN_OR_RETURN(std::string length_line, ReadLine());
    if (!StartsWith(length_line, "$"))
      return Lost(fmt::format("a command argument starts '{}'", length_line.substr(0, 60)));
    const long long length = std::strtoll(length_line.c_str() + 1, nullptr, 10);
    if (length < 0)
      return Lost("a command argument of negative length");
    arg.resize(static_cast<size_t>(length) + 2);
    SLUICE_RETURN_IF_ERROR(Read(arg.data(), arg.size()));
    arg.resize(static_cast<size_t>(length));
    total += length_line.size() + 2 + static_cast<size_t>(length) + 2;
  }
  *bytes = total;
  return Status::OK();
}

Status ReplicaLink::SendAck(int64_t offset) {
  const std::string text = std::to_string(offset);
  return Send({"REPLCONF", "ACK", text});
}

void ReplicaLink::Cancel() {
  if (fd_ >= 0)
    ::shutdown(fd_, SHUT_RDWR);
}

}  // namespace sluice::connectors::redis
