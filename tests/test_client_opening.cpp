// The client's opening helper (client_options::open_automatically: the
// greeting, EHLO with the HELO fallback, STARTTLS per tls_policy, EHLO again,
// AUTH) and client::quit(): scripted server transcripts, each at every split
// point (whole, byte by byte, every single cut), with the exact bytes the
// client wrote.
#include <sansmtp/advice/describe.hpp>
#include <sansmtp/core/base64.hpp>
#include <sansmtp/session/client.hpp>
#include <sansmtp/syntax/command_builder.hpp>
#include <sansmtp/syntax/sasl.hpp>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"  // GCC PR 105329, "literal" + std::string
#endif

#include <catch2/catch.hpp>

#include "client_harness.hpp"

#include <string>
#include <vector>

using namespace sansmtp;

namespace {

using test::run_client_every_way;
using test::step;

const std::string greeting_line = "reply the connection (the greeting) 220\n";
const std::string ehlo = "EHLO mail.acme-corp.com\r\n";

client_options automatic(std::string name = "mail.acme-corp.com") {
  auto o = test::options_for(std::move(name));
  o.open_automatically = true;
  return o;
}

// Runs once the opening is over (opened()); waits until then.
step when_opened(step s) {
  return {s.name, [run = s.run](client& c) -> std::error_code {
            if (!c.opened()) return errc::invalid_state;
            return run(c);
          }};
}

step quit_step() { return when_opened({"quit", [](client& c) { return c.quit(); }}); }

// The driver's part of STARTTLS: the handshake, as soon as the 220 came.
step handshake_step() {
  return {"handshake", [](client& c) { return c.tls_established(); }};
}

std::string text(std::span<const char> s) { return {s.data(), s.size()}; }

// Feeds `bytes` and pulls events until need_data or paused; returns them.
std::vector<client_event_t> feed(client& c, std::string_view bytes) {
  if (!bytes.empty()) test::must(c.receive(bytes), "receive");
  std::vector<client_event_t> events;
  for (;;) {
    auto e = c.next_event();
    const bool stop = std::holds_alternative<client_event::need_data>(e) || std::holds_alternative<client_event::paused>(e);
    events.push_back(std::move(e));
    if (stop) return events;
  }
}

}  // namespace

TEST_CASE("client opening: a 220 greeting is answered with EHLO, the opening ends at paused{ready} with opened()") {
  const std::string server = "220 mx.example.net ESMTP\r\n250-mx.example.net\r\n250 PIPELINING\r\n221 bye\r\n";
  const auto r = run_client_every_way(server, {quit_step()}, automatic());
  CHECK(r.log == greeting_line + "reply EHLO 250\nreply QUIT 221\n");
  CHECK(r.output == ehlo + "QUIT\r\n");

  // Step by step: opening() while it runs, opened() from the paused{ready} on.
  client c(automatic());
  CHECK(c.opening());
  CHECK_FALSE(c.opened());
  auto events = feed(c, "220 mx.example.net ESMTP\r\n");
  REQUIRE(events.size() == 2);
  CHECK(std::get<client_event::reply>(events[0]).answered == answered_command::greeting);
  CHECK(std::holds_alternative<client_event::need_data>(events[1]));
  CHECK(text(c.pending_output()) == ehlo);
  CHECK(c.opening());
  c.consume_output(c.pending_output_size());
  events = feed(c, "250-mx.example.net\r\n250 PIPELINING\r\n");
  REQUIRE(events.size() == 2);
  CHECK(std::get<client_event::reply>(events[0]).answered == answered_command::ehlo);
  CHECK(std::get<client_event::paused>(events[1]).why == client_event::paused::reason::ready);
  CHECK(c.opened());
  CHECK_FALSE(c.opening());
  CHECK(c.pending_output().empty());
  REQUIRE_FALSE(c.quit());
  feed(c, "221 bye\r\n");
  CHECK(c.closed());
  CHECK(c.opened());  // it stays true
  CHECK_FALSE(c.opening());
}

TEST_CASE("client opening: off by default, nothing is sent on its own (the application drives)") {
  const auto r = run_client_every_way("220 mx\r\n", {}, test::options_for());
  CHECK(r.log == greeting_line);
  CHECK(r.output.empty());
  client c(test::options_for());
  CHECK_FALSE(c.opening());
  const auto events = feed(c, "220 mx\r\n");
  CHECK(std::get<client_event::paused>(events.back()).why == client_event::paused::reason::ready);
  CHECK(c.pending_output().empty());
  CHECK_FALSE(c.opened());
  CHECK_FALSE(c.opening());
  // The application's own EHLO, then paused{ready}: still not "opened" (no helper).
  REQUIRE_FALSE(c.send_hello());
  c.consume_output(c.pending_output_size());
  feed(c, "250 mx\r\n");
  CHECK_FALSE(c.opened());
  CHECK(c.pending_output().empty());
}

TEST_CASE("client opening: a 554 greeting is answered with QUIT, any other refusal closes (RFC 5321 3.1)") {
  auto r = run_client_every_way("554 5.7.1 No service for you\r\n221 bye\r\n", {quit_step()}, automatic());
  CHECK(r.log == "reply the connection (the greeting) 554 policy\nreply QUIT 221\n");
  CHECK(r.output == "QUIT\r\n");

  client c(automatic());
  feed(c, "554 5.7.1 No service for you\r\n");
  CHECK(text(c.pending_output()) == "QUIT\r\n");
  CHECK_FALSE(c.opening());
  CHECK_FALSE(c.opened());
  CHECK_FALSE(c.quit());  // already written: nothing more
  CHECK(text(c.pending_output()) == "QUIT\r\n");

  // 4xx (not 421) or a 5xx other than 554: nothing may be sent, not even QUIT.
  for (const std::string greeting : {"450 4.3.2 busy\r\n", "550 go away\r\n"}) {
    INFO(greeting);
    r = run_client_every_way(greeting, {}, automatic());
    CHECK(r.output.empty());
    client d(automatic());
    const auto events = feed(d, greeting);
    CHECK(std::get<client_event::paused>(events.back()).why == client_event::paused::reason::closed);
    CHECK(d.closed());
    CHECK_FALSE(d.opened());
  }
  // 421: closed at once (RFC 5321 3.8).
  r = run_client_every_way("421 4.3.2 shutting down\r\n", {}, automatic());
  CHECK(r.output.empty());
}

TEST_CASE("client opening: EHLO answered 500 or 502 falls back to HELO, any other refusal is answered with QUIT") {
  for (const int code : {500, 502}) {
    INFO(code);
    const auto r = run_client_every_way("220 mx\r\n" + std::to_string(code) + " what?\r\n250 mx\r\n221 bye\r\n",
                                        {quit_step()}, automatic());
    CHECK(r.log == greeting_line + "reply EHLO " + std::to_string(code) +
                        " other-permanent helo-fallback\nreply HELO 250\nreply QUIT 221\n");
    CHECK(r.output == ehlo + "HELO mail.acme-corp.com\r\nQUIT\r\n");
  }
  for (const int code : {451, 504, 550}) {
    INFO(code);
    const auto r = run_client_every_way("220 mx\r\n" + std::to_string(code) + " no\r\n221 bye\r\n", {quit_step()},
                                        automatic());
    CHECK(r.output == ehlo + "QUIT\r\n");
    CHECK(r.log.ends_with("reply QUIT 221\n"));
  }
  // HELO refused after the fallback: QUIT.
  auto r = run_client_every_way("220 mx\r\n502 what?\r\n550 5.7.1 bad HELO\r\n221 bye\r\n", {}, automatic());
  CHECK(r.output == ehlo + "HELO mail.acme-corp.com\r\nQUIT\r\n");
  // LMTP: LHLO, and no HELO fallback (RFC 2033).
  auto lmtp = automatic();
  lmtp.lmtp = true;
  r = run_client_every_way("220 mx\r\n250 mx\r\n221 bye\r\n", {quit_step()}, lmtp);
  CHECK(r.output == "LHLO mail.acme-corp.com\r\nQUIT\r\n");
  r = run_client_every_way("220 mx\r\n500 what?\r\n221 bye\r\n", {}, lmtp);
  CHECK(r.output == "LHLO mail.acme-corp.com\r\nQUIT\r\n");
  // 421 to EHLO: closed, nothing more.
  r = run_client_every_way("220 mx\r\n421 4.3.2 bye\r\n", {quit_step()}, automatic());
  CHECK(r.output == ehlo);
}

TEST_CASE("client opening: an EHLO name that fails the check is a fatal_error{bad_ehlo_name}, then QUIT") {
  const auto r = run_client_every_way("220 mx\r\n221 bye\r\n", {quit_step()}, automatic("[10.42.0.17]"));
  CHECK(r.log == greeting_line + "fatal bad_ehlo_name\nreply QUIT 221\n");
  CHECK(r.output == "QUIT\r\n");

  client c(automatic("[10.42.0.17]"));
  auto events = feed(c, "220 mx\r\n");
  REQUIRE(events.size() == 3);
  const auto& f = std::get<client_event::fatal_error>(events[1]);
  CHECK(f.code == errc::bad_ehlo_name);
  CHECK(describe(f) == "the EHLO name \"[10.42.0.17]\" fails the EHLO-name check (see: sansmtp ehlo-check)");
  CHECK_FALSE(c.closed());  // open for QUIT's reply
  CHECK(text(c.pending_output()) == "QUIT\r\n");
  c.consume_output(c.pending_output_size());
  events = feed(c, "221 bye\r\n");
  CHECK(std::get<client_event::reply>(events[0]).answered == answered_command::quit);
  CHECK(std::get<client_event::paused>(events[1]).why == client_event::paused::reason::closed);
  CHECK_FALSE(c.opened());

  // Sent anyway when the options say so.
  auto o = automatic("[10.42.0.17]");
  o.send_failing_ehlo_name = true;
  const auto sent = run_client_every_way("220 mx\r\n250 mx\r\n", {}, o);
  CHECK(sent.output == "EHLO [10.42.0.17]\r\n");
  // A name the grammar refuses even then: that errc, and the other text.
  o.ehlo_name = "a.example\r\nRSET";
  client d(o);
  events = feed(d, "220 mx\r\n");
  const auto& g = std::get<client_event::fatal_error>(events[1]);
  CHECK(g.code != errc::bad_ehlo_name);
  CHECK(describe(g).starts_with("EHLO \"a.example\\x0d\\x0aRSET\" cannot be sent: "));
  CHECK(text(d.pending_output()) == "QUIT\r\n");
}

TEST_CASE("client opening: STARTTLS when offered, paused{tls_handshake}, EHLO again after tls_established() (RFC 3207 4.2)") {
  const std::string server = "220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 2.0.0 go ahead\r\n"
                             "250-mx\r\n250 PIPELINING\r\n221 bye\r\n";
  for (const auto policy : {tls_policy::opportunistic, tls_policy::required}) {
    auto o = automatic();
    o.starttls = policy;
    const auto r = run_client_every_way(server, {handshake_step(), quit_step()}, o);
    CHECK(r.log == greeting_line + "reply EHLO 250\nreply STARTTLS 220\nreply EHLO 250\nreply QUIT 221\n");
    CHECK(r.output == ehlo + "STARTTLS\r\n" + ehlo + "QUIT\r\n");
  }
  // Off: STARTTLS is never sent, even when offered.
  auto off = automatic();
  off.starttls = tls_policy::off;
  const auto r = run_client_every_way("220 mx\r\n250-mx\r\n250 STARTTLS\r\n221 bye\r\n", {quit_step()}, off);
  CHECK(r.output == ehlo + "QUIT\r\n");

  // Step by step: the pause, and opened() only after the second EHLO.
  client c(automatic());
  feed(c, "220 mx\r\n");
  c.consume_output(c.pending_output_size());
  feed(c, "250-mx\r\n250 STARTTLS\r\n");
  CHECK(text(c.pending_output()) == "STARTTLS\r\n");
  c.consume_output(c.pending_output_size());
  auto events = feed(c, "220 go ahead\r\n");
  CHECK(std::get<client_event::paused>(events.back()).why == client_event::paused::reason::tls_handshake);
  CHECK(c.pending_output().empty());
  CHECK(c.opening());
  REQUIRE_FALSE(c.tls_established());
  CHECK(text(c.pending_output()) == ehlo);
  c.consume_output(c.pending_output_size());
  events = feed(c, "250-mx\r\n250 AUTH PLAIN\r\n");
  CHECK(std::get<client_event::paused>(events.back()).why == client_event::paused::reason::ready);
  CHECK(c.opened());
  CHECK(c.tls());
  CHECK(c.pending_output().empty());  // no AUTH configured
}

TEST_CASE("client opening: TLS required and not offered, or refused: fatal_error{starttls_unavailable}, then QUIT") {
  auto o = automatic();
  o.starttls = tls_policy::required;
  auto r = run_client_every_way("220 mx\r\n250-mx\r\n250 PIPELINING\r\n221 bye\r\n", {quit_step()}, o);
  CHECK(r.log == greeting_line + "reply EHLO 250\nfatal starttls_unavailable\nreply QUIT 221\n");
  CHECK(r.output == ehlo + "QUIT\r\n");
  r = run_client_every_way("220 mx\r\n250-mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n221 bye\r\n",
                           {quit_step()}, o);
  CHECK(r.log.find("reply STARTTLS 454") != std::string::npos);
  CHECK(r.log.ends_with("fatal starttls_unavailable\nreply QUIT 221\n"));
  CHECK(r.output == ehlo + "STARTTLS\r\nQUIT\r\n");
  // After HELO (no capabilities, so no STARTTLS) too.
  r = run_client_every_way("220 mx\r\n502 what?\r\n250 mx\r\n221 bye\r\n", {}, o);
  CHECK(r.log.ends_with("reply HELO 250\nfatal starttls_unavailable\nreply QUIT 221\n"));

  // The texts the CLI has always shown.
  client c(o);
  feed(c, "220 mx\r\n");
  auto events = feed(c, "250 mx\r\n");
  CHECK(describe(std::get<client_event::fatal_error>(events[1])) ==
        "the server does not offer STARTTLS (RFC 3207) and TLS is required");
  CHECK_FALSE(c.closed());
  client d(o);
  feed(d, "220 mx\r\n");
  feed(d, "250-mx\r\n250 STARTTLS\r\n");
  events = feed(d, "454 4.7.0 TLS not available\r\n");
  CHECK(describe(std::get<client_event::fatal_error>(events[1])) == "the server refused STARTTLS and TLS is required");
  CHECK(std::get<client_event::fatal_error>(events[1]).code == errc::starttls_unavailable);
  CHECK(errc_name(errc::starttls_unavailable) == "starttls_unavailable");
  CHECK(make_error_code(errc::starttls_unavailable).message().find("RFC 3207") != std::string::npos);
  CHECK_FALSE(is_local_misuse(errc::starttls_unavailable));

  // Opportunistic: a refused STARTTLS goes on in plaintext (RFC 3207 4).
  r = run_client_every_way("220 mx\r\n250-mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n221 bye\r\n",
                           {quit_step()}, automatic());
  CHECK(r.log.find("fatal") == std::string::npos);
  CHECK(r.output == ehlo + "STARTTLS\r\nQUIT\r\n");
}

TEST_CASE("client opening: AUTH with the initial response after the last EHLO, once (RFC 4954 4)") {
  const auto plain = *sasl_plain("bob", "secret");
  auto o = automatic();
  o.auth = client_auth{"PLAIN", plain};
  const std::string tls_server = "220 mx\r\n250-mx\r\n250 STARTTLS\r\n220 go ahead\r\n250-mx\r\n250 AUTH PLAIN LOGIN\r\n"
                                 "235 2.7.0 Authentication successful\r\n221 bye\r\n";
  auto r = run_client_every_way(tls_server, {handshake_step(), quit_step()}, o);
  CHECK(r.log == greeting_line + "reply EHLO 250\nreply STARTTLS 220\nreply EHLO 250\nreply AUTH 235\nreply QUIT 221\n");
  CHECK(r.output == ehlo + "STARTTLS\r\n" + ehlo + "AUTH PLAIN " + plain + "\r\nQUIT\r\n");

  client c(o);
  feed(c, "220 mx\r\n");
  feed(c, "250-mx\r\n250 STARTTLS\r\n");
  feed(c, "220 go ahead\r\n");
  REQUIRE_FALSE(c.tls_established());
  c.consume_output(c.pending_output_size());
  auto events = feed(c, "250-mx\r\n250 AUTH PLAIN LOGIN\r\n");
  CHECK(std::holds_alternative<client_event::need_data>(events.back()));
  CHECK(text(c.pending_output()) == "AUTH PLAIN " + plain + "\r\n");
  CHECK(c.opening());
  c.consume_output(c.pending_output_size());
  events = feed(c, "235 2.7.0 ok\r\n");
  CHECK(std::get<client_event::paused>(events.back()).why == client_event::paused::reason::ready);
  CHECK(c.authenticated());
  CHECK(c.opened());

  // Without TLS only when allowed; an empty initial response is "=".
  auto clear = automatic();
  clear.starttls = tls_policy::off;
  clear.allow_auth_without_tls = true;
  clear.auth = client_auth{"PLAIN", "="};
  r = run_client_every_way("220 mx\r\n250-mx\r\n250 AUTH PLAIN\r\n235 ok\r\n221 bye\r\n", {quit_step()}, clear);
  CHECK(r.output == ehlo + "AUTH PLAIN =\r\nQUIT\r\n");
}

TEST_CASE("client opening: AUTH that cannot be sent is a fatal_error with send_auth()'s errc, then QUIT") {
  auto o = automatic();
  o.starttls = tls_policy::off;
  o.auth = client_auth{"PLAIN", *sasl_plain("bob", "secret")};
  // Before TLS, not allowed: encryption_required (the password never goes in the clear).
  auto r = run_client_every_way("220 mx\r\n250-mx\r\n250 AUTH PLAIN\r\n221 bye\r\n", {}, o);
  CHECK(r.log == greeting_line + "reply EHLO 250\nfatal encryption_required\nreply QUIT 221\n");
  CHECK(r.output == ehlo + "QUIT\r\n");
  // Opportunistic, STARTTLS refused: in plaintext, so the same.
  o.starttls = tls_policy::opportunistic;
  r = run_client_every_way("220 mx\r\n250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n454 4.7.0 no TLS\r\n221 bye\r\n", {}, o);
  CHECK(r.log.find("reply STARTTLS 454") != std::string::npos);
  CHECK(r.log.ends_with("\nfatal encryption_required\nreply QUIT 221\n"));
  CHECK(r.output == ehlo + "STARTTLS\r\nQUIT\r\n");
  // The mechanism not offered.
  o.allow_auth_without_tls = true;
  r = run_client_every_way("220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n221 bye\r\n", {}, o);
  CHECK(r.log == greeting_line + "reply EHLO 250\nfatal not_offered\nreply QUIT 221\n");
  client c(o);
  feed(c, "220 mx\r\n");
  const auto events = feed(c, "250-mx\r\n250 AUTH LOGIN\r\n");
  CHECK(describe(std::get<client_event::fatal_error>(events[1])).starts_with("AUTH PLAIN cannot be sent: "));
  CHECK_FALSE(c.opened());
  // A mechanism name SASL refuses.
  o.auth = client_auth{"PL.AIN", ""};
  r = run_client_every_way("220 mx\r\n250-mx\r\n250 AUTH PLAIN\r\n221 bye\r\n", {}, o);
  INFO(r.log);
  CHECK(r.log.find("fatal bad_auth_mechanism\n") != std::string::npos);
  CHECK(r.output == ehlo + "QUIT\r\n");
}

TEST_CASE("client opening: a refused AUTH ends the opening unauthenticated, the session stays usable") {
  auto o = automatic();
  o.starttls = tls_policy::off;
  o.allow_auth_without_tls = true;
  o.auth = client_auth{"PLAIN", *sasl_plain("bob", "wrong")};
  const auto r = run_client_every_way(
      "220 mx\r\n250-mx\r\n250 AUTH PLAIN\r\n535 5.7.8 Authentication credentials invalid\r\n250 ok\r\n221 bye\r\n",
      {when_opened(test::command_step("noop", make_noop())), quit_step()}, o);
  CHECK(r.log == greeting_line + "reply EHLO 250\nreply AUTH 535 auth-failed\nreply NOOP 250\nreply QUIT 221\n");
  CHECK(r.output == ehlo + "AUTH PLAIN " + *sasl_plain("bob", "wrong") + "\r\nNOOP\r\nQUIT\r\n");
  client c(o);
  feed(c, "220 mx\r\n");
  feed(c, "250-mx\r\n250 AUTH PLAIN\r\n");
  const auto events = feed(c, "535 5.7.8 no\r\n");
  CHECK(std::get<client_event::paused>(events.back()).why == client_event::paused::reason::ready);
  CHECK(c.opened());
  CHECK_FALSE(c.authenticated());
}

TEST_CASE("client opening: a 334 the application does not answer is cancelled (RFC 4954 4), one it answers goes on") {
  auto o = automatic();
  o.starttls = tls_policy::off;
  o.allow_auth_without_tls = true;
  o.auth = client_auth{"LOGIN", ""};  // no initial response: the server asks
  auto r = run_client_every_way("220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n334 VXNlcm5hbWU6\r\n501 5.7.0 cancelled\r\n221 bye\r\n",
                                {quit_step()}, o);
  CHECK(r.log == greeting_line + "reply EHLO 250\nreply AUTH 334\nreply AUTH 501 policy\nreply QUIT 221\n");
  CHECK(r.output == ehlo + "AUTH LOGIN\r\n*\r\nQUIT\r\n");

  // LOGIN answered by the application, while it holds each 334 event.
  const step user{"user", [](client& c) { return c.send_auth_response(encode_base64("bob")); }};
  const step password{"password", [](client& c) { return c.send_auth_response(encode_base64("secret")); }};
  r = run_client_every_way(
      "220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 ok\r\n221 bye\r\n",
      {user, password, quit_step()}, o);
  CHECK(r.log == greeting_line + "reply EHLO 250\nreply AUTH 334\nreply AUTH 334\nreply AUTH 235\nreply QUIT 221\n");
  CHECK(r.output == ehlo + "AUTH LOGIN\r\nYm9i\r\nc2VjcmV0\r\nQUIT\r\n");
}

TEST_CASE("client quit(): in each state") {
  // Before the greeting: nothing may be sent yet.
  client c(test::options_for());
  CHECK(c.quit() == errc::invalid_state);
  feed(c, "220 mx\r\n");
  // The application's own EHLO awaited, no PIPELINING known: after its reply.
  REQUIRE_FALSE(c.send_hello());
  CHECK(c.quit() == errc::invalid_state);
  feed(c, "250-mx\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n");
  c.consume_output(c.pending_output_size());
  // With PIPELINING it joins the group (RFC 2920 3.1: QUIT ends it); after
  // a command that ends one (NOOP) it waits for the reply.
  REQUIRE_FALSE(c.send(make_noop()->command()));
  CHECK(c.quit() == errc::invalid_state);
  feed(c, "250 ok\r\n");
  c.consume_output(c.pending_output_size());
  REQUIRE_FALSE(c.send(make_rset()->command()));
  REQUIRE_FALSE(c.quit());
  CHECK(text(c.pending_output()) == "RSET\r\nQUIT\r\n");
  CHECK_FALSE(c.quit());  // once: nothing more written
  CHECK(text(c.pending_output()) == "RSET\r\nQUIT\r\n");
  CHECK(c.send(make_quit()->command()) == errc::invalid_state);
  feed(c, "250 ok\r\n221 bye\r\n");
  CHECK(c.closed());
  CHECK(c.quit() == errc::session_closed);

  // A message in flight: refused, nothing written (SMTP cannot abort DATA).
  client d(test::options_for());
  test::greet(d, "250 mx\r\n");
  REQUIRE_FALSE(d.send(make_mail("a@example.org")->command()));
  feed(d, "250 ok\r\n");
  REQUIRE_FALSE(d.send(make_rcpt("b@example.net")->command()));
  feed(d, "250 ok\r\n");
  REQUIRE_FALSE(d.send(make_data()->command()));
  feed(d, "354 go\r\n");
  d.consume_output(d.pending_output_size());
  REQUIRE_FALSE(d.send_body("Subject: x\r\n\r\npart"));
  CHECK(d.quit() == errc::invalid_state);
  REQUIRE_FALSE(d.end_body());
  d.consume_output(d.pending_output_size());
  feed(d, "250 queued\r\n");
  REQUIRE_FALSE(d.quit());
  CHECK(text(d.pending_output()) == "QUIT\r\n");

  // submit() under way: refused until `submitted`.
  client s(test::options_for());
  test::greet(s, "250-mx\r\n250 PIPELINING\r\n");
  envelope env;
  env.reverse_path = "a@example.org";
  env.recipients.push_back({"b@example.net"});
  memory_source m("Subject: x\r\n\r\nhi\r\n");
  REQUIRE_FALSE(s.submit(env, m));
  CHECK(s.quit() == errc::invalid_state);

  // An AUTH challenge unanswered: cancel_auth() first.
  auto o = test::options_for();
  o.allow_auth_without_tls = true;
  client a(o);
  test::greet(a, "250-mx\r\n250 AUTH LOGIN\r\n");
  REQUIRE_FALSE(a.send_auth("LOGIN"));
  feed(a, "334 VXNlcm5hbWU6\r\n");
  CHECK(a.quit() == errc::invalid_state);
  REQUIRE_FALSE(a.cancel_auth());
  feed(a, "501 cancelled\r\n");
  REQUIRE_FALSE(a.quit());

  // A 554 greeting: QUIT is all that is left (RFC 5321 3.1).
  client g(test::options_for());
  feed(g, "554 no service\r\n");
  REQUIRE_FALSE(g.quit());
  CHECK(text(g.pending_output()) == "QUIT\r\n");

  // 421: closed at once.
  client h(test::options_for());
  feed(h, "421 4.3.2 bye\r\n");
  CHECK(h.quit() == errc::session_closed);
}

TEST_CASE("client opening lifetime rule: the helper's sends leave every view of the reply event intact") {
  // The lines of a multi-line EHLO reply and of the 220 to STARTTLS, held
  // while the session writes STARTTLS, then EHLO after tls_established().
  // Under ASan a write into the receive buffer would be a use after free.
  const auto lines_of = [](const client_event_t& e) {
    std::string out;
    if (const auto* r = std::get_if<client_event::reply>(&e))
      for (const auto line : r->value.lines) out += std::string(line) + "|";
    return out;
  };
  auto o = automatic();
  o.auth = client_auth{"PLAIN", *sasl_plain("bob", "secret")};
  client c(o);
  feed(c, "220 mx\r\n");
  c.consume_output(c.pending_output_size());
  const std::string long_word(300, 'x');
  REQUIRE_FALSE(c.receive("250-mx.example.net greets mail.acme-corp.com " + long_word + "\r\n250-PIPELINING\r\n250 STARTTLS\r\n"));
  const auto hello = c.next_event();
  REQUIRE(std::holds_alternative<client_event::reply>(hello));
  const auto hello_lines = lines_of(hello);
  CHECK(text(c.pending_output()) == "STARTTLS\r\n");  // written while the event is held
  c.consume_output(c.pending_output_size());
  CHECK(lines_of(hello) == hello_lines);
  REQUIRE(std::holds_alternative<client_event::need_data>(c.next_event()));
  REQUIRE_FALSE(c.receive("220 2.0.0 Ready to start TLS, a line long enough to live on the heap " + long_word + "\r\n"));
  const auto ready = c.next_event();
  const auto ready_lines = lines_of(ready);
  REQUIRE_FALSE(c.tls_established());  // the handshake, done while the event is held
  CHECK(text(c.pending_output()) == ehlo);
  CHECK(lines_of(ready) == ready_lines);
  c.consume_output(c.pending_output_size());
  REQUIRE_FALSE(c.receive("250-mx\r\n250 AUTH PLAIN\r\n"));
  const auto second = c.next_event();
  CHECK(lines_of(second) == "mx|AUTH PLAIN|");
  CHECK(text(c.pending_output()) == "AUTH PLAIN " + *sasl_plain("bob", "secret") + "\r\n");
  CHECK(lines_of(second) == "mx|AUTH PLAIN|");
}

TEST_CASE("client opening: implicit TLS (RFC 8314 3) sends no STARTTLS, even when offered, and AUTH at once") {
  const auto plain = *sasl_plain("bob", "secret");
  auto o = automatic();
  o.implicit_tls = true;
  o.starttls = tls_policy::required;  // satisfied by the TLS the connection began with
  o.auth = client_auth{"PLAIN", plain};
  // A server that (wrongly) offers STARTTLS over TLS: not taken up.
  const std::string server = "220 mx\r\n250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n235 2.7.0 ok\r\n221 bye\r\n";
  const auto r = run_client_every_way(server, {quit_step()}, o);
  CHECK(r.log == greeting_line + "reply EHLO 250\nreply AUTH 235\nreply QUIT 221\n");
  CHECK(r.output == ehlo + "AUTH PLAIN " + plain + "\r\nQUIT\r\n");

  client c(o);
  CHECK(c.tls());
  CHECK_FALSE(c.starttls_wanted());
  // Without it, the same transcript under `required` goes through STARTTLS.
  auto starttls = o;
  starttls.implicit_tls = false;
  client d(starttls);
  CHECK_FALSE(d.tls());
  feed(d, "220 mx\r\n");
  d.consume_output(d.pending_output_size());
  feed(d, "250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n");
  CHECK(text(d.pending_output()) == "STARTTLS\r\n");
}
