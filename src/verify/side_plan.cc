#include "verify/side_plan.h"

#include <fmt/core.h>

namespace sluice::verify {

namespace {

// The request for `stream` of an opened side, whose fields are found by `input_name`; Unsupported
// when a field has no plain counterpart there.
Result<connectors::DigestRequest> MakeRequest(
    int stream, const Schema& side_schema, const Schema& reference, const StreamPlan& plan,
    const std::function<Result<std::string>(const Field&)>& input_name) {
  connectors::DigestRequest request;
  request.stream = stream;
  for (const Field& field : reference.fields()) {
    SLUICE_ASSIGN_OR_RETURN(std::string name, input_name(field));
    int index = side_schema.FieldIndex(name);
    if (index < 0)
      return Unsupported(fmt::format("no column '{}'", name));
    request.columns.push_back(connectors::DigestColumn{index, field.type});
  }
  request.key = plan.key;
  request.buckets = plan.buckets;
  return request;
}

}  // namespace

SidePlan PlanSide(DigestSource* opened, const Status& open_status, int stream,
                  const Schema& reference, const StreamPlan& plan, const std::string& store,
                  const std::function<Result<std::string>(const Field&)>& input_name) {
  SidePlan side;
  auto read_through = [&](const Status& why) {
    side.pushed = false;
    side.method = fmt::format("rows read through sluice ({})", why.message());
  };
  if (!open_status.ok()) {
    read_through(open_status);
  } else if (opened == nullptr || opened->digester == nullptr) {
    side.method = "rows read through sluice";
  } else if (stream < 0) {
    read_through(Unsupported("stream not found"));
  } else {
    const Schema& schema = *opened->source->streams()[static_cast<size_t>(stream)].schema;
    Result<connectors::DigestRequest> request =
        MakeRequest(stream, schema, reference, plan, input_name);
    Status can = request.ok() ? opened->digester->CanDigest(*request) : request.status();
    if (can.ok()) {
      side.pushed = true;
      side.digester = opened->digester;
      side.request = std::move(*request);
      side.method = fmt::format("checksums computed by {}", store);
    } else {
      read_through(can);
    }
  }
  return side;
}

int FindStream(const connectors::Source& source, const std::string& name, size_t fallback) {
  const std::vector<connectors::StreamInfo>& streams = source.streams();
  for (size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].name == name)
      return static_cast<int>(i);
  }
  return fallback < streams.size() ? static_cast<int>(fallback) : -1;
}

}  // namespace sluice::verify
