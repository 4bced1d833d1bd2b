#include <sansmtp/asio/client_driver.hpp>

#include <sansmtp/advice/describe.hpp>

#include <asio/connect.hpp>
#include <asio/write.hpp>
#include <asio/ssl/error.hpp>

#include <algorithm>
#include <utility>

namespace sansmtp::drivers {

namespace {

// The session does the opening (greeting, EHLO, STARTTLS, EHLO again, AUTH):
// the driver only moves the bytes and keeps the time.
client_driver_options with_opening(client_driver_options o) {
  o.session.open_automatically = true;
  return o;
}

}  // namespace

client_driver::client_driver(asio::io_context& io, client_driver_options options, client_handler& handler)
    : options_(with_opening(std::move(options))),
      handler_(handler),
      session_(options_.session),
      resolver_(io),
      socket_(io),
      timer_(io),
      read_buffer_(options_.read_size ? options_.read_size : 1) {}

// --- connecting --------------------------------------------------------------------

void client_driver::start() {
  if (options_.session.starttls != tls_policy::off || options_.session.implicit_tls) {
    auto context = make_client_tls_context(options_.tls);
    if (!context) {
      fail(std::move(context).error());
      return;
    }
    tls_context_.emplace(std::move(*context));
  }
  arm_timer(options_.connect_timeout);
  resolver_.async_resolve(options_.host, options_.port,
                          [this](const std::error_code& ec, const asio::ip::tcp::resolver::results_type& results) {
                            on_resolved(ec, results);
                          });
}

void client_driver::on_resolved(const std::error_code& ec, const asio::ip::tcp::resolver::results_type& results) {
  if (closed_) return;
  if (ec) {
    fail({driver_step::resolve, ec, "cannot resolve " + options_.host + ": " + ec.message()});
    return;
  }
  const auto connected = [this](const std::error_code& e, const asio::ip::tcp::endpoint& peer) {
    if (closed_) return;
    if (e) {
      fail({driver_step::connect, e,
            "cannot connect to " + options_.host + " port " + options_.port + ": " + e.message()});
      return;
    }
    connected_ = true;
    handler_.on_connected(peer);
    if (options_.proxy) return send_proxy_header(peer);
    begin();
  };
  if (options_.source_address.empty()) {
    asio::async_connect(socket_, results, connected);
    return;
  }
  // A given source address: the first address of the server in its family,
  // from a socket bound to it (a range connect would reopen the socket).
  std::error_code e;
  const auto source = asio::ip::make_address(options_.source_address, e);
  if (e) {
    fail({driver_step::connect, e, "the source address " + options_.source_address + " is not an address"});
    return;
  }
  const auto same_family = std::find_if(results.begin(), results.end(), [&](const auto& entry) {
    return entry.endpoint().address().is_v4() == source.is_v4();
  });
  if (same_family == results.end()) {
    fail({driver_step::connect, std::make_error_code(std::errc::address_family_not_supported),
          options_.host + " has no address of the source address's family (" + options_.source_address + ")"});
    return;
  }
  const auto peer = same_family->endpoint();
  if (socket_.open(peer.protocol(), e); !e) socket_.bind({source, 0}, e);
  if (e) {
    fail({driver_step::connect, e, "cannot send from " + options_.source_address + ": " + e.message()});
    return;
  }
  socket_.async_connect(peer, [connected, peer](const std::error_code& error) { connected(error, peer); });
}

// The PROXY header, before anything else: the addresses left empty are this
// connection's own (a balancer's health check sends the same).
void client_driver::send_proxy_header(const asio::ip::tcp::endpoint& peer) {
  auto header = *options_.proxy;
  std::error_code ec;
  const auto local = socket_.local_endpoint(ec);
  if (header.command == proxy_command::proxy) {
    if (header.source_address.empty() && !ec) {
      header.source_address = local.address().to_string();
      header.source_port = local.port();
    }
    if (header.destination_address.empty()) {
      header.destination_address = peer.address().to_string();
      header.destination_port = peer.port();
    }
    header.family = header.source_address.find(':') == std::string::npos ? proxy_family::inet : proxy_family::inet6;
    header.transport = proxy_transport::stream;
  }
  auto bytes = write_proxy_header(header);
  if (!bytes) {
    fail({driver_step::connect, bytes.error().error_code(),
          "cannot write the PROXY header: " + std::string(bytes.error().name()) + " (" + header.source_address +
              " to " + header.destination_address + ")"});
    return;
  }
  proxy_bytes_ = std::move(*bytes);
  asio::async_write(socket_, asio::buffer(proxy_bytes_), [this](const std::error_code& e, std::size_t) {
    if (closed_) return;
    if (e) {
      fail({driver_step::write, e, "cannot send the PROXY header: " + e.message()});
      return;
    }
    begin();
  });
}

// Connected (and the PROXY header written): with implicit TLS (RFC 8314
// §3) the handshake, then the greeting; otherwise the greeting at once.
void client_driver::begin() {
  if (options_.session.implicit_tls) return start_handshake();
  pump();  // the server speaks first: this arms the greeting timeout and reads
}

// --- the pull loop ------------------------------------------------------------------

void client_driver::pump() {
  // Nothing is called on the client while a write holds a view of its
  // output, or while the handshake owns the socket.
  if (closed_ || writing_ || handshaking_) return;
  for (;;) {
    const auto event = session_.next_event();
    if (std::holds_alternative<client_event::need_data>(event)) break;
    if (const auto* p = std::get_if<client_event::paused>(&event)) {
      using reason = client_event::paused::reason;
      if (p->why == reason::write_output) {  // a message is being sent: write, then pull again
        start_write();
        return;
      }
      if (p->why == reason::tls_handshake) {
        start_handshake();
        return;
      }
      if (p->why == reason::closed) {  // write what is left (a QUIT), then close
        if (session_.pending_output().empty())
          close();
        else
          start_write();
        return;
      }
      // ready: nothing is awaited.
      if (session_.opened()) handler_.on_ready(*this);
      if (closed_) return;
      // The application sent nothing (or the hello did not get through): done.
      if (session_.timeout().count() == 0 && session_.pending_output().empty()) quit();
      if (closed_) return;
      // Write what was sent, or wait for bytes: pulling again now could
      // only return the same event (a loop without progress).
      break;
    }
    // The opening helper gave up and sent QUIT (the session stays open for
    // its reply): reported as the driver's own failure, as it always was.
    if (const auto* f = std::get_if<client_event::fatal_error>(&event); f && !session_.closed()) {
      if (f->code == errc::starttls_unavailable) {
        handler_.on_error({driver_step::starttls, {}, describe(*f)});
        if (closed_) return;
        continue;
      }
      if (!hello_accepted_) {  // the EHLO could not be sent (the name)
        handler_.on_error({driver_step::hello, make_error_code(f->code), describe(*f)});
        if (closed_) return;
        continue;
      }
      // Otherwise AUTH (client_options::auth) could not be sent: the session's event.
    }
    if (const auto* r = std::get_if<client_event::reply>(&event);
        r && (r->answered == answered_command::ehlo || r->answered == answered_command::helo) && r->value.code == 250)
      hello_accepted_ = true;
    handler_.on_event(*this, event);
    if (closed_) return;
  }
  // need_data: keep a read outstanding (also while writing, so that a server
  // answering a long pipelined group never waits on us, RFC 2920 §3.1),
  // write what is pending, and wait at most timeout().
  if (closed_) return;  // the message source may have aborted inside next_event()
  start_read();
  start_write();
  arm_session_timer();
}

// RFC 5321 §4.5.3.2: a timeout bounds a whole reply (the greeting's 5
// minutes are for the 220 as a whole), so the timer starts over only when
// the session says the wait did (timeout_epoch()), not on every octet read.
void client_driver::arm_session_timer() {
  const std::pair<std::uint64_t, std::chrono::seconds> wait{session_.timeout_epoch(), session_.timeout()};
  if (session_wait_ == wait) return;
  arm_timer(wait.second);
  session_wait_ = wait;
}

void client_driver::quit() {
  if (closed_) return;
  // Refused (the session is over, or QUIT would cut a message short): close.
  if (session_.quit()) close();
}

// --- reading -------------------------------------------------------------------------

void client_driver::start_read() {
  // wants_read(): false while the receive buffer is full (backpressure) or a
  // TLS handshake is owed; the read is sized to what the session can take.
  if (reading_ || closed_ || eof_ || held_ || held_eof_ || !session_.wants_read()) return;
  reading_ = true;
  const auto buffer = asio::buffer(read_buffer_.data(), std::min(read_buffer_.size(), session_.receive_capacity()));
  const auto done = [this](const std::error_code& ec, std::size_t n) { on_read(ec, n); };
  if (tls_)
    tls_->async_read_some(buffer, done);
  else
    socket_.async_read_some(buffer, done);
}

void client_driver::on_read(const std::error_code& ec, std::size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec == asio::error::operation_aborted) {
    if (timed_out_) after_cancel();
    return;
  }
  // A peer that closes TLS without close_notify (stream_truncated) has
  // still closed: the session decides whether that was expected (after 221).
  const bool end = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
  if (ec && !end)
    handler_.on_error({driver_step::read, ec, "reading from the server failed: " + ec.message()});
  held_ = n;
  held_eof_ = static_cast<bool>(ec);
  if (writing_) return;  // the client's output is borrowed: deliver after the write
  deliver_held();
  pump();
}

void client_driver::deliver_held() {
  if (held_) {
    const auto n = std::exchange(held_, 0);
    if (session_.receive(std::string_view(read_buffer_.data(), n))) {
      close();  // the session is over (closed or told of the end): the bytes are not wanted
      return;
    }
  }
  if (std::exchange(held_eof_, false)) {
    eof_ = true;
    (void)session_.receive_eof();  // refused only when the session is over already
  }
}

// --- writing -------------------------------------------------------------------------

void client_driver::start_write() {
  if (writing_ || closed_) return;
  // Every run at once (one writev on TCP): commands and replies are copies,
  // a message body from a memory_source is the caller's own bytes, by
  // reference. 64 runs at a time keeps within IOV_MAX; partial writes are
  // normal. (Asio's TLS stream takes the first buffer per call.)
  gather_.clear();
  for (const auto run : session_.pending_output_spans(64)) gather_.emplace_back(run.data(), run.size());
  if (gather_.empty()) return;
  writing_ = true;
  const auto done = [this](const std::error_code& ec, std::size_t n) { on_written(ec, n); };
  if (tls_)
    tls_->async_write_some(gather_, done);
  else
    socket_.async_write_some(gather_, done);
}

void client_driver::on_written(const std::error_code& ec, std::size_t n) {
  writing_ = false;
  if (closed_) return;
  if (ec) {
    if (ec == asio::error::operation_aborted && timed_out_)
      after_cancel();
    else
      fail({driver_step::write, ec, "writing to the server failed: " + ec.message()});
    return;
  }
  session_.consume_output(n);  // partial writes are normal
  if (!session_.pending_output().empty()) {
    start_write();
    return;
  }
  deliver_held();
  pump();
}

// --- STARTTLS (RFC 3207) -------------------------------------------------------------

void client_driver::start_handshake() {
  // RFC 3207 §5 (CVE-2011-0411): reply bytes that came with the 220 could
  // have been injected by a man in the middle. Under `reject` the session
  // will refuse them; say so now rather than after a handshake.
  if (!session_.trailing_data().empty() && options_.session.after_starttls == starttls_injection::reject) {
    fail({driver_step::starttls, make_error_code(errc::starttls_injection),
          "the server sent " + std::to_string(session_.trailing_data().size()) +
              " octets of plaintext after its 220 to STARTTLS: refused, as they could have "
              "been injected (RFC 3207 section 5)"});
    return;
  }
  if (!tls_context_) {  // the application sent STARTTLS itself under tls_policy::off
    fail({driver_step::tls, {}, "no TLS context: STARTTLS was sent but client_options::starttls is off"});
    return;
  }
  handshaking_ = true;
  tls_.emplace(socket_, *tls_context_);
  if (const auto ec = prepare_tls_connection(tls_->native_handle(), options_.host)) {
    fail({driver_step::tls, ec, "cannot set up TLS for " + options_.host + ": " + ec.message()});
    return;
  }
  arm_timer(options_.tls_handshake_timeout);
  tls_->async_handshake(asio::ssl::stream_base::client, [this](const std::error_code& ec) {
    handshaking_ = false;
    if (closed_) return;
    if (ec) {
      fail({driver_step::tls, ec,
            "TLS handshake with " + options_.host +
                " failed: " + tls_failure_text(tls_->native_handle(), ec)});
      return;
    }
    tls_peer_ = describe_tls_peer(tls_->native_handle());
    handler_.on_tls(*tls_peer_);
    if (closed_) return;
    if (session_.state() == client_state::greeting) return pump();  // implicit TLS: now the greeting
    // Refused when the server sent plaintext after its 220 under the
    // default `reject` (RFC 3207 §5; CVE-2011-0411).
    if (const auto e = session_.tls_established()) {
      fail({driver_step::starttls, e,
            "the server sent plaintext after its 220 to STARTTLS (" + e.message() +
                "): refused, as it could have been injected"});
      return;
    }
    pump();  // the session wrote a fresh EHLO (RFC 3207 §4.2): the old capabilities are gone
  });
}

// --- time ------------------------------------------------------------------------------

void client_driver::arm_timer(std::chrono::seconds after) {
  session_wait_.reset();  // a wait of the driver's own (connect, handshake) replaced the session's
  const unsigned generation = ++timer_generation_;
  // A pending wait keeps io_context::run() going: none once closed.
  if (closed_ || after.count() <= 0) {
    timer_.cancel();
    return;
  }
  timer_.expires_after(after);
  timer_.async_wait([this, generation](const std::error_code& ec) {
    if (ec || closed_ || generation != timer_generation_) return;
    on_timer();
  });
}

void client_driver::on_timer() {
  if (!connected_) {
    fail({driver_step::connect, std::make_error_code(std::errc::timed_out),
          "no connection to " + options_.host + " port " + options_.port + " within " +
              std::to_string(options_.connect_timeout.count()) + " seconds"});
    return;
  }
  if (handshaking_) {
    fail({driver_step::tls, std::make_error_code(std::errc::timed_out),
          "the TLS handshake with " + options_.host + " did not finish within " +
              std::to_string(options_.tls_handshake_timeout.count()) + " seconds"});
    return;
  }
  timed_out_ = true;
  std::error_code ignored;
  socket_.cancel(ignored);  // in-flight operations end with operation_aborted
  after_cancel();
}

// The client is told of the timeout only once nothing borrows its output.
void client_driver::after_cancel() {
  if (reading_ || writing_ || timeout_reported_) return;
  timeout_reported_ = true;
  session_.on_timeout();  // RFC 5321 §4.5.3.2: next_event() reports it
  pump();
}

// --- the end ---------------------------------------------------------------------------

void client_driver::abort(driver_error why) { fail(std::move(why)); }

void client_driver::fail(driver_error error) {
  if (closed_) return;
  handler_.on_error(error);
  close();
}

void client_driver::close() {
  if (closed_) return;
  closed_ = true;
  ++timer_generation_;
  timer_.cancel();
  resolver_.cancel();
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace sansmtp::drivers
