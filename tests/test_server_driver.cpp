// drivers/server_driver: real TCP connections on 127.0.0.1 to a driver
// running in this process, with handlers written here (the embedding API:
// what a handler sees, and what the driver does when the handler or the
// peer misbehaves). STARTTLS, AUTH and real clients are in
// tests/interop/serve_tcp*.sh.
#include <sansmtp/asio/server_driver.hpp>
#include <sansmtp/asio/tls_server.hpp>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <istream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace drivers = sansmtp::drivers;
using sansmtp::server;
using sansmtp::server_event_t;
namespace server_event = sansmtp::server_event;
namespace cmd = sansmtp::cmd;

namespace {

// The scripted peers run on I/O threads, where a Catch2 assertion must not
// run: a session call they make that is refused ends the test run at once.
void sent(std::error_code ec) {
  if (!ec) return;
  std::fprintf(stderr, "test peer: a session call was refused: %s\n", ec.message().c_str());
  std::abort();
}

// What the handlers saw, for the test thread.
struct record {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<drivers::close_reason> closes;
  // What on_error heard ("handler: on_event threw: ..."), with the number of
  // closes before it (on_error comes right before its connection's on_close).
  std::vector<std::pair<std::string, std::size_t>> errors;
  std::vector<std::string> messages;
  std::vector<std::string> driver_replies;  // "421 4.3.2 ...": what on_driver_reply heard
  int refused = 0;
  std::vector<drivers::refusal> refusals;
  std::vector<std::string> proxied;  // "203.0.113.5 4242 greeting owed": the proxied events
  std::vector<std::string> fatal;    // the fatal_error events' errc names
  bool drained = false;
  std::vector<drivers::deferred_reply> deferred;  // the replies handlers left for later

  // Waits (up to 10 s) until a handler has deferred a reply; takes it.
  drivers::deferred_reply take_deferred() {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, std::chrono::seconds(10), [&] { return !deferred.empty(); });
    REQUIRE(!deferred.empty());
    auto d = std::move(deferred.front());
    deferred.erase(deferred.begin());
    return d;
  }

  void add_close(drivers::close_reason why) {
    std::lock_guard lock(mutex);
    closes.push_back(why);
    changed.notify_all();
  }
  // Waits (up to 10 s) until `n` connections have closed.
  std::vector<drivers::close_reason> wait_closes(std::size_t n) {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, std::chrono::seconds(10), [&] { return closes.size() >= n; });
    return closes;
  }
};

// Answers everything as the example in sansmtp/session/server.hpp does, keeps the
// messages; `answer_noop` false leaves NOOP unanswered, `throw_on_mail`
// throws from the MAIL event, `defer_vrfy` answers VRFY later: it hands
// the deferred_reply to the test.
class test_handler final : public drivers::server_handler {
 public:
  test_handler(record& r, bool answer_noop, bool throw_on_mail, bool defer_vrfy = false)
      : record_(r), answer_noop_(answer_noop), throw_on_mail_(throw_on_mail), defer_vrfy_(defer_vrfy) {}

  void on_connect(server& s) override { sent(s.send(220, "mx.test ESMTP driver test")); }

  void on_event(server& s, const server_event_t& event) override {
    if (const auto* c = std::get_if<server_event::command>(&event)) {
      if (std::holds_alternative<cmd::ehlo>(c->value)) {
        sent(s.send_ehlo_reply());
      } else if (std::holds_alternative<cmd::data>(c->value)) {
        sent(s.send(354, "Go ahead"));
      } else if (std::holds_alternative<cmd::quit>(c->value)) {
        sent(s.send(221, "2.0.0 Bye"));
      } else if (std::holds_alternative<cmd::vrfy>(c->value) && defer_vrfy_) {
        auto later = defer();  // (no Catch2 assertion here: this is the I/O thread)
        std::lock_guard lock(record_.mutex);
        record_.deferred.push_back(std::move(later));
        record_.changed.notify_all();
      } else if (std::holds_alternative<cmd::mail>(c->value) && throw_on_mail_) {
        throw std::runtime_error("the application failed");
      } else if (!std::holds_alternative<cmd::noop>(c->value) || answer_noop_) {
        sent(s.send(250, "2.0.0 Ok"));
      }
    } else if (const auto* b = std::get_if<server_event::bad_command>(&event)) {
      sent(s.send(b->suggested));
    } else if (const auto* d = std::get_if<server_event::message_data>(&event)) {
      message_.append(d->bytes.data(), d->bytes.size());
    } else if (const auto* e = std::get_if<server_event::message_end>(&event)) {
      {
        std::lock_guard lock(record_.mutex);
        record_.messages.push_back(std::move(message_));
      }
      message_.clear();
      sent(e->error ? s.send(e->suggested) : s.send(250, "2.0.0 Ok"));
    } else if (const auto* f = std::get_if<server_event::fatal_error>(&event)) {
      if (f->suggested.code) sent(s.send(f->suggested));  // (a broken PROXY header has no reply)
      std::lock_guard lock(record_.mutex);
      record_.fatal.emplace_back(sansmtp::errc_name(f->code));
    } else if (const auto* p = std::get_if<server_event::proxied>(&event)) {
      std::lock_guard lock(record_.mutex);
      record_.proxied.push_back(p->header.source_address + " " + std::to_string(p->header.source_port) +
                                (s.state() == sansmtp::server_state::greeting ? " greeting owed" : " ?"));
    }
  }

  void on_driver_reply(server&, int code, std::string_view text) override {
    std::lock_guard lock(record_.mutex);
    record_.driver_replies.push_back(std::to_string(code) + " " + std::string(text));
  }

  void on_error(const drivers::driver_error& e) override {
    std::lock_guard lock(record_.mutex);
    record_.errors.emplace_back(std::string(drivers::driver_step_name(e.step)) + ": " + e.message,
                                record_.closes.size());
  }

  void on_close(drivers::close_reason why) override { record_.add_close(why); }

 private:
  record& record_;
  bool answer_noop_, throw_on_mail_, defer_vrfy_;
  std::string message_;
};

struct handler_kind {
  bool answer_noop = true;
  bool throw_on_mail = false;
  bool defer_vrfy = false;
};

// A driver on 127.0.0.1:0 with its io_context on a thread of its own.
struct running_driver {
  record seen;
  asio::io_context io;
  drivers::server_driver driver;
  std::thread thread;
  std::uint16_t port = 0;

  explicit running_driver(drivers::server_driver_options options, handler_kind kind = {})
      : driver(io, with_hooks(std::move(options)), [this, kind](const drivers::peer_info& peer) {
          CHECK(peer.address == "127.0.0.1");
          return std::make_unique<test_handler>(seen, kind.answer_noop, kind.throw_on_mail, kind.defer_vrfy);
        }) {
    REQUIRE(!driver.listen({asio::ip::make_address("127.0.0.1"), 0}));
    port = driver.local_endpoint().port();
    thread = std::thread([this] { io.run(); });
  }
  ~running_driver() {
    driver.shutdown(std::chrono::seconds(0));
    thread.join();  // run() returns once the listener and every connection are gone
  }

  drivers::server_driver_options with_hooks(drivers::server_driver_options o) {
    o.session.hostname = "mx.test";
    o.on_refused = [this](const drivers::peer_info&, drivers::refusal why) {
      std::lock_guard lock(seen.mutex);
      ++seen.refused;
      seen.refusals.push_back(why);
    };
    o.on_drained = [this] {
      std::lock_guard lock(seen.mutex);
      seen.drained = true;
    };
    return o;
  }
};

// A blocking client.
struct client {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  asio::streambuf in;

  explicit client(std::uint16_t port) { socket.connect({asio::ip::make_address("127.0.0.1"), port}); }

  void send(std::string_view bytes) { asio::write(socket, asio::buffer(bytes.data(), bytes.size())); }

  // One whole reply ("250-a\r\n250 b\r\n"); empty at EOF.
  std::string reply() {
    std::string whole;
    for (;;) {
      std::error_code ec;
      asio::read_until(socket, in, "\r\n", ec);
      if (ec) return whole;
      std::istream stream(&in);
      std::string line;
      std::getline(stream, line);
      whole += line + "\n";
      if (line.size() < 4 || line[3] != '-') return whole;
    }
  }

  // True when the server has closed (nothing more arrives); then closes
  // this end too, so that the server's lingering close ends at once.
  bool at_eof() {
    std::error_code ec;
    asio::read(socket, in, asio::transfer_at_least(1), ec);
    socket.close();
    return ec == asio::error::eof;
  }
};

}  // namespace

TEST_CASE("server driver: a transaction over TCP reaches the handler and the replies come back in order") {
  running_driver d({});
  client c(d.port);
  CHECK(c.reply() == "220 mx.test ESMTP driver test\r\n");
  // Pipelined: one write, the replies in order (RFC 2920).
  c.send("EHLO c.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
  CHECK(c.reply().rfind("250-mx.test\r\n250-PIPELINING\r\n", 0) == 0);
  CHECK(c.reply() == "250 2.0.0 Ok\r\n");
  CHECK(c.reply() == "250 2.0.0 Ok\r\n");
  CHECK(c.reply() == "354 Go ahead\r\n");
  c.send("Subject: t\r\n\r\n..dot\r\n.\r\nQUIT\r\n");
  CHECK(c.reply() == "250 2.0.0 Ok\r\n");
  CHECK(c.reply() == "221 2.0.0 Bye\r\n");
  CHECK(c.at_eof());
  CHECK(d.seen.wait_closes(1) == std::vector{drivers::close_reason::session_closed});
  std::lock_guard lock(d.seen.mutex);
  CHECK(d.seen.messages == std::vector<std::string>{"Subject: t\r\n\r\n.dot\r\n"});
}

TEST_CASE("server driver: a peer that sends without reading gets every reply, in order (backpressure)") {
  running_driver d({});
  client c(d.port);
  c.reply();
  // 60000 NOOPs (360 KB) written while nothing is read: the server stops
  // reading while its unsent replies are above the high-water mark, so
  // the writer blocks instead of the server's memory growing.
  constexpr int count = 60000;
  std::thread writer([fd = c.socket.native_handle()] {
    std::string batch;
    for (int i = 0; i < count; ++i) batch += "NOOP\r\n";
    batch += "QUIT\r\n";
    // Plain send(2) on this thread while the test thread reads with Asio.
    for (std::string_view rest = batch; !rest.empty();) {
      const auto n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int ok = 0;
  for (int i = 0; i < count; ++i) ok += c.reply() == "250 2.0.0 Ok\r\n";
  writer.join();
  CHECK(ok == count);
  CHECK(c.reply() == "221 2.0.0 Bye\r\n");
  CHECK(c.at_eof());
}

TEST_CASE("server driver: the command timeout closes with 421 4.4.2 (RFC 5321 4.5.3.2)") {
  drivers::server_driver_options o;
  o.session.command_timeout = std::chrono::seconds(1);
  running_driver d(o);
  client c(d.port);
  c.reply();
  const auto start = std::chrono::steady_clock::now();
  CHECK(c.reply().rfind("421 4.4.2 mx.test", 0) == 0);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(900));
  CHECK(c.at_eof());
  CHECK(d.seen.wait_closes(1) == std::vector{drivers::close_reason::timeout});
  // The session's own timeout is no failure of the driver's: no on_error.
  std::lock_guard lock(d.seen.mutex);
  CHECK(d.seen.errors.empty());
}

TEST_CASE("server driver: a command line dripped an octet at a time times out as a whole (RFC 5321 4.5.3.2.7)") {
  drivers::server_driver_options o;
  o.session.command_timeout = std::chrono::seconds(1);
  running_driver d(o);
  client c(d.port);
  c.reply();
  const auto start = std::chrono::steady_clock::now();
  // "NOOP" and a long argument, an octet every 150 ms: 5 s for the line,
  // while each gap is far below the timeout.
  std::thread dripper([fd = c.socket.native_handle()] {
    const std::string line = "NOOP dripping-one-octet-at-a-time\r\n";
    for (const char octet : line) {
      if (::send(fd, &octet, 1, MSG_NOSIGNAL) != 1) return;  // (Asio's socket is the reader's)
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
  });
  const auto reply = c.reply();
  const auto took = std::chrono::steady_clock::now() - start;
  dripper.join();
  CHECK(reply.rfind("421 4.4.2 mx.test", 0) == 0);
  CHECK(took < std::chrono::seconds(4));
  CHECK(d.seen.wait_closes(1) == std::vector{drivers::close_reason::timeout});
}

TEST_CASE("server driver: an unanswered event or a throwing handler ends the session with 421 4.3.0") {
  SECTION("unanswered") {
    running_driver d({}, {.answer_noop = false});
    client c(d.port);
    c.reply();
    c.send("NOOP\r\n");
    CHECK(c.reply() == "421 4.3.0 mx.test Local error, closing\r\n");
    CHECK(c.at_eof());
    CHECK(d.seen.wait_closes(1) == std::vector{drivers::close_reason::handler_failed});
    std::lock_guard lock(d.seen.mutex);
    CHECK(d.seen.errors == std::vector<std::pair<std::string, std::size_t>>{
                               {"handler: the handler left an event unanswered", 0}});
  }
  SECTION("throwing") {
    running_driver d({}, {.answer_noop = true, .throw_on_mail = true});
    client c(d.port);
    c.reply();
    c.send("EHLO c.test\r\n");
    c.reply();
    c.send("MAIL FROM:<a@example.org>\r\n");
    CHECK(c.reply() == "421 4.3.0 mx.test Local error, closing\r\n");
    CHECK(c.at_eof());
    CHECK(d.seen.wait_closes(1) == std::vector{drivers::close_reason::handler_failed});
    std::lock_guard lock(d.seen.mutex);
    CHECK(d.seen.errors == std::vector<std::pair<std::string, std::size_t>>{
                               {"handler: on_event threw: the application failed", 0}});
  }
}

TEST_CASE("server driver: the TLS context functions return the context or a driver_error") {
  const auto made = drivers::make_self_signed_tls_context("mx.test");
  CHECK(made.has_value());
  const auto refused = drivers::make_self_signed_tls_context("");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().step == drivers::driver_step::tls);
  CHECK(refused.error().code == std::errc::invalid_argument);
  CHECK(refused.error().message == "a self-signed certificate needs a host name of 1 to 64 octets");
  const auto missing = drivers::make_tls_context("/nonexistent/chain.pem", "/nonexistent/key.pem");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().step == drivers::driver_step::tls);
  CHECK(missing.error().code);  // OpenSSL's
  CHECK(missing.error().message.starts_with("cannot load the certificate chain /nonexistent/chain.pem: "));
}

TEST_CASE("server driver: a deferred reply lets the I/O thread serve others, and keeps the order of replies") {
  running_driver d({}, {.defer_vrfy = true});  // one thread runs every connection
  client a(d.port), b(d.port);
  a.reply();
  b.reply();
  a.send("VRFY alice\r\nNOOP\r\n");  // the NOOP pipelined behind the VRFY waits for it
  auto later = d.seen.take_deferred();
  REQUIRE(later);
  b.send("NOOP\r\n");
  CHECK(b.reply() == "250 2.0.0 Ok\r\n");  // answered while a's reply is still owed
  std::thread worker([&later] { later.complete([](server& s) { sent(s.send(252, "2.5.0 answered later")); }); });
  worker.join();
  CHECK(a.reply() == "252 2.5.0 answered later\r\n");
  CHECK(a.reply() == "250 2.0.0 Ok\r\n");
  a.send("QUIT\r\n");
  CHECK(a.reply() == "221 2.0.0 Bye\r\n");

  // A deferred_reply dropped without an answer: 421 4.3.0, as an event left unanswered.
  client c(d.port);
  c.reply();
  c.send("VRFY bob\r\n");
  { auto dropped = d.seen.take_deferred(); }
  CHECK(c.reply() == "421 4.3.0 mx.test Local error, closing\r\n");
  CHECK(c.at_eof());
}

TEST_CASE("server driver: past max_sessions a connection is greeted with 421 4.3.2 and closed") {
  drivers::server_driver_options o;
  o.max_sessions = 1;
  running_driver d(o);
  client first(d.port);
  CHECK(first.reply().rfind("220 ", 0) == 0);
  client second(d.port);
  CHECK(second.reply() == "421 4.3.2 mx.test Too many sessions, try again later\r\n");
  CHECK(second.at_eof());
  first.send("QUIT\r\n");
  CHECK(first.reply() == "221 2.0.0 Bye\r\n");
  CHECK(first.at_eof());
  d.seen.wait_closes(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the slot is released on close
  client third(d.port);
  CHECK(third.reply().rfind("220 ", 0) == 0);
  std::lock_guard lock(d.seen.mutex);
  CHECK(d.seen.refused == 1);
}

TEST_CASE("server driver: shutdown refuses new work at once and closes idle sessions after the grace") {
  running_driver d({});
  client idle(d.port), busy(d.port);
  idle.reply();
  busy.reply();
  busy.send("EHLO c.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
  for (int i = 0; i < 3; ++i) busy.reply();
  const auto start = std::chrono::steady_clock::now();
  d.driver.shutdown(std::chrono::seconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Inside the transaction: goes on. New work: 421 4.3.2 (RFC 5321 3.8).
  busy.send("DATA\r\n");
  CHECK(busy.reply() == "354 Go ahead\r\n");
  busy.send("x\r\n.\r\n");
  CHECK(busy.reply() == "250 2.0.0 Ok\r\n");
  busy.send("EHLO again.test\r\n");
  CHECK(busy.reply() == "421 4.3.2 mx.test Service shutting down, closing the channel\r\n");
  CHECK(busy.at_eof());
  // Idle: 421 4.3.2 when the grace period ends.
  CHECK(idle.reply() == "421 4.3.2 mx.test Service shutting down, closing the channel\r\n");
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(900));
  CHECK(idle.at_eof());
  const auto closes = d.seen.wait_closes(2);
  CHECK(closes == std::vector{drivers::close_reason::shutdown, drivers::close_reason::shutdown});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::lock_guard lock(d.seen.mutex);
  CHECK(d.seen.drained);
}

TEST_CASE("server driver: its own 421s (grace over, timeout, handler failure) reach on_driver_reply") {
  SECTION("shutdown: new work (the session's refusal), then the grace period over") {
    running_driver d({});
    client idle(d.port), busy(d.port);
    idle.reply();
    busy.reply();
    d.driver.shutdown(std::chrono::seconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    busy.send("EHLO again.test\r\n");
    CHECK(busy.reply() == "421 4.3.2 mx.test Service shutting down, closing the channel\r\n");
    CHECK(busy.at_eof());
    CHECK(idle.reply() == "421 4.3.2 mx.test Service shutting down, closing the channel\r\n");
    CHECK(idle.at_eof());
    d.seen.wait_closes(2);
    std::lock_guard lock(d.seen.mutex);
    // The new work was refused by the session (server::drain(): a
    // bad_command the handler answered with its suggestion); the grace
    // period's 421 is the driver's own.
    CHECK(d.seen.driver_replies == std::vector<std::string>{"421 4.3.2 mx.test Service shutting down, closing the channel"});
  }
  SECTION("timeout") {
    drivers::server_driver_options o;
    o.session.command_timeout = std::chrono::seconds(1);
    running_driver d(o);
    client c(d.port);
    c.reply();
    CHECK(c.reply().rfind("421 4.4.2 mx.test", 0) == 0);
    CHECK(c.at_eof());
    d.seen.wait_closes(1);
    std::lock_guard lock(d.seen.mutex);
    CHECK(d.seen.driver_replies == std::vector<std::string>{"421 4.4.2 mx.test Timeout waiting for the client, closing"});
  }
  SECTION("an unanswered event") {
    running_driver d({}, {.answer_noop = false});
    client c(d.port);
    c.reply();
    c.send("NOOP\r\n");
    CHECK(c.reply() == "421 4.3.0 mx.test Local error, closing\r\n");
    CHECK(c.at_eof());
    d.seen.wait_closes(1);
    std::lock_guard lock(d.seen.mutex);
    CHECK(d.seen.driver_replies == std::vector<std::string>{"421 4.3.0 mx.test Local error, closing"});
  }
}

TEST_CASE("server driver: behind a proxy the greeting waits for the PROXY header, which names the client") {
  drivers::server_driver_options o;
  o.session.proxy_protocol = sansmtp::proxy_reader_options{};
  running_driver d(o);  // proxy_from empty: loopback trusted
  client c(d.port);
  c.send("PROXY TCP4 203.0.113.5 192.0.2.25 4242 25\r\n");
  CHECK(c.reply() == "220 mx.test ESMTP driver test\r\n");
  c.send("QUIT\r\n");
  CHECK(c.reply() == "221 2.0.0 Bye\r\n");
  CHECK(c.at_eof());
  CHECK(d.seen.wait_closes(1) == std::vector{drivers::close_reason::session_closed});
  std::lock_guard lock(d.seen.mutex);
  CHECK(d.seen.proxied == std::vector<std::string>{"203.0.113.5 4242 greeting owed"});
}

TEST_CASE("server driver: a missing or broken PROXY header closes the connection without a greeting") {
  drivers::server_driver_options o;
  o.session.proxy_protocol = sansmtp::proxy_reader_options{};
  running_driver d(o);
  {
    client c(d.port);
    c.send("EHLO direct.example\r\n");  // a client that bypassed the proxy
    CHECK(c.reply().empty());
  }
  {
    client c(d.port);
    c.send("PROXY TCP4 203.0.113.5 192.0.2.25 4242 99999\r\n");
    CHECK(c.reply().empty());
  }
  CHECK(d.seen.wait_closes(2).size() == 2);
  std::lock_guard lock(d.seen.mutex);
  CHECK(d.seen.fatal == std::vector<std::string>{"bad_proxy_header", "bad_proxy_address"});
  CHECK(d.seen.proxied.empty());
}

TEST_CASE("server driver: a peer outside proxy_from is closed unread, and on_refused says why") {
  drivers::server_driver_options o;
  o.session.proxy_protocol = sansmtp::proxy_reader_options{};
  o.proxy_from = *drivers::parse_ip_networks("10.0.0.0/8,2001:db8::/32");
  running_driver d(o);
  client c(d.port);
  c.send("PROXY TCP4 203.0.113.5 192.0.2.25 4242 25\r\n");
  CHECK(c.reply().empty());
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(d.seen.mutex);
      if (!d.seen.refusals.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::lock_guard lock(d.seen.mutex);
  CHECK(d.seen.refusals == std::vector{drivers::refusal::untrusted_proxy});
  CHECK(d.seen.closes.empty());  // no session was made
  CHECK(drivers::refusal_name(drivers::refusal::untrusted_proxy) == "untrusted_proxy");
}

TEST_CASE("server driver: CIDR networks for the trust lists") {
  const auto v4 = drivers::parse_ip_network("10.0.0.0/8");
  REQUIRE(v4);
  CHECK(v4->contains(asio::ip::make_address("10.255.0.1")));
  CHECK(!v4->contains(asio::ip::make_address("11.0.0.1")));
  CHECK(v4->contains(asio::ip::make_address("::ffff:10.1.2.3")));  // a socket on :: sees this
  CHECK(!v4->contains(asio::ip::make_address("::a01:203")));
  CHECK(v4->to_string() == "10.0.0.0/8");
  const auto one = drivers::parse_ip_network("192.0.2.7");
  REQUIRE(one);
  CHECK(one->prefix_length == 32);
  CHECK(one->contains(asio::ip::make_address("192.0.2.7")));
  CHECK(!one->contains(asio::ip::make_address("192.0.2.8")));
  const auto v6 = drivers::parse_ip_network("2001:db8::/32");
  REQUIRE(v6);
  CHECK(v6->contains(asio::ip::make_address("2001:db8:ffff::1")));
  CHECK(!v6->contains(asio::ip::make_address("2001:db9::1")));
  CHECK(!v6->contains(asio::ip::make_address("10.0.0.1")));
  // Prefix bounds at N and N+1, and what is refused.
  CHECK(drivers::parse_ip_network("0.0.0.0/0"));
  CHECK(drivers::parse_ip_network("10.0.0.1/32"));
  CHECK(!drivers::parse_ip_network("10.0.0.1/33"));
  CHECK(drivers::parse_ip_network("::1/128"));
  CHECK(!drivers::parse_ip_network("::1/129"));
  for (const char* bad : {"10.0.0.1/8", "10.0.0.0/08", "10.0.0.0/", "10.0.0.0/-1", "mx.example", "10.0.0/8", ""})
    CHECK(!drivers::parse_ip_network(bad));
  CHECK(drivers::parse_ip_networks("127.0.0.0/8,::1")->size() == 2);
  CHECK(!drivers::parse_ip_networks("127.0.0.0/8,"));
  CHECK(!drivers::parse_ip_networks("127.0.0.0/8,nope"));
}

TEST_CASE("server driver: a PROXY header that never comes times out in silence") {
  drivers::server_driver_options o;
  o.session.proxy_protocol = sansmtp::proxy_reader_options{};
  o.session.command_timeout = std::chrono::seconds(1);
  running_driver d(o);
  client c(d.port);
  c.send("PROXY TCP4 203.0.113.5");  // and no more
  CHECK(c.reply().empty());  // no 421: no SMTP before the header
  CHECK(d.seen.wait_closes(1) == std::vector{drivers::close_reason::timeout});
  std::lock_guard lock(d.seen.mutex);
  CHECK(d.seen.driver_replies.empty());
}

TEST_CASE("server driver: sessions per client address, at N and N+1, greeted 421 4.7.0") {
  drivers::server_driver_options o;
  o.max_sessions_per_address = 2;
  running_driver d(o);
  client a(d.port), b(d.port);
  CHECK(a.reply().rfind("220 ", 0) == 0);
  CHECK(b.reply().rfind("220 ", 0) == 0);
  client c(d.port);  // the third from 127.0.0.1
  CHECK(c.reply().rfind("421 4.7.0 mx.test Too many sessions from your address", 0) == 0);
  CHECK(c.at_eof());
  a.send("QUIT\r\n");
  CHECK(a.reply().rfind("221", 0) == 0);
  CHECK(a.at_eof());
  d.seen.wait_closes(1);
  client e(d.port);  // a place is free again
  CHECK(e.reply().rfind("220 ", 0) == 0);
  std::lock_guard lock(d.seen.mutex);
  CHECK(d.seen.refusals == std::vector{drivers::refusal::max_per_address});
}

TEST_CASE("server driver: the connection rate per client address, at N and N+1") {
  drivers::server_driver_options o;
  o.max_connection_rate = {3, std::chrono::seconds(60)};
  running_driver d(o);
  for (int i = 0; i < 3; ++i) {
    client c(d.port);
    CHECK(c.reply().rfind("220 ", 0) == 0);
    c.send("QUIT\r\n");
    c.reply();
    CHECK(c.at_eof());
  }
  client fourth(d.port);
  CHECK(fourth.reply().rfind("421 4.7.0 mx.test Too many connections from your address", 0) == 0);
  CHECK(fourth.at_eof());
  std::lock_guard lock(d.seen.mutex);
  CHECK(d.seen.refusals == std::vector{drivers::refusal::connection_rate});
  CHECK(drivers::refusal_name(drivers::refusal::connection_rate) == "connection_rate");
}

TEST_CASE("server driver: a sender at 1 octet per second is cut off by the minimum rate within its window") {
  drivers::server_driver_options o;
  o.session.min_data_rate = {20, std::chrono::seconds(2)};
  running_driver d(o);
  client c(d.port);
  c.reply();
  c.send("EHLO c.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
  c.reply();
  c.reply();
  c.reply();
  CHECK(c.reply() == "354 Go ahead\r\n");
  const auto start = std::chrono::steady_clock::now();
  std::string got;
  for (int i = 0; i < 10 && got.empty(); ++i) {
    c.send("x");
    c.socket.non_blocking(true);
    std::error_code ec;
    std::array<char, 256> buf{};
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto n = c.socket.read_some(asio::buffer(buf), ec);
    if (!ec) got.assign(buf.data(), n);
    c.socket.non_blocking(false);
  }
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(got == "421 4.4.2 mx.test Transfer too slow, closing\r\n");
  CHECK(took >= std::chrono::seconds(2));
  CHECK(took < std::chrono::seconds(5));  // the first window, not the 10-minute DATA timeout
  CHECK(d.seen.wait_closes(1) == std::vector{drivers::close_reason::limit});
  std::lock_guard lock(d.seen.mutex);
  CHECK(d.seen.driver_replies == std::vector<std::string>{"421 4.4.2 mx.test Transfer too slow, closing"});
}

TEST_CASE("server driver: the whole-session limit closes an idle but timely session") {
  drivers::server_driver_options o;
  o.session.max_session_time = std::chrono::seconds(1);
  running_driver d(o);
  client c(d.port);
  c.reply();
  c.send("NOOP\r\n");
  CHECK(c.reply() == "250 2.0.0 Ok\r\n");
  const auto start = std::chrono::steady_clock::now();
  CHECK(c.reply() == "421 4.4.2 mx.test Session time limit reached, closing\r\n");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  CHECK(d.seen.wait_closes(1) == std::vector{drivers::close_reason::limit});
}
