// sansmtp parse command, as a user runs it.
#include <catch2/catch.hpp>

#include "cli_helpers.hpp"

#include <nlohmann/json.hpp>

#include <string>

using sansmtp::test::has_raw_unicode_control;
using sansmtp::test::lines;
using sansmtp::test::run;
using json = nlohmann::json;

TEST_CASE("parse command --json: the documented fields per verb") {
  const std::string input =
      "EHLO [127.0.0.1]\r\n"
      "MAIL FROM:<a@b.example> SIZE=100 ENVID=x+2By AUTH=<> SMTPUTF8\r\n"
      "RCPT TO:<u@d.example> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;u+40d.example\r\n"
      "MAIL FROM:<>\r\n"
      "BDAT 10 LAST\r\n"
      "AUTH PLAIN\r\n"
      "VRFY postmaster\r\n"
      "HELP\r\n"
      "DATA\r\n";
  const auto r = run({"parse", "command", "--json"}, input);
  CHECK(r.status == 0);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 9);
  CHECK(json::parse(out[0]) == json::parse(R"({"verb":"EHLO","domain":"[127.0.0.1]"})"));
  CHECK(json::parse(out[1]) == json::parse(R"({"verb":"MAIL","reverse_path":"a@b.example",
                        "params":{"SIZE":"100","ENVID":"x+y","AUTH":"<>","SMTPUTF8":null}})"));
  CHECK(json::parse(out[2]) == json::parse(R"({"verb":"RCPT","forward_path":"u@d.example",
                        "params":{"NOTIFY":"SUCCESS,DELAY","ORCPT":"rfc822;u@d.example"}})"));
  CHECK(json::parse(out[3]) == json::parse(R"({"verb":"MAIL","reverse_path":"","params":{}})"));
  CHECK(json::parse(out[4]) == json::parse(R"({"verb":"BDAT","size":10,"last":true})"));
  CHECK(json::parse(out[5]) == json::parse(R"({"verb":"AUTH","mechanism":"PLAIN","initial_response":null})"));
  CHECK(json::parse(out[6]) == json::parse(R"({"verb":"VRFY","argument":"postmaster"})"));
  CHECK(json::parse(out[7]) == json::parse(R"({"verb":"HELP","argument":null})"));
  CHECK(json::parse(out[8]) == json::parse(R"({"verb":"DATA"})"));
}

TEST_CASE("parse command: an error line gives errc, reply and offset, and exit 2") {
  const auto r = run({"parse", "command", "--json"},
                     "MAIL FROM:<a@b>\r\nRCPT TO:<x@[1.2.3.4]\nMAIL FROM:<a@b> FOO=1\r\nQUIT\r\n");
  CHECK(r.status == 2);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 4);
  CHECK(json::parse(out[1]) ==
        json::parse(R"({"error":"bare_lf","reply":500,"enhanced":"5.5.2","offset":20})"));
  CHECK(json::parse(out[2]) ==
        json::parse(R"({"error":"unknown_parameter","reply":555,"enhanced":"5.5.4","offset":16})"));
  CHECK(json::parse(out[3]) == json::parse(R"({"verb":"QUIT"})"));
}

TEST_CASE("parse command: input that ends inside a line is incomplete, exit 2") {
  const auto r = run({"parse", "command", "--json"}, "NOOP\r\nQUIT");
  CHECK(r.status == 2);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 2);
  CHECK(json::parse(out[0]) == json::parse(R"({"verb":"NOOP","argument":null})"));
  CHECK(json::parse(out[1]) == json::parse(R"({"error":"incomplete","offset":4})"));
  // A CR without its LF is no line end either.
  const auto cr = run({"parse", "command", "--json"}, "QUIT\r");
  CHECK(cr.status == 2);
  CHECK(json::parse(lines(cr.out).at(0)) == json::parse(R"({"error":"incomplete","offset":5})"));
  const auto text = run({"parse", "command"}, "RSET");
  CHECK(text.status == 2);
  CHECK(text.out.find("1: incomplete") == 0);
  // Empty input: nothing to judge, nothing wrong.
  CHECK(run({"parse", "command", "--json"}, "").status == 0);
}

TEST_CASE("parse command: options --smtputf8 and the leniencies") {
  const std::string utf8 = "MAIL FROM:<j\xc3\xb6rg@example.com> SMTPUTF8\r\n";
  CHECK(run({"parse", "command", "--json"}, utf8).status == 2);
  CHECK(run({"parse", "command", "--json", "--smtputf8"}, utf8).status == 0);
  CHECK(run({"parse", "command"}, "MAIL FROM: <a@b>\r\n").status == 2);
  CHECK(run({"parse", "command", "--lenient-space-after-colon"}, "MAIL FROM: <a@b>\r\n").status == 0);
  CHECK(run({"parse", "command", "--lenient-bare-lf"}, "QUIT\n").status == 0);
  // --allow-X is the name (after command_options::allow_X); --lenient-X stays.
  CHECK(run({"parse", "command", "--allow-bare-lf"}, "QUIT\n").status == 0);
  CHECK(run({"parse", "command", "--allow-space-after-colon"}, "MAIL FROM: <a@b>\r\n").status == 0);
  CHECK(run({"parse", "command", "--allow-missing-brackets"}, "MAIL FROM:a@b\r\n").status == 0);
  CHECK(run({"parse", "command", "--allow-helo-literal"}, "HELO [192.0.2.1]\r\n").status == 0);
  CHECK(run({"parse", "command", "--max-line", "12"}, "NOOP 12345\r\n").status == 0);
  CHECK(run({"parse", "command", "--max-line", "12"}, "NOOP 123456\r\n").status == 2);
  CHECK(run({"parse", "command", "--max-line", "-5"}, "QUIT\r\n").status == 64);
  CHECK(run({"parse", "command", "--max-line", "18446744073709551617"}, "QUIT\r\n").status == 64);
  CHECK(run({"parse", "command", "--bogus"}, "QUIT\r\n").status == 64);
  CHECK(run({"parse", "nothing"}, "").status == 64);
}

TEST_CASE("parse command: trailing white space is tolerated and reported (RFC 5321 4.1.1)") {
  auto r = run({"parse", "command", "--json"}, "RSET   \r\nEHLO client.example \t\r\n");
  CHECK(r.status == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 2);
  CHECK(json::parse(out[0]) == json::parse(R"({"verb":"RSET","trailing_whitespace":3})"));
  CHECK(json::parse(out[1]) ==
        json::parse(R"({"verb":"EHLO","domain":"client.example","trailing_whitespace":2})"));
  r = run({"parse", "command", "--json", "--reject-trailing-whitespace"}, "RSET \r\n");
  CHECK(r.status == 2);
  CHECK(json::parse(lines(r.out).at(0))["error"] == "trailing_whitespace");
  // The old flag is accepted and changes nothing.
  CHECK(run({"parse", "command", "--lenient-trailing-whitespace"}, "RSET \r\n").status == 0);
  r = run({"parse", "command"}, "RSET \r\n");
  CHECK(r.out.find("tolerated 1 octets of trailing white space") != std::string::npos);
}

TEST_CASE("parse command: a line without its end is refused at the limit, as a server would") {
  const auto r = run({"parse", "command", "--json"}, "NOOP " + std::string(50000, 'a'));
  CHECK(r.status == 2);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 1);
  CHECK(json::parse(out[0]) ==
        json::parse(R"({"error":"line_too_long","reply":500,"enhanced":"5.5.2","offset":510})"));
  // Within the limit it is still only incomplete.
  CHECK(json::parse(lines(run({"parse", "command", "--json"}, "NOOP " + std::string(505, 'a')).out).at(0)) ==
        json::parse(R"({"error":"incomplete","offset":510})"));
}

TEST_CASE("parse command --smtputf8: C1 and bidirectional controls never reach the output raw") {
  for (const std::string control : {"\xc2\x9b", "\xc2\x85", "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x80\x8f"}) {
    const std::string input = "MAIL FROM:<j\xc3\xb6rg" + control +
                              "31m@example.com> SMTPUTF8\r\n"
                              "RCPT TO:<b" +
                              control + "@example.com>\r\nVRFY x" + control + "\r\n";
    for (const bool as_json : {false, true}) {
      std::vector<std::string> args{"parse", "command", "--smtputf8"};
      if (as_json) args.push_back("--json");
      const auto r = run(args, input);
      INFO(r.out);
      CHECK_FALSE(has_raw_unicode_control(r.out));
      CHECK_FALSE(has_raw_unicode_control(r.err));
      CHECK(lines(r.out).size() >= 3);
    }
  }
}

TEST_CASE("parse command: human output shows the reply and points at the octet") {
  const auto r = run({"parse", "command"}, "MAIL FROM:<a..b@example.com>\r\n");
  CHECK(r.status == 2);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 3);
  CHECK(out[0].find("501 5.1.7 bad_local_part at offset 13") != std::string::npos);
  CHECK(out[1] == "    MAIL FROM:<a..b@example.com>");
  CHECK(out[2] == "                 ^");
  // Control octets are shown escaped, never raw.
  const auto c = run({"parse", "command"}, std::string("VRFY a\x1b[2Jb\r\n"));
  CHECK(c.out.find('\x1b') == std::string::npos);
  CHECK(c.out.find("\\x1b") != std::string::npos);
}
