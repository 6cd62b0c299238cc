// The REST API under /api/v1: connections, jobs (the YAML of `sluice run`), schedules, runs
// (start, stop, resume, re-sync), their logs and per-table figures, the catalog, teams and
// tokens. Every route is declared once in a table (method, path, summary, request and answer
// schemas, rights); the handlers are registered from it and the OpenAPI document
// (/api/v1/openapi.json) is generated from it, so the two cannot drift apart.
//
// Authentication: `Authorization: Bearer <token>`. A token belongs to a team and sees only that
// team's connections, jobs and runs; an admin token manages teams and tokens and may act for a
// team with `?team=NAME`.
//
// Errors are JSON {"error": {"code", "message"}} with a 4xx that says what to fix: 400
// malformed JSON or YAML, unknown fields, invalid options; 401 no or unknown token; 403 a
// token without the right; 404 no such record; 409 a duplicate name or a run that ended.
// A request that fails changes nothing.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "connectors/registry.h"

namespace httplib {
class Server;
}

namespace sluice::server {

class ServerStore;
class RunManager;
class Scheduler;
class AlertEvaluator;

struct ApiContext {
  ServerStore* store = nullptr;
  const connectors::ConnectorRegistry* registry = nullptr;
  RunManager* runs = nullptr;
  Scheduler* scheduler = nullptr;
  AlertEvaluator* alerts = nullptr;  // null when the server has no alert rules
  /// Called after a job was created, replaced or deleted (the scheduler updates it).
  std::function<void(const std::string& team, const std::string& job)> jobs_changed;
};

/// Registers every API route on `http`.
void InstallApi(httplib::Server* http, ApiContext* context);

/// The OpenAPI 3.0 document of the API, built from the route table.
nlohmann::json OpenApiDocument();

}  // namespace sluice::server
