#include "connectors/sqlite/tests/sqlite_test_util.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <bit>
#include <cstdio>
#include <cstdlib>

#include "config/node.h"
#include "connectors/registry.h"
#include "core/value_text.h"

namespace sluice::connectors {
void RegisterSqliteConnector(ConnectorRegistry& registry);
}  // namespace sluice::connectors

namespace sluice::connectors::sqlite::testing {

namespace {

const ConnectorRegistry& Registry() {
  static const ConnectorRegistry* registry = [] {
    auto* r = new ConnectorRegistry();
    RegisterSqliteConnector(*r);
    return r;
  }();
  return *registry;
}

Result<config::ConnectorBlock> Block(const std::string& yaml) {
  SLUICE_ASSIGN_OR_RETURN(config::Node node, config::ParseYaml(yaml, "test.yaml"));
  config::ConnectorBlock block;
  block.type = "sqlite";
  block.options = std::move(node);
  return block;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::abort();
}

}  // namespace

Result<std::unique_ptr<Source>> MakeSource(const std::string& yaml) {
  SLUICE_ASSIGN_OR_RETURN(config::ConnectorBlock block, Block(yaml));
  return Registry().CreateSource(block);
}

Result<std::unique_ptr<Sink>> MakeSink(const std::string& yaml) {
  SLUICE_ASSIGN_OR_RETURN(config::ConnectorBlock block, Block(yaml));
  return Registry().CreateSink(block);
}

Cell CellOf(const Column& column, size_t row) {
  if (column.IsNull(row)) {
    return std::nullopt;
  }
  std::string text;
  AppendValueText(column, row, &text);
  if (column.type().id == TypeId::kFloat64) {
    text += fmt::format("#{:016x}", std::bit_cast<uint64_t>(column.Get<double>(row)));
  } else if (column.type().id == TypeId::kFloat32) {
    text += fmt::format("#{:08x}", std::bit_cast<uint32_t>(column.Get<float>(row)));
  }
  return text;
}

Row RowOf(const Batch& batch, size_t row) {
  Row out;
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    out.push_back(CellOf(batch.column(c), row));
  }
  return out;
}

std::unique_ptr<Batch> BatchOf(const SchemaPtr& schema, const std::vector<Row>& rows, int stream) {
  auto batch = std::make_unique<Batch>(schema, std::max<size_t>(rows.size(), 1));
  batch->set_stream(stream);
  for (const Row& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (!row[c]) {
        batch->column(c).AppendNull();
        continue;
      }
      Status parsed = AppendParsedValue(*row[c], &batch->column(c));
      if (!parsed.ok()) {
        Die(fmt::format("bad test value '{}': {}", *row[c], parsed.ToString()));
      }
    }
    batch->FinishRow();
  }
  return batch;
}

Status ReadSplit(Source& source, const Split& split, const std::string& position, size_t batch_rows,
                 std::vector<Row>* rows) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitReader> reader,
                          source.CreateReader(split, position));
  Batch batch(source.streams()[static_cast<size_t>(split.stream)].schema, batch_rows);
  for (;;) {
    batch.Clear();
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->ReadBatch(&batch));
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      rows->push_back(RowOf(batch, r));
    }
    if (!more) {
      return Status::OK();
    }
  }
}

Result<std::vector<ReadResult>> ReadAll(Source& source, size_t batch_rows) {
  std::vector<ReadResult> results(source.streams().size());
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitEnumerator> enumerator, source.CreateEnumerator());
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<Split> split, enumerator->Next());
    if (!split) {
      break;
    }
    ReadResult& result = results[static_cast<size_t>(split->stream)];
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SplitReader> reader, source.CreateReader(*split, ""));
    Batch batch(source.streams()[static_cast<size_t>(split->stream)].schema, batch_rows);
    for (;;) {
      batch.Clear();
      SLUICE_ASSIGN_OR_RETURN(bool more, reader->ReadBatch(&batch));
      if (!batch.empty()) {
        ++result.batches;
      }
      for (size_t r = 0; r < batch.num_rows(); ++r) {
        result.rows.push_back(RowOf(batch, r));
        result.split_ids.push_back(split->id);
      }
      if (!more) {
        break;
      }
    }
  }
  return results;
}

Status WriteAll(Sink& sink, const JobContext& context, const std::vector<StreamInfo>& streams,
                const std::vector<const Batch*>& batches) {
  SLUICE_RETURN_IF_ERROR(sink.Open(context, streams));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SinkWriter> writer, sink.CreateWriter(0));
  for (const Batch* batch : batches) {
    Status written = writer->Write(*batch);
    if (!written.ok()) {
      writer->Abort();
      sink.Abort();
      return written;
    }
  }
  SLUICE_RETURN_IF_ERROR(writer->Prepare());
  SLUICE_RETURN_IF_ERROR(writer->Commit({}));
  writer.reset();
  return sink.Finish();
}

void ExecOrDie(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Die(fmt::format("cannot open {}: {}", path, sqlite3_errmsg(db)));
  }
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    Die(fmt::format("SQL failed on {}: {}\n{}", path, error ? error : "?", sql.substr(0, 500)));
  }
  sqlite3_close_v2(db);
}

std::vector<RawRow> QueryOrDie(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    Die(fmt::format("cannot open {}: {}", path, sqlite3_errmsg(db)));
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    Die(fmt::format("cannot prepare on {}: {}\n{}", path, sqlite3_errmsg(db), sql));
  }
  std::vector<RawRow> rows;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    RawRow row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL:
          row.push_back("NULL");
          break;
        case SQLITE_INTEGER:
          row.push_back(fmt::format("INTEGER:{}", sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT: {
          std::string text = "REAL:";
          AppendDouble(sqlite3_column_double(stmt, c), &text);
          row.push_back(text);
          break;
        }
        case SQLITE_TEXT: {
          const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          row.push_back("TEXT:" +
                        std::string(data, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
          break;
        }
        default: {
          const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, c));
          std::string text = "BLOB:";
          AppendHexBytes({data ? data : "", static_cast<size_t>(sqlite3_column_bytes(stmt, c))},
                         &text);
          row.push_back(text);
        }
      }
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) {
    Die(fmt::format("query failed on {}: {}", path, sqlite3_errmsg(db)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close_v2(db);
  return rows;
}

std::string DatasetsDirectory() {
  if (const char* env = std::getenv("SLUICE_DATASETS"); env != nullptr && *env != '\0') {
    return env;
  }
  return std::string(SLUICE_REPO_ROOT) + "/../shared/datasets";
}

}  // namespace sluice::connectors::sqlite::testing
