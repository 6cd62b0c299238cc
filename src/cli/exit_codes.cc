#include "cli/exit_codes.h"

namespace sluice::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidConfig:
    case StatusCode::kUnsupported:
      return kExitConfig;
    case StatusCode::kNotFound:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnavailable:
    case StatusCode::kAborted:
    case StatusCode::kIoError:
      return kExitConnection;
    case StatusCode::kDataError:
      return kExitData;
    case StatusCode::kCancelled:
      return kExitInterrupted;
    case StatusCode::kConflict:
      return kExitConflict;
    case StatusCode::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace sluice::cli
