#include "server/server_store.h"

namespace sluice::server {

Result<std::unique_ptr<ServerStore>> OpenPostgresServerStore(const std::string&, SecretBox) {
  return Unsupported("a PostgreSQL server store is not built yet; use the SQLite default");
}

}  // namespace sluice::server
