// The sans-IO SMTP server session (RFC 5321, with RFC 1870 SIZE, 2920
// PIPELINING, 3030 CHUNKING, 3207 STARTTLS, 4954 AUTH, 6152 8BITMIME, 6531
// SMTPUTF8, 2033 LMTP). Bytes go in through receive(); events come out of
// next_event(); replies go in through send() and leave through
// pending_output(). The session never reads a clock, never does I/O, and
// answers nothing on its own except on_timeout()'s 421: every reply is the
// application's. Every event that needs an answer carries a `suggested`
// reply: the RFC's where the peer was wrong, an accept-all server's
// otherwise (suggested_reply()).
//
//   ```cpp
//   // One turn of a driver: push what was read, drain the events, answer.
//   // Every event that needs an answer suggests one (accept-all); a real
//   // application decides per event and sends its own where it differs.
//   void turn(sansmtp::server& session, std::string_view bytes, std::string& wire_out) {
//     if (!bytes.empty() && session.receive(bytes)) return;  // refused: see receive()
//     for (;;) {
//       const auto event = session.next_event();
//       if (std::holds_alternative<sansmtp::server_event::need_data>(event)) break;
//       if (std::holds_alternative<sansmtp::server_event::paused>(event)) break;
//       if (const auto* answer = sansmtp::suggested_reply(event)) (void)session.send(*answer);
//     }
//     const auto out = session.pending_output();
//     wire_out.append(out.data(), out.size());
//     session.consume_output(out.size());
//   }
//   ```
//
// Lifetime rule (one for every session): every view inside an event (the
// command's fields, the line, message bytes, the suggested reply) stays
// valid until the next next_event() or receive() call on the session,
// whatever is called in between (send(), send_ehlo_reply(),
// tls_established(), ...): the STARTTLS command's included. Copy what you
// keep.
//
// Memory bound: the receive buffer holds at most
// server_options::receive_buffer octets (a command line longer than the
// line limit is refused and skipped to its end without being kept), the
// output buffer grows only with what the application sends (wants_read()
// turns false above output_high_water, so a peer that pipelines without
// reading stalls instead of growing it), and the reply queue holds one
// entry per command not yet answered (bounded by the receive buffer: a
// command takes at least 3 octets). Message bodies are never copied: they
// come out as views of the receive buffer.
#pragma once

#include <sansmtp/codec/data.hpp>
#include <sansmtp/codec/output_queue.hpp>
#include <sansmtp/codec/proxy_header.hpp>
#include <sansmtp/core/errc.hpp>
#include <sansmtp/session/session.hpp>
#include <sansmtp/syntax/command.hpp>
#include <sansmtp/syntax/reply.hpp>
#include <sansmtp/syntax/verbs.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace sansmtp {

struct server_options {
  // The first word of the EHLO/LHLO reply (RFC 5321 §4.1.1.1: the server's
  // own name). Set it to this host's FQDN.
  std::string hostname = "localhost";
  // LMTP (RFC 2033): LHLO instead of EHLO/HELO, and after the end of data
  // one reply per accepted recipient.
  bool lmtp = false;

  // What EHLO offers (the EHLO reply is built from these; what is not
  // offered is refused with the RFC's reply suggested).
  bool pipelining = true;            // RFC 2920
  bool eightbitmime = true;          // RFC 6152
  bool smtputf8 = false;             // RFC 6531
  bool chunking = false;             // RFC 3030 (BDAT)
  bool binarymime = false;           // RFC 3030 §3, needs chunking
  bool dsn = false;                  // RFC 3461 (NOTIFY, ORCPT, RET, ENVID)
  bool enhancedstatuscodes = true;   // RFC 2034
  bool starttls = false;             // RFC 3207: offered until TLS is up
  // RFC 8314 §3: TLS from the first octet (port 465). The driver does the
  // handshake before the greeting; the session starts with tls() true, so
  // STARTTLS is never offered (`starttls` is ignored) and AUTH is offered
  // as after STARTTLS.
  bool implicit_tls = false;
  bool limits = false;               // RFC 9422: advertise the limits below
  // RFC 8689 §4: REQUIRETLS, offered only over TLS (after STARTTLS, or with
  // implicit_tls). MAIL ... REQUIRETLS without TLS is refused 530 5.7.10
  // (RFC 3207 §4's 530, RFC 5248's X.7.10 "Encryption needed"); with the
  // option off it is 555 5.5.4, as every parameter not offered. The MAIL
  // command event says it was asked for (params.requiretls): the
  // application then relays the message only over verified TLS (§4.2).
  bool requiretls = false;
  // RFC 6710 §3: MT-PRIORITY, with the priority-profile the EHLO line
  // names ("MIXER", "STANAG4406", "NSEP"; an esmtp-keyword, §9.2), or ""
  // for none ("MT-PRIORITY" alone). MAIL MT-PRIORITY=-9..9 is accepted only
  // when offered; the value is params.mt_priority.
  bool mt_priority = false;
  std::string mt_priority_profile;
  // RFC 2852 §4: DELIVERBY, offered when set, with its min-by-time in
  // seconds (0: none given, "DELIVERBY" alone; at most 999999999). A BY=
  // with by-mode R and a by-time below the minimum is refused 501 5.5.4;
  // by-mode N is not (the message is delivered, a DSN tells when late).
  // The value is params.by.
  std::optional<std::uint32_t> deliverby;
  // RFC 4865 §3: FUTURERELEASE, advertised as "FUTURERELEASE" SP
  // max-future-release-interval SP max-future-release-date-time: the
  // longest hold in seconds (at most 999999999) and the latest release, an
  // RFC 3339 date-time ("2026-12-15T00:00:00Z", erratum 2040). A HOLDFOR
  // above the interval, or a HOLDUNTIL after the date-time (every HOLDUNTIL
  // when that is not a date-time), is refused 501 5.5.4. The session reads
  // no clock: a HOLDUNTIL already past or more than the interval from now,
  // and a HOLDFOR that ends after the date-time, are the application's to
  // judge (params.holdfor, params.holduntil).
  bool futurerelease = false;
  std::uint32_t futurerelease_max_interval = 0;
  std::string futurerelease_max_datetime;
  std::vector<std::string> auth_mechanisms;  // RFC 4954; empty = no AUTH
  // AUTH is offered and accepted before TLS only with this. Off: plaintext
  // passwords on an unencrypted connection (RFC 4954 §4: 538 5.7.11).
  bool allow_auth_without_tls = false;

  // Limits (0 = no limit, as everywhere in the library).
  // RFC 1870: the SIZE advertised, a MAIL SIZE= above it is 552 5.3.4, and a
  // body that grows past it is read to its end, not delivered, and reported.
  std::uint64_t max_message_size = 0;
  // RFC 5321 §4.5.3.1.8: at least 100 recipients MUST be accepted; more are
  // 452 4.5.3 (§4.5.3.1.10). Also LIMITS RCPTMAX.
  std::size_t max_recipients = 100;
  // Transactions (MAIL commands accepted) per session; then 421 4.5.3
  // (RFC 9422 MAILMAX).
  std::size_t max_transactions = 0;
  // Bad commands before the session suggests 421 4.7.0 and closes.
  std::size_t max_bad_commands = 20;
  // RCPTs refused 452 for being over max_recipients that are not counted
  // as bad commands, per transaction: §4.5.3.1.10 makes that 452 flow
  // control (the client sends the rest in another transaction), so a
  // message to 121 recipients must not end the session. Past this many the
  // excess counts (Postfix's smtpd_recipient_overshoot_limit is 1000).
  std::size_t max_recipient_overshoot = 1000;
  // The command line, parser limits and leniencies. `smtputf8` is set by the
  // session from what was offered and asked for (RFC 6531 §3.4).
  command_options commands;
  // RFC 4954 §4: AUTH exchange lines (12288 octets is what it names as
  // enough for deployed mechanisms).
  std::size_t max_auth_line_length = 12288;
  // DATA (RFC 5321 §4.5.2): bare CR/LF policy and the text-line limit
  // (§4.5.3.1.6, 1000 octets); see data_decoder_options.
  data_decoder_options data;
  starttls_injection after_starttls = starttls_injection::reject;
  // Receive buffer size: at least the longest line accepted. 0 = no limit
  // (memory then grows with what the peer sends ahead of the replies).
  std::size_t receive_buffer = 64 * 1024;
  // wants_read() is false while more unsent output than this is queued.
  // 0 = no limit (a peer that pipelines without reading grows the output).
  std::size_t output_high_water = 64 * 1024;
  // RFC 5321 §4.5.3.2.7: "at least 5 minutes" waiting for the next command.
  // It also bounds the wait for the PROXY header.
  std::chrono::seconds command_timeout{300};
  // Abuse limits (0 = off). The session reads no clock: the driver reports
  // the time with on_time(), and arms a timer for next_deadline().
  // A whole session, from the first on_time(): past it, 421 4.4.2 and
  // closed (RFC 5321 §4.5.3.2 bounds each wait, not a session; a client
  // that keeps every wait just under its timeout would hold a connection
  // for ever).
  std::chrono::seconds max_session_time{0};
  // During DATA and a BDAT chunk: at least `octets` in every `interval`
  // (both set to be on), or 421 4.4.2 and closed: a sender dripping one
  // octet a minute is cut off long before the 10-minute DATA block timeout
  // of §4.5.3.2.6 would. Postfix's smtpd_min_data_rate is the same idea.
  struct data_rate {
    std::uint64_t octets = 0;
    std::chrono::seconds interval{0};
  } min_data_rate;
  // NOOP, RSET, VRFY, EXPN and HELP in one session (they start no mail):
  // the next one is refused as bad_command{too_many_commands} suggesting
  // 421 4.7.0, which closes. Postfix's smtpd_junk_command_limit is 100.
  std::size_t max_non_transaction_commands = 0;
  // The PROXY protocol (HAProxy's proxy-protocol.txt): the connection comes
  // from a load balancer that puts a v1 or v2 header before the first SMTP
  // octet. Set, the session reads that header first (state proxy_header):
  // the greeting cannot be sent before it, the proxied event gives it (and
  // proxy() keeps it), and a malformed, truncated or over-long header, or
  // one of a version not accepted, is a fatal_error whose suggested reply is
  // none (code 0): the connection is closed without a greeting (section 2).
  // Only a connection from a trusted proxy may be read this way (section 5:
  // anyone else could claim any address); the driver checks the peer.
  std::optional<proxy_reader_options> proxy_protocol;
};

namespace detail {
struct canned_reply;          // a reply the session suggests (server.cpp)
enum class owed : std::uint8_t;  // what an owed reply answers (server_transitions.hpp)
enum class reply_effect : std::uint8_t;  // what a reply does (server_transitions.hpp)
enum class sequence : std::uint8_t;      // where commands are read (sequence_table.hpp)
}  // namespace detail

// Where a server session stands, as the replies sent so far left it: one
// value, read with server::state(). Commands are read in awaiting_hello,
// idle, mail, rcpt and bdat; which command each of those takes, and what
// each reply does to the state, are the transition tables (docs/server.md).
// A command's own reply decides: after "MAIL" and before its 250 the state
// is still idle.
enum class server_state : std::uint8_t {
  greeting,        // the greeting is owed (220, or 554: RFC 5321 §3.1)
  awaiting_hello,  // EHLO/HELO/LHLO first (after the greeting, and after TLS: RFC 3207 §4.2)
  idle,            // a hello was accepted, no transaction (§4.1.4)
  mail,            // MAIL accepted, no recipient yet
  rcpt,            // at least one recipient accepted
  bdat,            // BDAT chunks accepted, not yet the LAST one (RFC 3030 §2)
  data,            // the message after 354 is being read (§4.1.1.4)
  chunk,           // a BDAT chunk's octets are being read
  auth,            // an AUTH exchange: response lines after 334 (RFC 4954 §4)
  tls_handshake,   // 220 to STARTTLS sent: the handshake, then tls_established()
  closed,          // over: write pending_output() and close
  proxy_header,    // the PROXY header is awaited, before the greeting (server_options::proxy_protocol)
};
// "greeting", "awaiting_hello", "idle", ... (stable).
[[nodiscard]] std::string_view server_state_name(server_state s) noexcept;

namespace server_event {

// Push more bytes (or receive_eof()).
struct need_data {};

// Nothing more until the application acts.
struct paused {
  enum class reason : std::uint8_t {
    // A reply is owed (the greeting, or the answer to the last event):
    // replies decide the state, so nothing more is parsed until it is sent
    // (pipelined bytes wait in the buffer).
    reply_owed,
    tls_handshake,  // 220 to STARTTLS was sent: do the handshake, then tls_established()
    closed,         // the session is over (QUIT answered, 421, fatal error, EOF)
  } why = reason::reply_owed;
};

// A command to answer (in order: replies pair FIFO with what they answer).
struct command {
  sansmtp::command value;
  std::string_view line;  // as received, CRLF included
  line_notes notes;       // trailing white space tolerated
  // It arrived before the previous reply was sent and PIPELINING was not
  // offered (or before EHLO): Postfix's "improper pipelining" signal.
  bool unadvertised_pipelining = false;
  // It arrived before the greeting was sent: the "early talker" signal.
  bool before_greeting = false;
  // What an accept-all server answers (250 to MAIL, RCPT, RSET, NOOP; 354
  // to DATA; the EHLO reply with what this session offers; 221 to QUIT;
  // 252 to VRFY, 502 to EXPN, 214 to HELP; 220 to STARTTLS; 535 to AUTH,
  // as such a server knows no credentials). A BDAT command is answered
  // when its chunk was read: its suggested code is 0 (no reply now), and
  // chunk_end or message_end suggests the answer.
  reply suggested;
};

// A command the session refused: the parser's error, or the state's
// (bad sequence, not offered, over a limit). Recoverable: answer it with
// `suggested` (or a reply of your own) and the session goes on.
struct bad_command {
  command_error error;  // errc and offset; reply/enhanced as the parser gave them
  std::string_view line;
  reply suggested;
};

// Message bytes, dot-unstuffed (DATA) or as sent (BDAT), in order.
struct message_data {
  std::span<const char> bytes;
};

// A BDAT chunk (not LAST) was read in full: answer 250 (or refuse).
struct chunk_end {
  std::uint64_t size = 0;
  reply suggested;  // 250
};

// The end of the message (DATA's final dot, or BDAT LAST's chunk).
struct message_end {
  std::uint64_t size = 0;            // message octets
  std::optional<parse_error> error;  // bare_lf/bare_cr/line_too_long/message_too_large: refuse it
  // 250 without `error`; with it the refusal (552 5.3.4, or 550 5.6.0).
  reply suggested;
  // LMTP: replies owed, one per accepted recipient, in RCPT order (send
  // `suggested`, or a reply of your own, that many times).
  std::size_t replies_owed = 1;
};

// The transaction in progress (MAIL accepted, perhaps recipients and BDAT
// chunks) was abandoned without a message_end: RSET, a new EHLO/HELO/LHLO
// (RFC 5321 §4.1.4: "exactly as if a RSET command had been issued"), or the
// TLS handshake (RFC 3207 §4.2). It comes before any later event: discard
// what was kept of the transaction (its sender, recipients and every
// message_data octet), or the next message starts with the last one's chunks.
struct transaction_reset {
  enum class reason : std::uint8_t { rset, hello, tls } why = reason::rset;
};

// One line of an AUTH exchange (after a 334). The data is a credential:
// never log it.
struct auth_response {
  sansmtp::auth_response value;
  reply suggested;  // 535 5.7.8: an accept-all server knows no credentials
};

// The peer closed its side (receive_eof()).
struct peer_closed {
  // The connection ended inside something: a command line without its CRLF,
  // a message (DATA without its end), or a BDAT chunk.
  bool unfinished = false;
};

// The session cannot go on; send `suggested` and close. Sticky. A broken
// PROXY header suggests no reply (code 0; suggested_reply() gives nullptr):
// the session is closed already, and the connection closes without a
// greeting (proxy-protocol.txt section 2).
struct fatal_error {
  errc code = errc::ok;
  reply suggested;
};

// The PROXY header (server_options::proxy_protocol) was read: the client's
// address and port are in it (header.has_addresses(); a LOCAL or UNKNOWN
// header means the connection's own endpoints). No reply; the greeting is
// owed next. server::proxy() keeps the header for the session's life.
struct proxied {
  sansmtp::proxy_header header;
};

}  // namespace server_event

using server_event_t =
    std::variant<server_event::need_data, server_event::paused, server_event::command, server_event::bad_command,
                 server_event::message_data, server_event::chunk_end, server_event::message_end,
                 server_event::auth_response, server_event::peer_closed, server_event::fatal_error,
                 server_event::transaction_reset, server_event::proxied>;

// The reply `event` suggests, or nullptr when it needs none (need_data,
// paused, message_data, transaction_reset, peer_closed, proxied, a
// fatal_error of the PROXY header, and the BDAT command, answered at its
// chunk_end or message_end). Sending it for every
// event is a complete accept-all server (docs/server.md); its views live as
// the event's do.
[[nodiscard]] inline const reply* suggested_reply(const server_event_t& event) noexcept {
  return std::visit(
      [](const auto& e) -> const reply* {
        if constexpr (requires { e.suggested; }) return e.suggested.code ? &e.suggested : nullptr;
        else return nullptr;
      },
      event);
}

// The server role over the session core (session.hpp: receive_capacity(),
// buffered_bytes(), pending_output(), pending_output_spans(),
// pending_output_size(), trailing_data(), tls(), closed() are there).
class server : public detail::session_core {
 public:
  explicit server(server_options options = {});

  // Copies `bytes` into the receive buffer. Refused, nothing copied:
  // receive_buffer_full when they do not fit (see receive_capacity()),
  // session_closed after the session closed or after receive_eof();
  // plaintext after a 220 to STARTTLS goes to trailing_data(), never to the
  // parser.
  [[nodiscard]] std::error_code receive(std::string_view bytes);
  // The same for raw bytes (docs/design.md: bytes in through one door).
  [[nodiscard]] std::error_code receive(std::span<const std::byte> bytes) {
    return receive(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  [[nodiscard]] std::error_code receive_eof();

  server_event_t next_event();

  // Answers the oldest command (or event) still owed a reply. Refused
  // (invalid_state, nothing queued) when nothing is owed, while the PROXY
  // header is awaited (no greeting before it), before a BDAT
  // chunk was read, or with a code that cannot answer it (a greeting is
  // 220, 554 or 421; 354 only answers DATA, 334 only AUTH; 1xx never); bad
  // text is write_reply's error. The code drives the
  // state: 220/554 greeting, 250 EHLO/HELO/MAIL/RCPT, 354 DATA, 334/235
  // AUTH, 220 STARTTLS, 221 QUIT, any 421 closes.
  [[nodiscard]] std::error_code send(const reply& r);
  // The same for a one-line reply; `text` may begin with an RFC 3463 status
  // of the code's class ("2.1.0 Ok"), which then starts every line.
  [[nodiscard]] std::error_code send(int code, std::string_view text);
  // 250 to EHLO (or LHLO) with the extensions this session offers now
  // (STARTTLS only before TLS, AUTH only after TLS unless allowed, SIZE,
  // LIMITS from the limits).
  [[nodiscard]] std::error_code send_ehlo_reply(std::string_view greeting = {});

  // n octets of pending_output() were written. A server's output is one
  // run (replies are copied), so pending_output() holds all of it.
  void consume_output(std::size_t n) noexcept { out_.consume(n); }

  bool wants_read() const noexcept;

  // trailing_data() (session.hpp): what arrived as plaintext after the
  // STARTTLS line (never parsed). Under `reject` any of it is a fatal error.
  // The TLS handshake is done: the session is back to before EHLO (RFC 3207
  // §4.2: the EHLO name and AUTH state are forgotten; STARTTLS is no longer
  // offered). Refused unless a 220 to STARTTLS was sent.
  [[nodiscard]] std::error_code tls_established();

  // RFC 5321 §4.5.3.2.7: how long to wait for the peer now; zero when the
  // session waits for the application (or is closed).
  std::chrono::seconds timeout() const noexcept;
  // Changes whenever the wait starts over: received octets were used (a
  // command line taken whole, message data), or a reply was sent. A driver
  // arms its timer from timeout() when this changes and leaves it running
  // otherwise, so the timeout bounds a whole command line, not the gap
  // between two octets (a line dripped an octet at a time cannot hold the
  // session).
  std::uint64_t timeout_epoch() const noexcept { return in_.consumed() - skipped_ + timeout_epoch_; }
  // The timer expired: queues 421 4.4.2 and closes.
  void on_timeout();
  // The abuse limits' clock (server_options::max_session_time,
  // min_data_rate): the driver reports the time before each read and when
  // next_deadline() passes; any steady source will do (a test's fake one).
  // The first call starts the session's time. A limit that ran out queues
  // "421 4.4.2 <hostname> ..." and closes, and its errc is returned
  // (session_too_long, transfer_too_slow); empty otherwise.
  [[nodiscard]] std::error_code on_time(std::chrono::steady_clock::time_point now);
  // The earliest time a running limit can run out (call on_time() then, if
  // nothing else came); nullopt when none runs.
  [[nodiscard]] std::optional<std::chrono::steady_clock::time_point> next_deadline() const noexcept;
  // RFC 5321 §3.8: the server is going down. Queues an unsolicited
  // "421 4.3.2 <hostname> Service shutting down, closing the channel" after
  // whatever output is pending, whatever reply is owed, and closes; the
  // driver writes the output out, then closes the connection. Nothing when
  // already closed.
  void shutdown();
  // RFC 5321 §3.8, gracefully: from now on a command that would start new
  // work (the verb table's new_work: EHLO, HELO, LHLO, MAIL, STARTTLS,
  // AUTH, ...) is refused as a bad_command{shutting_down} suggesting
  // "421 4.3.2 <hostname> Service shutting down, closing the channel"
  // (send it: the 421 closes the session), while a transaction under way
  // goes on to its end and RSET, NOOP, QUIT are answered as usual. Refused
  // commands do not count as bad commands. A driver calls shutdown() when
  // its grace period is over.
  void drain() noexcept { draining_ = true; }
  bool draining() const noexcept { return draining_; }

  // Where the session stands (server_state).
  [[nodiscard]] server_state state() const noexcept;
  // The PROXY header read (server_options::proxy_protocol), or nullptr
  // before it and without the option.
  [[nodiscard]] const proxy_header* proxy() const noexcept { return proxy_done_ ? &proxy_.header() : nullptr; }
  // The transaction's state, for the application's decisions.
  bool authenticated() const noexcept { return authenticated_; }
  std::size_t accepted_recipients() const noexcept { return recipients_; }

 private:
  enum class mode : std::uint8_t;
  enum class line_status : std::uint8_t;
  struct awaiting {
    detail::owed what;
    bool ready = true;          // a BDAT's reply is ready when its chunk was read
    bool esmtp = false;         // EHLO/LHLO (not HELO)
    bool smtputf8 = false;      // MAIL ... SMTPUTF8
    bool binarymime = false;    // MAIL ... BODY=BINARYMIME
  };
  server_event_t next_command();
  server_event_t next_data();
  server_event_t next_bdat();
  server_event_t next_auth_line();
  server_event_t next_proxy_header();
  line_status take_line(std::size_t limit, std::string_view& line);
  server_event_t command_event(std::string_view line);
  server_event_t end_message();
  server_event_t end_chunk();
  server_event_t refuse(const command_error& e, std::string_view line, const detail::canned_reply& suggested);
  server_event_t refuse(const command_error& e, std::string_view line, const reply& suggested);
  server_event_t fail(errc code, const detail::canned_reply& suggested);
  // A reply whose one line is held by the session until the next event.
  reply suggest(int code, std::optional<enhanced_status> status, std::string_view text) noexcept;
  reply hello_reply(std::string_view greeting, bool esmtp);  // into ehlo_lines_: the event's suggestion
  reply hello_reply(std::string_view greeting, bool esmtp, std::vector<std::string>& lines,
                    std::vector<std::string_view>& views) const;
  server_event_t closed_by_peer(bool unfinished);
  const detail::canned_reply* check_state(const sansmtp::command& c, command_error& e) const;
  std::uint32_t offered_now() const noexcept;
  std::uint32_t offered_extensions() const noexcept;
  bool waiting_for_reply() const noexcept;
  detail::reply_effect reply_effect_for(int code) const noexcept;
  detail::sequence command_sequence() const noexcept;
  void scan_chunk(std::string_view bytes) noexcept;
  void close_with_421(const enhanced_status& status, std::string_view why);
  struct bdat_step {
    std::string_view insert;  // a CRLF (or the LF of one) to deliver in place of a bare CR or LF
    std::size_t take = 0;     // chunk octets consumed: replaced by `insert`, or delivered as they are
  };
  bdat_step normalize_step(std::string_view bytes, bool lf, bool cr) const noexcept;
  std::size_t count_message_bytes(std::size_t n) noexcept;
  void apply_reply(const awaiting& answered, detail::reply_effect cell, int code);
  void reset_transaction() noexcept;
  // The same, when the transaction is abandoned: transaction_reset follows.
  void abandon_transaction(server_event::transaction_reset::reason why) noexcept;
  void close() noexcept;
  std::string_view buffered() const noexcept { return in_.unread(); }

  server_options options_;
  mode mode_;
  bool skipping_line_ = false;  // an over-long line is being dropped to its LF
  detail::fifo<awaiting> owed_;  // replies owed, oldest first
  std::string suggestion_;    // text of a suggested reply built for the last event
  std::string_view suggested_line_;      // the one line of the last event's suggested reply
  std::vector<std::string> ehlo_lines_;  // the lines of the EHLO reply suggested or sent
  std::vector<std::string_view> ehlo_views_;
  std::string refused_line_;  // the line of a refused BDAT, kept while its chunk is dropped
  data_decoder decoder_;
  proxy_reader proxy_;
  bool proxy_done_ = false;
  std::uint64_t message_size_ = 0;
  std::optional<parse_error> message_error_;  // BDAT text: bare CR/LF
  std::optional<parse_error> size_error_;
  bool message_done_ = false;  // the end of data came with the last piece: message_end next
  std::size_t message_replies_left_ = 0;
  std::uint64_t chunk_left_ = 0;
  bool chunk_last_ = false;
  bool chunk_refused_ = false;
  bool chunk_prev_cr_ = false;
  std::uint64_t line_start_ = 0;  // BDAT text: the message offset where the current line began
  command_error refused_chunk_error_{};
  const detail::canned_reply* refused_chunk_reply_ = nullptr;
  // Session and transaction state.
  bool greeted_ = false, greeting_rejected_ = false, early_ = false;
  bool hello_ = false, esmtp_ = false, authenticated_ = false;
  bool fatal_ = false, draining_ = false;
  bool in_transaction_ = false, bdat_used_ = false, binarymime_ = false, smtputf8_txn_ = false;
  bool pipelined_next_ = false;
  std::size_t recipients_ = 0, transactions_ = 0, bad_commands_ = 0, overshoot_ = 0, junk_commands_ = 0;
  std::optional<std::chrono::steady_clock::time_point> started_;     // the first on_time()
  std::optional<std::chrono::steady_clock::time_point> rate_since_;  // the rate window's start
  std::uint64_t rate_octets_ = 0;  // octets received when the window started
  std::optional<server_event::transaction_reset::reason> reset_pending_;
  std::uint64_t timeout_epoch_ = 0;  // replies sent, handshakes done (timeout_epoch())
  std::uint64_t skipped_ = 0;        // octets of over-long lines dropped (they restart no timeout)
};

}  // namespace sansmtp
