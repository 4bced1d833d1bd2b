// The server session: a framer over one bounded receive buffer, the
// transition tables (server_transitions.hpp) for what each command may do
// and what each reply does,
// the DATA decoder and BDAT counting for bodies, and a FIFO of the replies
// owed. Every decision depends only on the bytes received and the replies
// sent, so any chunking of the input gives the same events.
#include <sansmtp/session/server.hpp>

#include "command_internal.hpp"
#include "date_time.hpp"
#include "server_transitions.hpp"

#include <algorithm>
#include <limits>
#include <cstring>

namespace sansmtp {

enum class server::mode : std::uint8_t {
  commands,     // command lines
  data,         // after 354: the body through the DATA decoder
  bdat,         // a BDAT chunk's octets (RFC 3030 §2)
  auth_line,    // after 334: AUTH response lines (RFC 4954 §4)
  tls_pending,  // after 220 to STARTTLS: nothing is parsed (RFC 3207 §4.2)
  proxy,        // before the greeting: the PROXY header (server_options::proxy_protocol)
};

// A reply the session suggests, written as its wire text ("5.5.1 Bad
// sequence of commands") and split at compile time into the RFC 3463 status
// and the text, so that suggesting one costs a few stores.
struct detail::canned_reply {
  int code = 0;
  std::optional<enhanced_status> status;
  std::string_view text;
};


enum class server::line_status : std::uint8_t { line, need_data, too_long };

namespace {

using detail::owed;

using canned = detail::canned_reply;

consteval canned make_canned(int code, std::string_view wire) {
  canned c{code, std::nullopt, wire};
  // class "." subject "." detail SP (RFC 3463 §2), the class the code's.
  std::uint16_t parts[3] = {0, 0, 0};
  std::size_t i = 0;
  for (int part = 0; part < 3; ++part) {
    const std::size_t start = i;
    while (i < wire.size() && wire[i] >= '0' && wire[i] <= '9') parts[part] = static_cast<std::uint16_t>(parts[part] * 10 + (wire[i++] - '0'));
    if (i == start) return c;
    if (part < 2 && (i >= wire.size() || wire[i++] != '.')) return c;
  }
  if (i < wire.size() && wire[i] != ' ') return c;
  if (parts[0] != code / 100) return c;
  c.status = enhanced_status{static_cast<std::uint8_t>(parts[0]), parts[1], parts[2]};
  c.text = wire.substr(i < wire.size() ? i + 1 : i);
  return c;
}

constexpr canned bad_sequence_reply = make_canned(503, "5.5.1 Bad sequence of commands");
constexpr canned not_offered_param = make_canned(555, "5.5.4 Parameter not offered by this server");
constexpr canned message_too_large_reply = make_canned(552, "5.3.4 Message size exceeds fixed maximum message size");
constexpr canned use_lhlo = make_canned(500, "5.5.1 Use LHLO (RFC 2033)");
constexpr canned use_ehlo = make_canned(500, "5.5.1 Use EHLO or HELO");
constexpr canned unrecognized = make_canned(500, "5.5.2 Command unrecognized");
constexpr canned bdat_not_offered = make_canned(502, "5.5.1 BDAT not offered");
constexpr canned starttls_not_offered = make_canned(502, "5.5.1 STARTTLS not offered");
constexpr canned auth_not_offered = make_canned(502, "5.5.1 AUTH not offered");
constexpr canned too_many_transactions_reply = make_canned(421, "4.5.3 Too many transactions, closing");
constexpr canned too_many_recipients_reply = make_canned(452, "4.5.3 Too many recipients");
constexpr canned unknown_mechanism = make_canned(504, "5.5.4 Unrecognized authentication type");
constexpr canned encryption_required_reply =
    make_canned(538, "5.7.11 Encryption required for requested authentication mechanism");
constexpr canned bare_line_end_reply =
    make_canned(550, "5.6.0 Message refused: bare CR or LF, or a line too long (RFC 5321 2.3.8, 4.5.3.1.6)");
constexpr canned auth_refused_reply = make_canned(535, "5.7.8 Authentication credentials invalid");
// RFC 8689 §4: REQUIRETLS only over TLS. The RFC names no reply for a
// REQUIRETLS sent in the clear; this is RFC 3207 §4's 530 ("Must issue a
// STARTTLS command first") with RFC 5248's X.7.10 ("Encryption needed").
constexpr canned requiretls_needs_tls = make_canned(530, "5.7.10 REQUIRETLS needs a TLS session: STARTTLS first");
// A parameter value outside what this server advertised: RFC 5321 §4.2.3's
// 501 "Syntax error in parameters or arguments" with RFC 3463's X.5.4
// "Invalid command arguments".
// RFC 2852 §4: by-mode R with a by-time below the advertised min-by-time.
constexpr canned by_below_minimum = make_canned(501, "5.5.4 BY time below this server's minimum (DELIVERBY)");
// RFC 4865 §3: beyond max-future-release-interval or -date-time.
constexpr canned holdfor_too_long = make_canned(501, "5.5.4 HOLDFOR beyond the maximum release interval (FUTURERELEASE)");
constexpr canned holduntil_too_late = make_canned(501, "5.5.4 HOLDUNTIL beyond the latest release date-time (FUTURERELEASE)");
// RFC 5321 §3.8, after the host name: shutdown()'s 421 and drain()'s suggestion.
constexpr std::string_view shutting_down_text = "Service shutting down, closing the channel";

// What an accept-all server answers to each command (docs/server.md): the
// `suggested` of the command event. EHLO's and QUIT's name the host, and
// BDAT's reply comes with its chunk (chunk_end, message_end).
constexpr canned accept_mail = make_canned(250, "2.1.0 Ok");
constexpr canned accept_rcpt = make_canned(250, "2.1.5 Ok");
constexpr canned accept_data = make_canned(354, "End data with <CR><LF>.<CR><LF>");
constexpr canned accept_other = make_canned(250, "2.0.0 Ok");
constexpr canned accept_chunk = make_canned(250, "2.0.0 Ok: chunk received");
constexpr canned accept_message = make_canned(250, "2.0.0 Ok: queued");
constexpr canned accept_starttls = make_canned(220, "2.0.0 Ready to start TLS");
// RFC 5321 §3.5.3: 252 when the server will not verify but accepts the message.
constexpr canned accept_vrfy = make_canned(252, "2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
// §3.5.2: EXPN may be refused; 502 is "command not implemented" (§4.2.4).
constexpr canned accept_expn = make_canned(502, "5.5.1 EXPN not implemented");
constexpr canned accept_help = make_canned(214, "2.0.0 See RFC 5321 (commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY)");
static_assert(accept_rcpt.status && accept_rcpt.status->detail == 5 && accept_rcpt.text == "Ok");
static_assert(!accept_data.status && accept_data.text.starts_with("End"));

}  // namespace

// A one-line reply whose line the session holds until the next event.
reply server::suggest(int code, std::optional<enhanced_status> status, std::string_view text) noexcept {
  suggested_line_ = text;
  reply r;
  r.code = code;
  r.enhanced = status;
  if (!text.empty()) r.lines = std::span<const std::string_view>(&suggested_line_, 1);
  return r;
}

namespace {

// The reply a parser error suggests: its RFC 3463 code and the errc's
// sentence, printable ASCII, in `storage` (valid until the next event).
std::string_view suggestion_text(const command_error& e, std::string& storage) {
  storage.clear();
  for (const char c : make_error_code(e.code).message()) storage += (c >= 32 && c < 127) ? c : ' ';
  return storage;
}

// The RFC 3463 code at the start of a reply text, if it has one of the
// reply's class, and the text after it.
std::pair<std::optional<enhanced_status>, std::string_view> split_status(int code, std::string_view text) {
  const auto esc = parse::enhanced_status_at(text, code);
  if (!esc) return {std::nullopt, text};
  return {esc->status, text.substr(std::min(text.size(), esc->length + 1))};
}

}  // namespace

server::server(server_options options)
    : session_core(options.receive_buffer),
      options_(std::move(options)),
      mode_(options_.proxy_protocol ? mode::proxy : mode::commands),
      decoder_(options_.data),
      proxy_(options_.proxy_protocol.value_or(proxy_reader_options{})) {
  owed_.push_back({owed::greeting});  // the application speaks first (§3.1)
  tls_ = options_.implicit_tls;       // RFC 8314 §3: everything is over TLS
}

// --- bytes in ----------------------------------------------------------------

std::error_code server::receive(std::string_view bytes) { return in_.append(bytes, closed_); }
std::error_code server::receive_eof() { return in_.end(closed_); }

// --- events --------------------------------------------------------------------

// Nothing more is parsed while a reply is owed: the replies decide the
// state (a 250 to MAIL opens the transaction, 354 starts DATA, 220 to
// STARTTLS switches to TLS, a 250 to RSET ends the transaction), so a
// command read ahead of the reply to the one before it would be judged
// against a stale state (RFC 2920 §3.1 lets a client pipeline RSET, MAIL,
// RCPT; each must meet the state its predecessors' replies left). Pipelined
// bytes wait in the buffer; the events come one reply at a time.
bool server::waiting_for_reply() const noexcept { return fatal_ || !owed_.empty(); }

server_event_t server::next_event() {
  if (reset_pending_) {  // before anything that follows the reset
    const auto why = *reset_pending_;
    reset_pending_.reset();
    return server_event::transaction_reset{why};
  }
  if (closed_) return server_event::paused{server_event::paused::reason::closed};
  switch (mode_) {
    case mode::tls_pending:
      return server_event::paused{server_event::paused::reason::tls_handshake};
    case mode::data:
      return next_data();
    case mode::bdat:
      return next_bdat();
    case mode::proxy:
      return next_proxy_header();
    case mode::commands:
    case mode::auth_line:
      break;
  }
  if (waiting_for_reply()) return server_event::paused{server_event::paused::reason::reply_owed};
  return mode_ == mode::auth_line ? next_auth_line() : next_command();
}

// proxy-protocol.txt section 2: the header comes before anything else, and
// "the receiver MUST NOT start processing the connection" without a valid
// one: a broken or cut header closes the connection with no greeting. Its
// octets count as one wait (timeout_epoch()): a header dripped an octet at
// a time cannot hold the session longer than one command timeout.
server_event_t server::next_proxy_header() {
  const auto step = proxy_.next(buffered());
  in_.consume(step.consumed);
  skipped_ += step.consumed;
  switch (step.status) {
    case proxy_status::header:
      mode_ = mode::commands;
      proxy_done_ = true;
      ++timeout_epoch_;
      return server_event::proxied{proxy_.header()};
    case proxy_status::error:
      fatal_ = true;
      close();
      return server_event::fatal_error{proxy_.error()->code, reply{}};
    case proxy_status::need_data:
      break;
  }
  if (in_.eof()) return closed_by_peer(proxy_.consumed() > 0);
  return server_event::need_data{};
}

server_event_t server::fail(errc code, const canned& suggested) {
  fatal_ = true;
  owed_.push_back({owed::other});
  return server_event::fatal_error{code, suggest(suggested.code, suggested.status, suggested.text)};
}

server_event_t server::refuse(const command_error& e, std::string_view line, const canned& suggested) {
  return refuse(e, line, suggest(suggested.code, suggested.status, suggested.text));
}

server_event_t server::refuse(const command_error& e, std::string_view line, const reply& suggested) {
  pipelined_next_ = false;
  // §4.5.3.1.10: a 452 for too many recipients is flow control; only the
  // overshoot past max_recipient_overshoot counts as an error.
  const bool counted = e.code == errc::shutting_down || e.code == errc::too_many_commands ? false
                       : e.code != errc::too_many_recipients ||
                             (options_.max_recipient_overshoot && ++overshoot_ > options_.max_recipient_overshoot);
  if (counted && options_.max_bad_commands && ++bad_commands_ > options_.max_bad_commands)
    return fail(errc::too_many_errors, make_canned(421, "4.7.0 Too many errors, closing the connection"));
  owed_.push_back({owed::other});
  return server_event::bad_command{e, line, suggested};
}

server_event_t server::closed_by_peer(bool unfinished) {
  close();
  return server_event::peer_closed{unfinished};
}

namespace {

// The error for a line cut at the limit: where its CRLF would have had to be.
command_error line_too_long(std::string_view cut) noexcept {
  command_error e;
  e.code = errc::line_too_long;
  e.offset = cut.size() >= 2 ? cut.size() - 2 : 0;
  e.reply = 500;
  e.enhanced = enhanced_status{5, 5, 6};
  return e;
}

}  // namespace

// The next complete line within `limit` octets (LF included); an over-long
// one is dropped to its LF without being kept (§4.5.3.1.4).
server::line_status server::take_line(std::size_t limit, std::string_view& line) {
  const std::size_t buffer = options_.receive_buffer ? options_.receive_buffer : std::numeric_limits<std::size_t>::max();
  limit = limit ? std::min(limit, buffer) : buffer;
  for (;;) {
    const auto held = buffered();
    if (skipping_line_) {
      const auto lf = held.find('\n');
      const auto skip = lf == std::string_view::npos ? held.size() : lf + 1;
      in_.consume(skip);
      skipped_ += skip;  // (the rest of a refused line restarts no timeout: timeout_epoch())
      if (lf == std::string_view::npos) return line_status::need_data;
      skipping_line_ = false;
      continue;
    }
    const auto lf = held.substr(0, limit).find('\n');
    if (lf != std::string_view::npos) {
      line = held.substr(0, lf + 1);
      in_.consume(line.size());
      return line_status::line;
    }
    if (held.size() < limit) return line_status::need_data;
    line = held.substr(0, limit);
    in_.consume(limit);  // the rest of the line is dropped as it comes
    skipping_line_ = true;
    return line_status::too_long;
  }
}

server_event_t server::next_command() {
  std::string_view line;
  switch (take_line(options_.commands.max_line_length, line)) {
    case line_status::line:
      return command_event(line);
    case line_status::too_long:
      return refuse(line_too_long(line), line, make_canned(500, "5.5.6 Line too long"));
    case line_status::need_data:
      break;
  }
  if (in_.eof()) return closed_by_peer(!buffered().empty());
  return server_event::need_data{};
}

server_event_t server::next_auth_line() {
  std::string_view line;
  const auto status = take_line(options_.max_auth_line_length, line);
  if (status == line_status::need_data) {
    if (in_.eof()) return closed_by_peer(false);
    return server_event::need_data{};
  }
  mode_ = mode::commands;  // unless the application answers 334 again
  if (status == line_status::too_long)  // RFC 4954 §4: the exchange fails with 500 5.5.6
    return refuse(line_too_long(line), line, make_canned(500, "5.5.6 Authentication Exchange line is too long"));
  auth_response_options o;
  o.max_line_length = options_.max_auth_line_length;
  o.allow_bare_lf = options_.commands.allow_bare_lf;
  o.reject_trailing_whitespace = options_.commands.reject_trailing_whitespace;
  const auto r = parse::auth_response(line, o);
  // RFC 4954 §4: a response that cannot be decoded ends the exchange, 501.
  if (!r) return refuse(r.error(), line, make_canned(501, "5.5.2 Cannot decode the response"));
  mode_ = mode::auth_line;
  owed_.push_back({owed::auth});
  return server_event::auth_response{*r, suggest(auth_refused_reply.code, auth_refused_reply.status, auth_refused_reply.text)};
}

server_event_t server::command_event(std::string_view line) {
  // Sent before the previous reply arrived?
  const bool pipelined = pipelined_next_ || !owed_.empty();
  pipelined_next_ = false;
  auto opts = options_.commands;
  // RFC 6531 §3.4: UTF-8 in MAIL once SMTPUTF8 is offered; in RCPT only
  // when this transaction's MAIL asked for it.
  const bool rcpt = line.size() > 4 && line[4] == ' ' && detail::ldh_iequals(line.substr(0, 4), "RCPT");
  opts.smtputf8 = rcpt ? smtputf8_txn_ : (options_.smtputf8 && esmtp_);
  line_notes notes;
  auto parsed = parse::command_line(line, opts, notes);
  if (!parsed) {
    const auto& e = parsed.error();
    return refuse(e, line, suggest(e.reply, e.enhanced, suggestion_text(e, suggestion_)));
  }
  command_error e;
  if (draining_ && traits_of(*parsed).new_work) {
    // RFC 5321 §3.8: the service is going down; 421 closes the channel.
    e.code = errc::shutting_down;
    e.reply = 421;
    e.enhanced = enhanced_status{4, 3, 2};
    suggestion_.assign(options_.hostname).append(" ").append(shutting_down_text);
    return refuse(e, line, suggest(e.reply, e.enhanced, suggestion_));
  }
  // (The option first: the common case pays one test.)
  const auto no_mail = [](const sansmtp::command& v) {
    return std::holds_alternative<cmd::noop>(v) || std::holds_alternative<cmd::rset>(v) ||
           std::holds_alternative<cmd::vrfy>(v) || std::holds_alternative<cmd::expn>(v) ||
           std::holds_alternative<cmd::help>(v);
  };
  if (options_.max_non_transaction_commands && no_mail(*parsed) &&
      ++junk_commands_ > options_.max_non_transaction_commands) {
    // Commands that start no mail, past their budget: 421 closes.
    e.code = errc::too_many_commands;
    e.reply = 421;
    e.enhanced = enhanced_status{4, 7, 0};
    suggestion_.assign(options_.hostname).append(" Too many commands without mail, closing");
    return refuse(e, line, suggest(e.reply, e.enhanced, suggestion_));
  }
  if (const auto refusal = check_state(*parsed, e)) {
    if (const auto* b = std::get_if<cmd::bdat>(&*parsed)) {
      // RFC 3030 §2: the chunk is on the wire already: read it and drop it
      // (read as commands it would be an injection), then refuse.
      chunk_left_ = b->size;
      chunk_last_ = b->last;
      chunk_refused_ = true;
      refused_line_.assign(line);
      refused_chunk_error_ = e;
      refused_chunk_reply_ = refusal;
      mode_ = mode::bdat;
      return next_bdat();
    }
    return refuse(e, line, *refusal);
  }
  server_event::command event{std::move(*parsed), line, notes, false, early_, {}};
  early_ = false;
  event.unadvertised_pipelining = pipelined && !(esmtp_ && options_.pipelining);
  const auto& c = event.value;
  const auto accept = [&](const canned& r) { event.suggested = suggest(r.code, r.status, r.text); };
  switch (traits_of(c).sequence) {
    case verb_class::hello: {
      const bool esmtp = !std::holds_alternative<cmd::helo>(c);
      owed_.push_back({owed::hello, true, esmtp});
      event.suggested = hello_reply({}, esmtp);
      break;
    }
    case verb_class::mail: {
      const auto& p = std::get<cmd::mail>(c).params;
      owed_.push_back({owed::mail, true, false, p.smtputf8, p.body == body_type::binary_mime});
      accept(accept_mail);
      break;
    }
    case verb_class::rcpt:
      owed_.push_back({owed::rcpt});
      accept(accept_rcpt);
      break;
    case verb_class::data:
      owed_.push_back({owed::data});
      accept(accept_data);
      break;
    case verb_class::bdat: {
      const auto& b = std::get<cmd::bdat>(c);
      chunk_left_ = b.size;
      chunk_last_ = b.last;
      chunk_refused_ = false;
      if (!bdat_used_) {  // the first chunk of this message
        bdat_used_ = true;
        message_size_ = 0;
        message_error_.reset();
        size_error_.reset();
        chunk_prev_cr_ = false;
        line_start_ = 0;
      }
      owed_.push_back({b.last ? owed::message : owed::chunk, false});
      if (b.last) message_replies_left_ = options_.lmtp ? recipients_ : 1;
      mode_ = mode::bdat;
      break;
    }
    case verb_class::starttls:
      if (!buffered().empty()) {
        // CVE-2011-0411: commands pipelined after STARTTLS would be taken
        // as if they had come over TLS.
        if (options_.after_starttls == starttls_injection::reject)
          return fail(errc::starttls_injection, make_canned(554, "5.5.0 Commands pipelined after STARTTLS"));
        in_.discard_unread();
      }
      owed_.push_back({owed::starttls});
      accept(accept_starttls);
      break;
    case verb_class::auth:
      owed_.push_back({owed::auth});
      accept(auth_refused_reply);  // an accept-all server knows no credentials
      break;
    case verb_class::anytime:
      if (std::holds_alternative<cmd::quit>(c)) {
        owed_.push_back({owed::quit});
        suggestion_ = options_.hostname + " Service closing transmission channel";  // §4.2.2, §3.8
        event.suggested = suggest(221, enhanced_status{2, 0, 0}, suggestion_);
        break;
      }
      owed_.push_back({std::holds_alternative<cmd::rset>(c) ? owed::rset : owed::other});
      accept(std::holds_alternative<cmd::vrfy>(c)   ? accept_vrfy
             : std::holds_alternative<cmd::expn>(c) ? accept_expn
             : std::holds_alternative<cmd::help>(c) ? accept_help
                                                    : accept_other);
      break;
  }
  return event;
}

server_state server::state() const noexcept {
  if (closed_) return server_state::closed;
  // Every mode but commands is a state of its own (in the order of mode).
  constexpr server_state of_mode[] = {server_state::idle,          server_state::data,        server_state::chunk,
                                      server_state::auth,          server_state::tls_handshake, server_state::proxy_header};
  if (mode_ != mode::commands) return of_mode[static_cast<std::size_t>(mode_)];
  if (!greeted_) return server_state::greeting;
  constexpr server_state of[] = {server_state::awaiting_hello, server_state::idle, server_state::mail,
                                 server_state::rcpt, server_state::bdat};
  return of[static_cast<std::size_t>(command_sequence())];
}

// The column of the sequence table the session is in when it reads a
// command: state()'s command-reading states.
detail::sequence server::command_sequence() const noexcept {
  using detail::sequence;
  if (!hello_) return sequence::no_hello;
  if (!in_transaction_) return sequence::hello;
  return bdat_used_ ? sequence::bdat : recipients_ ? sequence::rcpt : sequence::mail;
}

std::string_view server_state_name(server_state s) noexcept {
  constexpr std::string_view names[] = {"greeting", "awaiting_hello", "idle", "mail",          "rcpt",   "bdat",
                                        "data",     "chunk",          "auth", "tls_handshake", "closed", "proxy_header"};
  static_assert(std::size(names) == static_cast<std::size_t>(server_state::proxy_header) + 1);
  return names[static_cast<std::size_t>(s)];
}


const canned* server::check_state(const sansmtp::command& c, command_error& e) const {
  const auto refuse_with = [&](errc code, const canned& r) -> const canned* {
    e.code = code;
    e.offset = 0;
    e.reply = r.code;
    e.enhanced = r.status;
    return &r;
  };
  // §3.1: after a 554 greeting, only QUIT.
  if (greeting_rejected_ && !std::holds_alternative<cmd::quit>(c))
    return refuse_with(errc::bad_sequence, bad_sequence_reply);
  const auto v = traits_of(c).sequence;
  // RFC 2033 §4.1: LMTP has LHLO and no EHLO/HELO; SMTP has no LHLO.
  if (v == verb_class::hello && options_.lmtp != std::holds_alternative<cmd::lhlo>(c))
    return refuse_with(errc::invalid_verb, options_.lmtp ? use_lhlo : use_ehlo);
  if (std::holds_alternative<cmd::unknown>(c))
    return refuse_with(errc::invalid_verb, unrecognized);
  // Not offered: 502 whatever the state.
  if (v == verb_class::bdat && !options_.chunking)
    return refuse_with(errc::not_offered, bdat_not_offered);
  if (v == verb_class::starttls && (!options_.starttls || tls_))
    return refuse_with(errc::not_offered, starttls_not_offered);
  if (v == verb_class::auth && options_.auth_mechanisms.empty())
    return refuse_with(errc::not_offered, auth_not_offered);
  // The transition table; RFC 3030 §2: DATA after BDAT is a bad sequence.
  if (!detail::sequence_allows(command_sequence(), v))
    return refuse_with(errc::bad_sequence, bad_sequence_reply);
  if (const auto* m = std::get_if<cmd::mail>(&c)) {
    const auto& p = m->params;
    // RFC 8689 §4: configured but not offered now, because TLS is not up.
    if (p.requiretls && options_.requiretls && !tls_)
      return refuse_with(errc::encryption_required, requiretls_needs_tls);
    if (const auto needed = extensions_needed(p); needed && (needed & ~offered_extensions()))
      return refuse_with(errc::not_offered, not_offered_param);
    // Offered (the check above), within what the EHLO line advertised.
    if (p.by && p.by->mode == 'R' && options_.deliverby && p.by->seconds < *options_.deliverby)
      return refuse_with(errc::value_out_of_range, by_below_minimum);
    if (options_.futurerelease) {
      if (p.holdfor && *p.holdfor > options_.futurerelease_max_interval)
        return refuse_with(errc::value_out_of_range, holdfor_too_long);
      if (p.holduntil) {
        const auto when = detail::date_time_instant_of(*p.holduntil);
        const auto latest = detail::date_time_instant_of(options_.futurerelease_max_datetime);
        if (!when || !latest || detail::compare_instants(*when, *latest) > 0)
          return refuse_with(errc::value_out_of_range, holduntil_too_late);
      }
    }
    // RFC 1870 §6.1: larger than the fixed maximum.
    if (options_.max_message_size && p.size && *p.size > options_.max_message_size)
      return refuse_with(errc::message_too_large, message_too_large_reply);
    if (options_.max_transactions && transactions_ >= options_.max_transactions)
      return refuse_with(errc::too_many_transactions, too_many_transactions_reply);
  }
  if (const auto* r = std::get_if<cmd::rcpt>(&c)) {
    const auto& p = r->params;
    // RRVS (RFC 7293) is never offered.
    const auto needed = extensions_needed(p);
    if ((needed && (needed & ~offered_extensions())) || p.rrvs) return refuse_with(errc::not_offered, not_offered_param);
    // §4.5.3.1.10: too many recipients is 452.
    if (options_.max_recipients && recipients_ >= options_.max_recipients)
      return refuse_with(errc::too_many_recipients, too_many_recipients_reply);
  }
  // RFC 3030 §3: a BINARYMIME message cannot use DATA.
  if (v == verb_class::data && binarymime_) return refuse_with(errc::bad_sequence, bad_sequence_reply);
  if (const auto* a = std::get_if<cmd::auth>(&c)) {
    // RFC 4954 §4: one successful AUTH per session, after EHLO.
    if (authenticated_ || !esmtp_) return refuse_with(errc::bad_sequence, bad_sequence_reply);
    if (!tls_ && !options_.allow_auth_without_tls)
      return refuse_with(errc::encryption_required, encryption_required_reply);
    const auto& mechanisms = options_.auth_mechanisms;
    if (std::find(mechanisms.begin(), mechanisms.end(), a->mechanism) == mechanisms.end())
      return refuse_with(errc::not_offered, unknown_mechanism);
  }
  return nullptr;
}

namespace {

constexpr std::uint32_t bit(extension e) noexcept { return std::uint32_t{1} << static_cast<unsigned>(e); }

// The EHLO reply's keywords, in the order it lists them.
constexpr extension ehlo_order[] = {extension::pipelining, extension::size,     extension::eightbitmime,
                                    extension::smtputf8,   extension::chunking, extension::binarymime,
                                    extension::dsn,        extension::enhancedstatuscodes,
                                    extension::starttls,   extension::auth,     extension::limits,
                                    extension::requiretls, extension::deliverby, extension::mt_priority,
                                    extension::futurerelease};

}  // namespace

// What the EHLO reply offers now, as capabilities::present holds it: the
// one place that decides, for the reply (hello_reply()) and for the
// parameters MAIL and RCPT may carry (offered_extensions()).
std::uint32_t server::offered_now() const noexcept {
  std::uint32_t offered = bit(extension::size);  // always (RFC 1870 §4: no fixed maximum is SIZE alone)
  if (options_.pipelining) offered |= bit(extension::pipelining);
  if (options_.eightbitmime) offered |= bit(extension::eightbitmime);
  if (options_.smtputf8) offered |= bit(extension::smtputf8);
  if (options_.chunking) offered |= bit(extension::chunking);
  if (options_.chunking && options_.binarymime) offered |= bit(extension::binarymime);  // RFC 3030 §3
  if (options_.dsn) offered |= bit(extension::dsn);
  if (options_.enhancedstatuscodes) offered |= bit(extension::enhancedstatuscodes);
  if (options_.starttls && !tls_) offered |= bit(extension::starttls);  // RFC 3207 §4.2: not after TLS
  // RFC 4954 §4: once per session, and not before TLS unless allowed.
  if (!options_.auth_mechanisms.empty() && !authenticated_ && (tls_ || options_.allow_auth_without_tls))
    offered |= bit(extension::auth);
  if (options_.limits && (options_.max_recipients || options_.max_transactions)) offered |= bit(extension::limits);  // RFC 9422 §4
  if (options_.requiretls && tls_) offered |= bit(extension::requiretls);  // RFC 8689 §4: only over TLS
  if (options_.deliverby) offered |= bit(extension::deliverby);            // RFC 2852
  if (options_.mt_priority) offered |= bit(extension::mt_priority);        // RFC 6710
  if (options_.futurerelease) offered |= bit(extension::futurerelease);    // RFC 4865
  return offered;
}

// The extensions a MAIL or RCPT parameter may ask for (extensions_needed()):
// what EHLO offers now, and AUTH= (RFC 4954 §5) whenever AUTH is
// configured: after a successful AUTH it is no longer offered, and the
// parameter is then what it is for.
std::uint32_t server::offered_extensions() const noexcept {
  return offered_now() | (options_.auth_mechanisms.empty() ? 0 : bit(extension::auth));
}

// Counts n more message octets; returns how many of them to hand out: past
// the size limit the body is still read to its end, but not handed out
// (whatever the chunking, the application sees the same first octets).
std::size_t server::count_message_bytes(std::size_t n) noexcept {
  const auto max = options_.max_message_size;
  const auto before = message_size_;
  message_size_ += n;
  if (!max || message_size_ <= max) return n;
  if (!size_error_) size_error_ = parse_error{errc::message_too_large, max};
  return before >= max ? 0 : static_cast<std::size_t>(max - before);
}

server_event_t server::next_data() {
  if (message_done_) {
    message_done_ = false;
    return end_message();
  }
  for (;;) {
    const auto piece = decoder_.next(buffered());
    in_.consume(piece.consumed);
    const auto deliver = piece.bytes.empty() ? 0 : count_message_bytes(piece.bytes.size());
    const server_event::message_data data{piece.bytes.subspan(0, deliver)};
    if (piece.status == data_status::end_of_data) {
      if (!deliver) return end_message();
      message_done_ = true;
      return data;
    }
    if (deliver) return data;
    if (piece.status == data_status::need_data) {
      if (in_.eof()) return closed_by_peer(true);
      return server_event::need_data{};
    }
  }
}

server_event_t server::end_message() {
  mode_ = mode::commands;
  server_event::message_end end;
  end.size = message_size_;
  // The earliest fault: the text's (bare CR/LF, line length; from the DATA
  // decoder or the BDAT scan), or the size.
  const auto& text_error = decoder_.error() ? decoder_.error() : message_error_;
  end.error = text_error ? text_error : size_error_;
  if (text_error && size_error_ && size_error_->offset < text_error->offset) end.error = size_error_;
  const canned& answer = !end.error                                  ? accept_message
                         : end.error->code == errc::message_too_large ? message_too_large_reply
                                                                      : bare_line_end_reply;
  end.suggested = suggest(answer.code, answer.status, answer.text);
  end.replies_owed = message_replies_left_ ? message_replies_left_ : 1;
  decoder_.reset();
  // A DATA message owes its replies now; a BDAT LAST's first one was queued
  // with the command and becomes ready.
  std::size_t queue = end.replies_owed;
  for (auto& a : owed_.items())
    if (a.what == owed::message && !a.ready) {
      a.ready = true;
      --queue;
      break;
    }
  for (; queue > 0; --queue) owed_.push_back({owed::message});
  return end;
}

namespace {

// The first bare line end in a BDAT chunk that a rule is about: an LF not
// after a CR (when `lf`), or a CR not before an LF (when `cr`), `prev_cr`
// saying whether the octet before `bytes` was a CR. `at` is the octet that
// makes it bare: the LF itself, or the one after the CR (0 when the CR was
// the previous chunk's last octet); npos when there is none.
struct bare_line_end {
  std::size_t at = std::string_view::npos;
  errc what = errc::ok;
};

bare_line_end first_bare(std::string_view bytes, bool prev_cr, bool lf, bool cr) noexcept {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (prev_cr && c != '\n' && cr) return {i, errc::bare_cr};
    if (c == '\n' && !prev_cr && lf) return {i, errc::bare_lf};
    prev_cr = c == '\r';
  }
  return {};
}

}  // namespace

// RFC 3030 §3: BDAT text (not BINARYMIME) is canonical CRLF text; under the
// `reject` policies a bare CR or LF in a chunk is reported as in DATA
// (normalize_step() does what `normalize` asks; both find it with first_bare()).
// RFC 5321 §4.5.3.1.6 holds for BDAT text as for DATA: a line of more than
// max_line_length octets (CRLF included) is reported at the same offset the
// DATA decoder gives it; only BINARYMIME data has no lines (RFC 3030 §3).
void server::scan_chunk(std::string_view bytes) noexcept {
  if (binarymime_) return;
  const auto max = options_.data.max_line_length;
  std::optional<parse_error> found;
  const auto keep = [&](errc code, std::uint64_t at) {
    // The earliest fault; at one offset a bare CR or LF outranks the line limit.
    if (!found || at < found->offset || (at == found->offset && code < found->code)) found = parse_error{code, at};
  };
  const auto bare = first_bare(bytes, chunk_prev_cr_, options_.data.bare_lf == bare_line_ending::reject,
                               options_.data.bare_cr == bare_line_ending::reject);
  // A bare CR is reported where the CR is: one octet before the octet after it.
  if (bare.at != std::string_view::npos)
    keep(bare.what, message_size_ + bare.at - (bare.what == errc::bare_cr ? 1 : 0));
  for (std::uint64_t at = message_size_; !bytes.empty();) {
    const auto lf = bytes.find('\n');
    const auto last = at + (lf == std::string_view::npos ? bytes.size() - 1 : lf);  // the line's last octet here
    if (max && last >= line_start_ + max) keep(errc::line_too_long, line_start_ + max);
    if (lf == std::string_view::npos) break;
    at += lf + 1;
    line_start_ = at;
    bytes.remove_prefix(lf + 1);
  }
  if (found && (!message_error_ || found->offset < message_error_->offset)) message_error_ = found;
}

// Under the `normalize` policies a bare CR or LF in a chunk is delivered as
// CRLF, as the DATA decoder delivers it, so that a message arrives the same
// whichever way it came: the CRLF that stands in for one (an LF for a CR
// already delivered, or CRLF for an LF, which is then consumed), or else how
// many octets before the next bare one can go as they are (at least one).
server::bdat_step server::normalize_step(std::string_view bytes, bool lf, bool cr) const noexcept {
  const auto bare = first_bare(bytes, chunk_prev_cr_, lf, cr);
  if (bare.at == 0) return bare.what == errc::bare_cr ? bdat_step{"\n", 0} : bdat_step{"\r\n", 1};
  return {{}, std::min(bare.at, bytes.size())};
}

server_event_t server::next_bdat() {
  const bool lf = !binarymime_ && options_.data.bare_lf == bare_line_ending::normalize;
  const bool cr = !binarymime_ && options_.data.bare_cr == bare_line_ending::normalize;
  // How much of an inserted CRLF to deliver (none past the size limit).
  const auto insert = [&](std::string_view crlf) {
    chunk_prev_cr_ = false;
    const server_event::message_data data{{crlf.data(), count_message_bytes(crlf.size())}};
    line_start_ = message_size_;  // the inserted line end ends the line
    return data;
  };
  while (chunk_left_ > 0) {
    const auto held = buffered();
    if (held.empty()) {
      if (in_.eof()) return closed_by_peer(true);
      return server_event::need_data{};
    }
    auto bytes = held.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, held.size())));
    if (!chunk_refused_ && (lf || cr)) {
      const auto step = normalize_step(bytes, lf, cr);
      if (!step.insert.empty()) {
        in_.consume(step.take);
        chunk_left_ -= step.take;
        if (const auto data = insert(step.insert); !data.bytes.empty()) return data;
        continue;
      }
      bytes = bytes.substr(0, step.take);
    }
    in_.consume(bytes.size());
    chunk_left_ -= bytes.size();
    if (chunk_refused_) continue;  // read and dropped
    scan_chunk(bytes);
    chunk_prev_cr_ = bytes.back() == '\r';
    const auto deliver = count_message_bytes(bytes.size());
    if (deliver) return server_event::message_data{{bytes.data(), deliver}};
  }
  // The message's last octet is a CR delivered without its LF.
  if (chunk_last_ && !chunk_refused_ && chunk_prev_cr_ && cr)
    if (const auto data = insert("\n"); !data.bytes.empty()) return data;
  return end_chunk();
}

server_event_t server::end_chunk() {
  mode_ = mode::commands;
  if (chunk_refused_) {
    chunk_refused_ = false;
    return refuse(refused_chunk_error_, refused_line_, *refused_chunk_reply_);
  }
  if (chunk_last_) {
    if (chunk_prev_cr_ && options_.data.bare_cr == bare_line_ending::reject && !binarymime_ && !message_error_)
      message_error_ = parse_error{errc::bare_cr, message_size_ - 1};
    return end_message();
  }
  owed_.back().ready = true;  // the chunk's own entry, queued with its command
  return server_event::chunk_end{message_size_, suggest(accept_chunk.code, accept_chunk.status, accept_chunk.text)};
}

// --- replies -------------------------------------------------------------------

// What `code` does as the answer to what is owed (the reply table's cell):
// cannot_answer when nothing is owed now, or the code cannot answer it (a
// greeting is 220, 554 or 421, §3.1; 354 answers DATA only, §4.3.2).
detail::reply_effect server::reply_effect_for(int code) const noexcept {
  if (owed_.empty() || !owed_.front().ready || (closed_ && !fatal_) || mode_ == mode::proxy)
    return detail::reply_effect::cannot_answer;
  return detail::reply_effect_of(owed_.front().what, code);
}

std::error_code server::send(const reply& r) {
  if (closed_) return errc::session_closed;
  const auto effect = reply_effect_for(r.code);
  if (effect == detail::reply_effect::cannot_answer) return errc::invalid_state;
  if (r.code == 334 && r.lines.empty()) {
    // RFC 4954 §4: continue-req = "334" SP [base64] CRLF: the SP stays
    // when the challenge is empty (PLAIN's, RFC 4616 §2).
    out_.append("334 \r\n");
  } else if (auto ec = out_.append_with([&](std::string& o) { return write_reply(o, r.code, r.enhanced, r.lines); })) {
    return ec;
  }
  const auto answered = owed_.front();
  owed_.pop_front();
  apply_reply(answered, effect, r.code);
  return {};
}

std::error_code server::send(int code, std::string_view text) {
  const auto split = split_status(code, text);  // (not a structured binding: clang 14 cannot capture one)
  const std::string_view paragraphs[] = {split.second};
  reply r;
  r.code = code;
  r.enhanced = split.first;
  if (!split.second.empty()) r.lines = paragraphs;
  return send(r);
}

// 250 to EHLO/LHLO (or HELO: `esmtp` false) with what this session offers
// now, its lines held by the session until the next event.
reply server::hello_reply(std::string_view greeting, bool esmtp) {
  return hello_reply(greeting, esmtp, ehlo_lines_, ehlo_views_);
}

reply server::hello_reply(std::string_view greeting, bool esmtp, std::vector<std::string>& lines,
                          std::vector<std::string_view>& views) const {
  lines.clear();
  lines.push_back(options_.hostname);
  if (!greeting.empty()) lines.back().append(" ").append(greeting);
  if (esmtp) {
    // The keywords as the capabilities table writes them (extension_keyword()),
    // with their parameters.
    const auto offered = offered_now();
    for (const auto e : ehlo_order) {
      if (!(offered & bit(e))) continue;
      auto& line = lines.emplace_back(extension_keyword(e));
      if (e == extension::size && options_.max_message_size)
        line.append(" ").append(std::to_string(options_.max_message_size));  // alone: RFC 1870 §4, no fixed maximum
      if (e == extension::auth)
        for (const auto& m : options_.auth_mechanisms) line.append(" ").append(m);
      if (e == extension::limits) {  // RFC 9422 §4
        if (options_.max_recipients) line.append(" RCPTMAX=").append(std::to_string(options_.max_recipients));
        if (options_.max_transactions) line.append(" MAILMAX=").append(std::to_string(options_.max_transactions));
      }
      if (e == extension::deliverby && *options_.deliverby)  // RFC 2852 §4: [ SP min-by-time ]
        line.append(" ").append(std::to_string(*options_.deliverby));
      if (e == extension::mt_priority && !options_.mt_priority_profile.empty())  // RFC 6710 §3: [ SP priority-profile ]
        line.append(" ").append(options_.mt_priority_profile);
      if (e == extension::futurerelease)  // RFC 4865 §3: SP interval SP date-time
        line.append(" ")
            .append(std::to_string(options_.futurerelease_max_interval))
            .append(" ")
            .append(options_.futurerelease_max_datetime);
    }
  }
  views.assign(lines.begin(), lines.end());
  reply r;
  r.code = 250;
  r.lines = views;
  return r;
}

std::error_code server::send_ehlo_reply(std::string_view greeting) {
  if (closed_) return errc::session_closed;
  if (owed_.empty() || owed_.front().what != owed::hello) return errc::invalid_state;
  // Built apart from the EHLO event's `suggested`, whose views stay valid.
  std::vector<std::string> lines;
  std::vector<std::string_view> views;
  return send(hello_reply(greeting, owed_.front().esmtp, lines, views));
}

// Performs the reply table's cell (server_transitions.hpp) for `code`
// answering `answered`.
void server::apply_reply(const awaiting& answered, detail::reply_effect cell, int code) {
  ++timeout_epoch_;  // answered: the wait for the next command starts now
  // Bytes already here were sent before this reply could be read.
  if (mode_ == mode::commands && !buffered().empty()) pipelined_next_ = true;
  using effect = detail::reply_effect;
  switch (cell) {
    case effect::greeted:
    case effect::greeting_refused:
      greeted_ = true;
      greeting_rejected_ = code == 554;
      early_ = !buffered().empty();  // the client talked first
      pipelined_next_ = false;
      break;
    case effect::hello_done:
      hello_ = true;
      esmtp_ = answered.esmtp;
      abandon_transaction(server_event::transaction_reset::reason::hello);
      break;
    case effect::open_transaction:
      in_transaction_ = true;
      ++transactions_;
      smtputf8_txn_ = answered.smtputf8;
      binarymime_ = answered.binarymime;
      break;
    case effect::add_recipient:
      ++recipients_;
      break;
    case effect::start_data:
      mode_ = mode::data;
      message_size_ = 0;
      message_error_.reset();
      size_error_.reset();
      message_done_ = false;
      message_replies_left_ = options_.lmtp ? recipients_ : 1;
      pipelined_next_ = false;
      break;
    case effect::message_answered:
      if (message_replies_left_ > 1) {
        --message_replies_left_;
      } else {
        message_replies_left_ = 0;
        reset_transaction();  // delivered or refused, the transaction is over
      }
      break;
    case effect::auth_challenge:
      mode_ = mode::auth_line;
      break;
    case effect::auth_succeeded:
      authenticated_ = true;
      mode_ = mode::commands;
      break;
    case effect::auth_ended:
      mode_ = mode::commands;
      break;
    case effect::start_tls:
      mode_ = mode::tls_pending;
      // Received after STARTTLS: never parsed. Set aside, but the buffer
      // itself stays as it is until the next receive() (compact()), so the
      // STARTTLS event's views outlive this send() (the lifetime rule,
      // docs/design.md).
      in_.set_aside();
      break;
    case effect::reset:
      abandon_transaction(server_event::transaction_reset::reason::rset);
      break;
    case effect::close:
      close();
      break;
    case effect::none:
    case effect::cannot_answer:  // (send() refused it already)
      break;
  }
  if (fatal_) close();  // a fatal error's reply ends the session
}

void server::abandon_transaction(server_event::transaction_reset::reason why) noexcept {
  if (in_transaction_ || bdat_used_) reset_pending_ = why;
  reset_transaction();
}

void server::reset_transaction() noexcept {
  overshoot_ = 0;
  in_transaction_ = false;
  bdat_used_ = false;
  binarymime_ = false;
  smtputf8_txn_ = false;
  recipients_ = 0;
  message_size_ = 0;
  message_error_.reset();
  size_error_.reset();
}

void server::close() noexcept {
  closed_ = true;
  mode_ = mode::commands;
}

// --- output, flow control, TLS, time ----------------------------------------------


bool server::wants_read() const noexcept {
  if (closed_ || in_.eof() || mode_ == mode::tls_pending) return false;
  if (options_.output_high_water != 0 && out_.size() > options_.output_high_water) return false;
  if ((mode_ == mode::commands || mode_ == mode::auth_line) && waiting_for_reply()) return false;
  return receive_capacity() > 0;
}

std::error_code server::tls_established() {
  if (mode_ != mode::tls_pending || closed_) return errc::invalid_state;
  if (const auto ec = in_.end_set_aside(options_.after_starttls)) {
    close();  // CVE-2011-0411: plaintext sent after STARTTLS; drop the connection
    return ec;
  }
  tls_ = true;
  // RFC 3207 §4.2: forget what the client said before; EHLO again.
  hello_ = esmtp_ = authenticated_ = false;
  abandon_transaction(server_event::transaction_reset::reason::tls);
  mode_ = mode::commands;
  ++timeout_epoch_;
  return {};
}

std::chrono::seconds server::timeout() const noexcept {
  if (closed_ || mode_ == mode::tls_pending) return std::chrono::seconds{0};
  if ((mode_ == mode::commands || mode_ == mode::auth_line) && waiting_for_reply()) return std::chrono::seconds{0};
  return options_.command_timeout;
}

// An unsolicited 421 with the host name, then closed (RFC 5321 §3.8: it
// may answer anything); the text without the name when the name does not
// fit. Before the PROXY header nothing is written: the session just closes.
void server::close_with_421(const enhanced_status& status, std::string_view why) {
  if (closed_) return;
  if (mode_ == mode::proxy) return close();  // no SMTP before the PROXY header (section 2)
  const std::string text = options_.hostname + " " + std::string(why);
  const std::string_view lines[] = {text};
  out_.append_with([&](std::string& o) {
    if (write_reply(o, 421, status, lines)) (void)write_reply(o, 421, status, {});  // without text it fits
    return 0;
  });
  close();
}

// §4.5.3.2: the server may close after its timeout, with 421.
void server::on_timeout() { close_with_421({4, 4, 2}, "Timeout waiting for the client, closing"); }

std::error_code server::on_time(std::chrono::steady_clock::time_point now) {
  if (!started_) started_ = now;
  if (closed_) return {};
  const auto& limit = options_.max_session_time;
  if (limit.count() > 0 && now - *started_ >= limit) {
    close_with_421({4, 4, 2}, "Session time limit reached, closing");
    return errc::session_too_long;
  }
  // The rate runs while message octets are read and the session wants them
  // (not while it waits for the application or the output).
  const auto& rate = options_.min_data_rate;
  const bool transferring = (mode_ == mode::data || mode_ == mode::bdat) && wants_read();
  if (rate.octets == 0 || rate.interval.count() <= 0 || !transferring) {
    rate_since_.reset();
    return {};
  }
  if (!rate_since_) {
    rate_since_ = now;
    rate_octets_ = in_.received();
    return {};
  }
  if (now - *rate_since_ < rate.interval) return {};
  if (in_.received() - rate_octets_ < rate.octets) {
    close_with_421({4, 4, 2}, "Transfer too slow, closing");
    return errc::transfer_too_slow;
  }
  rate_since_ = now;  // the next window
  rate_octets_ = in_.received();
  return {};
}

std::optional<std::chrono::steady_clock::time_point> server::next_deadline() const noexcept {
  if (closed_) return std::nullopt;
  std::optional<std::chrono::steady_clock::time_point> at;
  if (started_ && options_.max_session_time.count() > 0) at = *started_ + options_.max_session_time;
  if (rate_since_) {
    const auto end = *rate_since_ + options_.min_data_rate.interval;
    if (!at || end < *at) at = end;
  }
  return at;
}

// RFC 3463 X.3.2: system not accepting network messages.
void server::shutdown() { close_with_421({4, 3, 2}, shutting_down_text); }

}  // namespace sansmtp
