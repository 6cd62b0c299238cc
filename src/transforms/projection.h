// Projection: the `transform: columns:` step: select, rename and cast columns of a batch.
//
// Built once per stream from the job's TransformConfig and the stream's schema; Apply() then
// copies (and, where asked, casts) each batch into an output batch of the projected schema.
// A value that does not survive its cast is a bad record handed to the job's policy.
//
// Thread-safety: Apply() is const and may run on many reader threads at once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/job_config.h"
#include "connectors/api.h"
#include "core/batch.h"

namespace sluice::transforms {

class Projection {
 public:
  /// Checks every input column exists in `input` and builds the output schema. A primary key
  /// survives when all its columns are kept (uncast or cast).
  static Result<Projection> Make(const config::TransformConfig& config, const SchemaPtr& input,
                                 std::string stream_name);
  /// The columns of `input` without its metadata columns (Field::metadata): what reaches the
  /// sink when the job has no transform. A metadata column the transform selects by name (Make)
  /// becomes an ordinary column.
  static Result<Projection> WithoutMetadata(const SchemaPtr& input, std::string stream_name);

  const SchemaPtr& output_schema() const { return output_; }

  /// Appends the projected rows of `in` to `out` (which has output_schema()). Rows whose cast
  /// fails go to `bad_records`, located by stream, the input's key and the output column; an
  /// error from it stops and is returned.
  Status Apply(const Batch& in, Batch* out, connectors::BadRecordHandler* bad_records) const;

 private:
  struct Step {
    int input = 0;
    bool cast = false;
  };
  SchemaPtr input_;
  SchemaPtr output_;
  std::vector<Step> steps_;
  std::vector<std::string> input_names_;  // by input column, for bad-record locations
  std::string stream_name_;
};

}  // namespace sluice::transforms
