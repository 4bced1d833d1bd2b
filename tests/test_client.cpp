// The client session, command level: scripted server transcripts (each at
// every split point) and a client joined in memory with the server.
#include <sansmtp/syntax/sasl.hpp>
#include <sansmtp/core/base64.hpp>
#include <sansmtp/advice/describe.hpp>
#include <sansmtp/session/client.hpp>
#include <sansmtp/syntax/command_builder.hpp>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"  // GCC PR 105329, "literal" + std::string
#endif

#include <catch2/catch.hpp>

#include "client_harness.hpp"
#include "data_helpers.hpp"
#include "joined_harness.hpp"
#include "server_harness.hpp"

#include <functional>
#include <random>
#include <limits>
#include <string>
#include <vector>

using namespace sansmtp;

namespace {

using test::body_step;
using test::command_step;
using test::hello_step;
using test::options_for;
using test::run_client;
using test::run_client_every_way;
using test::step;

const std::string ehlo_ok = "250-mx.example.net hello\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n";

}  // namespace

TEST_CASE("client: greeting variants: multiline 220, a bare 220, 554") {
  const std::vector<step> steps = {hello_step(), command_step("quit", make_quit())};
  auto r = run_client_every_way("220-mx.example.net ESMTP\r\n220 second line\r\n" + ehlo_ok + "221 bye\r\n", steps);
  CHECK(r.log == "reply the connection (the greeting) 220\nreply EHLO 250\nreply QUIT 221\n");
  CHECK(r.output == "EHLO mail.acme-corp.com\r\nQUIT\r\n");
  r = run_client_every_way("220\r\n" + ehlo_ok, steps);
  CHECK(r.output == "EHLO mail.acme-corp.com\r\nQUIT\r\n");
  // 554: only QUIT (RFC 5321 3.1).
  r = run_client_every_way("554 5.7.1 No service for you\r\n221 bye\r\n", steps);
  CHECK(r.log == "reply the connection (the greeting) 554 policy\nstep hello refused bad_sequence\nreply QUIT 221\n");
  CHECK(r.output == "QUIT\r\n");
}

TEST_CASE("client: EHLO falls back to HELO on 500 and 502 only (RFC 5321 4.1.4)") {
  const std::vector<step> steps = {hello_step()};
  for (const int code : {500, 502}) {
    const auto r = run_client_every_way("220 mx\r\n" + std::to_string(code) + " what?\r\n250 mx\r\n", steps);
    CHECK(r.output == "EHLO mail.acme-corp.com\r\nHELO mail.acme-corp.com\r\n");
    CHECK(r.log.find("helo-fallback") != std::string::npos);
    CHECK(r.log.find("reply HELO 250") != std::string::npos);
  }
  for (const int code : {421, 504, 550}) {
    INFO(code);
    const auto r = run_client_every_way("220 mx\r\n" + std::to_string(code) + " no\r\n", steps);
    CHECK(r.output == "EHLO mail.acme-corp.com\r\n");
    CHECK(r.log.find("helo-fallback") == std::string::npos);
  }
}

TEST_CASE("client: the EHLO name is checked before anything is sent, and named in a late refusal") {
  // The origin story: a pod's address literal.
  auto o = options_for("[10.42.0.17]");
  client c(o);
  REQUIRE_FALSE(c.receive("220 mx\r\n"));
  c.next_event();
  CHECK(c.send_hello() == errc::bad_ehlo_name);
  CHECK(c.pending_output().empty());
  o.send_failing_ehlo_name = true;
  const std::vector<step> steps = {
      hello_step(), command_step("mail", make_mail("a@example.org"))};
  const auto r = run_client("220 mx\r\n250 mx\r\n550 Requested action not taken: Invalid HeloHost (#5.5.0)\r\n", {},
                            steps, o);
  CHECK(r.log.find("reply MAIL FROM 550 helo-rejected") != std::string::npos);
  // The explanation names the name that was sent.
  client d(o);
  test::greet(d, "250 mx\r\n");
  REQUIRE_FALSE(d.send(make_mail("a@example.org")->command()));
  REQUIRE_FALSE(d.receive("550 Requested action not taken: Invalid HeloHost (#5.5.0)\r\n"));
  const auto e = d.next_event();
  REQUIRE(std::holds_alternative<client_event::reply>(e));
  CHECK(diagnose(std::get<client_event::reply>(e), d.ehlo_name()).explanation.find("\"[10.42.0.17]\"") !=
        std::string::npos);
}

TEST_CASE("client: pipelining only when offered, a group ends at DATA (RFC 2920 3.1)") {
  const std::vector<step> steps = {hello_step(),
                                   command_step("mail", make_mail("a@example.org")),
                                   command_step("rcpt1", make_rcpt("b@example.net")),
                                   command_step("rcpt2", make_rcpt("nobody@example.net")),
                                   command_step("data", make_data()),
                                   body_step("Subject: x\r\n\r\n.dot\r\nno final newline"),
                                   command_step("quit", make_quit())};
  const std::string replies = "220 mx\r\n" + ehlo_ok + "250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n354 go\r\n" +
                              "250 queued\r\n221 bye\r\n";
  const auto r = run_client_every_way(replies, steps);
  CHECK(r.output ==
        "EHLO mail.acme-corp.com\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
        "RCPT TO:<nobody@example.net>\r\nDATA\r\nSubject: x\r\n\r\n..dot\r\nno final newline\r\n.\r\n"
        "QUIT\r\n");
  CHECK(r.log.find("reply RCPT TO 550 mailbox-unknown") != std::string::npos);
  // Without PIPELINING, one command at a time: the same lines, but each
  // only after the reply before it (same bytes, so check the timing).
  client c(options_for());
  test::greet(c, "250 mx\r\n");
  REQUIRE_FALSE(c.send(make_mail("a@example.org")->command()));
  CHECK(c.send(make_rcpt("b@example.net")->command()) == errc::invalid_state);  // MAIL's reply first
}

TEST_CASE("client: what the server did not offer is refused before anything is written") {
  client c(options_for());
  test::greet(c, ehlo_ok);
  const auto before = c.pending_output().size();
  esmtp_param_writer big;
  big.size(1001);
  CHECK(c.send(make_mail("a@example.org", big)->command()) == errc::message_too_large);  // SIZE 1000 (RFC 1870)
  esmtp_param_writer utf8;
  utf8.add("SMTPUTF8");
  CHECK(c.send(make_mail("a@example.org", utf8)->command()) == errc::not_offered);
  CHECK(c.send_chunk("abc", true) == errc::not_offered);  // no CHUNKING
  CHECK(c.send(make_starttls()->command()) == errc::not_offered);
  CHECK(c.send(make_rcpt("b@example.net")->command()) == errc::bad_sequence);  // before MAIL
  // A CR/LF smuggled through a field: the serializer refuses it.
  cmd::mail injected{path{"a\r\nRCPT TO:<evil@x.example>", "example.org"}, {}};
  CHECK(c.send(injected));
  CHECK(c.pending_output().size() == before);
  esmtp_param_writer fits;
  fits.size(1000);
  CHECK_FALSE(c.send(make_mail("a@example.org", fits)->command()));
}

TEST_CASE("client: STARTTLS response injection never reaches the state after TLS") {
  // The 220 and a forged capability in the same segment (the NO STARTTLS study).
  const std::string forged = "220 mx\r\n250-mx\r\n250 STARTTLS\r\n220 go ahead\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n";
  for (const auto policy : {starttls_injection::reject, starttls_injection::discard}) {
    auto o = options_for();
    o.after_starttls = policy;
    client c(o);
    test::greet(c, "250-mx\r\n250 STARTTLS\r\n");
    REQUIRE_FALSE(c.send(make_starttls()->command()));
    REQUIRE_FALSE(c.receive(forged.substr(forged.find("220 go"))));
    REQUIRE(std::holds_alternative<client_event::reply>(c.next_event()));  // the 220
    const auto p = c.next_event();
    REQUIRE(std::holds_alternative<client_event::paused>(p));
    CHECK(std::get<client_event::paused>(p).why == client_event::paused::reason::tls_handshake);
    CHECK(c.trailing_data() == "250-PIPELINING\r\n250 AUTH PLAIN\r\n");
    if (policy == starttls_injection::reject) {
      CHECK(c.tls_established() == errc::starttls_injection);
      CHECK(c.closed());
    } else {
      CHECK_FALSE(c.tls_established());
      CHECK_FALSE(c.capabilities());  // forgotten: EHLO again
      CHECK(c.send(make_mail("a@example.org")->command()) == errc::bad_sequence);
      REQUIRE_FALSE(c.send_hello());
      REQUIRE_FALSE(c.receive("250-mx\r\n250 SIZE 100\r\n"));
      c.next_event();
      REQUIRE(c.capabilities());
      CHECK_FALSE(c.capabilities()->has(extension::pipelining));  // the forged line is gone
      CHECK_FALSE(c.capabilities()->has(extension::auth));
    }
  }
}

TEST_CASE("client: LMTP reads one reply per accepted recipient after the data (RFC 2033)") {
  auto o = options_for();
  o.lmtp = true;
  const std::vector<step> steps = {hello_step(),
                                   command_step("mail", make_mail("a@example.org")),
                                   command_step("rcpt1", make_rcpt("b@example.net")),
                                   command_step("rcpt2", make_rcpt("c@example.net")),
                                   command_step("data", make_data()),
                                   body_step("hi\r\n"),
                                   command_step("quit", make_quit())};
  const auto r = run_client_every_way(
      "220 mx LMTP\r\n250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 b ok\r\n452 c full\r\n221 bye\r\n",
      steps, o);
  CHECK(r.output.rfind("LHLO mail.acme-corp.com\r\n", 0) == 0);
  CHECK(r.log.find("reply the end of the message data 250\nreply the end of the message data 452") !=
        std::string::npos);
  CHECK(r.output.substr(r.output.size() - 6) == "QUIT\r\n");
}

TEST_CASE("client: 421, EOF, a broken reply and a silent server end the session with the state named") {
  const std::vector<step> steps = {hello_step(), command_step("mail", make_mail("a@example.org"))};
  auto r = run_client_every_way("220 mx\r\n" + ehlo_ok + "421 4.3.2 shutting down\r\n", steps);
  CHECK(r.log.find("reply MAIL FROM 421 temporary") != std::string::npos);
  client c(options_for());
  test::greet(c, ehlo_ok);
  REQUIRE_FALSE(c.send(make_mail("a@example.org")->command()));
  CHECK(c.timeout() == std::chrono::seconds{300});
  REQUIRE_FALSE(c.receive_eof());
  const auto e = c.next_event();
  REQUIRE(std::holds_alternative<client_event::peer_closed>(e));
  CHECK(sansmtp::describe(std::get<client_event::peer_closed>(e)).find("MAIL FROM") != std::string::npos);
  client d(options_for());
  REQUIRE_FALSE(d.receive("220 mx\r\n999 nonsense\r\n"));
  d.next_event();
  CHECK(std::holds_alternative<client_event::fatal_error>(d.next_event()));
  CHECK(d.closed());
  client t(options_for());
  CHECK(t.timeout() == std::chrono::seconds{300});  // the initial 220 (RFC 5321 4.5.3.2.1)
  t.on_timeout();
  const auto f = t.next_event();
  REQUIRE(std::holds_alternative<client_event::fatal_error>(f));
  CHECK(std::get<client_event::fatal_error>(f).code == errc::timeout);
  CHECK(sansmtp::describe(std::get<client_event::fatal_error>(f)).find("the greeting") != std::string::npos);
}

TEST_CASE("client and server take raw bytes through the same door") {
  client c(test::options_for());
  const std::byte greeting[] = {std::byte{'2'}, std::byte{'2'}, std::byte{'0'}, std::byte{'\r'}, std::byte{'\n'}};
  REQUIRE_FALSE(c.receive(std::span<const std::byte>(greeting)));
  const auto e = c.next_event();
  REQUIRE(std::holds_alternative<client_event::reply>(e));
  CHECK(std::get<client_event::reply>(e).value.code == 220);
  server s;
  REQUIRE_FALSE(s.send(220, "mx"));
  const std::byte noop[] = {std::byte{'N'}, std::byte{'O'}, std::byte{'O'}, std::byte{'P'}, std::byte{'\r'}, std::byte{'\n'}};
  REQUIRE_FALSE(s.receive(std::span<const std::byte>(noop)));
  CHECK(std::holds_alternative<server_event::command>(s.next_event()));
}

TEST_CASE("client: per-state timeouts (RFC 5321 4.5.3.2)") {
  client c(options_for());
  test::greet(c, ehlo_ok);
  REQUIRE_FALSE(c.send(make_mail("a@example.org")->command()));
  CHECK(c.timeout() == std::chrono::seconds{300});
  REQUIRE_FALSE(c.receive("250 ok\r\n"));
  c.next_event();
  REQUIRE_FALSE(c.send(make_rcpt("b@example.net")->command()));
  REQUIRE_FALSE(c.receive("250 ok\r\n"));
  c.next_event();
  REQUIRE_FALSE(c.send(make_data()->command()));
  CHECK(c.timeout() == std::chrono::seconds{120});
  REQUIRE_FALSE(c.receive("354 go\r\n"));
  c.next_event();
  CHECK(c.timeout() == std::chrono::seconds{180});  // sending the body
  REQUIRE_FALSE(c.send_body("x"));
  REQUIRE_FALSE(c.end_body());
  CHECK(c.timeout() == std::chrono::seconds{600});  // after the final dot
}

namespace {

// The joined fixture (tests/joined_harness.hpp), with the harness's own
// failures turned into test failures.
test::joined_result run_joined(const server_options& so, const client_options& co, const envelope& env,
                               std::string_view message, unsigned seed, std::size_t piece = 7) {
  auto r = test::run_joined(so, co, env, message, {seed, piece});
  INFO(r.failure);
  CHECK(r.failure.empty());
  REQUIRE_FALSE(r.submit_error);
  return r;
}

envelope envelope_to(std::vector<std::string> rcpts) {
  envelope env;
  env.reverse_path = "alice@example.org";
  for (auto& r : rcpts) env.recipients.push_back({std::move(r)});
  return env;
}

}  // namespace

TEST_CASE("client submit: partial acceptance is a result, with or without pipelining") {
  const std::string message = "Subject: t\r\n\r\n.leading dot\r\nbare\nLF\r\n";
  for (const bool pipelining : {true, false}) {
    server_options so;
    so.pipelining = pipelining;
    for (unsigned seed = 0; seed < 20; ++seed) {
      const auto r = run_joined(so, test::options_for(), envelope_to({"bob@example.net", "nobody@example.net", "carol@example.net"}),
                                message, seed);
      INFO("pipelining " << pipelining << " seed " << seed);
      REQUIRE(r.submitted);
      CHECK(r.transactions == 1);
      REQUIRE(r.results.size() == 3);
      CHECK(r.results[0].delivered());
      CHECK(r.results[1].rcpt_code == 550);
      CHECK(r.results[1].text.find("No such user") != std::string::npos);
      CHECK_FALSE(r.results[1].delivered());
      CHECK(r.results[2].delivered());
      REQUIRE(r.delivered.size() == 1);
      CHECK(r.delivered[0] == "Subject: t\r\n\r\n.leading dot\r\nbare\r\nLF\r\n");
    }
  }
}

TEST_CASE("client submit: no recipient accepted means no message (RFC 2920 3.1)") {
  for (const bool pipelining : {true, false}) {
    server_options so;
    so.pipelining = pipelining;
    const auto r = run_joined(so, test::options_for(), envelope_to({"nobody@example.net", "none@example.net"}), "x\r\n", 1);
    REQUIRE(r.submitted);
    CHECK(r.delivered.empty());
    CHECK(r.results[0].rcpt_code == 550);
    CHECK(r.results[1].rcpt_code == 550);
  }
}

TEST_CASE("client submit: LIMITS RCPTMAX splits the recipients over transactions (RFC 9422)") {
  server_options so;
  so.limits = true;
  so.max_recipients = 2;
  const std::string message = "Subject: split\r\n\r\nsame body\r\n";
  const auto r = run_joined(so, test::options_for(),
                            envelope_to({"a@example.net", "b@example.net", "nobody@example.net", "d@example.net", "e@example.net"}),
                            message, 7);
  REQUIRE(r.submitted);
  CHECK(r.transactions == 3);
  REQUIRE(r.results.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) CHECK(r.results[i].delivered() == (i != 2));
  CHECK(r.delivered == std::vector<std::string>(3, message));
  CHECK(r.rcpts_per_message == std::vector<std::size_t>{2, 1, 1});  // [a b] [nobody d] [e]
  // MAILMAX lower than the transactions needed: refused before anything.
  client c(test::options_for());
  test::greet(c, "250-mx\r\n250 LIMITS RCPTMAX=1 MAILMAX=1\r\n");
  memory_source source("x\r\n");
  CHECK(c.submit(envelope_to({"a@example.net", "b@example.net"}), source) == errc::too_many_transactions);
}

TEST_CASE("client submit: LMTP gives every accepted recipient its own delivery reply") {
  server_options so;
  so.lmtp = true;
  auto co = test::options_for();
  co.lmtp = true;
  const auto r = run_joined(so, co, envelope_to({"b@example.net", "nobody@example.net", "c@example.net"}), "hi\r\n", 3);
  REQUIRE(r.submitted);
  CHECK(r.results[0].delivery_code == 250);
  CHECK(r.results[1].delivery_code == 0);
  CHECK(r.results[2].delivery_code == 250);
}

TEST_CASE("client submit: SIZE, SMTPUTF8 and 8BITMIME are declared or refused before MAIL") {
  client c(test::options_for());
  test::greet(c, "250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n");
  c.consume_output(c.pending_output().size());
  memory_source source("x\r\n");
  auto env = envelope_to({"b@example.net"});
  env.size = 101;
  CHECK(c.submit(env, source) == errc::message_too_large);
  env.size = 100;
  auto utf8 = env;
  utf8.recipients[0].address = "b\xc3\xb6@example.net";
  CHECK(c.submit(utf8, source) == errc::not_offered);  // no SMTPUTF8
  auto eight = env;
  eight.eight_bit = true;
  CHECK(c.submit(eight, source) == errc::not_offered);  // no 8BITMIME
  CHECK(c.submit(envelope_to({}), source) == errc::missing_argument);
  CHECK(c.submit(envelope_to({"b@example.net\r\nRCPT TO:<x@y.example>"}), source));
  CHECK(c.pending_output().empty());
  REQUIRE_FALSE(c.submit(env, source));
  CHECK(std::string_view(c.pending_output().data(), c.pending_output().size()) ==
        "MAIL FROM:<alice@example.org> SIZE=100\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
  CHECK(c.send(make_noop()->command()) == errc::invalid_state);  // the submission runs
}

TEST_CASE("client submit: a large message is pulled as the output drains, never held whole") {
  std::string message;
  for (int i = 0; i < 20000; ++i) message += "line " + std::to_string(i) + " .\r\n";
  auto co = test::options_for();
  co.output_high_water = 4096;
  client c(co);
  test::greet(c, "250-mx\r\n250 PIPELINING\r\n");
  memory_source source(message, 1000);
  REQUIRE_FALSE(c.submit(envelope_to({"b@example.net"}), source));
  REQUIRE_FALSE(c.receive("250 ok\r\n250 ok\r\n354 go\r\n"));
  std::size_t most_pending = 0, written = 0;
  for (int turn = 0; turn < 10000; ++turn) {
    const auto e = c.next_event();
    if (std::holds_alternative<client_event::reply>(e)) continue;
    most_pending = std::max(most_pending, c.pending_output_size());
    written += c.pending_output_size();
    c.consume_output(c.pending_output_size());
    if (c.timeout() == std::chrono::seconds{600}) break;  // the final dot is out
  }
  CHECK(c.timeout() == std::chrono::seconds{600});
  CHECK(most_pending < 4096 + 1000 + 2000);  // the mark plus one piece (and its stuffing)
  CHECK(written > message.size());
}

TEST_CASE("client AUTH: TLS first unless allowed, PLAIN and LOGIN exchanges, cancel, once (RFC 4954)") {
  CHECK(sasl_plain("bob", "secret") == std::string("AGJvYgBzZWNyZXQ="));
  CHECK(decode_base64(*sasl_plain("bob", "secret", "admin")) == std::string("admin\0bob\0secret", 16));
  CHECK_FALSE(sasl_plain(std::string("b\0b", 3), "x"));
  CHECK_FALSE(sasl_plain("", "x"));
  CHECK(decode_base64(*sasl_xoauth2("bob@example.org", "tok")) ==
        std::string("user=bob@example.org\x01" "auth=Bearer tok\x01\x01"));
  CHECK_FALSE(sasl_xoauth2("b\x01", "t"));
  CHECK(decode_base64(*sasl_oauthbearer("bob@example.org", "tok")) ==
        std::string("n,a=bob@example.org,\x01" "auth=Bearer tok\x01\x01"));
  CHECK(decode_base64(*sasl_oauthbearer("a,b=c", "t")) == std::string("n,a=a=2Cb=3Dc,\x01" "auth=Bearer t\x01\x01"));
  CHECK(decode_base64(*sasl_oauthbearer("", "t")) == std::string("n,,\x01" "auth=Bearer t\x01\x01"));
  CHECK_FALSE(sasl_oauthbearer("bob", ""));

  const std::string ehlo = "250-mx\r\n250 AUTH PLAIN LOGIN\r\n";
  client strict(test::options_for());
  test::greet(strict, ehlo);
  CHECK(strict.send_auth("PLAIN", *sasl_plain("bob", "secret")) == errc::encryption_required);
  CHECK(strict.send_auth("CRAM-MD5") == errc::encryption_required);

  auto o = test::options_for();
  o.allow_auth_without_tls = true;
  client c(o);
  test::greet(c, ehlo);
  c.consume_output(c.pending_output().size());
  CHECK(c.send_auth("CRAM-MD5") == errc::not_offered);
  REQUIRE_FALSE(c.send_auth("LOGIN"));
  REQUIRE_FALSE(c.receive("334 VXNlcm5hbWU6\r\n"));
  auto e = c.next_event();
  REQUIRE(std::holds_alternative<client_event::reply>(e));
  CHECK(std::get<client_event::reply>(e).value.code == 334);
  CHECK(c.send(make_noop()->command()) == errc::invalid_state);  // in the exchange
  CHECK(c.send_auth_response("not base64!") == errc::bad_initial_response);
  REQUIRE_FALSE(c.send_auth_response(encode_base64("bob")));
  REQUIRE_FALSE(c.receive("334 UGFzc3dvcmQ6\r\n"));
  c.next_event();
  REQUIRE_FALSE(c.send_auth_response(encode_base64("secret")));
  REQUIRE_FALSE(c.receive("235 2.7.0 ok\r\n"));
  e = c.next_event();
  REQUIRE(std::holds_alternative<client_event::reply>(e));
  CHECK(std::get<client_event::reply>(e).value.code == 235);
  CHECK(c.authenticated());
  CHECK(std::string_view(c.pending_output().data(), c.pending_output().size()) ==
        "AUTH LOGIN\r\nYm9i\r\nc2VjcmV0\r\n");
  CHECK(c.send_auth("PLAIN", *sasl_plain("bob", "secret")) == errc::bad_sequence);  // once per session

  client k(o);
  test::greet(k, ehlo);
  k.consume_output(k.pending_output().size());
  REQUIRE_FALSE(k.send_auth("PLAIN"));
  REQUIRE_FALSE(k.receive("334 \r\n"));
  k.next_event();
  REQUIRE_FALSE(k.cancel_auth());
  REQUIRE_FALSE(k.receive("501 5.7.0 cancelled\r\n"));
  CHECK(std::string_view(k.pending_output().data(), k.pending_output().size()) == "AUTH PLAIN\r\n*\r\n");
  e = k.next_event();
  REQUIRE(std::holds_alternative<client_event::reply>(e));
  CHECK(std::get<client_event::reply>(e).value.code == 501);
  CHECK_FALSE(k.authenticated());
}

TEST_CASE("client STARTTLS policy: required refuses MAIL before TLS, opportunistic wants it when offered") {
  auto o = test::options_for();
  o.starttls = tls_policy::required;
  client c(o);
  test::greet(c, "250-mx\r\n250 STARTTLS\r\n");
  CHECK(c.starttls_wanted());
  CHECK(c.send(make_mail("a@example.org")->command()) == errc::encryption_required);
  memory_source source("x\r\n");
  CHECK(c.submit(envelope_to({"b@example.net"}), source) == errc::encryption_required);
  o.starttls = tls_policy::off;
  client d(o);
  test::greet(d, "250-mx\r\n250 STARTTLS\r\n");
  CHECK_FALSE(d.starttls_wanted());
  CHECK_FALSE(d.send(make_mail("a@example.org")->command()));
}

TEST_CASE("client BDAT: chunks sent as counted, the server reads them exactly (RFC 3030)") {
  // Against the scripted replies, at every split point.
  const std::vector<step> steps = {hello_step(), command_step("mail", make_mail("a@example.org")),
                                   command_step("rcpt", make_rcpt("b@example.net")),
                                   {"chunk1", [](client& c) { return c.send_chunk("Subject: t\r\n\r\n.dot\n", false); }},
                                   {"chunk2", [](client& c) { return c.send_chunk("BDAT 3\r\nend\r\n", true); }},
                                   command_step("quit", make_quit())};
  const auto r = run_client_every_way(
      "220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n250 ok\r\n250 ok\r\n250 chunk\r\n250 done\r\n221 bye\r\n", steps);
  CHECK(r.output ==
        "EHLO mail.acme-corp.com\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
        "BDAT 19\r\nSubject: t\r\n\r\n.dot\nBDAT 13 LAST\r\nBDAT 3\r\nend\r\nQUIT\r\n");
  CHECK(r.log.find("reply BDAT 250\nreply the end of the message data 250") != std::string::npos);
  // Without CHUNKING, and BDAT through send(): refused, nothing written.
  client c(test::options_for());
  test::greet(c, "250 mx\r\n");
  c.consume_output(c.pending_output().size());
  CHECK(c.send_chunk("x", true) == errc::not_offered);
  CHECK(c.send(make_bdat(1, true)->command()) == errc::invalid_state);
  CHECK(c.pending_output().empty());
}

TEST_CASE("client submit: LIMITS RCPTDOMAINMAX keeps each transaction within its domains (RFC 9422 4.3)") {
  server_options so;
  const std::string message = "x\r\n";
  // A server that announces RCPTDOMAINMAX=2 (the sansmtp server does not, so
  // the client reads it from a scripted EHLO reply and splits by itself).
  client c(test::options_for());
  test::greet(c, "250-mx\r\n250-PIPELINING\r\n250 LIMITS RCPTDOMAINMAX=2\r\n");
  c.consume_output(c.pending_output().size());
  memory_source source(message);
  REQUIRE_FALSE(c.submit(envelope_to({"a@one.example", "b@two.example", "c@ONE.example", "d@three.example"}), source));
  // The first transaction takes one.example and two.example (c@ONE matches),
  // three.example waits for the next.
  CHECK(std::string_view(c.pending_output().data(), c.pending_output().size()) ==
        "MAIL FROM:<alice@example.org>\r\nRCPT TO:<a@one.example>\r\nRCPT TO:<b@two.example>\r\n"
        "RCPT TO:<c@ONE.example>\r\nDATA\r\n");
}

TEST_CASE("client submit: CR, LF or NUL in any envelope field is refused before anything is written") {
  const std::vector<std::string> bad = {"a\r\nRCPT TO:<evil@x.example>", "a\nb", "a\rb", std::string("a\0b", 3)};
  for (const auto& payload : bad) {
    client c(test::options_for());
    test::greet(c, "250-mx\r\n250-PIPELINING\r\n250 DSN\r\n");
    c.consume_output(c.pending_output().size());
    memory_source source("x\r\n");
    auto env = envelope_to({"b@example.net"});
    env.reverse_path = payload + "@example.org";
    CHECK(c.submit(env, source));
    env = envelope_to({payload + "@example.net"});
    CHECK(c.submit(env, source));
    env = envelope_to({"b@example.net"});
    env.mail_params.add("ENVID", payload);
    CHECK(c.submit(env, source));
    env = envelope_to({"b@example.net"});
    // xtext would carry it as +0D+0A, but a value that decodes to CR, LF or
    // NUL ends up in DSNs and logs: refused too (forbidden_octet_in_xtext).
    env.recipients[0].params.orcpt("rfc822", payload);
    CHECK(c.submit(env, source));
    CHECK(c.pending_output().empty());
    CHECK_FALSE(c.submitting());
  }
}

TEST_CASE("client submit: BDAT chunks when preferred, BINARYMIME as is (RFC 3030)") {
  for (const bool pipelining : {true, false}) {
    server_options so;
    so.chunking = so.binarymime = true;
    so.pipelining = pipelining;
    auto env = envelope_to({"bob@example.net", "nobody@example.net", "carol@example.net"});
    env.prefer_bdat = true;
    const std::string text = "Subject: t\r\n\r\n.leading dot\r\nend\r\n";
    for (unsigned seed = 0; seed < 10; ++seed) {
      INFO("pipelining " << pipelining << " seed " << seed);
      const auto r = run_joined(so, test::options_for(), env, text, seed, 9);
      REQUIRE(r.submitted);
      CHECK(r.delivered == std::vector<std::string>{text});  // not dot-stuffed, not changed
      CHECK(r.results[0].delivered());
      CHECK(r.results[1].rcpt_code == 550);
      CHECK(r.results[2].delivered());
    }
    // BINARYMIME: any octets, bare CR and LF and NUL included, arrive exactly.
    auto binary = envelope_to({"bob@example.net"});
    binary.binary = true;
    const std::string octets("\x00\x01\r.\n\r\n.\r\n\xff", 11);
    const auto r = run_joined(so, test::options_for(), binary, octets, 3, 4);
    REQUIRE(r.submitted);
    CHECK(r.delivered == std::vector<std::string>{octets});
    // An empty message is BDAT 0 LAST.
    const auto empty = run_joined(so, test::options_for(), env, "", 5);
    REQUIRE(empty.submitted);
    CHECK(empty.delivered == std::vector<std::string>{""});
  }
  // BINARYMIME not offered: refused before MAIL.
  client c(test::options_for());
  test::greet(c, "250-mx\r\n250 CHUNKING\r\n");
  memory_source source("x");
  auto binary = envelope_to({"b@example.net"});
  binary.binary = true;
  CHECK(c.submit(binary, source) == errc::not_offered);
}

TEST_CASE("client and server joined in memory: random messages arrive intact, any chunking") {
  std::mt19937 rng(20231218);
  const char alphabet[] = {'a', '.', '\r', '\n', ' ', 'Z', '.', '\r', '\n', '\t'};
  server_options so;
  so.data.max_line_length = 0;
  for (int round = 0; round < 1000; ++round) {
    std::string body;
    const std::size_t len = rng() % (round < 900 ? 200 : 3000);
    for (std::size_t i = 0; i < len; ++i)
      body += (rng() % 3 == 0) ? alphabet[rng() % sizeof alphabet] : static_cast<char>('a' + rng() % 26);
    INFO("round " << round << " body " << test::shown(body));
    // Random chunking both ways (the seed), random pieces of the message.
    const auto seed = static_cast<unsigned>(rng());
    const auto piece = 1 + rng() % 50;
    const auto r = run_joined(so, test::options_for(), envelope_to({"b@example.net"}), body, seed, piece);
    REQUIRE(r.submitted);
    REQUIRE(r.delivered.size() == 1);
    CHECK(r.delivered[0] == test::normalized_line_endings(body));
  }
}

namespace {

struct body_out {
  std::string wire;              // everything written after the envelope replies
  std::size_t by_reference = 0;  // octets of runs that point into the message itself
};

// Submits `message` through `source` (DATA, or BDAT when offered and
// preferred) and writes the output run by run, as writev would.
body_out submit_and_write(std::string_view message, message_source& source, bool bdat) {
  client c(test::options_for());
  REQUIRE_FALSE(c.receive("220 mx\r\n"));
  body_out out;
  const auto inside = [&](std::span<const char> run) {
    return run.data() >= message.data() && run.data() + run.size() <= message.data() + message.size();
  };
  bool replied = false;
  for (int turn = 0; turn < 100000; ++turn) {
    const auto e = c.next_event();
    if (const auto* r = std::get_if<client_event::reply>(&e)) {
      if (r->answered == answered_command::greeting) {
        REQUIRE_FALSE(c.send_hello());
        REQUIRE_FALSE(c.receive(std::string("250-mx\r\n250-PIPELINING\r\n") + (bdat ? "250 CHUNKING\r\n" : "250 8BITMIME\r\n")));
      }
      if (r->answered == answered_command::ehlo) {
        auto env = envelope_to({"b@example.net"});
        env.prefer_bdat = bdat;
        REQUIRE_FALSE(c.submit(env, source));
        out.wire = test::take_output(c);
        out.wire.clear();  // MAIL, RCPT (and DATA): not the body
        REQUIRE_FALSE(c.receive(bdat ? "250 ok\r\n250 ok\r\n" : "250 ok\r\n250 ok\r\n354 go\r\n"));
      }
      continue;
    }
    if (std::holds_alternative<client_event::submitted>(e)) break;
    for (const auto run : c.pending_output_spans()) {
      if (inside(run)) out.by_reference += run.size();
      out.wire.append(run.data(), run.size());
    }
    c.consume_output(c.pending_output_size());
    if (!replied && c.timeout() == std::chrono::seconds{600}) {  // the end of data is out
      replied = true;
      REQUIRE_FALSE(c.receive("250 queued\r\n"));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("client submit: a stable source's body leaves by reference, any other source is copied") {
  std::string message;
  for (int i = 0; i < 3000; ++i) message += i % 7 ? "a line of the message body\r\n" : ".a line with a dot\r\n";
  std::string stuffed;
  for (int i = 0; i < 3000; ++i) stuffed += i % 7 ? "a line of the message body\r\n" : "..a line with a dot\r\n";
  for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{1} << 20}) {
    INFO("piece " << piece);
    memory_source stable(message, piece);
    const auto by_ref = submit_and_write(message, stable, false);
    CHECK(by_ref.wire == stuffed + ".\r\n");
    CHECK(by_ref.by_reference == message.size());  // every body octet, none copied
    test::streamed_source reused(message, piece);
    const auto copied = submit_and_write(message, reused, false);
    CHECK(copied.wire == stuffed + ".\r\n");
    CHECK(copied.by_reference == 0);
  }
  // BDAT: the chunks go as they are; by reference from a stable source.
  memory_source stable(message, 10000);
  const auto chunks = submit_and_write(message, stable, true);
  CHECK(chunks.by_reference == message.size());
  test::streamed_source reused(message, 10000);
  const auto copied = submit_and_write(message, reused, true);
  CHECK(copied.by_reference == 0);
  CHECK(chunks.wire == copied.wire);
  // Pieces gathered into chunks of at least bdat_chunk_size (64 KiB): seven
  // contiguous pieces of 10000 octets make the first chunk, by reference.
  CHECK(chunks.wire.find("BDAT 70000\r\n" + message.substr(0, 70000)) == 0);
  CHECK(chunks.wire.find(" LAST\r\n") != std::string::npos);
}

TEST_CASE("client: the receive buffer is bounded (N accepted, N+1 refused) and wants_read() says so") {
  auto o = test::options_for();
  o.receive_buffer = 16;
  client c(o);
  CHECK(c.wants_read());
  CHECK(c.receive_capacity() == 16);
  CHECK(c.receive(std::string(17, 'x')) == errc::receive_buffer_full);  // N+1: nothing copied
  CHECK(c.buffered_bytes() == 0);
  REQUIRE_FALSE(c.receive("220 mx.example.n"));  // N
  CHECK(c.receive_capacity() == 0);
  CHECK_FALSE(c.wants_read());
  CHECK(c.receive("e") == errc::receive_buffer_full);
  CHECK(is_local_misuse(errc::receive_buffer_full));
  REQUIRE_FALSE(c.receive_eof());
  CHECK_FALSE(c.wants_read());
  CHECK(c.receive("e") == errc::session_closed);  // after EOF: nothing more comes
  CHECK(c.receive_eof() == errc::session_closed);
  CHECK(is_local_misuse(errc::session_closed));
  CHECK_FALSE(is_local_misuse(errc::unexpected_reply));  // the peer's, not ours
}

TEST_CASE("client: receive_buffer 0 is no limit, output_high_water 0 pulls the whole message") {
  auto o = test::options_for();
  o.receive_buffer = 0;
  o.output_high_water = 0;
  client c(o);
  CHECK(c.receive_capacity() == std::numeric_limits<std::size_t>::max());
  // Far more than the default 64 KiB buffer, in one call: 2000 NOOP-sized lines of a greeting.
  std::string greeting;
  for (int i = 0; i < 4000; ++i) greeting += "220-mx.example.net line of a long greeting\r\n";
  greeting += "220 mx.example.net\r\n";
  REQUIRE(greeting.size() > 2 * 64 * 1024);
  REQUIRE_FALSE(c.receive(greeting));
  CHECK(c.wants_read());
}

TEST_CASE("client submit: a rewindable source is read ahead for 8-bit data (RFC 6152)") {
  const std::string message = "Subject: caf\xc3\xa9\r\n\r\nna\xc3\xafve\r\n";
  const auto mail_line = [&](const char* ehlo, message_source& source, bool detect) {
    client c(test::options_for());
    test::greet(c, std::string("250-mx\r\n") + ehlo);
    test::take_output(c);
    auto env = envelope_to({"b@example.net"});
    env.detect_8bit = detect;
    if (const auto ec = c.submit(env, source)) return std::string(errc_name(ec));
    const auto out = test::take_output(c);
    return out.substr(0, out.find("\r\n"));
  };
  memory_source source(message, 5);
  CHECK(mail_line("250 8BITMIME\r\n", source, true) == "MAIL FROM:<alice@example.org> BODY=8BITMIME");
  CHECK(mail_line("250 PIPELINING\r\n", source, true) == "not_offered");  // refused before MAIL
  CHECK(mail_line("250 PIPELINING\r\n", source, false) == "MAIL FROM:<alice@example.org>");  // as declared
  memory_source ascii("Subject: plain\r\n\r\nascii\r\n");
  CHECK(mail_line("250 8BITMIME\r\n", ascii, true) == "MAIL FROM:<alice@example.org>");
  test::streamed_source stream(message, 5);  // cannot rewind: sent as eight_bit says
  CHECK(mail_line("250 8BITMIME\r\n", stream, true) == "MAIL FROM:<alice@example.org>");
  // The read-ahead rewinds: the whole message is still sent.
  client c(test::options_for());
  test::greet(c, "250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
  test::take_output(c);
  memory_source again(message, 3);
  REQUIRE_FALSE(c.submit(envelope_to({"b@example.net"}), again));
  test::take_output(c);
  REQUIRE_FALSE(c.receive("250 ok\r\n250 ok\r\n354 go\r\n"));
  for (int i = 0; i < 10; ++i) c.next_event();
  CHECK(test::take_output(c) == message + ".\r\n");
}

TEST_CASE("client submit: BDAT and DATA deliver the same message (CRLF line endings, a final CRLF)") {
  server_options so;
  so.chunking = true;
  const std::vector<std::string> messages = {
      "Subject: t\r\n\r\nbare\nLF and bare\rCR\r\n", "no final newline", "ends in CR\r", "\n\n\r\r\r\n.\r\n",
      "x\r", "", ".\r\n", "line\r\n\r\n"};
  for (const auto& message : messages) {
    for (const std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{100}}) {
      for (const bool streamed : {false, true}) {
        INFO("message " << test::shown(message) << " piece " << piece << " streamed " << streamed);
        auto bdat = envelope_to({"b@example.net"});
        bdat.prefer_bdat = true;
        const auto by_bdat = test::run_joined(so, test::options_for(), bdat, message, {3, piece, 50, 50, streamed});
        const auto by_data =
            test::run_joined(so, test::options_for(), envelope_to({"b@example.net"}), message, {3, piece, 50, 50, streamed});
        CHECK(by_bdat.failure.empty());
        CHECK(by_data.failure.empty());
        REQUIRE(by_bdat.delivered.size() == 1);
        REQUIRE(by_data.delivered.size() == 1);
        CHECK(by_bdat.delivered[0] == test::normalized_line_endings(message));
        CHECK(by_data.delivered[0] == by_bdat.delivered[0]);
      }
    }
  }
}

TEST_CASE("crlf_encoder: pieces that need no change pass, others are normalised across pieces") {
  crlf_encoder e;
  CHECK(e.take_clean(std::string_view{}));  // an empty piece, its data() null
  CHECK(e.take_clean("abc\r\nde"));
  CHECK_FALSE(e.take_clean("f\r"));  // a CR at the end: its LF may come next
  std::string out;
  CHECK_FALSE(e.normalize("f\r", out));
  CHECK(out == "f");
  CHECK_FALSE(e.take_clean("\nx"));  // the held CR
  CHECK_FALSE(e.normalize("\nx\ny", out));
  CHECK(out == "f\r\nx\r\ny");
  CHECK(e.finish() == "\r\n");
  CHECK(e.consumed() == 7 + 2 + 4);
  data_encoder_options strict;
  strict.bare_lf = bare_line_encoding::reject;
  crlf_encoder r(strict);
  std::string part;
  const auto err = r.normalize("ok\r\nbad\nrest", part);
  REQUIRE(err);
  CHECK(err->code == errc::bare_lf);
  CHECK(err->offset == 7);
  CHECK(part == "ok\r\nbad");
}

TEST_CASE("client submit: a bare LF refused by the options, before MAIL or by ending the session") {
  auto o = test::options_for();
  o.data.bare_lf = bare_line_encoding::reject;
  const std::string message = "Subject: t\r\n\r\nfine line\r\nbare\nLF\r\n";
  for (const bool bdat : {false, true}) {
    INFO("bdat " << bdat);
    const auto ready = [&] {
      auto c = std::make_unique<client>(o);
      test::greet(*c, "250-mx\r\n250-CHUNKING\r\n250 PIPELINING\r\n");
      test::take_output(*c);
      return c;
    };
    auto env = envelope_to({"b@example.net"});
    env.prefer_bdat = bdat;
    // A source that can rewind is read ahead: refused, nothing written.
    auto c = ready();
    memory_source rewindable(message, 5);
    CHECK(c->submit(env, rewindable) == errc::bare_lf);
    CHECK(c->pending_output_size() == 0);
    // One that cannot: the session ends when the octet comes, and the
    // message is never ended (no final dot, no BDAT LAST).
    c = ready();
    test::streamed_source streamed(message, 5);
    REQUIRE_FALSE(c->submit(env, streamed));
    std::string wire = test::take_output(*c);
    REQUIRE_FALSE(c->receive(bdat ? "250 ok\r\n250 ok\r\n" : "250 ok\r\n250 ok\r\n354 go\r\n"));
    std::optional<client_event::fatal_error> fatal;
    for (int i = 0; i < 20 && !fatal; ++i) {
      const auto e = c->next_event();
      if (const auto* f = std::get_if<client_event::fatal_error>(&e)) fatal = *f;
      wire += test::take_output(*c);
    }
    REQUIRE(fatal);
    CHECK(fatal->code == errc::bare_lf);
    CHECK(sansmtp::describe(*fatal).find("octet 29") != std::string::npos);
    CHECK(c->closed());
    CHECK(wire.find("\r\n.\r\n") == std::string::npos);
    CHECK(wire.find("LAST") == std::string::npos);
    CHECK(wire.find("bare\nLF") == std::string::npos);
  }
  // Command level: end_body() refuses after the refusal.
  client k(o);
  test::greet(k, "250 mx\r\n");
  REQUIRE_FALSE(k.send(make_mail("a@example.org")->command()));
  REQUIRE_FALSE(k.receive("250 ok\r\n"));
  k.next_event();
  REQUIRE_FALSE(k.send(make_rcpt("b@example.net")->command()));
  REQUIRE_FALSE(k.receive("250 ok\r\n"));
  k.next_event();
  REQUIRE_FALSE(k.send(make_data()->command()));
  REQUIRE_FALSE(k.receive("354 go\r\n"));
  k.next_event();
  test::take_output(k);
  CHECK(k.send_body("a\nb") == errc::bare_lf);
  CHECK(k.end_body() == errc::bare_lf);
  CHECK(test::take_output(k).find(".\r\n") == std::string::npos);
}

TEST_CASE("client submit: LMTP with BDAT pipelined behind the RCPTs owes one reply per accepted recipient") {
  // Found by fuzz_session_pair: BDAT LAST went out with the envelope, before
  // the RCPT replies said how many recipients LMTP would answer for.
  server_options so;
  so.lmtp = so.chunking = so.pipelining = true;
  auto co = test::options_for();
  co.lmtp = true;
  auto env = envelope_to({"a@example.net", "nobody@example.net", "c@example.net", "no2@example.net", "e@example.net"});
  env.prefer_bdat = true;
  for (const std::string message : {"", "x", "Subject: t\r\n\r\nbody\r\n"}) {
    for (unsigned seed = 0; seed < 20; ++seed) {
      INFO("message " << test::shown(message) << " seed " << seed);
      const auto r = run_joined(so, co, env, message, seed, 3);
      REQUIRE(r.submitted);
      REQUIRE(r.results.size() == 5);
      for (std::size_t i : {0, 2, 4}) CHECK(r.results[i].delivered());
      for (std::size_t i : {1, 3}) CHECK(r.results[i].rcpt_code == 550);
      REQUIRE(r.delivered.size() == 1);
      CHECK(r.delivered[0] == test::normalized_line_endings(message));
    }
  }
}

TEST_CASE("client submit: pipelined BDAT sends one chunk until the RCPT replies, none after all are refused") {
  // Found by fuzz_session_pair: every chunk pipelined behind refused RCPTs
  // drew a 503, and the server closed after 20 of them.
  server_options so;
  so.chunking = so.pipelining = true;
  auto co = test::options_for();
  co.bdat_chunk_size = 1;  // a chunk per piece
  auto env = envelope_to({"nobody@example.net", "none@example.net"});
  env.prefer_bdat = true;
  const std::string message(200, 'x');
  for (unsigned seed = 0; seed < 10; ++seed) {
    const auto r = test::run_joined(so, co, env, message, {seed, 1});
    INFO(r.client_log);
    CHECK(r.failure.empty());
    REQUIRE(r.submitted);
    CHECK(r.delivered.empty());
    CHECK(r.results[0].rcpt_code == 550);
    std::size_t bdats = 0;
    for (auto at = r.client_log.find("BDAT"); at != std::string::npos; at = r.client_log.find("BDAT", at + 1)) ++bdats;
    CHECK(bdats == 1);  // the one chunk sent with the envelope
  }
  // Accepted recipients: the rest of the chunks follow the RCPT replies.
  const auto ok = test::run_joined(so, co, envelope_to({"b@example.net"}), message, {1, 1});
  CHECK(ok.failure.empty());
  REQUIRE(ok.delivered.size() == 1);
  CHECK(ok.delivered[0] == message + "\r\n");
}

TEST_CASE("client send(): each verb is paired with the reply that answers it, a timeout per state") {
  // Without PIPELINING one command is in flight: each reply answers the
  // command sent just before it, and timeout() names the state's limit.
  struct one {
    build_result command;
    answered_command answered;
  };
  const one commands[] = {
      {make_ehlo("mail.acme-corp.com"), answered_command::ehlo}, {make_helo("mail.acme-corp.com"), answered_command::helo},
      {make_vrfy("postmaster"), answered_command::vrfy},         {make_expn("staff"), answered_command::expn},
      {make_help(), answered_command::help},                      {make_noop(), answered_command::noop},
      {make_rset(), answered_command::rset},                      {make_quit(), answered_command::quit},
  };
  client c(test::options_for());
  REQUIRE_FALSE(c.receive("220 mx\r\n"));
  REQUIRE(std::get<client_event::reply>(c.next_event()).answered == answered_command::greeting);
  for (const auto& [command, answered] : commands) {
    INFO(answered_command_text(answered));
    REQUIRE(command);
    REQUIRE_FALSE(c.send(command->command()));
    CHECK(c.timeout() == std::chrono::seconds{300});  // RFC 5321 4.5.3.2: 5 minutes for these
    CHECK(c.send(make_noop()->command()) == errc::invalid_state);  // one in flight without PIPELINING
    REQUIRE_FALSE(c.receive("250 ok\r\n"));
    const auto e = c.next_event();
    const auto* r = std::get_if<client_event::reply>(&e);
    REQUIRE(r);
    CHECK(r->answered == answered);
    CHECK(c.timeout() == std::chrono::seconds{0});  // nothing awaited
  }
  CHECK(test::take_output(c) ==
        "EHLO mail.acme-corp.com\r\nHELO mail.acme-corp.com\r\nVRFY postmaster\r\nEXPN staff\r\nHELP\r\nNOOP\r\n"
        "RSET\r\nQUIT\r\n");
}

TEST_CASE("client submit: refused in the wrong state or for what was not offered, nothing written") {
  memory_source source("x\r\n");
  const auto env = envelope_to({"b@example.net"});
  client early(test::options_for());
  CHECK(early.submit(env, source) == errc::invalid_state);  // before the greeting
  REQUIRE_FALSE(early.receive("220 mx\r\n"));
  early.next_event();
  CHECK(early.submit(env, source) == errc::invalid_state);  // before a hello
  CHECK(test::take_output(early).empty());

  client c(test::options_for());
  test::greet(c, "250-mx\r\n250 PIPELINING\r\n");
  test::take_output(c);
  auto needs_tls = env;
  needs_tls.requiretls = true;
  CHECK(c.submit(needs_tls, source) == errc::not_offered);  // RFC 8689 REQUIRETLS
  auto binary = env;
  binary.binary = true;
  CHECK(c.submit(binary, source) == errc::not_offered);  // BINARYMIME needs CHUNKING too
  auto dsn = env;
  dsn.recipients[0].params.add("NOTIFY", "NEVER");
  CHECK(c.submit(dsn, source) == errc::not_offered);  // RFC 3461 parameters need DSN
  auto bad_param = env;
  bad_param.mail_params.add("X-BAD\r\n", "1");
  CHECK(c.submit(bad_param, source));  // the writer's own refusal
  CHECK(test::take_output(c).empty());
  REQUIRE_FALSE(c.submit(env, source));
  CHECK(c.submit(env, source) == errc::invalid_state);  // one submission at a time
  CHECK(c.submitting());
}

// --- hardening (issue 22): what a hostile server must not make the client believe ----------------

namespace {

// The RFC's rules, written out again from RFC 5321 4.2.1, 4.3.2, 3.8 and
// 4.1.1.10, RFC 3207 4 and RFC 4954 4, independently of classify_reply().
reply_outcome rfc_outcome(answered_command what, int code) {
  if (what == answered_command::quit) return reply_outcome::closing;
  if (code == 421) return reply_outcome::closing;
  if (code >= 400 && code <= 599) return reply_outcome::refused;
  if (code == 334 && what == answered_command::auth) return reply_outcome::intermediate;
  if (code == 354 && what == answered_command::data) return reply_outcome::intermediate;
  if (code == 235 && what == answered_command::auth) return reply_outcome::completed;
  if (code == 220 && (what == answered_command::greeting || what == answered_command::starttls))
    return reply_outcome::completed;
  if (code == 250 && (what == answered_command::ehlo || what == answered_command::helo)) return reply_outcome::completed;
  const bool any_2xx = what != answered_command::greeting && what != answered_command::starttls &&
                       what != answered_command::ehlo && what != answered_command::helo &&
                       what != answered_command::auth && what != answered_command::data;
  if (any_2xx && code >= 200 && code <= 299) return reply_outcome::completed;
  return reply_outcome::protocol_error;
}

}  // namespace

TEST_CASE("client reply table: every command x every reply code, against the RFC rules written out") {
  const answered_command all[] = {
      answered_command::unknown, answered_command::greeting, answered_command::ehlo, answered_command::helo,
      answered_command::starttls, answered_command::auth, answered_command::mail, answered_command::rcpt,
      answered_command::data, answered_command::end_of_data, answered_command::bdat, answered_command::rset,
      answered_command::vrfy, answered_command::expn, answered_command::noop, answered_command::quit,
      answered_command::help};
  for (const auto what : all)
    for (int code = 100; code <= 599; ++code) {
      INFO(answered_command_text(what) << " " << code);
      CHECK(classify_reply(what, code) == rfc_outcome(what, code));
    }
  CHECK(reply_outcome_name(reply_outcome::completed) == "completed");
  CHECK(reply_outcome_name(reply_outcome::intermediate) == "intermediate");
  CHECK(reply_outcome_name(reply_outcome::refused) == "refused");
  CHECK(reply_outcome_name(reply_outcome::closing) == "closing");
  CHECK(reply_outcome_name(reply_outcome::protocol_error) == "protocol_error");
}

TEST_CASE("client reply table: what each command the client sends does with each reply class") {
  // Each command after a greeting and an EHLO without PIPELINING; then one
  // reply of each class, and a malformed one.
  struct row {
    const char* name;
    std::function<std::error_code(client&)> send;
    const char* positive;  // the reply that completes it (or is its intermediate)
  };
  const auto cmd = [](build_result b) {
    const auto owned = *b;
    return [owned](client& c) { return c.send(owned.command()); };
  };
  const std::vector<row> rows = {
      {"EHLO", cmd(make_ehlo("mail.acme-corp.com")), "250 mx"},
      {"HELO", cmd(make_helo("mail.acme-corp.com")), "250 mx"},
      {"MAIL FROM", cmd(make_mail("a@example.org")), "250 ok"},
      {"RSET", cmd(make_rset()), "250 ok"},
      {"VRFY", cmd(make_vrfy("postmaster")), "252 maybe"},
      {"EXPN", cmd(make_expn("staff")), "250 list"},
      {"HELP", cmd(make_help()), "214 help"},
      {"NOOP", cmd(make_noop()), "250 ok"},
      {"QUIT", cmd(make_quit()), "221 bye"},
      {"STARTTLS", cmd(make_starttls()), "220 go"},
      {"AUTH", [](client& c) { return c.send_auth("PLAIN", "AGEAYg=="); }, "235 ok"},
  };
  auto options = test::options_for();
  options.allow_auth_without_tls = true;
  for (const auto& r : rows) {
    for (const std::string& reply : {std::string(r.positive), std::string("199 info"), std::string("250 ok"),
                                    std::string("220 hi"), std::string("354 go"), std::string("421 bye"),
                                    std::string("450 later"), std::string("550 no"), std::string("25x broken")}) {
      INFO(r.name << " answered " << reply);
      const std::string script = "220 mx\r\n250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n" + reply + "\r\n";
      const std::vector<step> steps = {hello_step(), {r.name, r.send}};
      const auto run = run_client_every_way(script, steps, options);
      const int code = std::stoi(reply.substr(0, 2) + (reply[2] == 'x' ? "0" : reply.substr(2, 1)));
      const auto last = run.log.substr(run.log.rfind('\n', run.log.size() - 2) + 1);
      if (reply[2] == 'x' || reply[0] == '1') {
        // A broken reply, or a 1yz (RFC 5321 4.2: 2-5 only), ends the session
        // in the reply reader already.
        CHECK(last.starts_with("fatal "));
        continue;
      }
      if (classify_reply(*answered_command_of(r.name), code) == reply_outcome::protocol_error) {
        CHECK(last == "fatal unexpected_reply\n");
      } else {
        CHECK(last.starts_with("reply "));
        CHECK(last.find(" " + std::to_string(code)) != std::string::npos);
      }
    }
  }
}

TEST_CASE("client: after any reply to QUIT the session is over and QUIT is never sent twice (RFC 5321 4.1.1.10)") {
  for (const std::string reply : {"221 bye", "500 what", "250 ok", "421 closing"}) {
    INFO(reply);
    const std::vector<step> steps = {hello_step(), command_step("quit", make_quit()),
                                     command_step("quit again", make_quit())};
    const auto r = run_client_every_way("220 mx\r\n" + ehlo_ok + reply + "\r\n", steps);
    CHECK(r.output == "EHLO mail.acme-corp.com\r\nQUIT\r\n");
    CHECK(r.log.find("reply QUIT " + reply.substr(0, 3)) != std::string::npos);
  }
}

TEST_CASE("client: a 2xx to DATA is a protocol error, never a delivery (RFC 5321 4.3.2)") {
  for (const std::string reply : {"250 2.0.0 Ok", "220 hi", "251 ok"}) {
    INFO(reply);
    // Single commands: DATA answered 250 ends the session.
    const std::vector<step> steps = {hello_step(), command_step("mail", make_mail("a@example.org")),
                                     command_step("rcpt", make_rcpt("b@example.net")), command_step("data", make_data())};
    const auto r = run_client_every_way("220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n" + reply + "\r\n", steps);
    CHECK(r.log.ends_with("reply RCPT TO 250\nfatal unexpected_reply\n"));
    // submit(): no recipient is reported delivered, and the body is not sent.
    for (const bool pipelining : {false, true}) {
      memory_source source("Subject: x\r\n\r\nhi\r\n");
      const auto ehlo = pipelining ? "250-mx\r\n250 PIPELINING\r\n" : "250 mx\r\n";
      const std::vector<step> submit = {hello_step(), {"submit", [&](client& c) {
                                                          source.rewind();
                                                          return c.submit(envelope_to({"b@example.net"}), source);
                                                        }}};
      const auto s = run_client_every_way("220 mx\r\n" + std::string(ehlo) + "250 ok\r\n250 ok\r\n" + reply + "\r\n", submit);
      CHECK(s.log.ends_with("fatal unexpected_reply\n"));
      CHECK(s.log.find("submitted") == std::string::npos);
      CHECK(s.output.find("Subject") == std::string::npos);
    }
  }
}

TEST_CASE("client: a reply that came before its command was written is refused, never paired (extra replies)") {
  // DATA answered with 354 and 250 in one segment: the 250 cannot be the
  // answer to a message not sent yet.
  {
    client c(test::options_for());
    REQUIRE_FALSE(c.receive("220 mx\r\n"));
    REQUIRE(std::holds_alternative<client_event::reply>(c.next_event()));
    REQUIRE_FALSE(c.send_hello());
    REQUIRE_FALSE(c.receive("250 mx\r\n"));
    REQUIRE(std::holds_alternative<client_event::reply>(c.next_event()));
    memory_source source("Subject: x\r\n\r\nhi\r\n");
    REQUIRE_FALSE(c.submit(envelope_to({"b@example.net"}), source));
    REQUIRE_FALSE(c.receive("250 ok\r\n"));
    CHECK(std::get<client_event::reply>(c.next_event()).answered == answered_command::mail);
    REQUIRE_FALSE(c.receive("250 ok\r\n"));
    CHECK(std::get<client_event::reply>(c.next_event()).answered == answered_command::rcpt);
    REQUIRE_FALSE(c.receive("354 go\r\n250 2.0.0 queued\r\n"));
    CHECK(std::get<client_event::reply>(c.next_event()).value.code == 354);
    const auto e = c.next_event();
    REQUIRE(std::holds_alternative<client_event::fatal_error>(e));
    CHECK(std::get<client_event::fatal_error>(e).code == errc::unexpected_reply);
    CHECK(sansmtp::describe(std::get<client_event::fatal_error>(e)).find("before the end of the message data was sent") !=
          std::string::npos);
    CHECK(c.closed());
    CHECK(std::holds_alternative<client_event::paused>(c.next_event()));  // never `submitted`
  }
  // An extra 250 after the RCPT's reply, under BDAT without PIPELINING: it
  // would be taken as the chunk's reply.
  {
    client c(test::options_for());
    REQUIRE_FALSE(c.receive("220 mx\r\n"));
    c.next_event();
    REQUIRE_FALSE(c.send_hello());
    REQUIRE_FALSE(c.receive("250-mx\r\n250 CHUNKING\r\n"));
    c.next_event();
    memory_source source("Subject: x\r\n\r\nhi\r\n");
    auto env = envelope_to({"b@example.net"});
    env.prefer_bdat = true;
    REQUIRE_FALSE(c.submit(env, source));
    REQUIRE_FALSE(c.receive("250 ok\r\n"));
    c.next_event();
    REQUIRE_FALSE(c.receive("250 ok\r\n250 extra\r\n"));
    CHECK(std::get<client_event::reply>(c.next_event()).answered == answered_command::rcpt);
    client_event_t e;
    do e = c.next_event();
    while (std::holds_alternative<client_event::paused>(e) &&
           std::get<client_event::paused>(e).why == client_event::paused::reason::write_output);
    REQUIRE(std::holds_alternative<client_event::fatal_error>(e));
    CHECK(std::get<client_event::fatal_error>(e).code == errc::unexpected_reply);
  }
}

TEST_CASE("client submit: a refused MAIL decides what the pipelined RCPTs report, not their 503") {
  memory_source source("x\r\n");
  const std::vector<step> steps = {hello_step(), {"submit", [&](client& c) {
                                                    source.rewind();
                                                    return c.submit(envelope_to({"b@example.net", "c@example.net"}), source);
                                                  }}};
  const auto r = run_client_every_way("220 mx\r\n250-mx\r\n250 PIPELINING\r\n530 5.7.0 Authentication required\r\n"
                                      "503 5.5.1 No MAIL\r\n503 5.5.1 No MAIL\r\n554 5.5.1 No valid recipients\r\n250 reset\r\n",
                                      steps);
  CHECK(r.log.find("submitted in 1: b@example.net=530/0 c@example.net=530/0") != std::string::npos);
}

TEST_CASE("client: timeout_epoch() moves when a reply is read, not while its octets drip in") {
  client c(test::options_for());
  const auto start = c.timeout_epoch();
  for (const char octet : std::string_view("220 mx.example.net ESMTP\r")) {
    REQUIRE_FALSE(c.receive(std::string_view(&octet, 1)));
    CHECK(std::holds_alternative<client_event::need_data>(c.next_event()));
    CHECK(c.timeout_epoch() == start);  // RFC 5321 4.5.3.2.1: 5 minutes for the whole greeting
    CHECK(c.timeout() == std::chrono::seconds{300});
  }
  REQUIRE_FALSE(c.receive("\n"));
  REQUIRE(std::holds_alternative<client_event::reply>(c.next_event()));
  CHECK(c.timeout_epoch() != start);
  const auto idle = c.timeout_epoch();
  REQUIRE_FALSE(c.send_hello());
  CHECK(c.timeout_epoch() != idle);  // a new wait: EHLO's reply
}

TEST_CASE("client submit: what DATA's and BDAT's refusals and a 354 with nobody accepted make of the recipients") {
  memory_source whole("Subject: x\r\n\r\nhi\r\n"), in_pieces("Subject: x\r\n\r\nhi\r\n", 4);
  const auto submit_to = [&](std::vector<std::string> rcpts, bool bdat, message_source& source) {
    return step{"submit", [&source, rcpts, bdat](client& c) {
                  source.rewind();
                  auto env = envelope_to(rcpts);
                  env.prefer_bdat = bdat;
                  return c.submit(env, source);
                }};
  };
  // PIPELINING: DATA went with the RCPTs; every RCPT refused, and the server
  // still says 354 (RFC 2920 3.1): the message is ended at once, empty, and
  // nobody is delivered whatever the end of data gets.
  auto r = run_client_every_way("220 mx\r\n250-mx\r\n250 PIPELINING\r\n250 ok\r\n550 5.1.1 no\r\n354 go\r\n250 ok\r\n"
                                "250 reset\r\n",
                                {hello_step(), submit_to({"nobody@example.net"}, false, whole)});
  CHECK(r.log.find("submitted in 1: nobody@example.net=550/0") != std::string::npos);
  CHECK(r.output.find("DATA\r\n.\r\n") != std::string::npos);  // no body, just the end
  CHECK(r.output.find("Subject") == std::string::npos);
  // DATA refused after an accepted RCPT: the recipient reports DATA's refusal.
  r = run_client_every_way("220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n554 5.3.0 no data today\r\n250 reset\r\n",
                           {hello_step(), submit_to({"b@example.net"}, false, whole)});
  CHECK(r.log.find("submitted in 1: b@example.net=250/554") != std::string::npos);
  // A BDAT chunk refused (RFC 3030 2): the accepted recipient reports it.
  r = run_client_every_way("220 mx\r\n250-mx\r\n250 CHUNKING\r\n250 ok\r\n250 ok\r\n552 5.3.4 too big\r\n250 reset\r\n",
                           {hello_step(), submit_to({"b@example.net"}, true, whole)});
  CHECK(r.log.find("submitted in 1: b@example.net=250/552") != std::string::npos);
  // ... and a chunk before the last: no more chunks go, RSET follows.
  auto small = test::options_for();
  small.bdat_chunk_size = 4;
  r = run_client_every_way("220 mx\r\n250-mx\r\n250 CHUNKING\r\n250 ok\r\n250 ok\r\n552 5.3.4 too big\r\n250 reset\r\n",
                           {hello_step(), submit_to({"b@example.net"}, true, in_pieces)}, small);
  CHECK(r.log.find("reply BDAT 552") != std::string::npos);
  CHECK(r.log.find("submitted in 1: b@example.net=250/552") != std::string::npos);
  CHECK(r.output.find("LAST") == std::string::npos);
  CHECK(r.output.ends_with("RSET\r\n"));
}

TEST_CASE("client lifetime rule: the 220 to STARTTLS and a submission's results outlive every call but next_event() and receive()") {
  const auto lines_of = [](const client_event_t& e) {
    std::string out;
    if (const auto* r = std::get_if<client_event::reply>(&e))
      for (const auto line : r->value.lines) out += std::string(line) + "|";
    if (const auto* s = std::get_if<client_event::submitted>(&e))
      for (const auto& rcpt : s->recipients) out += rcpt.address + " " + std::to_string(rcpt.delivery_code) + rcpt.text + "|";
    return out;
  };
  auto o = test::options_for();
  client c(o);
  test::greet(c, "250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
  REQUIRE_FALSE(c.send(cmd::starttls{}));
  c.consume_output(c.pending_output_size());
  // The 220 arrives in the same read as nothing else: the reader hands its
  // line out as a view of the receive buffer.
  REQUIRE_FALSE(c.receive("220 2.0.0 Ready to start TLS, a line long enough to live on the heap\r\n"));
  const auto ready = c.next_event();
  REQUIRE(std::holds_alternative<client_event::reply>(ready));
  const auto before = lines_of(ready);
  CHECK(before == "2.0.0 Ready to start TLS, a line long enough to live on the heap|");
  REQUIRE_FALSE(c.tls_established());  // the handshake, done while the event is held
  REQUIRE_FALSE(c.send_hello());
  c.consume_output(c.pending_output_size());
  CHECK(lines_of(ready) == before);
  REQUIRE_FALSE(c.receive("250-mx\r\n250 PIPELINING\r\n"));
  REQUIRE(std::holds_alternative<client_event::reply>(c.next_event()));
  // A submission's results, held while the next submission starts.
  const auto submit_one = [&](const std::string& to, std::string_view replies) -> client_event_t {
    envelope env;
    env.reverse_path = "a@example.org";
    env.recipients.push_back({to});
    memory_source m("Subject: x\r\n\r\nhi\r\n");
    REQUIRE(std::holds_alternative<client_event::paused>(c.next_event()));
    REQUIRE_FALSE(c.submit(env, m));
    for (;;) {
      const auto e = c.next_event();
      if (std::holds_alternative<client_event::submitted>(e)) return e;
      if (std::holds_alternative<client_event::reply>(e)) continue;
      c.consume_output(c.pending_output_size());
      if (replies.empty()) FAIL("the submission did not end");
      const auto end = replies.find('\n') + 1;
      REQUIRE_FALSE(c.receive(replies.substr(0, end)));
      replies.remove_prefix(end);
    }
  };
  const auto first = submit_one("first-recipient-with-a-long-address@example.net",
                                "250 ok\r\n250 ok\r\n354 go\r\n250 2.0.0 queued as FIRST-0001\r\n");
  const auto first_before = lines_of(first);
  CHECK(first_before == "first-recipient-with-a-long-address@example.net 2502.0.0 queued as FIRST-0001|");
  envelope env;
  env.reverse_path = "a@example.org";
  env.recipients.push_back({"second@example.net"});
  memory_source m("Subject: y\r\n\r\nhi\r\n");
  REQUIRE_FALSE(c.submit(env, m));  // the next submission, while the first's results are held
  CHECK(lines_of(first) == first_before);
}

TEST_CASE("client: every cell of the sequence table, and state() where each is reached (RFC 5321 4.1.4, RFC 3030, 3207, 4954)") {
  // The server offers everything, with PIPELINING, so the commands that
  // reach a state can all be in flight. Server bytes go in whole, or an
  // octet at a time.
  const std::string caps = "250-mx\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n";
  struct state_prefix {
    std::string name;
    std::function<void(client&)> reach;
  };
  const auto sent = [](client& c, build_result b) { REQUIRE_FALSE(c.send(b->command())); };
  const auto feed = [](client& c, const std::string& bytes, bool by_byte) {
    if (!by_byte) {
      REQUIRE_FALSE(c.receive(bytes));
    } else {
      for (const char ch : bytes) REQUIRE_FALSE(c.receive(std::string_view(&ch, 1)));
    }
    REQUIRE(std::holds_alternative<client_event::reply>(c.next_event()));
  };
  // Written from the RFCs, not from the table: '.' sent, 'x' bad_sequence,
  // 'n' not_offered (STARTTLS or BDAT before EHLO: the client cannot know
  // the server offers it).
  struct row {
    std::string name;
    std::function<std::error_code(client&)> send;
    std::string expected;  // awaiting_hello idle mail rcpt bdat
  };
  const auto cmd = [](build_result b) {
    const auto owned = *b;
    return [owned](client& c) { return c.send(owned.command()); };
  };
  const row rows[] = {
      {"EHLO", cmd(make_ehlo("mail.acme-corp.com")), "....."},  // any time; resets (4.1.4)
      {"MAIL", cmd(make_mail("a@example.org")), "x.xxx"},         // after a hello, outside a transaction
      {"RCPT", cmd(make_rcpt("b@example.net")), "xx..x"},         // after MAIL; not after BDAT chunks
      {"DATA", cmd(make_data()), "xxx.x"},                        // after RCPT; not after BDAT (RFC 3030 2)
      // After RCPT or BDAT chunks; before EHLO CHUNKING is not known to be offered.
      {"BDAT", [](client& c) { return c.send_chunk("z", true); }, "nxx.."},
      {"STARTTLS", cmd(make_starttls()), "n.xxx"},                // outside a transaction (RFC 3207 4)
      {"AUTH", [](client& c) { return c.send_auth("PLAIN", "AGJvYgBzZWNyZXQ="); }, "x.xxx"},  // after EHLO (RFC 4954 4)
      {"RSET", cmd(make_rset()), "....."},
      {"NOOP", cmd(make_noop()), "....."},
      {"VRFY", cmd(make_vrfy("postmaster")), "....."},
      {"QUIT", cmd(make_quit()), "....."},
  };
  const char* states[] = {"awaiting_hello", "idle", "mail", "rcpt", "bdat"};
  for (const bool by_byte : {false, true}) {
    for (const auto& r : rows) {
      for (std::size_t k = 0; k < 5; ++k) {
        INFO(r.name << " in " << states[k] << (by_byte ? " (replies octet by octet)" : ""));
        auto o = test::options_for();
        o.allow_auth_without_tls = true;
        client c(o);
        CHECK(client_state_name(c.state()) == "greeting");
        feed(c, "220 mx\r\n", by_byte);
        if (k >= 1) {
          REQUIRE_FALSE(c.send_hello());
          feed(c, caps, by_byte);
        }
        if (k >= 2) sent(c, make_mail("a@example.org"));
        if (k >= 3) sent(c, make_rcpt("b@example.net"));
        if (k >= 4) REQUIRE_FALSE(c.send_chunk("ab", false));
        CHECK(client_state_name(c.state()) == states[k]);
        (void)test::take_output(c);
        const auto ec = r.send(c);
        const char got = !ec ? '.' : ec == errc::bad_sequence ? 'x' : ec == errc::not_offered ? 'n' : '?';
        CHECK(got == r.expected[k]);
        if (ec) CHECK(test::take_output(c).empty());  // nothing written on a refusal
      }
    }
  }
}

TEST_CASE("client: state() through a transaction, the body, AUTH and STARTTLS") {
  for (const bool by_byte : {false, true}) {
    INFO((by_byte ? "replies octet by octet" : "replies whole"));
    auto o = test::options_for();
    o.allow_auth_without_tls = true;
    client c(o);
    const auto state = [&] { return std::string(client_state_name(c.state())); };
    // The server's reply to what was sent, whole or an octet at a time; then where the client stands.
    const auto after = [&](std::string_view reply) {
      for (std::size_t at = 0; at < reply.size(); at += by_byte ? 1 : reply.size())
        REQUIRE_FALSE(c.receive(reply.substr(at, by_byte ? 1 : reply.size())));
      REQUIRE(std::holds_alternative<client_event::reply>(c.next_event()));
      return state();
    };
    CHECK(state() == "greeting");
    CHECK(after("220 mx\r\n") == "awaiting_hello");
    REQUIRE_FALSE(c.send_hello());
    CHECK(after("250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n") == "idle");
    REQUIRE_FALSE(c.send_auth("PLAIN"));
    CHECK(after("334 \r\n") == "auth");
    REQUIRE_FALSE(c.send_auth_response("AGJvYgBzZWNyZXQ="));
    CHECK(after("235 ok\r\n") == "idle");
    REQUIRE_FALSE(c.send(make_mail("a@example.org")->command()));
    CHECK(state() == "mail");  // what was sent: the client may pipeline
    CHECK(after("250 ok\r\n") == "mail");
    REQUIRE_FALSE(c.send(make_rcpt("b@example.net")->command()));
    CHECK(after("250 ok\r\n") == "rcpt");
    REQUIRE_FALSE(c.send(make_data()->command()));
    CHECK(after("354 go\r\n") == "data");
    REQUIRE_FALSE(c.send_body("x\r\n"));
    REQUIRE_FALSE(c.end_body());
    CHECK(after("250 queued\r\n") == "idle");
    REQUIRE_FALSE(c.send(make_starttls()->command()));
    CHECK(after("220 go\r\n") == "tls_handshake");
    REQUIRE_FALSE(c.tls_established());
    CHECK(state() == "awaiting_hello");
    REQUIRE_FALSE(c.send(make_quit()->command()));
    CHECK(after("221 bye\r\n") == "closed");
  }
}

TEST_CASE("client: MAILMAX counts the session's transactions across submissions (RFC 9422)") {
  // Feeds `bytes` and pulls events until the client waits; whether a
  // submission ended among them.
  const auto feed = [](client& c, std::string_view bytes) {
    if (!bytes.empty()) REQUIRE(!c.receive(bytes));
    bool submitted = false;
    for (;;) {
      const auto e = c.next_event();
      submitted = submitted || std::holds_alternative<client_event::submitted>(e);
      if (std::holds_alternative<client_event::need_data>(e) || std::holds_alternative<client_event::paused>(e))
        return submitted;
    }
  };
  for (const std::size_t mailmax : {std::size_t{1}, std::size_t{2}}) {
    INFO("MAILMAX=" << mailmax);
    client c(test::options_for("mail.acme-corp.com"));
    feed(c, "220 mx\r\n");
    REQUIRE(!c.send_hello());
    c.consume_output(c.pending_output_size());
    feed(c, "250-mx\r\n250-PIPELINING\r\n250 LIMITS MAILMAX=" + std::to_string(mailmax) + "\r\n");
    envelope env;
    env.reverse_path = "a@example.org";
    env.recipients = {{"b@example.net"}};
    std::size_t done = 0;
    for (int message = 0; message < 3; ++message) {
      memory_source body("Subject: x\r\n\r\nhi\r\n");
      const auto ec = c.submit(env, body);
      if (done == mailmax) {  // N done: the next would be N+1
        CHECK(ec == make_error_code(errc::too_many_transactions));
        CHECK(c.pending_output().empty());
        break;
      }
      REQUIRE(!ec);
      bool submitted = feed(c, "");
      c.consume_output(c.pending_output_size());
      submitted = feed(c, "250 ok\r\n250 ok\r\n354 go\r\n") || submitted;
      c.consume_output(c.pending_output_size());
      submitted = feed(c, "") || submitted;
      c.consume_output(c.pending_output_size());
      submitted = feed(c, "250 queued\r\n") || submitted;
      REQUIRE(submitted);
      ++done;
    }
    CHECK(done == mailmax);
  }
}
