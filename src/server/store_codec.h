// What every ServerStore implementation encodes the same way: token hashes and texts, failure
// reasons and per-table figures as JSON text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "server/server_store.h"

namespace sluice::server {

/// Hex SHA-256: what a store keeps of a token.
std::string Sha256Hex(std::string_view text);
/// A new random token ("slc_" + 48 hex digits).
Result<std::string> NewTokenText();

nlohmann::json FailureToJson(const FailureReason& failure);
/// "" for none.
std::string FailureText(const std::optional<FailureReason>& failure);
std::optional<FailureReason> FailureFromText(const std::string& text);

nlohmann::json TablesToJson(const std::vector<TableFigures>& tables);
std::string TablesText(const std::vector<TableFigures>& tables);
std::vector<TableFigures> TablesFromText(const std::string& text);

}  // namespace sluice::server
