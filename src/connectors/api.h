// The connector contract: a few small interfaces that every source and sink implements.
//
//   Source ──plans──> SplitEnumerator ──hands out──> Split ──opened by──> SplitReader ─> Batch
//   Batch ──> SinkWriter (one per parallel slot) ──Prepare/Commit──> Sink ──Finish──> done
//
// Bounded (tables, files) and unbounded (Kafka, change data capture) sources share this API: a
// batch job is a stream whose enumerator runs dry. Splits and positions are opaque strings
// (JSON by convention) so that the runtime can checkpoint them, resume from them after a crash
// and, later, ship them to another machine without knowing what they mean.
//
// Threads: the runtime calls Open/streams/CreateEnumerator/Finish on one coordinator thread;
// each SplitReader and SinkWriter is driven by one worker thread at a time. Calls documented
// "thread-safe" may come from any thread concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/result.h"

namespace sluice::connectors {

/// One logical stream of a source: a table, a file family, a topic.
struct StreamInfo {
  std::string name;
  SchemaPtr schema;
  /// Rows expected when known (for percent and ETA); nullopt when unknown.
  std::optional<uint64_t> estimated_rows;
  /// The `type:` of the connector the rows come from (set by the runtime). A sink of the same
  /// type may recreate Field::native_type exactly; other sinks use the logical types.
  std::string source_type;
  /// The rows carry RowKinds (inserts, updates, deletes: change data capture, a Debezium topic)
  /// and need the schema's primary key. The runtime routes them to writers by a hash of that
  /// key, so that each key's changes arrive in order; a sink that cannot apply them (an
  /// `append` table) refuses the stream at Open with InvalidConfig.
  bool changelog = false;
};

/// A unit of source work that one reader processes start to end.
struct Split {
  /// Unique within the job and stable across restarts ("orders#0007", "data/a.csv.gz").
  std::string id;
  /// Index into Source::streams().
  int stream = 0;
  /// Connector-defined description of the work (JSON text), enough to reopen it anywhere.
  std::string payload;
  std::optional<uint64_t> estimated_rows;
  std::optional<uint64_t> estimated_bytes;
};

/// A record that could not be read or converted, handed to the job's `errors:` policy.
struct BadRecord {
  std::string stream;
  /// Where it is: "orders.csv:17:4", "orders id=42".
  std::string location;
  /// The raw record when there is one (a CSV line, a JSON line), truncated by the reporter.
  std::string raw;
  /// The complete error, its message starting with the location: what the job fails with under
  /// `errors: fail`.
  Status reason;
};

/// The bad record of a row a sink's format refused (a value the target cannot hold):
/// `location` is where it would have gone ("out/o.parquet row 12"), the raw record the row's
/// values in canonical text, comma-separated (cut to 1 KiB), the reason prefixed with the
/// location.
BadRecord RefusedRow(std::string stream, std::string location, const Batch& batch, size_t row,
                     const Status& reason);

/// Appends " name=value" for each key column of `row` (`key`: column indexes into `batch`,
/// `names`: the names by column index; NULL as "NULL"): a bad record's location after its table.
void AppendKeyLocation(const Batch& batch, size_t row, const std::vector<int>& key,
                       const std::vector<std::string>& names, std::string* out);

/// The job's bad-record policy. Thread-safe.
class BadRecordHandler {
 public:
  virtual ~BadRecordHandler() = default;
  /// Returns OK to skip the record and continue, or the error that stops the job.
  virtual Status Handle(const BadRecord& record) = 0;
};

/// Fails on the first bad record with its reason, as `errors: fail` does: for a source or sink
/// driven outside a job (verify's store digests, benchmarks).
class FailOnBadRecord final : public BadRecordHandler {
 public:
  Status Handle(const BadRecord& record) override { return record.reason; }
};

enum class DeliveryGuarantee {
  /// Every row arrives at least once; a retry or resume may repeat rows.
  kAtLeastOnce,
  /// Every row arrives exactly once, also across failures and restarts.
  kExactlyOnce,
};

/// The committed progress of one split: the resume position after its last committed row, and
/// whether it is finished. Exactly-once sinks store it with the rows (see SinkWriter::Commit).
struct SplitProgress {
  std::string split_id;
  /// SplitReader::Position() after the last committed row; "" = from the start.
  std::string position;
  bool done = false;

  friend bool operator==(const SplitProgress&, const SplitProgress&) = default;
};

/// How far a reader is behind its source's head, as far as it knows (SplitReader::Lag). Each
/// field is unknown (nullopt) unless the source can tell.
struct ReadLag {
  /// Rows (Kafka: messages) between the last row read and the head.
  std::optional<uint64_t> rows;
  /// Bytes between the last row read and the head (a binlog, a WAL).
  std::optional<uint64_t> bytes;
  /// Event time of the last row read (a message's timestamp, a transaction's commit time), in
  /// microseconds since the Unix epoch.
  std::optional<int64_t> last_event_time_us;
};

/// What a writer commits at a checkpoint.
struct CommitContext {
  /// Increasing number of the checkpoint (informational; stored next to the progress).
  uint64_t checkpoint = 0;
  /// Progress of the splits whose rows this writer wrote since its previous commit. Under
  /// exactly-once delivery the sink must make it durable atomically with those rows.
  std::vector<SplitProgress> progress;
};

/// What every connector may know about the job it runs in. The runtime keeps it alive, at the
/// same address, from Source::Open / Sink::Open until the source and sink are destroyed; some
/// fields (offer_split) are filled in after Open, so keep a pointer rather than a copy.
struct JobContext {
  std::string job_name;
  int parallelism = 1;
  size_t batch_rows = Batch::kDefaultCapacity;
  /// Readers end a batch early once its values exceed this many bytes.
  size_t batch_bytes = 16u << 20;
  /// Set when the job is stopping (SIGINT/SIGTERM or a failure elsewhere). Never null.
  const std::atomic<bool>* cancelled = nullptr;
  /// Never null while a job runs.
  BadRecordHandler* bad_records = nullptr;
  /// Takes a split cut from the remainder of running split `from` (see
  /// SplitReader::SplitRemainder), records it durably, and queues it for the next idle reader.
  /// Blocks until recorded. Thread-safe. Set by the runtime before readers start.
  std::function<void(const std::string& from, Split cut)> offer_split;
  /// The delivery the job asked for (`delivery:`). Exactly-once sinks commit each split's
  /// progress in the same transaction as its rows only when this is kExactlyOnce.
  DeliveryGuarantee delivery = DeliveryGuarantee::kExactlyOnce;
  /// True when this run continues an earlier one from its last checkpoint: sinks keep what the
  /// earlier run prepared (an overwrite's staging table, committed files) instead of starting
  /// over.
  bool resuming = false;
  /// Who runs this job ("pid 4711 on host etl-3 since 2026-12-04 09:00:00 UTC"): sinks that
  /// fence runs (Sink::Claim) record it beside the run epoch, for the message a fenced run gets.
  std::string run_owner;
  /// This run's epoch, from the state store's run lease: higher for every run of the job (also
  /// across state stores). Sinks fence by it (Sink::Claim); 0 when no lease was taken (tools,
  /// tests driving a sink directly), which Claim then does not fence.
  uint64_t run_epoch = 0;
  /// True when this run took the job over from a run that stopped renewing its lease but may
  /// still be alive (frozen, cut off): what that run had open (files, sessions) must not be
  /// reused in place, since it may still write there until it notices.
  bool earlier_run_may_be_alive = false;
  /// How long a ReadBatch of an unbounded source may wait for data before it returns an empty
  /// batch, so that a reader holding several splits serves the others, checkpoints and stops
  /// come through. Set by the runtime.
  std::chrono::milliseconds read_wait{100};
};

/// The progress row of a job's current run in a SQL sink's progress table (Sink::Claim): split id
/// "" (no split has an empty id), its `epoch` the run's, its `position` the run's owner.
inline constexpr std::string_view kRunFenceSplitId = "";

/// The error an exactly-once commit gets once a newer run of the job has claimed the target
/// (Sink::Claim): `target` names where ("postgres 127.0.0.1:5432/shop"), `mine` is this run's
/// epoch there, `current` the newer run's and `holder` its owner when known.
Status FencedOff(std::string_view job, std::string_view target, uint64_t mine, uint64_t current,
                 std::string_view holder = {});

/// CheckFreshStart's refusal for `table` (as the sink names it), which holds rows.
Status FreshStartWouldDuplicate(std::string_view job, std::string_view table);
/// CheckCommittedTargets' refusal for `table` (as the sink names it), missing or empty.
Status CommittedRowsGone(std::string_view job, std::string_view table, bool missing);

/// Appended by table sinks to a duplicate-key error in `append` mode: what to do when the table
/// already holds the rows (a finished job run again, say).
inline constexpr std::string_view kDuplicateKeyAdvice =
    " (the table already holds a row with this key: to load into a table that holds rows, set "
    "mode: upsert to replace rows by key or mode: overwrite to replace the table, or empty it "
    "and run the job with --fresh)";

/// Hands out splits on demand to whichever reader is free, so that a slow split never leaves
/// the other readers idle. Thread-safe.
class SplitEnumerator {
 public:
  virtual ~SplitEnumerator() = default;
  /// Returns the next split, or nullopt when there is none now. A bounded source returns
  /// nullopt only when it will never produce another split.
  virtual Result<std::optional<Split>> Next() = 0;
  /// Takes back a split cut from a running reader's remainder (see SplitReader::SplitRemainder)
  /// so that an idle reader can take it.
  virtual void Add(Split split) = 0;
  /// Splits not yet handed out.
  virtual size_t pending() const = 0;
  /// An unbounded source's enumerator finds new splits while the job runs (a topic's new
  /// partitions): it calls `wake` (from any thread) when Next() may have one, so that idle
  /// readers wait on it instead of polling. Called once by the runtime before the first Next().
  virtual void SetWakeup(std::function<void()> wake) {}
};

/// Reads one split into batches. Driven by one reader thread.
class SplitReader {
 public:
  virtual ~SplitReader() = default;
  /// Appends rows to `batch` (empty, sized by the runtime) until it is full, its bytes exceed
  /// JobContext::batch_bytes, or the split ends. Returns false once the split is exhausted and
  /// nothing was appended. An unbounded reader may return true with an empty batch when no data
  /// arrived in time, so that the runtime can checkpoint or stop. May block.
  virtual Result<bool> ReadBatch(Batch* batch) = 0;
  /// Resume token for the position after the last row returned ("" = start of the split).
  /// Reopening the split with it continues with the next row.
  virtual std::string Position() const { return {}; }
  /// The split's payload as it stands now: after a cut its range is smaller than when it was
  /// handed out. "" when it never changes. Thread-safe.
  virtual std::string Payload() const { return {}; }
  /// Asks this reader to give up the unread remainder of its split so that an idle reader can
  /// take it. Thread-safe and quick (called from another thread while ReadBatch runs; must not
  /// do I/O). A reader that can cut in memory shrinks its own range and returns the new split.
  /// A reader that needs its connection to find a balanced cut point (a key from the real
  /// distribution) records the request, returns nullopt, and at its next batch boundary hands
  /// the cut to JobContext::offer_split. Returns nullopt without a pending request when the
  /// remainder is too small to be worth cutting.
  virtual std::optional<Split> SplitRemainder() { return std::nullopt; }
  /// Fraction of the split read so far in [0, 1], or a negative value when unknown. Feeds the
  /// percent and ETA of the progress line. Thread-safe.
  virtual double Progress() const { return -1; }
  /// Interrupts a blocking ReadBatch as soon as possible. Thread-safe.
  virtual void Cancel() {}
  /// A split that carries several streams (a database's change log: every captured table in one
  /// ordered sequence of events): the stream whose rows the next ReadBatch will append, so that
  /// the runtime hands it a batch of that stream's schema; negative for Split::stream (the
  /// default: one split, one stream). Must not block: a reader that does not know yet returns
  /// the stream of the batch it last filled, and its ReadBatch returns early (true, possibly
  /// empty) when the next row belongs to another stream. The streams of one split are all
  /// changelogs or all not. Called by the reader's thread between ReadBatch calls.
  virtual int NextStream() const { return -1; }
  /// Unbounded sources: how long ReadBatch may wait for data that has not arrived, in place of
  /// JobContext::read_wait. A reader holding several splits divides read_wait between them, so
  /// that a round over 32 idle partitions still takes about read_wait, not 32 times it. Called
  /// by the reader's thread between ReadBatch calls.
  virtual void SetReadWait(std::chrono::milliseconds wait) {}
  /// How far this reader is behind its source's head, for the lag in the summary and metrics.
  /// Thread-safe and quick (no I/O: report what the last fetch learned).
  virtual ReadLag Lag() const { return {}; }
};

/// Findings of `sluice check`: what would happen, what is wrong.
struct CheckReport {
  std::vector<std::string> notes;
  void Note(std::string line) { notes.push_back(std::move(line)); }
};

class StoreDigester;

class Source {
 public:
  virtual ~Source() = default;
  /// Connects and discovers the streams and their schemas. Called once, before anything else.
  virtual Status Open(const JobContext& context) = 0;
  /// Valid after Open().
  virtual const std::vector<StreamInfo>& streams() const = 0;
  /// False for sources that never end on their own (Kafka, change data capture).
  virtual bool bounded() const { return true; }
  /// Plans the splits. Called once after Open().
  virtual Result<std::unique_ptr<SplitEnumerator>> CreateEnumerator() = 0;
  /// Plans the rest of a resumed run: `planned` are the splits an earlier run handed out (with
  /// their payloads as last cut), which the runtime finishes itself; the enumerator must not
  /// hand out any work they cover. The default, CreateEnumerator() without the splits whose id
  /// is in `planned`, suits sources whose plan is deterministic (files, rowid ranges, datagen);
  /// sources that plan from the data as they go override it.
  virtual Result<std::unique_ptr<SplitEnumerator>> ResumeEnumerator(
      const std::vector<Split>& planned);
  /// Opens a reader for `split`, resuming after `position` when it is not empty. Thread-safe.
  virtual Result<std::unique_ptr<SplitReader>> CreateReader(const Split& split,
                                                            const std::string& position) = 0;
  /// Unbounded sources: whether a reader of `split` reaches its end by itself (a snapshot's
  /// table chunk) rather than streaming until stopped. A reader holds one such split at a time,
  /// reading it to its end as bounded sources' readers do (each may hold one of a fixed number
  /// of connections), instead of taking its share of every split at once.
  virtual bool SplitEnds(const Split& split) const { return false; }
  /// Adds what `sluice check` should report beyond the schemas (privileges, consistency).
  virtual void Describe(CheckReport* report) const {}
  /// The source's store computing verification digests itself (store_digest.h), or null when
  /// it cannot (`sluice verify` then reads the rows). Valid after Open(), as long as the source.
  virtual StoreDigester* digester() { return nullptr; }

  /// Called on the coordinator thread once checkpoint `checkpoint` is durable (every writer
  /// committed it and the state store recorded it), with the progress of every split it
  /// advanced; and once when a run resumes, before it reads, with the positions it resumes from
  /// (checkpoint: the one it resumes from), which a crash may have kept from being acknowledged.
  /// Sources that must tell their server what is safe to forget do it here, and only
  /// here: a Kafka source commits its consumer group's offsets, a replication slot confirms its
  /// LSN. Sluice's own positions are the truth; an error is logged and the job goes on (the next
  /// acknowledgement carries the later positions). Must not block for long.
  virtual Status Acknowledge(uint64_t checkpoint, const std::vector<SplitProgress>& progress) {
    return Status::OK();
  }
  /// State of the source beyond its splits' positions (a snapshot's binlog position, a table's
  /// schema at a position), recorded with each checkpoint, and once before the first read (after
  /// CreateEnumerator or ResumeEnumerator): a state taken at Open is durable before any row read
  /// under it can reach a target. Thread-safe; "" for none.
  virtual std::string CheckpointState() const { return {}; }
  /// On resume, after Open and before ResumeEnumerator: the CheckpointState() of the last
  /// recorded checkpoint ("" when there was none).
  virtual Status RestoreState(std::string_view state) { return Status::OK(); }
};

/// Writes batches for one parallel slot. Driven by one writer thread.
class SinkWriter {
 public:
  virtual ~SinkWriter() = default;
  /// Buffers or writes `batch`; its stream() says which target it belongs to.
  virtual Status Write(const Batch& batch) = 0;
  /// Flushes everything written so far so that Commit() cannot fail for lack of work done.
  virtual Status Prepare() = 0;
  /// Makes the prepared rows durable and visible (or ready to become visible at Finish). Under
  /// exactly-once delivery, `commit.progress` becomes durable in the same transaction (or the
  /// same atomic step), so that a crash keeps both or neither.
  virtual Status Commit(const CommitContext& commit) = 0;
  /// Drops uncommitted rows. Must not throw or block long.
  virtual void Abort() = 0;
  /// Interrupts a Write, Prepare or Commit blocked in the store (a lock held by someone else, a
  /// server that stopped answering) when the job stops: the interrupted call returns an error
  /// and the run ends at its last checkpoint. Thread-safe, quick, best effort; may come when
  /// nothing is running (then it does nothing lasting) and more than once.
  virtual void Cancel() {}
};

class Sink {
 public:
  virtual ~Sink() = default;
  /// Prepares the targets for `streams` (after the transform): creates tables, truncates for
  /// overwrite, opens directories. Called once on the coordinator thread.
  virtual Status Open(const JobContext& context, const std::vector<StreamInfo>& streams) = 0;
  /// Checks the targets against `streams` without changing anything, for `sluice check`.
  virtual Status Check(const JobContext& context, const std::vector<StreamInfo>& streams,
                       CheckReport* report) = 0;
  /// Upper bound on concurrent writers (SQLite takes one); 0 means no limit.
  virtual int max_writers() const { return 0; }
  /// Creates the writer for `slot` (0-based). Thread-safe.
  virtual Result<std::unique_ptr<SinkWriter>> CreateWriter(int slot) = 0;
  /// Called once after every writer committed: publishes the result (swaps staging tables).
  /// The runtime records that the job is finishing before it calls Finish: a run resuming after
  /// a crash in or after Finish reads nothing and calls Finish again (after Claim, RecoverProgress
  /// and Open), which must then complete what was left or publish nothing twice.
  virtual Status Finish() = 0;
  /// Called instead of Finish when the job fails or stops. Releases resources; keeps what a
  /// resumed run needs (an overwrite's staging table, committed files).
  virtual void Abort() {}
  /// Interrupts a call of the coordinator's (Claim, RecoverProgress, Open, Finish...) blocked
  /// in the store when the job stops: the call returns an error. Thread-safe, quick, best
  /// effort, possibly more than once or when nothing runs.
  virtual void Cancel() {}
  /// The strongest delivery this sink can give.
  virtual DeliveryGuarantee guarantee() const = 0;
  /// Takes the job's targets for this run, first thing, before
  /// RecoverProgress or ForgetProgress. Stores JobContext::run_epoch with the job's progress,
  /// after waiting for (or ending) commits of earlier runs still in flight, unless a higher
  /// epoch is stored already (a newer run claimed the targets: FencedOff). From then on every
  /// commit (and Finish) of an earlier run that is still alive somewhere (frozen, cut off from
  /// the state store) is refused with FencedOff, and so are this run's once a later run has
  /// claimed the targets. The runtime lets only one run of a job
  /// move data at a time (the state store's lease); this is what holds when that lease was
  /// taken over. Called on every attempt, whatever the delivery (an at-least-once sink may fence
  /// its publication too); the default suits sinks that keep no progress. A sink driven without
  /// Claim (benchmarks, tools) is not fenced.
  virtual Status Claim(const JobContext& context) { return Status::OK(); }
  /// Exactly-once sinks: the progress that earlier runs of this job committed with their rows,
  /// after finishing or undoing anything a crash left half-done. Called after Claim() and before
  /// Open() when a run resumes. The default (no progress of its own) suits at-least-once sinks.
  virtual Result<std::vector<SplitProgress>> RecoverProgress(const JobContext& context) {
    return std::vector<SplitProgress>();
  }
  /// Before a fresh run (--fresh) discards an interrupted run that committed rows: OK when
  /// starting over cannot leave those rows in the targets twice (the sink replaces the tables or
  /// upserts by key, or the targets are empty); otherwise InvalidConfig saying what to do.
  /// Called after Claim and before ForgetProgress, with the streams after the transform.
  virtual Status CheckFreshStart(const JobContext& context,
                                 const std::vector<StreamInfo>& streams) {
    return Status::OK();
  }
  /// On resume, for the streams whose rows earlier runs committed (after RecoverProgress, before
  /// Open): an error when a target no longer holds any row (dropped or emptied since, so that
  /// the resumed run would load only the rest), saying to run the job with --fresh. The
  /// default: OK.
  virtual Status CheckCommittedTargets(const JobContext& context,
                                       const std::vector<StreamInfo>& streams) {
    return Status::OK();
  }
  /// Forgets what earlier runs of this job committed (a fresh start), keeping the run epoch
  /// Claim() stored. Called after Claim() and before Open().
  virtual Status ForgetProgress(const JobContext& context) { return Status::OK(); }
};

}  // namespace sluice::connectors
