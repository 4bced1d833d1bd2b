// The client's failure events (client_event::fatal_error, peer_closed):
// every cause, its fields (code, cause, state, awaiting, unfinished,
// reply_code, offset, waited, argument) and describe()'s English (advice/
// describe.hpp: the sentences the CLI and the driver have always shown),
// with the server's bytes cut at every split point.
#include <sansmtp/advice/describe.hpp>
#include <sansmtp/session/client.hpp>
#include <sansmtp/syntax/command_builder.hpp>
#include <sansmtp/syntax/sasl.hpp>

#include <catch2/catch.hpp>

#include "client_harness.hpp"

#include <functional>
#include <string>
#include <vector>

using namespace sansmtp;

namespace {

using cause = client_event::fatal_error::cause;
using test::command_step;
using test::hello_step;
using test::run_client_every_way;
using test::step;

const std::string ehlo_ok = "250-mx.example.net hello\r\n250-PIPELINING\r\n250 8BITMIME\r\n";

client_options automatic() {
  auto o = test::options_for();
  o.open_automatically = true;
  return o;
}

// Every event up to need_data or paused (that one included), the output consumed.
std::vector<client_event_t> drain(client& c) {
  std::vector<client_event_t> events;
  for (;;) {
    events.push_back(c.next_event());
    (void)test::take_output(c);
    if (std::holds_alternative<client_event::need_data>(events.back())) return events;
    if (const auto* p = std::get_if<client_event::paused>(&events.back());
        p && p->why != client_event::paused::reason::write_output)
      return events;
  }
}

// The one failure event among `events`, as fields and words (test::fields).
std::string failure_of(const std::vector<client_event_t>& events) {
  std::string out;
  for (const auto& e : events) {
    if (const auto* f = std::get_if<client_event::fatal_error>(&e))
      out.append(test::fields(*f)).append(": ").append(describe(*f)).append("\n");
    if (const auto* p = std::get_if<client_event::peer_closed>(&e))
      out.append(test::fields(*p)).append(": ").append(describe(*p)).append("\n");
  }
  return out;
}

// `before` goes in turn (each reply after its command, the commands of
// `send` after the replies); then `bytes` is received cut at `cut` (two
// receive() calls, no next_event() between) and `eof` may follow. What
// failed, as failure_of() says it.
std::string run_cut(const client_options& o, const std::function<void(client&)>& prepare, std::string_view bytes,
                    std::size_t cut, bool eof) {
  client c(o);
  prepare(c);
  std::vector<client_event_t> events;
  test::must(c.receive(bytes.substr(0, cut)), "receive");
  test::must(c.receive(bytes.substr(cut)), "receive");
  if (eof) test::must(c.receive_eof(), "receive_eof");
  for (int i = 0; i < 8; ++i) {
    auto more = drain(c);
    events.insert(events.end(), more.begin(), more.end());
    if (c.closed()) break;
  }
  return failure_of(events);
}

// The same at every cut of `bytes`: one answer, returned.
std::string every_cut(const client_options& o, const std::function<void(client&)>& prepare, std::string_view bytes,
                      bool eof = false) {
  const auto whole = run_cut(o, prepare, bytes, bytes.size(), eof);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    INFO("cut at " << cut);
    CHECK(run_cut(o, prepare, bytes, cut, eof) == whole);
  }
  return whole;
}

void greeted(client& c) { test::greet(c, ehlo_ok); }

}  // namespace

TEST_CASE("client failures: an unasked reply is unexpected_reply, unasked_reply, with its code") {
  const auto r = run_client_every_way("220 mx\r\n" + ehlo_ok + "250 extra\r\n", {hello_step()});
  CHECK(r.log.ends_with("fatal unexpected_reply\n"));
  CHECK(r.failures ==
        "fatal unexpected_reply unasked_reply state=idle awaiting=an unknown command finished reply=250 offset=0 "
        "waited=0 argument=: the server sent a 250 reply that no command asked for\n");
}

TEST_CASE("client failures: a code that cannot answer the command is cannot_answer, naming the command") {
  const auto r = run_client_every_way("220 mx\r\n220 mx again\r\n", {hello_step()});
  CHECK(r.failures ==
        "fatal unexpected_reply cannot_answer state=awaiting_hello awaiting=EHLO unfinished reply=220 offset=0 "
        "waited=0 argument=: the server answered EHLO with 220, which cannot answer it (RFC 5321 section 4.3.2)\n");
  // A 2xx to DATA.
  const std::vector<step> steps = {hello_step(), command_step("mail", make_mail("a@example.org")),
                                   command_step("rcpt", make_rcpt("b@example.net")),
                                   command_step("data", make_data())};
  const auto d = run_client_every_way("220 mx\r\n" + ehlo_ok + "250 ok\r\n250 ok\r\n250 ok\r\n", steps);
  CHECK(d.failures ==
        "fatal unexpected_reply cannot_answer state=rcpt awaiting=DATA unfinished reply=250 offset=0 waited=0 "
        "argument=: the server answered DATA with 250, which cannot answer it (RFC 5321 section 4.3.2)\n");
}

TEST_CASE("client failures: a reply before its command was written is early_reply, naming the command") {
  memory_source source("Subject: x\r\n\r\nhi\r\n");
  const auto prepare = [&](client& c) {
    greeted(c);
    REQUIRE(source.rewind());
    envelope env;
    env.recipients.push_back({"b@example.net"});
    test::must(c.submit(env, source), "submit");
    test::must(c.receive("250 ok\r\n"), "receive");
    drain(c);
    test::must(c.receive("250 ok\r\n"), "receive");
    drain(c);
  };
  // DATA's 354 and a 250 in one segment: the 250 came before the end of data.
  CHECK(every_cut(test::options_for(), prepare, "354 go\r\n250 2.0.0 queued\r\n") ==
        "fatal unexpected_reply early_reply state=rcpt awaiting=the end of the message data unfinished reply=250 "
        "offset=0 waited=0 argument=: the server sent a 250 reply before the end of the message data was sent: an "
        "extra reply, which would pair every later reply with the wrong command (RFC 5321 section 4.2)\n");
}

TEST_CASE("client failures: a broken reply stream is broken_reply, with the reader's errc and octet") {
  const std::vector<step> steps = {hello_step(), command_step("mail", make_mail("a@example.org"))};
  const std::string before = "220 mx\r\n" + ehlo_ok;
  const auto r = run_client_every_way(before + "25x ok\r\n", steps);
  CHECK(r.log.ends_with("fatal bad_reply_code\n"));
  const auto at = std::to_string(before.size() + 2);
  CHECK(r.failures == "fatal bad_reply_code broken_reply state=mail awaiting=MAIL FROM unfinished reply=0 offset=" +
                          at + " waited=0 argument=: the server's reply broke RFC 5321 section 4.2 (bad_reply_code) at "
                          "octet " + at + ", while waiting for the reply to MAIL FROM\n");
  // Between commands: a line that never ends, longer than a reply line may be.
  auto o = test::options_for();
  o.replies.max_line_length = 64;
  const auto idle = run_client_every_way(before + "250 " + std::string(80, 'x'), {hello_step()}, o);
  CHECK(idle.failures.find(" broken_reply state=idle awaiting=an unknown command finished ") != std::string::npos);
  CHECK(idle.failures.find(": the server's reply broke RFC 5321 section 4.2 (reply_line_too_long) at octet ") !=
        std::string::npos);
  CHECK(idle.failures.ends_with(", between commands\n"));
}

TEST_CASE("client failures: EOF is peer_closed with the state, what was awaited and whether it was unfinished") {
  // Waiting for MAIL's reply (part of it received).
  const auto mail = [](client& c) {
    greeted(c);
    test::must(c.send(make_mail("a@example.org")->command()), "send");
    (void)test::take_output(c);
  };
  CHECK(every_cut(test::options_for(), mail, "250 2.1.0", true) ==
        "peer closed state=mail awaiting=MAIL FROM unfinished: the server closed the connection while waiting for "
        "the reply to MAIL FROM\n");
  // Between commands.
  CHECK(every_cut(test::options_for(), greeted, "", true) ==
        "peer closed state=idle awaiting=an unknown command finished: the server closed the connection between "
        "commands\n");
  // Before the greeting.
  CHECK(every_cut(test::options_for(), [](client&) {}, "220-mx", true) ==
        "peer closed state=greeting awaiting=the connection (the greeting) unfinished: the server closed the "
        "connection while waiting for the reply to the connection (the greeting)\n");
  // While the message is sent (after 354, before the end of data).
  const auto body = [](client& c) {
    greeted(c);
    test::must(c.send(make_mail("a@example.org")->command()), "send");
    test::must(c.send(make_rcpt("b@example.net")->command()), "send");
    test::must(c.send(make_data()->command()), "send");
    (void)test::take_output(c);
    test::must(c.receive("250 ok\r\n250 ok\r\n354 go\r\n"), "receive");
    drain(c);
    REQUIRE(c.state() == client_state::data);
    test::must(c.send_body("Subject: x\r\n"), "send_body");
  };
  CHECK(every_cut(test::options_for(), body, "", true) ==
        "peer closed state=data awaiting=an unknown command unfinished: the server closed the connection while "
        "sending the message\n");
  // A command of a verb this library does not know awaits its reply:
  // `unfinished` tells it from nothing awaited.
  const auto unknown = [](client& c) {
    greeted(c);
    test::must(c.send(cmd::unknown{"XFOO", std::nullopt}), "send");
    (void)test::take_output(c);
  };
  CHECK(every_cut(test::options_for(), unknown, "", true) ==
        "peer closed state=idle awaiting=an unknown command unfinished: the server closed the connection while "
        "waiting for the reply to an unknown command\n");
}

TEST_CASE("client failures: a timeout says what was awaited and how long") {
  client g(test::options_for());
  g.on_timeout();
  CHECK(failure_of(drain(g)) ==
        "fatal timeout timeout state=greeting awaiting=the connection (the greeting) unfinished reply=0 offset=0 "
        "waited=300 argument=: no reply while waiting for the reply to the connection (the greeting) within 300 "
        "seconds (RFC 5321 section 4.5.3.2)\n");
  // At every cut of a reply that has not ended.
  const auto rcpt = [](client& c) {
    greeted(c);
    test::must(c.send(make_mail("a@example.org")->command()), "send");
    test::must(c.send(make_rcpt("b@example.net")->command()), "send");
    (void)test::take_output(c);
  };
  const std::string partial = "250 ok\r\n250-ok";
  for (std::size_t cut = 0; cut <= partial.size(); ++cut) {
    INFO("cut at " << cut);
    auto o = test::options_for();
    o.rcpt_timeout = std::chrono::seconds{42};
    client c(o);
    rcpt(c);
    test::must(c.receive(partial.substr(0, cut)), "receive");
    drain(c);
    test::must(c.receive(partial.substr(cut)), "receive");
    drain(c);
    CHECK(c.timeout() == std::chrono::seconds{42});
    c.on_timeout();
    CHECK(failure_of(drain(c)) ==
          "fatal timeout timeout state=rcpt awaiting=RCPT TO unfinished reply=0 offset=0 waited=42 argument=: no "
          "reply while waiting for the reply to RCPT TO within 42 seconds (RFC 5321 section 4.5.3.2)\n");
  }
  // Nothing awaited.
  client idle(test::options_for());
  greeted(idle);
  idle.on_timeout();
  CHECK(failure_of(drain(idle)) ==
        "fatal timeout timeout state=idle awaiting=an unknown command finished reply=0 offset=0 waited=0 argument=: "
        "no reply between commands within 0 seconds (RFC 5321 section 4.5.3.2)\n");
  // While the message is sent: the data block timeout.
  client body(test::options_for());
  greeted(body);
  test::must(body.send(make_mail("a@example.org")->command()), "send");
  test::must(body.send(make_rcpt("b@example.net")->command()), "send");
  test::must(body.send(make_data()->command()), "send");
  test::must(body.receive("250 ok\r\n250 ok\r\n354 go\r\n"), "receive");
  drain(body);
  body.on_timeout();
  CHECK(failure_of(drain(body)) ==
        "fatal timeout timeout state=data awaiting=an unknown command unfinished reply=0 offset=0 waited=180 "
        "argument=: no reply while sending the message within 180 seconds (RFC 5321 section 4.5.3.2)\n");
}

TEST_CASE("client failures: a bare LF refused after part of the message went out is bare_line_ending at its octet") {
  auto o = test::options_for();
  o.data.bare_lf = bare_line_encoding::reject;
  o.data.bare_cr = bare_line_encoding::reject;
  for (const char* bare : {"\n", "\r"}) {
    const std::string message = std::string("Subject: t\r\n\r\nfine line\r\nbare") + bare + "LF\r\n";
    const std::string name = *bare == '\n' ? "LF" : "CR";
    const std::string code = *bare == '\n' ? "bare_lf" : "bare_cr";
    test::streamed_source source(message, 5);  // cannot rewind: not read ahead
    const auto prepare = [&](client& c) {
      greeted(c);
      source.restart();
      envelope env;
      env.recipients.push_back({"b@example.net"});
      test::must(c.submit(env, source), "submit");
      (void)test::take_output(c);
    };
    CHECK(every_cut(o, prepare, "250 ok\r\n250 ok\r\n354 go\r\n") ==
          "fatal " + code + " bare_line_ending state=data awaiting=an unknown command unfinished reply=0 offset=29 "
          "waited=0 argument=: the message has a bare " + name + " at octet 29, which data_encoder_options refuses "
          "(reject); part of the message was already sent and SMTP cannot take it back, so the session ends: close "
          "the connection and the server discards it\n");
  }
}

TEST_CASE("client failures: the opening helper's give-ups, each its own cause") {
  // The EHLO name fails the check: the name, as configured, and the words.
  auto bad = automatic();
  bad.ehlo_name = "[10.42.0.17]";
  auto r = run_client_every_way("220 mx\r\n221 bye\r\n", {}, bad);
  CHECK(r.failures ==
        "fatal bad_ehlo_name hello_not_sent state=awaiting_hello awaiting=an unknown command finished reply=0 "
        "offset=0 waited=0 argument=[10.42.0.17]: the EHLO name \"[10.42.0.17]\" fails the EHLO-name check (see: "
        "sansmtp ehlo-check)\n");
  // A name the grammar refuses even when sent anyway: escaped in the words only.
  bad.ehlo_name = "a.example\r\nRSET";
  bad.send_failing_ehlo_name = true;
  client g(bad);
  test::must(g.receive("220 mx\r\n"), "receive");
  const auto events = drain(g);
  const auto* f = std::get_if<client_event::fatal_error>(&events[1]);
  REQUIRE(f);
  CHECK(f->why == cause::hello_not_sent);
  CHECK(f->argument == "a.example\r\nRSET");
  CHECK(describe(*f) == "EHLO \"a.example\\x0d\\x0aRSET\" cannot be sent: " + make_error_code(f->code).message());

  // TLS required, not offered; refused (with the refusal's code).
  auto tls = automatic();
  tls.starttls = tls_policy::required;
  r = run_client_every_way("220 mx\r\n250-mx\r\n250 PIPELINING\r\n221 bye\r\n", {}, tls);
  CHECK(r.failures ==
        "fatal starttls_unavailable starttls_not_offered state=idle awaiting=an unknown command finished reply=0 "
        "offset=0 waited=0 argument=: the server does not offer STARTTLS (RFC 3207) and TLS is required\n");
  r = run_client_every_way("220 mx\r\n250-mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n221 bye\r\n", {}, tls);
  CHECK(r.failures ==
        "fatal starttls_unavailable starttls_refused state=idle awaiting=an unknown command finished reply=454 "
        "offset=0 waited=0 argument=: the server refused STARTTLS and TLS is required\n");

  // AUTH that cannot be sent: the mechanism, and send_auth()'s errc.
  auto auth = automatic();
  auth.starttls = tls_policy::off;
  auth.auth = client_auth{"PLAIN", *sasl_plain("bob", "secret")};
  r = run_client_every_way("220 mx\r\n250-mx\r\n250 AUTH PLAIN\r\n221 bye\r\n", {}, auth);
  CHECK(r.failures ==
        "fatal encryption_required auth_not_sent state=idle awaiting=an unknown command finished reply=0 offset=0 "
        "waited=0 argument=PLAIN: AUTH PLAIN cannot be sent: " +
            make_error_code(errc::encryption_required).message() + "\n");
  // The credentials are never in the event.
  CHECK(r.failures.find(*sasl_plain("bob", "secret")) == std::string::npos);
}

TEST_CASE("client failures: every cause has a stable name") {
  CHECK(client_fatal_cause_name(cause::broken_reply) == "broken_reply");
  CHECK(client_fatal_cause_name(cause::unasked_reply) == "unasked_reply");
  CHECK(client_fatal_cause_name(cause::early_reply) == "early_reply");
  CHECK(client_fatal_cause_name(cause::cannot_answer) == "cannot_answer");
  CHECK(client_fatal_cause_name(cause::bare_line_ending) == "bare_line_ending");
  CHECK(client_fatal_cause_name(cause::timeout) == "timeout");
  CHECK(client_fatal_cause_name(cause::hello_not_sent) == "hello_not_sent");
  CHECK(client_fatal_cause_name(cause::starttls_not_offered) == "starttls_not_offered");
  CHECK(client_fatal_cause_name(cause::starttls_refused) == "starttls_refused");
  CHECK(client_fatal_cause_name(cause::auth_not_sent) == "auth_not_sent");
  CHECK(client_fatal_cause_name(static_cast<cause>(200)) == "unknown");
  // describe() of a cause it does not know still says something true.
  client_event::fatal_error odd;
  odd.code = errc::timeout;
  odd.why = static_cast<cause>(200);
  CHECK(describe(odd) == "the session failed (timeout)");
}
