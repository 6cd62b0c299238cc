#include "lineage/emitter.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "testing/gtest_util.h"
#include "testing/temp_dir.h"

namespace sluice::lineage {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// A minimal HTTP/1.1 server on a loopback port: answers each request with the next status of
// `statuses` (the last one repeats), one request per connection, and records what it received.
class LoopbackHttpServer {
 public:
  struct Request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
  };

  explicit LoopbackHttpServer(std::vector<int> statuses) : statuses_(std::move(statuses)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    socklen_t length = sizeof(address);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  int port() const { return port_; }
  std::string Url(std::string_view path = "/api/v1/lineage") const {
    return fmt::format("http://127.0.0.1:{}{}", port_, path);
  }
  /// Waits up to 10 s for `count` requests; returns those received.
  std::vector<Request> WaitForRequests(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    arrived_.wait_for(lock, std::chrono::seconds(10), [&] { return requests_.size() >= count; });
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd poll_fd{listen_fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 50) <= 0)
        continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      Handle(fd);
      ::close(fd);
    }
  }

  void Handle(int fd) {
    std::string data;
    char buffer[4096];
    size_t header_end;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0)
        return;
      data.append(buffer, n);
    }
    Request request;
    std::string head = data.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    request.method = request_line.substr(0, request_line.find(' '));
    size_t path_start = request_line.find(' ') + 1;
    request.path = request_line.substr(path_start, request_line.find(' ', path_start) - path_start);
    size_t position = line_end == std::string::npos ? head.size() : line_end + 2;
    while (position < head.size()) {
      size_t end = head.find("\r\n", position);
      if (end == std::string::npos)
        end = head.size();
      std::string line = head.substr(position, end - position);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t value_start = line.find_first_not_of(' ', colon + 1);
        request.headers[name] = value_start == std::string::npos ? "" : line.substr(value_start);
      }
      position = end + 2;
    }
    size_t content_length = 0;
    if (auto it = request.headers.find("content-length"); it != request.headers.end())
      content_length = std::stoul(it->second);
    request.body = data.substr(header_end + 4);
    while (request.body.size() < content_length) {
      ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0)
        return;
      request.body.append(buffer, n);
    }
    int status;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      size_t index = std::min(requests_.size(), statuses_.size() - 1);
      status = statuses_[index];
      requests_.push_back(std::move(request));
    }
    std::string response = fmt::format(
        "HTTP/1.1 {} Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
    (void)::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    arrived_.notify_all();
  }

  std::vector<int> statuses_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Request> requests_;  // guarded by mutex_
};

LineageRunEvent Event(LineageEventType type, std::string job_name = "orders") {
  LineageRunEvent event;
  event.type = type;
  event.event_time_us = 1'796'498'715'123'456;
  event.run_id = NewRunId();
  event.job_namespace = "sluice";
  event.job_name = std::move(job_name);
  event.inputs.push_back({"mysql://db1:3306", "shop.orders", {{"id", "int64"}}, 10, 100});
  return event;
}

// Options that make failing deliveries quick.
LineageEmitterOptions QuickOptions(std::string target) {
  LineageEmitterOptions options;
  options.target = std::move(target);
  options.initial_backoff = milliseconds(20);
  options.http_timeout_secs = 2;
  return options;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

TEST(LineageEmitterTest, RefusesUnknownTargets) {
  for (const char* target : {"", "ftp://x/y", "kafka://k:9092", "file:relative.jsonl", "http://"}) {
    auto emitter = LineageEmitter::Open(QuickOptions(target));
    EXPECT_FALSE(emitter.ok()) << target;
    EXPECT_EQ(emitter.status().code(), StatusCode::kInvalidConfig) << target;
  }
  auto unwritable = LineageEmitter::Open(QuickOptions("file:/nonexistent-dir/x/events.jsonl"));
  EXPECT_FALSE(unwritable.ok());
}

TEST(LineageEmitterTest, FileTargetAppendsOneLinePerEvent) {
  testing::TempDir dir;
  std::string path = dir.Join("events.jsonl");
  testing::WriteFileOrDie(path, "{\"earlier\":true}\n");
  {
    ASSERT_OK_AND_ASSIGN(auto emitter, LineageEmitter::Open(QuickOptions("file:" + path)));
    emitter->Emit(Event(LineageEventType::kStart));
    emitter->Emit(Event(LineageEventType::kComplete));
    ASSERT_TRUE(emitter->Flush(milliseconds(5000)));
    EXPECT_EQ(emitter->delivered(), 2u);
    EXPECT_EQ(emitter->dropped(), 0u);
    // Written and visible as soon as Flush returns.
    EXPECT_EQ(Lines(testing::ReadFileOrDie(path)).size(), 3u);
  }
  std::vector<std::string> lines = Lines(testing::ReadFileOrDie(path));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(json::parse(lines[1]).at("eventType"), "START");
  EXPECT_EQ(json::parse(lines[2]).at("eventType"), "COMPLETE");
  EXPECT_EQ(json::parse(lines[2]).at("inputs").at(0).at("name"), "shop.orders");
}

TEST(LineageEmitterTest, ManyEmittersOfOneProcessKeepLinesWhole) {
  testing::TempDir dir;
  std::string path = dir.Join("events.jsonl");
  constexpr int kEmitters = 4;
  constexpr int kEvents = 200;
  std::vector<std::thread> threads;
  for (int i = 0; i < kEmitters; ++i) {
    threads.emplace_back([&, i] {
      LineageEmitterOptions options = QuickOptions("file://" + path);
      options.max_queued_events = kEvents;
      auto emitter = LineageEmitter::Open(options);
      ASSERT_TRUE(emitter.ok()) << emitter.status().ToString();
      LineageRunEvent event = Event(LineageEventType::kRunning, fmt::format("job{}", i));
      // A long line makes torn writes likely if appends were not serialized.
      event.error_message.assign(10000, 'x');
      event.inputs[0].fields.assign(300, {"column", "string"});
      for (int n = 0; n < kEvents; ++n)
        (*emitter)->Emit(event);
      EXPECT_TRUE((*emitter)->Flush(milliseconds(20000)));
      EXPECT_EQ((*emitter)->delivered(), static_cast<uint64_t>(kEvents));
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  std::vector<std::string> lines = Lines(testing::ReadFileOrDie(path));
  ASSERT_EQ(lines.size(), static_cast<size_t>(kEmitters * kEvents));
  std::map<std::string, int> per_job;
  for (const std::string& line : lines)
    ++per_job[json::parse(line).at("job").at("name").get<std::string>()];
  for (int i = 0; i < kEmitters; ++i)
    EXPECT_EQ(per_job[fmt::format("job{}", i)], kEvents);
}

TEST(LineageEmitterTest, HttpTargetPostsJsonWithTheBearerToken) {
  LoopbackHttpServer server({200, 201});
  LineageEmitterOptions options = QuickOptions(server.Url());
  options.api_key = Secret("token-123");
  ASSERT_OK_AND_ASSIGN(auto emitter, LineageEmitter::Open(options));
  emitter->Emit(Event(LineageEventType::kStart));
  emitter->Emit(Event(LineageEventType::kComplete));
  ASSERT_TRUE(emitter->Flush(milliseconds(10000)));
  EXPECT_EQ(emitter->delivered(), 2u);
  EXPECT_EQ(emitter->dropped(), 0u);
  std::vector<LoopbackHttpServer::Request> requests = server.WaitForRequests(2);
  ASSERT_EQ(requests.size(), 2u);
  const char* kTypes[] = {"START", "COMPLETE"};
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].method, "POST");
    EXPECT_EQ(requests[i].path, "/api/v1/lineage");
    EXPECT_EQ(requests[i].headers["content-type"], "application/json");
    EXPECT_EQ(requests[i].headers["authorization"], "Bearer token-123");
    json body = json::parse(requests[i].body);
    EXPECT_EQ(body.at("eventType"), kTypes[i]);
  }
}

TEST(LineageEmitterTest, HttpTargetWithoutTokenSendsNoAuthorization) {
  LoopbackHttpServer server({200});
  ASSERT_OK_AND_ASSIGN(auto emitter, LineageEmitter::Open(QuickOptions(server.Url())));
  emitter->Emit(Event(LineageEventType::kStart));
  ASSERT_TRUE(emitter->Flush(milliseconds(10000)));
  std::vector<LoopbackHttpServer::Request> requests = server.WaitForRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.count("authorization"), 0u);
}

TEST(LineageEmitterTest, RetriesAfterAServerError) {
  LoopbackHttpServer server({500, 503, 200});
  ASSERT_OK_AND_ASSIGN(auto emitter, LineageEmitter::Open(QuickOptions(server.Url())));
  emitter->Emit(Event(LineageEventType::kComplete));
  ASSERT_TRUE(emitter->Flush(milliseconds(10000)));
  EXPECT_EQ(emitter->delivered(), 1u);
  EXPECT_EQ(emitter->dropped(), 0u);
  std::vector<LoopbackHttpServer::Request> requests = server.WaitForRequests(3);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body, requests[2].body);
}

TEST(LineageEmitterTest, DropsAfterTheLastAttempt) {
  LoopbackHttpServer server({500});
  LineageEmitterOptions options = QuickOptions(server.Url());
  options.max_attempts = 3;
  ASSERT_OK_AND_ASSIGN(auto emitter, LineageEmitter::Open(options));
  emitter->Emit(Event(LineageEventType::kFail));
  ASSERT_TRUE(emitter->Flush(milliseconds(10000)));
  EXPECT_EQ(emitter->delivered(), 0u);
  EXPECT_EQ(emitter->dropped(), 1u);
  EXPECT_EQ(server.WaitForRequests(3).size(), 3u);
}

// A port nothing listens on: bound, then released.
int UnusedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(LineageEmitterTest, UnreachableBackendNeitherBlocksNorFails) {
  LineageEmitterOptions options =
      QuickOptions(fmt::format("http://127.0.0.1:{}/api/v1/lineage", UnusedLoopbackPort()));
  ASSERT_OK_AND_ASSIGN(auto emitter, LineageEmitter::Open(options));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i)
    emitter->Emit(Event(LineageEventType::kRunning));
  // Emit only queues: far quicker than one attempt with its backoff.
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(100));
  ASSERT_TRUE(emitter->Flush(milliseconds(20000)));
  EXPECT_EQ(emitter->delivered(), 0u);
  EXPECT_EQ(emitter->dropped(), 3u);
}

TEST(LineageEmitterTest, FullQueueDropsTheOldest) {
  // A backend that accepts connections (the kernel's backlog) but never answers keeps the first
  // event in flight while the others pile up.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  LineageEmitterOptions options =
      QuickOptions(fmt::format("http://127.0.0.1:{}/lineage", ntohs(address.sin_port)));
  options.max_queued_events = 2;
  options.max_attempts = 1;
  options.http_timeout_secs = 1;
  options.close_timeout = milliseconds(50);
  ASSERT_OK_AND_ASSIGN(auto emitter, LineageEmitter::Open(options));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i)
    emitter->Emit(Event(LineageEventType::kRunning));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(100));
  // At most one in flight and two queued survive the overflow.
  EXPECT_GE(emitter->dropped(), 7u);
  EXPECT_FALSE(emitter->Flush(milliseconds(50)));
  // Closing waits for the attempt under way only (its stall timeout), then drops the queue.
  emitter.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  ::close(fd);
}

}  // namespace
}  // namespace sluice::lineage
