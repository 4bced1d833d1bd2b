// The Asio client driver (include/sansmtp/asio/client_driver.hpp) over real TCP on
// 127.0.0.1 against scripted servers: what only a driver can get wrong —
// its timer, a refused connection, and plaintext injected after the 220 to
// STARTTLS. Whole sessions against real servers are tests/interop/send.sh.
#include <sansmtp/advice/describe.hpp>
#include <sansmtp/asio/client_driver.hpp>

#include <sansmtp/session/server.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

#include <asio/error.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

// The scripted peers run on I/O threads, where a Catch2 assertion must not
// run: a session call they make that is refused ends the test run at once.
void sent(std::error_code ec) {
  if (!ec) return;
  std::fprintf(stderr, "test peer: a session call was refused: %s\n", ec.message().c_str());
  std::abort();
}

using namespace sansmtp;

// Accepts one connection, sends replies[0] at once and replies[k] after the
// k-th line it receives, and keeps everything it receives.
class scripted_peer {
 public:
  scripted_peer(asio::io_context& io, std::vector<std::string> replies)
      : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), socket_(io), replies_(std::move(replies)) {
    acceptor_.async_accept(socket_, [this](const std::error_code& ec) {
      if (ec) return;
      send_next();
      read();
    });
  }
  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }
  const std::string& received() const { return received_; }

 private:
  void send_next() {
    if (next_ < replies_.size()) asio::write(socket_, asio::buffer(replies_[next_++]));
  }
  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [this](const std::error_code& ec, std::size_t n) {
      if (ec) return;
      received_.append(buffer_, n);
      for (auto end = received_.find("\r\n", scanned_); end != std::string::npos; end = received_.find("\r\n", scanned_)) {
        scanned_ = end + 2;
        send_next();
      }
      read();
    });
  }

  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket socket_;
  std::vector<std::string> replies_;
  std::size_t next_ = 0, scanned_ = 0;
  std::string received_;
  char buffer_[4096];
};

// Logs what the driver reports; QUITs when ready.
struct logging_handler final : drivers::client_handler {
  std::vector<std::string> log;
  void on_event(drivers::client_driver&, const client_event_t& event) override {
    if (const auto* r = std::get_if<client_event::reply>(&event))
      log.push_back("reply " + std::to_string(r->value.code));
    else if (const auto* f = std::get_if<client_event::fatal_error>(&event))
      log.push_back("fatal " + std::string(errc_name(f->code)) + ": " + describe(*f));
    else if (std::holds_alternative<client_event::peer_closed>(event))
      log.push_back("peer closed");
  }
  void on_ready(drivers::client_driver&) override { log.push_back("ready"); }
  std::vector<std::error_code> codes;  // of each on_error
  void on_error(const drivers::driver_error& e) override {
    log.push_back("error " + std::string(drivers::driver_step_name(e.step)) + ": " + e.message);
    codes.push_back(e.code);
  }
};

drivers::client_driver_options options_for(const std::string& port) {
  drivers::client_driver_options o;
  o.host = "127.0.0.1";
  o.port = port;
  o.session.ehlo_name = "mail.acme-corp.com";
  return o;
}

TEST_CASE(
    "client driver: the TLS context is made or refused with a driver_error, and tls_peer_info is a "
    "tls_info") {
  static_assert(std::is_base_of_v<drivers::tls_info, drivers::tls_peer_info>);
  CHECK(drivers::make_client_tls_context({}).has_value());  // the system store (empty or not, it loads)
  drivers::tls_client_options o;
  o.ca_file = "/nonexistent/ca.pem";
  const auto refused = drivers::make_client_tls_context(o);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().step == drivers::driver_step::tls);
  CHECK(refused.error().code);
  CHECK(refused.error().message.starts_with("cannot load the CA file /nonexistent/ca.pem: "));
}

TEST_CASE("client driver: no greeting within greeting_timeout ends the session (RFC 5321 4.5.3.2)") {
  asio::io_context io;
  scripted_peer peer(io, {});
  auto o = options_for(peer.port());
  o.session.greeting_timeout = std::chrono::seconds{1};
  logging_handler h;
  drivers::client_driver driver(io, o, h);
  const auto start = std::chrono::steady_clock::now();
  driver.start();
  io.run();
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(h.log.size() == 1);
  CHECK(h.log[0].starts_with("fatal timeout: no reply while waiting for the reply to the connection (the greeting)"));
  CHECK(took >= std::chrono::milliseconds(900));
  CHECK(took < std::chrono::seconds(10));
  CHECK(peer.received().empty());
}

TEST_CASE("client driver: a full plain session ends with QUIT when the application sends nothing") {
  asio::io_context io;
  scripted_peer peer(io, {"220 mx.test ESMTP\r\n", "250-mx.test\r\n250 PIPELINING\r\n", "221 bye\r\n"});
  logging_handler h;
  drivers::client_driver driver(io, options_for(peer.port()), h);
  driver.start();
  io.run();
  CHECK(h.log == std::vector<std::string>{"reply 220", "reply 250", "ready", "reply 221"});
  CHECK(peer.received() == "EHLO mail.acme-corp.com\r\nQUIT\r\n");
}

TEST_CASE("client driver: a refused connection is a connect error") {
  asio::io_context io;
  std::string port;
  {
    asio::ip::tcp::acceptor closed(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = std::to_string(closed.local_endpoint().port());
  }
  logging_handler h;
  drivers::client_driver driver(io, options_for(port), h);
  driver.start();
  io.run();
  REQUIRE(h.log.size() == 1);
  CHECK(h.log[0].starts_with("error connect: cannot connect to 127.0.0.1 port " + port));
  REQUIRE(h.codes.size() == 1);
  CHECK(h.codes[0] == asio::error::connection_refused);  // Asio's "asio.system" category
}

TEST_CASE("client driver: plaintext after the 220 to STARTTLS is refused before any handshake (RFC 3207 5)") {
  asio::io_context io;
  // The 220 and a forged capability line in one segment (CVE-2011-0411).
  scripted_peer peer(io, {"220 mx.test ESMTP\r\n", "250-mx.test\r\n250 STARTTLS\r\n", "220 go ahead\r\n250 AUTH PLAIN\r\n"});
  logging_handler h;
  drivers::client_driver driver(io, options_for(peer.port()), h);
  driver.start();
  io.run();
  REQUIRE(h.log.size() == 4);
  CHECK(h.log[2] == "reply 220");
  CHECK(h.log[3].starts_with("error starttls: the server sent 16 octets of plaintext after its 220 to STARTTLS"));
  // No TLS ClientHello (it would start with 0x16) followed STARTTLS.
  CHECK(peer.received() == "EHLO mail.acme-corp.com\r\nSTARTTLS\r\n");
}

TEST_CASE("client driver: STARTTLS required and not offered: QUIT before MAIL") {
  asio::io_context io;
  scripted_peer peer(io, {"220 mx.test ESMTP\r\n", "250-mx.test\r\n250 PIPELINING\r\n", "221 bye\r\n"});
  auto o = options_for(peer.port());
  o.session.starttls = tls_policy::required;
  logging_handler h;
  drivers::client_driver driver(io, o, h);
  driver.start();
  io.run();
  REQUIRE(h.log.size() == 4);
  CHECK(h.log[2] == "error starttls: the server does not offer STARTTLS (RFC 3207) and TLS is required");
  CHECK(h.log[3] == "reply 221");
  CHECK(peer.received() == "EHLO mail.acme-corp.com\r\nQUIT\r\n");
}

TEST_CASE("client driver: the session's opening helper: STARTTLS refused under required, a bad EHLO name, 554") {
  SECTION("STARTTLS refused and TLS required: the same error as ever, then QUIT") {
    asio::io_context io;
    scripted_peer peer(io, {"220 mx.test ESMTP\r\n", "250-mx.test\r\n250 STARTTLS\r\n", "454 4.7.0 not now\r\n",
                            "221 bye\r\n"});
    auto o = options_for(peer.port());
    o.session.starttls = tls_policy::required;
    logging_handler h;
    drivers::client_driver driver(io, o, h);
    CHECK(driver.options().session.open_automatically);  // the driver turns the helper on
    driver.start();
    io.run();
    CHECK(h.log == std::vector<std::string>{"reply 220", "reply 250", "reply 454",
                                            "error starttls: the server refused STARTTLS and TLS is required",
                                            "reply 221"});
    CHECK(peer.received() == "EHLO mail.acme-corp.com\r\nSTARTTLS\r\nQUIT\r\n");
  }
  SECTION("an EHLO name that fails the check: on_error(hello), QUIT") {
    asio::io_context io;
    scripted_peer peer(io, {"220 mx.test ESMTP\r\n", "221 bye\r\n"});
    auto o = options_for(peer.port());
    o.session.ehlo_name = "[10.42.0.17]";
    logging_handler h;
    drivers::client_driver driver(io, o, h);
    driver.start();
    io.run();
    CHECK(h.log == std::vector<std::string>{
                       "reply 220",
                       "error hello: the EHLO name \"[10.42.0.17]\" fails the EHLO-name check (see: sansmtp ehlo-check)",
                       "reply 221"});
    REQUIRE(h.codes.size() == 1);
    CHECK(h.codes[0] == errc::bad_ehlo_name);
    CHECK(peer.received() == "QUIT\r\n");
  }
  SECTION("a 554 greeting: QUIT, never on_ready (RFC 5321 3.1)") {
    asio::io_context io;
    scripted_peer peer(io, {"554 5.7.1 no service\r\n", "221 bye\r\n"});
    logging_handler h;
    drivers::client_driver driver(io, options_for(peer.port()), h);
    driver.start();
    io.run();
    CHECK(h.log == std::vector<std::string>{"reply 554", "reply 221"});
    CHECK(peer.received() == "QUIT\r\n");
  }
}

TEST_CASE("client driver: AUTH from client_options::auth is sent by the session before on_ready") {
  asio::io_context io;
  scripted_peer peer(io, {"220 mx.test ESMTP\r\n", "250-mx.test\r\n250 AUTH PLAIN\r\n", "235 2.7.0 ok\r\n",
                          "221 bye\r\n"});
  auto o = options_for(peer.port());
  o.session.starttls = tls_policy::off;
  o.session.allow_auth_without_tls = true;  // a scripted peer without TLS
  o.session.auth = client_auth{"PLAIN", "AGJvYgBzZWNyZXQ="};
  logging_handler h;
  drivers::client_driver driver(io, o, h);
  driver.start();
  io.run();
  CHECK(h.log == std::vector<std::string>{"reply 220", "reply 250", "reply 235", "ready", "reply 221"});
  CHECK(peer.received() == "EHLO mail.acme-corp.com\r\nAUTH PLAIN AGJvYgBzZWNyZXQ=\r\nQUIT\r\n");
  CHECK(driver.session().authenticated());
}

// A real sansmtp::server on the other end, in its own thread with blocking
// I/O, reading `chunk` octets at a time from a small receive buffer, so the
// driver's writes are cut short and its reads come in pieces.
class server_peer {
 public:
  explicit server_peer(std::size_t chunk) : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), chunk_(chunk) {
    acceptor_.set_option(asio::socket_base::receive_buffer_size(4096));
    thread_ = std::thread([this] { run(); });
  }
  ~server_peer() {
    if (thread_.joinable()) thread_.join();
  }
  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }
  void join() { thread_.join(); }
  const std::string& message() const { return message_; }  // after join()

 private:
  void run() {
    asio::ip::tcp::socket socket(io_);
    acceptor_.accept(socket);
    server_options o;
    o.hostname = "mx.test";
    server session(o);
    sent(session.send(220, "mx.test ESMTP"));
    std::vector<char> buffer(chunk_);
    std::error_code ec;
    for (;;) {
      const auto out = session.pending_output();
      asio::write(socket, asio::buffer(out.data(), out.size()), ec);
      if (ec) return;
      session.consume_output(out.size());
      if (session.closed()) return;
      if (session.wants_read()) {
        const auto n = socket.read_some(asio::buffer(buffer.data(), std::min(buffer.size(), session.receive_capacity())), ec);
        if (ec)
          sent(session.receive_eof());
        else
          sent(session.receive(std::string_view(buffer.data(), n)));
      }
      for (;;) {
        const auto event = session.next_event();
        if (std::holds_alternative<server_event::need_data>(event)) break;
        if (const auto* p = std::get_if<server_event::paused>(&event)) {
          if (p->why == server_event::paused::reason::closed) return;
          break;
        }
        if (const auto* c = std::get_if<server_event::command>(&event)) {
          if (std::holds_alternative<cmd::ehlo>(c->value))
            sent(session.send_ehlo_reply());
          else if (std::holds_alternative<cmd::data>(c->value))
            sent(session.send(354, "go ahead"));
          else if (std::holds_alternative<cmd::quit>(c->value))
            sent(session.send(221, "bye"));
          else
            sent(session.send(250, "ok"));
        } else if (const auto* d = std::get_if<server_event::message_data>(&event)) {
          message_.append(d->bytes.data(), d->bytes.size());
        } else if (std::holds_alternative<server_event::message_end>(event)) {
          sent(session.send(250, "2.0.0 queued"));
        } else if (std::holds_alternative<server_event::peer_closed>(event)) {
          return;
        }
      }
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::size_t chunk_;
  std::thread thread_;
  std::string message_;
};

// Submits one message when ready, then lets the driver QUIT.
struct submitting_handler final : drivers::client_handler {
  std::string message;
  std::vector<std::string> log;
  bool submitted = false;
  void on_event(drivers::client_driver&, const client_event_t& event) override {
    if (const auto* s = std::get_if<client_event::submitted>(&event))
      log.push_back("submitted " + std::to_string(s->recipients.size()) + (s->all_delivered() ? " delivered" : " not delivered"));
    else if (const auto* f = std::get_if<client_event::fatal_error>(&event))
      log.push_back("fatal " + describe(*f));
  }
  void on_ready(drivers::client_driver& driver) override {
    if (submitted) return;
    submitted = true;
    envelope env;
    env.reverse_path = "app@acme-corp.com";
    env.recipients = {{"a@acme-corp.com", {}}, {"b@acme-corp.com", {}}};
    source_.emplace(message, 3000);  // pieces that cut lines anywhere
    if (const auto ec = driver.session().submit(env, *source_)) log.push_back("submit refused " + ec.message());
  }
  void on_error(const drivers::driver_error& e) override { log.push_back("error " + e.message); }

 private:
  std::optional<memory_source> source_;
};

TEST_CASE("client driver: 4 MiB to a real sansmtp::server over TCP, cut on both sides, arrives as sent") {
  std::string message = "Subject: big\r\n\r\n";
  for (std::size_t i = 0; message.size() < 4 * 1024 * 1024; ++i)
    message += (i % 7 == 0 ? "." : "") + std::string(i % 93, static_cast<char>('a' + i % 26)) + "\r\n";
  asio::io_context io;
  server_peer peer(1024);
  submitting_handler h;
  h.message = message;
  drivers::client_driver driver(io, options_for(peer.port()), h);
  driver.start();
  io.run();
  peer.join();
  CHECK(h.log == std::vector<std::string>{"submitted 2 delivered"});
  CHECK(peer.message() == message);
}


// --- hardening (issue 22) -------------------------------------------------------------------

// Submits one message (by BDAT when asked) when ready; logs the outcome.
struct one_message_handler final : drivers::client_handler {
  bool bdat = false, submitted = false;
  std::vector<std::string> log;
  memory_source source{"Subject: x\r\n\r\nhello\r\n"};
  void on_event(drivers::client_driver&, const client_event_t& event) override {
    if (const auto* s = std::get_if<client_event::submitted>(&event))
      log.push_back(s->all_delivered() ? "delivered" : "not delivered");
    else if (const auto* f = std::get_if<client_event::fatal_error>(&event))
      log.push_back("fatal " + std::string(errc_name(f->code)));
  }
  void on_ready(drivers::client_driver& driver) override {
    if (submitted) return;
    submitted = true;
    envelope env;
    env.reverse_path = "app@acme-corp.com";
    env.recipients = {{"a@acme-corp.com", {}}};
    env.prefer_bdat = bdat;
    if (const auto ec = driver.session().submit(env, source)) log.push_back("submit refused " + ec.message());
  }
  void on_error(const drivers::driver_error& e) override { log.push_back("error " + e.message); }
};

// A hostile server's extra replies end the session with a protocol error,
// never a loop without progress (the driver once spun at 100% CPU on them)
// and never a delivery. A spin would hang io.run() past the test's timeout.
TEST_CASE("client driver: extra replies from the server end the session, no spin, no delivery") {
  SECTION("354 and 250 to DATA in one segment") {
    asio::io_context io;
    scripted_peer peer(io, {"220 mx.test ESMTP\r\n", "250 mx.test\r\n", "250 ok\r\n", "250 ok\r\n",
                            "354 go\r\n250 2.0.0 queued\r\n"});
    one_message_handler h;
    drivers::client_driver driver(io, options_for(peer.port()), h);
    driver.start();
    io.run();
    CHECK(h.log == std::vector<std::string>{"fatal unexpected_reply"});
  }
  SECTION("an extra 250 after the RCPT's reply, under BDAT") {
    asio::io_context io;
    scripted_peer peer(io, {"220 mx.test ESMTP\r\n", "250-mx.test\r\n250 CHUNKING\r\n", "250 ok\r\n",
                            "250 ok\r\n250 extra\r\n"});
    one_message_handler h;
    h.bdat = true;
    drivers::client_driver driver(io, options_for(peer.port()), h);
    driver.start();
    io.run();
    CHECK(h.log == std::vector<std::string>{"fatal unexpected_reply"});
  }
  SECTION("250 to DATA") {
    asio::io_context io;
    scripted_peer peer(io, {"220 mx.test ESMTP\r\n", "250 mx.test\r\n", "250 ok\r\n", "250 ok\r\n", "250 ok\r\n"});
    one_message_handler h;
    drivers::client_driver driver(io, options_for(peer.port()), h);
    driver.start();
    io.run();
    CHECK(h.log == std::vector<std::string>{"fatal unexpected_reply"});
    CHECK(peer.received().find("Subject") == std::string::npos);  // the body was never sent
  }
}

TEST_CASE("client driver: a non-221 reply to QUIT ends the session and QUIT goes once (RFC 5321 4.1.1.10)") {
  asio::io_context io;
  scripted_peer peer(io, {"220 mx.test ESMTP\r\n", "250 mx.test\r\n", "500 what\r\n", "500 what\r\n", "500 what\r\n"});
  logging_handler h;
  drivers::client_driver driver(io, options_for(peer.port()), h);
  driver.start();
  io.run();
  CHECK(h.log == std::vector<std::string>{"reply 220", "reply 250", "ready", "reply 500"});
  CHECK(peer.received() == "EHLO mail.acme-corp.com\r\nQUIT\r\n");
}

TEST_CASE("client driver: a greeting dripped an octet at a time still times out as a whole (RFC 5321 4.5.3.2.1)") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket socket(io);
  asio::steady_timer drip(io);
  const std::string greeting = "220 mx.test ESMTP dripping slowly\r\n";
  std::size_t sent = 0;
  std::function<void()> next = [&] {
    if (sent == greeting.size()) return;
    std::error_code ec;
    asio::write(socket, asio::buffer(greeting.data() + sent++, 1), ec);
    if (ec) return;
    drip.expires_after(std::chrono::milliseconds(150));
    drip.async_wait([&](const std::error_code& e) {
      if (!e) next();
    });
  };
  acceptor.async_accept(socket, [&](const std::error_code& ec) {
    if (!ec) next();
  });
  auto o = options_for(std::to_string(acceptor.local_endpoint().port()));
  o.session.greeting_timeout = std::chrono::seconds{1};
  logging_handler h;
  drivers::client_driver driver(io, o, h);
  const auto start = std::chrono::steady_clock::now();
  driver.start();
  while (!io.stopped() && h.log.empty()) io.run_one();
  const auto took = std::chrono::steady_clock::now() - start;
  drip.cancel();
  REQUIRE(h.log.size() == 1);
  CHECK(h.log[0].starts_with("fatal timeout"));
  // An octet every 150 ms renews nothing: the 35-octet greeting would take 5 s.
  CHECK(took < std::chrono::seconds(4));
  CHECK(sent < greeting.size());
}

}  // namespace
