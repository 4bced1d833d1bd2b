// What the Asio drivers share: one shape for a driver-level failure
// (driver_error: where, the system's or OpenSSL's error code when there is
// one, and a message for a human), one result type for the functions that
// make something or fail (driver_result), and what a TLS handshake agreed on
// (tls_info; the client's tls_peer_info adds the server's certificate).
//
// A driver_error is never an SMTP reply: replies, fatal_error and
// peer_closed are the sessions' events. It is what the driver itself could
// not do: resolve, connect, read, write, set up or finish TLS, ...
//   - client_driver: client_handler::on_error, once per failure;
//   - server_driver: server_handler::on_error, once, just before on_close
//     (whose close_reason says how the connection ended, failure or not);
//   - make_tls_context, make_self_signed_tls_context (tls_server.hpp) and
//     make_client_tls_context (tls_client.hpp) return the context or the
//     driver_error, as a driver_result.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace sansmtp::drivers {

// Where a driver-level failure happened.
enum class driver_step : std::uint8_t {
  resolve,   // client: the host name did not resolve; gather_ehlo_facts: the resolver could not start
  connect,   // client: no TCP connection (refused, or not within connect_timeout)
  tls,       // both: a TLS context, the per-connection set-up, or the handshake (or its timeout)
  starttls,  // both: plaintext injected after STARTTLS (RFC 3207 §5); client: STARTTLS refused or not offered
  hello,     // client: the EHLO could not be sent
  read,      // both: a read failed (a peer too slow for the session's timeout is a session event)
  write,     // both: a write failed; server: also a write that made no progress within write_timeout
  source,    // client: the message source failed while the message was being sent
  handler,   // server: the handler threw, or left an event unanswered (the peer got 421 4.3.0)
};
[[nodiscard]] std::string_view driver_step_name(driver_step s) noexcept;  // "resolve", "connect", ...

struct driver_error {
  driver_step step = driver_step::connect;
  std::error_code code;  // the system's, Asio's, OpenSSL's or the session's error; empty when there is none
  std::string message;   // for a human; names the host, the file or the reason
};

// A value or the driver_error that prevented it (std::expected's shape, in C++20).
template <typename T>
class [[nodiscard]] driver_result {
 public:
  driver_result(T value) : value_(std::move(value)) {}             // NOLINT(google-explicit-constructor)
  driver_result(driver_error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return value_.has_value(); }

  // Only when has_value().
  [[nodiscard]] T& value() & { return *value_; }
  [[nodiscard]] const T& value() const& { return *value_; }
  [[nodiscard]] T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

  // Only when !has_value().
  [[nodiscard]] const driver_error& error() const& noexcept { return error_; }
  [[nodiscard]] driver_error&& error() && noexcept { return std::move(error_); }

 private:
  std::optional<T> value_;
  driver_error error_;
};

// What a finished TLS handshake agreed on, in both roles.
struct tls_info {
  std::string protocol;  // "TLSv1.3"
  std::string cipher;    // "TLS_AES_256_GCM_SHA384"
};
[[nodiscard]] tls_info describe_tls(const SSL* ssl);

}  // namespace sansmtp::drivers
