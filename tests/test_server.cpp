// The server session (RFC 5321 sequencing, RFC 2920 pipelining, DATA and
// BDAT framing, STARTTLS, AUTH, LMTP, limits). Every scenario runs whole,
// byte by byte and split at every point (run_every_way), and must give the
// same events and the same replies.
#include <sansmtp/syntax/sasl.hpp>
#include <sansmtp/core/base64.hpp>
#include <sansmtp/session/server.hpp>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"  // GCC PR 105329, "literal" + std::string
#endif

#include <catch2/catch.hpp>

#include "command_describe.hpp"
#include "server_harness.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <utility>

using namespace sansmtp;
using sansmtp::test::reply_codes;
using sansmtp::test::responder;
using sansmtp::test::run_every_way;
using sansmtp::test::run_session;

namespace {

const std::string hello = "EHLO client.example\r\n";
const std::string envelope = "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n";

server_options chunking() {
  server_options o;
  o.chunking = true;
  return o;
}

}  // namespace

TEST_CASE("server: one transaction from greeting to QUIT, the body dot-unstuffed") {
  const auto r = run_every_way(hello + envelope + "DATA\r\nSubject: t\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n");
  CHECK(r.log ==
        "cmd EHLO client.example\n"
        "cmd MAIL <a@example.org> {}\n"
        "cmd RCPT <b@example.net> {}\n"
        "cmd DATA\n"
        "end size=26 [Subject: t\\r\\n\\r\\n.dot\\r\\nbody\\r\\n]\n"
        "cmd QUIT\n");
  CHECK(reply_codes(r.output) == "220 250 250 250 354 250 221");
  CHECK(r.output.find("250-localhost hello\r\n250-PIPELINING\r\n250-SIZE\r\n250-8BITMIME\r\n") != std::string::npos);
  CHECK(r.closed);
  REQUIRE(r.messages.size() == 1);
}

TEST_CASE("server: a pipelined group is answered in order, and the next transaction follows") {
  const std::string two = hello + envelope + "RCPT TO:<c@example.net>\r\nDATA\r\nx\r\n.\r\n" + envelope +
                          "DATA\r\ny\r\n.\r\nQUIT\r\n";
  const auto r = run_every_way(two);
  CHECK(reply_codes(r.output) == "220 250 250 250 250 354 250 250 250 354 250 221");
  CHECK(r.messages == std::vector<std::string>{"x\r\n", "y\r\n"});
}

TEST_CASE("server: the transition table suggests 503 for every bad sequence (RFC 5321 4.1.4)") {
  struct scenario {
    std::string input;
    std::string codes;
  };
  const scenario cases[] = {
      {"MAIL FROM:<a@b.example>\r\n", "220 503"},                              // before EHLO
      {hello + "RCPT TO:<a@b.example>\r\n", "220 250 503"},                    // before MAIL
      {hello + "DATA\r\n", "220 250 503"},                                     // before RCPT
      {hello + "MAIL FROM:<a@b.example>\r\nDATA\r\n", "220 250 250 503"},      // no recipient
      {hello + envelope + "MAIL FROM:<c@d.example>\r\n", "220 250 250 250 503"},  // nested MAIL
      {hello + envelope + "RSET\r\nRCPT TO:<x@y.example>\r\n", "220 250 250 250 250 503"},
      {hello + envelope + "EHLO again.example\r\nRCPT TO:<x@y.example>\r\n", "220 250 250 250 250 503"},
      {"HELO client.example\r\nMAIL FROM:<a@b.example>\r\n", "220 250 250"},  // HELO is enough for mail
      {"NOOP\r\nRSET\r\nVRFY postmaster\r\nHELP\r\n", "220 250 250 252 214"},  // without EHLO (4.1.4)
      {"FOO bar\r\n", "220 500"},
      {"LHLO client.example\r\n", "220 500"},  // LMTP's verb on SMTP
  };
  for (const auto& c : cases) {
    INFO(c.input);
    CHECK(reply_codes(run_every_way(c.input).output) == c.codes);
  }
  // A failed EHLO leaves the state as it was (4.1.4).
  responder refuse_ehlo;
  refuse_ehlo.on_command = [](server& s, const server_event::command& c) {
    if (!std::holds_alternative<cmd::ehlo>(c.value)) return false;
    REQUIRE_FALSE(s.send(550, "5.7.1 Invalid HeloHost"));
    return true;
  };
  CHECK(reply_codes(run_every_way("EHLO [10.42.0.17]\r\nMAIL FROM:<a@b.example>\r\n", {}, refuse_ehlo).output) ==
        "220 550 503");
}

TEST_CASE("server: a parser error is a recoverable bad command with the parser's reply") {
  const auto r = run_every_way(hello + "MAIL FROM:<a..b@example.org>\r\nMAIL FROM:<a@example.org>\r\n");
  CHECK(r.log == "cmd EHLO client.example\nbad 501 bad_local_part [MAIL FROM:<a..b@example.org>\\r\\n]\n"
                 "cmd MAIL <a@example.org> {}\nclosed\n");
  CHECK(r.output.find("501 5.1.7 ") != std::string::npos);
  // Trailing white space is tolerated (RFC 5321 4.1.1) and reported.
  CHECK(run_every_way("NOOP  \r\n").log == "cmd NOOP - +ws\nclosed\n");
}

TEST_CASE("server: every smuggling variant is body content or an error, never an end of data") {
  // SMTP smuggling: what some MTA once took for the end of data.
  const std::string variants[] = {"\n.\n", "\n.\r\n", "\r.\r", "\r\n.\n", "\r\n.\r", "\r.\r\n", "\n.\r",
                                  "\r\r\n.\r\r\n", std::string("\r\n\x00.\r\n", 6), std::string("\r\n.\x00\r\n", 6),
                                  std::string("\n\x00.\n", 4)};
  const std::string smuggled = "MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n";
  for (const auto& v : variants) {
    for (const auto policy : {bare_line_ending::reject, bare_line_ending::normalize, bare_line_ending::allow}) {
      INFO("variant " << test::shown(v) << " policy " << static_cast<int>(policy));
      server_options o;
      o.data.bare_lf = o.data.bare_cr = policy;
      const auto r = run_every_way(hello + envelope + "DATA\r\nhello" + v + smuggled + "evil body\r\n.\r\nQUIT\r\n", o);
      // Exactly one message, whatever the policy: the smuggled commands are content.
      CHECK(r.log.find("cmd MAIL <evil") == std::string::npos);
      const auto first_end = r.log.find("end size=");
      REQUIRE(first_end != std::string::npos);
      CHECK(r.log.find("end size=", first_end + 1) == std::string::npos);
      CHECK(r.log.substr(r.log.size() - 9) == "cmd QUIT\n");
      // A bare CR or LF (not part of a CRLF) makes the message refused under reject.
      std::string without_crlf = v;
      for (std::size_t at; (at = without_crlf.find("\r\n")) != std::string::npos;) without_crlf.erase(at, 2);
      const bool bare = without_crlf.find_first_of("\r\n") != std::string::npos;
      if (policy == bare_line_ending::reject && bare) {
        CHECK(r.messages.empty());  // refused, nothing delivered
        CHECK(r.output.find("550 5.6.0") != std::string::npos);
      } else {
        REQUIRE(r.messages.size() == 1);
        CHECK(r.messages[0].find("MAIL FROM:<evil@attacker.example>") != std::string::npos);
      }
    }
  }
}

TEST_CASE("server: STARTTLS - pipelined plaintext is fatal by default, discarded on request") {
  server_options o;
  o.starttls = true;
  const std::string injected = hello + "STARTTLS\r\nMAIL FROM:<evil@attacker.example>\r\n";
  // In the STARTTLS segment (CVE-2011-0411): 554 instead of 220.
  auto r = run_session(injected, {}, o);
  CHECK(r.log == "cmd EHLO client.example\ncmd STARTTLS\nstarttls injection\n");
  CHECK(reply_codes(r.output) == "220 250 554");
  CHECK(r.closed);
  // Arriving after the STARTTLS segment: the 220 went out, the handshake is refused.
  r = run_session(injected, {hello.size() + 10}, o);
  CHECK(r.log == "cmd EHLO client.example\ncmd STARTTLS\nstarttls injection\n");
  CHECK(reply_codes(r.output) == "220 250 220");
  CHECK(r.closed);
  // Discarded on request, wherever it came.
  o.after_starttls = starttls_injection::discard;
  r = run_every_way(injected, o);
  CHECK(r.log == "cmd EHLO client.example\ncmd STARTTLS\ntls up\nclosed\n");
  CHECK(reply_codes(r.output) == "220 250 220");
  // A clean upgrade.
  const auto clean = run_every_way(hello + "STARTTLS\r\n", o, {}, false);
  CHECK(clean.log == "cmd EHLO client.example\ncmd STARTTLS\ntls up\n");
  CHECK(clean.output.find("STARTTLS") != std::string::npos);
}

TEST_CASE("server: after TLS the session is back to before EHLO and STARTTLS is no longer offered") {
  server_options o;
  o.starttls = true;
  server s(o);
  REQUIRE_FALSE(s.send(220, "mx ESMTP"));
  REQUIRE_FALSE(s.receive(hello));
  REQUIRE(std::holds_alternative<server_event::command>(s.next_event()));
  REQUIRE_FALSE(s.send_ehlo_reply());
  REQUIRE_FALSE(s.receive("STARTTLS\r\n"));
  REQUIRE(std::holds_alternative<server_event::command>(s.next_event()));
  CHECK(std::holds_alternative<server_event::paused>(s.next_event()));
  CHECK(s.tls_established() == errc::invalid_state);  // not before the 220
  REQUIRE_FALSE(s.send(220, "2.0.0 Go ahead"));
  const auto p = s.next_event();
  REQUIRE(std::holds_alternative<server_event::paused>(p));
  CHECK(std::get<server_event::paused>(p).why == server_event::paused::reason::tls_handshake);
  CHECK_FALSE(s.wants_read());
  REQUIRE_FALSE(s.tls_established());
  CHECK(s.tls());
  s.consume_output(s.pending_output().size());
  REQUIRE_FALSE(s.receive("MAIL FROM:<a@b.example>\r\n"));
  auto e = s.next_event();
  REQUIRE(std::holds_alternative<server_event::bad_command>(e));
  CHECK(std::get<server_event::bad_command>(e).suggested.code == 503);
  REQUIRE_FALSE(s.send(std::get<server_event::bad_command>(e).suggested));
  REQUIRE_FALSE(s.receive(hello));
  REQUIRE(std::holds_alternative<server_event::command>(s.next_event()));
  REQUIRE_FALSE(s.send_ehlo_reply());
  const auto out = std::string(s.pending_output().data(), s.pending_output().size());
  CHECK(out.find("STARTTLS") == std::string::npos);
  REQUIRE_FALSE(s.receive("STARTTLS\r\n"));
  e = s.next_event();
  REQUIRE(std::holds_alternative<server_event::bad_command>(e));
  CHECK(std::get<server_event::bad_command>(e).suggested.code == 502);
}

TEST_CASE("server: plaintext that arrives after the 220 to STARTTLS is never parsed") {
  server_options o;
  o.starttls = true;
  for (const auto policy : {starttls_injection::reject, starttls_injection::discard}) {
    o.after_starttls = policy;
    server s(o);
    REQUIRE_FALSE(s.send(220, "mx"));
    REQUIRE_FALSE(s.receive(hello + "STARTTLS\r\n"));
    s.next_event();
    REQUIRE_FALSE(s.send_ehlo_reply());
    s.next_event();
    REQUIRE_FALSE(s.send(220, "2.0.0 Ready"));
    CHECK_FALSE(s.receive("RSET\r\n"));  // a client that did not wait for the handshake
    CHECK(s.trailing_data() == "RSET\r\n");
    if (policy == starttls_injection::reject) {
      CHECK(s.tls_established() == errc::starttls_injection);
      CHECK(s.closed());
    } else {
      CHECK_FALSE(s.tls_established());
      CHECK(s.trailing_data().empty());
      CHECK(std::holds_alternative<server_event::need_data>(s.next_event()));
    }
  }
}

TEST_CASE("server: BDAT counts exact octets across any chunking (RFC 3030)") {
  const auto o = chunking();
  auto r = run_every_way(hello + envelope + "BDAT 5\r\nhel\nlBDAT 3 LAST\r\no\r\nQUIT\r\n", o);
  CHECK(r.log.find("chunk 5\n") != std::string::npos);
  CHECK(r.log.find("end size=8 bare_lf@3 [hel\\nlo\\r\\n]") != std::string::npos);
  r = run_every_way(hello + envelope + "BDAT 7\r\nhello\r\nBDAT 0 LAST\r\nQUIT\r\n", o);
  CHECK(r.messages == std::vector<std::string>{"hello\r\n"});
  CHECK(reply_codes(r.output) == "220 250 250 250 250 250 221");
  // Commands inside a chunk are data.
  r = run_every_way(hello + envelope + "BDAT 12 LAST\r\nQUIT\r\nRSET\r\nNOOP\r\n", o);
  CHECK(r.messages == std::vector<std::string>{"QUIT\r\nRSET\r\n"});
  CHECK(r.log.find("cmd NOOP") != std::string::npos);
  // DATA after BDAT in one transaction is 503 (RFC 3030 section 2).
  r = run_every_way(hello + envelope + "BDAT 3\r\nabcDATA\r\n", o);
  CHECK(reply_codes(r.output) == "220 250 250 250 250 503");
}

TEST_CASE("server: under normalize a BDAT message arrives as the same message sent with DATA, however chunked") {
  // Messages ending in CRLF (DATA needs one before its dot), no line starting with ".".
  const std::string messages[] = {"a\nb\r\n", "a\rb\r\n", "\n\r\n", "\r\r\n", "a\r\r\nb\r\n",
                                  "x\n\n\r\r\r\n", "\r\n\r\n", "\r\n", "ab\r\n\ncd\r\re\r\n"};
  auto o = chunking();
  o.data.bare_lf = o.data.bare_cr = bare_line_ending::normalize;
  for (const auto& m : messages) {
    INFO("message " << test::shown(m));
    const auto by_data = run_every_way(hello + envelope + "DATA\r\n" + m + ".\r\nQUIT\r\n", o);
    REQUIRE(by_data.messages.size() == 1);
    CHECK(by_data.messages[0].find_first_of("\r\n") != std::string::npos);
    for (std::size_t k = 0; k <= m.size(); ++k) {  // the first chunk ends at every place
      INFO("first chunk " << k);
      const auto wire = hello + envelope + "BDAT " + std::to_string(k) + "\r\n" + m.substr(0, k) + "BDAT " +
                        std::to_string(m.size() - k) + " LAST\r\n" + m.substr(k) + "QUIT\r\n";
      const auto by_bdat = run_every_way(wire, o);
      CHECK(by_bdat.messages == by_data.messages);
    }
    // A message whose last octet is a CR: its LF is added at the end.
    if (m.size() > 2) {
      const auto cut = m.substr(0, m.size() - 1);  // ends in CR
      const auto r =
          run_every_way(hello + envelope + "BDAT " + std::to_string(cut.size()) + " LAST\r\n" + cut + "QUIT\r\n", o);
      REQUIRE(r.messages.size() == 1);
      CHECK(r.messages[0].substr(r.messages[0].size() - 2) == "\r\n");
    }
  }
  // One policy each: LF normalized, CR still refused.
  o.data.bare_cr = bare_line_ending::reject;
  auto r = run_every_way(hello + envelope + "BDAT 5 LAST\r\na\nb\r\nQUIT\r\n", o);
  CHECK(r.messages == std::vector<std::string>{"a\r\nb\r\n"});
  r = run_every_way(hello + envelope + "BDAT 5 LAST\r\na\rb\r\nQUIT\r\n", o);
  CHECK(r.messages.empty());
  CHECK(r.log.find("bare_cr@1") != std::string::npos);
  // BINARYMIME bodies are never touched.
  o.binarymime = true;
  o.data.bare_lf = o.data.bare_cr = bare_line_ending::normalize;
  r = run_every_way(hello + "MAIL FROM:<a@example.org> BODY=BINARYMIME\r\nRCPT TO:<b@example.net>\r\n"
                            "BDAT 4 LAST\r\na\nb\rQUIT\r\n", o);
  CHECK(r.messages == std::vector<std::string>{"a\nb\r"});
}

TEST_CASE("server: a refused BDAT's chunk is read and dropped, never parsed as commands") {
  // Without CHUNKING: 502, after its 12 octets are consumed.
  auto r = run_every_way(hello + envelope + "BDAT 12\r\nQUIT\r\nQUIT\r\nNOOP\r\n");
  CHECK(r.log == "cmd EHLO client.example\ncmd MAIL <a@example.org> {}\ncmd RCPT <b@example.net> {}\n"
                 "bad 502 not_offered [BDAT 12\\r\\n]\ncmd NOOP -\nclosed\n");
  // Out of sequence, with CHUNKING: 503, the chunk dropped.
  r = run_every_way(hello + "BDAT 6 LAST\r\nRSET\r\nNOOP\r\n", chunking());
  CHECK(r.log == "cmd EHLO client.example\nbad 503 bad_sequence [BDAT 6 LAST\\r\\n]\ncmd NOOP -\nclosed\n");
}

TEST_CASE("server: a BDAT reply cannot be sent before its chunk was read") {
  server s(chunking());
  REQUIRE_FALSE(s.send(220, "mx"));
  REQUIRE_FALSE(s.receive(hello + envelope + "BDAT 10\r\nabc"));
  for (int i = 0; i < 3; ++i) {
    auto e = s.next_event();
    REQUIRE(std::holds_alternative<server_event::command>(e));
    REQUIRE_FALSE((i == 0 ? s.send_ehlo_reply() : s.send(250, "ok")));
  }
  REQUIRE(std::holds_alternative<server_event::command>(s.next_event()));  // BDAT
  CHECK(s.send(250, "too early") == errc::invalid_state);
  REQUIRE(std::holds_alternative<server_event::message_data>(s.next_event()));
  CHECK(std::holds_alternative<server_event::need_data>(s.next_event()));
  CHECK(s.send(250, "too early") == errc::invalid_state);
  REQUIRE_FALSE(s.receive("defghij"));
  REQUIRE(std::holds_alternative<server_event::message_data>(s.next_event()));
  REQUIRE(std::holds_alternative<server_event::chunk_end>(s.next_event()));
  CHECK_FALSE(s.send(250, "2.0.0 ok"));
  CHECK(s.send(250, "nothing owed") == errc::invalid_state);
}

TEST_CASE("server: AUTH framing (RFC 4954): TLS first, 334 exchanges, cancel, once per session") {
  server_options o;
  o.auth_mechanisms = {"PLAIN", "LOGIN"};
  auto r = run_every_way(hello + "AUTH PLAIN AGJvYgBzZWNyZXQ=\r\n", o);
  CHECK(reply_codes(r.output) == "220 250 538");  // no TLS
  CHECK(r.output.find("AUTH") == std::string::npos);  // not offered before TLS
  o.allow_auth_without_tls = true;
  r = run_every_way(hello + "AUTH LOGIN\r\nYm9i\r\nAUTH PLAIN\r\n", o);
  CHECK(r.log == "cmd EHLO client.example\ncmd AUTH LOGIN -\nauth response\n"
                 "bad 503 bad_sequence [AUTH PLAIN\\r\\n]\nclosed\n");
  CHECK(reply_codes(r.output) == "220 250 334 235 503");  // the second AUTH is a bad sequence
  // RFC 4954 §4: continue-req = "334" SP [base64] CRLF, the SP kept for an empty challenge.
  CHECK(r.output.find("\r\n334 \r\n") != std::string::npos);
  r = run_every_way(hello + "AUTH LOGIN\r\n*\r\nNOOP\r\n", o);
  CHECK(reply_codes(r.output) == "220 250 334 501 250");
  r = run_every_way(hello + "AUTH LOGIN\r\nnot base64!\r\nNOOP\r\n", o);
  CHECK(reply_codes(r.output) == "220 250 334 501 250");
  r = run_every_way(hello + "AUTH CRAM-MD5\r\n", o);
  CHECK(reply_codes(r.output) == "220 250 504");
  CHECK(run_every_way("HELO client.example\r\nAUTH PLAIN\r\n", o).output.find("503") != std::string::npos);
  // The response line has its own, larger limit (12288 by default).
  const std::string long_response(12000, 'A');
  r = run_session(hello + "AUTH LOGIN\r\n" + long_response + "\r\n", {}, o);
  CHECK(r.log.find("auth response") != std::string::npos);
  o.max_auth_line_length = 100;
  r = run_session(hello + "AUTH LOGIN\r\n" + std::string(99, 'A') + "\r\nNOOP\r\n", {}, o);
  CHECK(reply_codes(r.output) == "220 250 334 500 250");
}

TEST_CASE("server: LMTP answers the end of data once per accepted recipient (RFC 2033)") {
  server_options o;
  o.lmtp = true;
  responder refuse_second;
  refuse_second.on_command = [](server& s, const server_event::command& c) {
    const auto* r = std::get_if<cmd::rcpt>(&c.value);
    if (!r || r->forward_path.local_part != "nobody") return false;
    REQUIRE_FALSE(s.send(550, "5.1.1 No such user"));
    return true;
  };
  const auto r = run_every_way("LHLO client.example\r\n" + envelope + "RCPT TO:<nobody@example.net>\r\n"
                               "RCPT TO:<c@example.net>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
                               o, refuse_second);
  CHECK(reply_codes(r.output) == "220 250 250 250 550 250 354 250 250 221");
  CHECK(run_every_way("EHLO client.example\r\n", o).output.find("500 5.5.1") != std::string::npos);
}

TEST_CASE("server: command line limit 512 with CRLF: N accepted, N+1 refused and skipped") {
  const std::string noop = "NOOP ";
  const auto line_of = [&](std::size_t n) { return noop + std::string(n - noop.size() - 2, 'a') + "\r\n"; };
  CHECK(reply_codes(run_session(line_of(512) + "RSET\r\n", {}).output) == "220 250 250");
  auto r = run_session(line_of(513) + "RSET\r\n", {});
  CHECK(reply_codes(r.output) == "220 500 250");
  CHECK(r.output.find("500 5.5.6") != std::string::npos);
  // Over the limit, nothing of the line is ever parsed, however it is cut.
  r = run_every_way("NOOP " + std::string(600, 'a') + "\r\nQUIT\r\n");
  CHECK(reply_codes(r.output) == "220 500 221");
  server_options o;
  o.commands.max_line_length = 20;
  CHECK(reply_codes(run_every_way(line_of(20) + line_of(21), o).output) == "220 250 500");
}

TEST_CASE("server: recipients limit: N accepted, N+1 is 452 (RFC 5321 4.5.3.1.10)") {
  server_options o;
  o.max_recipients = 3;
  std::string in = hello + "MAIL FROM:<a@example.org>\r\n";
  for (int i = 0; i < 4; ++i) in += "RCPT TO:<r" + std::to_string(i) + "@example.net>\r\n";
  CHECK(reply_codes(run_every_way(in, o).output) == "220 250 250 250 250 250 452");
  // The default is the RFC's 100.
  std::string hundred = hello + "MAIL FROM:<a@example.org>\r\n";
  for (int i = 0; i < 101; ++i) hundred += "RCPT TO:<r" + std::to_string(i) + "@example.net>\r\n";
  const auto codes = reply_codes(run_session(hundred, {}).output);
  CHECK(std::count(codes.begin(), codes.end(), ' ') == 103);
  CHECK(codes.substr(codes.size() - 7) == "250 452");
}

TEST_CASE("server: message size: SIZE= over the limit is 552, a body over it is read and refused") {
  server_options o;
  o.max_message_size = 10;
  CHECK(reply_codes(run_every_way(hello + "MAIL FROM:<a@example.org> SIZE=10\r\n", o).output) == "220 250 250");
  CHECK(reply_codes(run_every_way(hello + "MAIL FROM:<a@example.org> SIZE=11\r\n", o).output) == "220 250 552");
  CHECK(run_every_way(hello, o).output.find("250-SIZE 10\r\n") != std::string::npos);
  auto r = run_every_way(hello + envelope + "DATA\r\n12345678\r\n.\r\nQUIT\r\n", o);
  CHECK(r.messages.size() == 1);  // 10 octets: fits
  r = run_every_way(hello + envelope + "DATA\r\n123456789\r\n.\r\nQUIT\r\n", o);
  CHECK(r.messages.empty());
  CHECK(r.log.find("end size=11 message_too_large@10") != std::string::npos);
  CHECK(reply_codes(r.output) == "220 250 250 250 354 552 221");
}

TEST_CASE("server: bad command budget: N refusals answered, N+1 is 421 and the end") {
  server_options o;
  o.max_bad_commands = 3;
  const auto r = run_every_way("FOO\r\nFOO\r\nFOO\r\nFOO\r\nNOOP\r\n", o);
  CHECK(reply_codes(r.output) == "220 500 500 500 421");
  CHECK(r.closed);
  CHECK(r.log.find("fatal too_many_errors") != std::string::npos);
}

TEST_CASE("server: transactions per session: N accepted, then 421") {
  server_options o;
  o.max_transactions = 1;
  o.limits = true;
  const auto r = run_every_way(hello + envelope + "DATA\r\nx\r\n.\r\nMAIL FROM:<a@example.org>\r\n", o);
  CHECK(reply_codes(r.output) == "220 250 250 250 354 250 421");
  CHECK(r.closed);
  CHECK(r.output.find("LIMITS RCPTMAX=100 MAILMAX=1\r\n") != std::string::npos);
}

TEST_CASE("server: extensions that were not offered are refused") {
  struct scenario {
    std::string input;
    std::string codes;
  };
  const scenario cases[] = {
      {hello + "MAIL FROM:<a@example.org> SMTPUTF8\r\n", "220 250 555"},
      {hello + "MAIL FROM:<a@example.org> BODY=BINARYMIME\r\n", "220 250 555"},
      {hello + "MAIL FROM:<a@example.org> RET=FULL\r\n", "220 250 555"},
      {hello + "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net> NOTIFY=NEVER\r\n", "220 250 250 555"},
      {hello + "STARTTLS\r\n", "220 250 502"},
      {hello + "AUTH PLAIN\r\n", "220 250 502"},
      {hello + "MAIL FROM:<j\xc3\xb6rg@example.org>\r\n", "220 250 553"},
  };
  for (const auto& c : cases) {
    INFO(c.input);
    CHECK(reply_codes(run_every_way(c.input).output) == c.codes);
  }
  // Offered, they pass; SMTPUTF8 lets UTF-8 into RCPT only for that transaction.
  server_options o;
  o.smtputf8 = true;
  o.chunking = o.binarymime = true;
  CHECK(reply_codes(run_every_way(hello + "MAIL FROM:<j\xc3\xb6rg@example.org> SMTPUTF8\r\n"
                                          "RCPT TO:<b\xc3\xb6@example.net>\r\n",
                                  o)
                        .output) == "220 250 250 250");
  CHECK(reply_codes(run_every_way(hello + "MAIL FROM:<a@example.org>\r\nRCPT TO:<b\xc3\xb6@example.net>\r\n", o)
                        .output) == "220 250 250 553");
  // RFC 3030 section 3: BINARYMIME then DATA is a bad sequence.
  CHECK(reply_codes(run_every_way(hello + "MAIL FROM:<a@example.org> BODY=BINARYMIME\r\n"
                                          "RCPT TO:<b@example.net>\r\nDATA\r\n",
                                  o)
                        .output) == "220 250 250 250 503");
}

TEST_CASE("server: after a 554 greeting only QUIT is accepted (RFC 5321 3.1)") {
  responder closed_shop;
  closed_shop.greeting = 554;
  const auto r = run_every_way("EHLO client.example\r\nNOOP\r\nQUIT\r\n", {}, closed_shop);
  CHECK(reply_codes(r.output) == "554 503 503 221");
}

TEST_CASE("server: early talkers and unadvertised pipelining are reported") {
  // Bytes before the greeting: the first command carries the flag.
  server s;
  REQUIRE_FALSE(s.receive("EHLO early.example\r\n"));
  CHECK(std::holds_alternative<server_event::paused>(s.next_event()));  // the greeting is owed
  REQUIRE_FALSE(s.send(220, "mx"));
  auto e = s.next_event();
  REQUIRE(std::holds_alternative<server_event::command>(e));
  CHECK(std::get<server_event::command>(e).before_greeting);
  // HELO offers no PIPELINING: a second command sent before the first reply is flagged.
  auto r = run_session("HELO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n", {});
  CHECK(r.pipelined_flags == std::vector<bool>{false, true, true});
  r = run_session("HELO client.example\r\n", {});
  CHECK(r.pipelined_flags == std::vector<bool>{false});
  // After EHLO with PIPELINING, the same is normal.
  r = run_session(hello + envelope, {});
  CHECK(r.pipelined_flags == std::vector<bool>{false, false, false});
  CHECK(r.early_flags == std::vector<bool>{false, false, false});
}

TEST_CASE("server: nothing after DATA, AUTH, STARTTLS or QUIT is parsed before the deciding reply") {
  server s;
  REQUIRE_FALSE(s.send(220, "mx"));
  REQUIRE_FALSE(s.receive(hello + envelope + "DATA\r\nMAIL FROM:<not-a-command@example.org>\r\n.\r\n"));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(std::holds_alternative<server_event::command>(s.next_event()));
    REQUIRE_FALSE((i == 0 ? s.send_ehlo_reply() : s.send(250, "ok")));
  }
  REQUIRE(std::holds_alternative<server_event::command>(s.next_event()));  // DATA
  CHECK(std::holds_alternative<server_event::paused>(s.next_event()));
  CHECK_FALSE(s.wants_read());
  CHECK(s.timeout() == std::chrono::seconds{0});  // waiting for the application
  REQUIRE_FALSE(s.send(354, "go"));
  CHECK(s.wants_read());
  CHECK(s.timeout() == std::chrono::seconds{300});
  REQUIRE(std::holds_alternative<server_event::message_data>(s.next_event()));
  REQUIRE(std::holds_alternative<server_event::message_end>(s.next_event()));
}

TEST_CASE("server: local misuse is refused and changes nothing") {
  server s;
  CHECK(s.send(250, "not a greeting") == errc::invalid_state);  // a greeting is 220, 554 or 421
  CHECK_FALSE(s.send(220, "mx"));
  server t;
  REQUIRE_FALSE(t.send(220, "mx"));
  CHECK(t.send(250, "nothing owed") == errc::invalid_state);
  CHECK(t.send_ehlo_reply() == errc::invalid_state);
  CHECK(t.tls_established() == errc::invalid_state);
  REQUIRE_FALSE(t.receive("NOOP\r\n"));
  REQUIRE(std::holds_alternative<server_event::command>(t.next_event()));
  CHECK(t.send(250, "bad\r\ntext") == errc::control_character);  // write_reply refuses; still owed
  CHECK(t.send(354, "not to NOOP") == errc::invalid_state);        // would switch to DATA
  CHECK(t.send(334, "not to NOOP") == errc::invalid_state);
  CHECK_FALSE(t.send(250, "ok"));
  // The receive buffer is bounded.
  server_options o;
  o.receive_buffer = 16;
  server u(o);
  CHECK(u.receive_capacity() == 16);
  CHECK(u.receive(std::string(17, 'a')) == errc::receive_buffer_full);  // N+1: nothing copied
  CHECK(u.buffered_bytes() == 0);
  CHECK_FALSE(u.receive(std::string(16, 'a')));  // N
  CHECK(u.receive_capacity() == 0);
  CHECK_FALSE(u.wants_read());
  CHECK(u.receive("a") == errc::receive_buffer_full);
  // 0 = no limit: a DATA message four times the default buffer, in one call.
  o.receive_buffer = 0;
  server big(o);
  CHECK(big.receive_capacity() == std::numeric_limits<std::size_t>::max());
  REQUIRE_FALSE(big.receive(std::string(256 * 1024, 'a')));
  CHECK(big.buffered_bytes() == 256 * 1024);
}

TEST_CASE("server: output above the high-water mark stops reading, timeouts close with 421") {
  server_options o;
  o.output_high_water = 10;
  server s(o);
  REQUIRE_FALSE(s.send(220, "a greeting longer than ten octets"));
  CHECK_FALSE(s.wants_read());
  {  // 0 = no limit
    server_options none;
    none.output_high_water = 0;
    server n(none);
    REQUIRE_FALSE(n.send(220, std::string(200, 'x')));
    CHECK(n.wants_read());
  }
  s.consume_output(s.pending_output().size());
  CHECK(s.wants_read());
  CHECK(s.timeout() == std::chrono::seconds{300});
  s.on_timeout();
  CHECK(s.closed());
  const std::string out(s.pending_output().data(), s.pending_output().size());
  CHECK(out.rfind("421 4.4.2 localhost", 0) == 0);
  CHECK(s.timeout() == std::chrono::seconds{0});
  CHECK(s.receive("NOOP\r\n") == errc::session_closed);
}

TEST_CASE("server: shutdown() answers with 421 4.3.2 after the pending output, whatever is owed, and closes (RFC 5321 3.8)") {
  for (const bool greeted : {false, true}) {
    server_options o;
    o.hostname = "mx.example";
    server s(o);
    std::string expected;
    if (greeted) {
      REQUIRE_FALSE(s.send(220, "mx.example ESMTP"));
      REQUIRE_FALSE(s.receive("EHLO c.example\r\nMAIL FROM:<a@example.org>\r\n"));
      for (;;) {  // EHLO answered, MAIL left owed
        const auto e = s.next_event();
        const auto* c = std::get_if<server_event::command>(&e);
        if (!c) break;
        if (!std::holds_alternative<cmd::ehlo>(c->value)) break;
        REQUIRE_FALSE(s.send_ehlo_reply());
      }
      expected.assign(s.pending_output().data(), s.pending_output().size());
    }
    s.shutdown();
    CHECK(s.closed());
    const std::string out(s.pending_output().data(), s.pending_output().size());
    CHECK(out == expected + "421 4.3.2 mx.example Service shutting down, closing the channel\r\n");
    s.shutdown();  // once only
    s.on_timeout();
    CHECK(std::string(s.pending_output().data(), s.pending_output().size()) == out);
    CHECK(s.receive("NOOP\r\n") == errc::session_closed);
    CHECK(s.send(250, "too late") == errc::session_closed);
  }
}

TEST_CASE("server: the end of the connection is reported, inside a message or not") {
  CHECK(run_every_way(hello + envelope + "DATA\r\nunfinished").log.find("closed unfinished") != std::string::npos);
  CHECK(run_every_way("NOO").log == "closed unfinished\n");
  CHECK(run_every_way("NOOP\r\n").log == "cmd NOOP -\nclosed\n");
}

TEST_CASE("AUTH helpers: base64 and PLAIN (RFC 4648, RFC 4616)") {
  CHECK(decode_base64("") == std::string());
  CHECK(decode_base64("Zm9vYmFy") == std::string("foobar"));
  CHECK(decode_base64("Zm9vYg==") == std::string("foob"));
  CHECK(decode_base64("Zm9vYmE=") == std::string("fooba"));
  CHECK_FALSE(decode_base64("Zm9vYh=="));  // pad bits set: not canonical
  CHECK_FALSE(decode_base64("Zm9"));
  CHECK_FALSE(decode_base64("Zm9v!mFy"));
  CHECK_FALSE(decode_base64("Zg=a"));
  for (const std::string& s : {std::string(), std::string("a"), std::string("ab"), std::string("abc"), std::string("\0\xff\x10", 3)})
    CHECK(decode_base64(encode_base64(s)) == s);
  const auto c = decode_auth_plain(encode_base64(std::string("\0bob\0secret", 11)));
  REQUIRE(c);
  CHECK(c->authorization_id.empty());
  CHECK(c->user == "bob");
  CHECK(c->password == "secret");
  CHECK_FALSE(decode_auth_plain(encode_base64(std::string("bob\0secret", 10))));
  CHECK_FALSE(decode_auth_plain(encode_base64(std::string("\0\0secret", 8))));
}

TEST_CASE("server: every cell of the transition table, against RFC 5321 4.1.4, RFC 3030, 3207, 4954") {
  // How to reach each phase (EHLO answered 250, MAIL 250, RCPT 250, BDAT chunk 250).
  const std::vector<std::pair<std::string, std::string>> phases = {
      {"no_hello", ""},
      {"hello", hello},
      {"mail", hello + "MAIL FROM:<a@example.org>\r\n"},
      {"rcpt", hello + envelope},
      {"bdat", hello + envelope + "BDAT 2\r\nab"},
  };
  // One command of each class, and whether each phase takes it (written from
  // the RFCs, not from the table): '.' accepted, 'x' 503 bad sequence.
  struct row {
    std::string command;
    std::string expected;  // per phase, in the order above
  };
  const row rows[] = {
      {"EHLO again.example\r\n", "....."},        // any time; resets (4.1.4)
      {"MAIL FROM:<c@example.org>\r\n", "x.xxx"},  // after hello, outside a transaction
      {"RCPT TO:<d@example.net>\r\n", "xx..x"},    // after MAIL; not after BDAT chunks
      {"DATA\r\n", "xxx.x"},                       // after RCPT; not after BDAT (RFC 3030 2)
      {"BDAT 1 LAST\r\nz", "xxx.."},               // after RCPT or BDAT chunks
      {"STARTTLS\r\n", "..xxx"},                   // outside a transaction (RFC 3207 4)
      {"AUTH PLAIN\r\n", "x.xxx"},                 // after EHLO, outside a transaction (RFC 4954 4)
      {"RSET\r\n", "....."},
      {"NOOP\r\n", "....."},
      {"VRFY postmaster\r\n", "....."},
      {"HELP\r\n", "....."},
      {"QUIT\r\n", "....."},
  };
  server_options o;
  o.chunking = o.starttls = true;
  o.auth_mechanisms = {"PLAIN"};
  o.allow_auth_without_tls = true;
  for (const auto& r : rows) {
    for (std::size_t p = 0; p < phases.size(); ++p) {
      INFO(phases[p].first << " then " << test::shown(r.command));
      const auto prefix = run_session(phases[p].second, {}, o, {}, false);
      const auto both = run_session(phases[p].second + r.command, {}, o, {}, false);
      const auto last = reply_codes(both.output).substr(reply_codes(prefix.output).size() + 1, 3);
      CHECK((last == "503" ? 'x' : '.') == r.expected[p]);
    }
  }
}

namespace {

// A session where the first reply `target` asks for is owed: the greeting
// (unless `greet` is false) and everything in `before` were answered as an
// accept-all server answers (the events' suggestions). Input goes in whole,
// or an octet at a time.
std::unique_ptr<server> owing(const std::string& before, const std::string& target, const server_options& o,
                              bool greet, bool by_byte) {
  auto s = std::make_unique<server>(o);
  const auto feed = [&](const std::string& bytes) {
    if (!by_byte) {
      REQUIRE_FALSE(s->receive(bytes));
      return;
    }
    for (const char c : bytes) REQUIRE_FALSE(s->receive(std::string_view(&c, 1)));
  };
  if (greet) REQUIRE_FALSE(s->send(220, "mx.example"));
  feed(before);
  for (int turns = 0; turns < 20; ++turns) {
    const auto e = s->next_event();
    if (std::holds_alternative<server_event::need_data>(e) || std::holds_alternative<server_event::paused>(e)) break;
    if (const auto* r = suggested_reply(e)) REQUIRE_FALSE(s->send(*r));
  }
  feed(target);
  for (int turns = 0; greet && turns < 10; ++turns) {
    const auto e = s->next_event();
    REQUIRE_FALSE(std::holds_alternative<server_event::need_data>(e));
    if (suggested_reply(e) || std::holds_alternative<server_event::paused>(e)) break;
  }
  return s;
}

}  // namespace

TEST_CASE("server: every cell of the reply table, and state() after it (RFC 5321 3.1, 4.3.2, RFC 3207, 4954, 3030)") {
  // Written from the RFCs, not from the table: which code may answer what is
  // owed, and where the session stands after it ('-': send() refuses the code).
  const std::vector<int> codes = {220, 221, 235, 250, 251, 252, 334, 354, 421, 450, 501, 554};
  struct row {
    std::string name, before, target;
    std::vector<std::string> after;  // per code above
  };
  const std::string mail = "MAIL FROM:<a@example.org>\r\n";
  using v = std::vector<std::string>;
  const std::string c = "closed", ah = "awaiting_hello", i = "idle", n = "-";
  const row rows[] = {
      // §3.1: 220, or 554 (then only QUIT); 421 closes.
      {"greeting", "", "", v{ah, n, n, n, n, n, n, n, c, n, n, ah}},
      // §4.3.2: EHLO/HELO S: 250; E: 504, 550, 502.
      {"hello", "", hello, v{n, n, n, i, n, n, n, n, c, ah, ah, ah}},
      {"mail", hello, mail, v{n, n, n, "mail", n, n, n, n, c, i, i, i}},  // S: 250
      {"rcpt", hello + mail, "RCPT TO:<b@example.net>\r\n",
       v{n, n, n, "rcpt", "rcpt", n, n, n, c, "mail", "mail", "mail"}},  // S: 250, 251
      {"data", hello + envelope, "DATA\r\n", v{n, n, n, n, n, n, n, "data", c, "rcpt", "rcpt", "rcpt"}},  // I: 354
      {"message", hello + envelope + "DATA\r\n", "x\r\n.\r\n", v{n, n, n, i, n, n, n, n, c, i, i, i}},  // S: 250
      // RFC 3030 2: a chunk's reply is 250; after a failure the state is the client's to RSET.
      {"chunk", hello + envelope, "BDAT 2\r\nab", v{n, n, n, "bdat", n, n, n, n, c, "bdat", "bdat", "bdat"}},
      // RFC 4954 4: 235, or 334 and a response line; a failure ends the exchange.
      {"auth", hello, "AUTH PLAIN\r\n", v{n, n, i, n, n, n, "auth", n, c, i, i, i}},
      // RFC 3207 4: 220, then the handshake; a refusal leaves the session as it was.
      {"starttls", hello, "STARTTLS\r\n", v{"tls_handshake", n, n, n, n, n, n, n, c, i, i, i}},
      {"rset", hello + mail, "RSET\r\n", v{n, n, n, i, n, n, n, n, c, "mail", "mail", "mail"}},  // S: 250
      {"quit", hello, "QUIT\r\n", v{n, c, n, n, n, n, n, n, c, i, i, i}},                        // S: 221
      // VRFY S: 250, 251, 252 (HELP 211/214, NOOP 250): any 2xx; no 3xx.
      {"vrfy", hello, "VRFY postmaster\r\n", v{i, i, i, i, i, i, n, n, c, i, i, i}},
  };
  server_options o;
  o.chunking = o.starttls = true;
  o.auth_mechanisms = {"PLAIN"};
  o.allow_auth_without_tls = true;
  for (const auto& r : rows) {
    for (std::size_t k = 0; k < codes.size(); ++k) {
      for (const bool by_byte : {false, true}) {
        INFO(r.name << " answered " << codes[k] << (by_byte ? " (input octet by octet)" : ""));
        auto s = owing(r.before, r.target, o, r.name != "greeting", by_byte);
        const auto refused = s->send(codes[k], "x");
        CHECK((refused ? std::string("-") : std::string(server_state_name(s->state()))) == r.after[k]);
        if (refused) CHECK(refused == errc::invalid_state);
      }
    }
  }
}

TEST_CASE("server: state() names where the session stands, from greeting to closed") {
  server_options o;
  o.chunking = true;
  // Feeds `input`, answers every event with its suggestion, and lists
  // state() after each event, until the session wants bytes or pauses.
  const auto states_after = [](server& s, std::string_view input) {
    std::vector<std::string> seen;
    REQUIRE_FALSE(s.receive(input));
    for (int turns = 0; turns < 20; ++turns) {
      const auto e = s.next_event();
      if (std::holds_alternative<server_event::need_data>(e) || std::holds_alternative<server_event::paused>(e)) break;
      if (const auto* r = suggested_reply(e)) REQUIRE_FALSE(s.send(*r));
      seen.emplace_back(server_state_name(s.state()));
    }
    return seen;
  };
  server s(o);
  CHECK(server_state_name(s.state()) == "greeting");
  REQUIRE_FALSE(s.send(220, "mx"));
  CHECK(server_state_name(s.state()) == "awaiting_hello");
  CHECK(states_after(s, hello + envelope + "DATA\r\nx") == std::vector<std::string>{"idle", "mail", "rcpt", "data", "data"});
  // message_data, message_end (250: the transaction is over), RSET, QUIT.
  CHECK(states_after(s, "\r\n.\r\nRSET\r\nQUIT\r\n") == std::vector<std::string>{"data", "idle", "idle", "closed"});
  CHECK(server_state_name(server_state::tls_handshake) == "tls_handshake");
  // BDAT: the chunk's octets are read in `chunk`, then `bdat` until LAST.
  server b(o);
  REQUIRE_FALSE(b.send(220, "mx"));
  CHECK(states_after(b, hello + envelope + "BDAT 4\r\nab") ==
        std::vector<std::string>{"idle", "mail", "rcpt", "chunk", "chunk"});
  CHECK(states_after(b, "cd") == std::vector<std::string>{"chunk", "bdat"});
}

TEST_CASE("server: AUTH response line limit: N accepted, N+1 refused (RFC 4954 4)") {
  server_options o;
  o.auth_mechanisms = {"LOGIN"};
  o.allow_auth_without_tls = true;
  o.max_auth_line_length = 100;
  CHECK(reply_codes(run_every_way(hello + "AUTH LOGIN\r\n" + std::string(96, 'A') + "\r\nNOOP\r\n", o).output) ==
        "220 250 334 235 250");  // 98 octets with CRLF (base64 comes in quanta of 4)
  CHECK(reply_codes(run_every_way(hello + "AUTH LOGIN\r\n" + std::string(100, 'A') + "\r\nNOOP\r\n", o).output) ==
        "220 250 334 500 250");  // 102
  o.max_auth_line_length = 98;
  CHECK(reply_codes(run_every_way(hello + "AUTH LOGIN\r\n" + std::string(96, 'A') + "\r\n", o).output) ==
        "220 250 334 235");
  o.max_auth_line_length = 97;
  CHECK(reply_codes(run_every_way(hello + "AUTH LOGIN\r\n" + std::string(96, 'A') + "\r\n", o).output) ==
        "220 250 334 500");
}

TEST_CASE("server: a pipelined command is judged against the state its predecessors' replies left") {
  // RFC 2920 3.1: RSET, MAIL, RCPT may follow each other in one group. The
  // application answers only when the session pauses: MAIL after RSET, and
  // MAIL after the end of a message, must not be seen before those replies.
  server s;
  REQUIRE_FALSE(s.send(220, "mx"));
  REQUIRE_FALSE(s.receive(hello + envelope + "DATA\r\nx\r\n.\r\nMAIL FROM:<c@example.org>\r\nRSET\r\nMAIL FROM:<d@example.org>\r\n"));
  std::vector<std::string> seen;
  for (int turns = 0; turns < 20; ++turns) {
    auto e = s.next_event();
    if (std::holds_alternative<server_event::need_data>(e)) break;
    if (std::holds_alternative<server_event::paused>(e)) {
      // Answer the oldest owed reply now: 354 to DATA, 250 otherwise.
      const auto last = seen.empty() ? std::string() : seen.back();
      CHECK_FALSE(last.empty());
      REQUIRE_FALSE((last == "DATA" ? s.send(354, "go") : last == "EHLO" ? s.send_ehlo_reply() : s.send(250, "ok")));
      seen.push_back("(replied)");
      continue;
    }
    if (const auto* c = std::get_if<server_event::command>(&e)) seen.emplace_back(verb_name(c->value));
    if (std::holds_alternative<server_event::message_data>(e)) seen.emplace_back("data");
    if (std::holds_alternative<server_event::message_end>(e)) seen.emplace_back("end");
    if (std::holds_alternative<server_event::bad_command>(e)) seen.emplace_back("BAD");
  }
  const std::vector<std::string> expected = {
      "EHLO", "(replied)", "MAIL", "(replied)", "RCPT", "(replied)", "DATA", "(replied)", "data", "end",
      "(replied)", "MAIL", "(replied)", "RSET", "(replied)", "MAIL", "(replied)"};
  CHECK(seen == expected);
}

// --- hardening (issue 22) ---------------------------------------------------------------

TEST_CASE("server: EHLO, HELO and RSET abandon a transaction with transaction_reset, BDAT chunks included (RFC 5321 4.1.4)") {
  const auto o = chunking();
  for (const std::string reset : {"EHLO client.example\r\n", "HELO client.example\r\n", "RSET\r\n"}) {
    INFO(reset);
    // A chunk of an abandoned transaction must not reach the next message.
    const auto r = run_every_way(hello + envelope + "BDAT 19\r\nfirst transaction\r\n" + reset + envelope +
                                     "BDAT 7 LAST\r\nsecond\nQUIT\r\n",
                                 o);
    const std::string why = reset[0] == 'R' ? "rset" : "hello";
    CHECK(r.log.find("chunk 19\ncmd " + reset.substr(0, 4)) != std::string::npos);
    CHECK(r.log.find("\nreset " + why + "\ncmd MAIL <a@example.org> {}\n") != std::string::npos);
    CHECK(r.log.find("end size=7 bare_lf@6 [second\\n]") != std::string::npos);
    CHECK(std::count(r.log.begin(), r.log.end(), '\n') == 12);  // one reset, no other event
    INFO(r.log);
    CHECK(r.log.find("reset") == r.log.rfind("reset"));
  }
  // DATA never started: MAIL and RCPT only.
  auto r = run_every_way(hello + envelope + "RSET\r\n" + envelope + "DATA\r\nx\r\n.\r\nQUIT\r\n");
  CHECK(r.log.find("cmd RSET\nreset rset\ncmd MAIL") != std::string::npos);
  CHECK(r.messages == std::vector<std::string>{"x\r\n"});
  // No transaction: nothing to reset, no event.
  r = run_every_way(hello + "RSET\r\nEHLO again.example\r\nNOOP\r\n");
  CHECK(r.log.find("reset") == std::string::npos);
  // After a message ended the transaction is over: EHLO resets nothing more.
  r = run_every_way(hello + envelope + "DATA\r\nx\r\n.\r\nEHLO again.example\r\n");
  CHECK(r.log.find("reset") == std::string::npos);
  // A refused EHLO resets nothing (RFC 5321 4.1.4: the state stays).
  responder refuse_ehlo;
  int hellos = 0;
  refuse_ehlo.on_command = [&](server& s, const server_event::command& c) {
    if (!std::holds_alternative<cmd::ehlo>(c.value) || hellos++ == 0) return false;
    REQUIRE_FALSE(s.send(550, "5.7.1 no"));
    return true;
  };
  r = run_session(hello + envelope + "EHLO again.example\r\nDATA\r\nx\r\n.\r\n", {}, {}, refuse_ehlo);
  CHECK(r.log.find("reset") == std::string::npos);
  CHECK(r.messages == std::vector<std::string>{"x\r\n"});
}

TEST_CASE("server: transaction_reset after TLS abandons nothing that was not there (RFC 3207 4.2)") {
  server_options o;
  o.starttls = true;
  server s(o);
  REQUIRE_FALSE(s.send(220, "mx"));
  REQUIRE_FALSE(s.receive(hello + "STARTTLS\r\n"));
  REQUIRE(std::holds_alternative<server_event::command>(s.next_event()));
  REQUIRE_FALSE(s.send_ehlo_reply());
  REQUIRE(std::holds_alternative<server_event::command>(s.next_event()));
  REQUIRE_FALSE(s.send(220, "go"));
  REQUIRE_FALSE(s.tls_established());
  CHECK(std::holds_alternative<server_event::need_data>(s.next_event()));  // STARTTLS needs no transaction
}

TEST_CASE("server: 452 for too many recipients is flow control and only the overshoot past its budget counts as an error") {
  server_options o;
  o.max_recipients = 2;
  o.max_recipient_overshoot = 3;
  o.max_bad_commands = 1;
  std::string in = hello + "MAIL FROM:<a@example.org>\r\n";
  for (int i = 0; i < 7; ++i) in += "RCPT TO:<r" + std::to_string(i) + "@example.net>\r\n";
  // 2 accepted; 3 more are 452 without counting (N); the 4th over counts as
  // the one bad command allowed (N+1), still 452; the 5th over is 421.
  auto r = run_every_way(in, o);
  CHECK(reply_codes(r.output) == "220 250 250 250 250 452 452 452 452 421");
  CHECK(r.closed);
  // The budget is per transaction.
  std::string two = hello;
  for (int t = 0; t < 2; ++t) {
    two += "MAIL FROM:<a@example.org>\r\n";
    for (int i = 0; i < 5; ++i) two += "RCPT TO:<r" + std::to_string(i) + "@example.net>\r\n";
    two += "RSET\r\n";
  }
  o.max_bad_commands = 1;
  r = run_every_way(two, o);
  CHECK(reply_codes(r.output) == "220 250 250 250 250 452 452 452 250 250 250 250 452 452 452 250");
  // The defaults: a message to 121 recipients reaches the first 100, and the
  // session goes on (Postfix tolerates 1000 excess recipients).
  std::string many = hello + "MAIL FROM:<a@example.org>\r\n";
  for (int i = 0; i < 121; ++i) many += "RCPT TO:<r" + std::to_string(i) + "@example.net>\r\n";
  many += "DATA\r\nx\r\n.\r\nQUIT\r\n";
  r = run_session(many, {});
  CHECK(r.messages == std::vector<std::string>{"x\r\n"});
  const auto codes = reply_codes(r.output);
  CHECK(std::count(codes.begin(), codes.end(), '4') >= 21);
  CHECK(codes.ends_with("452 354 250 221"));
  // 0: no overshoot is ever counted.
  o.max_recipient_overshoot = 0;
  r = run_every_way(in, o);
  CHECK(reply_codes(r.output) == "220 250 250 250 250 452 452 452 452 452");
}

TEST_CASE("server: BDAT text has the DATA line limit, at the same offset and BINARYMIME has none (RFC 5321 4.5.3.1.6, RFC 3030 3)") {
  for (const std::size_t length : {std::size_t{1000}, std::size_t{1001}}) {
    INFO(length);
    const std::string line = std::string(length - 2, 'a') + "\r\n";
    const std::string message = "x\r\n" + line + "y\r\n";
    auto o = chunking();
    // Through DATA.
    const auto d = run_session(hello + envelope + "DATA\r\n" + message + ".\r\nQUIT\r\n", {}, o);
    // Through BDAT, in one chunk and cut inside the long line.
    const auto b = run_session(hello + envelope + "BDAT " + std::to_string(message.size()) + " LAST\r\n" + message + "QUIT\r\n", {}, o);
    const auto cut = "BDAT 500\r\n" + message.substr(0, 500) + "BDAT " + std::to_string(message.size() - 500) +
                     " LAST\r\n" + message.substr(500) + "QUIT\r\n";
    const auto c = run_session(hello + envelope + cut, {}, o);
    if (length == 1000) {
      CHECK(d.messages.size() == 1);
      CHECK(b.messages.size() == 1);
      CHECK(c.messages.size() == 1);
    } else {
      CHECK(d.log.find("line_too_long@1003") != std::string::npos);
      CHECK(b.log.find("line_too_long@1003") != std::string::npos);
      CHECK(c.log.find("line_too_long@1003") != std::string::npos);
      CHECK(reply_codes(d.output).ends_with("550 221"));
      CHECK(reply_codes(b.output).ends_with("550 221"));
    }
    // BINARYMIME: no lines at all.
    o.binarymime = true;
    const auto m = run_session(hello + "MAIL FROM:<a@example.org> BODY=BINARYMIME\r\nRCPT TO:<b@example.net>\r\nBDAT " +
                                   std::to_string(message.size()) + " LAST\r\n" + message,
                               {}, o);
    CHECK(m.messages.size() == 1);
    // 0 turns the limit off for both.
    o.binarymime = false;
    o.data.max_line_length = 0;
    CHECK(run_session(hello + envelope + "BDAT " + std::to_string(message.size()) + " LAST\r\n" + message, {}, o)
              .messages.size() == 1);
  }
  // Every split of a BDAT message with a long line gives the same log.
  auto o = chunking();
  o.data.max_line_length = 8;
  const auto r = run_every_way(hello + envelope + "BDAT 21 LAST\r\n123456\r\n1234567\r\nab\r\n", o);
  CHECK(r.log.find("line_too_long@16") != std::string::npos);
}

TEST_CASE("server: timeout_epoch() moves when a command is taken or answered, not while its octets drip in") {
  server s;
  REQUIRE_FALSE(s.send(220, "mx"));
  const auto start = s.timeout_epoch();
  for (const char octet : std::string_view("NOOP\r")) {
    REQUIRE_FALSE(s.receive(std::string_view(&octet, 1)));
    CHECK(std::holds_alternative<server_event::need_data>(s.next_event()));
    CHECK(s.timeout_epoch() == start);  // RFC 5321 4.5.3.2.7: the command as a whole
  }
  REQUIRE_FALSE(s.receive("\n"));
  REQUIRE(std::holds_alternative<server_event::command>(s.next_event()));
  const auto taken = s.timeout_epoch();
  CHECK(taken != start);
  REQUIRE_FALSE(s.send(250, "ok"));
  CHECK(s.timeout_epoch() != taken);
}

namespace {

// The accept-all server of the README: every event that needs an answer is
// answered with what it suggests. The client's bytes come in `pieces`.
struct accept_all_run {
  std::string wire;     // what the server wrote
  std::string message;                     // the message being received
  std::vector<std::string> messages;       // those that ended, as the application kept them
  std::vector<std::string> suggested_for;  // "command:MAIL 250", "chunk_end 250", ...
};

accept_all_run accept_all(const server_options& o, const std::vector<std::string_view>& pieces) {
  accept_all_run r;
  server s(o);
  REQUIRE_FALSE(s.send(220, "mx.example ESMTP"));
  const auto name = [](const server_event_t& e) -> std::string {
    if (const auto* c = std::get_if<server_event::command>(&e)) return "command:" + std::string(c->line.substr(0, 4));
    static const char* const names[] = {"need_data", "paused", "command", "bad_command", "message_data", "chunk_end",
                                        "message_end", "auth_response", "peer_closed", "fatal_error", "transaction_reset"};
    return names[e.index()];
  };
  const auto drain = [&] {
    for (;;) {
      const auto event = s.next_event();
      if (const auto* d = std::get_if<server_event::message_data>(&event)) {
        r.message.append(d->bytes.data(), d->bytes.size());
      } else if (std::holds_alternative<server_event::transaction_reset>(event)) {
        r.message.clear();
      } else if (const auto* answer = suggested_reply(event)) {
        if (std::holds_alternative<server_event::message_end>(event)) r.messages.push_back(std::exchange(r.message, {}));
        r.suggested_for.push_back(name(event) + " " + std::to_string(answer->code));
        REQUIRE_FALSE(s.send(*answer));
      } else {
        if (const auto* c = std::get_if<server_event::command>(&event)) {
          // Only BDAT needs no answer now: its chunk_end or message_end does.
          CHECK(std::holds_alternative<cmd::bdat>(c->value));
          CHECK(c->suggested.code == 0);
          r.suggested_for.push_back(name(event) + " none");
          continue;
        }
        return;
      }
    }
  };
  for (const auto piece : pieces) {
    REQUIRE_FALSE(s.receive(piece));
    drain();
    const auto out = s.pending_output();
    r.wire.append(out.data(), out.size());
    s.consume_output(out.size());
  }
  return r;
}

}  // namespace

TEST_CASE("server: sending every event's suggested reply is a complete accept-all server, whatever the split") {
  server_options o;
  o.hostname = "mx.example";
  o.chunking = true;
  const std::string client =
      "EHLO c.example\r\nNOOP\r\nVRFY bob\r\nEXPN list\r\nHELP\r\nMAIL FROM:<a@example.org>\r\n"
      "RCPT TO:<b@example.net>\r\nDATA\r\nSubject: one\r\n\r\n..dot\r\n.\r\nRSET\r\n"
      "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5\r\nhello"
      "BDAT 8 LAST\r\n world\r\n"
      "FROB\r\nQUIT\r\n";
  const std::string expected_wire =
      "220 mx.example ESMTP\r\n"
      "250-mx.example\r\n250-PIPELINING\r\n250-SIZE\r\n250-8BITMIME\r\n250-CHUNKING\r\n250 ENHANCEDSTATUSCODES\r\n"
      "250 2.0.0 Ok\r\n"
      "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"
      "502 5.5.1 EXPN not implemented\r\n"
      "214 2.0.0 See RFC 5321 (commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY)\r\n"
      "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued\r\n"
      "250 2.0.0 Ok\r\n"
      "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: chunk received\r\n250 2.0.0 Ok: queued\r\n"
      "500 5.5.2 Command unrecognized\r\n"
      "221 2.0.0 mx.example Service closing transmission channel\r\n";
  const std::vector<std::string> expected_suggestions = {
      "command:EHLO 250", "command:NOOP 250", "command:VRFY 252", "command:EXPN 502", "command:HELP 214",
      "command:MAIL 250", "command:RCPT 250", "command:DATA 354", "message_end 250",  "command:RSET 250",
      "command:MAIL 250", "command:RCPT 250", "command:BDAT none", "chunk_end 250",  "command:BDAT none",
      "message_end 250",  "bad_command 500", "command:QUIT 221"};
  const auto whole = accept_all(o, {client});
  CHECK(whole.wire == expected_wire);
  CHECK(whole.suggested_for == expected_suggestions);
  CHECK(whole.messages == std::vector<std::string>{"Subject: one\r\n\r\n.dot\r\n", "hello world\r\n"});
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < client.size(); ++i) bytes.push_back(std::string_view(client).substr(i, 1));
  const auto one_by_one = accept_all(o, bytes);
  CHECK(one_by_one.wire == expected_wire);
  CHECK(one_by_one.suggested_for == expected_suggestions);
  CHECK(one_by_one.messages == whole.messages);
  for (std::size_t cut = 1; cut < client.size(); ++cut) {
    INFO("split at " << cut);
    const auto split = accept_all(o, {std::string_view(client).substr(0, cut), std::string_view(client).substr(cut)});
    CHECK(split.wire == expected_wire);
    CHECK(split.suggested_for == expected_suggestions);
    CHECK(split.messages == whole.messages);
  }
}

TEST_CASE("server: suggested replies of the other events (HELO, LHLO, STARTTLS, AUTH, a refused message) and none where no answer is owed") {
  {
    server_options o;
    o.hostname = "mx.example";
    o.starttls = true;
    o.auth_mechanisms = {"PLAIN"};
    o.allow_auth_without_tls = true;
    server s(o);
    REQUIRE_FALSE(s.send(220, "hi"));
    CHECK(suggested_reply(s.next_event()) == nullptr);  // need_data
    REQUIRE_FALSE(s.receive("HELO c.example\r\n"));
    auto e = s.next_event();
    const auto* helo = suggested_reply(e);
    REQUIRE(helo);
    CHECK(helo->code == 250);
    REQUIRE(helo->lines.size() == 1);
    CHECK(helo->lines[0] == "mx.example");  // HELO: no extensions
    CHECK(suggested_reply(s.next_event()) == nullptr);  // paused: a reply is owed
    REQUIRE_FALSE(s.send(*helo));
    REQUIRE_FALSE(s.receive("EHLO c.example\r\n"));
    e = s.next_event();
    const auto* ehlo = suggested_reply(e);
    REQUIRE(ehlo);
    std::vector<std::string> lines(ehlo->lines.begin(), ehlo->lines.end());
    CHECK(std::find(lines.begin(), lines.end(), "STARTTLS") != lines.end());
    CHECK(std::find(lines.begin(), lines.end(), "AUTH PLAIN") != lines.end());
    REQUIRE_FALSE(s.send(*ehlo));
    REQUIRE_FALSE(s.receive("AUTH PLAIN\r\n"));
    e = s.next_event();
    REQUIRE(suggested_reply(e));
    CHECK(suggested_reply(e)->code == 535);  // an accept-all server knows no credentials
    REQUIRE_FALSE(s.send(334, ""));
    REQUIRE_FALSE(s.receive("dGVzdAB0ZXN0AHRlc3Q=\r\n"));
    e = s.next_event();
    REQUIRE(std::holds_alternative<server_event::auth_response>(e));
    CHECK(suggested_reply(e)->code == 535);
    CHECK(suggested_reply(e)->enhanced == enhanced_status{5, 7, 8});
    REQUIRE_FALSE(s.send(*suggested_reply(e)));
    REQUIRE_FALSE(s.receive("STARTTLS\r\n"));
    e = s.next_event();
    CHECK(suggested_reply(e)->code == 220);
    REQUIRE_FALSE(s.send(*suggested_reply(e)));
    CHECK(std::get<server_event::paused>(s.next_event()).why == server_event::paused::reason::tls_handshake);
  }
  {
    server_options o;
    o.lmtp = true;
    o.max_message_size = 4;
    server s(o);
    REQUIRE_FALSE(s.send(220, "hi"));
    REQUIRE_FALSE(s.receive("LHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"
                            "too long\r\n.\r\n"));
    for (;;) {
      const auto e = s.next_event();
      if (const auto* end = std::get_if<server_event::message_end>(&e)) {
        CHECK(end->error);
        CHECK(end->suggested.code == 552);  // over SIZE: the refusal is suggested
        CHECK(end->suggested.enhanced == enhanced_status{5, 3, 4});
        break;
      }
      if (const auto* answer = suggested_reply(e)) {
        REQUIRE_FALSE(s.send(*answer));
        continue;
      }
      REQUIRE(std::holds_alternative<server_event::message_data>(e));
    }
  }
}

namespace {

// Every view an event holds, copied out: what a lifetime test compares.
std::string views_of(const server_event_t& event) {
  std::string out = std::to_string(event.index()) + ":";
  const auto add_reply = [&](const reply& r) {
    out += " reply " + std::to_string(r.code);
    for (const auto line : r.lines) out += "|" + std::string(line);
  };
  if (const auto* c = std::get_if<server_event::command>(&event)) {
    out += std::string(c->line) + test::describe(c->value);
    add_reply(c->suggested);
  } else if (const auto* b = std::get_if<server_event::bad_command>(&event)) {
    out += std::string(b->line);
    add_reply(b->suggested);
  } else if (const auto* d = std::get_if<server_event::message_data>(&event)) {
    out.append(d->bytes.data(), d->bytes.size());
  } else if (const auto* ce = std::get_if<server_event::chunk_end>(&event)) {
    add_reply(ce->suggested);
  } else if (const auto* e = std::get_if<server_event::message_end>(&event)) {
    add_reply(e->suggested);
  } else if (const auto* a = std::get_if<server_event::auth_response>(&event)) {
    out += std::string(a->value.base64);
    add_reply(a->suggested);
  } else if (const auto* f = std::get_if<server_event::fatal_error>(&event)) {
    add_reply(f->suggested);
  }
  return out;
}

}  // namespace

TEST_CASE("server lifetime rule: an event's views outlive every call but next_event() and receive(), STARTTLS and the last reply included") {
  server_options o;
  o.hostname = "mx.example";
  o.chunking = true;
  o.starttls = true;
  o.auth_mechanisms = {"PLAIN"};
  o.allow_auth_without_tls = true;
  server s(o);
  REQUIRE_FALSE(s.send(220, "mx.example ESMTP"));
  // Pipelined as far as the protocol lets a client: the STARTTLS line and
  // QUIT come in their own reads.
  const std::vector<std::string> reads = {
      "EHLO c.example\r\nAUTH PLAIN\r\n", "dGVzdAB0ZXN0AHRlc3Q=\r\n",
      "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5\r\nhelloBDAT 3 LAST\r\nbye"
      "MAIL FROM:<a@example.org>\r\nRSET\r\nFROB\r\n",
      "STARTTLS\r\n", "EHLO c.example\r\nQUIT\r\n"};
  std::set<std::size_t> kinds;
  bool handshake_done = false;
  for (const auto& bytes : reads) {
    REQUIRE_FALSE(s.receive(bytes));
    for (;;) {
      const auto event = s.next_event();
      if (std::holds_alternative<server_event::need_data>(event)) break;
      if (const auto* p = std::get_if<server_event::paused>(&event)) {
        if (p->why != server_event::paused::reason::tls_handshake || handshake_done) break;
        handshake_done = true;
        REQUIRE_FALSE(s.tls_established());
        continue;
      }
      kinds.insert(event.index());
      const auto before = views_of(event);
      // Everything an application may do while it holds the event.
      const auto* c = std::get_if<server_event::command>(&event);
      if (c && std::holds_alternative<cmd::ehlo>(c->value)) {
        REQUIRE_FALSE(s.send_ehlo_reply("hello"));  // built apart from the suggestion the event holds
      } else if (c && std::holds_alternative<cmd::auth>(c->value)) {
        REQUIRE_FALSE(s.send(334, ""));
      } else if (std::holds_alternative<server_event::auth_response>(event)) {
        REQUIRE_FALSE(s.send(235, "2.7.0 Authentication successful"));
      } else if (const auto* answer = suggested_reply(event)) {
        REQUIRE_FALSE(s.send(*answer));
      }
      if (c && std::holds_alternative<cmd::starttls>(c->value)) {
        REQUIRE_FALSE(s.tls_established());  // the handshake, done at once: the STARTTLS line still holds
        handshake_done = true;
      }
      s.consume_output(s.pending_output().size());
      (void)s.timeout();
      CHECK(views_of(event) == before);
    }
  }
  CHECK(s.closed());  // QUIT was answered: the last event's views held past the end too
  // command, bad_command, message_data, chunk_end, message_end, auth_response, transaction_reset
  for (const std::size_t kind : {2, 3, 4, 5, 6, 7, 10}) CHECK(kinds.count(kind) == 1);
  {  // fatal_error and peer_closed
    server f(o);
    REQUIRE_FALSE(f.send(220, "hi"));
    REQUIRE_FALSE(f.receive("EHLO c.example\r\n"));
    REQUIRE_FALSE(f.send(*suggested_reply(f.next_event())));
    REQUIRE_FALSE(f.receive("STARTTLS\r\nNOOP\r\n"));  // CVE-2011-0411: commands after STARTTLS
    const auto fatal = f.next_event();
    REQUIRE(std::holds_alternative<server_event::fatal_error>(fatal));
    const auto before = views_of(fatal);
    REQUIRE_FALSE(f.send(*suggested_reply(fatal)));
    f.consume_output(f.pending_output().size());
    CHECK(views_of(fatal) == before);
  }
}

TEST_CASE("server: drain() refuses new work with 421 4.3.2 and lets a transaction under way finish (RFC 5321 3.8)") {
  // The transaction's commands, then new work after it; the input whole or
  // an octet at a time, drain() called once MAIL was answered.
  for (const bool by_byte : {false, true}) {
    INFO((by_byte ? "octet by octet" : "whole"));
    server s;
    REQUIRE_FALSE(s.send(220, "mx.example"));
    std::string codes;
    std::vector<std::string> refused;
    const auto run = [&](const std::string& bytes) {
      std::size_t at = 0;
      for (;;) {
        const auto e = s.next_event();
        if (std::holds_alternative<server_event::paused>(e)) break;
        if (std::holds_alternative<server_event::need_data>(e)) {
          if (at == bytes.size()) break;
          const auto n = by_byte ? std::size_t{1} : bytes.size();
          REQUIRE_FALSE(s.receive(std::string_view(bytes).substr(at, n)));
          at += n;
          continue;
        }
        if (const auto* b = std::get_if<server_event::bad_command>(&e)) refused.push_back(std::string(b->error.name()));
        if (const auto* r = suggested_reply(e)) {
          REQUIRE_FALSE(s.send(*r));
          codes.append(std::to_string(r->code)).append(" ");
        }
      }
    };
    run(hello + "MAIL FROM:<a@example.org>\r\n");
    CHECK_FALSE(s.draining());
    s.drain();
    CHECK(s.draining());
    run("RCPT TO:<b@example.net>\r\nNOOP\r\nDATA\r\nx\r\n.\r\nRSET\r\nMAIL FROM:<c@example.org>\r\nNOOP\r\n");
    CHECK(codes == "250 250 250 250 354 250 250 421 ");
    CHECK(refused == std::vector<std::string>{"shutting_down"});
    CHECK(s.closed());
    const auto out = std::string(s.pending_output().data(), s.pending_output().size());
    CHECK(out.ends_with("250 2.0.0 Ok\r\n421 4.3.2 localhost Service shutting down, closing the channel\r\n"));
  }
}

TEST_CASE("server: while draining, every new-work verb is refused and none counts as a bad command") {
  for (const std::string command : {"EHLO c.example\r\n", "HELO c.example\r\n", "MAIL FROM:<a@example.org>\r\n",
                                    "STARTTLS\r\n", "AUTH PLAIN\r\n"}) {
    INFO(command);
    server_options o;
    o.starttls = true;
    o.auth_mechanisms = {"PLAIN"};
    o.allow_auth_without_tls = true;
    o.max_bad_commands = 1;  // one refusal more than counted below would be 421 4.7.0
    server s(o);
    REQUIRE_FALSE(s.send(220, "mx"));
    REQUIRE_FALSE(s.receive(hello));
    REQUIRE_FALSE(s.send(*suggested_reply(s.next_event())));
    REQUIRE_FALSE(s.receive("RCPT TO:<x@example.net>\r\n"));  // a counted bad command (503): one left
    REQUIRE_FALSE(s.send(*suggested_reply(s.next_event())));
    s.drain();
    REQUIRE_FALSE(s.receive(command));
    const auto e = s.next_event();
    const auto* b = std::get_if<server_event::bad_command>(&e);
    REQUIRE(b);
    CHECK(b->error.code == errc::shutting_down);
    CHECK(b->error.reply == 421);
    CHECK(b->error.enhanced == enhanced_status{4, 3, 2});
    CHECK(b->suggested.code == 421);
    REQUIRE(b->suggested.enhanced);
    CHECK(b->suggested.enhanced->subject == 3);
    REQUIRE(b->suggested.lines.size() == 1);
    CHECK(b->suggested.lines[0] == "localhost Service shutting down, closing the channel");
  }
}

TEST_CASE("server: implicit TLS (RFC 8314 3) starts with tls(), never offers STARTTLS, offers AUTH at once") {
  server_options o;
  o.implicit_tls = true;
  o.starttls = true;  // ignored: there is no STARTTLS over TLS
  o.auth_mechanisms = {"PLAIN"};
  CHECK(server(o).tls());
  const auto r = run_every_way("EHLO c.example\r\nSTARTTLS\r\nAUTH PLAIN AGJvYgBzZWNyZXQ=\r\nQUIT\r\n", o);
  CHECK(r.output.find("STARTTLS\r\n") == std::string::npos);
  CHECK(r.output.find("250 AUTH PLAIN\r\n") != std::string::npos);
  CHECK(r.log == "cmd EHLO c.example\nbad 502 not_offered [STARTTLS\\r\\n]\ncmd AUTH PLAIN [AGJvYgBzZWNyZXQ=]\ncmd QUIT\n");
  CHECK(reply_codes(r.output) == "220 250 502 235 221");
  // Without it the same session offers STARTTLS and refuses AUTH before TLS.
  o.implicit_tls = false;
  const auto plain = run_every_way("EHLO c.example\r\nQUIT\r\n", o);
  CHECK(plain.output.find("250 STARTTLS\r\n") != std::string::npos);
  CHECK(plain.output.find("AUTH") == std::string::npos);
}

TEST_CASE("server: the budget of commands that start no mail, at N and N+1") {
  server_options o;
  o.max_non_transaction_commands = 5;
  const std::string five = "EHLO c.example\r\nNOOP\r\nRSET\r\nVRFY bob\r\nHELP\r\nNOOP\r\n";
  const auto at = run_every_way(five + "QUIT\r\n", o);
  CHECK(reply_codes(at.output) == "220 250 250 250 252 214 250 221");
  const auto over = run_every_way(five + "EXPN list\r\nQUIT\r\n", o);
  CHECK(over.log.find("bad 421 too_many_commands [EXPN list\\r\\n]\n") != std::string::npos);
  CHECK(reply_codes(over.output) == "220 250 250 250 252 214 250 421");
  CHECK(over.output.find("421 4.7.0 localhost Too many commands without mail, closing\r\n") != std::string::npos);
  CHECK(over.closed);
  // Mail commands do not count; 0 is no limit.
  const auto mail = run_every_way(
      "EHLO c.example\r\nNOOP\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nNOOP\r\nNOOP\r\nNOOP\r\nRSET\r\nQUIT\r\n", o);
  CHECK(reply_codes(mail.output) == "220 250 250 250 250 250 250 250 250 221");
  o.max_non_transaction_commands = 0;
  std::string many = "EHLO c.example\r\n";
  for (int i = 0; i < 200; ++i) many += "NOOP\r\n";
  CHECK(run_every_way(many + "QUIT\r\n", o).log.find("too_many_commands") == std::string::npos);
}

namespace {

using fake_clock = std::chrono::steady_clock;
fake_clock::time_point at_second(int s) { return fake_clock::time_point(std::chrono::seconds(s)); }

// A session greeted, with `input` received and its events answered.
void feed_server(server& s, std::string_view input) {
  if (!input.empty()) REQUIRE(!s.receive(input));
  for (;;) {
    const auto e = s.next_event();
    if (std::holds_alternative<server_event::need_data>(e) || std::holds_alternative<server_event::paused>(e)) return;
    if (const auto* c = std::get_if<server_event::command>(&e)) {
      if (std::holds_alternative<cmd::ehlo>(c->value))
        REQUIRE(!s.send_ehlo_reply());
      else if (c->suggested.code)  // (BDAT is answered at its chunk's end)
        REQUIRE(!s.send(c->suggested));
    } else if (const auto* r = suggested_reply(e)) {
      REQUIRE(!s.send(*r));
    }
  }
}

std::string output_of(server& s) {
  const auto out = s.pending_output();
  return std::string(out.data(), out.size());
}

}  // namespace

TEST_CASE("server: the whole-session time limit with a fake clock, at N and N+1") {
  server_options o;
  o.max_session_time = std::chrono::seconds(60);
  server s(o);
  CHECK_FALSE(s.next_deadline());  // no time reported yet
  REQUIRE(!s.send(220, "mx ESMTP"));
  CHECK(!s.on_time(at_second(1000)));
  REQUIRE(s.next_deadline());
  CHECK(*s.next_deadline() == at_second(1060));
  feed_server(s, "EHLO c.example\r\n");
  CHECK(!s.on_time(at_second(1059)));  // N-1 s in: still open
  CHECK_FALSE(s.closed());
  CHECK(s.on_time(at_second(1060)) == make_error_code(errc::session_too_long));  // N
  CHECK(s.closed());
  CHECK(output_of(s).ends_with("421 4.4.2 localhost Session time limit reached, closing\r\n"));
  CHECK_FALSE(s.next_deadline());
  CHECK(!s.on_time(at_second(2000)));  // closed: nothing more
  // Off by default.
  server off{server_options{}};
  CHECK(!off.on_time(at_second(0)));
  CHECK(!off.on_time(at_second(100000)));
  CHECK_FALSE(off.next_deadline());
}

TEST_CASE("server: the minimum transfer rate during DATA and BDAT with a fake clock, at N and N+1") {
  server_options o;
  o.chunking = true;
  o.min_data_rate = {100, std::chrono::seconds(10)};
  const std::string open = "EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n";
  for (const bool bdat : {false, true}) {
    INFO((bdat ? "BDAT" : "DATA"));
    for (const std::size_t sent : {std::size_t{99}, std::size_t{100}}) {
      INFO(sent << " octets in the window");
      server s(o);
      REQUIRE(!s.send(220, "mx ESMTP"));
      feed_server(s, open);
      // Commands are not a transfer: no rate window.
      CHECK(!s.on_time(at_second(0)));
      CHECK_FALSE(s.next_deadline());
      feed_server(s, bdat ? "BDAT 1000 LAST\r\n" : "DATA\r\n");
      CHECK(s.state() == (bdat ? server_state::chunk : server_state::data));
      CHECK(!s.on_time(at_second(6)));  // the first report in the body starts the window
      REQUIRE(s.next_deadline());
      CHECK(*s.next_deadline() == at_second(16));
      feed_server(s, std::string(sent, 'x'));
      CHECK(!s.on_time(at_second(15)));
      const auto ec = s.on_time(at_second(16));
      if (sent == 99) {
        CHECK(ec == make_error_code(errc::transfer_too_slow));
        CHECK(s.closed());
        CHECK(output_of(s).ends_with("421 4.4.2 localhost Transfer too slow, closing\r\n"));
      } else {
        CHECK(!ec);
        CHECK_FALSE(s.closed());
        CHECK(*s.next_deadline() == at_second(26));  // the next window
        CHECK(s.on_time(at_second(26)) == make_error_code(errc::transfer_too_slow));  // nothing in it
      }
    }
  }
}

TEST_CASE("server: the rate stops while the session waits for the application") {
  server_options o;
  o.min_data_rate = {100, std::chrono::seconds(10)};
  server s(o);
  REQUIRE(!s.send(220, "mx ESMTP"));
  feed_server(s, "EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
  CHECK(!s.on_time(at_second(0)));
  REQUIRE(!s.receive(std::string(200, 'x') + "\r\n.\r\n"));
  // The message ended; its reply is owed: no rate runs.
  for (;;) {
    const auto e = s.next_event();
    if (std::holds_alternative<server_event::message_end>(e)) break;
  }
  CHECK(!s.on_time(at_second(100)));
  CHECK_FALSE(s.next_deadline());
  CHECK_FALSE(s.closed());
}
