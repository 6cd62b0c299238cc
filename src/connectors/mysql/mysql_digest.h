// MysqlDigester: verification digests computed by the MySQL/MariaDB server
// (connectors/store_digest.h), so that `sluice verify` moves bucket totals, not rows.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/mysql/mysql_options.h"
#include "connectors/mysql/mysql_types.h"
#include "connectors/sql/digest_sql.h"

namespace sluice::connectors::mysql {

/// One stream as the digester reads it.
struct DigestTable : sql::SqlStoreDigester::Table {
  std::vector<SourceColumn> columns;  // the stream's fields, in schema order
  ZeroDates zero_dates = ZeroDates::kError;
};

/// The canonical-text expression for `column` rendered as `as`, or Unsupported saying why.
Result<std::string> CanonicalExpression(const SourceColumn& column, const DataType& as,
                                        ZeroDates zero_dates);

std::unique_ptr<StoreDigester> MakeDigester(ConnectionOptions options,
                                            std::vector<DigestTable> tables);

}  // namespace sluice::connectors::mysql
