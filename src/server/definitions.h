// Definitions: how the server reads, checks and shows connections and jobs.
//
// A connection is {name, type, options}; a job is the YAML of `sluice run`, whose source and
// sink may name a connection (`connection: pg_main`) instead of repeating its options. Both are
// checked in full before anything is stored: unknown keys, option types, a connection that does
// not exist, a schedule that does not parse. Nothing half-created.
//
// Secrets: an option a connector declares secret (a password) is shown as "**REDACTED**" in
// every answer, unless it is a reference (${env:NAME}, ${file:/path}), which is safe to show.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "config/job_config.h"
#include "connectors/registry.h"
#include "server/server_store.h"

namespace sluice::server {

/// Names of teams, connections and jobs: 1-128 of [A-Za-z0-9_.-], starting with a letter or
/// digit (they appear in URLs, metrics labels and file names).
Status CheckName(std::string_view what, std::string_view name);

/// The configuration tree of a JSON value (objects, arrays, scalars as text), for the option
/// tables; `origin` names it in errors.
config::Node NodeFromJson(const nlohmann::json& value, const std::string& origin);

/// Checks a connection's type and options against the connector's option tables (a key must be
/// a source or sink option of it).
Status CheckConnection(const connectors::ConnectorRegistry& registry,
                       const ConnectionRecord& record);

/// The connection's options for an answer: secret options redacted.
nlohmann::json ShownOptions(const connectors::ConnectorRegistry& registry,
                            const ConnectionRecord& record);

/// Loads a team's job from its YAML: connections resolved from the store, connectors' options
/// and the schedule checked. `origin` names the text in errors ("job orders").
Result<config::JobConfig> LoadServerJob(ServerStore* store,
                                        const connectors::ConnectorRegistry& registry,
                                        const std::string& team, const std::string& yaml,
                                        const std::string& origin);

}  // namespace sluice::server
