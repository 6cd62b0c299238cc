// Planning which method digests each side of each stream: in its store (the store computes the
// digests in SQL) when the side was opened, its store has a digester, the stream is found and
// every reference column has a plain counterpart there; else read through Sluice
// (read_through.h), with the reason in the report.
//
// Plain functions; thread-safe.
#pragma once

#include <functional>
#include <string>

#include "connectors/api.h"
#include "connectors/store_digest.h"
#include "core/schema.h"
#include "verify/side_digest.h"
#include "verify/store_side.h"

namespace sluice::verify {

// How one side digests one stream.
struct SidePlan {
  bool pushed = false;  // false: read through Sluice
  /// While its store is open (the source's for the whole run, a target's while in use).
  connectors::StoreDigester* digester = nullptr;
  connectors::DigestRequest request;
  std::string method;
};

/// Decides whether `opened` computes the digests of `stream` itself; `input_name` gives the
/// side's column for a reference field (Unsupported when it has no plain counterpart).
SidePlan PlanSide(DigestSource* opened, const Status& open_status, int stream,
                  const Schema& reference, const StreamPlan& plan, const std::string& store,
                  const std::function<Result<std::string>(const Field&)>& input_name);

/// The index of stream `name` in `source`, else `fallback` when the source has that many
/// streams, else -1.
int FindStream(const connectors::Source& source, const std::string& name, size_t fallback);

}  // namespace sluice::verify
