// The client session: the reply reader over what the server sends, a FIFO
// of the commands awaiting replies, the capabilities from the EHLO reply,
// and the DATA encoder for the body. Every decision depends only on the
// bytes received and the commands sent, so any chunking gives the same
// events.
#include <sansmtp/session/client.hpp>

#include <sansmtp/core/base64.hpp>

#include "ascii.hpp"
#include "date_time.hpp"
#include "sequence_table.hpp"

#include <algorithm>
#include <limits>

namespace sansmtp {

std::string_view reply_outcome_name(reply_outcome o) noexcept {
  switch (o) {
    case reply_outcome::completed:
      return "completed";
    case reply_outcome::intermediate:
      return "intermediate";
    case reply_outcome::refused:
      return "refused";
    case reply_outcome::closing:
      return "closing";
    case reply_outcome::protocol_error:
      return "protocol_error";
  }
  return "unknown";
}

client::client(client_options options)
    : session_core(options.receive_buffer), options_(std::move(options)), reader_(options_.replies), encoder_(options_.data) {
  expect(answered_command::greeting, true, 0);  // the server speaks first
  if (options_.open_automatically) open_ = open_state::running;
  tls_ = options_.implicit_tls;  // RFC 8314 §3: the greeting comes over TLS
}

bool client::received_after(std::uint64_t offset, std::uint64_t write) const noexcept {
  // (A reply's octets were received: there is a record that holds `offset`.)
  const auto held = received_.items();
  std::size_t i = 0;
  while (i + 1 < held.size() && offset >= held[i].end) ++i;
  return held[i].writes >= write;
}

// --- bytes in ------------------------------------------------------------------

bool client::wants_read() const noexcept { return phase_ != phase::tls_pending && receive_capacity() > 0; }

std::error_code client::receive(std::string_view bytes) {
  settle();
  if (const auto ec = in_.append(bytes, closed_)) return ec;
  if (in_.set_aside_active()) return {};
  // What was written by now is all these octets can answer.
  if (!received_.empty() && received_.back().writes == writes_)
    received_.back().end = in_.received();
  else
    received_.push_back({in_.received(), writes_});
  return {};
}

std::error_code client::receive_eof() { return in_.end(closed_); }

// --- events ----------------------------------------------------------------------

answered_command client::awaiting() const noexcept {
  return awaited_.empty() ? answered_command::unknown : awaited_.front().what;
}

bool client::unfinished() const noexcept { return phase_ == phase::body || !awaited_.empty(); }

client_event::fatal_error client::failure(errc code, client_event::fatal_error::cause why) const {
  client_event::fatal_error e;
  e.code = code;
  e.why = why;
  e.state = state();
  e.awaiting = awaiting();
  e.unfinished = unfinished();
  return e;
}

std::string_view client_fatal_cause_name(client_event::fatal_error::cause c) noexcept {
  using cause = client_event::fatal_error::cause;
  switch (c) {
    case cause::broken_reply:
      return "broken_reply";
    case cause::unasked_reply:
      return "unasked_reply";
    case cause::early_reply:
      return "early_reply";
    case cause::cannot_answer:
      return "cannot_answer";
    case cause::bare_line_ending:
      return "bare_line_ending";
    case cause::timeout:
      return "timeout";
    case cause::hello_not_sent:
      return "hello_not_sent";
    case cause::starttls_not_offered:
      return "starttls_not_offered";
    case cause::starttls_refused:
      return "starttls_refused";
    case cause::auth_not_sent:
      return "auth_not_sent";
  }
  return "unknown";
}

// A bare CR or LF the options refuse, found after part of the message went
// out: SMTP cannot abort DATA (the only end is CRLF.CRLF, which would
// deliver the message cut short), so the session ends; closing the
// connection makes the server discard what it received.
void client::fail_body(const data_error& e) {
  auto f = failure(e.code, client_event::fatal_error::cause::bare_line_ending);
  f.offset = e.offset;
  out_.clear();
  fatal_ = closed_ = true;
  phase_ = phase::closed;
  pending_fatal_ = std::move(f);
}

client_event_t client::take_pending_fatal() {
  auto e = std::move(*pending_fatal_);
  pending_fatal_.reset();
  return e;
}

client_event_t client::fail(client_event::fatal_error e) {
  // The peer broke the protocol: nothing queued goes out (a message's end
  // of data written now would complete a transaction the client gave up).
  out_.clear();
  fatal_ = closed_ = true;
  phase_ = phase::closed;
  return e;
}

// Work deferred from the calls that may come while an event's views are
// held (tls_established(), submit()) to the calls that end them.
void client::settle() {
  retired_.reset();  // a submission's results handed out before the next submit()
  if (!tls_settle_) return;
  tls_settle_ = false;
  in_.compact();  // everything up to the 220 was read; the rest was set aside
  received_.clear();
  reader_.reset();
  reply_start_ = in_.consumed();
}

client_event_t client::next_event() {
  settle();
  // The opening helper's AUTH got a 334 the application did not answer
  // (send_auth_response()) while it held the event: RFC 4954 §4, "*".
  if (open_auth_sent_ && auth_challenge_ && !closed_) (void)cancel_auth();
  if (submission_reported_) {  // the results handed out last time expire now
    submission_reported_ = false;
    sub_.reset();
  }
  if (report_submission_) {
    report_submission_ = false;
    submission_reported_ = true;
    return client_event::submitted{sub_->results, sub_->transactions};
  }
  if (pending_fatal_) return take_pending_fatal();
  if (closed_) return client_event::paused{client_event::paused::reason::closed};
  if (phase_ == phase::tls_pending) return client_event::paused{client_event::paused::reason::tls_handshake};
  if (phase_ == phase::body && sub_ && !submission_reported_) {
    if (sub_->bdat) {
      if (pump_chunks() == pump_result::output_full)
        return client_event::paused{client_event::paused::reason::write_output};
    } else if (!pump_body()) {
      return client_event::paused{client_event::paused::reason::write_output};
    }
    if (pending_fatal_) return take_pending_fatal();  // fail_body(): a refused bare CR/LF
    if (report_submission_) return next_event();      // stop_chunks() ended it: report before any reply
  }
  const auto step = reader_.next(in_.unread());
  in_.consume(step.consumed);
  if (step.status == reply_status::reply) {
    // An extra reply shifts every pairing after it: the reply to the next
    // command cannot have come before that command was written.
    const auto start = std::exchange(reply_start_, in_.consumed());
    const bool in_turn = awaited_.empty() || received_after(start, awaited_.front().write);
    while (!received_.empty() && received_.front().end <= reply_start_) received_.pop_front();
    return on_reply(reader_.current(), in_turn);
  }
  if (step.status == reply_status::error) {
    const auto& e = *reader_.error();
    auto f = failure(e.code, client_event::fatal_error::cause::broken_reply);
    f.offset = e.offset;
    return fail(std::move(f));
  }
  if (in_.eof()) {
    client_event::peer_closed event{unfinished(), state(),
                                    awaiting()};
    closed_ = true;
    phase_ = phase::closed;
    return event;
  }
  if (awaited_.empty()) return client_event::paused{client_event::paused::reason::ready};
  return client_event::need_data{};
}

client_event_t client::on_reply(const sansmtp::reply& r, bool in_turn) {
  using cause = client_event::fatal_error::cause;
  const auto unexpected = [&](cause why) {
    auto f = failure(errc::unexpected_reply, why);
    f.reply_code = r.code;
    return fail(std::move(f));
  };
  if (awaited_.empty()) return unexpected(cause::unasked_reply);
  const auto what = awaited_.front().what;
  if (!in_turn) return unexpected(cause::early_reply);
  const auto outcome = classify_reply(what, r.code);
  if (outcome == reply_outcome::protocol_error) return unexpected(cause::cannot_answer);
  awaited_.pop_front();
  ++timeout_epoch_;
  client_event::reply event{r, what, false};
  const bool positive = r.code / 100 == 2;
  switch (what) {
    case answered_command::greeting:
      // §3.1: 220, or 554 (then only QUIT makes sense).
      greeted_ = r.code == 220 || r.code == 554;
      greeting_rejected_ = r.code == 554;
      phase_ = phase::ready;
      break;
    case answered_command::ehlo:
      if (r.code == 250) {
        hello_ = esmtp_ = true;
        ehlo_lines_.assign(r.lines.begin(), r.lines.end());
        const std::vector<std::string_view> views(ehlo_lines_.begin(), ehlo_lines_.end());
        capabilities_ = parse::ehlo_response(r.code, views);
        mail_sent_ = rcpt_sent_ = false;
      } else if ((r.code == 500 || r.code == 502) && !options_.lmtp) {
        // RFC 5321 §4.1.4: a server that does not know EHLO; HELO instead.
        const auto helo = make_helo(options_.ehlo_name);
        event.fell_back_to_helo = helo && !write(helo->command(), answered_command::helo, true);
      }
      break;
    case answered_command::helo:
      if (r.code == 250) {
        hello_ = true;
        esmtp_ = false;
        capabilities_.reset();
        mail_sent_ = rcpt_sent_ = false;
      }
      break;
    case answered_command::mail:
      if (!positive) mail_sent_ = false;
      break;
    case answered_command::rcpt:
      if (positive) ++lmtp_replies_;
      if (lmtp_end_pending_ && !awaits(answered_command::rcpt)) {
        lmtp_end_pending_ = false;
        owe_lmtp_replies();
      }
      break;
    case answered_command::data:
      if (r.code == 354) {
        phase_ = phase::body;
        encoder_.reset();
      }
      break;
    case answered_command::end_of_data:
      if (!options_.lmtp || awaited_.empty() ||
          awaited_.front().what != answered_command::end_of_data) {
        mail_sent_ = rcpt_sent_ = smtputf8_txn_ = false;
        lmtp_replies_ = 0;
      }
      break;
    case answered_command::rset:
      if (positive) {
        mail_sent_ = rcpt_sent_ = smtputf8_txn_ = false;
        lmtp_replies_ = 0;
      }
      break;
    case answered_command::auth:
      auth_challenge_ = r.code == 334;
      if (r.code == 235) authenticated_ = true;
      break;
    case answered_command::starttls:
      if (r.code == 220) {
        // RFC 3207 §4.2: whatever came after the 220 is not trusted after
        // TLS (a forged "250-STARTTLS" or capability line).
        // The buffer itself (where this 220's lines may be) stays as it is
        // until the next receive() or next_event() after tls_established()
        // (settle()): the lifetime rule, docs/design.md.
        phase_ = phase::tls_pending;
        in_.set_aside();
      }
      break;
    default:
      break;
  }
  // §3.8: a 421 closes the channel; §4.1.1.10: after any reply to QUIT the
  // client closes (a 5xx to QUIT is no reason to send it again).
  if (outcome == reply_outcome::closing) {
    closed_ = true;
    phase_ = phase::closed;
  }
  if (sub_ && !report_submission_ && !submission_reported_) on_submission_reply(what, r);
  // The opening helper answers from the output queue: the reply's views (in
  // the receive buffer, or the reader's copies) are not touched.
  if (open_ == open_state::running) open_after_reply(what, r.code, event.fell_back_to_helo);
  return event;
}

// --- the opening helper (client_options::open_automatically) --------------------------

namespace {

// send_hello() and send_auth() refuse with this library's codes only (their
// own checks, and build_error::error_code()).
errc code_of(std::error_code ec) noexcept { return static_cast<errc>(ec.value()); }

}  // namespace

void client::open_after_reply(answered_command what, int code, bool fell_back) {
  if (closed_) return;  // 421 (RFC 5321 §3.8), or the reply to QUIT
  switch (what) {
    case answered_command::greeting:
      if (code == 220) {
        open_send_hello();
      } else if (code == 554) {
        open_quit();  // §3.1: the server waits for QUIT
      } else {
        // §3.1 allows 220 or 554 (421 closed above): after any other
        // refusal nothing may be sent, not even QUIT.
        open_ = open_state::given_up;
        closed_ = true;
        phase_ = phase::closed;
      }
      break;
    case answered_command::ehlo:
      if (code == 250)
        open_after_hello();
      else if (!fell_back)  // on_reply sent HELO for a 500/502 (§4.1.4)
        open_quit();
      break;
    case answered_command::helo:
      if (code == 250)
        open_after_hello();
      else
        open_quit();
      break;
    case answered_command::starttls:
      if (code == 220) break;  // paused{tls_handshake}; tls_established() sends EHLO again
      // RFC 3207 §4: after a refusal the client decides whether to go on.
      if (options_.starttls == tls_policy::required) {
        auto f = failure(errc::starttls_unavailable, client_event::fatal_error::cause::starttls_refused);
        f.reply_code = code;
        open_give_up(std::move(f));
      } else {
        open_auth();  // opportunistic: in plaintext
      }
      break;
    case answered_command::auth:
      if (code == 334) break;  // the application answers it, or next_event() cancels it
      // 235, or a refusal: the opening is over either way (authenticated() says which).
      open_auth_sent_ = false;
      open_ = open_state::done;
      break;
    default:
      break;
  }
}

void client::open_send_hello() {
  const auto ec = send_hello();
  if (!ec) return;
  auto f = failure(code_of(ec), client_event::fatal_error::cause::hello_not_sent);
  f.argument = options_.ehlo_name;
  open_give_up(std::move(f));
}

void client::open_after_hello() {
  // (The hello's reply left nothing awaited, so STARTTLS goes when wanted.)
  if (starttls_wanted() && !send(cmd::starttls{})) return;
  if (options_.starttls == tls_policy::required && !tls_) {
    open_give_up(failure(errc::starttls_unavailable, client_event::fatal_error::cause::starttls_not_offered));
    return;
  }
  open_auth();
}

// RFC 4954 §4: AUTH once, after the last EHLO (after TLS, when there is TLS).
void client::open_auth() {
  if (!options_.auth || authenticated_) {
    open_ = open_state::done;
    return;
  }
  const auto& a = *options_.auth;
  const auto ec = a.initial_response.empty() ? send_auth(a.mechanism) : send_auth(a.mechanism, a.initial_response);
  if (ec) {
    auto f = failure(code_of(ec), client_event::fatal_error::cause::auth_not_sent);
    f.argument = a.mechanism;
    open_give_up(std::move(f));
    return;
  }
  open_auth_sent_ = true;
}

// A refused greeting or hello: the replies said it all; QUIT (§4.1.1.10).
void client::open_quit() {
  open_ = open_state::given_up;
  if (send(cmd::quit{})) {  // not expected: nothing is awaited after those replies
    closed_ = true;
    phase_ = phase::closed;
  }
}

// A step that cannot be taken: reported by the next next_event(), QUIT sent.
void client::open_give_up(client_event::fatal_error e) {
  open_auth_sent_ = false;
  pending_fatal_ = std::move(e);
  open_quit();
}

std::error_code client::quit() {
  if (closed_) return errc::session_closed;
  if (awaits(answered_command::quit)) return {};  // once (RFC 5321 §4.1.1.10)
  // A message on its way would be cut short (SMTP cannot abort DATA).
  if (phase_ == phase::body || submitting()) return errc::invalid_state;
  return send(cmd::quit{});
}

// --- transaction level (submit) --------------------------------------------------------

namespace {

bool non_ascii(std::string_view s) noexcept { return std::any_of(s.begin(), s.end(), ascii::is_non_ascii); }

struct read_ahead {
  bool eight_bit = false;
  std::optional<data_error> bare;  // the first bare CR/LF the options refuse
};

// Reads a rewindable source once ahead: does the message hold an octet
// above 127 (RFC 6152: 8-bit data needs BODY=8BITMIME), or a bare CR or LF
// that `lines` refuses? The source is rewound; nullopt when it cannot be.
std::optional<read_ahead> read_message_ahead(message_source& source, const data_encoder_options& lines,
                                            bool look_for_bare) {
  if (!source.rewind()) return std::nullopt;
  read_ahead found;
  crlf_encoder check(lines);
  std::string scratch;
  for (auto piece = source.next(); !piece.empty(); piece = source.next()) {
    unsigned char any = 0;  // an OR over the piece: vectorised, no early exit per octet
    for (const char c : piece) any = static_cast<unsigned char>(any | static_cast<unsigned char>(c));
    found.eight_bit = found.eight_bit || any >= 0x80;
    if (look_for_bare && !found.bare && !check.take_clean(piece)) {
      scratch.clear();
      found.bare = check.normalize(piece, scratch);
    }
  }
  source.rewind();
  return found;
}

std::string reply_text(const reply& r) {
  std::string text;
  for (const auto line : r.lines) {
    if (!text.empty()) text += ' ';
    text.append(line);
  }
  return text;
}

}  // namespace

std::error_code client::submit(const envelope& env, message_source& source) {
  if (closed_ || phase_ != phase::ready || !hello_ || (sub_ && !submission_reported_) ||
      !awaited_.empty() || mail_sent_)
    return errc::invalid_state;
  if (env.recipients.empty()) return errc::missing_argument;
  const auto* caps = capabilities_ ? &*capabilities_ : nullptr;
  const auto offered = [&](extension e) { return caps && caps->has(e); };
  // RFC 6531 §3.4: a non-ASCII address needs SMTPUTF8, offered and asked for.
  bool utf8 = non_ascii(env.reverse_path);
  for (const auto& r : env.recipients) utf8 = utf8 || non_ascii(r.address);
  // RFC 6152 §3: 8-bit data goes only as BODY=8BITMIME, to a server that
  // offers it; a rewindable source is read ahead to find out.
  bool eight_bit = env.eight_bit;
  const auto& lines = options_.data;
  const bool refuses_bare = lines.bare_lf == bare_line_encoding::reject || lines.bare_cr == bare_line_encoding::reject;
  if (!env.binary && ((!eight_bit && env.detect_8bit) || refuses_bare)) {
    if (const auto ahead = read_message_ahead(source, lines, refuses_bare)) {
      eight_bit = eight_bit || (env.detect_8bit && ahead->eight_bit);
      // A bare CR/LF the options refuse: refused before anything is written
      // (found later, in a source that cannot rewind, it ends the session).
      if (ahead->bare && refuses_bare) return ahead->bare->error_code();
    }
  }
  // The values of the typed extension fields, by their RFCs' grammars.
  if (env.mt_priority && (*env.mt_priority < -9 || *env.mt_priority > 9)) return errc::value_out_of_range;  // RFC 6710 §3
  if (env.by && (env.by->seconds < -999999999 || env.by->seconds > 999999999 ||            // RFC 2852 §4: [+-]1*9DIGIT
                 (env.by->mode != 'N' && env.by->mode != 'R') || (env.by->mode == 'R' && env.by->seconds <= 0)))
    return errc::value_out_of_range;
  if (env.holdfor && env.holduntil) return errc::duplicate_parameter;  // RFC 4865 §3: one hold-param
  if (env.holdfor && *env.holdfor > 999999999) return errc::value_out_of_range;  // 1*9DIGIT
  const auto hold_until = env.holduntil ? detail::date_time_instant_of(*env.holduntil) : std::nullopt;
  if (env.holduntil && !hold_until) return errc::bad_parameter_value;
  if ((utf8 && !offered(extension::smtputf8)) || (eight_bit && !offered(extension::eightbitmime)) ||
      (env.requiretls && !offered(extension::requiretls)) ||
      (env.binary && !(offered(extension::binarymime) && offered(extension::chunking))) ||
      (env.mt_priority && !offered(extension::mt_priority)) || (env.by && !offered(extension::deliverby)) ||
      ((env.holdfor || env.holduntil) && !offered(extension::futurerelease)))
    return errc::not_offered;
  // Within what the EHLO line advertised: RFC 2852 §4's min-by-time for
  // by-mode R, RFC 4865 §3's maximum interval and date-time.
  if (env.by && env.by->mode == 'R' && caps->deliverby_min &&
      static_cast<std::uint64_t>(env.by->seconds) < *caps->deliverby_min)
    return errc::value_out_of_range;
  if (env.holdfor && caps->futurerelease_max_interval && *env.holdfor > *caps->futurerelease_max_interval)
    return errc::value_out_of_range;
  if (hold_until) {
    const auto latest = detail::date_time_instant_of(caps->futurerelease_max_datetime);
    if (latest && detail::compare_instants(*hold_until, *latest) > 0) return errc::value_out_of_range;
  }
  // RFC 1870 §6: over the advertised limit, refused before MAIL.
  if (env.size && caps && caps->size && *env.size > *caps->size) return errc::message_too_large;
  esmtp_param_writer params;
  if (env.size && offered(extension::size)) params.size(*env.size);
  if (env.binary)
    params.body(body_type::binary_mime);
  else if (eight_bit)
    params.body(body_type::eight_bit_mime);
  if (utf8) params.add("SMTPUTF8");
  if (env.requiretls) params.add("REQUIRETLS");
  if (env.by) {
    std::string by = std::to_string(env.by->seconds);
    by.append(";").append(1, env.by->mode);
    if (env.by->trace) by.append("T");
    params.add("BY", by);
  }
  if (env.mt_priority) params.add("MT-PRIORITY", std::to_string(*env.mt_priority));
  if (env.holdfor) params.add("HOLDFOR", std::to_string(*env.holdfor));
  if (env.holduntil) params.add("HOLDUNTIL", *env.holduntil);
  for (const auto& p : esmtp_param_range(env.mail_params.text()))
    p.has_value ? params.add(p.keyword, p.value) : params.add(p.keyword);
  if (env.mail_params.error()) return env.mail_params.error()->error_code();
  auto opts = options_.commands;
  opts.smtputf8 = offered(extension::smtputf8);
  auto mail = make_mail(env.reverse_path, params, opts);
  if (!mail) return mail.error().error_code();
  if (const auto refusal = check(mail->command())) return *refusal;
  submission sub;
  sub.source = &source;
  sub.bdat = env.binary || (env.prefer_bdat && offered(extension::chunking));
  if (sub.bdat && !env.binary) sub.lines.emplace(options_.data);  // CRLF line endings, as DATA has
  sub.mail = std::move(*mail);
  for (const auto& r : env.recipients) {
    auto rcpt = make_rcpt(r.address, r.params, opts);
    if (!rcpt) return rcpt.error().error_code();
    const auto& typed = std::get<cmd::rcpt>(rcpt->command()).params;
    if (extensions_needed(typed) & ~(caps ? caps->present : 0)) return errc::not_offered;
    sub.rcpts.push_back(std::move(*rcpt));
    sub.results.push_back({r.address, 0, 0, {}});
  }
  // RFC 9422 §4: at most RCPTMAX recipients and RCPTDOMAINMAX recipient
  // domains per transaction (recipients kept in order, a transaction ends
  // where the next recipient would break either), MAILMAX transactions.
  const auto& limits = caps ? caps->limits : std::nullopt;
  const auto limit_of = [&](const std::optional<std::uint64_t>& v) {
    return v && *v > 0 ? static_cast<std::size_t>(*v) : SIZE_MAX;
  };
  const std::size_t rcptmax = limits ? limit_of(limits->rcptmax) : SIZE_MAX;
  const std::size_t domainmax = limits ? limit_of(limits->rcptdomainmax) : SIZE_MAX;
  std::vector<std::string_view> domains;  // of the batch being built
  std::size_t in_batch = 0;
  for (std::size_t i = 0; i < sub.rcpts.size(); ++i) {
    const auto domain = std::get<cmd::rcpt>(sub.rcpts[i].command()).forward_path.domain;
    // Domains compare case-insensitively (RFC 5321 §2.4).
    const auto known = [&] {
      return std::any_of(domains.begin(), domains.end(), [&](std::string_view d) { return ascii::iequals(d, domain); });
    };
    if (in_batch == rcptmax || (!known() && domains.size() == domainmax)) {
      sub.batch_ends.push_back(i);
      domains.clear();
      in_batch = 0;
    }
    if (!known()) domains.push_back(domain);
    ++in_batch;
  }
  sub.batch_ends.push_back(sub.rcpts.size());
  const std::size_t batches = sub.batch_ends.size();
  // RFC 9422 MAILMAX: the transactions of the whole session, this
  // submission's batches with those already begun.
  if ((batches > 1 && !source.rewind()) || (limits && limits->mailmax && *limits->mailmax < transactions_ + batches))
    return errc::too_many_transactions;
  if (submission_reported_) retired_ = std::move(sub_);  // its results live until the next next_event()
  submission_reported_ = false;
  sub_ = std::move(sub);
  start_transaction();
  return {};
}

void client::start_transaction() {
  auto& s = *sub_;
  s.batch_start = s.batch ? s.batch_ends[s.batch - 1] : 0;
  s.next_rcpt = s.batch_start;
  s.rcpt_replies = s.accepted = s.end_replies = 0;
  s.mail_ok = s.data_sent = s.failed = s.rset_sent = s.chunks_stopped = false;
  lmtp_replies_ = 0;
  lmtp_end_pending_ = false;
  // The commands were built and checked by submit() under the options
  // write() uses: writing them cannot be refused.
  write(s.mail->command(), answered_command::mail, false);
  mail_sent_ = true;
  bdat_sent_ = false;
  smtputf8_txn_ = std::get<cmd::mail>(s.mail->command()).params.smtputf8;
  // RFC 2920: with PIPELINING the whole envelope and DATA go at once.
  if (capabilities_ && capabilities_->has(extension::pipelining)) {
    const auto end = s.batch_ends[s.batch];
    for (; s.next_rcpt < end; ++s.next_rcpt) write(s.rcpts[s.next_rcpt].command(), answered_command::rcpt, false);
    rcpt_sent_ = true;
    begin_message();
  }
}

// After the RCPTs: DATA (the body follows its 354), or the first BDAT
// chunks straight away (RFC 3030: no go-ahead reply).
void client::begin_message() {
  auto& s = *sub_;
  s.data_sent = true;
  if (!s.bdat) {
    write(cmd::data{}, answered_command::data, true);
    return;
  }
  s.chunks_started = false;
  s.chunks_sent = 0;
  s.held = {};
  s.held_owned = false;
  s.held_copy.clear();
  if (s.lines) s.lines.emplace(options_.data);  // each transaction sends the message from its start
  phase_ = phase::body;
}

// A transaction is over: RSET after a failure, then the next transaction
// of a split submission, or the report.
void client::finish_transaction() {
  auto& s = *sub_;
  ++s.transactions;
  if (s.failed && !s.rset_sent && !closed_) {
    write(cmd::rset{}, answered_command::rset, false);  // a clean state for what follows
    s.rset_sent = true;
  }
  mail_sent_ = rcpt_sent_ = false;
  if (s.batch_ends[s.batch] < s.rcpts.size() && !closed_) {
    ++s.batch;
    s.source->rewind();
    start_transaction();
  } else {
    report_submission_ = true;
  }
}

// The BDAT transaction failed before its LAST chunk (a chunk refused, or
// every recipient): send no more chunks (each would be refused, and a
// server counts refusals: too many and it closes), and end the transaction
// once the chunks sent are answered. The data sent is discarded by the RSET.
void client::stop_chunks() {
  auto& s = *sub_;
  s.chunks_stopped = true;
  phase_ = phase::ready;
  if (!awaits(answered_command::bdat)) finish_transaction();
}

// The submission's next move after each reply.
void client::on_submission_reply(answered_command what, const sansmtp::reply& r) {
  auto& s = *sub_;
  const bool positive = r.code / 100 == 2;
  const auto end = s.batch_ends[s.batch];
  const bool pipelined = s.data_sent && s.next_rcpt == end;  // everything went at once
  const auto refuse_batch = [&](std::size_t from) {
    for (std::size_t i = from; i < end; ++i)
      if (s.results[i].text.empty()) {
        s.results[i].rcpt_code = s.results[i].rcpt_code ? s.results[i].rcpt_code : r.code;
        s.results[i].text = reply_text(r);
      }
  };
  switch (what) {
    case answered_command::mail:
      s.mail_ok = positive;
      if (!positive) {
        s.failed = true;
        refuse_batch(s.batch_start);
        if (!pipelined) finish_transaction();
      } else if (!pipelined && s.next_rcpt < end) {
        write(s.rcpts[s.next_rcpt++].command(), answered_command::rcpt, false);
        rcpt_sent_ = true;
      }
      break;
    case answered_command::rcpt: {
      auto& result = s.results[s.batch_start + s.rcpt_replies++];
      // After a refused MAIL a pipelined RCPT's 503 only follows from it:
      // the MAIL refusal (already recorded) is what the recipient learns.
      if (s.mail_ok) {
        result.rcpt_code = r.code;
        if (!positive) result.text = reply_text(r);
        if (positive) ++s.accepted;
      }
      // BDAT pipelined behind RCPTs that were all refused: the chunks are
      // refused too (503), so stop sending them (stop_chunks()).
      if (pipelined && s.bdat && s.rcpt_replies == end - s.batch_start && !s.accepted) s.failed = true;
      if (pipelined) break;
      if (s.next_rcpt < end) {
        write(s.rcpts[s.next_rcpt++].command(), answered_command::rcpt, false);
      } else if (s.accepted) {
        begin_message();
      } else {
        s.failed = true;  // no recipient: no DATA
        finish_transaction();
      }
      break;
    }
    case answered_command::data:
      if (r.code == 354) {
        // RFC 2920 §3.1: DATA accepted with no recipient left; end the
        // (empty) message at once, nothing is delivered.
        if (!s.accepted) {
          finish_body();
          s.failed = true;
        }
      } else {
        s.failed = true;
        for (std::size_t i = s.batch_start; i < end; ++i)
          if (s.results[i].rcpt_code / 100 == 2) {
            s.results[i].delivery_code = r.code;
            s.results[i].text = reply_text(r);
          }
        finish_transaction();
      }
      break;
    case answered_command::bdat:
      // RFC 3030 §2: a refused chunk fails the transaction (RSET after it).
      if (!positive) {
        s.failed = true;
        for (std::size_t i = s.batch_start; i < end; ++i)
          if (s.results[i].rcpt_code / 100 == 2 && s.results[i].text.empty()) {
            s.results[i].delivery_code = r.code;
            s.results[i].text = reply_text(r);
          }
      }
      if (s.chunks_stopped && !awaits(answered_command::bdat)) finish_transaction();
      break;
    case answered_command::end_of_data: {
      // LMTP (RFC 2033 §4.2): one reply per accepted recipient, in order;
      // SMTP: one reply for all of them.
      std::size_t seen = 0;
      for (std::size_t i = s.batch_start; i < end; ++i) {
        if (s.results[i].rcpt_code / 100 != 2) continue;
        if (!options_.lmtp || seen++ == s.end_replies) {
          s.results[i].delivery_code = r.code;
          s.results[i].text = reply_text(r);
          if (options_.lmtp) break;
        }
      }
      ++s.end_replies;
      if (!positive) s.failed = true;
      const std::size_t owed = options_.lmtp ? std::max<std::size_t>(s.accepted, 1) : 1;
      if (s.end_replies >= owed) finish_transaction();
      break;
    }
    default:
      break;
  }
}

// BDAT (RFC 3030): the message's pieces gathered into chunks of at least
// bdat_chunk_size octets, the last one marked LAST (an empty message is
// "BDAT 0 LAST"). Pieces of a stable source that follow one another in
// memory and need no change make a chunk by reference; anything else is
// copied (a streamed piece is only valid until the next pull). Without
// PIPELINING each chunk waits for the reply to the one before; with it,
// only the first goes before every RCPT has its reply (RFC 2920 lets more
// go, but if every recipient is refused each chunk is refused too).
client::pump_result client::pump_chunks() {
  auto& s = *sub_;
  const bool pipelining = capabilities_ && capabilities_->has(extension::pipelining);
  const bool stable = s.source->stable();
  const auto own = [&] {
    if (s.held_owned) return;
    s.held_copy.assign(s.held);
    s.held_owned = true;
  };
  // Adds a piece to the chunk being gathered; false when the options refuse
  // a bare CR/LF in it (the session ends).
  const auto add = [&](std::string_view piece) {
    if (s.lines && !s.lines->take_clean(piece)) {
      own();
      if (const auto e = s.lines->normalize(piece, s.held_copy)) {
        fail_body(*e);
        return false;
      }
    } else if (stable && !s.held_owned && (s.held.empty() || s.held.data() + s.held.size() == piece.data())) {
      s.held = std::string_view(s.held.empty() ? piece.data() : s.held.data(), s.held.size() + piece.size());
      return true;
    } else {
      own();
      s.held_copy.append(piece);
    }
    s.held = s.held_copy;
    return true;
  };
  const std::size_t min_chunk = std::max<std::size_t>(options_.bdat_chunk_size, 1);
  while (options_.output_high_water == 0 || out_.size() < options_.output_high_water) {
    if (s.failed) {
      stop_chunks();
      return pump_result::done;
    }
    if (!pipelining && !awaited_.empty()) return pump_result::waiting;
    if (pipelining && s.chunks_sent > 0 && awaits(answered_command::rcpt)) return pump_result::waiting;
    bool ended = false;
    if (!s.chunks_started) {
      s.chunks_started = true;
      const auto first = s.source->next();
      ended = first.empty();
      if (!add(first)) return pump_result::done;
    }
    while (!ended && s.held.size() < min_chunk) {
      const auto piece = s.source->next();
      ended = piece.empty();
      if (!add(piece)) return pump_result::done;
    }
    const auto next = ended ? std::string_view() : s.source->next();
    const bool last = next.empty();
    if (last && s.lines) {
      if (const auto tail = s.lines->finish(); !tail.empty()) {  // the final CRLF
        own();
        s.held_copy.append(tail);
        s.held = s.held_copy;
      }
    }
    if (!last && s.held.empty()) {  // nothing to send yet (a lone CR held over): no "BDAT 0"
      if (!add(next)) return pump_result::done;
      continue;
    }
    const cmd::bdat c{s.held.size(), last};
    write(c, last ? answered_command::end_of_data : answered_command::bdat, last);
    // Exactly the counted octets (RFC 3030 §2).
    if (s.held_owned)
      out_.append(s.held);
    else
      out_.append_view(s.held);
    ++s.chunks_sent;
    s.held = {};
    s.held_owned = false;
    s.held_copy.clear();
    if (last) {
      owe_lmtp_replies();
      phase_ = phase::ready;
      return pump_result::done;
    }
    if (!add(next)) return pump_result::done;
  }
  return pump_result::output_full;
}

// Pulls the message while less than the high-water mark is unsent; true
// once the final dot is written.
bool client::pump_body() {
  while (options_.output_high_water == 0 || out_.size() < options_.output_high_water) {
    const auto piece = sub_->source->next();
    if (piece.empty()) {
      finish_body();
      return true;
    }
    if (write_body(piece, sub_->source->stable())) {  // a bare CR/LF refused under the encoder's `reject`
      fail_body(*encoder_.error());
      return true;
    }
  }
  return false;
}

// --- commands ------------------------------------------------------------------------

bool client::group_open() const noexcept {
  if (awaited_.empty()) return true;
  const bool pipelining = esmtp_ && capabilities_ && capabilities_->has(extension::pipelining);
  return pipelining && !awaited_.back().ends_group;
}

// The sequence table's column for what this client sent.
detail::sequence client::command_sequence() const noexcept {
  using detail::sequence;
  if (!hello_) return sequence::no_hello;
  if (!mail_sent_) return sequence::hello;
  if (!rcpt_sent_) return sequence::mail;
  return bdat_sent_ ? sequence::bdat : sequence::rcpt;
}

client_state client::state() const noexcept {
  if (closed_) return client_state::closed;
  // Every phase but ready is a state of its own (in the order of phase).
  constexpr client_state of_phase[] = {client_state::greeting, client_state::idle, client_state::data,
                                       client_state::tls_handshake, client_state::closed};
  if (phase_ != phase::ready) return of_phase[static_cast<std::size_t>(phase_)];
  if (auth_challenge_) return client_state::auth;
  constexpr client_state of[] = {client_state::awaiting_hello, client_state::idle, client_state::mail,
                                 client_state::rcpt, client_state::bdat};
  return of[static_cast<std::size_t>(command_sequence())];
}

std::string_view client_state_name(client_state s) noexcept {
  constexpr std::string_view names[] = {"greeting", "awaiting_hello", "idle", "mail",          "rcpt",
                                        "bdat",     "data",           "auth", "tls_handshake", "closed"};
  static_assert(std::size(names) == static_cast<std::size_t>(client_state::closed) + 1);
  return names[static_cast<std::size_t>(s)];
}

std::optional<errc> client::check(const command& c) const {
  // A submission that has been reported is over: its results stay readable
  // until the next call, but the session is free again.
  const bool submitting = sub_ && !submission_reported_;
  if (submitting || auth_challenge_ || closed_ || phase_ != phase::ready || !greeted_ || !group_open()) return errc::invalid_state;
  if (greeting_rejected_ && !std::holds_alternative<cmd::quit>(c)) return errc::bad_sequence;
  const auto* caps = capabilities_ ? &*capabilities_ : nullptr;
  // BDAT needs CHUNKING and STARTTLS its keyword (the verb table). AUTH's
  // mechanism decides below, after the TLS rule (RFC 4954 §4): a server
  // that offers AUTH only after TLS gets encryption_required, not not_offered.
  if (const auto needs = traits_of(c).needs;
      needs && *needs != extension::auth && !(caps && caps->has(*needs)))
    return errc::not_offered;
  // The sequence table the server uses too (sequence_table.hpp), keyed by
  // what this client sent: MAIL after a hello, RCPT after MAIL, DATA after
  // RCPT (not after BDAT chunks, RFC 3030 §2), STARTTLS and AUTH outside a
  // transaction (RFC 3207 §4, RFC 4954 §4).
  if (!detail::sequence_allows(command_sequence(), traits_of(c).sequence)) return errc::bad_sequence;
  if (const auto* m = std::get_if<cmd::mail>(&c)) {
    if (options_.starttls == tls_policy::required && !tls_) return errc::encryption_required;
    const auto& p = m->params;
    if (extensions_needed(p) & ~(caps ? caps->present : 0)) return errc::not_offered;
    // RFC 1870 §6: a message over the advertised limit fails before MAIL.
    if (p.size && caps && caps->size && *p.size > *caps->size) return errc::message_too_large;
  } else if (const auto* r = std::get_if<cmd::rcpt>(&c)) {
    if (extensions_needed(r->params) & ~(caps ? caps->present : 0)) return errc::not_offered;
  } else if (std::holds_alternative<cmd::starttls>(c)) {
    if (tls_) return errc::not_offered;
  } else if (const auto* a = std::get_if<cmd::auth>(&c)) {
    if (authenticated_) return errc::bad_sequence;
    if (!tls_ && !options_.allow_auth_without_tls) return errc::encryption_required;
    if (!caps || std::none_of(caps->auth.begin(), caps->auth.end(),
                              [&](std::string_view mech) { return mech == a->mechanism; }))
      return errc::not_offered;
  } else if (std::holds_alternative<cmd::lhlo>(c) != options_.lmtp &&
             (std::holds_alternative<cmd::ehlo>(c) || std::holds_alternative<cmd::lhlo>(c))) {
    return errc::invalid_verb;  // RFC 2033: LHLO is LMTP's, EHLO SMTP's
  }
  return std::nullopt;
}

std::error_code client::write(const command& c, answered_command what, bool group_end) {
  auto opts = options_.commands;
  // RFC 6531: UTF-8 only once SMTPUTF8 is offered, in RCPT only for a
  // transaction that asked for it.
  const bool utf8 = capabilities_ && capabilities_->has(extension::smtputf8);
  opts.smtputf8 = std::holds_alternative<cmd::rcpt>(c) ? utf8 && smtputf8_txn_ : utf8;
  if (const auto e = out_.append_with([&](std::string& o) { return serialize(c, o, opts); })) return e.error_code();
  expect(what, group_end);
  if (std::holds_alternative<cmd::mail>(c)) ++transactions_;  // RFC 9422 MAILMAX counts them per session
  return {};
}

std::error_code client::send(const command& c) {
  if (std::holds_alternative<cmd::bdat>(c)) return errc::invalid_state;  // send_chunk() carries the octets
  if (const auto refusal = check(c)) return *refusal;
  if (auto ec = write(c, answered_by(c), ends_group(c))) return ec;
  if (const auto* m = std::get_if<cmd::mail>(&c)) {
    mail_sent_ = true;
    bdat_sent_ = false;
    smtputf8_txn_ = m->params.smtputf8;
  }
  if (std::holds_alternative<cmd::rcpt>(c)) rcpt_sent_ = true;
  if (std::holds_alternative<cmd::ehlo>(c) || std::holds_alternative<cmd::lhlo>(c) ||
      std::holds_alternative<cmd::helo>(c))
    mail_sent_ = rcpt_sent_ = false;
  return {};
}

std::error_code client::send_chunk(std::string_view bytes, bool last) {
  const cmd::bdat c{bytes.size(), last};
  if (const auto refusal = check(c)) return *refusal;
  if (auto ec = write(c, last ? answered_command::end_of_data : answered_command::bdat, last)) return ec;
  out_.append(bytes);  // RFC 3030 §2: exactly the counted octets follow the line (copied)
  bdat_sent_ = !last;   // RFC 3030 §2: until LAST, only BDAT (or RSET) may follow
  if (last) owe_lmtp_replies();
  return {};
}

bool client::awaits(answered_command what) const noexcept {
  for (const auto& a : awaited_.items())
    if (a.what == what) return true;
  return false;
}

// RFC 2033 §4.2 (with CHUNKING too): LMTP answers the end of the data once
// per accepted recipient; the first of those replies is already awaited.
// How many recipients were accepted is known once every RCPT has its
// reply: a BDAT LAST pipelined behind the RCPTs (RFC 2920) is written
// before that, so the rest are owed when the last RCPT reply comes.
void client::owe_lmtp_replies() {
  if (!options_.lmtp) return;
  if (!lmtp_end_pending_) lmtp_end_write_ = writes_;  // the write of the end of data
  if (awaits(answered_command::rcpt)) {
    lmtp_end_pending_ = true;
    return;
  }
  for (std::size_t i = 1; i < lmtp_replies_; ++i) expect(answered_command::end_of_data, true, lmtp_end_write_);
}

std::error_code client::send_hello() {
  if (closed_ || phase_ != phase::ready || !greeted_ || !awaited_.empty())
    return errc::invalid_state;
  if (greeting_rejected_) return errc::bad_sequence;
  const auto report = check_ehlo_name(options_.ehlo_name, options_.ehlo_check);
  if (report.result == verdict::fail && !options_.send_failing_ehlo_name) return errc::bad_ehlo_name;
  const auto hello = options_.lmtp ? make_lhlo(options_.ehlo_name) : make_ehlo(options_.ehlo_name);
  if (!hello) return hello.error().error_code();  // a name the grammar refuses, even when overridden
  return write(hello->command(), answered_command::ehlo, true);
}

std::error_code client::send_body(std::string_view chunk) {
  if (sub_ && !submission_reported_) return errc::invalid_state;  // submit() sends its own message
  return write_body(chunk, false);
}

std::error_code client::end_body() {
  if (sub_ && !submission_reported_) return errc::invalid_state;
  return finish_body();
}

std::error_code client::write_body(std::string_view chunk, bool by_reference) {
  if (phase_ != phase::body) return errc::invalid_state;
  for (;;) {
    // A piece is a run of `chunk` or a few static bytes (a stuffed dot, a
    // CR before a bare LF): by reference, both stay valid as long as `chunk`.
    const auto piece = encoder_.next(chunk);
    const std::string_view bytes(piece.bytes.data(), piece.bytes.size());
    if (by_reference)
      out_.append_view(bytes);
    else
      out_.append(bytes);
    chunk.remove_prefix(piece.consumed);
    if (piece.status != data_status::more) break;
  }
  if (const auto& e = encoder_.error()) return e->error_code();
  return {};
}

std::error_code client::finish_body() {
  if (phase_ != phase::body) return errc::invalid_state;
  // After a refused bare CR/LF the message cannot be ended: the final dot
  // would deliver it cut short. Close the connection instead.
  if (const auto& e = encoder_.error()) return e->error_code();
  const auto tail = encoder_.finish();
  out_.append({tail.data(), tail.size()});
  phase_ = phase::ready;
  // RFC 2033 §4.2: LMTP answers once per accepted recipient.
  const std::size_t replies = options_.lmtp ? std::max<std::size_t>(lmtp_replies_, 1) : 1;
  const auto at = ++writes_;
  for (std::size_t i = 0; i < replies; ++i) expect(answered_command::end_of_data, true, at);
  return {};
}

bool client::starttls_wanted() const noexcept {
  return options_.starttls != tls_policy::off && !tls_ && capabilities_ && capabilities_->has(extension::starttls);
}

std::error_code client::send_auth(std::string_view mechanism, std::optional<std::string_view> initial_response) {
  const auto built = make_auth(mechanism, initial_response);
  if (!built) return built.error().error_code();
  return send(built->command());
}

std::error_code client::send_auth_response(std::string_view base64) {
  if (!auth_challenge_ || closed_ || !awaited_.empty()) return errc::invalid_state;
  // What the server's parser would refuse is not written (RFC 4954 §4:
  // base64; "*" is cancel_auth()).
  std::string line(base64);
  line += "\r\n";
  const auto parsed = parse::auth_response(line);
  if (!parsed || parsed->cancelled) return parsed ? errc::bad_initial_response : parsed.error().error_code();
  out_.append(line);
  auth_challenge_ = false;
  expect(answered_command::auth, true);
  return {};
}

std::error_code client::cancel_auth() {
  if (!auth_challenge_ || closed_ || !awaited_.empty()) return errc::invalid_state;
  out_.append("*\r\n");
  auth_challenge_ = false;
  expect(answered_command::auth, true);
  return {};
}

// --- output, TLS, time ----------------------------------------------------------------

void client::consume_output(std::size_t n) noexcept {
  out_.consume(n);
  if (n) ++timeout_epoch_;  // §4.5.3.2.5: the data block timeout is per write
}

std::error_code client::tls_established() {
  if (phase_ != phase::tls_pending) return errc::invalid_state;
  if (const auto ec = in_.end_set_aside(options_.after_starttls)) {
    fatal_ = closed_ = true;
    phase_ = phase::closed;
    return ec;
  }
  tls_ = true;
  // RFC 3207 §4.2: forget what the server said before TLS; EHLO again.
  capabilities_.reset();
  ehlo_lines_.clear();
  hello_ = esmtp_ = authenticated_ = false;
  mail_sent_ = rcpt_sent_ = false;
  tls_settle_ = true;  // the plaintext buffer and the reader start over at the next receive() or next_event()
  phase_ = phase::ready;
  ++timeout_epoch_;
  // The opening helper: a fresh EHLO (RFC 3207 §4.2), written to the output
  // queue only, so the 220's event views stay as they are.
  if (open_ == open_state::running) open_send_hello();
  return {};
}

std::chrono::seconds client::timeout() const noexcept {
  if (closed_ || phase_ == phase::tls_pending) return std::chrono::seconds{0};
  if (phase_ == phase::body) return options_.data_block_timeout;
  if (awaited_.empty()) return std::chrono::seconds{0};
  switch (awaited_.front().what) {
    case answered_command::greeting:
      return options_.greeting_timeout;
    case answered_command::mail:
      return options_.mail_timeout;
    case answered_command::rcpt:
      return options_.rcpt_timeout;
    case answered_command::data:
      return options_.data_initiation_timeout;
    case answered_command::end_of_data:
      return options_.data_termination_timeout;
    default:
      return options_.command_timeout;
  }
}

void client::on_timeout() {
  if (closed_) return;
  auto f = failure(errc::timeout, client_event::fatal_error::cause::timeout);
  f.waited = timeout();
  fatal_ = closed_ = true;
  phase_ = phase::closed;
  // An opening failure not yet reported says more than the timeout.
  if (!pending_fatal_) pending_fatal_ = std::move(f);
}

}  // namespace sansmtp
