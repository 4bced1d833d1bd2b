// `sansmtp parse reply` and `sansmtp parse ehlo` as a user runs them.
#include "cli_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace sansmtp::test;

TEST_CASE("parse reply --json: one object per reply, in order") {
  const auto r = run({"parse", "reply", "--json"},
                     "220 mx.example.org ESMTP\r\n250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
                     "250 2.1.5 Ok\r\n354 3.0.0 go\r\n550\r\n");
  CHECK(r.status == 0);
  CHECK(lines(r.out) ==
        std::vector<std::string>{
            R"({"code":220,"enhanced":null,"lines":["mx.example.org ESMTP"]})",
            R"({"code":250,"enhanced":null,"lines":["mx.example.org","PIPELINING","8BITMIME"]})",
            R"({"code":250,"enhanced":"2.1.5","lines":["2.1.5 Ok"]})",
            R"({"code":354,"enhanced":null,"lines":["3.0.0 go"]})",
            R"({"code":550,"enhanced":null,"lines":[""]})",
        });
}

TEST_CASE("parse reply --json: errors name the errc and the offset, exit 2") {
  auto r = run({"parse", "reply", "--json"}, "250 ok\r\n250-a\r\n251 b\r\n");
  CHECK(r.status == 2);
  CHECK(lines(r.out) == std::vector<std::string>{R"({"code":250,"enhanced":null,"lines":["ok"]})",
                                                 R"({"error":"reply_code_mismatch","offset":17})"});
  r = run({"parse", "reply", "--json"}, "250-a\r\n250");
  CHECK(r.status == 2);
  CHECK(r.out == "{\"error\":\"incomplete\",\"offset\":10}\n");
  r = run({"parse", "reply", "--json"}, "250 a\n");
  CHECK(r.status == 2);
  CHECK(r.out == "{\"error\":\"bare_lf\",\"offset\":5}\n");
  r = run({"parse", "reply", "--json", "--lenient-bare-lf"}, "250 a\n");
  CHECK(r.status == 0);
  CHECK(r.out == "{\"code\":250,\"enhanced\":null,\"lines\":[\"a\"]}\n");
  r = run({"parse", "reply", "--json", "--max-line", "10"}, "250 abcdefgh\r\n");
  CHECK(r.out == "{\"error\":\"reply_line_too_long\",\"offset\":10}\n");
  r = run({"parse", "reply"}, "25x\r\n");
  CHECK(r.status == 2);
  CHECK(r.err.find("bad_reply_code") != std::string::npos);
  CHECK(r.err.find("offset 2") != std::string::npos);
}

TEST_CASE("parse reply without --json: the reply and, for a failure, the diagnosis") {
  const auto r = run({"parse", "reply", "--after", "mail"},
                     "550 Requested action not taken: Invalid HeloHost (#5.5.0)\r\n");
  CHECK(r.status == 0);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 2);
  CHECK(out[0] == "550 Requested action not taken: Invalid HeloHost (#5.5.0)");
  CHECK(out[1].rfind(
            "  => helo-rejected: This 550 arrived in answer to MAIL FROM, but it is about your EHLO name",
            0) == 0);
  CHECK(run({"parse", "reply", "--after", "nonsense"}, "250 ok\r\n").status == 64);
}

TEST_CASE("parse reply --lenient-utf8: C1 and bidirectional controls are refused, never printed") {
  for (const std::string control : {"\xc2\x9b", "\xc2\x85", "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x80\x8f"}) {
    const std::string input = "250 caf\xc3\xa9\r\n550 5.7.1 a" + control + "31m\r\n";
    for (const bool as_json : {false, true}) {
      std::vector<std::string> args{"parse", "reply", "--lenient-utf8"};
      if (as_json) args.push_back("--json");
      const auto r = run(args, input);
      CHECK(r.status == 2);
      CHECK_FALSE(has_raw_unicode_control(r.out));
      CHECK_FALSE(has_raw_unicode_control(r.err));
      // Other UTF-8 is shown as it is.
      CHECK(r.out.find("caf\xc3\xa9") != std::string::npos);
      CHECK((as_json ? r.out : r.err).find("control_character") != std::string::npos);
      CHECK((as_json ? r.out : r.err).find("22") != std::string::npos);  // the octet after "550 5.7.1 a"
    }
  }
}

TEST_CASE("parse ehlo --json: the documented keys") {
  const auto r = run({"parse", "ehlo", "--json"},
                     "250-smtp.example.com at your service\r\n250-SIZE 35882577\r\n250-AUTH=LOGIN\r\n"
                     "250-AUTH PLAIN LOGIN\r\n250-LIMITS RCPTMAX=100 MAILMAX=5\r\n250-X-STARTTLS\r\n"
                     "250-8BITMIME\r\n250 PIPELINING\r\n");
  CHECK(r.status == 0);
  CHECK(
      r.out ==
      R"({"code":250,"ok":true,"domain":"smtp.example.com","greeting":"at your service",)"
      R"("keywords":{"SIZE":["35882577"],"AUTH":["LOGIN","PLAIN"],"LIMITS":["RCPTMAX=100","MAILMAX=5"],)"
      R"("X-STARTTLS":[],"8BITMIME":[],"PIPELINING":[]},"size":35882577,"auth":["LOGIN","PLAIN"],)"
      R"("pipelining":true,"starttls":false,"smtputf8":false,"chunking":false,"8bitmime":true,"dsn":false,)"
      R"("enhancedstatuscodes":false,"requiretls":false,"limits":{"RCPTMAX":100,"MAILMAX":5},"findings":[]})"
      "\n");
}

TEST_CASE("parse ehlo: findings make exit 1, a failure reply exit 2 with ok false") {
  auto r = run({"parse", "ehlo", "--json"}, "250-mx.example.org\r\n250 SIZE lots\r\n");
  CHECK(r.status == 1);
  CHECK(r.out.find(R"("findings":[{"problem":"bad-param","line":1,"keyword":"SIZE","param":"lots"}])") !=
        std::string::npos);
  r = run({"parse", "ehlo", "--json"}, "550 5.7.1 Client host rejected: cannot find your hostname\r\n");
  CHECK(r.status == 2);
  CHECK(r.out.rfind(R"({"code":550,"ok":false,"enhanced":"5.7.1",)", 0) == 0);
  CHECK(r.out.find(R"("diagnosis":{"kind":"policy")") != std::string::npos);
  r = run({"parse", "ehlo"}, "250-mx.example.org hi\r\n250 STARTTLS\r\n");
  CHECK(r.status == 0);
  CHECK(r.out == "server: mx.example.org\ngreeting: hi\nextensions:\n  STARTTLS\n");
  r = run({"parse", "ehlo", "--json"}, "");
  CHECK(r.status == 2);
  r = run({"parse", "ehlo", "--json"}, "250-mx.example.org\r\n");
  CHECK(r.status == 2);
  CHECK(r.out == "{\"error\":\"incomplete\",\"offset\":20}\n");
}

TEST_CASE("parse ehlo on a whole transcript: the 220 greeting is skipped, the 250 after it is read") {
  const std::string transcript =
      "220-mx.example.org ESMTP Postfix\r\n220 no UCE\r\n250-mx.example.org\r\n250-PIPELINING\r\n"
      "250 STARTTLS\r\n";
  auto r = run({"parse", "ehlo"}, transcript);
  CHECK(r.status == 0);
  CHECK(r.out ==
        "skipped the 220 greeting: mx.example.org ESMTP Postfix\nserver: mx.example.org\nextensions:\n"
        "  PIPELINING\n  STARTTLS\n");
  // JSON keeps its shape: the EHLO reply's object, the greeting noted on stderr.
  r = run({"parse", "ehlo", "--json"}, transcript);
  CHECK(r.status == 0);
  CHECK(r.out.rfind(R"({"code":250,"ok":true,"domain":"mx.example.org","greeting":"",)", 0) == 0);
  CHECK(r.out.find(R"("pipelining":true,"starttls":true,)") != std::string::npos);
  CHECK(r.err.find("skipped the 220 greeting") != std::string::npos);
  // A failure after the greeting is the EHLO reply.
  r = run({"parse", "ehlo"}, "220 mx.example.org\r\n550 5.7.1 go away\r\n");
  CHECK(r.status == 2);
  CHECK(r.out.rfind("skipped the 220 greeting: mx.example.org\n550 5.7.1 go away\n", 0) == 0);
  // A greeting alone is no EHLO reply.
  r = run({"parse", "ehlo", "--json"}, "220 mx.example.org ESMTP\r\n");
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("only a 220 greeting") != std::string::npos);
}

TEST_CASE("parse: unknown or missing kinds are usage errors") {
  CHECK(run({"parse"}).status == 64);
  CHECK(run({"parse", "bogus"}).status == 64);
  const auto help = run({"parse", "--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("reply") != std::string::npos);
  CHECK(help.out.find("ehlo") != std::string::npos);
  CHECK(run({"parse", "reply", "--help"}).status == 0);
}
