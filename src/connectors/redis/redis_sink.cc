// RedisSink (see redis_sink.h).
#include "connectors/redis/redis_sink.h"

#include <fmt/core.h>

#include <charconv>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "core/failpoint.h"
#include "core/value_text.h"
#include "formats/jsonl/json_text.h"
#include "formats/jsonl/jsonl_writer.h"

namespace sluice::connectors::redis {

struct RedisSink::StreamPlan {
  std::string name;
  SchemaPtr schema;
  /// The key template's pieces; a column piece's index in `key_columns`.
  std::vector<KeyPiece> key_pieces;
  std::vector<int> key_columns;  // per piece: the column index, -1 for literals and {stream}
  int value_column = -1;         // strings: -1 = the row as JSON
  std::vector<int> field_columns;  // hashes
  int ttl_column = -1;
};

namespace {

using json = nlohmann::json;

// Lua, run atomically by the server: store the run's epoch unless a higher one is stored (then
// return {0, that epoch}); count the run's generation. Epoch 0 (no lease) only counts.
constexpr std::string_view kClaimScript = R"lua(
local stored = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0')
local mine = tonumber(ARGV[1])
if mine > 0 then
  if stored > mine then return {0, stored} end
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'owner', ARGV[2])
end
return {1, redis.call('HINCRBY', KEYS[1], 'generation', 1)}
)lua";

// Cluster: store the run's epoch in one node's fence key unless a higher one is there (then
// return it).
constexpr std::string_view kFenceScript = R"lua(
local stored = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0')
if stored > tonumber(ARGV[1]) then return stored end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'owner', ARGV[2])
return 0
)lua";

// The text a value is stored as: strings, bytes and JSON as they are (binary-safe), others in
// their canonical text.
void AppendRedisValue(const Column& column, size_t row, std::string* out) {
  switch (column.type().id) {
    case TypeId::kString:
    case TypeId::kBytes:
    case TypeId::kJson:
      out->append(column.GetView(row));
      break;
    default:
      AppendValueText(column, row, out);
  }
}

// RESP, as the writer encodes its commands: "*<n>\r\n" (an array of n arguments) or
// "$<n>\r\n" (a bulk string of n bytes), then each argument's bytes and "\r\n".
void AppendRespHeader(char kind, size_t n, std::string* out) {
  char buffer[24];
  buffer[0] = kind;
  char* end = std::to_chars(buffer + 1, buffer + sizeof(buffer) - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out->append(buffer, static_cast<size_t>(end - buffer));
}

void AppendRespBulk(std::string_view argument, std::string* out) {
  AppendRespHeader('$', argument.size(), out);
  out->append(argument);
  out->append("\r\n", 2);
}

// The encoded commands a writer keeps between hand-overs to hiredis; a bigger buffer (after big
// values) is given back once handed over.
constexpr size_t kKeptCommandBuffer = 4 << 20;

// One slot's committed progress, tagged for merging across slots and runs.
struct TaggedProgress {
  SplitProgress progress;
  uint64_t generation = 0;
  uint64_t checkpoint = 0;
};

bool Newer(const TaggedProgress& a, const TaggedProgress& b) {
  return std::tie(a.generation, a.checkpoint) > std::tie(b.generation, b.checkpoint);
}

std::string ProgressJson(std::string_view job, int slot, uint64_t epoch,
                         const std::map<std::string, TaggedProgress>& progress) {
  json entries = json::array();
  for (const auto& [split, tagged] : progress) {
    entries.push_back({{"split", split},
                       {"position", tagged.progress.position},
                       {"done", tagged.progress.done},
                       {"generation", tagged.generation},
                       {"checkpoint", tagged.checkpoint}});
  }
  json document = {{"version", 1}, {"job", job},   {"slot", slot},
                   {"epoch", epoch}, {"progress", entries}};
  return document.dump();
}

Status ParseProgressJson(std::string_view key, std::string_view text,
                         std::map<std::string, TaggedProgress>* out) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object() || !document.contains("progress") ||
      !document["progress"].is_array()) {
    return DataError(fmt::format("progress key '{}' does not hold Sluice's progress JSON", key));
  }
  for (const json& entry : document["progress"]) {
    if (!entry.is_object() || !entry.contains("split") || !entry["split"].is_string())
      return DataError(fmt::format("progress key '{}' has an entry without a split", key));
    TaggedProgress tagged;
    tagged.progress.split_id = entry["split"].get<std::string>();
    tagged.progress.position = entry.value("position", std::string());
    tagged.progress.done = entry.value("done", false);
    tagged.generation = entry.value("generation", uint64_t{0});
    tagged.checkpoint = entry.value("checkpoint", uint64_t{0});
    auto [it, inserted] = out->emplace(tagged.progress.split_id, tagged);
    if (!inserted && Newer(tagged, it->second))
      it->second = tagged;
  }
  return Status::OK();
}

Result<uint64_t> StoredEpoch(RedisClient& client, std::string_view job) {
  SLUICE_ASSIGN_OR_RETURN(RedisReply reply, client.Command("HGET", RunKey(job), "epoch"));
  if (reply.is_nil())
    return uint64_t{0};
  uint64_t epoch = 0;
  auto [end, error] =
      std::from_chars(reply.text.data(), reply.text.data() + reply.text.size(), epoch);
  if (error != std::errc() || end != reply.text.data() + reply.text.size())
    return DataError(fmt::format("run key '{}' holds a bad epoch", RunKey(job)));
  return epoch;
}

// Writes one slot's rows; see redis_sink.h for the transaction it keeps open.
class RedisWriter final : public SinkWriter {
 public:
  RedisWriter(RedisSinkOptions options, const JobContext* context,
              std::shared_ptr<const std::vector<RedisSink::StreamPlan>> plans, int slot,
              uint64_t run_epoch, uint64_t generation)
      : options_(std::move(options)),
        context_(context),
        plans_(std::move(plans)),
        slot_(slot),
        run_epoch_(run_epoch),
        generation_(generation),
        exactly_once_(context->delivery == DeliveryGuarantee::kExactlyOnce),
        progress_key_(ProgressKey(context->job_name, slot)) {}

  // Connects, and under exactly-once loads what the slot committed before (a resumed run's
  // writer keeps the entries of splits it does not touch again).
  Status Start() {
    SLUICE_RETURN_IF_ERROR(Connect());
    if (!exactly_once_)
      return Status::OK();
    SLUICE_ASSIGN_OR_RETURN(RedisReply stored,
                            options_.cluster
                                ? cluster_->CommandOn(progress_key_, "GET", progress_key_)
                                : client_->Command("GET", progress_key_));
    if (!stored.is_nil())
      SLUICE_RETURN_IF_ERROR(ParseProgressJson(progress_key_, stored.text, &committed_));
    return Status::OK();
  }

  Status Write(const Batch& batch) override {
    SLUICE_RETURN_IF_ERROR(Connect());
    if (exactly_once_ && !in_transaction_ && !options_.cluster)
      SLUICE_RETURN_IF_ERROR(BeginTransaction());
    const RedisSink::StreamPlan& plan = (*plans_)[static_cast<size_t>(batch.stream())];
    // No stop check per row: a stopping job still writes what it read before its final
    // checkpoint; a write blocked in the server is ended by Cancel().
    for (size_t row = 0; row < batch.num_rows(); ++row)
      SLUICE_RETURN_IF_ERROR(WriteRow(plan, batch, row));
    return Status::OK();
  }

  Status Prepare() override {
    if (options_.cluster)
      return pipeline_ == nullptr ? Status::OK() : FlushCluster();
    if (client_ == nullptr)
      return Status::OK();
    return DrainReplies();
  }

  Status Commit(const CommitContext& commit) override {
    SLUICE_RETURN_IF_ERROR(Connect());
    if (options_.cluster)
      return CommitCluster(commit);
    if (!exactly_once_)
      return DrainReplies();
    if (!in_transaction_)
      SLUICE_RETURN_IF_ERROR(BeginTransaction());
    SLUICE_FAILPOINT("redis.commit.after_rows");  // the rows queued, not their progress
    std::map<std::string, TaggedProgress> next = committed_;
    for (const SplitProgress& progress : commit.progress)
      next[progress.split_id] = TaggedProgress{progress, generation_, commit.checkpoint};
    std::string document = ProgressJson(context_->job_name, slot_, run_epoch_, next);
    SLUICE_RETURN_IF_ERROR(Send({"SET", progress_key_, document}));
    SLUICE_RETURN_IF_ERROR(DrainReplies());
    SLUICE_FAILPOINT("redis.commit.before_fence_check");  // before EXEC, where WATCH fences
    in_transaction_ = false;
    // Tallied, not built: the reply has one element per command of the checkpoint.
    SLUICE_ASSIGN_OR_RETURN(RedisReplyTally exec, client_->CommandTally({"EXEC"}));
    if (exec.is_nil()) {
      // The WATCHed run key changed since BeginTransaction: a newer run claimed the target.
      SLUICE_ASSIGN_OR_RETURN(uint64_t current, StoredEpoch(*client_, context_->job_name));
      return FencedOff(context_->job_name, Target(), run_epoch_, current);
    }
    if (!exec.first_error.empty()) {
      // Only a command that fails at run time gets here (the sink sends none that can on a
      // healthy server: SET and DEL take any type); Redis has applied the others.
      return RedisStatus(client_->address(), "EXEC", 0, exec.first_error);
    }
    committed_ = std::move(next);
    return Status::OK();
  }

  void Abort() override {
    // Closing the connection discards an open MULTI (and the WATCH) on the server; in a cluster
    // the gathered commands were never sent.
    std::lock_guard<std::mutex> lock(client_mutex_);
    client_.reset();
    pipeline_.reset();
    cluster_.reset();
    in_transaction_ = false;
    pending_replies_ = 0;
    commands_.clear();
  }

  void Cancel() override {
    std::lock_guard<std::mutex> lock(client_mutex_);
    if (client_ != nullptr)
      client_->Cancel();
    if (cluster_ != nullptr)
      cluster_->Cancel();
  }

 private:
  std::string Target() const {
    if (options_.cluster) {
      return fmt::format("redis cluster {}:{}", options_.connection.host,
                         options_.connection.port);
    }
    return fmt::format("redis {}:{}/{}", options_.connection.host, options_.connection.port,
                       options_.connection.db);
  }

  Status Connect() {
    if (options_.cluster) {
      // Connections per node are made (again) on use; a lost one fails the flush it was in.
      if (cluster_ == nullptr) {
        auto cluster = std::make_unique<ClusterConnections>(options_.connection);
        SLUICE_RETURN_IF_ERROR(cluster->Map().status());
        std::lock_guard<std::mutex> lock(client_mutex_);
        cluster_ = std::move(cluster);
        pipeline_ = std::make_unique<ClusterPipeline>(cluster_.get(), context_->job_name,
                                                      exactly_once_ ? run_epoch_ : 0);
      }
      return Status::OK();
    }
    if (client_ != nullptr && !client_->broken())
      return Status::OK();
    if (client_ != nullptr && client_->broken())
      return Unavailable(fmt::format("{}: the connection was lost", Target()));
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RedisClient> client,
                            RedisClient::Connect(options_.connection));
    std::lock_guard<std::mutex> lock(client_mutex_);
    client_ = std::move(client);
    return Status::OK();
  }

  // WATCH the run key, check the epoch, MULTI: every later command until EXEC is queued.
  Status BeginTransaction() {
    SLUICE_RETURN_IF_ERROR(client_->Command("WATCH", RunKey(context_->job_name)).status());
    if (run_epoch_ != 0) {
      SLUICE_ASSIGN_OR_RETURN(uint64_t current, StoredEpoch(*client_, context_->job_name));
      if (current > run_epoch_) {
        SLUICE_RETURN_IF_ERROR(client_->Command("UNWATCH").status());
        return FencedOff(context_->job_name, Target(), run_epoch_, current);
      }
    }
    SLUICE_RETURN_IF_ERROR(client_->Command("MULTI").status());
    in_transaction_ = true;
    return Status::OK();
  }

  // Cluster: the rows' commands are applied on their nodes, then (exactly-once) the progress
  // key, fenced on its node likewise. See redis_sink.h for what a crash between leaves.
  Status CommitCluster(const CommitContext& commit) {
    SLUICE_RETURN_IF_ERROR(FlushCluster());
    if (!exactly_once_)
      return Status::OK();
    SLUICE_FAILPOINT("redis.cluster.after_rows");  // the rows applied, not their progress
    std::map<std::string, TaggedProgress> next = committed_;
    for (const SplitProgress& progress : commit.progress)
      next[progress.split_id] = TaggedProgress{progress, generation_, commit.checkpoint};
    pipeline_->Add(
        {"SET", progress_key_, ProgressJson(context_->job_name, slot_, run_epoch_, next)});
    SLUICE_RETURN_IF_ERROR(FlushCluster());
    committed_ = std::move(next);
    return Status::OK();
  }

  Status FlushCluster() {
    std::optional<ClusterPipeline::Fence> fenced;
    Status flushed = pipeline_->Flush(&fenced);
    if (!flushed.ok()) {
      // The writer is done for (the run resumes from its last checkpoint); a connection may
      // have replies not read: make every one again.
      pipeline_->Clear();
      cluster_->Reset();
      if (fenced && fenced->current > 0)
        return FencedOff(context_->job_name, Target(), run_epoch_, fenced->current);
    }
    return flushed;
  }

  // A sliding window: once `pipeline_commands` are unanswered, everything is sent and the
  // replies of the older half are read, so that the server works on the newer half while the
  // writer reads and encodes the next commands (sending a window, then waiting for all of its
  // replies, left the server idle while the writer encoded and the writer idle while the server
  // worked).
  // Commands are encoded into `commands_` (RESP, by the writer: hiredis's formatting of each
  // argument list cost a third of the writer's CPU) and handed to hiredis a window at a time.
  // In a cluster the commands go to ClusterPipeline, which routes them by key.
  Status Send(std::initializer_list<std::string_view> command) {
    if (options_.cluster)
      return SendCluster(std::vector<std::string>(command.begin(), command.end()));
    AppendRespHeader('*', command.size(), &commands_);
    for (std::string_view argument : command)
      AppendRespBulk(argument, &commands_);
    return Sent();
  }

  // Counts one more command encoded in `commands_`.
  Status Sent() {
    size_t window = static_cast<size_t>(options_.pipeline_commands);
    if (++pending_replies_ < window)
      return Status::OK();
    SLUICE_RETURN_IF_ERROR(HandOver());
    SLUICE_RETURN_IF_ERROR(client_->Flush());
    return ReadReplies(pending_replies_ - window / 2);
  }

  // Hands the encoded commands to hiredis (not sent yet: ReadReply or Flush sends them).
  Status HandOver() {
    if (commands_.empty())
      return Status::OK();
    Status status = client_->AppendFormatted(commands_);
    commands_.clear();
    if (commands_.capacity() > kKeptCommandBuffer)
      std::string().swap(commands_);
    return status;
  }

  Status SendCluster(std::vector<std::string> command) {
    pipeline_->Add(std::move(command));
    if (pipeline_->pending() >= static_cast<size_t>(options_.pipeline_commands))
      return FlushCluster();
    return Status::OK();
  }

  // Reads the replies of everything sent. An error reply fails the call; inside MULTI the server
  // then refuses the EXEC (EXECABORT), so nothing of the transaction is applied.
  Status DrainReplies() { return ReadReplies(pending_replies_); }

  // Reads the next `count` replies; after an error reply, all of them (the connection stays in
  // step) before returning it.
  Status ReadReplies(size_t count) {
    SLUICE_RETURN_IF_ERROR(HandOver());
    Status first_error;
    for (; count > 0 || (!first_error.ok() && pending_replies_ > 0); --pending_replies_) {
      SLUICE_ASSIGN_OR_RETURN(RedisReply reply, client_->ReadReply());
      if (reply.is_error() && first_error.ok())
        first_error = RedisStatus(client_->address(), "write", 0, reply.text);
      if (count > 0)
        --count;
    }
    return first_error;
  }

  // Skips the row through the job's errors: policy (OK) or stops the job (its error).
  Status BadRow(const RedisSink::StreamPlan& plan, const Batch& batch, size_t row,
                std::string reason) {
    std::string location = plan.name;
    if (!plan.schema->primary_key().empty()) {
      std::vector<std::string> names;
      for (const Field& field : plan.schema->fields())
        names.push_back(field.name);
      AppendKeyLocation(batch, row, plan.schema->primary_key(), names, &location);
    }
    BadRecord record;
    record.stream = plan.name;
    record.location = location;
    record.reason = DataError(fmt::format("{}: {}", location, reason));
    return context_->bad_records->Handle(record);
  }

  Status WriteRow(const RedisSink::StreamPlan& plan, const Batch& batch, size_t row) {
    key_.clear();
    for (size_t i = 0; i < plan.key_pieces.size(); ++i) {
      const KeyPiece& piece = plan.key_pieces[i];
      if (!piece.is_column) {
        key_ += piece.text;
      } else if (plan.key_columns[i] < 0) {
        key_ += plan.name;  // {stream}
      } else {
        const Column& column = batch.column(static_cast<size_t>(plan.key_columns[i]));
        if (column.IsNull(row))
          return BadRow(plan, batch, row, fmt::format("key column '{}' is NULL", piece.text));
        AppendRedisValue(column, row, &key_);
      }
    }
    RowKind kind = batch.row_kind(row);
    if (kind == RowKind::kDelete || kind == RowKind::kUpdateBefore)
      return Send({"DEL", key_});

    ttl_.clear();
    if (options_.ttl_secs > 0) {
      ttl_ = std::to_string(options_.ttl_secs);
    } else if (plan.ttl_column >= 0) {
      const Column& column = batch.column(static_cast<size_t>(plan.ttl_column));
      if (!column.IsNull(row)) {
        std::string text;
        AppendValueText(column, row, &text);
        int64_t seconds = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (error != std::errc() || end != text.data() + text.size() || seconds <= 0) {
          return BadRow(plan, batch, row,
                        fmt::format("TTL column '{}' holds '{}', not a positive number of "
                                    "seconds",
                                    options_.ttl_column, text.substr(0, 64)));
        }
        ttl_ = std::to_string(seconds);
      }
    }

    if (options_.data_type == RedisDataType::kString) {
      value_.clear();
      if (plan.value_column >= 0) {
        const Column& column = batch.column(static_cast<size_t>(plan.value_column));
        if (column.IsNull(row)) {
          return BadRow(plan, batch, row,
                        fmt::format("value column '{}' is NULL, which a Redis string cannot "
                                    "hold",
                                    options_.value_column));
        }
        AppendRedisValue(column, row, &value_);
      } else {
        AppendRowJson(plan, batch, row);
      }
      if (ttl_.empty())
        return Send({"SET", key_, value_});
      return Send({"SET", key_, value_, "EX", ttl_});
    }

    // A hash: replaced as a whole, so that a row written again (or over a key of another
    // type) leaves exactly its fields.
    SLUICE_RETURN_IF_ERROR(Send({"DEL", key_}));
    size_t fields = 0;
    for (int index : plan.field_columns) {
      if (!batch.column(static_cast<size_t>(index)).IsNull(row))
        ++fields;  // a hash cannot hold NULL: the field is absent
    }
    if (fields == 0)
      return Status::OK();
    if (options_.cluster) {
      std::vector<std::string> command{"HSET", key_};
      for (int index : plan.field_columns) {
        const Column& column = batch.column(static_cast<size_t>(index));
        if (column.IsNull(row))
          continue;
        command.push_back(plan.schema->field(static_cast<size_t>(index)).name);
        AppendRedisValue(column, row, &command.emplace_back());
      }
      SLUICE_RETURN_IF_ERROR(SendCluster(std::move(command)));
      if (!ttl_.empty())
        return Send({"EXPIRE", key_, ttl_});
      return Status::OK();
    }
    // HSET key field value ..., encoded here (one value at a time through value_).
    AppendRespHeader('*', 2 + 2 * fields, &commands_);
    AppendRespBulk("HSET", &commands_);
    AppendRespBulk(key_, &commands_);
    for (int index : plan.field_columns) {
      const Column& column = batch.column(static_cast<size_t>(index));
      if (column.IsNull(row))
        continue;
      AppendRespBulk(plan.schema->field(static_cast<size_t>(index)).name, &commands_);
      value_.clear();
      AppendRedisValue(column, row, &value_);
      AppendRespBulk(value_, &commands_);
    }
    SLUICE_RETURN_IF_ERROR(Sent());
    if (!ttl_.empty())
      return Send({"EXPIRE", key_, ttl_});
    return Status::OK();
  }

  void AppendRowJson(const RedisSink::StreamPlan& plan, const Batch& batch, size_t row) {
    value_ += '{';
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      if (c > 0)
        value_ += ',';
      formats::AppendJsonString(plan.schema->field(c).name, &value_);
      value_ += ':';
      if (batch.column(c).IsNull(row)) {
        value_ += "null";
      } else {
        formats::AppendJsonValue(batch.column(c), row, &value_, &scratch_);
      }
    }
    value_ += '}';
  }

  const RedisSinkOptions options_;  // a copy: a writer may outlive its sink
  const JobContext* context_;
  std::shared_ptr<const std::vector<RedisSink::StreamPlan>> plans_;
  int slot_;
  uint64_t run_epoch_;
  uint64_t generation_;
  bool exactly_once_;
  std::string progress_key_;
  std::mutex client_mutex_;  // guards client_ against Cancel from another thread
  std::unique_ptr<RedisClient> client_;
  std::unique_ptr<ClusterConnections> cluster_;  // cluster: instead of client_
  std::unique_ptr<ClusterPipeline> pipeline_;    // on cluster_
  bool in_transaction_ = false;
  size_t pending_replies_ = 0;
  std::map<std::string, TaggedProgress> committed_;  // what the slot's progress key holds
  // Reused per row.
  std::string key_, value_, ttl_, scratch_;
  std::string commands_;  // encoded commands not handed to hiredis yet (RESP)
};

}  // namespace

std::string RunKey(std::string_view job) {
  return fmt::format("sluice:run:{}", job);
}

std::string ProgressKey(std::string_view job, int slot) {
  return fmt::format("sluice:progress:{}:{}", job, slot);
}

RedisSink::RedisSink(RedisSinkOptions options, config::Options config)
    : options_(std::move(options)), config_(std::move(config)) {}

RedisSink::~RedisSink() = default;

Result<RedisClient*> RedisSink::Coordinator() {
  std::lock_guard<std::mutex> lock(coordinator_mutex_);
  if (options_.cluster) {
    // Any primary: the coordinator's own work goes by key through cluster_ (KeyCommand).
    if (cluster_ == nullptr)
      cluster_ = std::make_unique<ClusterConnections>(options_.connection);
    SLUICE_ASSIGN_OR_RETURN(const SlotMap* map, cluster_->Map());
    return cluster_->Client(map->primaries().front());
  }
  if (coordinator_ != nullptr && !coordinator_->broken())
    return coordinator_.get();
  coordinator_.reset();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RedisClient> client,
                          RedisClient::Connect(options_.connection));
  // A replica refuses writes (READONLY): say so before anything is written.
  SLUICE_RETURN_IF_ERROR(client->CheckWritable());
  // A cluster node would answer MOVED for some keys and CROSSSLOT at EXEC: say what to set
  // instead. (A user not allowed INFO skips this check.)
  Result<RedisReply> info = client->Command("INFO", "cluster");
  if (info.ok() && info->text.find("cluster_enabled:1") != std::string::npos) {
    return InvalidConfig(fmt::format(
        "Redis at {} is a Redis Cluster node (cluster_enabled:1): set 'cluster: true' on the "
        "sink",
        client->address()));
  }
  coordinator_ = std::move(client);
  return coordinator_.get();
}

Result<std::vector<RedisSink::StreamPlan>> RedisSink::PlanStreams(
    const std::vector<StreamInfo>& streams) const {
  SLUICE_ASSIGN_OR_RETURN(std::vector<KeyPiece> pieces, ParseKeyTemplate(options_.key));
  std::vector<StreamPlan> plans;
  for (const StreamInfo& stream : streams) {
    const Schema& schema = *stream.schema;
    auto column = [&](std::string_view option, const std::string& name) -> Result<int> {
      int index = schema.FieldIndex(name);
      if (index < 0) {
        return config_.ErrorAt(option, fmt::format("'{}' names column '{}', which stream '{}' "
                                                   "does not have (its columns: {})",
                                                   option, name, stream.name,
                                                   schema.ToString()));
      }
      return index;
    };
    StreamPlan plan;
    plan.name = stream.name;
    plan.schema = stream.schema;
    plan.key_pieces = pieces;
    for (const KeyPiece& piece : pieces) {
      int index = -1;
      if (piece.is_column && !(piece.text == "stream" && schema.FieldIndex("stream") < 0)) {
        SLUICE_ASSIGN_OR_RETURN(index, column("key", piece.text));
      }
      plan.key_columns.push_back(index);
    }
    if (!options_.value_column.empty()) {
      SLUICE_ASSIGN_OR_RETURN(plan.value_column, column("value_column", options_.value_column));
    }
    if (options_.data_type == RedisDataType::kHash) {
      if (options_.fields.empty()) {
        for (size_t i = 0; i < schema.num_fields(); ++i)
          plan.field_columns.push_back(static_cast<int>(i));
      }
      for (const std::string& name : options_.fields) {
        SLUICE_ASSIGN_OR_RETURN(int index, column("fields", name));
        plan.field_columns.push_back(index);
      }
    }
    if (!options_.ttl_column.empty()) {
      SLUICE_ASSIGN_OR_RETURN(plan.ttl_column, column("ttl_column", options_.ttl_column));
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

Status RedisSink::Open(const JobContext& context, const std::vector<StreamInfo>& streams) {
  context_ = &context;
  SLUICE_ASSIGN_OR_RETURN(std::vector<StreamPlan> plans, PlanStreams(streams));
  SLUICE_RETURN_IF_ERROR(Coordinator().status());
  plans_ = std::make_shared<const std::vector<StreamPlan>>(std::move(plans));
  return Status::OK();
}

Status RedisSink::Check(const JobContext& context, const std::vector<StreamInfo>& streams,
                        CheckReport* report) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<StreamPlan> plans, PlanStreams(streams));
  SLUICE_ASSIGN_OR_RETURN(RedisClient * client, Coordinator());
  if (options_.cluster) {
    report->Note(fmt::format("redis cluster via {}:{}: {} primaries; rows become {} keys named "
                             "'{}'",
                             options_.connection.host, options_.connection.port,
                             cluster_->Map().value()->primaries().size(),
                             options_.data_type == RedisDataType::kHash ? "hash" : "string",
                             options_.key));
    if (context.delivery == DeliveryGuarantee::kExactlyOnce) {
      report->Note(
          "exactly-once on a Redis Cluster: each node applies a checkpoint's rows atomically, "
          "then the progress is stored; a failure between shows part of a checkpoint until the "
          "resumed run writes it again (the keys converge: writes overwrite)");
    }
    return Status::OK();
  }
  report->Note(fmt::format("redis {} db {}: a primary; rows become {} keys named '{}'",
                           client->address(), options_.connection.db,
                           options_.data_type == RedisDataType::kHash ? "hash" : "string",
                           options_.key));
  return Status::OK();
}

Result<std::unique_ptr<SinkWriter>> RedisSink::CreateWriter(int slot) {
  if (plans_ == nullptr || context_ == nullptr)
    return Internal("redis sink: CreateWriter before Open");
  auto writer = std::make_unique<RedisWriter>(options_, context_, plans_, slot, run_epoch_,
                                              generation_);
  SLUICE_RETURN_IF_ERROR(writer->Start());
  return std::unique_ptr<SinkWriter>(std::move(writer));
}

void RedisSink::Abort() {
  std::lock_guard<std::mutex> lock(coordinator_mutex_);
  coordinator_.reset();
  cluster_.reset();
}

void RedisSink::Cancel() {
  std::lock_guard<std::mutex> lock(coordinator_mutex_);
  if (coordinator_ != nullptr)
    coordinator_->Cancel();
  if (cluster_ != nullptr)
    cluster_->Cancel();
}

Result<RedisReply> RedisSink::KeyCommand(std::string_view key,
                                         const std::vector<std::string_view>& args) {
  SLUICE_ASSIGN_OR_RETURN(RedisClient * client, Coordinator());
  if (options_.cluster)
    return cluster_->Command(key, args);
  return client->Command(args);
}

Status RedisSink::ClaimFences(const JobContext& context) {
  // This run's fence key on every primary, and every fence key of the job found anywhere (a
  // writer of an older run with an older slot map would check one of those).
  SLUICE_ASSIGN_OR_RETURN(const SlotMap* map, cluster_->Map());
  std::set<std::string> keys;
  for (const std::string& address : map->primaries()) {
    int tag = map->TagOn(address);
    if (tag < 0)
      return Internal(fmt::format("Redis Cluster: no hash tag lands on node {}", address));
    keys.insert(FenceKey(context.job_name, tag));
    SLUICE_ASSIGN_OR_RETURN(RedisClient * client, cluster_->Client(address));
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> found,
                            Scan(*client, FenceKeyPattern(context.job_name)));
    keys.insert(found.begin(), found.end());
  }
  std::string epoch = std::to_string(context.run_epoch);
  for (const std::string& key : keys) {
    SLUICE_ASSIGN_OR_RETURN(RedisReply reply, cluster_->CommandOn(key, "EVAL", kFenceScript, "1",
                                                                  key, epoch, context.run_owner));
    if (reply.integer > 0) {
      return FencedOff(context.job_name,
                       fmt::format("redis cluster {}:{}", options_.connection.host,
                                   options_.connection.port),
                       context.run_epoch, static_cast<uint64_t>(reply.integer));
    }
  }
  return Status::OK();
}

Status RedisSink::Claim(const JobContext& context) {
  SLUICE_ASSIGN_OR_RETURN(RedisClient * client, Coordinator());
  std::string epoch = std::to_string(context.run_epoch);
  std::string run_key = RunKey(context.job_name);
  SLUICE_ASSIGN_OR_RETURN(RedisReply reply,
                          KeyCommand(run_key, {"EVAL", kClaimScript, "1", run_key, epoch,
                                               context.run_owner}));
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2)
    return IoError(fmt::format("Redis at {}: the claim script answered oddly", client->address()));
  if (reply.elements[0].integer == 0) {
    return FencedOff(context.job_name,
                     fmt::format("redis {} db {}", client->address(), options_.connection.db),
                     context.run_epoch, static_cast<uint64_t>(reply.elements[1].integer));
  }
  if (options_.cluster && context.run_epoch != 0)
    SLUICE_RETURN_IF_ERROR(ClaimFences(context));
  run_epoch_ = context.run_epoch;
  generation_ = static_cast<uint64_t>(reply.elements[1].integer);
  return Status::OK();
}

Result<std::vector<std::string>> RedisSink::Scan(RedisClient& client,
                                                 const std::string& pattern) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    SLUICE_ASSIGN_OR_RETURN(RedisReply reply,
                            client.Command("SCAN", cursor, "MATCH", pattern, "COUNT", "1000"));
    if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2)
      return IoError(fmt::format("Redis at {}: SCAN answered oddly", client.address()));
    cursor = reply.elements[0].text;
    for (const RedisReply& key : reply.elements[1].elements)
      keys.push_back(key.text);
  } while (cursor != "0");
  return keys;
}

Result<std::vector<std::string>> RedisSink::ProgressKeys(const std::string& job) {
  SLUICE_ASSIGN_OR_RETURN(RedisClient * client, Coordinator());
  std::string prefix = ProgressKey(job, 0);
  prefix.pop_back();  // "sluice:progress:<job>:"
  std::string pattern = GlobEscape(prefix) + "*";
  std::vector<std::string> found;
  if (options_.cluster) {
    // SCAN sees one node's keys: ask every primary.
    SLUICE_ASSIGN_OR_RETURN(const SlotMap* map, cluster_->Map());
    for (const std::string& address : map->primaries()) {
      SLUICE_ASSIGN_OR_RETURN(RedisClient * node, cluster_->Client(address));
      SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> keys, Scan(*node, pattern));
      found.insert(found.end(), keys.begin(), keys.end());
    }
  } else {
    SLUICE_ASSIGN_OR_RETURN(found, Scan(*client, pattern));
  }
  std::vector<std::string> keys;
  for (const std::string& key : found) {
    // Only "<prefix><slot>": a job named "a" must not take the keys of job "a:b".
    std::string_view slot = std::string_view(key).substr(prefix.size());
    if (!slot.empty() && slot.find_first_not_of("0123456789") == std::string_view::npos)
      keys.push_back(key);
  }
  return keys;
}

Result<std::vector<SplitProgress>> RedisSink::RecoverProgress(const JobContext& context) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> keys, ProgressKeys(context.job_name));
  std::map<std::string, TaggedProgress> merged;
  for (const std::string& key : keys) {
    SLUICE_ASSIGN_OR_RETURN(RedisReply reply, KeyCommand(key, {"GET", key}));
    if (!reply.is_nil())
      SLUICE_RETURN_IF_ERROR(ParseProgressJson(key, reply.text, &merged));
  }
  std::vector<SplitProgress> out;
  for (auto& [split, tagged] : merged)
    out.push_back(std::move(tagged.progress));
  return out;
}

Status RedisSink::ForgetProgress(const JobContext& context) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> keys, ProgressKeys(context.job_name));
  for (const std::string& key : keys)
    SLUICE_RETURN_IF_ERROR(KeyCommand(key, {"DEL", key}).status());
  return Status::OK();
}

}  // namespace sluice::connectors::redis
