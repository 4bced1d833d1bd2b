// The sansmtp CLI as a user runs it: real process, real argv, real exit codes.
#include "cli_helpers.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace sansmtp::test;

TEST_CASE("ehlo-check exit status: 0 pass, 1 warn, 2 fail, 64 usage") {
  CHECK(run({"ehlo-check", "public.hostname.com"}).status == 0);
  CHECK(run({"ehlo-check", "[8.8.8.8]"}).status == 0);  // info only
  CHECK(run({"ehlo-check", "ab--cd.example-corp.net"}).status == 1);
  CHECK(run({"ehlo-check", "public.hostname.com", "[127.0.0.1]"}).status == 2);
  CHECK(run({"ehlo-check", "--profile", "internal", "[10.42.0.17]"}).status == 1);
  CHECK(run({"ehlo-check", "--profile=internal", "[127.0.0.1]"}).status == 2);
  CHECK(run({"ehlo-check"}).status == 64);
  CHECK(run({"ehlo-check", "--bogus", "x.example-corp.net"}).status == 64);
  CHECK(run({"ehlo-check", "--profile", "public", "x"}).status == 64);
  CHECK(run({"ehlo-check", "--profile"}).status == 64);
  CHECK(run({"ehlo-check", "--self", "x.example-corp.net"}).status == 64);
  CHECK(run({"nonsense"}).status == 64);
  CHECK(run({}).status == 64);
  const auto help = run({"ehlo-check", "--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("--profile") != std::string::npos);
}

TEST_CASE("ehlo-check --json: one object per name, in order, with the documented keys") {
  const auto r = run({"ehlo-check", "--json", "[10.42.0.17]", "public.hostname.com", "[foo:a,b]"});
  CHECK(r.status == 2);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 3);
  CHECK(
      out[0].rfind(
          R"({"name":"[10.42.0.17]","syntax_valid":true,"kind":"ipv4-literal","verdict":"fail","findings":[{"code":"private-address","severity":"fail","message":)",
          0) == 0);
  CHECK(
      out[1] ==
      R"({"name":"public.hostname.com","syntax_valid":true,"kind":"domain","verdict":"pass","findings":[]})");
  // Brackets and commas reach the linter untouched.
  CHECK(out[2].find(R"("name":"[foo:a,b]")") != std::string::npos);
  CHECK(out[2].find(R"("code":"unregistered-literal-tag")") != std::string::npos);
}

TEST_CASE("ehlo-check: -- ends the options and names may be empty or start with -") {
  const auto r = run({"ehlo-check", "--json", "--", "", "-x.example-corp.net", "--json"});
  CHECK(r.status == 2);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 3);
  CHECK(out[0].find(R"("name":"","syntax_valid":false,"kind":null)") != std::string::npos);
  CHECK(out[0].find(R"("code":"empty")") != std::string::npos);
  CHECK(out[1].find(R"("code":"label-hyphen")") != std::string::npos);
  CHECK(out[2].find(R"("name":"--json")") != std::string::npos);
}

TEST_CASE("ehlo-check never echoes CR, LF or NUL-like bytes raw") {
  const std::string evil = "mx.example-corp.net\r\nMAIL FROM:<a@b>\x1b[31m";
  const auto human = run({"ehlo-check", evil});
  CHECK(human.status == 2);
  CHECK(human.out.find('\r') == std::string::npos);
  CHECK(human.out.find('\x1b') == std::string::npos);
  CHECK(human.out.find("\\x0d\\x0a") != std::string::npos);
  CHECK(human.out.find("invalid-character") != std::string::npos);
  const auto json = run({"ehlo-check", "--json", evil, "bad\xff.example-corp.net"});
  const auto out = lines(json.out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].find(R"("name":"mx.example-corp.net\r\nMAIL FROM:<a@b>\u001b[31m")") != std::string::npos);
  // Invalid UTF-8 becomes U+FFFD in "name" and stays lossless in "name_escaped".
  CHECK(out[1].find(R"("name_escaped":"bad\\xff.example-corp.net")") != std::string::npos);
  CHECK(out[1].find(R"("code":"non-ascii")") != std::string::npos);
}

TEST_CASE("ehlo-check never echoes C1 or bidirectional controls raw") {
  const std::string csi =
      "a\xc2\x9b"
      "31mred.com";
  const std::string rlo =
      "mx.\xe2\x80\xae"
      "ten.example-corp\xe2\x81\xa6.net\xe2\x80\x8f\xc2\x85";
  for (const auto& name : {csi, rlo}) {
    const auto human = run({"ehlo-check", name});
    CHECK(human.status == 2);
    CHECK_FALSE(has_raw_unicode_control(human.out));
    CHECK_FALSE(has_raw_unicode_control(human.err));
  }
  CHECK(run({"ehlo-check", csi}).out.find("\"a\\xc2\\x9b31mred.com\": FAIL") != std::string::npos);
  // JSON: the exact name, with the controls as \u escapes, and the display form.
  const auto json = run({"ehlo-check", "--json", csi, rlo});
  CHECK_FALSE(has_raw_unicode_control(json.out));
  const auto out = lines(json.out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].find(R"("name":"a\u009b31mred.com")") != std::string::npos);
  CHECK(out[0].find(R"("name_escaped":"a\\xc2\\x9b31mred.com")") != std::string::npos);
  CHECK(out[1].find(R"(\u202e)") != std::string::npos);
  // Names as arguments to options and unknown commands are echoed escaped too.
  for (const auto& args : std::vector<std::vector<std::string>>{{"ehlo-check", "--profile", csi},
                                                                {"ehlo-check", "--" + csi},
                                                                {csi},
                                                                {"parse", csi},
                                                                {"parse", "reply", "--after", csi},
                                                                {"parse", "command", "--" + csi},
                                                                {"data", "decode", "--bare-lf", csi}}) {
    const auto r = run(args);
    CHECK(r.status == 64);
    CHECK_FALSE(has_raw_unicode_control(r.out));
    CHECK_FALSE(has_raw_unicode_control(r.err));
    CHECK(r.err.find("\\xc2\\x9b") != std::string::npos);
  }
}

TEST_CASE("ehlo-check human output names the verdict, findings and suggestions") {
  const auto r = run({"ehlo-check", "10.42.0.17"});
  CHECK(r.out.find("\"10.42.0.17\": FAIL") != std::string::npos);
  CHECK(r.out.find("bare-ip") != std::string::npos);
  CHECK(r.out.find("suggestion: [10.42.0.17]") != std::string::npos);
  CHECK(r.out.find("\x1b[") == std::string::npos);  // NO_COLOR / not a terminal
}

TEST_CASE("ehlo-check --self reports every source, each linted") {
  const auto r = run({"ehlo-check", "--self", "--json"});
  CHECK((r.status == 0 || r.status == 1 || r.status == 2));
  const auto out = lines(r.out);
  REQUIRE(out.size() == 5);
  const char* sources[] = {"hostname", "canonical", "nodemailer", "python-smtplib", "default"};
  for (std::size_t i = 0; i < 5; ++i) {
    INFO(out[i]);
    CHECK(out[i].find(std::string(R"("source":")") + sources[i] + "\"") != std::string::npos);
  }
  CHECK(out[2].find(R"("verdict":)") != std::string::npos);
  CHECK(out[4].find(R"("reasons":)") != std::string::npos);
  const auto human = run({"ehlo-check", "--self"});
  CHECK(human.out.find("nodemailer") != std::string::npos);
  CHECK(human.out.find("python-smtplib") != std::string::npos);
  CHECK(human.status == r.status);
}

TEST_CASE("data decode: the message on stdout, exit 0 complete, 1 incomplete, 2 rejected") {
  auto r = run({"data", "decode"}, "a\r\n..b\r\n.\r\nQUIT\r\n");
  CHECK(r.status == 0);
  CHECK(r.out == "a\r\n.b\r\n");
  r = run({"data", "decode"}, "a\r\nno end");
  CHECK(r.status == 1);
  CHECK(r.out == "a\r\nno end");
  r = run({"data", "decode"}, "a\n.\nb\r\n.\r\n");
  CHECK(r.status == 2);
  CHECK(r.out == "a\n.\nb\r\n");
  r = run({"data", "decode", "--bare-lf", "normalize"}, "a\n.\nb\r\n.\r\n");
  CHECK(r.status == 0);
  CHECK(r.out == "a\r\n.\r\nb\r\n");
  CHECK(run({"data", "decode", "--bare-lf", "sometimes"}).status == 64);
  CHECK(run({"data"}).status == 64);
  // Numbers are checked, not wrapped around.
  CHECK(run({"data", "decode", "--max-line", "-5"}, "a\r\n.\r\n").status == 64);
  CHECK(run({"data", "decode", "--max-line", "18446744073709551617"}, "a\r\n.\r\n").status == 64);
  CHECK(run({"data", "decode", "--max-line", "12abc"}, "a\r\n.\r\n").status == 64);
  CHECK(run({"data", "decode", "--max-line", "0"}, std::string(5000, 'a') + "\r\n.\r\n").status == 0);
}

TEST_CASE("data decode --json: consumed, trailing, size, sha256 and the error") {
  auto r = run({"data", "decode", "--json"}, "a\r\n..b\r\n.\r\nQUIT\r\n");
  CHECK(r.status == 0);
  CHECK(r.out ==
        R"({"complete":true,"consumed":11,"trailing":6,"size":7,)"
        R"("sha256":"71ba500d6b052fdd29071e807e2eda07b96b8f8725ad572ef1ccf0409e14b27f","error":null})"
        "\n");
  r = run({"data", "decode", "--json", "--max-line", "5"}, "abcdefgh\r\n.\r\n");
  CHECK(r.status == 2);
  // error.code is the errc name every subcommand's JSON uses; the kebab-case
  // spelling of earlier releases stays as error.legacy_code.
  CHECK(r.out.find(R"("error":{"code":"line_too_long","offset":5,"legacy_code":"line-too-long"})") !=
        std::string::npos);
  r = run({"data", "decode", "--json"}, "x\r\r\n.\r\n");
  CHECK(r.out.find(R"("error":{"code":"bare_cr","offset":1,"legacy_code":"bare-cr"})") != std::string::npos);
  r = run({"data", "decode", "--json"}, "x\r\n");
  CHECK(r.status == 1);
  CHECK(r.out.find(R"("complete":false,"consumed":3,"trailing":0)") != std::string::npos);
}

TEST_CASE("data encode: dot-stuffing, CRLF and the end of data - reject names the offset") {
  auto r = run({"data", "encode"}, "x\n.y\r.");
  CHECK(r.status == 0);
  CHECK(r.out == "x\r\n..y\r\n..\r\n.\r\n");
  r = run({"data", "encode", "--bare-lf", "reject"}, "ok\r\nbad\nrest");
  CHECK(r.status == 2);
  CHECK(r.err.find("offset 7") != std::string::npos);
  // --bare-lf alone governs bare CR too (as before); --bare-cr sets it apart.
  CHECK(run({"data", "encode", "--bare-lf", "reject"}, "a\rb").status == 2);
  r = run({"data", "encode", "--bare-lf", "reject", "--bare-cr", "normalize"}, "a\rb");
  CHECK(r.status == 0);
  CHECK(r.out == "a\r\nb\r\n.\r\n");
  CHECK(run({"data", "encode", "--bare-cr", "reject"}, "a\nb").status == 0);
  // What encode writes, decode reads back.
  const std::string message = "Subject: t\r\n\r\n.leading dot\r\n.\r\nlast line without end";
  const auto wire = run({"data", "encode"}, message);
  const auto back = run({"data", "decode"}, wire.out);
  CHECK(back.status == 0);
  CHECK(back.out == message + "\r\n");
}
