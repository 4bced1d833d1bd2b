// serve's --auth-users FILE: who may AUTH (RFC 4954), as salted scrypt
// hashes (RFC 7914, OpenSSL 3's EVP_KDF "SCRYPT"). One user a line:
//
//   USER:$scrypt$N$r$p$SALT$HASH
//
// N (CPU/memory cost, a power of two), r (block size) and p
// (parallelism) in decimal; SALT and HASH in base64 (RFC 4648). `sansmtp
// passwd USER` writes such a line (N=16384, r=8, p=1: 16 MiB and some tens
// of milliseconds per check; 16-octet random salt; 32-octet hash). Empty
// lines and lines starting with '#' are skipped. USER is any non-empty
// text without ':' or control characters (compared octet for octet).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::cli {

struct scrypt_params {
  std::uint64_t n = 16384;
  std::uint32_t r = 8;
  std::uint32_t p = 1;
};

struct password_hash {
  scrypt_params params;
  std::string salt;
  std::string hash;
};

// A new hash of `password` with a fresh random salt; nullopt when OpenSSL
// fails.
std::optional<password_hash> hash_password(std::string_view password, const scrypt_params& params = {});
// "$scrypt$N$r$p$SALT$HASH".
std::string format_password_hash(const password_hash& h);
// The inverse; nullopt and `error` set when `text` is not one.
std::optional<password_hash> parse_password_hash(std::string_view text, std::string& error);
// A user name the file can hold.
bool valid_user_name(std::string_view user);

class auth_users {
 public:
  // Reads FILE; nullopt and `error` set (with the line number) when it
  // cannot be read or a line is malformed.
  static std::optional<auth_users> load(const std::string& path, std::string& error);

  // Whether `password` is `user`'s. Takes as long for an unknown user as for
  // a known one (a hash is computed either way), and compares in constant
  // time (CRYPTO_memcmp).
  bool verify(std::string_view user, std::string_view password) const;
  std::size_t size() const { return users_.size(); }

 private:
  struct entry {
    std::string user;
    password_hash hash;
  };
  std::vector<entry> users_;
};

}  // namespace sansmtp::cli
