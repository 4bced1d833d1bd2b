// One connection: the canonical pull loop of docs/design.md on Asio.
//
// advance() is the loop. It runs after every completion and does the next
// thing, in this order:
//   1. pump(): drain next_event() into the handler, which answers each
//      event (session.send) before the next one is parsed;
//   2. write pending_output() (async_write_some: a partial write is
//      consume_output(n) and another turn; the session may hand out its
//      output one contiguous run at a time, so keep going until it is empty);
//   3. the session is closed: close the connection (finish());
//   4. paused{tls_handshake}: the 220 to STARTTLS is on the wire; TLS
//      handshake on the same socket, then tls_established();
//   5. wants_read(): read at most receive_capacity() octets. While it is
//      false (a reply owed, too much unsent output, the session closed)
//      nothing is read: that is the backpressure.
// A handler that called defer() owes its reply through a deferred_reply:
// the loop stops after step 3 (writing what was already answered) until
// deferred_reply::complete() posts the answer back to the strand (resume()),
// and the I/O thread serves the other connections meanwhile.
// Exactly one of read, write and handshake is in flight at a time, so the
// session's output buffer is never appended to while a write holds a view
// of it. The timer is armed from timeout() for reads (RFC 5321 §4.5.3.2).
#include <sansmtp/asio/server_connection.hpp>

#include <sansmtp/codec/reply_reader.hpp>
#include <sansmtp/syntax/reply.hpp>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/ssl/error.hpp>

#include <algorithm>
#include <exception>
#include <utility>

namespace sansmtp::drivers {
namespace {

sansmtp::server_options session_options(const connection_owner& owner) {
  auto o = owner.options().session;
  // RFC 3207: offer only what can be done; RFC 8314 §3: with TLS from the
  // first octet there is no STARTTLS.
  o.starttls = owner.tls() != nullptr && !o.implicit_tls;
  return o;
}

}  // namespace

server_connection::server_connection(std::shared_ptr<connection_owner> owner, asio::ip::tcp::socket socket,
                                     std::unique_ptr<server_handler> handler, refusal why)
    : owner_(std::move(owner)),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      session_(session_options(*owner_)),
      handler_(std::move(handler)),
      buffer_(new char[std::max<std::size_t>(owner_->options().read_size, 1)]),
      refusal_(why) {
  if (handler_) handler_->connection_ = this;
}

void server_connection::set_reason(close_reason why) noexcept {
  if (!reason_) reason_ = why;
}

// A failure of the driver's: the close reason and, for on_error before
// on_close, its details. The first cause wins, details included.
void server_connection::fail(close_reason why, driver_error error) {
  if (reason_) return;
  reason_ = why;
  error_ = std::move(error);
}

// A reply the driver queued itself: the handler hears of it (for its log).
void server_connection::driver_replied(int code, std::string_view text) noexcept {
  if (!handler_) return;
  try {
    handler_->on_driver_reply(session_, code, text);
  } catch (const std::exception&) {  // a log that failed changes nothing on the wire
  }
}

std::string server_connection::shutdown_text() const {
  return owner_->options().session.hostname + " Service shutting down, closing the channel";
}

void server_connection::start(std::uint64_t id) {
  id_ = id;
  if (session_.tls() && !handler_) return close_now();  // a plaintext 421 would be noise to a TLS client
  if (session_.tls()) return start_handshake();  // RFC 8314 §3: TLS first, then the greeting
  if (!handler_) {  // over a limit: RFC 5321 §3.1 allows a 421 greeting
    const auto& host = owner_->options().session.hostname;
    const std::string text = refusal_ == refusal::max_sessions
                                 ? "4.3.2 " + host + " Too many sessions, try again later"
                             : refusal_ == refusal::connection_rate
                                 ? "4.7.0 " + host + " Too many connections from your address, slow down"
                                 : "4.7.0 " + host + " Too many sessions from your address, try again later";
    if (session_.send(421, text)) return close_now();
    return advance();
  }
  greet();
}

// The greeting, through the handler; behind a proxy it waits for the PROXY
// header (pump()).
void server_connection::greet() {
  if (session_.state() == server_state::proxy_header) return advance();
  try {
    handler_->on_connect(session_);  // the greeting: the server speaks first (§3.1)
  } catch (const std::exception& e) {
    fail(close_reason::handler_failed,
         {driver_step::handler, {}, std::string("on_connect threw: ") + e.what()});
    if (session_.send(421, local_error_text())) return close_now();  // a 421 greeting (§3.1)
    driver_replied(421, local_error_text());
  }
  advance();
}

// RFC 5321 §3.8: the session refuses new work itself (server::drain()).
void server_connection::drain() { session_.drain(); }

void server_connection::force() {
  if (closed_ || forced_) return;
  forced_ = true;
  if (!session_.closed()) set_reason(close_reason::shutdown);
  switch (op_) {
    case op::reading: {
      std::error_code ignored;
      socket_.cancel(ignored);  // on_read gets operation_aborted and writes the 421
      break;
    }
    case op::writing:  // let it finish, but not for long
      arm_timer(write_limit());
      break;
    case op::handshaking:  // no plaintext 421 can go out in the middle of a handshake
      close_now();
      break;
    case op::closing:
      break;
    case op::none:
      advance();
      break;
  }
}

void server_connection::advance() {
  if (closed_ || finishing_ || op_ != op::none) return;
  if (!forced_ && !pump()) return;
  if (forced_ && !session_.closed()) {  // RFC 5321 §3.8: 421 4.3.2 after the pending output, once
    const bool greeted = session_.state() != server_state::proxy_header;  // (no SMTP before the PROXY header)
    session_.shutdown();
    if (greeted) driver_replied(421, "4.3.2 " + shutdown_text());
  }
  if (const auto out = session_.pending_output(); !out.empty()) return start_write(out);
  if (session_.closed() || forced_) return finish();
  if (deferred_) return;  // the handler answers later (resume())
  if (paused_ == server_event::paused::reason::tls_handshake) return start_handshake();
  if (session_.wants_read()) {
    if (report_time()) return advance();  // a limit ran out: its 421 goes out
    return start_read();
  }
  answer_stall();
}

// Hands the events to the handler until the session needs bytes or pauses.
bool server_connection::pump() {
  if (deferred_) return true;
  try {
    for (;;) {
      const auto event = session_.next_event();
      if (std::holds_alternative<server_event::need_data>(event)) {
        paused_.reset();
        return true;
      }
      if (const auto* p = std::get_if<server_event::paused>(&event)) {
        paused_ = p->why;
        return true;
      }
      // The session refused new work: the connection ends for the shutdown.
      if (const auto* b = std::get_if<server_event::bad_command>(&event); b && b->error.code == errc::shutting_down)
        set_reason(close_reason::shutdown);
      if (handler_) handler_->on_event(session_, event);
      // The PROXY header is in: now the greeting (on_connect), with the
      // client's address known to the handler.
      if (handler_ && std::holds_alternative<server_event::proxied>(event)) handler_->on_connect(session_);
      if (deferred_) return true;  // the reply comes through resume()
    }
  } catch (const std::exception& e) {
    // The handler could not answer: 421 4.3.0 answers whatever was owed
    // (RFC 5321 §3.8), and the connection closes once it is written.
    fail(close_reason::handler_failed,
         {driver_step::handler, {}, std::string("on_event threw: ") + e.what()});
    if (!session_.send(421, local_error_text())) {
      driver_replied(421, local_error_text());
      return true;
    }
    close_now();
    return false;
  }
}

// --- replies given later (deferred_reply) -----------------------------------------

deferred_reply server_connection::defer() {
  deferred_ = true;
  return deferred_reply(shared_from_this());
}

void server_connection::resume(const std::function<void(sansmtp::server&)>& answer) {
  if (!deferred_) return;
  deferred_ = false;
  // Closed, or a shutdown's 421 already answered what was owed.
  if (closed_ || finishing_ || forced_) return;
  try {
    if (answer && handler_) answer(session_);
  } catch (const std::exception& e) {
    fail(close_reason::handler_failed,
         {driver_step::handler, {}, std::string("the deferred reply's answer threw: ") + e.what()});
    if (session_.send(421, local_error_text())) return close_now();
  }
  advance();  // an answer left unsent is a stall: 421 4.3.0
}

deferred_reply::deferred_reply(std::shared_ptr<server_connection> connection)
    : connection_(std::move(connection)),
      work_(asio::prefer(connection_->executor(), asio::execution::outstanding_work.tracked)) {}

deferred_reply& deferred_reply::operator=(deferred_reply&& other) noexcept {
  if (this != &other) {
    if (connection_) {
      try {
        complete({});
      } catch (const std::exception&) {  // nothing left to do
      }
    }
    connection_ = std::move(other.connection_);
    work_ = std::move(other.work_);
  }
  return *this;
}

deferred_reply::~deferred_reply() {
  if (!connection_) return;
  try {
    complete({});  // no answer: the owed reply becomes the driver's 421 4.3.0
  } catch (const std::exception&) {  // cannot post: the connection dies with its io_context
  }
}

void deferred_reply::complete(std::function<void(sansmtp::server&)> answer) {
  if (!connection_) return;
  // The strand, as copied on the connection's strand when defer() made this
  // object: nothing of the connection is touched from this thread.
  const auto strand = work_;
  asio::post(strand, [connection = std::move(connection_), answer = std::move(answer), work = std::move(work_)] {
    (void)work;  // held until the answer has run
    connection->resume(answer);
  });
  connection_.reset();
}

asio::any_io_executor deferred_reply::executor() const { return work_; }

deferred_reply server_handler::defer() {
  return connection_ ? connection_->defer() : deferred_reply();
}

// Nothing to write, read or shake hands for, and the session is open: the
// handler left a reply owed. Any 421 answers anything (RFC 5321 §3.8).
void server_connection::answer_stall() {
  fail(close_reason::handler_failed, {driver_step::handler, {}, "the handler left an event unanswered"});
  if (session_.send(421, local_error_text())) return close_now();
  driver_replied(421, local_error_text());
  advance();
}

std::string server_connection::local_error_text() const {
  return "4.3.0 " + owner_->options().session.hostname + " Local error, closing";
}

// --- reading -----------------------------------------------------------------

void server_connection::start_read() {
  op_ = op::reading;
  const auto want = std::min(owner_->options().read_size, session_.receive_capacity());
  auto done = [self = shared_from_this()](const std::error_code& ec, std::size_t n) { self->on_read(ec, n); };
  if (tls_)
    tls_->async_read_some(asio::buffer(buffer_.get(), want), std::move(done));
  else
    socket_.async_read_some(asio::buffer(buffer_.get(), want), std::move(done));
  arm_read_timer();
}

// §4.5.3.2: 5 minutes for a command, 3 for a data block... as a whole: the
// deadline set when the session's wait began (timeout_epoch()) stays while
// the bytes of one command line drip in; it moves only when the wait starts over.
void server_connection::arm_read_timer() {
  const auto epoch = session_.timeout_epoch();
  const auto after = session_.timeout();
  if (!read_wait_ || read_wait_->epoch != epoch || read_wait_->after != after) {
    if (after <= std::chrono::seconds::zero()) {
      read_wait_.reset();
    } else {
      read_wait_ = read_wait{epoch, after, std::chrono::steady_clock::now() + after};
    }
  }
  // The earlier of the command timeout and the session's limits.
  const auto limit = session_.next_deadline();
  if (!read_wait_ && !limit) return arm_timer(std::chrono::seconds::zero());
  deadline_ = read_wait_ ? read_wait_->deadline : *limit;
  if (limit && *limit < *deadline_) deadline_ = *limit;
  if (!timer_waiting_ || timer_.expiry() > *deadline_) wait_for_deadline();
}

// The session's limits (max_session_time, min_data_rate) get the time
// before each read and when their deadline passes. True when one ran out
// (the session queued its 421 4.4.2 and closed).
bool server_connection::report_time() {
  const auto ec = session_.on_time(std::chrono::steady_clock::now());
  if (!ec) return false;
  set_reason(close_reason::limit);
  const bool slow = ec == make_error_code(errc::transfer_too_slow);
  driver_replied(421, "4.4.2 " + owner_->options().session.hostname +
                          (slow ? " Transfer too slow, closing" : " Session time limit reached, closing"));
  return true;
}

void server_connection::on_read(const std::error_code& ec, std::size_t n) {
  op_ = op::none;
  if (closed_) return;
  // n <= receive_capacity(); refused only when the session closed while the
  // read was in flight, and what comes after the end is dropped.
  if (n > 0) (void)session_.receive(std::string_view(buffer_.get(), n));
  if (ec && ec != asio::error::operation_aborted) {
    // A TLS peer that closes without close_notify is stream_truncated; for
    // SMTP that is an EOF like any other (the session knows whether it came
    // in the middle of something).
    const bool eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    if (eof)
      set_reason(close_reason::peer_closed);
    else
      fail(close_reason::io_error,
           {driver_step::read, ec, "reading from the client failed: " + ec.message()});
    if (!session_.closed()) (void)session_.receive_eof();  // the handler hears peer_closed
  }
  advance();
}

// --- writing -----------------------------------------------------------------

void server_connection::start_write(std::span<const char> bytes) {
  op_ = op::writing;
  auto done = [self = shared_from_this()](const std::error_code& ec, std::size_t n) { self->on_write(ec, n); };
  if (tls_)
    tls_->async_write_some(asio::buffer(bytes.data(), bytes.size()), std::move(done));
  else
    socket_.async_write_some(asio::buffer(bytes.data(), bytes.size()), std::move(done));
  arm_timer(write_limit());
}

// After a shutdown's grace period a write gets the linger time (at least a
// second, so the 421 can leave); before, the write timeout.
std::chrono::seconds server_connection::write_limit() const {
  const auto& o = owner_->options();
  return forced_ ? std::max(o.linger, std::chrono::seconds(1)) : o.write_timeout;
}

void server_connection::on_write(const std::error_code& ec, std::size_t n) {
  op_ = op::none;
  if (closed_) return;
  session_.consume_output(n);  // a partial write leaves the rest for the next turn
  if (ec) {
    fail(close_reason::io_error, {driver_step::write, ec, "writing to the client failed: " + ec.message()});
    return close_now();
  }
  advance();
}

// --- STARTTLS (RFC 3207) ---------------------------------------------------------

// The TLS handshake: after a 220 to STARTTLS (RFC 3207), or before the
// greeting with implicit TLS (RFC 8314 §3: the session's tls() is true
// from the start).
void server_connection::start_handshake() {
  // RFC 3207 §4.2 / CVE-2011-0411: plaintext that came after STARTTLS must
  // never be taken as if it had come over TLS. Under `reject`,
  // tls_established() refuses and closes the session; no handshake.
  if (!session_.trailing_data().empty() && owner_->options().session.after_starttls == starttls_injection::reject) {
    fail(close_reason::starttls_injection,
         {driver_step::starttls, make_error_code(errc::starttls_injection),
          "the client sent " + std::to_string(session_.trailing_data().size()) +
              " octets of plaintext after STARTTLS: refused, as they could have been injected (RFC 3207 "
              "section 5)"});
    (void)session_.tls_established();
    return advance();
  }
  tls_.emplace(socket_, *owner_->tls());
  op_ = op::handshaking;
  tls_->async_handshake(asio::ssl::stream_base::server,
                        [self = shared_from_this()](const std::error_code& ec) { self->on_handshake(ec); });
  arm_timer(owner_->options().tls_handshake_timeout);
}

void server_connection::on_handshake(const std::error_code& ec) {
  op_ = op::none;
  if (closed_) return;
  if (ec) {
    fail(close_reason::tls_failed, {driver_step::tls, ec, "TLS handshake failed: " + ec.message()});
    return close_now();
  }
  if (session_.state() == server_state::greeting) {  // implicit TLS: the greeting comes now
    try {
      if (handler_) handler_->on_tls(session_, describe_tls(tls_->native_handle()));
    } catch (const std::exception& e) {
      fail(close_reason::handler_failed, {driver_step::handler, {}, std::string("on_tls threw: ") + e.what()});
      return close_now();
    }
    return greet();
  }
  if (const auto e =
          session_.tls_established()) {  // `discard` drops trailing plaintext here; `reject` closes
    fail(close_reason::starttls_injection, {driver_step::starttls, e,
                                            "the client sent plaintext after STARTTLS (" + e.message() +
                                                "): refused, as it could have been injected"});
    return advance();
  }
  paused_.reset();
  try {
    if (handler_) handler_->on_tls(session_, describe_tls(tls_->native_handle()));
  } catch (const std::exception& e) {
    fail(close_reason::handler_failed, {driver_step::handler, {}, std::string("on_tls threw: ") + e.what()});
    return close_now();
  }
  advance();
}

// --- closing -----------------------------------------------------------------

// The last reply is written: TLS close_notify (RFC 8446 §6.1), then a FIN,
// then read and drop what still comes for a moment, so that unread input
// does not turn the close into a RST that could destroy that last reply at
// the peer before it reads it.
void server_connection::finish() {
  finishing_ = true;
  if (owner_->options().linger <= std::chrono::seconds::zero()) return close_now();
  op_ = op::closing;
  arm_timer(owner_->options().linger);
  if (!tls_) return linger();
  tls_->async_shutdown([self = shared_from_this()](const std::error_code&) {
    if (!self->closed_) self->linger();
  });
}

void server_connection::linger() {
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  socket_.async_read_some(asio::buffer(buffer_.get(), owner_->options().read_size),
                          [self = shared_from_this()](const std::error_code& ec, std::size_t) {
                            if (self->closed_) return;
                            if (ec) return self->close_now();
                            self->linger();
                          });
}

void server_connection::close_now() {
  if (closed_) return;
  closed_ = true;
  deadline_.reset();
  timer_.cancel();
  std::error_code ignored;
  socket_.close(ignored);  // in-flight operations complete with operation_aborted and see closed_
  if (handler_) {
    try {
      if (error_) handler_->on_error(*error_);
    } catch (const std::exception&) {  // on_close is still owed
    }
    try {
      handler_->on_close(reason_.value_or(close_reason::session_closed));
    } catch (const std::exception&) {  // nothing left to tell
    }
  }
  owner_->release(id_);
}

// --- time (RFC 5321 §4.5.3.2) --------------------------------------------------------

// The deadline is what counts; the Asio timer only wakes the connection up.
// It is re-armed only when a deadline comes earlier than its expiry: moving
// a deadline later (every read re-arms the command timeout) costs no timer
// operation, and a timer that fires before the deadline waits again.
void server_connection::arm_timer(std::chrono::steady_clock::duration after) {
  if (after <= std::chrono::steady_clock::duration::zero()) {  // zero: the session waits for us
    deadline_.reset();
    return;
  }
  deadline_ = std::chrono::steady_clock::now() + after;
  if (!timer_waiting_ || timer_.expiry() > *deadline_) wait_for_deadline();
}

void server_connection::wait_for_deadline() {
  timer_waiting_ = true;
  timer_.expires_at(*deadline_);  // a wait already pending completes with operation_aborted
  timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;  // replaced by a new wait (or closed)
    self->timer_waiting_ = false;
    if (self->closed_ || !self->deadline_) return;
    if (std::chrono::steady_clock::now() < *self->deadline_) return self->wait_for_deadline();
    self->deadline_.reset();
    self->on_timer();
  });
}

void server_connection::on_timer() {
  switch (op_) {
    case op::reading: {
      if (forced_) return;
      const auto now = std::chrono::steady_clock::now();
      if (const auto limit = session_.next_deadline(); limit && now >= *limit) {
        std::error_code ignored;
        if (report_time()) return socket_.cancel(ignored);  // on_read writes the 421
      }
      if (!read_wait_ || now < read_wait_->deadline) return arm_read_timer();  // not the command timeout yet
      set_reason(close_reason::timeout);
      if (!session_.closed()) {
        const bool greeted = session_.state() != server_state::proxy_header;  // (no SMTP before the PROXY header)
        session_.on_timeout();  // 421 4.4.2, written once the read is cancelled
        if (greeted)
          driver_replied(421, "4.4.2 " + owner_->options().session.hostname + " Timeout waiting for the client, closing");
      }
      std::error_code ignored;
      socket_.cancel(ignored);
      break;
    }
    case op::writing:
      fail(close_reason::timeout, {driver_step::write, std::make_error_code(std::errc::timed_out),
                                   "writing to the client made no progress within " +
                                       std::to_string(write_limit().count()) + " seconds"});
      close_now();
      break;
    case op::handshaking:
      fail(close_reason::timeout,
           {driver_step::tls, std::make_error_code(std::errc::timed_out),
            "the TLS handshake did not finish within " +
                std::to_string(owner_->options().tls_handshake_timeout.count()) + " seconds"});
      close_now();
      break;
    case op::closing:
      close_now();
      break;
    case op::none:
      break;
  }
}

std::string_view close_reason_name(close_reason why) noexcept {
  switch (why) {
    case close_reason::session_closed:
      return "session_closed";
    case close_reason::peer_closed:
      return "peer_closed";
    case close_reason::io_error:
      return "io_error";
    case close_reason::timeout:
      return "timeout";
    case close_reason::tls_failed:
      return "tls_failed";
    case close_reason::starttls_injection:
      return "starttls_injection";
    case close_reason::shutdown:
      return "shutdown";
    case close_reason::handler_failed:
      return "handler_failed";
    case close_reason::limit:
      return "limit";
  }
  return "unknown";
}

}  // namespace sansmtp::drivers
