// default_ehlo_name's decision, and the client defaults sansmtp predicts.
#include <sansmtp/advice/host_name.hpp>

#include <catch2/catch.hpp>

using namespace sansmtp;

TEST_CASE("Nodemailer's default EHLO name (SMTPConnection._getHostname)") {
  CHECK(nodemailer_default_name("vm") == "[127.0.0.1]");  // no dot: the origin story
  CHECK(nodemailer_default_name("api-7d9f8b6c5-x2k9q") == "[127.0.0.1]");
  CHECK(nodemailer_default_name("") == "[127.0.0.1]");
  CHECK(nodemailer_default_name("mx1.example.net") == "mx1.example.net");
  CHECK(nodemailer_default_name("10.42.0.17") == "[10.42.0.17]");
  CHECK(nodemailer_default_name("999.1.1.1") == "[999.1.1.1]");  // \d{1,3}: no range check
  CHECK(nodemailer_default_name("1.2.3.4.5") == "1.2.3.4.5");
  CHECK(nodemailer_default_name("1234.1.1.1") == "1234.1.1.1");
}

TEST_CASE("choose_ehlo_name prefers the canonical name, never a silent literal") {
  SECTION("a good canonical name wins") {
    const auto r = choose_ehlo_name("mx1", "mx1.mail.example-corp.net");
    REQUIRE(r.name);
    CHECK(*r.name == "mx1.mail.example-corp.net");
    REQUIRE(r.report);
    CHECK(r.report->result == verdict::pass);
    CHECK(r.hostname == "mx1");
  }
  SECTION("a fully-qualified host name is used when the canonical lookup failed") {
    const auto r = choose_ehlo_name("mx1.mail.example-corp.net", "");
    REQUIRE(r.name);
    CHECK(*r.name == "mx1.mail.example-corp.net");
    CHECK(r.reasons.size() == 1);  // "no canonical name is known"
  }
  SECTION("a Kubernetes pod: no name, and reasons instead of [127.0.0.1]") {
    const auto r = choose_ehlo_name("api-7d9f8b6c5-x2k9q", "api-7d9f8b6c5-x2k9q");
    CHECK_FALSE(r.name);
    CHECK_FALSE(r.report);
    REQUIRE(r.reasons.size() >= 2);
    CHECK(r.reasons[0].find("single label") != std::string::npos);
  }
  SECTION("localhost from /etc/hosts is refused") {
    const auto r = choose_ehlo_name("box", "localhost.localdomain");
    CHECK_FALSE(r.name);
  }
  SECTION("a warning still sends the name") {
    const auto r = choose_ehlo_name("h", "c-73-45-12-1.hsd1.ca.comcast.net");
    REQUIRE(r.name);
    CHECK(r.report->result == verdict::warn);
  }
  SECTION("the internal profile accepts an internal name") {
    ehlo_check_options internal;
    internal.profile = lint_profile::internal;
    CHECK(choose_ehlo_name("relay", "relay.corp", internal).name == "relay.corp");
    CHECK_FALSE(choose_ehlo_name("relay", "relay.corp").name);
  }
}

TEST_CASE("default_ehlo_name reports this machine's facts") {
  const auto r = default_ehlo_name();
  CHECK(r.hostname == system_hostname());
  CHECK_FALSE(r.hostname.empty());
  // Either a name that passes the linter, or the reasons why none does.
  if (r.name)
    CHECK(check_ehlo_name(*r.name).result != verdict::fail);
  else
    CHECK_FALSE(r.reasons.empty());
}

TEST_CASE("smtplib's default is a name with a dot or a bracketed IPv4 literal") {
  const auto name = python_smtplib_default_name();
  const bool literal = name.size() > 2 && name.front() == '[' && name.back() == ']';
  CHECK((literal || name.find('.') != std::string::npos));
  if (literal) CHECK(parse::ehlo_argument(name)->kind == host_kind::ipv4_literal);
}
