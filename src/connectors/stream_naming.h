// How sinks name a stream's target: a table or path option may contain "{stream}".
#pragma once

#include <string>
#include <string_view>

namespace sluice::connectors {

/// `pattern` with every "{stream}" replaced by `stream`; `stream` itself when `pattern` is empty
/// (a sink without a `table:` writes each stream to the table of its own name).
std::string ExpandStreamName(std::string_view pattern, std::string_view stream);

}  // namespace sluice::connectors
