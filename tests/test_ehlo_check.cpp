// check_ehlo_name: every finding code, positive and negative, both profiles.
#include "input_views.hpp"

#include <sansmtp/core/display.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using namespace sansmtp;
using sansmtp::test::for_each_placement;

namespace {

ehlo_check_options internal() {
  ehlo_check_options o;
  o.profile = lint_profile::internal;
  return o;
}

std::vector<std::string> codes(const ehlo_report& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) out.emplace_back(ehlo_check_code_name(f.code));
  return out;
}

// The report, checked to be identical in every placement of the input.
ehlo_report check(std::string_view name, const ehlo_check_options& options = {}) {
  std::optional<ehlo_report> first;
  for_each_placement(name, [&](std::string_view in) {
    auto r = check_ehlo_name(in, options);
    if (!first) {
      first = std::move(r);
      return;
    }
    CHECK(codes(r) == codes(*first));
    CHECK(r.result == first->result);
  });
  return *first;
}

struct expect {
  std::string name;
  std::string code;
  severity level;
  std::string suggestion = "*";  // "*": not checked; "": none
};

void require_finding(const expect& e, const ehlo_check_options& options = {}) {
  const auto r = check(e.name, options);
  INFO("name: " << escape_for_display(e.name) << "  findings: " << [&] {
    std::string s;
    for (const auto& c : codes(r)) s += c + " ";
    return s;
  }());
  const auto* f = r.find(e.code);
  REQUIRE(f != nullptr);
  CHECK(f->level == e.level);
  CHECK_FALSE(f->message.empty());
  if (e.suggestion != "*") CHECK(f->suggestion == e.suggestion);
  CHECK(static_cast<int>(r.result) >=
        static_cast<int>(e.level == severity::info ? 0 : static_cast<int>(e.level)));
}

void require_clean(std::string_view name, const ehlo_check_options& options = {}) {
  const auto r = check(name, options);
  INFO("name: " << escape_for_display(name));
  CHECK(r.syntax_valid);
  CHECK(r.findings.empty());
  CHECK(r.result == verdict::pass);
}

void require_no(std::string_view name, std::string_view code, const ehlo_check_options& options = {}) {
  const auto r = check(name, options);
  INFO("name: " << escape_for_display(name) << " code: " << code);
  CHECK_FALSE(r.has(code));
}

constexpr auto F = severity::fail;
constexpr auto W = severity::warn;
constexpr auto I = severity::info;

}  // namespace

TEST_CASE("the seed's cases") {
  const auto pod_literal = check("[10.42.0.17]");
  CHECK(pod_literal.syntax_valid);
  CHECK(pod_literal.kind == host_kind::ipv4_literal);
  CHECK(pod_literal.result == verdict::fail);
  CHECK(codes(pod_literal) == std::vector<std::string>{"private-address"});

  const auto loopback = check("[127.0.0.1]");
  CHECK(loopback.result == verdict::fail);
  CHECK(codes(loopback) == std::vector<std::string>{"loopback-address"});

  const auto pod = check("api-7d9f8b6c5-x2k9q");
  CHECK(pod.syntax_valid);
  CHECK(pod.result == verdict::fail);
  CHECK(codes(pod) == std::vector<std::string>{"not-fqdn", "container-hostname"});

  require_clean("public.hostname.com");
  require_clean("mx1.mail.example-corp.net");
  require_clean("MAIL.Example-Corp.NET");
}

TEST_CASE("syntax and empty") {
  require_finding({"", "empty", F, "send this host's fully-qualified name"});
  CHECK_FALSE(check("").syntax_valid);
  CHECK_FALSE(check("").kind);
  require_finding({"a..b.example", "syntax", F});
  require_finding({"[1.2.3.4", "syntax", F});
  require_no("mx.example-corp.net", "syntax");
  require_no("", "syntax");  // "empty" says it
}

TEST_CASE("label findings") {
  require_finding({"a..example-corp.net", "empty-label", F});
  require_finding({".example-corp.net", "empty-label", F});
  require_no("a.example-corp.net", "empty-label");

  require_finding({"-mx.example-corp.net", "label-hyphen", F});
  require_finding({"mx-.example-corp.net", "label-hyphen", F});
  require_no("m-x.example-corp.net", "label-hyphen");

  const std::string l63(63, 'a'), l64(64, 'a');
  require_finding({l64 + ".example-corp.net", "label-too-long", F});
  require_no(l63 + ".example-corp.net", "label-too-long");
  CHECK(check(l63 + ".example-corp.net").result == verdict::pass);

  require_finding({"my_host.example-corp.net", "underscore", F, "my-host.example-corp.net"});
  require_no("my-host.example-corp.net", "underscore");

  require_finding({"mx.example-corp.net.", "trailing-dot", F, "mx.example-corp.net"});
  require_no("mx.example-corp.net", "trailing-dot");
}

TEST_CASE("name-too-long: more than 253 characters is not a DNS name") {
  auto name_of = [](std::size_t n) {
    std::string s;
    while (s.size() < n) {
      if (!s.empty()) s += '.';
      s += std::string(std::min<std::size_t>(50, n - s.size()), 'a');
    }
    if (s.back() == '.') s.back() = 'b';
    return s;
  };
  require_no(name_of(253), "name-too-long");
  CHECK(check(name_of(253)).result == verdict::pass);
  require_finding({name_of(254), "name-too-long", F});
  CHECK(check(name_of(254)).syntax_valid);  // the SMTP grammar allows 255
  require_finding({name_of(256), "name-too-long", F});
  CHECK_FALSE(check(name_of(256)).syntax_valid);
}

TEST_CASE("invalid-character: controls, space and non-LDH ASCII, never echoed raw") {
  require_finding({"mx.example-corp.net\r\nMAIL FROM:<a@b>", "invalid-character", F});
  require_finding({std::string("mx\0.example-corp.net", 20), "invalid-character", F});
  require_finding({"mx .example-corp.net", "invalid-character", F});
  require_finding({"mx!.example-corp.net", "invalid-character", F});
  require_finding({"[1.2.3.4]\r\n", "invalid-character", F});
  require_no("mx.example-corp.net", "invalid-character");
  // Found by fuzz_ehlo_argument: suggestions and messages built from the name.
  for (std::string name : {"_\r", "a\r.", "\xc3\xa9.a\rb", "a\r-bcdfg", "a\n-bcdfg-x7k2p", "my_h\nost.x.",
                           "bad\r\nname\x7f.example\x01"}) {
    const auto r = check(name);
    CHECK(r.result == verdict::fail);
    for (const auto& f : r.findings) {
      INFO(ehlo_check_code_name(f.code));
      CHECK(f.message.find_first_of(std::string("\r\n\0\x7f\x01", 5)) == std::string::npos);
      CHECK(f.suggestion.find_first_of(std::string("\r\n\0\x7f\x01", 5)) == std::string::npos);
    }
  }
  for (const auto& f : check("bad\r\nname\x7f.example\x01").findings) {
    CHECK(f.message.find_first_of(std::string("\r\n\0\x7f\x01", 5)) == std::string::npos);
    CHECK(f.suggestion.find_first_of(std::string("\r\n\0", 3)) == std::string::npos);
  }
  CHECK(escape_for_display("a\r\n\\b\xff\xc3\xa9") == "a\\x0d\\x0a\\\\b\\xff\xc3\xa9");
}

TEST_CASE("escape_for_display: C1 and bidirectional controls are escaped octet by octet, other UTF-8 kept") {
  // U+009B is CSI: "\xc2\x9b" "31m" turns a terminal red as ESC [31m does.
  CHECK(escape_for_display("a\xc2\x9b"
                           "31mred.com") == "a\\xc2\\x9b31mred.com");
  CHECK(escape_for_display("\xc2\x80|\xc2\x85|\xc2\x9f") == "\\xc2\\x80|\\xc2\\x85|\\xc2\\x9f");
  // The neighbours of the C1 range are ordinary text.
  CHECK(escape_for_display("\x7f\xc2\xa0\xc2\xa9") == "\\x7f\xc2\xa0\xc2\xa9");
  // Bidirectional embeddings, overrides, isolates and marks (CVE-2021-42574).
  const std::string bidi[] = {
      "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x80\xae",  // U+202A-U+202E
      "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9",                  // U+2066-U+2069
      "\xe2\x80\x8e", "\xe2\x80\x8f", "\xd8\x9c",  // U+200E, U+200F, U+061C
      "\xe2\x80\xa8", "\xe2\x80\xa9",                // U+2028, U+2029 (line ends to some viewers)
  };
  for (const auto& b : bidi) {
    INFO(escape_for_display(b));
    const auto shown = escape_for_display("x" + b + "y");
    CHECK(shown.find(b) == std::string::npos);
    CHECK(shown.find_first_of(
              "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94"
              "\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9"
              "\xaa\xab\xac\xad\xae\xaf\xd8\xe2") == std::string::npos);  // all ASCII now
    CHECK(shown.front() == 'x');
    CHECK(shown.back() == 'y');
  }
  CHECK(escape_for_display("a\xe2\x80\xae"
                           "b") == "a\\xe2\\x80\\xaeb");
  // Next to them, U+2027, U+2070, U+200D (ZWJ, part of emoji) and U+061B stay.
  for (const std::string kept :
       {"\xe2\x80\xa7", "\xe2\x81\xb0", "\xe2\x80\x8d", "\xd8\x9b", "\xf0\x9f\x93\xa7"})
    CHECK(escape_for_display(kept) == kept);
}

TEST_CASE("ehlo-check findings never carry a C1 or bidirectional control raw") {
  for (const std::string name : {"a\xc2\x9b"
                                 "31mred.com",
                                 "mx.\xe2\x80\xae"
                                 "moc.example-corp.net",
                                 "\xc2\x85"}) {
    INFO(escape_for_display(name));
    const auto report = check_ehlo_name(name);
    CHECK(report.result == verdict::fail);
    for (const auto& f : report.findings) {
      CHECK(f.message.find("\xc2\x9b") == std::string::npos);
      CHECK(f.message.find("\xc2\x85") == std::string::npos);
      CHECK(f.message.find("\xe2\x80\xae") == std::string::npos);
      CHECK(f.suggestion.find_first_of("\xc2\xe2") == std::string::npos);
    }
  }
}

TEST_CASE("non-ascii: RFC 6531 3.7.1 wants the A-label in EHLO") {
  require_finding(
      {"\xce\x94\xce\xb7\xce\xbc\xce\xbf\xcf\x83\xce\xb8\xce\xad\xce\xbd\xce\xbf\xcf\x85\xcf\x82.example-"
       "corp.net",
       "non-ascii", F, "xn--ixanjetild1af0a.example-corp.net"});
  require_finding(
      {"b\xc3\xbc"
       "cher.example-corp.net",
       "non-ascii", F, "xn--bcher-kva.example-corp.net"});
  require_finding({"bad\xff.example-corp.net", "non-ascii", F, ""});
  require_no("xn--bcher-kva.example-corp.net", "non-ascii");
  // The A-label form is what the remaining checks see.
  require_finding({"m\xc3\xbcnchen.example", "special-use-name", F});
}

TEST_CASE("bad-a-label: xn-- labels must round-trip (RFC 5891 5.4)") {
  require_finding({"xn--123456.example-corp.net", "bad-a-label", F});
  require_finding({"xn--.example-corp.net", "bad-a-label", F});
  require_finding({"xn--bcher-kva9.example-corp.net", "bad-a-label", F});
  require_no("xn--bcher-kva.example-corp.net", "bad-a-label");
  require_no("XN--BCHER-KVA.example-corp.net", "bad-a-label");
  require_no("xn--mumble.example-corp.net", "bad-a-label");
}

TEST_CASE("r-ldh-label: -- in positions 3 and 4 other than xn--") {
  require_finding({"ab--cd.example-corp.net", "r-ldh-label", W});
  require_no("xn--bcher-kva.example-corp.net", "r-ldh-label");
  require_no("a--b.example-corp.net", "r-ldh-label");
  require_no("abc--d.example-corp.net", "r-ldh-label");
}

TEST_CASE("not-fqdn and container-hostname") {
  require_finding({"mailhost", "not-fqdn", F});
  require_finding({"mailhost", "not-fqdn", W}, internal());
  require_no("mailhost.example-corp.net", "not-fqdn");
  require_no("localhost", "not-fqdn");  // "localhost" says it better

  require_finding({"api-7d9f8b6c5-x2k9q", "container-hostname", W});
  require_finding({"fluentd-x2k9q", "container-hostname", W});
  require_finding({"3f4e5a6b7c8d", "container-hostname", W});
  require_finding({std::string(64, 'a'), "container-hostname", W});
  require_no("mailhost", "container-hostname");
  require_no("mail-relay", "container-hostname");  // vowels never appear in the suffix
  require_no("api-7d9f8b6c5-x2k9q.example-corp.net", "container-hostname");
  require_no("3f4e5a6b7c8g", "container-hostname");
}

TEST_CASE("numeric-tld and bare-ip") {
  require_finding({"mx.123", "numeric-tld", F});
  require_no("mx.example-corp.net", "numeric-tld");
  require_no("123.example-corp.net", "numeric-tld");

  require_finding({"10.42.0.17", "bare-ip", F, "[10.42.0.17]"});
  require_finding({"10.42.0.17", "private-address", F});
  require_finding({"2001:db8::1", "bare-ip", F, "[IPv6:2001:db8::1]"});
  require_finding({"2001:db8::1", "documentation-address", F});
  require_no("10.42.0.17", "numeric-tld");  // bare-ip says it
  require_no("[10.42.0.17]", "bare-ip");
  require_no("1.2.3.4.example-corp.net", "bare-ip");
  require_finding({"1.2.3.256", "numeric-tld", F});  // not an address, still numeric
}

TEST_CASE("localhost and special-use names") {
  require_finding({"localhost", "localhost", F});
  require_finding({"localhost", "localhost", F}, internal());
  require_finding({"LocalHost.LocalDomain", "localhost", F});
  require_finding({"app.localhost", "localhost", F});
  require_no("localhost-relay.example-corp.net", "localhost");

  const char* special[] = {"mail.local",
                           "mx.test",
                           "mx.example",
                           "mail.example.com",
                           "example.net",
                           "mail.example.org",
                           "x.invalid",
                           "abc.onion",
                           "mx.alt",
                           "printer.home.arpa",
                           "mx.internal",
                           "box.localdomain",
                           "nas.lan",
                           "pc.home",
                           "dc1.corp",
                           "ip-10-0-0-1.ec2.internal",
                           "vm1.c.proj.internal",
                           "mail.default.svc.cluster.local",
                           "1.0.0.10.in-addr.arpa",
                           "vm.internal.cloudapp.net",
                           "mx.intra",
                           "mx.priv"};
  for (auto name : special) require_finding({name, "special-use-name", F});
  require_no("mail.example-corp.net", "special-use-name");
  require_no("examples.com", "special-use-name");
  require_no("notlocal.net", "special-use-name");
  require_no("testing.io", "special-use-name");
}

TEST_CASE("the internal profile downgrades private names and addresses, not loopback") {
  require_finding({"relay.corp", "special-use-name", W}, internal());
  require_finding({"relay.svc.cluster.local", "special-use-name", W}, internal());
  require_finding({"mail.example.com", "special-use-name", F}, internal());
  require_finding({"x.invalid", "special-use-name", F}, internal());
  require_finding({"[10.42.0.17]", "private-address", W}, internal());
  require_finding({"[192.168.1.10]", "private-address", W}, internal());
  require_finding({"[100.64.0.1]", "shared-address", W}, internal());
  require_finding({"[169.254.1.1]", "link-local-address", W}, internal());
  require_finding({"[IPv6:fd00::1]", "private-address", W}, internal());
  require_finding({"[127.0.0.1]", "loopback-address", F}, internal());
  require_finding({"[IPv6:::1]", "loopback-address", F}, internal());
  CHECK(check("[10.42.0.17]", internal()).result == verdict::warn);
}

TEST_CASE("address literals: every special-purpose range") {
  const expect cases[] = {
      {"[10.0.0.1]", "private-address", F},
      {"[172.16.0.1]", "private-address", F},
      {"[172.31.255.255]", "private-address", F},
      {"[192.168.0.1]", "private-address", F},
      {"[IPv6:fc00::1]", "private-address", F},
      {"[IPv6:fdab:1234::1]", "private-address", F},
      {"[100.64.0.1]", "shared-address", F},
      {"[100.127.255.255]", "shared-address", F},
      {"[127.0.0.1]", "loopback-address", F},
      {"[127.255.0.9]", "loopback-address", F},
      {"[IPv6:::1]", "loopback-address", F},
      {"[169.254.169.254]", "link-local-address", F},
      {"[IPv6:fe80::1]", "link-local-address", F},
      {"[192.0.2.1]", "documentation-address", F},
      {"[198.51.100.7]", "documentation-address", F},
      {"[203.0.113.9]", "documentation-address", F},
      {"[IPv6:2001:db8::25]", "documentation-address", F},
      {"[IPv6:3fff::1]", "documentation-address", F},
      {"[0.0.0.0]", "unspecified-address", F},
      {"[0.1.2.3]", "unspecified-address", F},
      {"[IPv6:::]", "unspecified-address", F},
      {"[224.0.0.1]", "multicast-address", F},
      {"[239.255.255.250]", "multicast-address", F},
      {"[IPv6:ff02::1]", "multicast-address", F},
      {"[240.0.0.1]", "reserved-address", F},
      {"[255.255.255.255]", "reserved-address", F},
      {"[192.0.0.8]", "reserved-address", F},
      {"[192.88.99.1]", "reserved-address", F},
      {"[198.18.0.1]", "reserved-address", F},
      {"[IPv6:100::1]", "reserved-address", F},
      {"[IPv6:64:ff9b::808:808]", "reserved-address", W},
      {"[IPv6:2001::1]", "reserved-address", W},
      {"[IPv6:2002:c000:201::1]", "reserved-address", W},
      {"[IPv6:fec0::1]", "reserved-address", F},
      {"[IPv6:::1.2.3.4]", "reserved-address", F},  // deprecated IPv4-compatible
      {"[IPv6:4000::1]", "reserved-address", F},    // outside 2000::/3
      {"[IPv6:::ffff:10.0.0.1]", "reserved-address", F, "send this host's fully-qualified name"},
      {"[IPv6:::ffff:8.8.8.8]", "reserved-address", W, "[8.8.8.8]"},
      {"[8.8.8.8]", "public-literal", I},
      {"[IPv6:2a00:1450:4001:80b::200e]", "public-literal", I},
  };
  for (const auto& c : cases) require_finding(c);
  // Just outside the ranges.
  require_finding({"[172.32.0.1]", "public-literal", I});
  require_finding({"[100.128.0.1]", "public-literal", I});
  require_finding({"[198.20.0.1]", "public-literal", I});
  require_finding({"[11.0.0.1]", "public-literal", I});
  require_finding({"[IPv6:2001:200::1]", "public-literal", I});
  CHECK(check("[8.8.8.8]").result == verdict::pass);
}

TEST_CASE("literal forms: untagged IPv6, unregistered tags, leading zeros") {
  require_finding({"[2001:db8::1]", "untagged-ipv6-literal", F, "[IPv6:2001:db8::1]"});
  CHECK(check("[2001:db8::1]").syntax_valid);  // a general literal with tag "2001"
  CHECK(check("[2001:db8::1]").kind == host_kind::general_literal);
  require_finding({"[2001:db8::1]", "documentation-address", F});
  require_finding({"[::1]", "untagged-ipv6-literal", F, "[IPv6:::1]"});
  require_finding({"[::1]", "loopback-address", F});
  CHECK_FALSE(check("[::1]").syntax_valid);
  require_no("[IPv6:2001:db8::1]", "untagged-ipv6-literal");

  require_finding({"[IPv4:8.8.8.8]", "unregistered-literal-tag", F, "[8.8.8.8]"});
  require_finding({"[foo:bar]", "unregistered-literal-tag", F, ""});
  require_no("[IPv6:2a00::1]", "unregistered-literal-tag");

  require_finding({"[010.0.0.1]", "leading-zero", F, "[10.0.0.1]"});
  require_finding({"[8.8.8.08]", "leading-zero", F, "[8.8.8.8]"});
  require_no("[10.0.0.1]", "leading-zero");
  require_no("[0.0.0.0]", "leading-zero");
}

TEST_CASE("bracketed-name: a host name inside an address literal's brackets") {
  require_finding({"[mx.example-corp.net]", "bracketed-name", F, "mx.example-corp.net"});
  CHECK_FALSE(check("[mx.example-corp.net]").syntax_valid);
  require_no("[1.2.3.4]", "bracketed-name");
  require_no("[mx.example-corp.net]x", "bracketed-name");
  require_no("[1.2.3]", "bracketed-name");  // numeric: a broken IPv4 literal, not a name
}

TEST_CASE("dynamic-looking names") {
  require_finding({"c-73-45-12-1.hsd1.ca.comcast.net", "dynamic-looking", W});
  require_finding({"host-10-1-2-3.example-corp.net", "dynamic-looking", W});
  require_finding({"1.2.3.4.example-corp.net", "dynamic-looking", W});
  require_finding({"ip73.45.12.1.example-isp.net", "dynamic-looking", W});
  require_finding({"adsl-dyn.example-isp.net", "dynamic-looking", W});
  require_finding({"pool-71-1-1-1.example-isp.net", "dynamic-looking", W});
  require_finding({"dhcp123.customers.example-isp.net", "dynamic-looking", W});
  require_no("mx1.mail.example-corp.net", "dynamic-looking");
  require_no("mail.dyn.com", "dynamic-looking");  // the registered domain itself
  require_no("smtp-2024.example-corp.net", "dynamic-looking");
  require_no("a-1-2-3.example-corp.net", "dynamic-looking");  // only three numbers
  require_no("h-300-1-2-3.example-corp.net", "dynamic-looking");
}

TEST_CASE("verdict is the worst finding and info passes") {
  CHECK(check("[8.8.8.8]").result == verdict::pass);
  CHECK(check("ab--cd.example-corp.net").result == verdict::warn);
  CHECK(check("[127.0.0.1]").result == verdict::fail);
  CHECK(severity_name(severity::warn) == "warn");
  CHECK(verdict_name(verdict::fail) == "fail");
  CHECK(profile_name(lint_profile::internal) == "internal");
}

TEST_CASE("finding codes: an enum whose names are the kebab-case strings of docs/cli.md") {
  using c = ehlo_check_code;
  const std::pair<ehlo_check_code, std::string_view> all[] = {
      {c::syntax, "syntax"},
      {c::empty, "empty"},
      {c::empty_label, "empty-label"},
      {c::label_hyphen, "label-hyphen"},
      {c::label_too_long, "label-too-long"},
      {c::trailing_dot, "trailing-dot"},
      {c::name_too_long, "name-too-long"},
      {c::underscore, "underscore"},
      {c::invalid_character, "invalid-character"},
      {c::non_ascii, "non-ascii"},
      {c::bad_a_label, "bad-a-label"},
      {c::r_ldh_label, "r-ldh-label"},
      {c::not_fqdn, "not-fqdn"},
      {c::container_hostname, "container-hostname"},
      {c::numeric_tld, "numeric-tld"},
      {c::bare_ip, "bare-ip"},
      {c::localhost, "localhost"},
      {c::special_use_name, "special-use-name"},
      {c::bracketed_name, "bracketed-name"},
      {c::untagged_ipv6_literal, "untagged-ipv6-literal"},
      {c::unregistered_literal_tag, "unregistered-literal-tag"},
      {c::leading_zero, "leading-zero"},
      {c::loopback_address, "loopback-address"},
      {c::unspecified_address, "unspecified-address"},
      {c::documentation_address, "documentation-address"},
      {c::multicast_address, "multicast-address"},
      {c::private_address, "private-address"},
      {c::shared_address, "shared-address"},
      {c::link_local_address, "link-local-address"},
      {c::reserved_address, "reserved-address"},
      {c::public_literal, "public-literal"},
      {c::dynamic_looking, "dynamic-looking"},
      {c::nxdomain, "nxdomain"},
      {c::no_address, "no-address"},
      {c::no_a_or_mx, "no-a-or-mx"},
      {c::dns_temporary_failure, "dns-temporary-failure"},
      {c::literal_mismatch, "literal-mismatch"},
      {c::forward_mismatch, "forward-mismatch"},
      {c::ptr_missing, "ptr-missing"},
      {c::ptr_mismatch, "ptr-mismatch"},
      {c::fcrdns_fail, "fcrdns-fail"},
  };
  std::set<std::string_view> seen;
  for (const auto& [code, name] : all) {
    CHECK(ehlo_check_code_name(code) == name);
    CHECK(seen.insert(ehlo_check_code_name(code)).second);
  }
  CHECK(static_cast<std::size_t>(c::fcrdns_fail) + 1 == std::size(all));  // every enumerator listed
  // has() and find() by enumerator, and by name as before.
  const auto r = check_ehlo_name("[10.42.0.17]");
  CHECK(r.has(c::private_address));
  CHECK(r.has("private-address"));
  REQUIRE(r.find(c::private_address) != nullptr);
  CHECK(r.find(c::private_address) == r.find("private-address"));
  CHECK(r.find(c::private_address)->code == c::private_address);
  CHECK_FALSE(r.has(c::loopback_address));
  CHECK_FALSE(r.has("private_address"));
  CHECK(r.find(c::loopback_address) == nullptr);
}

TEST_CASE("escape_json_for_display: DEL, C1 and bidirectional controls in JSON text become JSON u-escapes, the rest stays") {
  // What a JSON writer leaves raw (it escapes C0 only) and a terminal would act on.
  CHECK(escape_json_for_display(R"({"name":"plain ascii, \"quoted\""})") == R"({"name":"plain ascii, \"quoted\""})");
  CHECK(escape_json_for_display("{\"a\":\"x\x7fy\"}") == "{\"a\":\"x\\u007fy\"}");                // DEL
  CHECK(escape_json_for_display("{\"a\":\"x\xc2\x9b[2Jy\"}") == "{\"a\":\"x\\u009b[2Jy\"}");     // U+009B CSI
  CHECK(escape_json_for_display("{\"a\":\"\xe2\x80\xaegnp.exe\"}") == "{\"a\":\"\\u202egnp.exe\"}");  // U+202E RLO
  CHECK(escape_json_for_display("{\"a\":\"\xe2\x81\xa6x\xe2\x81\xa9\"}") == "{\"a\":\"\\u2066x\\u2069\"}");
  // Valid UTF-8 that is safe to show stays as it is.
  CHECK(escape_json_for_display("{\"a\":\"caf\xc3\xa9 \xe2\x9c\x89 \xf0\x9f\x93\xa7\"}") ==
        "{\"a\":\"caf\xc3\xa9 \xe2\x9c\x89 \xf0\x9f\x93\xa7\"}");
  // A sequence cut by the end is not read past the end, and stays.
  CHECK(escape_json_for_display("x\xe2\x80") == "x\xe2\x80");
  CHECK(escape_json_for_display("") == "");
}
