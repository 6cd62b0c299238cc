// SecretBox: seals what the server stores about connections and jobs (their options may hold
// passwords) with AES-256-GCM, so that the server's database file holds no secret in the clear.
//
// The key is 32 random bytes in a file of the server's (created with mode 0600 on first start)
// or, for a team that keeps keys elsewhere, 64 hex digits in SLUICE_SERVER_KEY. A sealed value
// is "sv1:" + base64(nonce[12] + ciphertext + tag[16]); a fresh nonce for every seal.
//
// Thread-safety: Seal and Open may be called from any thread.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sluice::server {

class SecretBox {
 public:
  /// Reads the key from SLUICE_SERVER_KEY, else from `key_path`, creating that file with a new
  /// random key when it does not exist.
  static Result<SecretBox> Load(const std::string& key_path);
  /// A box with the given key (tests).
  explicit SecretBox(const std::array<unsigned char, 32>& key) : key_(key) {}

  Result<std::string> Seal(std::string_view plaintext) const;
  /// Fails with DataError when the value was not sealed with this key or was changed.
  Result<std::string> Open(std::string_view sealed) const;

 private:
  std::array<unsigned char, 32> key_{};
};

}  // namespace sluice::server
