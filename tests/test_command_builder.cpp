// Owning commands built from values, and serialize() naming the field it
// refuses (issue 10: no lifetime traps when building commands).
#include <sansmtp/syntax/command_builder.hpp>

#include <catch2/catch.hpp>

#include "command_describe.hpp"

#include <string>
#include <vector>

using namespace sansmtp;
using sansmtp::test::describe;

namespace {

std::string error_of(const build_result& r) {
  if (r) return "accepted: " + std::string(r->line());
  return std::string(r.error().field) + " " + std::string(r.error().name()) + "@" +
         std::to_string(r.error().offset);
}

}  // namespace

TEST_CASE("builders write canonical lines that parse back to the command they hold") {
  esmtp_param_writer mail_params;
  mail_params.size(1024).body(body_type::eight_bit_mime).envid("id 1+2");
  const auto mail = make_mail("bob@example.org", mail_params);
  REQUIRE(mail);
  CHECK(mail->line() == "MAIL FROM:<bob@example.org> SIZE=1024 BODY=8BITMIME ENVID=id+201+2B2\r\n");
  const auto& m = std::get<cmd::mail>(mail->command());
  CHECK(m.params.size == 1024u);
  CHECK(m.reverse_path.domain == "example.org");

  esmtp_param_writer rcpt_params;
  rcpt_params.notify(notify::success | notify::failure).orcpt("rfc822", "bob@example.org");
  const auto rcpt = make_rcpt(mailbox_text("john smith", "example.org"), rcpt_params);
  REQUIRE(rcpt);
  CHECK(rcpt->line() ==
        "RCPT TO:<\"john smith\"@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org\r\n");
  CHECK(std::get<cmd::rcpt>(rcpt->command()).forward_path.local_part_value() == "john smith");

  const std::vector<std::pair<build_result, std::string>> simple = {
      {make_ehlo("client.example.com"), "EHLO client.example.com\r\n"},
      {make_ehlo("[192.0.2.1]"), "EHLO [192.0.2.1]\r\n"},
      {make_helo("client.example.com"), "HELO client.example.com\r\n"},
      {make_lhlo("client.example.com"), "LHLO client.example.com\r\n"},
      {make_mail(""), "MAIL FROM:<>\r\n"},
      {make_rcpt("Postmaster"), "RCPT TO:<Postmaster>\r\n"},
      {make_data(), "DATA\r\n"},
      {make_bdat(1000, true), "BDAT 1000 LAST\r\n"},
      {make_bdat(0, false), "BDAT 0\r\n"},
      {make_rset(), "RSET\r\n"},
      {make_quit(), "QUIT\r\n"},
      {make_starttls(), "STARTTLS\r\n"},
      {make_vrfy("postmaster"), "VRFY postmaster\r\n"},
      {make_expn("\"staff list\""), "EXPN \"staff list\"\r\n"},
      {make_help(), "HELP\r\n"},
      {make_help("MAIL"), "HELP MAIL\r\n"},
      {make_noop(), "NOOP\r\n"},
      {make_auth("PLAIN", "AGJvYgBzZWNyZXQ="), "AUTH PLAIN AGJvYgBzZWNyZXQ=\r\n"},
      {make_auth("LOGIN"), "AUTH LOGIN\r\n"},
      {make_auth("EXTERNAL", "="), "AUTH EXTERNAL =\r\n"},
  };
  for (const auto& [built, line] : simple) {
    INFO(line);
    REQUIRE(built);
    CHECK(built->line() == line);
    const auto again = parse::command_line(built->line());
    REQUIRE(again);
    CHECK(*again == built->command());
  }
}

TEST_CASE("an owned command is a value: copies and moves keep every view valid") {
  std::vector<owned_command> kept;
  {
    std::string address = "alice@example.net";  // dies before the commands are read
    const auto built = make_rcpt(address);
    REQUIRE(built);
    kept.push_back(*built);
    kept.push_back(*built);
    address.assign(address.size(), 'X');
  }
  for (int i = 0; i < 100; ++i) kept.push_back(kept.front());  // reallocations move them
  for (const auto& c : kept) {
    CHECK(describe(c.command()) == "RCPT <alice@example.net> {}");
    CHECK(std::get<cmd::rcpt>(*c).forward_path.local_part.data() >= c.line().data());
    CHECK(std::get<cmd::rcpt>(*c).forward_path.local_part.data() < c.line().data() + c.line().size());
  }
  // Short lines too (they would live inside a std::string object).
  auto quit = make_quit().value();
  const auto moved = std::move(quit);
  CHECK(moved.line() == "QUIT\r\n");
  CHECK(std::holds_alternative<cmd::quit>(*moved));
}

TEST_CASE("builders refuse bad values and name the field and the octet") {
  // Injection through every value: refused where it is given.
  CHECK(error_of(make_ehlo("client.example\r\nMAIL FROM:<a@b>")) == "host invalid_character@19");
  CHECK(error_of(make_ehlo("client.example extra")) == "host invalid_character@19");
  CHECK(error_of(make_ehlo("")) == "host empty_argument@5");
  CHECK(error_of(make_mail("a@b> SIZE=1")) == "reverse_path invalid_character@14");
  CHECK(error_of(make_mail("bob@example.org\r\nRCPT TO:<x@y>")) == "reverse_path invalid_character@26");
  CHECK(error_of(make_rcpt("no-at-sign")) == "forward_path bad_mailbox@19");
  CHECK(error_of(make_vrfy("a\r\nQUIT")) == "argument invalid_character@6");
  CHECK(error_of(make_noop("a b")) == "argument invalid_character@6");
  CHECK(error_of(make_noop("a ")) == "argument invalid_character@6");
  CHECK(error_of(make_auth("plain")) == "mechanism bad_auth_mechanism@5");
  CHECK(error_of(make_auth("PLAIN AAAA")) == "mechanism inconsistent_command@5");
  CHECK(error_of(make_auth("PLAIN", "AAAA BBBB")) == "initial_response bad_initial_response@19");
  CHECK(error_of(make_auth("PLAIN", "AAA")) == "initial_response bad_initial_response@11");
  // The address injection that only an option would let through: still refused.
  command_options unknown_ok;
  unknown_ok.allow_unknown_parameters = true;
  CHECK_FALSE(make_mail("a@b> X=y", {}, unknown_ok));
  // Limits of the options apply to what is built.
  command_options short_lines;
  short_lines.max_line_length = 20;
  CHECK(make_ehlo("abcdefghijklm", short_lines));       // 20 octets with CRLF
  CHECK(error_of(make_ehlo("abcdefghijklmn", short_lines)) == "host line_too_long@18");
  // Non-ASCII needs SMTPUTF8, in the address and the parameters.
  CHECK_FALSE(make_mail("j\xc3\xb6rg@example.org"));
  command_options utf8;
  utf8.smtputf8 = true;
  esmtp_param_writer smtputf8;
  smtputf8.add("SMTPUTF8");
  CHECK(make_mail("j\xc3\xb6rg@example.org", smtputf8, utf8));
}

TEST_CASE("esmtp_param_writer refuses bad parameters where they are written") {
  esmtp_param_writer never_and_success;
  never_and_success.size(10).notify(notify::never | notify::success).size(20);
  REQUIRE(never_and_success.error());
  CHECK(never_and_success.error()->field == "params");
  CHECK(never_and_success.error()->code == errc::bad_parameter_value);
  CHECK(never_and_success.error()->offset == 15);       // where NOTIFY's value would start
  CHECK(never_and_success.text() == "SIZE=10");          // nothing after the first error
  CHECK(error_of(make_rcpt("a@b.example", never_and_success)) == "params bad_parameter_value@15");

  esmtp_param_writer injected;
  injected.add("X", "a\r\nb");
  REQUIRE(injected.error());
  CHECK(injected.error()->code == errc::bare_cr);
  CHECK(injected.error()->offset == 3);
  CHECK(injected.text().empty());

  const auto refused_value = [](std::string_view keyword, std::string_view value) {
    esmtp_param_writer w;
    w.add(keyword, value);
    return w.error() ? std::string(w.error()->name()) : std::string("ok");
  };
  CHECK(refused_value("X", "a b") == "bad_parameter_value");
  CHECK(refused_value("X", "a=b") == "bad_parameter_value");
  CHECK(refused_value("X", "") == "bad_parameter_value");
  CHECK(refused_value("X", std::string_view("a\0b", 3)) == "bad_parameter_value");
  CHECK(refused_value("X", "a\nb") == "bare_lf");
  CHECK(refused_value("-X", "v") == "bad_parameter");
  CHECK(refused_value("X Y", "v") == "bad_parameter");
  CHECK(refused_value("X-1", "v!~") == "ok");
  esmtp_param_writer flags;
  flags.notify(0x10);
  CHECK(flags.error());
  esmtp_param_writer never;
  never.notify(notify::never);
  CHECK_FALSE(never.error());
  CHECK(never.text() == "NOTIFY=NEVER");
}

TEST_CASE("serialize names the field it refuses") {
  std::string out = "kept";
  // Only host.text set: the typed fields disagree with it.
  ehlo_host text_only;
  text_only.text = "client.example";
  auto e = serialize(cmd::ehlo{text_only}, out);
  CHECK(e.code == errc::inconsistent_command);
  CHECK(e.field == "host");
  CHECK(e.offset == 5);
  // A typed parameter without its text.
  mail_parameters sized;
  sized.size = 1000;
  e = serialize(cmd::mail{path{"a", "example.org"}, sized}, out);
  CHECK(e.code == errc::inconsistent_command);
  CHECK(e.field == "params.size");
  mail_parameters wrong;
  wrong.text = "SIZE=5";
  wrong.size = 6;
  CHECK(serialize(cmd::mail{path{"a", "example.org"}, wrong}, out).field == "params.size");
  // A field that breaks its grammar.
  e = serialize(cmd::rcpt{path{"a b", "example.org"}, {}}, out);
  CHECK(e.field == "forward_path");
  CHECK(e == errc::bad_mailbox);
  CHECK(e.offset == 10);
  e = serialize(cmd::mail{path{"a", "example.org"}, mail_parameters{.text = "SIZE=x"}}, out);
  CHECK(e.field == "params");
  CHECK(e == errc::bad_parameter_value);
  // Trailing white space is tolerated on receipt, never written.
  e = serialize(cmd::noop{"x "}, out);
  CHECK(e.field == "argument");
  CHECK(e == errc::trailing_whitespace);
  CHECK(e.offset == 6);
  e = serialize(cmd::unknown{"XFOO", "a\t"}, out);
  CHECK(e == errc::trailing_whitespace);
  // An unknown verb spelled like a known one.
  e = serialize(cmd::unknown{"MAIL", "FROM:<a@b>"}, out);
  CHECK(e == errc::inconsistent_command);
  CHECK(e.field == "verb");
  CHECK(out == "kept");
  // The error converts like std::error_code and names itself.
  CHECK_FALSE(serialize(cmd::quit{}, out));
  CHECK(e.error_code() == make_error_code(errc::inconsistent_command));
  CHECK(errc_name(e.error_code()) == "inconsistent_command");
  CHECK(errc_name(std::make_error_code(std::errc::invalid_argument)).empty());
}

TEST_CASE("make_command takes any command, parsed or assembled, and owns it") {
  std::string line = "MAIL FROM:<a@example.org> SIZE=10\r\n";
  const auto parsed = parse::command_line(line);
  REQUIRE(parsed);
  const auto owned = make_command(*parsed);
  line.clear();  // the parsed views die; the owned command does not
  REQUIRE(owned);
  CHECK(owned->line() == "MAIL FROM:<a@example.org> SIZE=10\r\n");
  CHECK(std::get<cmd::mail>(**owned).params.size == 10u);
}
