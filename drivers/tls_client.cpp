#include <sansmtp/asio/tls_client.hpp>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <memory>

namespace sansmtp::drivers {
namespace {

bool is_ip_address(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string name_text(X509_NAME* name) {
  if (!name) return {};
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

driver_result<asio::ssl::context> make_client_tls_context(const tls_client_options& options) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  std::error_code ec;
  // TLS 1.2 at least (RFC 8996 retired 1.0 and 1.1).
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  if (options.ca_file.empty())
    context.set_default_verify_paths(ec);
  else
    context.load_verify_file(options.ca_file, ec);
  if (!ec) {
    // In `report` mode OpenSSL still verifies the chain and the name and
    // keeps the verdict (SSL_get_verify_result); it only does not abort on it.
    context.set_verify_mode(
        options.verification == tls_verification::enforce ? asio::ssl::verify_peer : asio::ssl::verify_none,
        ec);
  }
  if (ec)
    return driver_error{driver_step::tls, ec,
                        options.ca_file.empty()
                            ? "cannot load the system's trusted certificates: " + ec.message()
                            : "cannot load the CA file " + options.ca_file + ": " + ec.message()};
  return context;
}

std::error_code prepare_tls_connection(SSL* ssl, std::string_view server_host) {
  const std::string host(server_host);
  const auto failed = [] { return std::error_code(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category()); };
  if (is_ip_address(host)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) return failed();
    return {};
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return failed();
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, host.c_str()) != 1) return failed();
  return {};
}

tls_peer_info describe_tls_peer(SSL* ssl) {
  tls_peer_info info;
  static_cast<tls_info&>(info) = describe_tls(ssl);
  if (X509* cert = SSL_get1_peer_certificate(ssl)) {
    info.subject = name_text(X509_get_subject_name(cert));
    info.issuer = name_text(X509_get_issuer_name(cert));
    X509_free(cert);
    const long result = SSL_get_verify_result(ssl);
    info.verified = result == X509_V_OK;
    info.verify_result = result == X509_V_OK ? "ok" : X509_verify_cert_error_string(result);
  } else {
    info.verify_result = "the server sent no certificate";
  }
  return info;
}

std::string tls_failure_text(SSL* ssl, const std::error_code& handshake_error) {
  std::string text = handshake_error.message();
  const long result = SSL_get_verify_result(ssl);
  if (result != X509_V_OK)
    text += std::string(" (certificate: ") + X509_verify_cert_error_string(result) + ")";
  return text;
}

}  // namespace sansmtp::drivers
