// Server TLS contexts for STARTTLS (RFC 3207) with OpenSSL 3.
#include <sansmtp/asio/tls_server.hpp>

#include <asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>  // EVP_EC_gen expands to strstr
#include <memory>

namespace sansmtp::drivers {
namespace {

template <typename T, void (*free_fn)(T*)>
struct openssl_deleter {
  void operator()(T* p) const noexcept { free_fn(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509, X509_free>>;
using names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;

// `what` failed: the error with OpenSSL's most recent one (its code, and its
// text after `what`), and the queue cleared.
driver_error openssl_failure(std::string what) {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  driver_error error{driver_step::tls, {}, std::move(what)};
  if (code == 0) {
    error.message += ": unknown OpenSSL error";
    return error;
  }
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  error.code = std::error_code(static_cast<int>(code), asio::error::get_ssl_category());
  error.message += ": ";
  error.message += text;
  return error;
}

// The settings every server context shares.
driver_result<asio::ssl::context> base_context() {
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  // TLS 1.2 or later (RFC 8996, RFC 8314 §4.1); no compression (CRIME);
  // the server's cipher preference.
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1)
    return openssl_failure("cannot require TLS 1.2");
  SSL_CTX_set_options(ctx.native_handle(), SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                               SSL_OP_NO_RENEGOTIATION);
  return ctx;
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// subjectAltName DNS:hostname, built as a structure: formatting it into a
// config string ("DNS:" + name) would let a comma in the name add entries.
bool add_dns_name(X509* cert, std::string_view hostname) {
  names_ptr names(sk_GENERAL_NAME_new_null());
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  if (!names || !name || !text ||
      ASN1_STRING_set(text, hostname.data(), static_cast<int>(hostname.size())) != 1) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(text);
    return false;
  }
  GENERAL_NAME_set0_value(name, GEN_DNS, text);
  if (sk_GENERAL_NAME_push(names.get(), name) == 0) {
    GENERAL_NAME_free(name);
    return false;
  }
  return X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1;
}

x509_ptr self_signed_certificate(EVP_PKEY* key, std::string_view hostname) {
  x509_ptr cert(X509_new());
  if (!cert) return nullptr;
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return nullptr;
  serial[0] &= 0x7f;  // RFC 5280 §4.1.2.2: a positive integer, at most 20 octets
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  const bool serial_ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const bool ok =
      serial_ok && X509_set_version(cert.get(), 2) == 1 &&  // v3
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600) &&
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(hostname.data()),
                                 static_cast<int>(hostname.size()), -1, 0) == 1 &&
      X509_set_issuer_name(cert.get(), subject) == 1 && X509_set_pubkey(cert.get(), key) == 1 &&
      add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
      add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") &&
      add_extension(cert.get(), NID_ext_key_usage, "serverAuth") && add_dns_name(cert.get(), hostname) &&
      X509_sign(cert.get(), key, EVP_sha256()) > 0;
  if (!ok) return nullptr;
  return cert;
}

// OpenSSL's pem_password_cb: the pass phrase given, or a failure; never
// OpenSSL's default, which prompts on the terminal.
struct pass_phrase {
  const std::optional<std::string>* given = nullptr;
  bool asked = false;
};

int give_pass_phrase(char* buf, int size, int /*rwflag*/, void* userdata) {
  auto* p = static_cast<pass_phrase*>(userdata);
  if (!p) return -1;
  p->asked = true;
  if (!p->given || !*p->given) return -1;
  const auto& text = **p->given;
  if (size < 0 || text.size() > static_cast<std::size_t>(size)) return -1;
  std::memcpy(buf, text.data(), text.size());
  return static_cast<int>(text.size());
}

}  // namespace

driver_result<asio::ssl::context> make_tls_context(const std::string& certificate_chain_file,
                                                   const std::string& private_key_file,
                                                   const std::optional<std::string>& key_password) {
  auto ctx = base_context();
  if (!ctx) return ctx;
  pass_phrase phrase{&key_password, false};
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_default_passwd_cb(native, give_pass_phrase);
  SSL_CTX_set_default_passwd_cb_userdata(native, &phrase);
  // `phrase` lives on this stack: whatever the way out, the context keeps a
  // callback that refuses and no pointer to it.
  struct forget {
    SSL_CTX* handle;
    ~forget() { SSL_CTX_set_default_passwd_cb_userdata(handle, nullptr); }
  } forget_phrase{native};
  if (SSL_CTX_use_certificate_chain_file(native, certificate_chain_file.c_str()) != 1)
    return openssl_failure("cannot load the certificate chain " + certificate_chain_file);
  phrase.asked = false;
  if (SSL_CTX_use_PrivateKey_file(native, private_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (phrase.asked && !key_password) {
      ERR_clear_error();
      std::string why = "the private key " + private_key_file + " is encrypted and no pass phrase was given";
      return driver_error{driver_step::tls, {}, std::move(why)};
    }
    if (phrase.asked)
      return openssl_failure("cannot decrypt the private key " + private_key_file + " (wrong pass phrase?)");
    return openssl_failure("cannot load the private key " + private_key_file);
  }
  if (SSL_CTX_check_private_key(native) != 1)
    return openssl_failure("the private key " + private_key_file + " does not match the certificate");
  return ctx;
}

driver_result<asio::ssl::context> make_self_signed_tls_context(std::string_view hostname) {
  if (hostname.empty() || hostname.size() > 64)  // RFC 5280 ub-common-name: 64
    return driver_error{driver_step::tls, std::make_error_code(std::errc::invalid_argument),
                        "a self-signed certificate needs a host name of 1 to 64 octets"};
  auto ctx = base_context();
  if (!ctx) return ctx;
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) return openssl_failure("cannot make an EC P-256 key");
  const auto cert = self_signed_certificate(key.get(), hostname);
  if (!cert) return openssl_failure("cannot make a self-signed certificate");
  if (SSL_CTX_use_certificate(ctx->native_handle(), cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx->native_handle(), key.get()) != 1)
    return openssl_failure("cannot use the self-signed certificate");
  return ctx;
}

}  // namespace sansmtp::drivers
