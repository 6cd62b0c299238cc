#include "server/store_codec.h"

#include <fmt/core.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

namespace sluice::server {

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i)
    hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

Result<std::string> NewTokenText() {
  unsigned char random[24];
  if (RAND_bytes(random, sizeof(random)) != 1)
    return Internal("no random bytes for a token");
  std::string token = "slc_";
  for (unsigned char byte : random)
    token += fmt::format("{:02x}", byte);
  return token;
}

std::string FailureText(const std::optional<FailureReason>& failure) {
  return failure ? FailureToJson(*failure).dump() : std::string();
}

std::optional<FailureReason> FailureFromText(const std::string& text) {
  if (text.empty())
    return std::nullopt;
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_object())
    return std::nullopt;
  return FailureReason{parsed.value("origin", "platform"), parsed.value("table", ""),
                       parsed.value("message", ""), parsed.value("retryable", false)};
}

std::string TablesText(const std::vector<TableFigures>& tables) {
  return TablesToJson(tables).dump();
}

nlohmann::json FailureToJson(const FailureReason& failure) {
  return {{"origin", failure.origin},
          {"table", failure.table},
          {"message", failure.message},
          {"retryable", failure.retryable}};
}

nlohmann::json TablesToJson(const std::vector<TableFigures>& tables) {
  nlohmann::json out = nlohmann::json::array();
  for (const TableFigures& t : tables) {
    nlohmann::json row = {{"table", t.table},           {"rows_read", t.rows_read},
                          {"rows_written", t.rows_written}, {"bytes_read", t.bytes_read},
                          {"bytes_written", t.bytes_written}};
    if (t.lag_rows)
      row["lag_rows"] = *t.lag_rows;
    if (t.lag_bytes)
      row["lag_bytes"] = *t.lag_bytes;
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<TableFigures> TablesFromText(const std::string& text) {
  std::vector<TableFigures> tables;
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array())
    return tables;
  for (const nlohmann::json& row : parsed) {
    TableFigures t;
    t.table = row.value("table", "");
    t.rows_read = row.value("rows_read", uint64_t{0});
    t.rows_written = row.value("rows_written", uint64_t{0});
    t.bytes_read = row.value("bytes_read", uint64_t{0});
    t.bytes_written = row.value("bytes_written", uint64_t{0});
    if (row.contains("lag_rows"))
      t.lag_rows = row["lag_rows"].get<uint64_t>();
    if (row.contains("lag_bytes"))
      t.lag_bytes = row["lag_bytes"].get<uint64_t>();
    tables.push_back(std::move(t));
  }
  return tables;
}

}  // namespace sluice::server
