// The server session behind a load balancer (server_options::proxy_protocol,
// HAProxy's proxy-protocol.txt): the PROXY header before the greeting, and
// a connection closed without a word when it is missing or broken. Every
// scenario runs whole, byte by byte and split at every point.
#include <sansmtp/codec/proxy_header.hpp>
#include <sansmtp/session/server.hpp>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"  // GCC PR 105329, "literal" + std::string
#endif

#include <catch2/catch.hpp>

#include "server_harness.hpp"

#include <string>

using namespace sansmtp;
using sansmtp::test::reply_codes;
using sansmtp::test::run_every_way;

namespace {

server_options behind_proxy(proxy_accept accept = proxy_accept::any) {
  server_options o;
  o.proxy_protocol = proxy_reader_options{};
  o.proxy_protocol->accept = accept;
  return o;
}

constexpr std::string_view transaction =
    "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n";

std::string v2_header(proxy_command command = proxy_command::proxy) {
  proxy_header h;
  h.version = proxy_version::v2;
  h.command = command;
  if (command == proxy_command::proxy) {
    h.family = proxy_family::inet6;
    h.transport = proxy_transport::stream;
    h.source_address = "2001:db8::5";
    h.destination_address = "2001:db8::25";
    h.source_port = 50123;
    h.destination_port = 25;
  }
  h.authority = "mx.example";
  auto wire = write_proxy_header(h);
  REQUIRE(wire);
  return *wire;
}

}  // namespace

TEST_CASE("server proxy: a v1 header, then the greeting, then SMTP as usual") {
  const std::string input = "PROXY TCP4 203.0.113.5 192.0.2.25 4242 25\r\n" + std::string(transaction);
  const auto r = run_every_way(input, behind_proxy());
  CHECK(r.log.rfind("proxy v1 203.0.113.5 4242\ncmd EHLO client.example\n", 0) == 0);
  CHECK(reply_codes(r.output) == "220 250 250 250 354 250 221");
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0] == "hi\r\n");
}

TEST_CASE("server proxy: a v2 header with its TLVs, IPv6, and SMTP in the same segment") {
  const std::string input = v2_header() + std::string(transaction);
  const auto r = run_every_way(input, behind_proxy(proxy_accept::v2));
  CHECK(r.log.rfind("proxy v2 2001:db8::5 50123\ncmd EHLO", 0) == 0);
  CHECK(reply_codes(r.output) == "220 250 250 250 354 250 221");
}

TEST_CASE("server proxy: LOCAL (a health check) and UNKNOWN carry no address") {
  CHECK(run_every_way(v2_header(proxy_command::local) + "QUIT\r\n", behind_proxy()).log == "proxy v2 local\ncmd QUIT\n");
  const auto r = run_every_way("PROXY UNKNOWN whatever follows\r\nQUIT\r\n", behind_proxy(proxy_accept::v1));
  CHECK(r.log == "proxy v1 local\ncmd QUIT\n");
  CHECK(reply_codes(r.output) == "220 221");
}

TEST_CASE("server proxy: a missing, broken or refused header closes the connection without a greeting") {
  struct bad_case {
    std::string input;
    proxy_accept accept;
    std::string fatal;
  };
  const bad_case cases[] = {
      {"EHLO client.example\r\n", proxy_accept::any, "bad_proxy_header"},  // no header: a direct client
      {"PROXY TCP4 203.0.113.5 192.0.2.25 4242 99999\r\nQUIT\r\n", proxy_accept::any, "bad_proxy_address"},
      {"PROXY TCP4 203.0.113.5  192.0.2.25 4242 25\r\nQUIT\r\n", proxy_accept::any, "bad_proxy_header"},
      {"PROXY TCP4 203.0.113.5 192.0.2.25 4242 25\nQUIT\r\n", proxy_accept::any, "bad_proxy_header"},
      {v2_header() + "QUIT\r\n", proxy_accept::v1, "proxy_version_not_allowed"},
      {"PROXY TCP4 203.0.113.5 192.0.2.25 4242 25\r\nQUIT\r\n", proxy_accept::v2, "proxy_version_not_allowed"},
      {"PROXY UNKNOWN " + std::string(100, 'x') + "\r\n", proxy_accept::any, "proxy_header_too_long"},
  };
  for (const auto& c : cases) {
    INFO(test::shown(c.input));
    const auto r = run_every_way(c.input, behind_proxy(c.accept));
    CHECK(r.log == "fatal " + c.fatal + "\n");
    CHECK(r.output.empty());  // not even a 421: no SMTP before the header
    CHECK(r.closed);
  }
}

TEST_CASE("server proxy: the peer closing before or inside the header") {
  const auto none = run_every_way("", behind_proxy());
  CHECK(none.log == "closed\n");
  CHECK(none.output.empty());
  const auto cut = run_every_way("PROXY TCP4 203.0.113.5 192.0.2", behind_proxy());
  CHECK(cut.log == "closed unfinished\n");
  CHECK(cut.output.empty());
  const auto cut2 = run_every_way(v2_header().substr(0, 20), behind_proxy());
  CHECK(cut2.log == "closed unfinished\n");
}

TEST_CASE("server proxy: the v2 size limit of the options, at N and N+1") {
  auto o = behind_proxy();
  o.proxy_protocol->max_v2_size = 232;
  proxy_header h;
  h.version = proxy_version::v2;
  h.command = proxy_command::proxy;
  h.family = proxy_family::inet;
  h.transport = proxy_transport::stream;
  h.source_address = "203.0.113.5";
  h.destination_address = "192.0.2.25";
  h.source_port = 4242;
  h.destination_port = 25;
  // 16 fixed + 12 address octets + a 3-octet TLV header: the rest is the
  // value of a custom TLV (0xE0, section 2.2.8).
  h.other_tlvs.push_back({0xE0, std::string(232 - 16 - 12 - 3, 'u')});
  const auto at_limit = write_proxy_header(h);
  REQUIRE(at_limit);
  REQUIRE(at_limit->size() == 232);
  CHECK(run_every_way(*at_limit + "QUIT\r\n", o).log == "proxy v2 203.0.113.5 4242\ncmd QUIT\n");
  h.other_tlvs[0].value += "u";
  const auto over = write_proxy_header(h);
  REQUIRE(over);
  REQUIRE(over->size() == 233);
  CHECK(run_every_way(*over + "QUIT\r\n", o).log == "fatal proxy_header_too_long\n");
}

TEST_CASE("server proxy: state, send, timeout and shutdown before the header") {
  server s(behind_proxy());
  CHECK(s.state() == server_state::proxy_header);
  CHECK(server_state_name(s.state()) == "proxy_header");
  CHECK(s.proxy() == nullptr);
  CHECK(s.send(220, "mx.example ESMTP") == make_error_code(errc::invalid_state));
  CHECK(s.pending_output().empty());
  CHECK(s.wants_read());
  CHECK(s.timeout() == std::chrono::seconds(300));

  // The header dripped in: one wait, not one per octet.
  const std::string header = "PROXY TCP6 2001:db8::5 2001:db8::25 50123 25\r\n";
  const auto epoch = s.timeout_epoch();
  for (std::size_t i = 0; i + 1 < header.size(); ++i) {
    REQUIRE(!s.receive(header.substr(i, 1)));
    REQUIRE(std::holds_alternative<server_event::need_data>(s.next_event()));
  }
  CHECK(s.timeout_epoch() == epoch);
  REQUIRE(!s.receive(header.substr(header.size() - 1)));
  const auto event = s.next_event();
  const auto* p = std::get_if<server_event::proxied>(&event);
  REQUIRE(p != nullptr);
  CHECK(p->header.source_address == "2001:db8::5");
  CHECK(p->header.destination_port == 25);
  CHECK(s.timeout_epoch() != epoch);
  CHECK(s.state() == server_state::greeting);
  REQUIRE(s.proxy() != nullptr);
  CHECK(s.proxy()->source_port == 50123);
  CHECK(!s.send(220, "mx.example ESMTP"));
  const auto out = s.pending_output();
  CHECK(reply_codes(std::string_view(out.data(), out.size())) == "220");

  for (const bool timeout : {true, false}) {
    server t(behind_proxy());
    REQUIRE(!t.receive("PROXY TCP4 203.0.113.5"));
    REQUIRE(std::holds_alternative<server_event::need_data>(t.next_event()));
    if (timeout)
      t.on_timeout();
    else
      t.shutdown();
    CHECK(t.closed());
    CHECK(t.pending_output().empty());  // no 421 before the header either
  }
}

TEST_CASE("server proxy: without the option a PROXY line is a bad command") {
  const auto r = run_every_way("PROXY TCP4 203.0.113.5 192.0.2.25 4242 25\r\nQUIT\r\n");
  CHECK(r.log.rfind("bad 500", 0) == 0);
  CHECK(reply_codes(r.output) == "220 500 221");
}
