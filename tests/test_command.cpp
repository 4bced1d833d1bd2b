// Command parser and serializer (RFC 5321 §4.1, §4.5.3.1; RFC 1870, 2033,
// 2852, 3030, 3207, 3461, 4865, 4954, 6152, 6531, 6710, 7293, 8689).
#include <sansmtp/syntax/command.hpp>

// GCC 12 reports a false -Wrestrict on "literal" + std::string (GCC PR 105329);
// these tests build many lines that way.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include <catch2/catch.hpp>

#include "command_describe.hpp"
#include "input_views.hpp"

#include <functional>
#include <string>
#include <vector>

using namespace sansmtp;
using sansmtp::test::describe;
using sansmtp::test::for_each_placement;

namespace {

// Options from letters: u smtputf8, k unknown parameters, s space after the
// colon, b missing brackets, w reject trailing whitespace, l bare LF, h HELO literal,
// p no path limit.
command_options options_from(std::string_view flags) {
  command_options o;
  for (char f : flags) {
    switch (f) {
      case 'u':
        o.smtputf8 = true;
        break;
      case 'k':
        o.allow_unknown_parameters = true;
        break;
      case 's':
        o.allow_space_after_colon = true;
        break;
      case 'b':
        o.allow_missing_angle_brackets = true;
        break;
      case 'w':
        o.reject_trailing_whitespace = true;
        break;
      case 'l':
        o.allow_bare_lf = true;
        break;
      case 'h':
        o.allow_helo_address_literal = true;
        break;
      case 'p':
        o.max_path = 0;
        break;
      default:
        FAIL("unknown option letter " << f);
    }
  }
  return o;
}

struct accept_case {
  std::string line;
  std::string expect;  // describe() of the command
  std::string flags = "";
};

struct reject_case {
  std::string line;
  errc code;
  std::size_t offset;
  int reply;
  std::string flags = "";
};

// Parses in every placement; all must agree. Also: what was accepted
// serializes, and the serialized line parses to the same command.
void check_accept(const accept_case& c) {
  INFO("line: " << c.line << " flags: " << c.flags);
  const auto options = options_from(c.flags);
  for_each_placement(c.line, [&](std::string_view in) {
    const auto r = parse::command_line(in, options);
    if (!r) FAIL_CHECK(errc_name(r.error().code) << " at " << r.error().offset);
    REQUIRE(r);
    CHECK(describe(*r) == c.expect);
    std::string out = "prefix";
    REQUIRE_FALSE(serialize(*r, out, options));
    REQUIRE(out.substr(0, 6) == "prefix");
    const auto again = parse::command_line(std::string_view(out).substr(6), options);
    REQUIRE(again);
    CHECK(*again == *r);
    CHECK(describe(*again) == c.expect);
  });
}

void check_reject(const reject_case& c) {
  INFO("line: " << c.line << " flags: " << c.flags);
  const auto options = options_from(c.flags);
  for_each_placement(c.line, [&](std::string_view in) {
    const auto r = parse::command_line(in, options);
    if (r) FAIL_CHECK("accepted as " << describe(*r));
    REQUIRE_FALSE(r);
    CHECK(errc_name(r.error().code) == errc_name(c.code));
    CHECK(r.error().offset == c.offset);
    CHECK(r.error().reply == c.reply);
  });
}

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

// A domain of exactly n octets made of labels of at most 63.
std::string domain_of(std::size_t n) {
  std::string d;
  while (n - d.size() > 63) d += repeat('a', 62) + ".";
  return d + repeat('a', n - d.size());
}

}  // namespace

TEST_CASE("every verb parses (RFC 5321 4.1.1, RFC 2033, 3030, 3207, 4954)") {
  const std::vector<accept_case> cases = {
      {"EHLO mx.example.com\r\n", "EHLO mx.example.com"},
      {"ehlo [192.0.2.1]\r\n", "EHLO [192.0.2.1]"},
      {"EHLO [IPv6:2001:db8::1]", "EHLO [IPv6:2001:db8::1]"},
      {"HELO mx.example.com\r\n", "HELO mx.example.com"},
      {"HELO [192.0.2.1]\r\n", "HELO [192.0.2.1]", "h"},
      {"LHLO client.example\r\n", "LHLO client.example"},
      {"MAIL FROM:<user@example.com>\r\n", "MAIL <user@example.com> {}"},
      {"mail from:<>\r\n", "MAIL <> {}"},
      {"Mail From:<a@b>", "MAIL <a@b> {}"},
      {"RCPT TO:<user@example.com>\r\n", "RCPT <user@example.com> {}"},
      {"RCPT TO:<Postmaster>\r\n", "RCPT <Postmaster> {}"},
      {"rcpt to:<postmaster>\r\n", "RCPT <postmaster> {}"},
      {"RCPT TO:<Postmaster@example.com>\r\n", "RCPT <Postmaster@example.com> {}"},
      {"DATA\r\n", "DATA"},
      {"data\r\n", "DATA"},
      {"BDAT 0 LAST\r\n", "BDAT 0 LAST"},
      {"BDAT 86\r\n", "BDAT 86"},
      {"bdat 5 last\r\n", "BDAT 5 LAST"},
      {"RSET\r\n", "RSET"},
      {"VRFY postmaster\r\n", "VRFY [postmaster]"},
      {"VRFY \"John Smith\"\r\n", "VRFY [\"John Smith\"]"},
      {"EXPN staff\r\n", "EXPN [staff]"},
      {"HELP\r\n", "HELP -"},
      {"HELP MAIL\r\n", "HELP [MAIL]"},
      {"NOOP\r\n", "NOOP -"},
      {"NOOP x\r\n", "NOOP [x]"},
      {"QUIT\r\n", "QUIT"},
      {"STARTTLS\r\n", "STARTTLS"},
      {"starttls\r\n", "STARTTLS"},
      {"AUTH PLAIN\r\n", "AUTH PLAIN -"},
      {"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", "AUTH PLAIN [AGFsaWNlAHNlY3JldA==]"},
      {"AUTH EXTERNAL =\r\n", "AUTH EXTERNAL [=]"},
      {"AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9\r\n", "AUTH SCRAM-SHA-256 [biwsbj11c2VyLHI9]"},
      {"AUTH X_OAUTH2 abc=\r\n", "AUTH X_OAUTH2 [abc=]"},
      {"XCLIENT NAME=spike.porcupine.org ADDR=168.100.189.2\r\n",
       "unknown XCLIENT [NAME=spike.porcupine.org ADDR=168.100.189.2]"},
      {"TURN\r\n", "unknown TURN -"},
      {"X-FOO\r\n", "unknown X-FOO -"},
  };
  for (const auto& c : cases) check_accept(c);
}

TEST_CASE("paths: Dot-string, Quoted-string, literals, source routes (RFC 5321 4.1.2)") {
  const std::vector<accept_case> cases = {
      {"MAIL FROM:<first.last@example.com>", "MAIL <first.last@example.com> {}"},
      {"MAIL FROM:<!#$%&'*+-/=?^_`{|}~@example.com>", "MAIL <!#$%&'*+-/=?^_`{|}~@example.com> {}"},
      {"MAIL FROM:<\"john smith\"@example.com>", "MAIL <\"john smith\"@example.com> {}"},
      {"MAIL FROM:<\"a\\\"b\\\\c\"@example.com>", "MAIL <\"a\\\"b\\\\c\"@example.com> {}"},
      {"MAIL FROM:<\"\"@example.com>", "MAIL <\"\"@example.com> {}"},
      {"MAIL FROM:<user@[192.0.2.1]>", "MAIL <user@[192.0.2.1]> {}"},
      {"MAIL FROM:<user@[IPv6:2001:db8::1]>", "MAIL <user@[IPv6:2001:db8::1]> {}"},
      {"RCPT TO:<@relay.example:user@example.com>", "RCPT <user@example.com> {}"},
      {"RCPT TO:<@a.example,@b.example:user@example.com>", "RCPT <user@example.com> {}"},
      {"MAIL FROM:<user@1.2.3.4>", "MAIL <user@1.2.3.4> {}"},
      {"MAIL FROM: <user@example.com>", "MAIL <user@example.com> {}", "s"},
      {"MAIL FROM:   <user@example.com>", "MAIL <user@example.com> {}", "s"},
      {"MAIL FROM:user@example.com", "MAIL <user@example.com> {}", "b"},
      {"MAIL FROM:user@example.com SIZE=10", "MAIL <user@example.com> {SIZE=10} size=10", "b"},
      {"RCPT TO:<user@example.com>  \r\n", "RCPT <user@example.com> {}"},
      {"RCPT TO:<user@example.com>\n", "RCPT <user@example.com> {}", "l"},
  };
  for (const auto& c : cases) check_accept(c);

  const auto quoted = parse::command_line("MAIL FROM:<\"a\\\"b c\"@example.com>");
  REQUIRE(quoted);
  const auto& p = std::get<cmd::mail>(*quoted).reverse_path;
  CHECK(p.quoted());
  CHECK(p.local_part_value() == "a\"b c");
  CHECK(p.address() == "\"a\\\"b c\"@example.com");
}

TEST_CASE("path syntax errors name what and where") {
  const std::vector<reject_case> cases = {
      {"MAIL FROM:user@example.com", errc::missing_angle_bracket, 10, 501},
      {"MAIL FROM:<user@example.com", errc::unterminated_path, 27, 501},
      {"MAIL FROM:<user>", errc::bad_mailbox, 15, 501},
      {"MAIL FROM:<user@>", errc::bad_mailbox, 16, 501},
      {"MAIL FROM:<@example.com>", errc::invalid_character, 23, 501},
      {"MAIL FROM:<a..b@example.com>", errc::bad_local_part, 13, 501},
      {"MAIL FROM:<.a@example.com>", errc::bad_local_part, 11, 501},
      {"MAIL FROM:<a.@example.com>", errc::bad_local_part, 13, 501},
      {"MAIL FROM:<a b@example.com>", errc::bad_mailbox, 12, 501},
      {"MAIL FROM:<\"a\rb\"@example.com>", errc::bare_cr, 13, 500},
      {"MAIL FROM:<a@example..com>", errc::empty_label, 21, 501},
      {"MAIL FROM:<a@-example.com>", errc::label_hyphen, 13, 501},
      {"MAIL FROM:<a@example.com.>", errc::trailing_dot, 24, 501},
      {"MAIL FROM:<a@[300.1.1.1]>", errc::bad_ipv4_literal, 17, 501},
      {"MAIL FROM:<a@[IPv6:zz]>", errc::bad_ipv6_literal, 19, 501},
      {"MAIL FROM:<a@example.com>x", errc::trailing_characters, 25, 501},
      {"MAIL FROM:<a@exa mple.com>", errc::invalid_character, 16, 501},
      {"MAIL FROM:<a@example.com> ", errc::trailing_whitespace, 25, 501, "w"},
      {"MAIL FROM: <a@example.com>", errc::space_before_path, 10, 501},
      {"MAIL FROM:", errc::missing_argument, 10, 501},
      {"MAIL TO:<a@b>", errc::missing_from_to, 4, 501},
      {"MAIL FROM<a@b>", errc::missing_from_to, 4, 501},
      {"MAILFROM:<a@b>", errc::invalid_verb, 8, 500},
      {"RCPT FROM:<a@b>", errc::missing_from_to, 4, 501},
      {"RCPT TO:<>", errc::bad_mailbox, 9, 501},
      {"MAIL FROM:<Postmaster>", errc::bad_mailbox, 21, 501},
      {"RCPT TO:<@a.example:>", errc::bad_local_part, 20, 501},
      {"RCPT TO:<@a..example:u@d>", errc::empty_label, 12, 501},
      {"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>", errc::invalid_character, 15, 500},
      {"MAIL FROM:<a@b>\nRCPT TO:<c@d>", errc::bare_lf, 15, 500},
      {"MAIL FROM:<a@b>\n", errc::bare_lf, 15, 500},
      {"MAIL FROM:<a@b>\r", errc::bare_cr, 15, 500},
      {std::string("MAIL FROM:<a@b\0>", 16), errc::invalid_character, 14, 501},
      {"MAIL FROM:a@b SIZE=1", errc::missing_angle_bracket, 10, 501},
  };
  for (const auto& c : cases) check_reject(c);
  // The reply's enhanced code says whose address it was (RFC 3463 X.1.7, X.1.3).
  CHECK(parse::command_line("MAIL FROM:<a..b@c>").error().enhanced == enhanced_status{5, 1, 7});
  CHECK(parse::command_line("RCPT TO:<a..b@c>").error().enhanced == enhanced_status{5, 1, 3});
}

TEST_CASE("command line errors") {
  const std::vector<reject_case> cases = {
      {"", errc::empty_command, 0, 500},
      {"\r\n", errc::empty_command, 0, 500},
      {"  \r\n", errc::trailing_whitespace, 0, 501, "w"},
      {"  \r\n", errc::empty_command, 0, 500},
      {"M@IL FROM:<a@b>", errc::invalid_verb, 1, 500},
      {" MAIL FROM:<a@b>", errc::invalid_verb, 0, 500},
      {"DATA\tx", errc::invalid_verb, 4, 500},
      {"DATA x", errc::unexpected_argument, 4, 501},
      {"QUIT now", errc::unexpected_argument, 4, 501},
      {"RSET x", errc::unexpected_argument, 4, 501},
      {"STARTTLS x", errc::unexpected_argument, 8, 501},
      {"EHLO", errc::missing_argument, 4, 501},
      {"EHLO  x.example", errc::invalid_character, 5, 501},
      {"EHLO x.example extra", errc::invalid_character, 14, 501},
      {"EHLO [1.2.3.4] extra", errc::trailing_characters, 14, 501},
      {"HELO [192.0.2.1]", errc::address_literal_in_helo, 5, 501},
      {"EHLO host_name", errc::invalid_character, 9, 501},
      {"VRFY", errc::missing_argument, 4, 501},
      {"VRFY <a@b>", errc::invalid_character, 5, 501},
      {"VRFY \"unterminated", errc::invalid_character, 18, 501},
      {"EXPN a b", errc::invalid_character, 6, 501},
      {"HELP a b", errc::invalid_character, 6, 501},
      {"BDAT", errc::missing_argument, 4, 501},
      {"BDAT x", errc::bad_parameter_value, 5, 501},
      {"BDAT -1", errc::bad_parameter_value, 5, 501},
      {"BDAT 10 FIRST", errc::bad_parameter_value, 8, 501},
      {"BDAT 10 LAST x", errc::bad_parameter_value, 8, 501},
      {"AUTH", errc::missing_argument, 4, 501},
      {"AUTH plain", errc::bad_auth_mechanism, 5, 501},
      {"AUTH PLAIN abc", errc::bad_initial_response, 11, 501},
      {"AUTH PLAIN ab=c", errc::bad_initial_response, 13, 501},
      {"AUTH PLAIN a===", errc::bad_initial_response, 12, 501},
      {"AUTH PLAIN ====", errc::bad_initial_response, 11, 501},
      {"XFOO \x01", errc::invalid_character, 5, 501},
      {"XFOO \xc3\xa9", errc::invalid_character, 5, 501},
      // With SMTPUTF8 an unknown verb's argument must be UTF-8, as VRFY's must.
      {"XFOO \xff\xfe", errc::bad_utf8, 5, 501, "u"},
      {"XFOO a \xc3\xa9 \xc3", errc::bad_utf8, 11, 501, "u"},  // cut short at the end
      {"VRFY \xff\xfe", errc::bad_utf8, 5, 501, "u"},
      {"MAIL FROM:<a@b>\n", errc::bare_lf, 15, 500},
  };
  for (const auto& c : cases) check_reject(c);
}

TEST_CASE("ESMTP parameters: typed values (RFC 1870, 2852, 3461, 4865, 4954, 6152, 6531, 6710, 7293, 8689)") {
  const std::vector<accept_case> cases = {
      {"MAIL FROM:<a@b> SIZE=0", "MAIL <a@b> {SIZE=0} size=0"},
      {"MAIL FROM:<a@b> SIZE=18446744073709551615",
       "MAIL <a@b> {SIZE=18446744073709551615} size=18446744073709551615"},
      {"MAIL FROM:<a@b> size=100 body=8bitmime", "MAIL <a@b> {size=100 body=8bitmime} size=100 body=2"},
      {"MAIL FROM:<a@b> BODY=7BIT", "MAIL <a@b> {BODY=7BIT} body=1"},
      {"MAIL FROM:<a@b> BODY=BINARYMIME", "MAIL <a@b> {BODY=BINARYMIME} body=3"},
      {"MAIL FROM:<a@b> SMTPUTF8 REQUIRETLS", "MAIL <a@b> {SMTPUTF8 REQUIRETLS} smtputf8 requiretls"},
      {"MAIL FROM:<a@b> RET=HDRS ENVID=QQ314159",
       "MAIL <a@b> {RET=HDRS ENVID=QQ314159} ret=hdrs envid=[QQ314159]"},
      {"MAIL FROM:<a@b> RET=full", "MAIL <a@b> {RET=full} ret=full"},
      {"MAIL FROM:<a@b> ENVID=a+2Bb+3Dc", "MAIL <a@b> {ENVID=a+2Bb+3Dc} envid=[a+2Bb+3Dc]"},
      {"MAIL FROM:<a@b> AUTH=<>", "MAIL <a@b> {AUTH=<>} auth=[<>]"},
      {"MAIL FROM:<a@b> AUTH=e+3Dmc2@example.com",
       "MAIL <a@b> {AUTH=e+3Dmc2@example.com} auth=[e+3Dmc2@example.com]"},
      {"MAIL FROM:<a@b> BY=120;R", "MAIL <a@b> {BY=120;R} by=120R"},
      {"MAIL FROM:<a@b> BY=-60;nt", "MAIL <a@b> {BY=-60;nt} by=-60NT"},
      {"MAIL FROM:<a@b> BY=0;N", "MAIL <a@b> {BY=0;N} by=0N"},
      {"MAIL FROM:<a@b> BY=+999999999;N", "MAIL <a@b> {BY=+999999999;N} by=999999999N"},
      {"MAIL FROM:<a@b> MT-PRIORITY=3", "MAIL <a@b> {MT-PRIORITY=3} mt-priority=3"},
      {"MAIL FROM:<a@b> MT-PRIORITY=-9", "MAIL <a@b> {MT-PRIORITY=-9} mt-priority=-9"},
      {"MAIL FROM:<a@b> HOLDFOR=999999999", "MAIL <a@b> {HOLDFOR=999999999} holdfor=999999999"},
      {"MAIL FROM:<a@b> HOLDUNTIL=2026-11-28T10:00:00Z",
       "MAIL <a@b> {HOLDUNTIL=2026-11-28T10:00:00Z} holduntil=[2026-11-28T10:00:00Z]"},
      {"MAIL FROM:<a@b> HOLDUNTIL=2026-11-28t10:00:60.25-05:30",
       "MAIL <a@b> {HOLDUNTIL=2026-11-28t10:00:60.25-05:30} holduntil=[2026-11-28t10:00:60.25-05:30]"},
      {"RCPT TO:<a@b> NOTIFY=NEVER", "RCPT <a@b> {NOTIFY=NEVER} notify=1"},
      {"RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE,DELAY", "RCPT <a@b> {NOTIFY=SUCCESS,FAILURE,DELAY} notify=14"},
      {"RCPT TO:<a@b> notify=delay", "RCPT <a@b> {notify=delay} notify=8"},
      {"RCPT TO:<a@b> ORCPT=rfc822;a+40b", "RCPT <a@b> {ORCPT=rfc822;a+40b} orcpt=rfc822;a+40b"},
      {"RCPT TO:<a@b> RRVS=2014-04-03T23:01:00Z",
       "RCPT <a@b> {RRVS=2014-04-03T23:01:00Z} rrvs=2014-04-03T23:01:00Z"},
      {"RCPT TO:<a@b> RRVS=2014-04-03T23:01:00Z;c",
       "RCPT <a@b> {RRVS=2014-04-03T23:01:00Z;c} rrvs=2014-04-03T23:01:00ZC"},
      {"MAIL FROM:<a@b> XFOO=1 X-BAR", "MAIL <a@b> {XFOO=1 X-BAR}", "k"},
  };
  for (const auto& c : cases) check_accept(c);
  const auto m = parse::command_line("MAIL FROM:<a@b> SIZE=1 X-Y=2 Z", {.allow_unknown_parameters = true});
  REQUIRE(m);
  std::vector<std::string> seen;
  for (const auto& p : std::get<cmd::mail>(*m).params.params())
    seen.push_back(std::string(p.keyword) + (p.has_value ? "=" + std::string(p.value) : ""));
  CHECK(seen == std::vector<std::string>{"SIZE=1", "X-Y=2", "Z"});
}

TEST_CASE("ESMTP parameter errors carry 501, 504 or 555") {
  const std::vector<reject_case> cases = {
      {"MAIL FROM:<a@b> FOO=1", errc::unknown_parameter, 16, 555},
      {"MAIL FROM:<a@b> NOTIFY=NEVER", errc::unknown_parameter, 16, 555},
      {"RCPT TO:<a@b> SIZE=1", errc::unknown_parameter, 14, 555},
      {"RCPT TO:<a@b> SIZE=1", errc::unknown_parameter, 14, 555, "k"},
      {"MAIL FROM:<a@b> SIZE=1 size=2", errc::duplicate_parameter, 23, 501},
      {"MAIL FROM:<a@b> X=1 x=2", errc::duplicate_parameter, 20, 501, "k"},
      {"MAIL FROM:<a@b>  SIZE=1", errc::bad_parameter, 16, 501},
      {"MAIL FROM:<a@b> SIZE=", errc::bad_parameter, 21, 501},
      {"MAIL FROM:<a@b> =1", errc::bad_parameter, 16, 501},
      {"MAIL FROM:<a@b> -X=1", errc::bad_parameter, 16, 501},
      {"MAIL FROM:<a@b> SIZE=1=2", errc::bad_parameter, 22, 501},
      {"MAIL FROM:<a@b> SIZE", errc::bad_parameter_value, 20, 501},
      {"MAIL FROM:<a@b> SIZE=12a", errc::bad_parameter_value, 23, 501},
      {"MAIL FROM:<a@b> SIZE=18446744073709551616", errc::value_out_of_range, 21, 552},
      {"MAIL FROM:<a@b> SIZE=99999999999999999999", errc::value_out_of_range, 21, 552},
      {"MAIL FROM:<a@b> SIZE=123456789012345678901", errc::bad_parameter_value, 41, 501},
      {"MAIL FROM:<a@b> BODY=9BITMIME", errc::unsupported_parameter_value, 21, 504},
      {"MAIL FROM:<a@b> SMTPUTF8=yes", errc::bad_parameter_value, 25, 501},
      {"MAIL FROM:<a@b> REQUIRETLS=1", errc::bad_parameter_value, 27, 501},
      {"MAIL FROM:<a@b> RET=ALL", errc::unsupported_parameter_value, 20, 504},
      {"MAIL FROM:<a@b> ENVID=a+2b", errc::bad_xtext, 23, 501},
      {"MAIL FROM:<a@b> ENVID=a+2", errc::bad_xtext, 23, 501},
      {"MAIL FROM:<a@b> ENVID=a+0D+0A", errc::forbidden_octet_in_xtext, 23, 501},
      {"MAIL FROM:<a@b> ENVID=+00", errc::forbidden_octet_in_xtext, 22, 501},
      {"MAIL FROM:<a@b> AUTH=+0A", errc::forbidden_octet_in_xtext, 21, 501},
      {"MAIL FROM:<a@b> BY=120", errc::bad_parameter_value, 22, 501},
      {"MAIL FROM:<a@b> BY=120;X", errc::bad_parameter_value, 23, 501},
      {"MAIL FROM:<a@b> BY=120;RX", errc::bad_parameter_value, 24, 501},
      {"MAIL FROM:<a@b> BY=1234567890;R", errc::value_out_of_range, 19, 501},
      {"MAIL FROM:<a@b> BY=0;R", errc::bad_parameter_value, 19, 501},
      {"MAIL FROM:<a@b> BY=-5;RT", errc::bad_parameter_value, 19, 501},
      {"MAIL FROM:<a@b> MT-PRIORITY=10", errc::value_out_of_range, 28, 501},
      {"MAIL FROM:<a@b> MT-PRIORITY=x", errc::bad_parameter_value, 28, 501},
      {"MAIL FROM:<a@b> HOLDFOR=1234567890", errc::value_out_of_range, 24, 501},
      {"MAIL FROM:<a@b> HOLDUNTIL=2026-13-01T00:00:00Z", errc::bad_parameter_value, 30, 501},
      {"MAIL FROM:<a@b> HOLDUNTIL=2026-11-28T10:00:00", errc::bad_parameter_value, 45, 501},
      {"RCPT TO:<a@b> NOTIFY=NEVER,DELAY", errc::bad_parameter_value, 27, 501},
      {"RCPT TO:<a@b> NOTIFY=DELAY,NEVER", errc::bad_parameter_value, 27, 501},
      {"RCPT TO:<a@b> NOTIFY=DELAY,DELAY", errc::bad_parameter_value, 27, 501},
      {"RCPT TO:<a@b> NOTIFY=SOMETIMES", errc::unsupported_parameter_value, 21, 504},
      {"RCPT TO:<a@b> NOTIFY=SUCCESS,", errc::bad_parameter_value, 29, 501},
      {"RCPT TO:<a@b> ORCPT=rfc822", errc::bad_parameter_value, 26, 501},
      {"RCPT TO:<a@b> ORCPT=rfc822;", errc::bad_parameter_value, 27, 501},
      {"RCPT TO:<a@b> ORCPT=rfc822;a+0Db", errc::forbidden_octet_in_xtext, 28, 501},
      {"RCPT TO:<a@b> RRVS=2014-04-03T23:01:00Z;X", errc::bad_parameter_value, 40, 501},
      {"MAIL FROM:<a@b> X=\xc3\xa9", errc::bad_parameter, 18, 501, "k"},
  };
  for (const auto& c : cases) check_reject(c);
  CHECK(parse::command_line("MAIL FROM:<a@b> FOO=1").error().enhanced == enhanced_status{5, 5, 4});
}

TEST_CASE("ESMTP parameters: RFC corner cases (RFC 1870, 3339, 4865, 4954)") {
  const std::vector<reject_case> rejects = {
      // RFC 4865 §4.1-4.2: one hold-param per MAIL, in either spelling.
      {"MAIL FROM:<a@b> HOLDFOR=60 HOLDUNTIL=2026-11-28T10:00:00Z", errc::duplicate_parameter, 27, 501},
      {"MAIL FROM:<a@b> HOLDUNTIL=2026-11-28T10:00:00Z holdfor=60", errc::duplicate_parameter, 47, 501},
      // RFC 4954 §5: the decoded xtext is "<>" or an addr-spec.
      {"MAIL FROM:<a@b> AUTH=<x>", errc::bad_parameter_value, 21, 501},
      {"MAIL FROM:<a@b> AUTH=foo", errc::bad_parameter_value, 24, 501},
      {"MAIL FROM:<a@b> AUTH=<>x", errc::bad_parameter_value, 21, 501},
      {"MAIL FROM:<a@b> AUTH=a@b+20c", errc::bad_parameter_value, 21, 501},
      // RFC 3339 §5.7: the day exists in its month; Gregorian leap years.
      {"MAIL FROM:<a@b> HOLDUNTIL=2024-02-31T00:00:00Z", errc::bad_parameter_value, 33, 501},
      {"MAIL FROM:<a@b> HOLDUNTIL=2023-02-29T00:00:00Z", errc::bad_parameter_value, 33, 501},
      {"MAIL FROM:<a@b> HOLDUNTIL=2100-02-29T00:00:00Z", errc::bad_parameter_value, 33, 501},
      {"MAIL FROM:<a@b> HOLDUNTIL=2026-04-31T00:00:00Z", errc::bad_parameter_value, 33, 501},
      {"RCPT TO:<a@b> RRVS=2014-11-31T23:01:00Z", errc::bad_parameter_value, 26, 501},
  };
  for (const auto& c : rejects) check_reject(c);
  const std::vector<accept_case> accepts = {
      {"MAIL FROM:<a@b> AUTH=+3C+3E", "MAIL <a@b> {AUTH=+3C+3E} auth=[+3C+3E]"},
      {"MAIL FROM:<a@b> AUTH=\"a+20b\"@[192.0.2.1]",
       "MAIL <a@b> {AUTH=\"a+20b\"@[192.0.2.1]} auth=[\"a+20b\"@[192.0.2.1]]"},
      {"MAIL FROM:<a@b> HOLDUNTIL=2024-02-29T00:00:00Z",
       "MAIL <a@b> {HOLDUNTIL=2024-02-29T00:00:00Z} holduntil=[2024-02-29T00:00:00Z]"},
      {"MAIL FROM:<a@b> HOLDUNTIL=2000-02-29T00:00:00Z",
       "MAIL <a@b> {HOLDUNTIL=2000-02-29T00:00:00Z} holduntil=[2000-02-29T00:00:00Z]"},
      {"RCPT TO:<a@b> RRVS=2014-12-31T23:01:00Z",
       "RCPT <a@b> {RRVS=2014-12-31T23:01:00Z} rrvs=2014-12-31T23:01:00Z"},
  };
  for (const auto& c : accepts) check_accept(c);
  const auto null_auth = parse::mail_parameters("AUTH=+3C+3E");
  REQUIRE(null_auth);
  CHECK(xtext_decode(*null_auth->auth) == "<>");

  // RFC 1870 §6.1: over the fixed maximum is 552, RFC 3463 X.3.4; a
  // size-value beyond 2^64-1 is over any maximum. More than 20 digits is a
  // syntax error instead (501).
  const auto big = parse::command_line("MAIL FROM:<a@b> SIZE=18446744073709551616");
  REQUIRE_FALSE(big);
  CHECK(big.error().reply == 552);
  CHECK(big.error().enhanced == enhanced_status{5, 3, 4});
  // Every parameter error is X.5.4 (invalid command arguments), bad UTF-8 in
  // a value included; X.1.7 is for the sender's address.
  const auto envid = parse::command_line("MAIL FROM:<a@b> SMTPUTF8 ENVID=\xc3", {.smtputf8 = true});
  REQUIRE_FALSE(envid);
  CHECK(envid.error().code == errc::bad_utf8);
  CHECK(envid.error().reply == 501);
  CHECK(envid.error().enhanced == enhanced_status{5, 5, 4});
  const auto rcpt_value =
      parse::command_line("RCPT TO:<a@b> X=\xc3", {.smtputf8 = true, .allow_unknown_parameters = true});
  REQUIRE_FALSE(rcpt_value);
  CHECK(rcpt_value.error().enhanced == enhanced_status{5, 5, 4});
  const auto hold = parse::command_line("MAIL FROM:<a@b> HOLDFOR=1 HOLDUNTIL=2026-11-28T10:00:00Z");
  REQUIRE_FALSE(hold);
  CHECK(hold.error().enhanced == enhanced_status{5, 5, 4});
  CHECK(parse::command_line("MAIL FROM:<a..b@c> SIZE=1").error().enhanced == enhanced_status{5, 1, 7});
}

// 20000 unknown keywords (allowed, no line limit): distinct ones pass, and a
// repeat is found wherever it is, in any case. The lines are larger than the
// guarded page, so they run whole and followed by unrelated bytes.
TEST_CASE("ESMTP parameters: duplicates among thousands of unknown keywords") {
  const command_options wide{.max_line_length = 0, .allow_unknown_parameters = true};
  const auto both_ways = [&](const std::string& line,
                             const std::function<void(const parse_result<command, command_error>&)>& check) {
    check(parse::command_line(line, wide));
    const std::string padded = line + " X0 x0\r\n";
    check(parse::command_line(std::string_view(padded).substr(0, line.size()), wide));
  };
  std::string params;
  for (int i = 0; i < 20000; ++i) params += " X" + std::to_string(i);
  const std::string line = "MAIL FROM:<a@b>" + params;
  both_ways(line, [](const auto& r) {
    REQUIRE(r);
    std::size_t count = 0;
    for (const auto& p : std::get<cmd::mail>(*r).params.params()) count += p.keyword.front() == 'X';
    CHECK(count == 20000);
  });
  // The first keyword again at the end, in another case; the last one again.
  for (const std::string repeat : {" x0", " X19999=v"}) {
    INFO(repeat);
    both_ways(line + repeat, [&](const auto& r) {
      REQUIRE_FALSE(r);
      CHECK(r.error().code == errc::duplicate_parameter);
      CHECK(r.error().offset == line.size() + 1);
      CHECK(r.error().reply == 501);
    });
  }
  // Early, before the inline list is full.
  check_reject({"MAIL FROM:<a@b> X1 X-2 X3 x-2", errc::duplicate_parameter, 26, 501, "k"});
}

// Parameter texts of many lengths ending in a good or a bad octet, a
// duplicate at the very end, and keywords one octet away from a known one
// (octets that fold with | 0x20 onto a letter, digit or hyphen must not match).
TEST_CASE("ESMTP parameters: errors at the last octet and near-miss keywords") {
  for (std::size_t total = 60; total <= 70; ++total) {
    // "ENVID=" + xchars filling the text to `total` octets.
    const std::string text = "ENVID=" + repeat('x', total - 6);
    INFO(total);
    const auto ok = parse::mail_parameters(text);
    REQUIRE(ok);
    CHECK(ok->envid == std::string_view(text).substr(6));
    CHECK(ok->text == text);
    // The same with an SP before a second parameter at the end.
    const std::string two = "SIZE=1 ENVID=" + repeat('x', total - 13);
    const auto both = parse::mail_parameters(two);
    REQUIRE(both);
    CHECK(both->size == 1u);
    CHECK(both->envid == std::string_view(two).substr(13));
    // A DEL, an 8-bit octet, a trailing SP and a second "=" as the last octet.
    for (const char bad : {'\x7f', '\x80', ' ', '='}) {
      std::string broken = text;
      broken.back() = bad;
      const auto e = parse::mail_parameters(broken);
      REQUIRE_FALSE(e);
      CHECK(e.error().code == errc::bad_parameter);
      CHECK(e.error().offset == (bad == ' ' ? total : total - 1));
    }
    // The same parameter twice, the second ending at the last octet.
    const std::string dup = "SIZE=1 " + std::string("size=") + repeat('1', total - 12);
    const auto d = parse::mail_parameters(dup);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == errc::duplicate_parameter);
    CHECK(d.error().offset == 7u);
  }
  // Keywords one octet away from a known one: folding with | 0x20 maps CR,
  // 0x18 and DEL-range octets near "-", "8" and letters; none may match.
  const std::vector<std::pair<std::string, errc>> near_misses = {
      {"MT\rPRIORITY=1", errc::bad_parameter},
      {"SMTPUTF\x18", errc::bad_parameter},
      {"SMTPUTF8\x7f", errc::bad_parameter},
      {"S\x49ZE=1", errc::ok},
      {"SIZ%=1", errc::bad_parameter},
      {"SIZ\x05=1", errc::bad_parameter},
      {"3IZE=1", errc::unknown_parameter},
      {"sIzE=1 BoDy=8bItMiMe", errc::ok},
      {"SIZE=1 BODY=8BITMIME ", errc::bad_parameter},
      {"SIZE=1  BODY=7BIT", errc::bad_parameter},
  };
  for (const auto& [text, code] : near_misses) {
    INFO(text);
    const auto r = parse::mail_parameters(text);
    CHECK((r ? errc::ok : r.error().code) == code);
  }
}

TEST_CASE("SMTPUTF8: UTF-8 addresses only when in effect (RFC 6531)") {
  // Without the option, any non-ASCII octet is refused with 553 5.6.7.
  check_reject({"MAIL FROM:<j\xc3\xb6rg@example.com> SMTPUTF8", errc::non_ascii_address, 12, 553});
  check_reject(
      {"RCPT TO:<user@b\xc3\xbc"
       "cher.example>",
       errc::non_ascii_address, 15, 553});
  check_accept({"MAIL FROM:<j\xc3\xb6rg@example.com> SMTPUTF8",
                "MAIL <j\xc3\xb6rg@example.com> {SMTPUTF8} smtputf8", "u"});
  check_accept({"RCPT TO:<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a>",
                "RCPT <\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a> {}", "u"});
  check_accept({"RCPT TO:<\"\xc3\xa9 x\"@example.com>", "RCPT <\"\xc3\xa9 x\"@example.com> {}", "u"});
  check_accept({"MAIL FROM:<a@b> SMTPUTF8 ENVID=x", "MAIL <a@b> {SMTPUTF8 ENVID=x} smtputf8 envid=[x]", "u"});
  check_accept({"VRFY \xc3\xa9", "VRFY [\xc3\xa9]", "u"});
  check_accept({"XFOO \xc3\xa9 x", "unknown XFOO [\xc3\xa9 x]", "u"});
  // RFC 6531 §3.4: a non-ASCII reverse-path needs SMTPUTF8 on the same MAIL.
  check_reject({"MAIL FROM:<j\xc3\xb6rg@example.com>", errc::non_ascii_address, 12, 553, "u"});
  // In effect, it must still be UTF-8 and IDNA2008.
  check_reject({"RCPT TO:<j\xf6rg@example.com>", errc::bad_utf8, 10, 501, "u"});
  check_reject({"RCPT TO:<a@\xc0\xaf.example>", errc::bad_utf8, 11, 501, "u"});
  check_reject(
      {"RCPT TO:<a@ex\xe2\x80\x8b"
       "ample.com>",
       errc::bad_u_label, 11, 501, "u"});
  check_reject({"RCPT TO:<a@b> ORCPT=rfc822;\xc3\xa9", errc::bad_xtext, 27, 501, "u"});
  // EHLO stays ASCII (RFC 6531 §3.7.1).
  check_reject(
      {"EHLO b\xc3\xbc"
       "cher.example",
       errc::invalid_character, 6, 501, "u"});
}

TEST_CASE("limits are tested at N and N+1 (RFC 5321 4.5.3.1)") {
  SECTION("command line 512 octets including CRLF") {
    const std::string head = "NOOP ";
    const auto at = [&](std::size_t total) { return head + repeat('a', total - head.size() - 2) + "\r\n"; };
    CHECK(parse::command_line(at(512)));
    check_reject({at(513), errc::line_too_long, 510, 500});
    // Configurable; 0 turns it off.
    CHECK(parse::command_line(at(513), {.max_line_length = 513}));
    CHECK(parse::command_line(at(4000), {.max_line_length = 0}));
    CHECK(parse::command_line(at(20), {.max_line_length = 20}));
    const auto r = parse::command_line(at(21), {.max_line_length = 20});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::line_too_long);
    CHECK(r.error().offset == 18);
  }
  SECTION("local part 64 octets") {
    CHECK(parse::command_line("MAIL FROM:<" + repeat('l', 64) + "@example.com>"));
    check_reject({"MAIL FROM:<" + repeat('l', 65) + "@example.com>", errc::local_part_too_long, 75, 501});
    check_reject({"MAIL FROM:<\"" + repeat('l', 63) + "\"@example.com>", errc::local_part_too_long, 75, 501});
    CHECK(parse::command_line("MAIL FROM:<" + repeat('l', 65) + "@example.com>", {.max_local_part = 65}));
  }
  SECTION("domain 255 octets, label 63") {
    CHECK(parse::command_line("RCPT TO:<a@" + domain_of(255) + ">", {.max_path = 0}));
    check_reject({"RCPT TO:<a@" + domain_of(256) + ">", errc::domain_too_long, 266, 501, "p"});
    CHECK(parse::command_line("RCPT TO:<a@" + repeat('x', 63) + ".example>"));
    check_reject({"RCPT TO:<a@" + repeat('x', 64) + ".example>", errc::label_too_long, 74, 501});
    check_reject({"RCPT TO:<@" + repeat('x', 64) + ".example:a@b>", errc::label_too_long, 73, 501});
  }
  SECTION("path 256 octets including the brackets") {
    const auto path_of = [](std::size_t n) { return "<" + repeat('l', 64) + "@" + domain_of(n - 67) + ">"; };
    REQUIRE(path_of(256).size() == 256);
    CHECK(parse::command_line("RCPT TO:" + path_of(256)));
    check_reject({"RCPT TO:" + path_of(257), errc::path_too_long, 8 + 256, 501});
    CHECK(parse::command_line("RCPT TO:" + path_of(257), {.max_path = 257}));
  }
  SECTION("ENVID 100 and ORCPT 500 characters (RFC 3461 4.4, 4.2)") {
    CHECK(parse::command_line("MAIL FROM:<a@b> ENVID=" + repeat('e', 100)));
    check_reject({"MAIL FROM:<a@b> ENVID=" + repeat('e', 101), errc::parameter_too_long, 122, 501});
    const command_options wide{.max_line_length = 1000};
    const std::string orcpt = "RCPT TO:<a@b> ORCPT=rfc822;";
    CHECK(parse::command_line(orcpt + repeat('o', 493), wide));
    const auto r = parse::command_line(orcpt + repeat('o', 494), wide);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::parameter_too_long);
    CHECK(r.error().offset == 20 + 500);
  }
  SECTION("numbers: SIZE 20 digits, HOLDFOR and BY 9 digits, BDAT 64 bits, SASL names 20") {
    CHECK(parse::command_line("MAIL FROM:<a@b> SIZE=00000000000000000001"));
    check_reject({"MAIL FROM:<a@b> SIZE=000000000000000000001", errc::bad_parameter_value, 41, 501});
    CHECK(parse::command_line("MAIL FROM:<a@b> HOLDFOR=000000001"));
    check_reject({"MAIL FROM:<a@b> HOLDFOR=0000000001", errc::value_out_of_range, 24, 501});
    CHECK(parse::command_line("MAIL FROM:<a@b> BY=000000001;R"));
    check_reject({"MAIL FROM:<a@b> BY=0000000001;R", errc::value_out_of_range, 19, 501});
    CHECK(parse::command_line("BDAT 18446744073709551615"));
    check_reject({"BDAT 18446744073709551616", errc::value_out_of_range, 5, 501});
    CHECK(parse::command_line("AUTH " + repeat('M', 20)));
    check_reject({"AUTH " + repeat('M', 21), errc::bad_auth_mechanism, 25, 501});
  }
}

TEST_CASE("serializer writes canonical lines and refuses injection through every field") {
  std::string out;
  const auto host = parse::ehlo_argument("client.example").value();
  REQUIRE_FALSE(serialize(cmd::ehlo{host}, out));
  REQUIRE_FALSE(serialize(cmd::mail{path{"user", "example.com"}, {}}, out));
  const auto params = parse::rcpt_parameters("NOTIFY=FAILURE").value();
  REQUIRE_FALSE(serialize(cmd::rcpt{path{"Postmaster", ""}, params}, out));
  REQUIRE_FALSE(serialize(cmd::bdat{42, true}, out));
  REQUIRE_FALSE(serialize(cmd::auth{"PLAIN", "="}, out));
  REQUIRE_FALSE(serialize(cmd::help{}, out));
  CHECK(out ==
        "EHLO client.example\r\nMAIL FROM:<user@example.com>\r\nRCPT TO:<Postmaster> NOTIFY=FAILURE\r\n"
        "BDAT 42 LAST\r\nAUTH PLAIN =\r\nHELP\r\n");

  // Each field carries a smuggled second command; nothing may be written.
  const std::vector<std::string> payloads = {
      "x\r\nRCPT TO:<evil@example.net>",
      "x\nRCPT TO:<evil@example.net>",
      "x\rRCPT",
      std::string("x\0y", 3),
  };
  for (const auto& bad : payloads) {
    INFO("payload: " << test::opt(bad));
    const std::string_view b = bad;
    ehlo_host h = host;
    h.text = b;
    const std::vector<command> commands = {
        cmd::ehlo{h},
        cmd::helo{h},
        cmd::lhlo{h},
        cmd::mail{path{b, "example.com"}, {}},
        cmd::mail{path{"user", b}, {}},
        cmd::mail{path{"user", "example.com"}, mail_parameters{.text = b}},
        cmd::rcpt{path{b, "example.com"}, {}},
        cmd::rcpt{path{"user", b}, {}},
        cmd::rcpt{path{"user", "example.com"}, rcpt_parameters{.text = b}},
        cmd::vrfy{b},
        cmd::expn{b},
        cmd::help{b},
        cmd::noop{b},
        cmd::auth{b, std::nullopt},
        cmd::auth{"PLAIN", b},
        cmd::unknown{b, std::nullopt},
        cmd::unknown{"XFOO", b},
    };
    for (const auto& c : commands) {
      INFO("command: " << c.index());
      std::string sink = "kept";
      const auto ec = serialize(c, sink);
      CHECK(ec);
      CHECK(sink == "kept");
    }
  }
  // Path fields also refuse what would end or bend the path.
  for (const std::string_view bad : {"x>", "x> SIZE=1", " ", "a b", "<x"}) {
    INFO("payload: " << bad);
    std::string sink = "kept";
    CHECK(serialize(cmd::mail{path{bad, "example.com"}, {}}, sink));
    CHECK(serialize(cmd::rcpt{path{"user", bad}, {}}, sink));
    CHECK(serialize(cmd::vrfy{bad}, sink));
    CHECK(sink == "kept");
  }
  // The codes say why.
  std::string sink;
  CHECK(serialize(cmd::vrfy{"a\r\nQUIT"}, sink) == errc::invalid_character);
  CHECK(serialize(cmd::vrfy{"a\nQUIT"}, sink) == errc::bare_lf);
  CHECK(serialize(cmd::vrfy{"a\rQUIT"}, sink) == errc::bare_cr);
  CHECK(serialize(cmd::noop{std::string_view(std::string(600, 'a'))}, sink) == errc::line_too_long);
  // An unknown verb may not pose as a known one, nor typed fields disagree with the text.
  CHECK(serialize(cmd::unknown{"MAIL", "FROM:<a@b>"}, sink) == errc::inconsistent_command);
  CHECK(serialize(cmd::mail{path{"a", "b"}, mail_parameters{.text = "SIZE=5"}}, sink) ==
        errc::inconsistent_command);
  CHECK(sink.empty());
}

TEST_CASE("builders: quote_local_part, xtext, esmtp_param_writer") {
  CHECK(quote_local_part("first.last") == "first.last");
  CHECK(quote_local_part("john smith") == "\"john smith\"");
  CHECK(quote_local_part("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(quote_local_part("a..b") == "\"a..b\"");
  CHECK(quote_local_part(".a") == "\".a\"");
  CHECK(quote_local_part("") == "\"\"");
  for (const std::string value : {"john smith", "a\"b\\c", "a..b", "", "x"}) {
    const auto local = quote_local_part(value);
    std::string out;
    REQUIRE_FALSE(serialize(cmd::mail{path{local, "example.com"}, {}}, out));
    const auto back = parse::command_line(out);
    REQUIRE(back);
    CHECK(std::get<cmd::mail>(*back).reverse_path.local_part_value() == value);
  }
  // A local part with a control character cannot be written at all.
  std::string out;
  CHECK(serialize(cmd::mail{path{quote_local_part("a\rb"), "example.com"}, {}}, out));

  CHECK(xtext_encode("a+b=c d\r") == "a+2Bb+3Dc+20d+0D");
  CHECK(xtext_decode("a+2Bb+3Dc+20d") == "a+b=c d");
  CHECK(xtext_valid("a+2Bb"));
  CHECK_FALSE(xtext_valid("a+2bb"));
  CHECK_FALSE(xtext_valid("a=b"));
  for (int c = 0; c < 256; ++c) {
    const std::string one(1, static_cast<char>(c));
    CHECK(xtext_decode(xtext_encode(one)) == one);
    // CR, LF and NUL encode, but the parser refuses them, and so does xtext_valid.
    CHECK(xtext_valid(xtext_encode(one)) == (c != '\r' && c != '\n' && c != 0));
  }
  for (const std::string_view forbidden : {"a+0D", "+0A", "x+00y"}) {
    INFO(forbidden);
    CHECK_FALSE(xtext_valid(forbidden));
    const auto r = parse::mail_parameters("ENVID=" + std::string(forbidden));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::forbidden_octet_in_xtext);
  }

  esmtp_param_writer w;
  w.size(1000).body(body_type::eight_bit_mime).ret(dsn_ret::hdrs).envid("id=1 2").add("SMTPUTF8");
  CHECK(w.text() == "SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=id+3D1+202 SMTPUTF8");
  const auto m = parse::mail_parameters(w.text());
  REQUIRE(m);
  CHECK(m->size == 1000u);
  CHECK(m->body == body_type::eight_bit_mime);
  CHECK(xtext_decode(*m->envid) == "id=1 2");
  esmtp_param_writer r;
  r.notify(notify::success | notify::delay).orcpt("rfc822", "a+b@example.com");
  CHECK(r.text() == "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+2Bb@example.com");
  const auto rp = parse::rcpt_parameters(r.text());
  REQUIRE(rp);
  CHECK(rp->notify == (notify::success | notify::delay));
  CHECK(xtext_decode(rp->orcpt->address) == "a+b@example.com");
  std::string line;
  REQUIRE_FALSE(serialize(cmd::rcpt{path{"a", "example.com"}, *rp}, line));
  CHECK(line == "RCPT TO:<a@example.com> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+2Bb@example.com\r\n");
}

TEST_CASE("parse::mailbox reads a bare Mailbox") {
  const auto m = parse::mailbox("\"a b\"@[192.0.2.1]");
  REQUIRE(m);
  CHECK(m->local_part == "\"a b\"");
  CHECK(m->domain == "[192.0.2.1]");
  CHECK(parse::mailbox("<a@b>").error().code == errc::bad_local_part);
  CHECK(parse::mailbox("a@b c").error().code == errc::trailing_characters);
  CHECK(parse::mailbox("a@b c").error().offset == 3);
  CHECK(parse::mailbox("ab").error().code == errc::bad_mailbox);
}

TEST_CASE("every prefix of a valid line is refused or accepted without reading past it") {
  const std::string lines[] = {
      "MAIL FROM:<\"q\\\"x\"@[IPv6:2001:db8::1]> SIZE=10 BODY=8BITMIME ENVID=a+2Bb BY=10;RT\r\n",
      "RCPT TO:<@a.example,@b.example:user@example.com> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;u+40d\r\n",
      "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
  };
  for (const auto& line : lines)
    for (std::size_t n = 0; n <= line.size(); ++n) {
      const auto prefix = std::string_view(line).substr(0, n);
      std::string first;
      for_each_placement(prefix, [&](std::string_view in) {
        const auto r = parse::command_line(in);
        const auto seen = r ? describe(*r)
                            : std::string(errc_name(r.error().code)) + "@" + std::to_string(r.error().offset);
        if (first.empty()) first = seen;
        CHECK(seen == first);
      });
    }
}

TEST_CASE("AUTH response lines (RFC 4954 section 4): base64, empty, cancel, limits") {
  const auto ok = [](std::string_view line, const auth_response_options& o = {}) {
    std::string got;
    const auto each = [&](std::string_view input, const std::function<void(std::string_view)>& check) {
      if (input.size() < 4000) return for_each_placement(input, check);
      check(std::string(input));  // beyond the guard page's size
    };
    each(line, [&](std::string_view in) {
      line_notes notes;
      const auto r = parse::auth_response(in, o, notes);
      std::string now = r ? (r->cancelled ? std::string("cancel") : "b64:" + std::string(r->base64))
                          : std::string(r.error().name()) + "@" + std::to_string(r.error().offset) + " " +
                                std::to_string(r.error().reply) + " " + to_string(*r.error().enhanced);
      if (r && notes.trailing_whitespace) now += " +ws" + std::to_string(notes.trailing_whitespace);
      if (got.empty()) got = now;
      CHECK(got == now);  // every placement agrees
    });
    return got;
  };
  CHECK(ok("dGVzdAB0ZXN0AHRlc3Q=\r\n") == "b64:dGVzdAB0ZXN0AHRlc3Q=");
  CHECK(ok("\r\n") == "b64:");  // an empty response
  CHECK(ok("*\r\n") == "cancel");
  CHECK(ok("AAAA  \r\n") == "b64:AAAA +ws2");  // tolerated (RFC 5321 4.1.1) and noted
  auth_response_options strict;
  strict.reject_trailing_whitespace = true;
  CHECK(ok("AAAA \r\n", strict) == "trailing_whitespace@4 501 5.5.2");
  CHECK(ok("AAA\r\n") == "bad_initial_response@0 501 5.5.2");
  CHECK(ok("AA=A\r\n") == "bad_initial_response@2 501 5.5.2");
  CHECK(ok("** \r\n") == "bad_initial_response@0 501 5.5.2");
  CHECK(ok("AAAA\n") == "bare_lf@4 500 5.5.2");
  CHECK(ok("AA\rAA\r\n") == "bare_cr@2 500 5.5.2");
  CHECK(ok("AAAA\r\nQUIT\r\n") == "invalid_character@4 500 5.5.2");
  auth_response_options lf;
  lf.allow_bare_lf = true;
  CHECK(ok("AAAA\n", lf) == "b64:AAAA");
  // The limit: 12288 octets with CRLF by default; N accepted, N+1 refused.
  const std::string at_limit(12284, 'A');
  CHECK(ok(at_limit + "AA\r\n").substr(0, 4) == "bad_");  // 12288 octets: judged, not too long
  CHECK(ok(at_limit + "\r\n") == "b64:" + at_limit);
  CHECK(ok(at_limit + "AAAA\r\n") == "line_too_long@12286 500 5.5.6");
  auth_response_options small;
  small.max_line_length = 10;
  CHECK(ok("AAAAAAAA\r\n", small) == "b64:AAAAAAAA");
  CHECK(ok("AAAAAAAAAAAA\r\n", small) == "line_too_long@8 500 5.5.6");
  small.max_line_length = 0;  // no limit
  CHECK(ok(std::string(100000, 'A') + "\r\n", small).substr(0, 4) == "b64:");
}

// The initial response is checked 16 octets at a time; the first octet
// outside the base64 alphabet is still named where it is, for every length
// and position ("=" only in the last two places).
TEST_CASE("AUTH initial response: every length and position of a bad octet, as an octet-by-octet check finds it") {
  const auto reference = [](const std::string& r) -> std::size_t {  // RFC 4648 §4, padding at the end only
    if (r.empty() || r.size() % 4) return r.size() - r.size() % 4;
    for (std::size_t i = 0; i < r.size(); ++i) {
      const char c = r[i];
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/')
        continue;
      if (c == '=' && (i == r.size() - 1 || (i == r.size() - 2 && r[i + 1] == '='))) continue;
      return i;
    }
    return std::string::npos;
  };
  for (std::size_t len = 4; len <= 72; len += 4) {
    const std::string good(len, 'A');
    REQUIRE(parse::command_line("AUTH PLAIN " + good + "\r\n").has_value());
    for (std::size_t at = 0; at < len; ++at)
      for (const char bad : {'=', '-', '\x80', ' ', '\x7f', '@', '[', '`', '{', ':', '/'}) {
        std::string r = good;
        r[at] = bad;
        const auto want = reference(r);
        const auto got = parse::command_line("AUTH PLAIN " + r + "\r\n");
        if (bad == ' ') continue;  // a space ends the argument: another error
        if (want == std::string::npos) {
          CHECK(got.has_value());
        } else {
          REQUIRE(!got.has_value());
          CHECK(got.error().code == errc::bad_initial_response);
          CHECK(got.error().offset == 11 + want);
        }
      }
  }
}
