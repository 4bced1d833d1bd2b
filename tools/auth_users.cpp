#include "auth_users.hpp"

#include <sansmtp/core/base64.hpp>
#include <sansmtp/session/server.hpp>  // decode_base64, encode_base64

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <charconv>
#include <fstream>
#include <memory>

namespace sansmtp::cli {
namespace {

constexpr std::size_t salt_size = 16;
constexpr std::size_t hash_size = 32;
// Refuse parameters that would make one check take over 256 MiB
// (128 * N * r octets, RFC 7914 §6) or effectively forever.
constexpr std::uint64_t max_memory = 256ull * 1024 * 1024;

bool scrypt(std::string_view password, const std::string& salt, const scrypt_params& sp, unsigned char* out,
            std::size_t out_size) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr), EVP_KDF_free);
  if (!kdf) return false;
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()), EVP_KDF_CTX_free);
  if (!ctx) return false;
  std::uint64_t n = sp.n;
  std::uint32_t r = sp.r, p = sp.p;
  std::uint64_t maxmem = max_memory + 1024 * 1024;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  return EVP_KDF_derive(ctx.get(), out, out_size, params) == 1;
}

bool valid_params(const scrypt_params& p) {
  const bool power_of_two = p.n > 1 && (p.n & (p.n - 1)) == 0;
  return power_of_two && p.r >= 1 && p.p >= 1 && p.p <= 16 && p.n <= max_memory / 128 / p.r;
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

bool valid_user_name(std::string_view user) {
  if (user.empty()) return false;
  for (const unsigned char c : user)
    if (c == ':' || c < 0x20 || c == 0x7f) return false;
  return true;
}

std::optional<password_hash> hash_password(std::string_view password, const scrypt_params& params) {
  password_hash h;
  h.params = params;
  h.salt.resize(salt_size);
  h.hash.resize(hash_size);
  if (!valid_params(params) || RAND_bytes(reinterpret_cast<unsigned char*>(h.salt.data()), salt_size) != 1 ||
      !scrypt(password, h.salt, params, reinterpret_cast<unsigned char*>(h.hash.data()), hash_size))
    return std::nullopt;
  return h;
}

std::string format_password_hash(const password_hash& h) {
  return fmt::format("$scrypt${}${}${}${}${}", h.params.n, h.params.r, h.params.p, encode_base64(h.salt),
                     encode_base64(h.hash));
}

std::optional<password_hash> parse_password_hash(std::string_view text, std::string& error) {
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const auto dollar = text.find('$', start);
    fields.push_back(text.substr(start, dollar == text.npos ? text.npos : dollar - start));
    if (dollar == text.npos) break;
    start = dollar + 1;
  }
  // "", "scrypt", N, r, p, salt, hash
  if (fields.size() != 7 || !fields[0].empty() || fields[1] != "scrypt") {
    error = "not $scrypt$N$r$p$SALT$HASH";
    return std::nullopt;
  }
  password_hash h;
  if (!parse_number(fields[2], h.params.n) || !parse_number(fields[3], h.params.r) ||
      !parse_number(fields[4], h.params.p) || !valid_params(h.params)) {
    error = "scrypt parameters out of range (N a power of two, r >= 1, 1 <= p <= 16, 128*N*r <= 256 MiB)";
    return std::nullopt;
  }
  auto salt = decode_base64(fields[5]);
  auto hash = decode_base64(fields[6]);
  if (!salt || salt->empty() || !hash || hash->size() < 16 || hash->size() > 64) {
    error = "the salt or the hash is not base64 of a sensible length";
    return std::nullopt;
  }
  h.salt = std::move(*salt);
  h.hash = std::move(*hash);
  return h;
}

std::optional<auth_users> auth_users::load(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  auth_users users;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    const auto colon = line.find(':');
    const auto user = std::string_view(line).substr(0, colon == line.npos ? 0 : colon);
    std::string why;
    if (colon == line.npos || !valid_user_name(user)) {
      error = fmt::format("{} line {}: not USER:$scrypt$...", path, number);
      return std::nullopt;
    }
    auto hash = parse_password_hash(std::string_view(line).substr(colon + 1), why);
    if (!hash) {
      error = fmt::format("{} line {}: {}", path, number, why);
      return std::nullopt;
    }
    users.users_.push_back({std::string(user), std::move(*hash)});
  }
  if (users.users_.empty()) {
    error = path + ": no users";
    return std::nullopt;
  }
  return users;
}

bool auth_users::verify(std::string_view user, std::string_view password) const {
  const entry* found = nullptr;
  for (const auto& e : users_)
    if (e.user == user) found = &e;
  // An unknown user costs a hash with the first user's parameters too, so
  // timing does not tell which user names exist.
  const auto& h = found ? found->hash : users_.front().hash;
  std::string derived(h.hash.size(), '\0');
  const bool ok = scrypt(password, h.salt, h.params, reinterpret_cast<unsigned char*>(derived.data()), derived.size());
  const bool same = CRYPTO_memcmp(derived.data(), h.hash.data(), h.hash.size()) == 0;
  return found && ok && same;
}

}  // namespace sansmtp::cli
