// The extensions the server parses and can offer (REQUIRETLS, RFC 8689;
// MT-PRIORITY, RFC 6710; DELIVERBY, RFC 2852; FUTURERELEASE, RFC 4865):
// advertised from server_options, their MAIL parameters accepted only when
// offered and within what was advertised (each limit at N and N+1), handed
// to the application typed; and the client asking for each only when
// offered. Server sessions run whole, byte by byte and split at every point
// (run_every_way); client sessions likewise (run_client_every_way).
#include <sansmtp/session/client.hpp>
#include <sansmtp/session/server.hpp>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"  // GCC PR 105329, "literal" + std::string
#endif

#include <catch2/catch.hpp>

#include "client_harness.hpp"
#include "date_time.hpp"
#include "server_harness.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace sansmtp;
using sansmtp::test::reply_codes;
using sansmtp::test::responder;
using sansmtp::test::run_client_every_way;
using sansmtp::test::run_every_way;

namespace {

const std::string hello = "EHLO client.example\r\n";

std::string mail(std::string_view params) { return "MAIL FROM:<a@example.org> " + std::string(params) + "\r\n"; }

// The EHLO reply's keyword lines ("250-X" and "250 X"), without the host line.
std::vector<std::string> ehlo_keywords(std::string_view output) {
  std::vector<std::string> out;
  std::size_t start = 0;
  bool first = true;
  while (start < output.size()) {
    const auto end = output.find("\r\n", start);
    const auto line = output.substr(start, end - start);
    if (line.size() > 4 && line.substr(0, 3) == "250" && (line[3] == '-' || line[3] == ' ')) {
      if (!first) out.emplace_back(line.substr(4));
      first = false;
    }
    if (end == std::string_view::npos) break;
    start = end + 2;
  }
  return out;
}

bool offers(std::string_view output, std::string_view line) {
  const auto k = ehlo_keywords(output);
  return std::find(k.begin(), k.end(), line) != k.end();
}

// Keeps the MAIL parameters of every MAIL command event of a session, typed, as the
// application sees them (copied: the event's views end with the event).
struct kept_mail {
  bool requiretls = false;
  std::optional<int> mt_priority;
  std::optional<deliver_by> by;
  std::optional<std::uint32_t> holdfor;
  std::optional<std::string> holduntil;
};

responder keeping(std::vector<kept_mail>& kept) {
  responder app;
  app.on_command = [&kept](server&, const server_event::command& c) {
    // Each run of run_every_way starts with EHLO: keep the last run's.
    if (std::holds_alternative<cmd::ehlo>(c.value)) kept.clear();
    if (const auto* m = std::get_if<cmd::mail>(&c.value)) {
      const auto& p = m->params;
      kept.push_back({p.requiretls, p.mt_priority, p.by, p.holdfor,
                      p.holduntil ? std::optional<std::string>(std::string(*p.holduntil)) : std::nullopt});
    }
    return false;  // the default answer
  };
  return app;
}

}  // namespace

TEST_CASE("offered extensions: none of the four is offered by default, and each parameter is then 555") {
  const auto r = run_every_way(hello + "QUIT\r\n");
  for (const auto& k : ehlo_keywords(r.output)) {
    INFO(k);
    CHECK(k.find("REQUIRETLS") == std::string::npos);
    CHECK(k.find("MT-PRIORITY") == std::string::npos);
    CHECK(k.find("DELIVERBY") == std::string::npos);
    CHECK(k.find("FUTURERELEASE") == std::string::npos);
  }
  server_options tls;
  tls.implicit_tls = true;  // REQUIRETLS is still off: TLS alone does not offer it
  for (const auto* p : {"REQUIRETLS", "MT-PRIORITY=3", "BY=120;R", "HOLDFOR=60", "HOLDUNTIL=2026-12-15T00:00:00Z"}) {
    INFO(p);
    const auto plain = run_every_way(hello + mail(p));
    CHECK(reply_codes(plain.output) == "220 250 555");
    CHECK(plain.log.find("bad 555 not_offered") != std::string::npos);
    CHECK(reply_codes(run_every_way(hello + mail(p), tls).output) == "220 250 555");
  }
}

TEST_CASE("offered extensions: the EHLO lines from the options (RFC 8689 4, RFC 6710 3, RFC 2852 4, RFC 4865 3)") {
  server_options o;
  o.mt_priority = true;
  o.deliverby = 0;
  o.futurerelease = true;
  o.futurerelease_max_interval = 604800;
  o.futurerelease_max_datetime = "2026-12-15T00:00:00Z";
  o.requiretls = true;
  auto r = run_every_way(hello, o);
  CHECK(offers(r.output, "MT-PRIORITY"));
  CHECK(offers(r.output, "DELIVERBY"));
  CHECK(offers(r.output, "FUTURERELEASE 604800 2026-12-15T00:00:00Z"));
  CHECK_FALSE(offers(r.output, "REQUIRETLS"));  // not without TLS
  o.mt_priority = true;
  o.mt_priority_profile = "MIXER";
  o.deliverby = 120;
  o.implicit_tls = true;
  r = run_every_way(hello, o);
  CHECK(offers(r.output, "MT-PRIORITY MIXER"));
  CHECK(offers(r.output, "DELIVERBY 120"));
  CHECK(offers(r.output, "REQUIRETLS"));
  // What the session advertises, the capabilities reader reads back typed.
  std::vector<std::string_view> lines;
  const auto keywords = ehlo_keywords(r.output);
  lines.emplace_back("mx.example");
  for (const auto& k : keywords) lines.emplace_back(k);
  const auto caps = parse::ehlo_response(250, lines);
  CHECK(caps.findings.empty());
  CHECK(caps.has(extension::requiretls));
  CHECK(caps.mt_priority_profile == "MIXER");
  CHECK(caps.deliverby_min == 120u);
  CHECK(caps.futurerelease_max_interval == 604800u);
  CHECK(caps.futurerelease_max_datetime == "2026-12-15T00:00:00Z");
  o.mt_priority = true;
  o.mt_priority_profile = "STANAG4406";
  CHECK(offers(run_every_way(hello, o).output, "MT-PRIORITY STANAG4406"));
  o.mt_priority = true;
  o.mt_priority_profile = "NSEP";
  CHECK(offers(run_every_way(hello, o).output, "MT-PRIORITY NSEP"));
}

TEST_CASE("offered extensions: REQUIRETLS only over TLS, 530 5.7.10 in the clear, typed in the MAIL event (RFC 8689 4)") {
  server_options o;
  o.requiretls = true;
  // In the clear it is not offered, and asking is 530 5.7.10, not 555.
  auto r = run_every_way(hello + mail("REQUIRETLS") + "QUIT\r\n", o);
  CHECK(reply_codes(r.output) == "220 250 530 221");
  CHECK(r.log.find("bad 530 encryption_required [MAIL FROM:<a@example.org> REQUIRETLS\\r\\n]") != std::string::npos);
  CHECK(r.output.find("530 5.7.10 ") != std::string::npos);
  // Implicit TLS: offered, accepted, and the event says so.
  o.implicit_tls = true;
  std::vector<kept_mail> kept;
  r = run_every_way(hello + mail("REQUIRETLS") + "RCPT TO:<b@example.net>\r\nQUIT\r\n", o, keeping(kept));
  CHECK(offers(r.output, "REQUIRETLS"));
  CHECK(reply_codes(r.output) == "220 250 250 250 221");
  CHECK(r.log.find("cmd MAIL <a@example.org> {REQUIRETLS} requiretls\n") != std::string::npos);
  REQUIRE_FALSE(kept.empty());
  CHECK(kept.back().requiretls);
}

TEST_CASE("offered extensions: REQUIRETLS is offered after STARTTLS and not before (RFC 8689 4, RFC 3207 4.2)") {
  server_options o;
  o.starttls = true;
  o.requiretls = true;
  server s(o);
  const auto answer_next = [&](std::string_view in) {
    REQUIRE_FALSE(s.receive(in));
    const auto e = s.next_event();
    const auto* r = suggested_reply(e);
    REQUIRE(r);
    REQUIRE_FALSE(s.send(*r));
  };
  const auto output = [&] {
    std::string out(s.pending_output().data(), s.pending_output().size());
    s.consume_output(out.size());
    return out;
  };
  REQUIRE_FALSE(s.send(220, "mx ESMTP"));
  answer_next(hello);
  auto out = output();
  CHECK(offers(out, "STARTTLS"));
  CHECK_FALSE(offers(out, "REQUIRETLS"));
  answer_next(mail("REQUIRETLS"));
  CHECK(output().starts_with("530 5.7.10 "));
  answer_next("STARTTLS\r\n");
  REQUIRE_FALSE(s.tls_established());
  (void)output();
  answer_next(hello);
  out = output();
  CHECK(offers(out, "REQUIRETLS"));
  CHECK_FALSE(offers(out, "STARTTLS"));
  REQUIRE_FALSE(s.receive(mail("REQUIRETLS")));
  const auto e = s.next_event();
  const auto* c = std::get_if<server_event::command>(&e);
  REQUIRE(c);
  CHECK(std::get<cmd::mail>(c->value).params.requiretls);
  CHECK(c->suggested.code == 250);
}

TEST_CASE("offered extensions: MT-PRIORITY accepted only when offered, -9 and 9 typed in the event (RFC 6710 3)") {
  server_options o;
  o.mt_priority = true;
  o.mt_priority_profile = "MIXER";
  std::vector<kept_mail> kept;
  const auto r = run_every_way(hello + mail("MT-PRIORITY=-9") + "RSET\r\n" + mail("MT-PRIORITY=9") + "RSET\r\n" +
                                   mail("MT-PRIORITY=+3") + "RSET\r\n" + mail("MT-PRIORITY=10") + "QUIT\r\n",
                               o, keeping(kept));
  CHECK(reply_codes(r.output) == "220 250 250 250 250 250 250 250 501 221");  // 10: the parser's range
  REQUIRE(kept.size() == 3);
  CHECK(kept[0].mt_priority == -9);
  CHECK(kept[1].mt_priority == 9);
  CHECK(kept[2].mt_priority == 3);
  CHECK_FALSE(kept[0].by);
}

TEST_CASE("offered extensions: DELIVERBY's min-by-time, N and N-1 with by-mode R, N never refused (RFC 2852 4)") {
  server_options o;
  o.deliverby = 120;
  std::vector<kept_mail> kept;
  auto r = run_every_way(hello + mail("BY=120;R") + "RSET\r\n" + mail("BY=119;R") + mail("BY=119;RT") +
                             mail("BY=1;N") + "RSET\r\n" + mail("BY=-5;NT") + "QUIT\r\n",
                         o, keeping(kept));
  CHECK(reply_codes(r.output) == "220 250 250 250 501 501 250 250 250 221");
  CHECK(r.log.find("bad 501 value_out_of_range [MAIL FROM:<a@example.org> BY=119;R\\r\\n]") != std::string::npos);
  CHECK(r.output.find("501 5.5.4 BY time below") != std::string::npos);
  REQUIRE(kept.size() == 3);
  CHECK(kept[0].by == deliver_by{120, 'R', false});
  CHECK(kept[1].by == deliver_by{1, 'N', false});
  CHECK(kept[2].by == deliver_by{-5, 'N', true});
  // No minimum advertised (DELIVERBY alone): any positive by-time with R.
  o.deliverby = 0;
  r = run_every_way(hello + mail("BY=1;R"), o);
  CHECK(reply_codes(r.output) == "220 250 250");
  CHECK(offers(r.output, "DELIVERBY"));
}

TEST_CASE("offered extensions: FUTURERELEASE max interval and max date-time at N and N+1 (RFC 4865 3)") {
  server_options o;
  o.futurerelease = true;
  o.futurerelease_max_interval = 604800;
  o.futurerelease_max_datetime = "2026-12-15T00:00:00Z";
  std::vector<kept_mail> kept;
  auto r = run_every_way(hello + mail("HOLDFOR=604800") + "RSET\r\n" + mail("HOLDFOR=604801") +
                             mail("HOLDUNTIL=2026-12-15T00:00:00Z") + "RSET\r\n" +
                             mail("HOLDUNTIL=2026-12-15T00:00:01Z") + mail("HOLDUNTIL=2026-12-15T00:00:00.001Z") +
                             mail("HOLDUNTIL=2026-12-15T01:00:00+01:00") + "RSET\r\n" +  // the same instant
                             mail("HOLDUNTIL=2026-12-14T23:59:59-00:01") +               // 00:00:59Z
                             mail("HOLDUNTIL=2026-12-14T23:59:59.999Z") + "QUIT\r\n",
                         o, keeping(kept));
  CHECK(reply_codes(r.output) == "220 250 250 250 501 250 250 501 501 250 250 501 250 221");
  CHECK(r.log.find("bad 501 value_out_of_range [MAIL FROM:<a@example.org> HOLDFOR=604801\\r\\n]") != std::string::npos);
  CHECK(r.output.find("501 5.5.4 HOLDFOR beyond") != std::string::npos);
  CHECK(r.output.find("501 5.5.4 HOLDUNTIL beyond") != std::string::npos);
  REQUIRE(kept.size() == 4);
  CHECK(kept[0].holdfor == 604800u);
  CHECK(kept[1].holduntil == "2026-12-15T00:00:00Z");
  CHECK(kept[2].holduntil == "2026-12-15T01:00:00+01:00");
  CHECK(kept[3].holduntil == "2026-12-14T23:59:59.999Z");
  // A maximum that is not a date-time: every HOLDUNTIL is refused, HOLDFOR still judged.
  o.futurerelease_max_datetime = "someday";
  r = run_every_way(hello + mail("HOLDUNTIL=2000-01-01T00:00:00Z") + mail("HOLDFOR=1"), o);
  CHECK(reply_codes(r.output) == "220 250 501 250");
}

TEST_CASE("date_time_instant_of orders RFC 3339 date-times as instants") {
  using detail::compare_instants;
  using detail::date_time_instant_of;
  const auto at = [](std::string_view v) {
    const auto t = date_time_instant_of(v);
    if (!t) throw std::runtime_error("not a date-time");
    return *t;
  };
  CHECK_FALSE(date_time_instant_of("2026-02-29T00:00:00Z"));
  CHECK(at("1970-01-01T00:00:01Z").seconds - at("1970-01-01T00:00:00Z").seconds == 1);
  CHECK(at("1970-01-02T00:00:00Z").seconds - at("1970-01-01T00:00:00Z").seconds == 86400);
  CHECK(at("2024-03-01T00:00:00Z").seconds - at("2024-02-28T00:00:00Z").seconds == 2 * 86400);  // leap year
  CHECK(at("2100-03-01T00:00:00Z").seconds - at("2100-02-28T00:00:00Z").seconds == 86400);      // not one
  CHECK(at("2000-03-01T00:00:00Z").seconds - at("2000-02-28T00:00:00Z").seconds == 2 * 86400);  // by 400
  CHECK(at("0000-03-01T00:00:00Z").seconds - at("0000-01-01T00:00:00Z").seconds == 60 * 86400);
  CHECK(at("2001-01-01T00:00:00Z").seconds - at("1970-01-01T00:00:00Z").seconds == 978307200);
  CHECK(compare_instants(at("2026-12-15T01:00:00+01:00"), at("2026-12-15T00:00:00z")) == 0);
  CHECK(compare_instants(at("2026-12-15T00:00:00.5Z"), at("2026-12-15T00:00:00.50Z")) == 0);
  CHECK(compare_instants(at("2026-12-15T00:00:00.05Z"), at("2026-12-15T00:00:00.5Z")) < 0);
  CHECK(compare_instants(at("2026-12-15T00:00:00.1Z"), at("2026-12-15T00:00:00Z")) > 0);
  CHECK(compare_instants(at("2026-12-14T23:59:60Z"), at("2026-12-15T00:00:00Z")) == 0);  // a leap second
}

namespace {

envelope envelope_to_bob() {
  envelope env;
  env.reverse_path = "alice@example.org";
  env.recipients.push_back({"bob@example.net"});
  return env;
}

// The steps: EHLO, then submit `env` (the source rewound for each run).
std::vector<test::step> submitting(memory_source& source, const envelope& env) {
  return {test::hello_step(), {"submit", [&source, env](client& c) {
                                 source.rewind();
                                 return c.submit(env, source);
                               }}};
}

const std::string offering_all =
    "220 mx\r\n250-mx\r\n250-PIPELINING\r\n250-REQUIRETLS\r\n250-MT-PRIORITY MIXER\r\n250-DELIVERBY 120\r\n"
    "250 FUTURERELEASE 3600 2026-12-15T00:00:00Z\r\n";
const std::string accepting = "250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n";

}  // namespace

TEST_CASE("client submit: REQUIRETLS, MT-PRIORITY, BY and HOLDFOR go as MAIL parameters when offered") {
  memory_source source("x\r\n");
  auto env = envelope_to_bob();
  env.requiretls = true;
  env.mt_priority = -9;
  env.by = deliver_by{120, 'R', true};
  env.holdfor = 3600;
  auto r = run_client_every_way(offering_all + accepting, submitting(source, env));
  CHECK(r.output.find("MAIL FROM:<alice@example.org> REQUIRETLS BY=120;RT MT-PRIORITY=-9 HOLDFOR=3600\r\n") !=
        std::string::npos);
  CHECK(r.log.find("submitted in 1: bob@example.net=250/250") != std::string::npos);
  env = envelope_to_bob();
  env.mt_priority = 9;
  env.by = deliver_by{-30, 'N', false};
  env.holduntil = "2026-12-15T00:00:00Z";
  r = run_client_every_way(offering_all + accepting, submitting(source, env));
  CHECK(r.output.find("MAIL FROM:<alice@example.org> BY=-30;N MT-PRIORITY=9 HOLDUNTIL=2026-12-15T00:00:00Z\r\n") !=
        std::string::npos);
}

TEST_CASE("client submit: each extension not offered is refused before MAIL, never dropped (RFC 8689 4.1)") {
  memory_source source("x\r\n");
  auto requiretls = envelope_to_bob();
  requiretls.requiretls = true;
  auto priority = envelope_to_bob();
  priority.mt_priority = 0;
  auto by = envelope_to_bob();
  by.by = deliver_by{60, 'N', false};
  auto holdfor = envelope_to_bob();
  holdfor.holdfor = 60;
  auto holduntil = envelope_to_bob();
  holduntil.holduntil = "2026-12-15T00:00:00Z";
  for (const auto* env : {&requiretls, &priority, &by, &holdfor, &holduntil}) {
    const auto r = run_client_every_way("220 mx\r\n250-mx\r\n250 PIPELINING\r\n", submitting(source, *env));
    CHECK(r.log.find("step submit refused not_offered") != std::string::npos);
    CHECK(r.output.find("MAIL") == std::string::npos);
  }
}

TEST_CASE("client submit: values out of range, or beyond what the EHLO line advertised, at N and N+1") {
  client c(test::options_for());
  test::greet(c, offering_all.substr(offering_all.find("250-mx")), "220 mx\r\n");
  test::take_output(c);
  memory_source source("x\r\n");
  const auto refused = [&](const envelope& env) {
    const auto ec = c.submit(env, source);
    CHECK(c.pending_output().empty());
    return ec;
  };
  auto env = envelope_to_bob();
  env.mt_priority = 10;  // RFC 6710: -9 .. 9
  CHECK(refused(env) == errc::value_out_of_range);
  env.mt_priority = -10;
  CHECK(refused(env) == errc::value_out_of_range);
  env = envelope_to_bob();
  env.by = deliver_by{1000000000, 'N', false};  // RFC 2852: 1*9DIGIT
  CHECK(refused(env) == errc::value_out_of_range);
  env.by = deliver_by{-1000000000, 'N', false};
  CHECK(refused(env) == errc::value_out_of_range);
  env.by = deliver_by{200, 'X', false};
  CHECK(refused(env) == errc::value_out_of_range);
  env.by = deliver_by{119, 'R', false};  // below the advertised 120 with R
  CHECK(refused(env) == errc::value_out_of_range);
  env = envelope_to_bob();
  env.holdfor = 3601;  // over the advertised 3600
  CHECK(refused(env) == errc::value_out_of_range);
  env.holduntil = "2026-12-15T00:00:00Z";
  CHECK(refused(env) == errc::duplicate_parameter);  // one hold-param
  env.holdfor.reset();
  env.holduntil = "2026-12-15T00:00:01Z";  // after the advertised date-time
  CHECK(refused(env) == errc::value_out_of_range);
  env.holduntil = "tomorrow";
  CHECK(refused(env) == errc::bad_parameter_value);
  // At the limits: accepted (each submit is one transaction; the first one
  // is taken, so check the rest on fresh sessions).
  const auto accepted = [&](const envelope& e) {
    client fresh(test::options_for());
    test::greet(fresh, offering_all.substr(offering_all.find("250-mx")), "220 mx\r\n");
    test::take_output(fresh);
    return fresh.submit(e, source);
  };
  env = envelope_to_bob();
  env.mt_priority = -9;
  CHECK_FALSE(accepted(env));
  env.mt_priority = 9;
  CHECK_FALSE(accepted(env));
  env = envelope_to_bob();
  env.by = deliver_by{120, 'R', false};
  CHECK_FALSE(accepted(env));
  env.by = deliver_by{119, 'N', false};  // N: the minimum is not about it
  CHECK_FALSE(accepted(env));
  env.by = deliver_by{999999999, 'R', false};
  CHECK_FALSE(accepted(env));
  env = envelope_to_bob();
  env.holdfor = 3600;
  CHECK_FALSE(accepted(env));
  env = envelope_to_bob();
  env.holduntil = "2026-12-15T01:00:00+01:00";
  CHECK_FALSE(accepted(env));
}

TEST_CASE("offered extensions: the client against the server session, every parameter typed on arrival") {
  // The client's MAIL line, as the server session reads it.
  server_options o;
  o.implicit_tls = true;
  o.requiretls = true;
  o.mt_priority = true;
  o.mt_priority_profile = "NSEP";
  o.deliverby = 120;
  o.futurerelease = true;
  o.futurerelease_max_interval = 3600;
  o.futurerelease_max_datetime = "2026-12-15T00:00:00Z";
  std::vector<kept_mail> kept;
  const auto r = run_every_way(hello + "MAIL FROM:<alice@example.org> REQUIRETLS BY=120;RT MT-PRIORITY=-9 HOLDFOR=3600\r\n",
                               o, keeping(kept));
  CHECK(reply_codes(r.output) == "220 250 250");
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].requiretls);
  CHECK(kept[0].by == deliver_by{120, 'R', true});
  CHECK(kept[0].mt_priority == -9);
  CHECK(kept[0].holdfor == 3600u);
}
