#include "server/secret_box.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include <fmt/core.h>

namespace sluice::server {

namespace {

constexpr std::string_view kPrefix = "sv1:";
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

struct CipherContextFree {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextFree>;

std::string Base64(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data,
                                      static_cast<int>(size));
  out.resize(static_cast<size_t>(written));
  return out;
}

Result<std::vector<unsigned char>> Unbase64(std::string_view text) {
  if (text.size() % 4 != 0)
    return DataError("a sealed value is not base64");
  std::vector<unsigned char> out(text.size() / 4 * 3);
  const int written =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                      static_cast<int>(text.size()));
  if (written < 0)
    return DataError("a sealed value is not base64");
  size_t size = static_cast<size_t>(written);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i)
    --size;
  out.resize(size);
  return out;
}

Result<std::array<unsigned char, 32>> ParseHexKey(std::string_view hex) {
  std::array<unsigned char, 32> key{};
  if (hex.size() != 64)
    return InvalidConfig("SLUICE_SERVER_KEY must be 64 hex digits (32 bytes)");
  for (size_t i = 0; i < 32; ++i) {
    auto digit = [](char c) -> int {
      if (c >= '0' && c <= '9')
        return c - '0';
      if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
      if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
      return -1;
    };
    const int high = digit(hex[2 * i]);
    const int low = digit(hex[2 * i + 1]);
    if (high < 0 || low < 0)
      return InvalidConfig("SLUICE_SERVER_KEY must be 64 hex digits (32 bytes)");
    key[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return key;
}

}  // namespace

Result<SecretBox> SecretBox::Load(const std::string& key_path) {
  if (const char* env = std::getenv("SLUICE_SERVER_KEY"); env != nullptr && *env != '\0') {
    SLUICE_ASSIGN_OR_RETURN(auto key, ParseHexKey(env));
    return SecretBox(key);
  }
  std::array<unsigned char, 32> key{};
  std::ifstream in(key_path, std::ios::binary);
  if (in) {
    in.read(reinterpret_cast<char*>(key.data()), key.size());
    if (in.gcount() != static_cast<std::streamsize>(key.size()))
      return DataError(fmt::format("the server key file '{}' is not 32 bytes", key_path));
    return SecretBox(key);
  }
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
    return Internal("no random bytes for the server key");
  // O_EXCL: two servers starting on one folder never write two different keys.
  const int fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return ErrnoStatus("Cannot create the server key file", key_path, errno);
  const ssize_t written = ::write(fd, key.data(), key.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (written != static_cast<ssize_t>(key.size()) || !synced)
    return IoError(fmt::format("cannot write the server key file '{}'", key_path));
  return SecretBox(key);
}

Result<std::string> SecretBox::Seal(std::string_view plaintext) const {
  std::vector<unsigned char> out(kNonceBytes + plaintext.size() + kTagBytes);
  if (RAND_bytes(out.data(), kNonceBytes) != 1)
    return Internal("no random bytes for a nonce");
  CipherContext context(EVP_CIPHER_CTX_new());
  int length = 0;
  if (!context ||
      EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key_.data(), out.data()) != 1 ||
      EVP_EncryptUpdate(context.get(), out.data() + kNonceBytes, &length,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(context.get(), out.data() + kNonceBytes + length, &length) != 1 ||
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          out.data() + kNonceBytes + plaintext.size()) != 1) {
    return Internal("sealing a value failed");
  }
  return std::string(kPrefix) + Base64(out.data(), out.size());
}

Result<std::string> SecretBox::Open(std::string_view sealed) const {
  if (sealed.substr(0, kPrefix.size()) != kPrefix)
    return DataError("a stored value is not sealed");
  SLUICE_ASSIGN_OR_RETURN(std::vector<unsigned char> bytes,
                          Unbase64(sealed.substr(kPrefix.size())));
  if (bytes.size() < kNonceBytes + kTagBytes)
    return DataError("a sealed value is too short");
  const size_t text_size = bytes.size() - kNonceBytes - kTagBytes;
  std::string plaintext(text_size, '\0');
  CipherContext context(EVP_CIPHER_CTX_new());
  int length = 0;
  if (!context ||
      EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key_.data(), bytes.data()) !=
          1 ||
      EVP_DecryptUpdate(context.get(), reinterpret_cast<unsigned char*>(plaintext.data()),
                        &length, bytes.data() + kNonceBytes, static_cast<int>(text_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                          bytes.data() + kNonceBytes + text_size) != 1 ||
      EVP_DecryptFinal_ex(context.get(), reinterpret_cast<unsigned char*>(plaintext.data()) + length,
                          &length) != 1) {
    return DataError(
        "a sealed value does not open with this server's key (was the key file replaced?)");
  }
  return plaintext;
}

}  // namespace sluice::server
