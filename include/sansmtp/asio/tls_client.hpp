// The client side of STARTTLS (RFC 3207) for the Asio driver: an OpenSSL
// context that verifies the server the way a careful client must (the
// certificate chain against the system store or a given CA file, and the
// host name against the certificate, RFC 6125 via OpenSSL's X509_check_host),
// and what the handshake showed about the server.
//
// Two verification modes: `enforce` (the default) fails the handshake on a
// bad chain or name; `report` completes it anyway and records OpenSSL's
// verdict, for a probe that must show a broken certificate rather than stop
// at it, or for --tls-no-verify.
#pragma once

#include <sansmtp/asio/common.hpp>

#include <asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <string>
#include <string_view>
#include <system_error>

namespace sansmtp::drivers {

enum class tls_verification {
  enforce,  // a chain or host name that does not verify fails the handshake
  report,   // the handshake goes on; tls_peer_info says what failed
};

struct tls_client_options {
  tls_verification verification = tls_verification::enforce;
  // PEM file of trusted CA certificates; empty: the system store
  // (OpenSSL's default verify paths).
  std::string ca_file;
};

// What the handshake showed: what it agreed on (tls_info: protocol and
// cipher, as the server driver reports them) and the server's certificate.
struct tls_peer_info : tls_info {
  std::string subject;        // the server certificate's subject, RFC 2253 ("CN=localhost")
  std::string issuer;         // its issuer, the same way
  bool verified = false;      // chain and host name both verified
  std::string verify_result;  // "ok", or OpenSSL's reason ("self-signed certificate", ...)
};

// The context for every connection of a driver (TLS 1.2 or later), or a
// driver_error (step tls) naming the CA file or the system store. A CA file
// that cannot be read is an error (never a silent fall-back to the system
// store).
[[nodiscard]] driver_result<asio::ssl::context> make_client_tls_context(const tls_client_options& options);

// Per connection, before the handshake: SNI (RFC 6066 §3: a DNS name only,
// never an address literal) and the name the certificate must carry (a DNS
// name or an IP address).
[[nodiscard]] std::error_code prepare_tls_connection(SSL* ssl, std::string_view server_host);

// After the handshake (or after it failed: then the verify result says why).
[[nodiscard]] tls_peer_info describe_tls_peer(SSL* ssl);

// OpenSSL's reason for a failed handshake, with the certificate's verify
// result when the chain or name is what failed.
[[nodiscard]] std::string tls_failure_text(SSL* ssl, const std::error_code& handshake_error);

}  // namespace sansmtp::drivers
