// The `where:` condition of a SQL source, checked before it goes into any query. Sluice puts it
// in parentheses beside its own conditions (keyset paging: `key > ? AND (<where>)`); a condition
// that closes those parentheses itself ("v = 1) OR (v = 2") would rebind the paging condition
// and make a job read the table over and over. So a condition must be one expression on its
// own: parentheses balanced, quotes and identifiers closed, and no comment or `;` that could end
// the query early.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "core/status.h"

namespace sluice::connectors::sql {

/// How the server reads string literals.
enum class QuoteRules {
  kMysql,     // '...' and "..." with backslash escapes, `identifiers`
  kPostgres,  // '...' ('' only; E'...' with backslash escapes), "identifiers", $tag$...$tag$
};

/// OK when `condition` is one self-contained expression (see above); otherwise InvalidConfig
/// saying what is wrong ("a '(' is not closed").
Status CheckWhereCondition(std::string_view condition, QuoteRules rules);

}  // namespace sluice::connectors::sql
