// A sansmtp::client on a real network: standalone Asio over TCP, with
// STARTTLS through asio::ssl (OpenSSL). This file is also the embedding
// example for the client role: everything the core leaves to its host, the
// host does here, and nothing more.
//
// What the driver does (docs/design.md, "the canonical loop"):
//   - connects (resolve HOST, connect to the first address that answers);
//   - reads: every chunk the socket gives goes into client::receive();
//   - pulls events with next_event() until need_data, handing each reply,
//     fatal_error, peer_closed and submitted to the application (handler);
//   - writes pending_output() and consume_output(n) after each partial
//     write, always until it is empty; paused{write_output} (a message being
//     sent) means: write, then pull again;
//   - arms one timer from timeout() (RFC 5321 §4.5.3.2) and calls
//     on_timeout() when it fires;
//   - turns on client_options::open_automatically: the session itself
//     sends EHLO after the greeting (HELO on 500/502), STARTTLS when
//     starttls_wanted() (RFC 3207), a fresh EHLO after tls_established()
//     (RFC 3207 §4.2) and AUTH when client_options::auth is set; on
//     paused{tls_handshake} the driver refuses any trailing_data()
//     (plaintext after the 220 could be injected, RFC 3207 §5), does the
//     TLS handshake over the same socket and calls tls_established().
//     When the opening gives up (TLS required and not to be had, an EHLO
//     name that fails the check) the session's fatal_error reaches the
//     handler as on_error() (driver_step starttls or hello; the message
//     is describe(fatal_error), advice/describe.hpp), as the QUIT the
//     session sent goes out.
// After that the application has the session: handler::on_ready() is called
// whenever nothing is awaited and the opening is done (client::opened()),
// and it sends what it wants (AUTH, submit(), MAIL/RCPT/RSET, QUIT). When it
// sends nothing, the driver QUITs (client::quit()).
//
// One rule makes the partial writes safe: pending_output() is a view into
// the client, valid until its next non-const call. So while a write is in
// flight the driver calls nothing on the client; bytes read meanwhile wait
// in the driver's read buffer until the write completes.
//
// Threads: none of its own. Run the io_context on one thread.
#pragma once

#include <sansmtp/asio/tls_client.hpp>
#include <sansmtp/codec/proxy_header.hpp>

#include <sansmtp/session/client.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <system_error>
#include <vector>

namespace sansmtp::drivers {

struct client_driver_options {
  std::string host;         // a DNS name or an IP address (no brackets)
  std::string port = "25";  // a number or a service name
  // The local address to connect from (an address of this host; empty: the
  // system chooses). On a host with several addresses, the one its mail
  // leaves from is the one receivers check the EHLO name against. With it,
  // only the server's first address of the same family is tried.
  std::string source_address;
  // A PROXY protocol header to send first, as a load balancer would (for
  // testing a server behind one; HAProxy's proxy-protocol.txt): its version
  // and, for the proxy command, the client's address and port to claim.
  // An empty source address is this connection's own, an empty destination
  // the server's; the family follows the addresses. Nothing else is sent
  // before it, and the server's greeting is read after it is written.
  std::optional<proxy_header> proxy;
  // ehlo_name, starttls policy, auth, timeouts, ...; the driver turns
  // open_automatically on (the session does the opening). With
  // implicit_tls (RFC 8314 §3, port 465) the driver does the TLS handshake
  // (with `tls`, verification included) right after connecting, before the
  // greeting is read.
  client_options session;
  tls_client_options tls;
  // Resolving and connecting (RFC 5321 sets no value; the greeting timeout
  // starts once connected).
  std::chrono::seconds connect_timeout{30};
  // The TLS handshake (the session's timeout() is zero then).
  std::chrono::seconds tls_handshake_timeout{120};
  // Octets asked for per read (the client buffers what it is given).
  std::size_t read_size = 64 * 1024;
};

class client_driver;

// The application's side. Every call happens on the io_context's thread,
// between two calls into the client, so the handler may call the client
// (session()) and read event views until it returns.
class client_handler {
 public:
  virtual ~client_handler() = default;
  virtual void on_connected(const asio::ip::tcp::endpoint& /*peer*/) {}
  // Replies (the greeting and EHLO included), fatal_error, peer_closed, submitted.
  virtual void on_event(client_driver& driver, const client_event_t& event) = 0;
  // TLS is up (RFC 3207), before the fresh EHLO.
  virtual void on_tls(const tls_peer_info& /*peer*/) {}
  // Nothing is awaited and the opening (hello, STARTTLS, AUTH) is done:
  // send the next thing.
  virtual void on_ready(client_driver& driver) = 0;
  // A driver-level failure (sansmtp/asio/common.hpp; not an SMTP reply:
  // those are events). Most end the connection; a read error is followed by
  // the session's peer_closed.
  virtual void on_error(const driver_error& error) = 0;
};

class client_driver {
 public:
  client_driver(asio::io_context& io, client_driver_options options, client_handler& handler);
  client_driver(const client_driver&) = delete;
  client_driver& operator=(const client_driver&) = delete;

  // Resolves and connects; everything else follows from the events. Run the
  // io_context until it returns: the connection is then closed.
  void start();

  client& session() noexcept { return session_; }
  const client_driver_options& options() const noexcept { return options_; }
  // Set once the handshake succeeded.
  const std::optional<tls_peer_info>& tls_peer() const noexcept { return tls_peer_; }
  // QUIT now (client::quit()), or close when QUIT cannot be sent (the
  // session is over, or a message is being sent). QUIT already written:
  // its reply is awaited, nothing more is sent.
  void quit();
  // Close at once, writing nothing more: a message cut short this way is
  // never delivered (RFC 5321 §4.1.1.4: no end of data, no transaction).
  void abort(driver_error why);

 private:
  void on_resolved(const std::error_code& ec, const asio::ip::tcp::resolver::results_type& results);
  void send_proxy_header(const asio::ip::tcp::endpoint& peer);
  void begin();
  void pump();
  void start_read();
  void on_read(const std::error_code& ec, std::size_t n);
  void deliver_held();
  void start_write();
  void on_written(const std::error_code& ec, std::size_t n);
  void start_handshake();
  void arm_timer(std::chrono::seconds after);
  void arm_session_timer();
  void on_timer();
  void after_cancel();
  void fail(driver_error error);
  void close();

  client_driver_options options_;
  client_handler& handler_;
  client session_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  std::optional<asio::ssl::context> tls_context_;  // made by start() unless starttls is off
  std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
  std::optional<tls_peer_info> tls_peer_;
  std::vector<char> read_buffer_;
  std::vector<asio::const_buffer> gather_;  // pending_output_spans() as Asio buffers (writev)
  std::string proxy_bytes_;                 // the PROXY header while it is written
  std::size_t held_ = 0;        // octets read while a write was in flight
  bool held_eof_ = false;       // ... or the end of the stream
  bool reading_ = false, writing_ = false, handshaking_ = false;
  bool hello_accepted_ = false;  // a hello was answered 250 (an opening failure after it is AUTH's)
  bool connected_ = false, eof_ = false;
  bool closed_ = false, timed_out_ = false, timeout_reported_ = false;
  unsigned timer_generation_ = 0;
  // The session's wait the timer runs for: (timeout_epoch(), timeout()).
  std::optional<std::pair<std::uint64_t, std::chrono::seconds>> session_wait_;
};

}  // namespace sansmtp::drivers
