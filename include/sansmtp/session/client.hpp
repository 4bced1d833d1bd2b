// The sans-IO SMTP client session, command level (RFC 5321 with RFC 2920
// PIPELINING, 3207 STARTTLS, 2033 LMTP): the application sends commands,
// the session checks each against the state and what the server offered,
// writes it, pairs every reply with the command it answers (FIFO), and
// says what each reply answered (diagnose() in advice/ explains refusals).
// Replies come in through receive(); events come out of next_event(); bytes
// to write come out of pending_output(). The opening (greeting, EHLO,
// STARTTLS, EHLO again, AUTH) is the application's, as below, or the
// session's own with client_options::open_automatically; quit() ends it.
//
//   ```cpp
//   // A client turn: feed what the server sent, react to the replies.
//   void on_bytes(sansmtp::client& c, std::string_view from_server, std::vector<std::string>& log) {
//     if (c.receive(from_server)) return;  // refused: full, or the session is over
//     for (;;) {
//       const auto event = c.next_event();
//       if (std::holds_alternative<sansmtp::client_event::need_data>(event)) break;
//       if (std::holds_alternative<sansmtp::client_event::paused>(event)) break;
//       if (const auto* r = std::get_if<sansmtp::client_event::reply>(&event)) {
//         if (r->value.code >= 400) log.push_back(std::string(sansmtp::answered_command_text(r->answered)) + " refused");
//         if (r->answered == sansmtp::answered_command::greeting && r->value.code == 220 && c.send_hello())
//           log.push_back("EHLO refused: the name fails ehlo-check");
//       }
//     }
//   }
//   ```
//
// Lifetime rule (one for every session): every view inside an event stays
// valid until the next next_event() or receive() call on the client, whatever
// is called in between (send(), submit(), tls_established(), ...): the
// 220 to STARTTLS and a submission's results included. capabilities()
// stays valid until the next EHLO reply or tls_established().
//
// Memory bound: received bytes wait in a buffer of receive_buffer octets;
// replies are read with reply_reader (a line, and the lines of one reply,
// bounded by reply_reader_options); the output grows with what the
// application sends (submit() stops pulling the message at
// output_high_water); one queue entry per command awaiting its reply.
#pragma once

#include <sansmtp/codec/data.hpp>
#include <sansmtp/codec/output_queue.hpp>
#include <sansmtp/codec/reply_reader.hpp>
#include <sansmtp/core/errc.hpp>
#include <sansmtp/session/session.hpp>
#include <sansmtp/syntax/answered_command.hpp>
#include <sansmtp/syntax/capabilities.hpp>
#include <sansmtp/syntax/command.hpp>
#include <sansmtp/syntax/command_builder.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>
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

// A message to send, pulled in pieces of any size: never held whole.
class message_source {
 public:
  virtual ~message_source() = default;
  // The next piece; empty at the end. Valid until the next call.
  virtual std::string_view next() = 0;
  // Back to the first piece, for a message that goes out in several
  // transactions (LIMITS RCPTMAX); false when the source cannot.
  virtual bool rewind() { return false; }
  // True when every piece stays valid until the submission is reported
  // (memory the caller keeps alive): the client then queues the pieces by
  // reference and they leave through pending_output_spans() without being
  // copied. False (the default): each piece is copied before the next pull.
  virtual bool stable() const noexcept { return false; }
};

// A message in memory (the caller keeps it alive), handed out in pieces.
class memory_source final : public message_source {
 public:
  explicit memory_source(std::string_view message, std::size_t piece = 64 * 1024) noexcept
      : message_(message), piece_(piece ? piece : 1) {}
  std::string_view next() override {
    const auto out = message_.substr(at_, piece_);
    at_ += out.size();
    return out;
  }
  bool rewind() override {
    at_ = 0;
    return true;
  }
  bool stable() const noexcept override { return true; }

 private:
  std::string_view message_;
  std::size_t piece_;
  std::size_t at_ = 0;
};

struct envelope_recipient {
  std::string address;             // a mailbox as make_rcpt takes it ("bob@example.net")
  esmtp_param_writer params = {};  // NOTIFY, ORCPT (DSN must be offered)
};

// One submission: MAIL, RCPT..., DATA and the message (client::submit).
struct envelope {
  std::string reverse_path;  // a mailbox, or "" for the null reverse-path
  std::vector<envelope_recipient> recipients;
  esmtp_param_writer mail_params = {};  // RET, ENVID, ... as the caller wants them
  // Declared as SIZE= when the server offers SIZE; over its limit the
  // submission is refused before MAIL (RFC 1870 §6).
  std::optional<std::uint64_t> size;
  bool eight_bit = false;   // BODY=8BITMIME (RFC 6152); refused unless offered
  // A source that can rewind() is read once ahead: an octet above 127 sets
  // eight_bit (and is refused before MAIL when 8BITMIME is not offered).
  // A source that cannot rewind is sent as eight_bit says.
  bool detect_8bit = true;
  // REQUIRETLS (RFC 8689); refused unless offered (never silently dropped:
  // §4.1), and a server offers it only over TLS.
  bool requiretls = false;
  // The extensions below go as MAIL parameters only when the server offers
  // them, and are refused before MAIL otherwise (not_offered), as
  // REQUIRETLS is: a request the server would not honour is not dropped.
  // A value outside its RFC's range, or outside what the server's EHLO line
  // advertised, is value_out_of_range (bad_parameter_value for a HOLDUNTIL
  // that is not a date-time), also before MAIL.
  // MT-PRIORITY= (RFC 6710 §3): -9 .. 9; needs MT-PRIORITY.
  std::optional<int> mt_priority;
  // BY= (RFC 2852 §4): by-time -999999999 .. 999999999 seconds, by-mode 'N'
  // or 'R' (R: a by-time above 0 and not below the advertised min-by-time),
  // trace; needs DELIVERBY.
  std::optional<deliver_by> by;
  // HOLDFOR= seconds (at most 999999999) or HOLDUNTIL= an RFC 3339
  // date-time (RFC 4865 §3), not both (duplicate_parameter); needs
  // FUTURERELEASE, and at most its max-future-release-interval (HOLDFOR) or
  // its max-future-release-date-time (HOLDUNTIL).
  std::optional<std::uint32_t> holdfor;
  std::optional<std::string> holduntil;
  // BODY=BINARYMIME (RFC 3030 §3): the message goes as is, in BDAT chunks;
  // refused unless BINARYMIME and CHUNKING are offered.
  bool binary = false;
  // Send the message in BDAT chunks when CHUNKING is offered (RFC 3030),
  // DATA otherwise; BDAT needs no dot-stuffing and no end-of-data scan.
  bool prefer_bdat = false;
};

// What became of one recipient.
struct recipient_result {
  std::string address;
  int rcpt_code = 0;      // the reply to its RCPT
  int delivery_code = 0;  // the reply to the end of data (LMTP: its own); 0 if none
  std::string text;       // the text of the deciding reply (the refusal, or the delivery)

  bool delivered() const noexcept { return rcpt_code / 100 == 2 && delivery_code / 100 == 2; }
};

// What a reply does to the command it answers: the client's reply table,
// one row per command (RFC 5321 §4.2.1 and §4.3.2; RFC 3030 §2 for BDAT,
// RFC 3207 §4 for STARTTLS, RFC 4954 §4 for AUTH, RFC 2033 for LMTP):
//
//   answered       | completed      | intermediate | refused            | closing
//   greeting       | 220            |              | 4xx, 5xx (554)     | 421
//   EHLO/LHLO/HELO | 250            |              | 4xx, 5xx           | 421
//   STARTTLS       | 220            |              | 4xx, 5xx           | 421
//   AUTH           | 235            | 334          | 4xx, 5xx           | 421
//   DATA           |                | 354          | 4xx, 5xx           | 421
//   QUIT           |                |              |                    | any reply (§4.1.1.10)
//   any other      | 2xx            |              | 4xx, 5xx           | 421
//
// Every other code is a protocol error (a 1xx anywhere, a 2xx to DATA, a
// 3xx where no intermediate reply exists, a 220 to EHLO): the session ends
// with fatal_error{unexpected_reply}. So does a reply that arrived before
// the command it would answer was written (an extra reply, or a 250 sent
// with DATA's 354): replies are never paired by count alone.
enum class reply_outcome : std::uint8_t {
  completed,       // the command succeeded
  intermediate,    // go on: 354 (send the message), 334 (answer the challenge)
  refused,         // the command failed; the session goes on
  closing,         // the session is over
  protocol_error,  // a code that cannot answer this command
};
[[nodiscard]] constexpr reply_outcome classify_reply(answered_command what, int code) noexcept {
  const int kind = code / 100;
  if (what == answered_command::quit) return reply_outcome::closing;  // §4.1.1.10: then close, whatever it says
  if (code == 421) return reply_outcome::closing;                      // §3.8
  if (kind == 4 || kind == 5) return reply_outcome::refused;
  switch (what) {
    case answered_command::greeting:
    case answered_command::starttls:  // RFC 3207 §4: 220 Ready to start TLS
      return code == 220 ? reply_outcome::completed : reply_outcome::protocol_error;
    case answered_command::ehlo:
    case answered_command::helo:
      return code == 250 ? reply_outcome::completed : reply_outcome::protocol_error;
    case answered_command::auth:  // RFC 4954 §4
      return code == 235   ? reply_outcome::completed
             : code == 334 ? reply_outcome::intermediate
                           : reply_outcome::protocol_error;
    case answered_command::data:  // §4.3.2: DATA's only positive reply is 354
      return code == 354 ? reply_outcome::intermediate : reply_outcome::protocol_error;
    default:
      return kind == 2 ? reply_outcome::completed : reply_outcome::protocol_error;
  }
}
std::string_view reply_outcome_name(reply_outcome o) noexcept;  // "completed", "intermediate", ...

// STARTTLS (RFC 3207) as the client wants it. The session does no TLS
// itself: the driver sends STARTTLS when starttls_wanted() says so.
enum class tls_policy {
  off,
  opportunistic,  // when the server offers it
  required,       // a server that does not offer it is an error before MAIL
};

// AUTH as the opening helper sends it (client_options::auth; RFC 4954 §4).
struct client_auth {
  std::string mechanism;         // "PLAIN": must be offered in the EHLO reply
  // Base64, sent on the AUTH line: sasl_plain(user, password) for PLAIN
  // (RFC 4616), "=" for an empty one; "" sends none (the server then asks
  // with a 334, which the application must answer: see open_automatically).
  std::string initial_response;
};

struct client_options {
  // The name EHLO (or LHLO, HELO) sends. Checked with check_ehlo_name before
  // anything is sent: a `fail` verdict makes send_hello() refuse
  // (errc::bad_ehlo_name) unless send_failing_ehlo_name says otherwise.
  std::string ehlo_name;
  ehlo_check_options ehlo_check;
  // Send a name the linter fails anyway (a test rig, a private relay that
  // wants it). The origin of this library: such a name is often refused
  // later, at MAIL or RCPT, with a reply that does not mention it.
  bool send_failing_ehlo_name = false;
  bool lmtp = false;  // RFC 2033: LHLO, and one reply per recipient after the data
  reply_reader_options replies;
  // What send() may write (limits; smtputf8 is set from the capabilities).
  command_options commands;
  data_encoder_options data;
  starttls_injection after_starttls = starttls_injection::reject;
  tls_policy starttls = tls_policy::opportunistic;
  // RFC 8314 §3: TLS from the first octet (submissions on port 465): the
  // driver does the handshake before the greeting is read, and the session
  // starts with tls() true, so STARTTLS is never sent (`starttls` is then
  // satisfied, whatever it says) and AUTH is allowed at once.
  bool implicit_tls = false;
  // AUTH before TLS sends the credentials in the clear (RFC 4954 §4, §14);
  // off: send_auth() refuses it with encryption_required.
  bool allow_auth_without_tls = false;
  // The opening helper: off (the default), the application drives the
  // opening itself (send_hello(), send(), send_auth()) and nothing is ever
  // sent on its own. On, the session does it, each step as the reply before
  // it is read, and still hands every reply out as a client_event::reply:
  //   - a 220 greeting: EHLO (LHLO for LMTP), and HELO when the EHLO is
  //     answered 500 or 502 (RFC 5321 §4.1.4); a 554 greeting: QUIT (§3.1);
  //     any other refusal of the greeting: the session closes (nothing may
  //     be sent);
  //   - the hello answered 250: STARTTLS when starttls_wanted() (RFC 3207
  //     §4); under tls_policy::required a server that does not offer it,
  //     or refuses it, is a fatal_error{starttls_unavailable}; under
  //     opportunistic a refused STARTTLS goes on in plaintext (§4: the
  //     client decides);
  //   - paused{tls_handshake}: the handshake is the driver's; then
  //     tls_established() sends EHLO again itself (RFC 3207 §4.2);
  //   - after the last hello: AUTH with `auth`, when set (RFC 4954 §4),
  //     once. A 334 is handed out as a reply event: answer it with
  //     send_auth_response() before the next next_event() call, or the
  //     session answers cancel_auth() ("*") itself. A refused AUTH (535,
  //     ...) ends the opening all the same: opened() is true and
  //     authenticated() false, and the application decides (QUIT, another
  //     mechanism with send_auth(), or mail without AUTH).
  // The opening is over when paused{ready} comes with opened() true. A
  // refused hello (a 4xx/5xx other than the HELO fallback's 500/502) is
  // answered with QUIT. When a step cannot be sent (the EHLO name fails
  // check_ehlo_name: bad_ehlo_name; AUTH refused by send_auth():
  // encryption_required, not_offered, ...) or TLS is required and not to
  // be had, next_event() reports a fatal_error with that errc and the
  // session sends QUIT: unlike every other fatal_error, the session then
  // stays open for the reply to QUIT (closed() is false), which comes as a
  // reply event before paused{closed}. A 421 anywhere closes at once.
  bool open_automatically = false;
  // AUTH for the opening helper (open_automatically); unused otherwise.
  // Before TLS only with allow_auth_without_tls.
  std::optional<client_auth> auth;
  // submit() pulls the message only while less than this is unsent. 0 = no
  // limit: the whole message is pulled (and copied, unless the source is
  // stable()) at once.
  std::size_t output_high_water = 256 * 1024;
  // submit() gathers the message's pieces into BDAT chunks of at least this
  // many octets (the last may be smaller): fewer BDAT lines and replies.
  std::size_t bdat_chunk_size = 64 * 1024;
  // Received reply bytes not yet read (receive_capacity()); at least the
  // longest reply line accepted (replies.max_line_length). 0 = no limit
  // (memory then grows with what the server sends ahead).
  std::size_t receive_buffer = 64 * 1024;
  // RFC 5321 §4.5.3.2: how long to wait for each reply.
  std::chrono::seconds greeting_timeout{300};          // initial 220
  std::chrono::seconds mail_timeout{300};              // MAIL
  std::chrono::seconds rcpt_timeout{300};              // RCPT
  std::chrono::seconds data_initiation_timeout{120};   // DATA's 354
  std::chrono::seconds data_block_timeout{180};        // while the body is sent
  std::chrono::seconds data_termination_timeout{600};  // after the final dot
  std::chrono::seconds command_timeout{300};           // everything else
};

namespace detail {
enum class sequence : std::uint8_t;  // where commands may be sent (sequence_table.hpp)
}  // namespace detail

// Where a client session stands, as the commands it sent and the replies
// it read left it: one value, read with client::state(). The client may
// pipeline (RFC 2920), so mail, rcpt and bdat follow what was sent, not
// what was answered. send() refuses a command the shared sequence table
// does not take in this state with bad_sequence (docs/client.md).
enum class client_state : std::uint8_t {
  greeting,        // waiting for the server's greeting (RFC 5321 §3.1)
  awaiting_hello,  // greeted (or TLS just started): EHLO/HELO/LHLO first
  idle,            // a hello was answered 250, no transaction under way
  mail,            // MAIL sent, no recipient yet
  rcpt,            // a recipient sent: DATA or BDAT may follow
  bdat,            // BDAT chunks sent, not yet the LAST one (RFC 3030 §2)
  data,            // the message is being sent (after 354, or submit()'s chunks)
  auth,            // a 334 challenge awaits its answer (RFC 4954 §4)
  tls_handshake,   // 220 to STARTTLS read: the handshake, then tls_established()
  closed,          // over
};
// "greeting", "awaiting_hello", "idle", ... (stable).
[[nodiscard]] std::string_view client_state_name(client_state s) noexcept;

namespace client_event {

// Push more bytes (or receive_eof()).
struct need_data {};

struct paused {
  enum class reason : std::uint8_t {
    ready,          // nothing is awaited: send the next command (or the body)
    write_output,   // a message is being sent: write pending_output(), then call again
    tls_handshake,  // 220 to STARTTLS arrived: do the handshake, then tls_established()
    closed,         // the session is over
  } why = reason::ready;
};

// A reply, with the command it answers. What a 4xx/5xx means for a person
// is diagnose(event, client.ehlo_name()) (advice/diagnose.hpp).
struct reply {
  sansmtp::reply value;
  answered_command answered = answered_command::unknown;
  // EHLO answered 500 or 502: the session sent HELO in its place (RFC 5321
  // §4.1.4 fallback; no other code is retried).
  bool fell_back_to_helo = false;
};

// The session cannot go on. The event says what happened and where, in
// fields, never in sentences: describe(event) (advice/describe.hpp) writes
// the English. The session is closed after it, for good. One exception:
// the opening helper gave up (client_options::open_automatically:
// hello_not_sent, starttls_not_offered, starttls_refused, auth_not_sent);
// it has written QUIT, closed() is still false, and QUIT's reply comes as
// a reply event before paused{closed}.
struct fatal_error {
  // What happened, where `code` alone does not say (unexpected_reply is
  // three different things). Stable names: client_fatal_cause_name().
  enum class cause : std::uint8_t {
    broken_reply,          // the reply stream broke RFC 5321 §4.2: `code` (the reply reader's) at `offset`
    unasked_reply,         // a reply (`reply_code`) while no command awaited one
    early_reply,           // a reply (`reply_code`) received before `awaiting` was written: an extra reply
    cannot_answer,         // `reply_code` cannot answer `awaiting` (classify_reply(): protocol_error)
    bare_line_ending,      // the message's bare CR or LF (`code`) at message octet `offset`, refused
                           // (data_encoder_options, reject) after part of the message went out
    timeout,               // no reply within `waited` (on_timeout(); RFC 5321 §4.5.3.2)
    hello_not_sent,        // the opening helper's EHLO with `argument` (the name) was refused with `code`
    starttls_not_offered,  // the opening helper: TLS is required, the server does not offer STARTTLS
    starttls_refused,      // the opening helper: TLS is required, the server refused STARTTLS (`reply_code`)
    auth_not_sent,         // the opening helper's AUTH `argument` (the mechanism) was refused with `code`
  };
  errc code = errc::ok;
  cause why = cause::broken_reply;
  // Where the session stood when it happened (client::state() then).
  client_state state = client_state::greeting;
  // The oldest command awaiting its reply then; unknown when none was
  // (unknown is also the reply of a command sent as an unknown verb:
  // `unfinished` tells the two apart).
  answered_command awaiting = answered_command::unknown;
  // As peer_closed: a reply was awaited, or the message was being sent.
  bool unfinished = false;
  int reply_code = 0;            // the offending reply's code (unasked/early_reply, cannot_answer, starttls_refused)
  std::uint64_t offset = 0;      // the octet (broken_reply: of the reply stream; bare_line_ending: of the message)
  std::chrono::seconds waited{0};  // timeout: the wait that expired (client::timeout() then)
  std::string argument;            // hello_not_sent: the EHLO name; auth_not_sent: the mechanism (as configured)
};

// The server closed the connection (its EOF, read after every reply before
// it); describe(event) (advice/describe.hpp) says it in English.
struct peer_closed {
  // The connection ended inside an exchange: a reply was awaited, or the
  // message was being sent (the server's peer_closed: inside a command
  // line, a message or a chunk).
  bool unfinished = false;
  client_state state = client_state::greeting;            // where the session stood (client::state() then)
  answered_command awaiting = answered_command::unknown;  // the oldest command awaiting its reply, if unfinished
};

// A submission is over (every transaction it took has ended). Partial
// acceptance is a result, not an error: each recipient says what became
// of it.
struct submitted {
  std::span<const recipient_result> recipients;  // valid until the next non-const call
  std::size_t transactions = 0;                  // more than one when LIMITS RCPTMAX split it
  bool all_delivered() const noexcept {
    for (const auto& r : recipients)
      if (!r.delivered()) return false;
    return !recipients.empty();
  }
};

}  // namespace client_event

// "broken_reply", "unasked_reply", ... (stable).
[[nodiscard]] std::string_view client_fatal_cause_name(client_event::fatal_error::cause c) noexcept;

using client_event_t = std::variant<client_event::need_data, client_event::paused, client_event::reply,
                                    client_event::fatal_error, client_event::peer_closed, client_event::submitted>;

// The client role over the session core (session.hpp: receive_capacity(),
// buffered_bytes(), pending_output(), pending_output_spans(),
// pending_output_size(), trailing_data(), tls(), closed() are there).
class client : public detail::session_core {
 public:
  explicit client(client_options options = {});

  // Server bytes, copied into the receive buffer. Refused, nothing copied:
  // receive_buffer_full when they do not fit (receive_capacity()),
  // session_closed after the session closed or after receive_eof(). After
  // the 220 to STARTTLS they go to trailing_data(), never to the reply reader.
  [[nodiscard]] std::error_code receive(std::string_view bytes);
  // The same for raw bytes (docs/design.md: bytes in through one door).
  [[nodiscard]] std::error_code receive(std::span<const std::byte> bytes) {
    return receive(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  [[nodiscard]] std::error_code receive_eof();
  // Read from the socket now? False while the TLS handshake is owed, after
  // EOF or the end of the session, and while the receive buffer is full
  // (call next_event() to read replies out of it).
  bool wants_read() const noexcept;

  client_event_t next_event();

  // EHLO (LHLO for LMTP) with options.ehlo_name, after the greeting.
  [[nodiscard]] std::error_code send_hello();
  // The opening helper (client_options::open_automatically): opening() while
  // it is under way (the greeting, the hellos, STARTTLS, AUTH), opened()
  // once it is over (it then stays true, also after the session closes).
  // A session whose opening failed (a 554 greeting, a refused hello, a
  // fatal_error) was never opened(). Both are false without the helper.
  bool opening() const noexcept { return open_ == open_state::running && !closed_; }
  bool opened() const noexcept { return open_ == open_state::done; }
  // QUIT (RFC 5321 §4.1.1.10), for the end of a session however it was
  // opened: written when the greeting came and nothing would be cut: no
  // message is being sent (submitting(), or between DATA's 354 and
  // end_body(): invalid_state; SMTP cannot abort a message, close the
  // connection instead) and no AUTH challenge is unanswered (invalid_state:
  // cancel_auth() first). Without PIPELINING it waits for the replies
  // awaited (invalid_state until then); with it, it joins the group.
  // Already written (by the opening helper, or an earlier call): nothing
  // more is written and no error (QUIT goes once). session_closed once the
  // session is over. After its reply, whatever it is, the session closes.
  [[nodiscard]] std::error_code quit();
  // The name EHLO (LHLO, HELO) sends: options.ehlo_name.
  std::string_view ehlo_name() const noexcept { return options_.ehlo_name; }
  // Any other command, checked against the state (the greeting came, a
  // hello was answered before MAIL, MAIL before RCPT, RCPT before DATA) and
  // against what the server offered (BDAT needs CHUNKING, SMTPUTF8/BODY/
  // SIZE/DSN/REQUIRETLS parameters their extensions, SIZE under the limit,
  // STARTTLS and AUTH mechanisms offered). Without PIPELINING one command
  // is in flight at a time; with it, a group ends at EHLO, DATA, BDAT LAST,
  // STARTTLS, AUTH, QUIT, NOOP, VRFY, EXPN (RFC 2920 §3.1). Refused:
  // invalid_state, not_offered, message_too_large, or the serializer's
  // error (CR/LF/NUL in a field); nothing is written then.
  [[nodiscard]] std::error_code send(const command& c);
  // STARTTLS now? The server offers it, TLS is not up, the policy is not off.
  bool starttls_wanted() const noexcept;

  // AUTH (RFC 4954 §4): the mechanism must be offered, TLS up unless
  // allow_auth_without_tls (encryption_required), one success per session.
  // The initial response is base64 ("=" for an empty one). A 334 comes as
  // a reply event whose text is the challenge; answer it with
  // send_auth_response() (base64) or cancel_auth() ("*", RFC 4954 §4).
  // Credentials are only ever in pending_output(), never in an event.
  [[nodiscard]] std::error_code send_auth(std::string_view mechanism,
                            std::optional<std::string_view> initial_response = std::nullopt);
  [[nodiscard]] std::error_code send_auth_response(std::string_view base64);
  [[nodiscard]] std::error_code cancel_auth();
  bool authenticated() const noexcept { return authenticated_; }
  // Where the session stands (client_state).
  [[nodiscard]] client_state state() const noexcept;

  // Transaction level: sends MAIL, RCPT..., DATA (or BDAT chunks, with
  // CRLF line endings by crlf_encoder unless BINARYMIME) and the message,
  // pipelined when PIPELINING is offered (RFC 2920), answering every reply
  // as it comes; ends with client_event::submitted. SIZE is declared when
  // offered; SMTPUTF8 is asked for when an address is not ASCII; with
  // LIMITS RCPTMAX and RCPTDOMAINMAX (RFC 9422) the recipients are split
  // over transactions (the source must rewind), and MAILMAX is honoured. Refused before
  // anything is written: a state that is not idle after a hello
  // (invalid_state), no recipients (missing_argument), an address or
  // parameter the builders refuse (their errc), an extension not offered
  // (not_offered), SIZE over the limit (message_too_large), a split the
  // source cannot take, or that would take the session past MAILMAX with
  // the transactions it already began (too_many_transactions: send the
  // rest on a new connection), a bare CR or LF
  // that options.data refuses (bare_cr, bare_lf: a source that can rewind
  // is read ahead for it; one that cannot ends the session with a
  // fatal_error when the octet comes, as SMTP cannot abort the data).
  // `source` must live until `submitted`.
  [[nodiscard]] std::error_code submit(const envelope& env, message_source& source);
  bool submitting() const noexcept { return sub_.has_value() && !submission_reported_; }

  // BDAT (RFC 3030): one chunk, sent as is (no dot-stuffing: the count
  // frames it; crlf_encoder gives a message CRLF line endings), "LAST" on
  // the final one. Needs CHUNKING and a recipient
  // sent. BDAT itself goes through here, not send() (which refuses it:
  // a BDAT line without its octets would desynchronise the server).
  [[nodiscard]] std::error_code send_chunk(std::string_view bytes, bool last);
  // The message after DATA's 354, in chunks of any size (dot-stuffed and
  // CRLF-normalised by data_encoder), then end_body() writes the final dot.
  // A bare CR/LF refused under data_encoder_options' `reject` is
  // send_body()'s error, and end_body() refuses too: the final dot would
  // deliver the message cut short; close the connection instead.
  [[nodiscard]] std::error_code send_body(std::string_view chunk);
  [[nodiscard]] std::error_code end_body();

  // n octets of pending_output() (session.hpp) were written.
  void consume_output(std::size_t n) noexcept;

  // The server's EHLO reply, read; nullopt before it (or after HELO).
  const std::optional<sansmtp::capabilities>& capabilities() const noexcept { return capabilities_; }
  // trailing_data() (session.hpp): the reply bytes after the 220 to
  // STARTTLS (never parsed).
  // The handshake is done: capabilities are forgotten, EHLO must be sent
  // again (RFC 3207 §4.2). Refused after injected bytes under `reject`.
  [[nodiscard]] std::error_code tls_established();

  // RFC 5321 §4.5.3.2: how long to wait now; zero when nothing is awaited.
  std::chrono::seconds timeout() const noexcept;
  // Changes whenever the wait starts over: a reply was read, a command
  // written, part of the message written out (consume_output). A driver
  // arms its timer from timeout() when this changes and leaves it running
  // otherwise, so the timeout bounds a whole reply (§4.5.3.2: "5 minutes"
  // for the greeting as a whole), not the gap between two octets.
  std::uint64_t timeout_epoch() const noexcept { return timeout_epoch_; }
  // The timer expired: the session closes; next_event() reports a
  // fatal_error{timeout} with what was awaited and `waited`. Send nothing more: close.
  void on_timeout();

 private:
  enum class phase : std::uint8_t { greeting, ready, body, tls_pending, closed };
  struct awaited {
    answered_command what;
    bool ends_group = false;
    // The write (writes_ after it) that put the command on the wire: its
    // reply cannot have been received before that.
    std::uint64_t write = 0;
  };
  // Bytes handed to receive(), with the number of writes done by then.
  struct received {
    std::uint64_t end = 0;  // one past the last octet, counted from the first received
    std::uint64_t writes = 0;
  };

  struct submission {
    message_source* source = nullptr;
    std::optional<owned_command> mail;
    std::vector<owned_command> rcpts;
    std::vector<recipient_result> results;
    std::vector<std::size_t> batch_ends;  // one past each transaction's last recipient
    std::size_t batch = 0;                // the current transaction
    std::size_t batch_start = 0;          // its first recipient
    std::size_t next_rcpt = 0;    // next RCPT to send (absolute index)
    std::size_t rcpt_replies = 0; // RCPT replies seen in this transaction
    std::size_t accepted = 0;     // RCPTs accepted in this transaction
    std::size_t end_replies = 0;  // end-of-data replies seen in this transaction
    std::size_t transactions = 0;
    bool mail_ok = false, data_sent = false, failed = false, rset_sent = false;
    // BDAT (RFC 3030): the message goes as chunks; one piece is held back
    // (copied) so that the last chunk can say LAST.
    bool bdat = false, chunks_started = false;
    std::string_view held;  // into the source (stable) or held_copy
    std::string held_copy;
    bool held_owned = false;            // held is held_copy
    bool chunks_stopped = false;        // the transaction failed before BDAT LAST (stop_chunks)
    std::size_t chunks_sent = 0;        // BDAT commands written in this transaction
    std::optional<crlf_encoder> lines;  // BDAT other than BINARYMIME: CRLF line endings
  };

  // `in_turn`: the reply came after the command it answers was written.
  client_event_t on_reply(const sansmtp::reply& r, bool in_turn);
  void on_submission_reply(answered_command what, const sansmtp::reply& r);
  void start_transaction();
  bool pump_body();
  enum class pump_result : std::uint8_t { done, output_full, waiting };
  pump_result pump_chunks();
  void begin_message();
  std::error_code write_body(std::string_view chunk, bool by_reference);
  std::error_code finish_body();
  // The fatal_error for `why` here, with the state and what is awaited;
  // the session is not closed by it.
  client_event::fatal_error failure(errc code, client_event::fatal_error::cause why) const;
  // The peer broke the protocol: the session closes, nothing queued goes out.
  client_event_t fail(client_event::fatal_error e);
  void settle();
  void fail_body(const data_error& e);
  client_event_t take_pending_fatal();
  bool awaits(answered_command what) const noexcept;
  void finish_transaction();
  void stop_chunks();
  void owe_lmtp_replies();
  // The opening helper (open_automatically): the next step after each reply.
  enum class open_state : std::uint8_t { off, running, done, given_up };
  void open_after_reply(answered_command what, int code, bool fell_back);
  void open_send_hello();
  void open_after_hello();
  void open_auth();
  void open_quit();
  void open_give_up(client_event::fatal_error e);
  // A reply is awaited or the message is being sent (fatal_error::unfinished).
  // The command whose reply is awaited first (unknown when none).
  answered_command awaiting() const noexcept;
  bool unfinished() const noexcept;
  std::optional<errc> check(const command& c) const;
  detail::sequence command_sequence() const noexcept;
  bool group_open() const noexcept;
  // Serializes `c` into the output and queues its reply; nothing is written on an error.
  std::error_code write(const command& c, answered_command what, bool group_end);
  // A reply is now owed for what was written by write number `at` (writes_
  // by default: the last one).
  void expect(answered_command what, bool group_end, std::uint64_t at) {
    awaited_.push_back({what, group_end, at});
    ++timeout_epoch_;
  }
  void expect(answered_command what, bool group_end) { expect(what, group_end, ++writes_); }
  // Was the reply that starts at received octet `offset` sent after the
  // command it would answer was written?
  bool received_after(std::uint64_t offset, std::uint64_t write) const noexcept;

  client_options options_;
  phase phase_ = phase::greeting;
  reply_reader reader_;
  detail::fifo<awaited> awaited_;    // commands awaiting their replies, oldest first
  std::uint64_t writes_ = 0;         // commands (and ends of data) written so far
  std::uint64_t reply_start_ = 0;    // where the reply being read began (received octets)
  detail::fifo<received> received_;  // receive() calls whose octets are not all read
  std::uint64_t timeout_epoch_ = 0;  // see timeout_epoch()
  std::optional<sansmtp::capabilities> capabilities_;
  std::vector<std::string> ehlo_lines_;  // what capabilities_ points into
  data_encoder encoder_;
  bool greeted_ = false, greeting_rejected_ = false, hello_ = false, esmtp_ = false;
  bool fatal_ = false, authenticated_ = false, auth_challenge_ = false;
  std::optional<client_event::fatal_error> pending_fatal_;  // on_timeout()'s, reported once
  std::optional<submission> sub_;
  std::optional<submission> retired_;  // the last one, reported, while its results may be held (settle())
  bool tls_settle_ = false;            // tls_established() was called: settle() starts the buffer over
  bool report_submission_ = false;  // a submission ended: next_event() reports it
  bool submission_reported_ = false;  // ... and forgets it on the call after
  std::size_t transactions_ = 0;      // MAIL commands written in this session (RFC 9422 MAILMAX)
  bool mail_sent_ = false, rcpt_sent_ = false, bdat_sent_ = false, smtputf8_txn_ = false;
  std::size_t lmtp_replies_ = 0;  // recipients accepted in this transaction (LMTP end-of-data replies)
  bool lmtp_end_pending_ = false;
  open_state open_ = open_state::off;
  bool open_auth_sent_ = false;  // the helper's AUTH awaits its outcome (a 334 unanswered is cancelled)
  std::uint64_t lmtp_end_write_ = 0;  // the write of that end of data  // the end of data went out before the last RCPT reply (owe_lmtp_replies)
};

}  // namespace sansmtp
