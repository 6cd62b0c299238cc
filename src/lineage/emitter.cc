#include "lineage/emitter.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>

#include "core/logging.h"
#include "io/http_session.h"

namespace sluice::lineage {

namespace {

constexpr std::string_view kComponent = "lineage";

// "http://host:port/path" without a user-info part or query string: safe to log.
std::string SafeDescription(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return std::string(url);
  size_t authority_start = scheme_end + 3;
  size_t path_start = url.find('/', authority_start);
  std::string_view authority = url.substr(authority_start, path_start - authority_start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos)
    return std::string(url);
  return fmt::format("{}{}{}", url.substr(0, authority_start), authority.substr(at + 1),
                     path_start == std::string_view::npos ? "" : url.substr(path_start));
}

}  // namespace

// Where events go; Send is called by the delivery thread only.
class LineageEmitter::Target {
 public:
  virtual ~Target() = default;
  /// Delivers one event's JSON text; an error is worth a retry.
  virtual Status Send(const std::string& body) = 0;
  /// The target for log lines, without credentials.
  virtual const std::string& description() const = 0;
};

namespace {

class HttpTarget final : public LineageEmitter::Target {
 public:
  HttpTarget(std::string url, Secret api_key, double timeout_secs)
      : url_(std::move(url)),
        description_(SafeDescription(url_)),
        api_key_(std::move(api_key)),
        session_(io::HttpOptions{.connect_timeout_secs = timeout_secs,
                                 .stall_timeout_secs = timeout_secs}) {}

  Status Send(const std::string& body) override {
    io::HttpRequest request;
    request.method = "POST";
    request.url = url_;
    request.headers.emplace_back("Content-Type", "application/json");
    if (!api_key_.empty())
      request.headers.emplace_back("Authorization", "Bearer " + api_key_.Reveal());
    request.body = body;
    SLUICE_ASSIGN_OR_RETURN(io::HttpResponse response,
                            session_.Perform(request, "OpenLineage POST " + description_));
    if (response.status >= 200 && response.status < 300)
      return Status::OK();
    // A backend's error body may be long (an HTML page): its start says enough.
    return Unavailable(fmt::format("'{}' answered HTTP {}: {}", description_, response.status,
                                   response.body.substr(0, 200)));
  }
  const std::string& description() const override { return description_; }

 private:
  std::string url_;
  std::string description_;
  Secret api_key_;
  io::HttpSession session_;
};

class FileTarget final : public LineageEmitter::Target {
 public:
  static Result<std::unique_ptr<FileTarget>> Open(std::string path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return ErrnoStatus("Cannot open the lineage file", path, errno);
    return std::unique_ptr<FileTarget>(new FileTarget(std::move(path), fd));
  }
  ~FileTarget() override { ::close(fd_); }

  Status Send(const std::string& body) override {
    std::string line = body + "\n";
    // Emitters of one process appending to the same file take turns line by line; O_APPEND
    // keeps lines of other processes whole as long as each is one write.
    static std::mutex append_mutex;
    std::lock_guard<std::mutex> lock(append_mutex);
    size_t written = 0;
    while (written < line.size()) {
      ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ErrnoStatus("Cannot append to the lineage file", path_, errno);
      written += static_cast<size_t>(n);
    }
    return Status::OK();
  }
  const std::string& description() const override { return path_; }

 private:
  FileTarget(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

}  // namespace

struct LineageEmitter::State {
  struct Queued {
    uint64_t sequence;
    std::string body;
    std::string summary;  // "COMPLETE of job 'orders'", for log lines
  };

  LineageEmitterOptions options;
  std::unique_ptr<Target> target;

  std::mutex mutex;
  std::condition_variable wake;      // the delivery thread: an event arrived, or stopping
  std::condition_variable progress;  // Flush: an event was delivered or dropped
  std::deque<Queued> queue;          // guarded by mutex
  std::optional<uint64_t> in_flight;  // guarded by mutex: the event being delivered
  uint64_t next_sequence = 0;        // guarded by mutex
  bool stopping = false;             // guarded by mutex

  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> dropped{0};
  std::thread thread;

  // The sequence number of the oldest event not yet delivered nor dropped. Needs mutex.
  uint64_t OldestUnsettled() const {
    if (in_flight)
      return *in_flight;
    return queue.empty() ? next_sequence : queue.front().sequence;
  }
};

Result<std::unique_ptr<LineageEmitter>> LineageEmitter::Open(LineageEmitterOptions options) {
  const std::string& spec = options.target;
  std::unique_ptr<Target> target;
  if (spec.starts_with("http://") || spec.starts_with("https://")) {
    if (spec.find("://") + 3 >= spec.size() || spec[spec.find("://") + 3] == '/')
      return InvalidConfig(
          fmt::format("lineage target '{}' names no host", SafeDescription(spec)));
    target = std::make_unique<HttpTarget>(spec, options.api_key, options.http_timeout_secs);
  } else if (spec.starts_with("file:")) {
    std::string path = spec.substr(5);
    if (path.starts_with("//"))
      path = path.substr(2);  // file:///var/x -> /var/x
    if (path.empty() || path.front() != '/')
      return InvalidConfig(fmt::format(
          "lineage target '{}' needs an absolute path (file:/path/events.jsonl)", spec));
    SLUICE_ASSIGN_OR_RETURN(target, FileTarget::Open(std::move(path)));
  } else {
    return InvalidConfig(
        fmt::format("unknown lineage target '{}' (expected http://host:port/api/v1/lineage, "
                    "https://... or file:/path/events.jsonl)",
                    SafeDescription(spec)));
  }
  if (options.max_queued_events == 0)
    options.max_queued_events = 1;
  if (options.max_attempts < 1)
    options.max_attempts = 1;
  return std::unique_ptr<LineageEmitter>(new LineageEmitter(std::move(options),
                                                            std::move(target)));
}

LineageEmitter::LineageEmitter(LineageEmitterOptions options, std::unique_ptr<Target> target)
    : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  state_->target = std::move(target);
  state_->thread = std::thread([this] { Run(); });
}

LineageEmitter::~LineageEmitter() {
  Flush(state_->options.close_timeout);
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  state_->thread.join();
}

void LineageEmitter::Emit(const LineageRunEvent& event) {
  State& state = *state_;
  std::string summary =
      fmt::format("{} of job '{}'", LineageEventTypeName(event.type), event.job_name);
  std::string body;
  try {
    // Invalid UTF-8 (a file name, an error text) is replaced rather than thrown on.
    body = ToOpenLineageJson(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception& error) {
    state.dropped.fetch_add(1);
    log::Warn(kComponent, "Dropped the OpenLineage event {}: cannot render it: {}", summary,
              error.what());
    return;
  }
  bool overflowed = false;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (state.queue.size() >= state.options.max_queued_events) {
      state.queue.pop_front();
      state.dropped.fetch_add(1);
      overflowed = true;
    }
    state.queue.push_back({state.next_sequence++, std::move(body), std::move(summary)});
  }
  state.wake.notify_all();
  if (overflowed) {
    state.progress.notify_all();
    log::Warn(kComponent, "The OpenLineage queue for '{}' is full: dropped its oldest event",
              state.target->description());
  }
}

bool LineageEmitter::Flush(std::chrono::milliseconds timeout) {
  State& state = *state_;
  std::unique_lock<std::mutex> lock(state.mutex);
  uint64_t until = state.next_sequence;
  return state.progress.wait_for(lock, timeout,
                                 [&] { return state.OldestUnsettled() >= until; });
}

uint64_t LineageEmitter::delivered() const {
  return state_->delivered.load();
}

uint64_t LineageEmitter::dropped() const {
  return state_->dropped.load();
}

void LineageEmitter::Run() {
  State& state = *state_;
  std::unique_lock<std::mutex> lock(state.mutex);
  while (true) {
    state.wake.wait(lock, [&] { return state.stopping || !state.queue.empty(); });
    if (state.stopping) {
      // Closing: what could not be delivered within the close timeout is dropped.
      if (!state.queue.empty()) {
        log::Warn(kComponent, "Dropped {} OpenLineage event(s) for '{}' on close",
                  state.queue.size(), state.target->description());
      }
      state.dropped.fetch_add(state.queue.size());
      state.queue.clear();
      state.progress.notify_all();
      return;
    }
    State::Queued event = std::move(state.queue.front());
    state.queue.pop_front();
    state.in_flight = event.sequence;
    lock.unlock();

    Status status;
    std::chrono::milliseconds backoff = state.options.initial_backoff;
    int attempt = 1;
    for (;; ++attempt) {
      status = state.target->Send(event.body);
      if (status.ok() || attempt >= state.options.max_attempts)
        break;
      log::Debug(kComponent, "OpenLineage event {} not delivered (attempt {}): {}", event.summary,
                 attempt, status.ToString());
      // Waits on `wake` so that closing cuts the backoff short.
      lock.lock();
      bool stopping = state.wake.wait_for(lock, backoff, [&] { return state.stopping; });
      lock.unlock();
      if (stopping)
        break;
      backoff *= 2;
    }
    if (status.ok()) {
      state.delivered.fetch_add(1);
    } else {
      state.dropped.fetch_add(1);
      log::Warn(kComponent, "Dropped the OpenLineage event {} after {} attempt(s): {}",
                event.summary, attempt, status.ToString());
    }

    lock.lock();
    state.in_flight.reset();
    state.progress.notify_all();
  }
}

}  // namespace sluice::lineage
