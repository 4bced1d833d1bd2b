// Server-side TLS for the drivers: an asio::ssl::context for STARTTLS (RFC
// 3207) from PEM files or from a certificate made in memory, and what a
// finished handshake negotiated.
//
// Both contexts refuse anything older than TLS 1.2 (RFC 8996 deprecates
// TLS 1.0 and 1.1; RFC 8314 §4.1 asks for TLS 1.2 or later for mail).
#pragma once

#include <sansmtp/asio/common.hpp>

#include <asio/ssl/context.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sansmtp::drivers {

// What the handshake agreed on: tls_info and describe_tls(), in
// sansmtp/asio/common.hpp (the client's tls_peer_info extends it).

// A server context with the certificate chain and key from PEM files, or a
// driver_error (step tls; its message names the file and OpenSSL's reason)
// when either cannot be loaded or the key does not match the certificate.
// An encrypted key is decrypted with `key_password`; without one it is
// refused (OpenSSL is never left to prompt for a pass phrase on the
// terminal: a server must not wait on a prompt nobody sees).
[[nodiscard]] driver_result<asio::ssl::context> make_tls_context(
    const std::string& certificate_chain_file, const std::string& private_key_file,
    const std::optional<std::string>& key_password = std::nullopt);

// A server context with a fresh EC P-256 key and a self-signed X.509 v3
// certificate for `hostname` (subject CN and a subjectAltName DNS entry,
// serverAuth, valid from an hour ago for 30 days), made in memory: for
// development and tests, where clients are told not to verify.
[[nodiscard]] driver_result<asio::ssl::context> make_self_signed_tls_context(std::string_view hostname);

}  // namespace sansmtp::drivers
