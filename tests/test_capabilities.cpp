// EHLO replies -> capabilities (RFC 5321 §4.1.1.1 and the extension RFCs).
// Each reply is read from the wire whole, byte by byte and at every split
// point first, so the chunking cannot matter.
#include "ascii.hpp"
#include "ehlo_param_oracle.hpp"
#include "ehlo_param_scan.hpp"
#include "reply_helpers.hpp"

#include <sansmtp/syntax/capabilities.hpp>

#include <catch2/catch.hpp>

#include <cctype>
#include <optional>
#include <string>
#include <vector>

using namespace sansmtp;
using namespace sansmtp::test;

namespace {

// An EHLO reply read from the wire every way (all must agree), then parsed.
// Holds the lines the capabilities point into, so it stays where it is made.
struct ehlo {
  explicit ehlo(std::string_view wire) {
    INFO("wire \"" << std::string(wire) << "\"");
    const auto whole = read_chunks(wire, {});
    CHECK(read_chunks(wire, every_byte(wire.size())) == whole);
    for (std::size_t cut = 1; cut < wire.size(); ++cut) {
      if (!(read_chunks(wire, {cut}) == whole)) {
        INFO("split at " << cut);
        CHECK(false);
        break;
      }
    }
    REQUIRE_FALSE(whole.error);
    REQUIRE(whole.replies.size() == 1);
    reply = whole.replies[0];
    views.assign(reply.lines.begin(), reply.lines.end());
    caps = parse::ehlo_response(reply.code, views);
  }
  ehlo(const ehlo&) = delete;
  ehlo& operator=(const ehlo&) = delete;

  read_reply reply;
  std::vector<std::string_view> views;
  capabilities caps;
};

std::vector<std::string> problems(const capabilities& c) {
  std::vector<std::string> out;
  for (const auto& f : c.findings) {
    std::string s(ehlo_problem_name(f.problem));
    s.append(":").append(f.keyword);
    if (!f.param.empty()) s.append("=").append(f.param);
    out.push_back(s);
  }
  return out;
}

template <class Range>
std::vector<std::string> strings(const Range& v) {
  return {v.begin(), v.end()};
}

}  // namespace

TEST_CASE("a Postfix EHLO reply: every keyword, typed view, AUTH= merged") {
  const ehlo p(
      "250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
      "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n"
      "250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n");
  const auto& c = p.caps;
  CHECK(c.ok);
  CHECK(c.domain == "mail.example.org");
  CHECK(c.greeting.empty());
  REQUIRE(c.host);
  CHECK(c.host->kind == host_kind::domain);
  CHECK(c.lines.size() == 12);
  CHECK(c.lines[0].keyword == "PIPELINING");
  CHECK(c.lines[6].legacy_auth);
  CHECK(c.size == 10240000u);
  CHECK(strings(c.auth) == std::vector<std::string>{"PLAIN", "LOGIN"});
  for (auto e : {extension::pipelining, extension::size, extension::vrfy, extension::etrn,
                 extension::starttls, extension::auth, extension::enhancedstatuscodes,
                 extension::eightbitmime, extension::dsn, extension::smtputf8, extension::chunking})
    CHECK(c.has(e));
  CHECK_FALSE(c.has(extension::binarymime));
  CHECK_FALSE(c.has(extension::requiretls));
  CHECK_FALSE(c.limits);
  CHECK(c.findings.empty());
}

TEST_CASE("a Gmail EHLO reply: greeting after the domain") {
  const ehlo p(
      "250-smtp.gmail.com at your service, [192.0.2.1]\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n"
      "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n");
  const auto& c = p.caps;
  CHECK(c.domain == "smtp.gmail.com");
  CHECK(c.greeting == "at your service, [192.0.2.1]");
  CHECK(c.size == 35882577u);
  CHECK(c.has(extension::starttls));
  CHECK(c.auth.empty());
  CHECK_FALSE(c.has(extension::auth));
  CHECK(c.findings.empty());
}

TEST_CASE("an Exchange Online EHLO reply") {
  const ehlo p(
      "250-BN8NAM12FT043.mail.protection.outlook.com Hello [192.0.2.1]\r\n250-SIZE 157286400\r\n"
      "250-PIPELINING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-8BITMIME\r\n"
      "250-BINARYMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n");
  const auto& c = p.caps;
  CHECK(c.domain == "BN8NAM12FT043.mail.protection.outlook.com");
  CHECK(c.greeting == "Hello [192.0.2.1]");
  CHECK(c.has(extension::binarymime));
  CHECK(c.size == 157286400u);
  CHECK(c.findings.empty());
}

TEST_CASE("keywords are case-insensitive, X-STARTTLS is not STARTTLS, unknown keywords are kept") {
  const ehlo p("250-mx.example.net\r\n250-X-STARTTLS\r\n250-starttls\r\n250-XFOO bar baz\r\n250 size\r\n");
  const auto& c = p.caps;
  CHECK(c.has(extension::starttls));
  CHECK(c.has(extension::size));
  CHECK_FALSE(c.size);  // SIZE without a parameter: no fixed limit
  REQUIRE(c.lines.size() == 4);
  CHECK(c.lines[0].keyword == "X-STARTTLS");
  CHECK_FALSE(c.lines[0].known);
  CHECK(c.lines[2].keyword == "XFOO");
  CHECK(strings(c.lines[2].params) == std::vector<std::string>{"bar", "baz"});
  CHECK(c.find("xfoo") == &c.lines[2]);
  CHECK(c.find("x-starttls") == &c.lines[0]);
  CHECK(c.find("nothing") == nullptr);

  const ehlo only_x("250-mx.example.net\r\n250 X-STARTTLS\r\n");
  CHECK_FALSE(only_x.caps.has(extension::starttls));
}

TEST_CASE("SIZE: 0 means no fixed limit, bad or overflowing numbers are flagged") {
  struct vector {
    std::string line;
    std::optional<std::uint64_t> size;
    std::vector<std::string> problems;
  };
  const vector vectors[] = {
      {"SIZE 0", std::nullopt, {}},
      {"SIZE 18446744073709551615", 18446744073709551615u, {}},
      {"SIZE 18446744073709551616", std::nullopt, {"bad-param:SIZE=18446744073709551616"}},
      {"SIZE 10M", std::nullopt, {"bad-param:SIZE=10M"}},
      {"SIZE 100 200", 100u, {"unexpected-param:SIZE=200"}},
      {"SIZE  100", 100u, {"extra-space:SIZE"}},
  };
  for (const auto& v : vectors) {
    INFO(v.line);
    const ehlo p(std::string("250-mx.example.net\r\n250 ").append(v.line).append("\r\n"));
    const auto& c = p.caps;
    CHECK(c.has(extension::size));
    CHECK(c.size == v.size);
    CHECK(problems(c) == v.problems);
  }
}

TEST_CASE("AUTH: mechanisms merged across AUTH and AUTH= lines without repeats") {
  const ehlo p("250-mx.example.net\r\n250-AUTH=LOGIN\r\n250-AUTH PLAIN login CRAM-MD5\r\n250 AUTH\r\n");
  const auto& c = p.caps;
  CHECK(c.has(extension::auth));
  CHECK(strings(c.auth) == std::vector<std::string>{"LOGIN", "PLAIN", "CRAM-MD5"});
  // "login": not a sasl-mech (upper case only, RFC 4422 3.1); AUTH alone: no mechanism.
  CHECK(problems(c) ==
        std::vector<std::string>{"bad-param:AUTH=login", "duplicate-keyword:AUTH", "missing-param:AUTH"});
  const ehlo legacy("250-mx.example.net\r\n250 AUTH=LOGIN PLAIN\r\n");
  const auto& l = legacy.caps;
  CHECK(strings(l.auth) == std::vector<std::string>{"LOGIN", "PLAIN"});
  CHECK(l.findings.empty());
  REQUIRE(l.lines.size() == 1);
  CHECK(l.lines[0].keyword == "AUTH");
  CHECK(l.lines[0].legacy_auth);
}

// An EHLO reply as large as the reader takes (126 AUTH lines of 100 distinct
// mechanisms, 64 KB): every mechanism once, in order, repeats dropped.
TEST_CASE("AUTH: thousands of mechanisms over many lines, repeats dropped") {
  const auto mech = [](std::size_t i) {
    static constexpr char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string m(4, '0');
    for (std::size_t k = 4; k-- > 0; i /= 36) m[k] = digits[i % 36];
    return m;
  };
  constexpr std::size_t lines = 126, per_line = 100;
  std::string wire = "250-mx.example.net\r\n";
  std::vector<std::string> expected;
  for (std::size_t l = 0; l < lines; ++l) {
    wire += l + 1 == lines ? "250 AUTH" : "250-AUTH";
    // The last line repeats the first one's mechanisms.
    for (std::size_t k = 0; k < per_line; ++k) {
      const auto name = mech(l + 1 == lines ? k : l * per_line + k);
      wire += " " + name;
      if (l + 1 < lines) expected.push_back(name);
    }
    wire += "\r\n";
  }
  REQUIRE(wire.size() > 64000);
  const auto whole = read_chunks(wire, {});
  REQUIRE_FALSE(whole.error);
  REQUIRE(whole.replies.size() == 1);
  CHECK(read_chunks(wire, every_byte(wire.size())) == whole);
  for (const std::size_t cut : {std::size_t{1}, std::size_t{511}, std::size_t{32768}, wire.size() - 1})
    CHECK(read_chunks(wire, {cut}) == whole);
  const std::vector<std::string_view> views(whole.replies[0].lines.begin(), whole.replies[0].lines.end());
  const auto c = parse::ehlo_response(whole.replies[0].code, views);
  CHECK(c.auth.size() == (lines - 1) * per_line);
  CHECK(strings(c.auth) == expected);
  // Each AUTH line after the first is a repeated keyword, and nothing else is wrong.
  REQUIRE(c.findings.size() == lines - 1);
  for (const auto& f : c.findings) CHECK(f.problem == ehlo_problem::duplicate_keyword);
  CHECK(c.findings.back().line == lines);
}

TEST_CASE("duplicate keywords are found among many, case-insensitively") {
  std::string wire = "250-mx.example.net\r\n";
  for (int i = 0; i < 40; ++i) wire += "250-X-K" + std::to_string(i) + "\r\n";
  wire += "250-x-k0\r\n250 X-k39\r\n";
  const ehlo p(wire);
  const auto& c = p.caps;
  CHECK(c.lines.size() == 42);
  CHECK(problems(c) == std::vector<std::string>{"duplicate-keyword:x-k0", "duplicate-keyword:X-k39"});
}

TEST_CASE("LIMITS (RFC 9422): the three known limits, unknown names ignored, bad values flagged") {
  const ehlo good("250-mx.example.net\r\n250 LIMITS RCPTMAX=100 MAILMAX=1000 rcptdomainmax=10 FUTURE=x\r\n");
  const auto& c = good.caps;
  REQUIRE(c.limits);
  CHECK(c.limits->rcptmax == 100u);
  CHECK(c.limits->mailmax == 1000u);
  CHECK(c.limits->rcptdomainmax == 10u);
  CHECK(c.findings.empty());
  const ehlo bad("250-mx.example.net\r\n250 LIMITS RCPTMAX=lots MAILMAX RCPTMAX=5 MAILMAX=2 MAILMAX=3\r\n");
  const auto& b = bad.caps;
  CHECK(b.has(extension::limits));
  REQUIRE(b.limits);
  CHECK(b.limits->rcptmax == 5u);
  CHECK(b.limits->mailmax == 2u);
  CHECK(problems(b) == std::vector<std::string>{"bad-param:LIMITS=RCPTMAX=lots", "bad-param:LIMITS=MAILMAX",
                                                "bad-param:LIMITS=MAILMAX=3"});
}

// RFC 9422 §3: limit-name-value = limit-name ["=" limit-value], limit-name =
// 1*(ALPHA / DIGIT / "-" / "_"), limit-value = 1*(%x21-3A / %x3C-7E); a
// syntax error makes the client ignore LIMITS entirely (§3.7).
TEST_CASE("LIMITS grammar: names alone are fine, a bare LIMITS or a bad name is not") {
  struct vector {
    std::string line;
    std::optional<std::uint64_t> rcptmax;  // nullopt: no typed limits at all
    std::vector<std::string> problems;
  };
  const vector vectors[] = {
      {"LIMITS FUTURE-FLAG RCPTMAX=7 X_Y=a=b", 7u, {}},
      {"LIMITS", std::nullopt, {"missing-param:LIMITS"}},
      {"LIMITS RCPT.MAX=5", std::nullopt, {"bad-param:LIMITS=RCPT.MAX=5"}},
      {"LIMITS RCPTMAX=5 X=a;b", std::nullopt, {"bad-param:LIMITS=X=a;b"}},
      {"LIMITS RCPTMAX=5 X=", std::nullopt, {"bad-param:LIMITS=X="}},
      {"LIMITS RCPTMAX=5 =5", std::nullopt, {"bad-param:LIMITS==5"}},
  };
  for (const auto& v : vectors) {
    INFO(v.line);
    const ehlo p(std::string("250-mx.example.net\r\n250 ").append(v.line).append("\r\n"));
    const auto& c = p.caps;
    CHECK(c.has(extension::limits));
    CHECK(problems(c) == v.problems);
    if (v.rcptmax) {
      REQUIRE(c.limits);
      CHECK(c.limits->rcptmax == v.rcptmax);
    } else {
      CHECK_FALSE(c.limits);
    }
  }
}

TEST_CASE("DELIVERBY, MT-PRIORITY, FUTURERELEASE, XCLIENT, REQUIRETLS, HELP") {
  const ehlo p(
      "250-mx.example.net\r\n250-DELIVERBY 240\r\n250-MT-PRIORITY MIXER\r\n"
      "250-FUTURERELEASE 604800 2026-12-31T23:59:59Z\r\n250-XCLIENT NAME ADDR PROTO HELO\r\n"
      "250-REQUIRETLS\r\n250 HELP\r\n");
  const auto& c = p.caps;
  CHECK(c.deliverby_min == 240u);
  CHECK(c.mt_priority_profile == "MIXER");
  CHECK(c.futurerelease_max_interval == 604800u);
  CHECK(c.futurerelease_max_datetime == "2026-12-31T23:59:59Z");
  CHECK(strings(c.xclient) == std::vector<std::string>{"NAME", "ADDR", "PROTO", "HELO"});
  for (auto e : {extension::deliverby, extension::mt_priority, extension::futurerelease, extension::xclient,
                 extension::requiretls, extension::help})
    CHECK(c.has(e));
  CHECK(c.findings.empty());
  const ehlo bad("250-mx.example.net\r\n250-FUTURERELEASE 1\r\n250 PIPELINING yes\r\n");
  const auto& b = bad.caps;
  CHECK(b.has(extension::futurerelease));
  CHECK(b.has(extension::pipelining));
  CHECK(problems(b) ==
        std::vector<std::string>{"missing-param:FUTURERELEASE", "unexpected-param:PIPELINING=yes"});
}

TEST_CASE("malformed keyword lines are flagged and skipped, the rest is read") {
  const ehlo p("250-mx.example.net\r\n250-=weird\r\n250-\r\n250--DASH\r\n250-SIZE 5\r\n250 8BITMIME\r\n");
  const auto& c = p.caps;
  CHECK(problems(c) == std::vector<std::string>{"bad-keyword:=weird", "bad-keyword:", "bad-keyword:-DASH"});
  CHECK(c.lines.size() == 2);
  CHECK(c.size == 5u);
  CHECK(c.has(extension::eightbitmime));
  CHECK(c.findings[0].line == 1);
}

TEST_CASE("the first line's domain is checked, but a bad one only flags") {
  const ehlo p("250-[10.0.0.300] hi\r\n250 PIPELINING\r\n");
  const auto& c = p.caps;
  CHECK(c.ok);
  CHECK_FALSE(c.host);
  REQUIRE(c.findings.size() == 1);
  CHECK(c.findings[0].problem == ehlo_problem::bad_domain);
  CHECK(c.findings[0].error.code == errc::bad_ipv4_literal);
  CHECK(c.has(extension::pipelining));
  const ehlo literal("250 [192.0.2.1]\r\n");
  const auto& l = literal.caps;
  REQUIRE(l.host);
  CHECK(l.host->kind == host_kind::ipv4_literal);
  CHECK(l.lines.empty());
}

TEST_CASE("a failure or other non-250 reply to EHLO") {
  const ehlo failure("550 5.7.1 Access denied\r\n");
  const auto& c = failure.caps;
  CHECK_FALSE(c.ok);
  CHECK(c.code == 550);
  CHECK(c.lines.empty());
  CHECK(c.domain.empty());
  const ehlo other("220 mx.example.net\r\n");
  CHECK(other.caps.ok);
  CHECK(problems(other.caps) == std::vector<std::string>{"not-250:"});
}

TEST_CASE("present extensions iterate as extension values, in enum order") {
  const ehlo p("250-mx.example.net\r\n250-XCLIENT NAME\r\n250-SIZE\r\n250-X-FOO\r\n250 starttls\r\n");
  std::vector<extension> seen;
  for (const extension e : p.caps.extensions()) seen.push_back(e);
  CHECK(seen == std::vector<extension>{extension::size, extension::starttls, extension::xclient});
  const ehlo none("250 mx.example.net\r\n");
  CHECK(none.caps.extensions().empty());
  CHECK(none.caps.extensions().begin() == none.caps.extensions().end());
}

TEST_CASE("extension names round-trip through their keywords") {
  CHECK(all_extensions.size() == extension_count);
  for (const extension e : all_extensions) CHECK(extension_of(extension_keyword(e)) == e);
  CHECK(extension_keyword(extension::eightbitmime) == "8BITMIME");
  CHECK(extension_keyword(extension::mt_priority) == "MT-PRIORITY");
  CHECK_FALSE(extension_of("X-STARTTLS"));
}

TEST_CASE("extension_of (grammar/ehlo.rl): every known keyword both ways, any case, and nothing near it") {
  for (const extension e : all_extensions) {
    const std::string name(extension_keyword(e));
    INFO(name);
    CHECK(extension_of(name) == e);
    std::string lower = name, mixed = name;
    for (std::size_t i = 0; i < name.size(); ++i) {
      lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
      if (i % 2) mixed[i] = lower[i];
    }
    CHECK(extension_of(lower) == e);
    CHECK(extension_of(mixed) == e);
    CHECK_FALSE(extension_of(name + "S"));
    CHECK_FALSE(extension_of(name.substr(0, name.size() - 1)));
    CHECK_FALSE(extension_of(" " + name));
    CHECK_FALSE(extension_of(name + std::string(1, '\0')));
  }
  CHECK_FALSE(extension_of(""));
  CHECK_FALSE(extension_of("X-EXPS"));
  CHECK_FALSE(extension_of("AUTH=LOGIN"));
}

TEST_CASE("capabilities: copies and moves keep every line's params (one storage, re-pointed on copy)") {
  const std::string_view lines[] = {"mx.example.net hi", "AUTH PLAIN LOGIN", "SIZE 1000", "AUTH=XOAUTH2", "X-ONE a b c"};
  std::optional<capabilities> original = parse::ehlo_response(250, lines);
  const auto expect = [](const capabilities& c) {
    REQUIRE(c.lines.size() == 4);
    CHECK(strings(c.lines[0].params) == std::vector<std::string>{"PLAIN", "LOGIN"});
    CHECK(strings(c.lines[1].params) == std::vector<std::string>{"1000"});
    CHECK(strings(c.lines[2].params) == std::vector<std::string>{"XOAUTH2"});
    CHECK(strings(c.lines[3].params) == std::vector<std::string>{"a", "b", "c"});
    CHECK(c.size == 1000u);
  };
  capabilities copy(*original);
  capabilities assigned;
  assigned = *original;
  original.reset();  // the copies must not point into it
  expect(copy);
  expect(assigned);
  capabilities moved(std::move(copy));
  expect(moved);
  capabilities move_assigned;
  move_assigned = std::move(moved);
  expect(move_assigned);
}

// The keyword and mechanism sets compare words with ascii::iequals, eight
// octets a step: it must agree with an octet-by-octet fold everywhere.
TEST_CASE("ascii::iequals agrees with an octet-by-octet fold for every length, case and octet") {
  const auto reference = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
      if (fold(a[i]) != fold(b[i])) return false;
    }
    return true;
  };
  // Octets around the letters' edges, where a wrong fold would match.
  const std::string odd = std::string("@[`{AZaz09-_ ") + '\x7f' + '\x80' + '\xc1' + '\xe0' + '\xff';
  for (std::size_t n = 0; n <= 24; ++n) {
    const std::string base = std::string("PLAIN-login_XOAUTH2scram").substr(0, n);
    std::string lower = base;
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    CHECK(ascii::iequals(base, lower));
    for (std::size_t at = 0; at < n; ++at)
      for (const char c : odd) {
        std::string other = base;
        other[at] = c;
        INFO("n=" << n << " at=" << at << " octet=" << static_cast<int>(static_cast<unsigned char>(c)));
        CHECK(ascii::iequals(base, other) == reference(base, other));
        CHECK(ascii::iequals(other, lower) == reference(other, lower));
      }
  }
}

// grammar/ehlo_params.rl against tests/ehlo_param_oracle.hpp, a plain C++
// reading of the same ABNF: named vectors at every limit (N and N+1), then
// every word of up to three octets over an alphabet that reaches each rule.
namespace {

using detail::ehlo_param_grammar;

void same_as_oracle(ehlo_param_grammar g, std::string_view w) {
  const auto m = detail::scan_ehlo_param(g, w);
  const auto o = oracle_scan(g, w);
  INFO("grammar " << static_cast<int>(g) << " word \"" << std::string(w) << "\"");
  REQUIRE(m.valid == o.valid);
  CHECK(m.value == o.value);
  CHECK(m.overflow == o.overflow);
  CHECK(m.limit == o.limit);
  CHECK(m.value_at == o.value_at);
  if (g == ehlo_param_grammar::sasl_mech) CHECK(detail::sasl_mech_fast_path(w) == m.valid);
}

}  // namespace

TEST_CASE("EHLO parameter grammars: vectors at each limit, machine and plain reading agree") {
  struct vector {
    ehlo_param_grammar g;
    std::string word;
    bool valid;
    std::uint64_t value = 0;
  };
  using G = ehlo_param_grammar;
  const vector vectors[] = {
      {G::size, "10240000", true, 10240000},
      {G::size, "0", true, 0},
      {G::size, "18446744073709551615", true, 18446744073709551615u},
      {G::size, "", false},
      {G::size, "12a", false},
      {G::size, "+1", false},
      // RFC 4422 §3.1: 1*20 mech-char, upper case only.
      {G::sasl_mech, "SCRAM-SHA-256-PLUS", true},
      {G::sasl_mech, "ABCDEFGHIJKLMNOPQRST", true},    // 20
      {G::sasl_mech, "ABCDEFGHIJKLMNOPQRSTU", false},  // 21
      {G::sasl_mech, "X_OAUTH2", true},
      {G::sasl_mech, "plain", false},
      {G::sasl_mech, "CRAM.MD5", false},
      // RFC 9422 §3.
      {G::limit, "RCPTMAX=100", true},
      {G::limit, "FUTURE-FLAG", true},
      {G::limit, "X_Y=a=b", true},
      {G::limit, "X=a;b", false},
      {G::limit, "X=", false},
      {G::limit, "=5", false},
      {G::limit, "RCPT.MAX=5", false},
      // RFC 9422 §4: 1 to 999999.
      {G::limit_count, "1", true, 1},
      {G::limit_count, "999999", true, 999999},   // 6 digits
      {G::limit_count, "1000000", false},         // 7
      {G::limit_count, "0", false},
      {G::limit_count, "010", false},
      // RFC 2852: [1*9DIGIT] *("," extension-token).
      {G::deliverby, "240", true, 240},
      {G::deliverby, "999999999", true, 999999999},  // 9 digits
      {G::deliverby, "1000000000", false},           // 10
      {G::deliverby, "240,future", true, 240},
      {G::deliverby, ",future,more", true, 0},
      {G::deliverby, "240,", false},
      {G::deliverby, "240,,x", false},
      {G::deliverby, "-5", false},
      // RFC 6710: an esmtp-keyword.
      {G::priority_profile, "MIXER", true},
      {G::priority_profile, "STANAG4406", true},
      {G::priority_profile, "NSEP", true},
      {G::priority_profile, "-MIXER", false},
      {G::priority_profile, "MIX_ER", false},
      // RFC 4865: 1*9DIGIT.
      {G::release_interval, "604800", true, 604800},
      {G::release_interval, "999999999", true, 999999999},
      {G::release_interval, "1000000000", false},
      {G::release_interval, "", false},
      // RFC 3339 §5.6 and §5.7.
      {G::date_time, "2026-12-31T23:59:59Z", true},
      {G::date_time, "2026-12-31t23:59:59.123z", true},
      {G::date_time, "2026-12-31T23:59:60+01:00", true},
      {G::date_time, "2024-02-29T00:00:00Z", true},   // leap year
      {G::date_time, "2023-02-29T00:00:00Z", false},
      {G::date_time, "2000-02-29T00:00:00Z", true},   // divisible by 400
      {G::date_time, "1900-02-29T00:00:00Z", false},  // a century
      {G::date_time, "2026-04-31T00:00:00Z", false},
      {G::date_time, "2026-13-01T00:00:00Z", false},
      {G::date_time, "2026-12-31T24:00:00Z", false},
      {G::date_time, "2026-12-31T23:59:59", false},
      {G::date_time, "2026-12-31T23:59:59.Z", false},
      {G::date_time, "2026-12-31T23:59:59+1:00", false},
      {G::date_time, "999999999", false},
  };
  for (const auto& v : vectors) {
    INFO("grammar " << static_cast<int>(v.g) << " word \"" << v.word << "\"");
    const auto m = detail::scan_ehlo_param(v.g, v.word);
    CHECK(m.valid == v.valid);
    if (v.valid) CHECK(m.value == v.value);
    same_as_oracle(v.g, v.word);
  }
  // The registered LIMITS names, in any case, and nothing longer or shorter.
  CHECK(detail::scan_ehlo_param(G::limit, "rcptMax=5").limit == detail::limit_name::rcptmax);
  CHECK(detail::scan_ehlo_param(G::limit, "MAILMAX").limit == detail::limit_name::mailmax);
  CHECK(detail::scan_ehlo_param(G::limit, "RCPTDOMAINMAX=1").limit == detail::limit_name::rcptdomainmax);
  CHECK(detail::scan_ehlo_param(G::limit, "RCPTMAXX=5").limit == detail::limit_name::other);
  CHECK(detail::scan_ehlo_param(G::limit, "RCPTMA=5").limit == detail::limit_name::other);
  CHECK(detail::scan_ehlo_param(G::limit, "RCPTMAX=5").value_at == 8);
}

TEST_CASE("EHLO parameter grammars: every short word, machine and plain reading agree") {
  const std::string_view alphabet = "019aAZz-_=;,.:T+ ";
  std::string w;
  std::size_t words = 0;
  const auto all = [&](auto&& self, std::size_t depth) -> void {
    for (std::size_t g = 0; g < detail::ehlo_param_grammar_count; ++g)
      same_as_oracle(static_cast<ehlo_param_grammar>(g), w);
    ++words;
    if (depth == 3) return;
    for (const char c : alphabet) {
      w.push_back(c);
      self(self, depth + 1);
      w.pop_back();
    }
  };
  all(all, 0);
  CHECK(words == 1 + 17 + 17 * 17 + 17 * 17 * 17);
}

TEST_CASE("typed values of DELIVERBY, MT-PRIORITY, FUTURERELEASE and LIMITS follow their grammars") {
  struct vector {
    std::string line;
    std::vector<std::string> problems;
  };
  const vector vectors[] = {
      {"DELIVERBY 240,future", {}},
      {"DELIVERBY ,future", {}},
      {"DELIVERBY 1000000000", {"bad-param:DELIVERBY=1000000000"}},
      {"MT-PRIORITY -MIXER", {"bad-param:MT-PRIORITY=-MIXER"}},
      {"FUTURERELEASE 604800 2026-02-30T00:00:00Z", {"bad-param:FUTURERELEASE=2026-02-30T00:00:00Z"}},
      {"FUTURERELEASE 1000000000 2026-12-31T23:59:59Z", {"bad-param:FUTURERELEASE=1000000000"}},
      {"LIMITS RCPTMAX=999999", {}},
      {"LIMITS RCPTMAX=1000000", {"bad-param:LIMITS=RCPTMAX=1000000"}},
      {"LIMITS RCPTMAX=0 MAILMAX=3", {"bad-param:LIMITS=RCPTMAX=0"}},
  };
  for (const auto& v : vectors) {
    INFO(v.line);
    const ehlo p(std::string("250-mx.example.net\r\n250 ").append(v.line).append("\r\n"));
    CHECK(problems(p.caps) == v.problems);
  }
  const ehlo by("250-mx.example.net\r\n250 DELIVERBY 240,future\r\n");
  CHECK(by.caps.deliverby_min == 240u);
  const ehlo by_none("250-mx.example.net\r\n250 DELIVERBY ,future\r\n");
  CHECK(by_none.caps.has(extension::deliverby));
  CHECK_FALSE(by_none.caps.deliverby_min);
  const ehlo profile("250-mx.example.net\r\n250 MT-PRIORITY -MIXER\r\n");
  CHECK(profile.caps.mt_priority_profile.empty());
  const ehlo release("250-mx.example.net\r\n250 FUTURERELEASE 604800 2026-02-30T00:00:00Z\r\n");
  CHECK(release.caps.futurerelease_max_interval == 604800u);
  CHECK(release.caps.futurerelease_max_datetime.empty());
  // §4's bounds, N and N+1; a bad registered value drops only that limit.
  const ehlo top("250-mx.example.net\r\n250 LIMITS RCPTMAX=999999\r\n");
  REQUIRE(top.caps.limits);
  CHECK(top.caps.limits->rcptmax == 999999u);
  const ehlo over("250-mx.example.net\r\n250 LIMITS RCPTMAX=1000000 MAILMAX=3\r\n");
  REQUIRE(over.caps.limits);
  CHECK_FALSE(over.caps.limits->rcptmax);
  CHECK(over.caps.limits->mailmax == 3u);
}

TEST_CASE("ehlo_line::repeated: every line after the first with its keyword, AUTH= and AUTH as one") {
  // A reader that keeps one entry per keyword (the CLI's JSON) skips the
  // repeated lines; the duplicate_keyword finding leaves the AUTH= form out
  // (servers send it beside AUTH on purpose), `repeated` does not.
  const ehlo e("250-mx.example.net\r\n250-AUTH=LOGIN\r\n250-x-unknown a\r\n250-AUTH PLAIN\r\n250-X-Unknown b\r\n"
               "250-SIZE 10\r\n250-size 20\r\n250 auth CRAM-MD5\r\n");
  const auto& c = e.caps;
  REQUIRE(c.lines.size() == 7);
  std::vector<bool> repeated;
  for (const auto& l : c.lines) repeated.push_back(l.repeated);
  CHECK(repeated == std::vector<bool>{false, false, true, true, false, true, true});
  CHECK(*c.size == 10);  // the typed view keeps the first, as `repeated` says
  // Findings: X-Unknown, size and the second AUTH (not the one after AUTH=).
  std::vector<std::size_t> flagged;
  for (const auto& f : c.findings)
    if (f.problem == ehlo_problem::duplicate_keyword) flagged.push_back(f.line);
  CHECK(flagged == std::vector<std::size_t>{4, 6, 7});
}
