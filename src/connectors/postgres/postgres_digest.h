// PostgresDigester: verification digests computed by the PostgreSQL server
// (connectors/store_digest.h), so that `sluice verify` moves bucket totals, not rows.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/postgres/postgres_catalog.h"
#include "connectors/postgres/postgres_options.h"
#include "connectors/sql/digest_sql.h"

namespace sluice::connectors::postgres {

/// One stream as the digester reads it.
struct DigestTable : sql::SqlStoreDigester::Table {
  std::vector<PgColumn> columns;  // the stream's fields, in schema order
};

/// The canonical-text expression for `column` rendered as `as`, or Unsupported saying why.
/// `server_version`: PQserverVersion (trim_scale needs 13).
Result<std::string> CanonicalExpression(const PgColumn& column, const DataType& as,
                                        int server_version);

std::unique_ptr<StoreDigester> MakeDigester(ConnectionOptions options,
                                            std::vector<DigestTable> tables);

}  // namespace sluice::connectors::postgres
