// Redis client on hiredis (see redis_client.h).
#include "connectors/redis/redis_client.h"

#include <fmt/core.h>
#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>

namespace sluice::connectors::redis {

namespace {

timeval ToTimeval(std::chrono::milliseconds duration) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

RedisReply ConvertReply(const redisReply* reply) {
  RedisReply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(reply->elements);
      for (size_t i = 0; i < reply->elements; ++i)
        out.elements.push_back(ConvertReply(reply->element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// Reply "objects" for RedisClient::CommandTally: hiredis's reader calls these as it parses; they
// note the top-level reply and the first error element into the thread's current tally and build
// nothing (every object is the same placeholder, never freed).
struct TallyState {
  RedisReplyTally tally;
  std::string top_text;  // a top-level string, status or error
};
thread_local TallyState* current_tally = nullptr;
char tally_placeholder;

void* TallyString(const redisReadTask* task, char* text, size_t length) {
  if (task->parent == nullptr) {
    current_tally->tally.type = task->type == REDIS_REPLY_ERROR    ? RedisReply::Type::kError
                                : task->type == REDIS_REPLY_STATUS ? RedisReply::Type::kStatus
                                                                   : RedisReply::Type::kString;
    current_tally->top_text.assign(text, length);
  } else if (task->type == REDIS_REPLY_ERROR && current_tally->tally.first_error.empty()) {
    current_tally->tally.first_error.assign(text, length);
  }
  return &tally_placeholder;
}

void* TallyArray(const redisReadTask* task, int elements) {
  if (task->parent == nullptr) {
    current_tally->tally.type = RedisReply::Type::kArray;
    current_tally->tally.elements = static_cast<size_t>(elements);
  }
  return &tally_placeholder;
}

void* TallyInteger(const redisReadTask* task, long long /*value*/) {
  if (task->parent == nullptr)
    current_tally->tally.type = RedisReply::Type::kInteger;
  return &tally_placeholder;
}

void* TallyNil(const redisReadTask* task) {
  if (task->parent == nullptr)
    current_tally->tally.type = RedisReply::Type::kNil;
  return &tally_placeholder;
}

void TallyFree(void* /*reply*/) {}

redisReplyObjectFunctions tally_functions = {TallyString, TallyArray, TallyInteger, TallyNil,
                                             TallyFree};

}  // namespace

RedisErrorKind ClassifyRedisError(int hiredis_error, std::string_view message) {
  if (hiredis_error != 0)
    return RedisErrorKind::kConnection;
  if (StartsWith(message, "WRONGPASS") || StartsWith(message, "NOAUTH") ||
      message.find("invalid password") != std::string_view::npos ||
      message.find("invalid username-password") != std::string_view::npos) {
    return RedisErrorKind::kAuth;
  }
  if (StartsWith(message, "WRONGTYPE"))
    return RedisErrorKind::kWrongType;
  if (StartsWith(message, "READONLY"))
    return RedisErrorKind::kReadOnly;
  if (StartsWith(message, "MOVED "))
    return RedisErrorKind::kMoved;
  if (StartsWith(message, "ASK "))
    return RedisErrorKind::kAsk;
  return RedisErrorKind::kOther;
}

Status RedisStatus(std::string_view address, std::string_view what, int hiredis_error,
                   std::string_view message) {
  switch (ClassifyRedisError(hiredis_error, message)) {
    case RedisErrorKind::kConnection:
      if (hiredis_error == REDIS_ERR_EOF) {
        return Unavailable(
            fmt::format("Redis at {}: {}: the server closed the connection", address, what));
      }
      return Unavailable(fmt::format("Redis at {}: {}: {}", address, what,
                                     message.empty() ? "connection failed" : message));
    case RedisErrorKind::kAuth:
      return PermissionDenied(fmt::format(
          "Redis at {} refused the login ({}): check the password (and user) in the job",
          address, message));
    case RedisErrorKind::kWrongType:
      return DataError(fmt::format("Redis at {}: {}: {}", address, what, message));
    case RedisErrorKind::kReadOnly:
      return InvalidConfig(fmt::format(
          "Redis at {} is a read-only replica and refused {}: point the sink at the primary",
          address, what));
    case RedisErrorKind::kMoved:
    case RedisErrorKind::kAsk:
      return Unsupported(fmt::format(
          "Redis at {}: {}: cluster redirection ({}): the server is a Redis Cluster node; the "
          "redis sink writes to a cluster with 'cluster: true' (the source reads one server)",
          address, what, message));
    case RedisErrorKind::kNone:
    case RedisErrorKind::kOther:
      break;
  }
  return IoError(fmt::format("Redis at {}: {}: {}", address, what, message));
}

std::string CommandName(const std::vector<std::string_view>& args) {
  if (args.empty())
    return "(empty command)";
  std::string name(args.front().substr(0, 32));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return name;
}

RedisClient::RedisClient(redisContext* context, std::string address)
    : context_(context), address_(std::move(address)) {}

RedisClient::~RedisClient() {
  if (context_ != nullptr)
    redisFree(context_);
}

Result<std::unique_ptr<RedisClient>> RedisClient::Connect(const RedisConnectOptions& options) {
  std::string address = fmt::format("{}:{}", options.host, options.port);
  redisContext* context = redisConnectWithTimeout(options.host.c_str(), options.port,
                                                  ToTimeval(options.connect_timeout));
  if (context == nullptr)
    return Unavailable(fmt::format("Redis at {}: connect: out of memory", address));
  // Owned from here on, also when the connection failed (the context holds the error).
  std::unique_ptr<RedisClient> client(new RedisClient(context, address));
  if (context->err != 0)
    return RedisStatus(address, "connect", context->err, context->errstr);
  if (redisSetTimeout(context, ToTimeval(options.command_timeout)) != REDIS_OK)
    return RedisStatus(address, "set timeout", context->err, context->errstr);
  if (!options.password.empty()) {
    Result<RedisReply> auth =
        options.user.empty()
            ? client->Command("AUTH", options.password.Reveal())
            : client->Command("AUTH", options.user, options.password.Reveal());
    if (!auth.ok())
      return auth.status();
  }
  if (options.db != 0) {
    std::string db = std::to_string(options.db);
    SLUICE_RETURN_IF_ERROR(client->Command("SELECT", db).status());
  }
  return client;
}

Status RedisClient::Broken(std::string_view what) {
  broken_status_ = RedisStatus(address_, what, context_->err == 0 ? REDIS_ERR_IO : context_->err,
                               context_->errstr);
  last_error_kind_ = RedisErrorKind::kConnection;
  return broken_status_;
}

Status RedisClient::ReplyError(std::string_view what, const RedisReply& reply) {
  last_error_kind_ = ClassifyRedisError(0, reply.text);
  return RedisStatus(address_, what, 0, reply.text);
}

Status RedisClient::Append(const std::vector<std::string_view>& args) {
  if (broken())
    return broken_status_;
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                             lengths.data()) != REDIS_OK) {
    return Broken(CommandName(args));
  }
  return Status();
}

Result<RedisReply> RedisClient::ReadReply() {
  if (broken())
    return broken_status_;
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr)
    return Broken("read reply");
  ReplyPtr reply(static_cast<redisReply*>(raw));
  return ConvertReply(reply.get());
}

Status RedisClient::AppendFormatted(std::string_view commands) {
  if (broken())
    return broken_status_;
  if (redisAppendFormattedCommand(context_, commands.data(), commands.size()) != REDIS_OK)
    return Broken("append");
  return Status();
}

Status RedisClient::Flush() {
  if (broken())
    return broken_status_;
  int done = 0;
  do {
    if (redisBufferWrite(context_, &done) != REDIS_OK)
      return Broken("write");
  } while (done == 0);
  return Status();
}

Result<RedisReply> RedisClient::Command(const std::vector<std::string_view>& args) {
  last_error_kind_ = RedisErrorKind::kNone;
  SLUICE_RETURN_IF_ERROR(Append(args));
  SLUICE_ASSIGN_OR_RETURN(RedisReply reply, ReadReply());
  if (reply.is_error())
    return ReplyError(CommandName(args), reply);
  return reply;
}

Result<RedisReplyTally> RedisClient::CommandTally(const std::vector<std::string_view>& args) {
  last_error_kind_ = RedisErrorKind::kNone;
  SLUICE_RETURN_IF_ERROR(Append(args));
  if (broken())
    return broken_status_;
  TallyState state;
  redisReplyObjectFunctions* functions = context_->reader->fn;
  context_->reader->fn = &tally_functions;
  current_tally = &state;
  void* raw = nullptr;
  bool read = redisGetReply(context_, &raw) == REDIS_OK && raw != nullptr;
  current_tally = nullptr;
  if (!read) {
    // The reader may hold placeholders of a half-read reply: it keeps the functions that do not
    // free them (the client is broken from here on, so nothing else is read).
    return Broken("read reply");
  }
  context_->reader->fn = functions;
  if (state.tally.type == RedisReply::Type::kError) {
    RedisReply error;
    error.type = RedisReply::Type::kError;
    error.text = std::move(state.top_text);
    return ReplyError(CommandName(args), error);
  }
  return std::move(state.tally);
}

Result<std::vector<RedisReply>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  last_error_kind_ = RedisErrorKind::kNone;
  std::vector<std::string_view> args;
  for (const auto& command : commands) {
    args.assign(command.begin(), command.end());
    SLUICE_RETURN_IF_ERROR(Append(args));
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  Status first_error;
  for (size_t i = 0; i < commands.size(); ++i) {
    SLUICE_ASSIGN_OR_RETURN(RedisReply reply, ReadReply());
    if (reply.is_error() && first_error.ok()) {
      args.assign(commands[i].begin(), commands[i].end());
      first_error = ReplyError(CommandName(args), reply);
    }
    replies.push_back(std::move(reply));
  }
  if (!first_error.ok())
    return first_error;
  return replies;
}

Result<std::string> RedisClient::Role() {
  SLUICE_ASSIGN_OR_RETURN(RedisReply reply, Command("ROLE"));
  if (reply.type != RedisReply::Type::kArray || reply.elements.empty())
    return IoError(fmt::format("Redis at {}: ROLE: unexpected reply", address_));
  return reply.elements.front().text;
}

Status RedisClient::CheckWritable() {
  SLUICE_ASSIGN_OR_RETURN(std::string role, Role());
  if (role != "master") {
    return InvalidConfig(fmt::format(
        "Redis at {} is a {} (ROLE), not a primary: a sink must write to the primary, since "
        "a replica refuses writes (READONLY)",
        address_, role == "slave" ? "replica" : role));
  }
  return Status();
}

void RedisClient::Cancel() {
  if (context_ != nullptr && context_->fd >= 0)
    ::shutdown(context_->fd, SHUT_RDWR);
}

}  // namespace sluice::connectors::redis
