// SHA-256 of a stream (OpenSSL libcrypto), for the CLI's JSON reports.
#pragma once

#include <fmt/format.h>
#include <openssl/evp.h>

#include <memory>
#include <span>
#include <string>

namespace sansmtp::cli {

class sha256 {
 public:
  sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void update(std::span<const char> bytes) { EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()); }
  // The digest in lower-case hex; once per object.
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &n);
    std::string out;
    for (unsigned i = 0; i < n; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

}  // namespace sansmtp::cli
