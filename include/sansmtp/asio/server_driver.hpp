// sansmtp::drivers::server_driver: an SMTP listener on standalone Asio and
// OpenSSL around the sans-IO sansmtp::server. This file and
// server_driver.cpp are the embedding example the README points to: the
// driver owns sockets, timers and TLS; your server_handler owns every reply.
//
//   ```cpp
//   struct accept_all : sansmtp::drivers::server_handler {
//     void on_connect(sansmtp::server& s) override { (void)s.send(220, "mx.example ESMTP"); }
//     void on_event(sansmtp::server&, const sansmtp::server_event_t&) override {
//       // answer each event as in the example at the top of sansmtp/session/server.hpp
//     }
//   };
//   void serve() {
//     asio::io_context io;
//     sansmtp::drivers::server_driver driver(io, {}, [](const sansmtp::drivers::peer_info&) {
//       return std::make_unique<accept_all>();
//     });
//     // listen() fails when the port is taken, say: [[nodiscard]].
//     if (const auto ec = driver.listen({asio::ip::make_address("127.0.0.1"), 2525})) return;
//     io.run();
//   }
//   ```
//
// Each TCP connection runs one sansmtp::server with the canonical loop of
// docs/design.md: read only while wants_read() (backpressure), at most
// receive_capacity() octets; hand every event to the handler; write
// pending_output() and consume_output(n) until it is empty (partial writes
// included); arm a timer from timeout() and call on_timeout() when it fires;
// on paused{tls_handshake} run the TLS handshake on the same socket and call
// tls_established(). One operation is in flight per connection at a time
// (read, write or handshake), so the session's output buffer never moves
// under a write. Connections run on strands: io_context::run() may be called
// from any number of threads.
#pragma once

#include <sansmtp/asio/ip_network.hpp>
#include <sansmtp/asio/tls_server.hpp>

#include <sansmtp/session/server.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sansmtp::drivers {

// The other end of a connection.
struct peer_info {
  std::string address;  // numeric: "127.0.0.1", "::1"
  std::uint16_t port = 0;
};

// How a connection ended (the handler's on_close), failure or not. When it
// was a driver-level failure, the handler's on_error got the details just
// before, as a driver_error (sansmtp/asio/common.hpp), the shape the client
// driver reports too: io_error is step read or write, tls_failed step tls,
// starttls_injection step starttls, handler_failed step handler, and a
// timeout of the driver's own (a write, the handshake) step write or tls.
enum class close_reason : std::uint8_t {
  session_closed,      // the session ended (QUIT, a 421, a fatal error) and its output was written
  peer_closed,         // the peer closed or reset the connection
  io_error,            // a read or write failed
  timeout,             // RFC 5321 §4.5.3.2: the peer was too slow; 421 4.4.2 sent when possible
  tls_failed,          // the STARTTLS handshake failed
  starttls_injection,  // plaintext after STARTTLS under the reject policy (CVE-2011-0411)
  shutdown,            // the grace period of a shutdown ran out: 421 4.3.2 (RFC 5321 §3.8)
  handler_failed,      // the handler threw, or left an event unanswered (the peer got 421 4.3.0)
  limit,               // a session limit ran out (max_session_time, min_data_rate): 421 4.4.2 sent
};
[[nodiscard]] std::string_view close_reason_name(close_reason why) noexcept;

// Why a connection was refused at accept (server_driver_options::on_refused).
enum class refusal : std::uint8_t {
  max_sessions,     // over max_sessions: greeted with 421 4.3.2 and closed
  untrusted_proxy,  // PROXY protocol on, and the peer is not in proxy_from: closed unread and ungreeted
  max_per_address,  // over max_sessions_per_address: greeted with 421 4.7.0 and closed
  connection_rate,  // over max_connection_rate: greeted with 421 4.7.0 and closed
};
// "max_sessions", "untrusted_proxy", "max_per_address", "connection_rate"
[[nodiscard]] std::string_view refusal_name(refusal why) noexcept;

class server_connection;

// A reply that a handler gives later, from server_handler::defer(): for
// slow work (a password hash, a delay after a failed AUTH) done off the
// connection's strand, so that the I/O thread goes on serving the other
// connections. Until complete(), the connection keeps the reply owed: it
// reads nothing, hands out no event and arms no timer (the work must be
// bounded). Move-only; dropped without complete(), the reply is answered
// 421 4.3.0 as an unanswered event is. It keeps the connection and its
// handler alive and io_context::run() from returning.
class deferred_reply {
 public:
  deferred_reply() = default;
  deferred_reply(deferred_reply&& other) noexcept = default;
  deferred_reply& operator=(deferred_reply&& other) noexcept;
  deferred_reply(const deferred_reply&) = delete;
  deferred_reply& operator=(const deferred_reply&) = delete;
  ~deferred_reply();

  // False outside a driver (defer() called with no connection).
  explicit operator bool() const noexcept { return connection_ != nullptr; }
  // From any thread, once: `answer` runs on the connection's strand with its
  // session (it sends the owed reply), then the loop resumes. When the
  // connection was closed meanwhile (a shutdown's grace period ran out),
  // `answer` is not called.
  void complete(std::function<void(sansmtp::server&)> answer);
  // The connection's strand (for a timer that calls complete()).
  asio::any_io_executor executor() const;

 private:
  friend class server_connection;
  explicit deferred_reply(std::shared_ptr<server_connection> connection);
  std::shared_ptr<server_connection> connection_;
  asio::any_io_executor work_;  // outstanding work: run() waits for the reply
};

// The application: one object per connection, called on that connection's
// strand only (never concurrently with itself). Answer every event inside
// the call with session.send()/send_ehlo_reply(), or call defer() and
// answer through the deferred_reply later: the driver reads no more until
// the session's reply queue is empty, and an event left unanswered (or an
// exception out of a handler) is answered by the driver with 421 4.3.0,
// and the connection closed.
class server_handler {
 public:
  virtual ~server_handler() = default;
  // The connection is up: send the greeting (220; or 554 to refuse, RFC
  // 5321 §3.1). Behind a proxy (session.proxy_protocol), once the PROXY
  // header was read: on_event(proxied) comes first, with the client's
  // address, and a connection whose header is missing or broken is closed
  // without on_connect.
  virtual void on_connect(sansmtp::server& session) = 0;
  // Every event but need_data and paused. The event's views are valid
  // during the call only.
  virtual void on_event(sansmtp::server& session, const sansmtp::server_event_t& event) = 0;
  // The STARTTLS handshake succeeded and the session was reset (RFC 3207
  // §4.2): the client must EHLO again.
  virtual void on_tls(sansmtp::server& session, const tls_info& tls) {
    (void)session;
    (void)tls;
  }
  // The driver itself answered the peer, not the handler (the reply is
  // queued): 421 4.3.2 when the grace period of a shutdown runs out (RFC
  // 5321 §3.8; new work before that is the session's bad_command
  // {shutting_down}, answered by the handler), 421 4.4.2 when the
  // command timeout runs out (§4.5.3.2.7), 421 4.3.0 when the handler
  // failed. For the application's log; the session is closing. (A
  // connection refused over max_sessions has no handler: see on_refused.)
  virtual void on_driver_reply(sansmtp::server& session, int code, std::string_view text) {
    (void)session;
    (void)code;
    (void)text;
  }
  // The connection ends on a driver-level failure (a read or write error, a
  // write that made no progress within write_timeout, a TLS handshake that
  // failed or timed out, plaintext injected after STARTTLS, the handler
  // failing): what and where, as client_handler::on_error gets it. At most
  // once, right before on_close. A peer that closes, a shutdown and the
  // session's own timeout (421 4.4.2, see on_driver_reply) are not failures
  // of the driver: on_close alone says so.
  virtual void on_error(const driver_error& error) { (void)error; }
  // The connection is closed; the last call. Clean up here (a message being
  // received when the peer vanished, say).
  virtual void on_close(close_reason why) { (void)why; }

 protected:
  // Inside on_event only: the event's reply will be given later through
  // the returned object (see deferred_reply). An empty deferred_reply when
  // the handler is not run by a server_connection (answer at once then).
  [[nodiscard]] deferred_reply defer();

 private:
  friend class server_connection;
  server_connection* connection_ = nullptr;  // set by the connection that runs the handler
};

struct server_driver_options {
  // The options of each session. `starttls` is forced to whether a TLS
  // context was given. With `implicit_tls` (RFC 8314 §3, port 465) every
  // connection starts with the TLS handshake (tls_handshake_timeout), then
  // on_tls, then on_connect; STARTTLS is not offered, and a connection over
  // max_sessions is closed without a greeting.
  sansmtp::server_options session;
  // Concurrent sessions; a connection beyond them is greeted with
  // 421 4.3.2 and closed (RFC 5321 §3.1, §3.8). 0 = no limit.
  std::size_t max_sessions = 0;
  // Against one client taking every session: concurrent sessions from one
  // address (an IPv4-mapped IPv6 address counts as its IPv4 address), and
  // new connections from one address per interval (every connection
  // counts, refused ones included). Beyond either, the connection is
  // greeted with 421 4.7.0 before any other work and closed. 0 = no limit.
  // Postfix's smtpd_client_connection_count_limit (50) and
  // smtpd_client_connection_rate_limit (per anvil_rate_time_unit) are the
  // same pair.
  std::size_t max_sessions_per_address = 0;
  struct connection_rate {
    std::size_t connections = 0;
    std::chrono::seconds interval{1};
  } max_connection_rate;
  // A write that makes no progress for this long ends the connection (the
  // peer stopped reading; RFC 5321 §4.5.3.2 sets no figure for the
  // server). 0 = no limit.
  std::chrono::seconds write_timeout{300};
  // The STARTTLS handshake (RFC 3207 names none; the command timeout's
  // order of magnitude). 0 = no limit.
  std::chrono::seconds tls_handshake_timeout{60};
  // After the last reply: how long to read and drop what the peer still
  // sends before closing, so that the close is a FIN and not a RST that
  // could destroy the last reply in flight. It also bounds the wait for a
  // stuck write once the grace period of a shutdown is over. 0 = close at
  // once.
  std::chrono::seconds linger{2};
  // Octets asked of one read (capped by receive_capacity()).
  std::size_t read_size = 64 * 1024;
  // With session.proxy_protocol: the peers whose PROXY header is believed
  // (proxy-protocol.txt section 5: a header from anyone else could claim
  // any address). A connection from any other address is closed at once,
  // unread and without a greeting (refusal::untrusted_proxy). Empty:
  // loopback only (127.0.0.0/8 and ::1).
  std::vector<ip_network> proxy_from;
  // Called (on the listener's strand) for a connection refused at accept,
  // with the reason (refusal).
  std::function<void(const peer_info&, refusal)> on_refused;
  // Called once after shutdown() when the last connection closed.
  std::function<void()> on_drained;
};

class server_driver {
 public:
  // Makes the handler for a new connection.
  using handler_factory = std::function<std::unique_ptr<server_handler>(const peer_info&)>;

  // `tls` (optional) is the STARTTLS context; it must outlive the driver and
  // every connection (the io_context's run()).
  server_driver(asio::io_context& io, server_driver_options options, handler_factory factory,
                asio::ssl::context* tls = nullptr);
  ~server_driver();
  server_driver(const server_driver&) = delete;
  server_driver& operator=(const server_driver&) = delete;

  // Binds, listens and starts accepting. Once per driver, before anything
  // else is called on it. invalid_argument: session.implicit_tls without a
  // TLS context, or with session.proxy_protocol (not supported together).
  [[nodiscard]] std::error_code listen(const asio::ip::tcp::endpoint& at);
  // Where it listens (the real port after binding port 0).
  asio::ip::tcp::endpoint local_endpoint() const;

  // Graceful shutdown (RFC 5321 §3.8): stop accepting; sessions go on until
  // `grace` has passed, except that a command starting new work (EHLO,
  // HELO, LHLO, MAIL, STARTTLS, AUTH) is refused by the session
  // (server::drain(): a bad_command{shutting_down} suggesting 421 4.3.2,
  // which the handler sends); then every
  // remaining session gets 421 4.3.2 and is closed. A second call may
  // shorten the grace. Thread-safe.
  void shutdown(std::chrono::steady_clock::duration grace);

  // Sessions open now (refused connections not counted). Thread-safe.
  std::size_t sessions() const;

  struct state;  // shared with the connections

 private:
  std::shared_ptr<state> state_;
};

}  // namespace sansmtp::drivers
