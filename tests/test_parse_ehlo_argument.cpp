// parse::ehlo_argument, parse::ipv4_address, parse::ipv6_address: RFC 5321
// §4.1.2/§4.1.3 exactly, plus the 63/255-octet limits.
#include "input_views.hpp"

#include <sansmtp/syntax/ehlo_argument.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>

using namespace sansmtp;
using sansmtp::test::for_each_placement;

namespace {

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

struct accept_case {
  std::string input;
  host_kind kind;
  std::string value;    // ehlo_host::value
  std::string tag;      // ehlo_host::tag
  std::string address;  // hex of address_bytes()
};

struct reject_case {
  std::string input;
  errc code;
  std::size_t offset;
};

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

void check_accepts(const accept_case& c) {
  for_each_placement(c.input, [&](std::string_view in) {
    const auto r = parse::ehlo_argument(in);
    INFO("input: " << c.input);
    REQUIRE(r.has_value());
    CHECK(r->kind == c.kind);
    CHECK(r->text == in);
    CHECK(r->value == c.value);
    CHECK(r->tag == c.tag);
    CHECK(hex(r->address_bytes()) == c.address);
  });
}

void check_rejects(const reject_case& c) {
  for_each_placement(c.input, [&](std::string_view in) {
    const auto r = parse::ehlo_argument(in);
    INFO("input: " << c.input);
    REQUIRE_FALSE(r.has_value());
    CHECK(errc_name(r.error().code) == errc_name(c.code));
    CHECK(r.error().offset == c.offset);
  });
}

}  // namespace

TEST_CASE("ehlo_argument accepts Domain (RFC 5321 4.1.2)") {
  const accept_case cases[] = {
      {"public.hostname.com", host_kind::domain, "public.hostname.com", "", ""},
      {"a", host_kind::domain, "a", "", ""},
      {"localhost", host_kind::domain, "localhost", "", ""},
      {"MX1.Example.NET", host_kind::domain, "MX1.Example.NET", "", ""},
      {"a-b.c--d.e", host_kind::domain, "a-b.c--d.e", "", ""},
      {"1.2.3.4", host_kind::domain, "1.2.3.4", "", ""},  // grammatical; the linter objects
      {"999.example", host_kind::domain, "999.example", "", ""},
      {"xn--ixanjetild1af0a.example.com", host_kind::domain, "xn--ixanjetild1af0a.example.com", "", ""},
      {"api-7d9f8b6c5-x2k9q", host_kind::domain, "api-7d9f8b6c5-x2k9q", "", ""},
  };
  for (const auto& c : cases) check_accepts(c);
}

TEST_CASE("label limit: 63 octets accepted, 64 refused") {
  const auto l63 = repeat('a', 63), l64 = repeat('a', 64);
  check_accepts({l63 + ".example.com", host_kind::domain, l63 + ".example.com", "", ""});
  check_accepts({"x." + l63, host_kind::domain, "x." + l63, "", ""});
  check_rejects({l64 + ".example.com", errc::label_too_long, 63});
  check_rejects({"x." + l64, errc::label_too_long, 2 + 63});
}

TEST_CASE("name limit: 255 octets accepted, 256 refused (RFC 5321 4.5.3.1.2)") {
  const std::string l63(63, 'a'), l62(62, 'a');
  const auto n255 = l63 + "." + l63 + "." + l63 + "." + l63;
  const auto n256 = l63 + "." + l63 + "." + l63 + "." + l62 + ".a";
  REQUIRE(n255.size() == 255);
  REQUIRE(n256.size() == 256);
  check_accepts({n255, host_kind::domain, n255, "", ""});
  check_rejects({n256, errc::domain_too_long, 255});
}

TEST_CASE("Domain syntax errors name what and where") {
  const reject_case cases[] = {
      {"", errc::empty_argument, 0},
      {".", errc::empty_label, 0},
      {".example.com", errc::empty_label, 0},
      {"a..b", errc::empty_label, 2},
      {"host.", errc::trailing_dot, 4},
      {"mx.example.com.", errc::trailing_dot, 14},
      {"-host.example", errc::label_hyphen, 0},
      {"host-.example", errc::label_hyphen, 4},
      {"host.example-", errc::label_hyphen, 12},
      {"a.-b", errc::label_hyphen, 2},
      {"my_host.example", errc::invalid_character, 2},
      {"my host", errc::invalid_character, 2},
      {"host\r\nMAIL FROM:<a@b>", errc::invalid_character, 4},
      {std::string("ho\0st", 5), errc::invalid_character, 2},
      {"h\xc3\xa9.example", errc::invalid_character, 1},
      {"2001:db8::1", errc::invalid_character, 4},
      {"host]", errc::invalid_character, 4},
      {"IPv6:::1", errc::invalid_character, 4},
  };
  for (const auto& c : cases) check_rejects(c);
}

TEST_CASE("IPv4-address-literal: Snum is 1*3DIGIT with a value 0-255") {
  const accept_case cases[] = {
      {"[10.42.0.17]", host_kind::ipv4_literal, "10.42.0.17", "", "0a2a0011"},
      {"[127.0.0.1]", host_kind::ipv4_literal, "127.0.0.1", "", "7f000001"},
      {"[0.0.0.0]", host_kind::ipv4_literal, "0.0.0.0", "", "00000000"},
      {"[255.255.255.255]", host_kind::ipv4_literal, "255.255.255.255", "", "ffffffff"},
      {"[249.250.199.100]", host_kind::ipv4_literal, "249.250.199.100", "", "f9fac764"},
      // Leading zeros are grammatical (the linter flags them); value is decimal.
      {"[010.0.0.1]", host_kind::ipv4_literal, "010.0.0.1", "", "0a000001"},
      {"[000.00.09.099]", host_kind::ipv4_literal, "000.00.09.099", "", "00000963"},
  };
  for (const auto& c : cases) check_accepts(c);
  const reject_case bad[] = {
      // "256" could still be a general literal's tag (Ldh-str) until the ".".
      {"[256.0.0.1]", errc::bad_ipv4_literal, 4},
      {"[1.2.3.260]", errc::bad_ipv4_literal, 9},
      {"[1.2.3]", errc::bad_ipv4_literal, 6},
      {"[1.2.3.4.5]", errc::bad_ipv4_literal, 8},
      {"[1234.1.1.1]", errc::bad_ipv4_literal, 5},
      {"[1..2.3]", errc::bad_ipv4_literal, 3},
      {"[]", errc::bad_address_literal, 1},
      {"[1.2.3.4", errc::unterminated_literal, 8},
      {"[", errc::unterminated_literal, 1},
      {"[1.2.3.4]x", errc::trailing_characters, 9},
      {"[1.2.3.4] greeting", errc::trailing_characters, 9},
      {"[1.2.3.4]]", errc::trailing_characters, 9},
  };
  for (const auto& c : bad) check_rejects(c);
}

TEST_CASE("IPv6-address-literal: all four forms of RFC 5321 4.1.3") {
  const accept_case cases[] = {
      // IPv6-full
      {"[IPv6:2001:db8:0:0:0:0:0:1]", host_kind::ipv6_literal, "2001:db8:0:0:0:0:0:1", "IPv6",
       "20010db8000000000000000000000001"},
      {"[IPv6:FFFF:ffff:FfFf:0:1:22:333:4444]", host_kind::ipv6_literal, "FFFF:ffff:FfFf:0:1:22:333:4444",
       "IPv6", "ffffffffffff00000001002203334444"},
      // IPv6-comp, every count of groups around "::" up to 6
      {"[IPv6:::]", host_kind::ipv6_literal, "::", "IPv6", "00000000000000000000000000000000"},
      {"[IPv6:::1]", host_kind::ipv6_literal, "::1", "IPv6", "00000000000000000000000000000001"},
      {"[IPv6:1::]", host_kind::ipv6_literal, "1::", "IPv6", "00010000000000000000000000000000"},
      {"[IPv6:2001:db8::1]", host_kind::ipv6_literal, "2001:db8::1", "IPv6",
       "20010db8000000000000000000000001"},
      {"[IPv6:1:2:3:4:5:6::]", host_kind::ipv6_literal, "1:2:3:4:5:6::", "IPv6",
       "00010002000300040005000600000000"},
      {"[IPv6:::1:2:3:4:5:6]", host_kind::ipv6_literal, "::1:2:3:4:5:6", "IPv6",
       "00000000000100020003000400050006"},
      {"[IPv6:1:2:3::4:5:6]", host_kind::ipv6_literal, "1:2:3::4:5:6", "IPv6",
       "00010002000300000000000400050006"},
      {"[IPv6:1::2:3:4:5:6]", host_kind::ipv6_literal, "1::2:3:4:5:6", "IPv6",
       "00010000000000020003000400050006"},
      // IPv6v4-full
      {"[IPv6:1:2:3:4:5:6:1.2.3.4]", host_kind::ipv6_literal, "1:2:3:4:5:6:1.2.3.4", "IPv6",
       "00010002000300040005000601020304"},
      // IPv6v4-comp, up to 4 groups besides "::" and the IPv4 part
      {"[IPv6:::ffff:1.2.3.4]", host_kind::ipv6_literal, "::ffff:1.2.3.4", "IPv6",
       "00000000000000000000ffff01020304"},
      {"[IPv6:::1.2.3.4]", host_kind::ipv6_literal, "::1.2.3.4", "IPv6", "00000000000000000000000001020304"},
      {"[IPv6:1:2::3:4:1.2.3.4]", host_kind::ipv6_literal, "1:2::3:4:1.2.3.4", "IPv6",
       "00010002000000000003000401020304"},
      {"[IPv6:1:2:3:4::1.2.3.4]", host_kind::ipv6_literal, "1:2:3:4::1.2.3.4", "IPv6",
       "00010002000300040000000001020304"},
      {"[IPv6:::1:2:3:4:1.2.3.4]", host_kind::ipv6_literal, "::1:2:3:4:1.2.3.4", "IPv6",
       "00000000000100020003000401020304"},
      // The tag is case-insensitive (RFC 5234 2.3); it is reported as sent.
      {"[ipv6:::1]", host_kind::ipv6_literal, "::1", "ipv6", "00000000000000000000000000000001"},
      {"[IPV6:fe80::1]", host_kind::ipv6_literal, "fe80::1", "IPV6", "fe800000000000000000000000000001"},
  };
  for (const auto& c : cases) check_accepts(c);
}

TEST_CASE("IPv6 literals outside the grammar are refused") {
  const reject_case cases[] = {
      // 7 groups plus "::": "::" must stand for at least 2 groups.
      {"[IPv6:1:2:3:4:5:6:7::]", errc::bad_ipv6_literal, 20},
      {"[IPv6:1::2:3:4:5:6:7]", errc::bad_ipv6_literal, 18},
      {"[IPv6:::1:2:3:4:5:6:7]", errc::bad_ipv6_literal, 19},
      // 9 groups, 7 groups, two "::", a 5-digit group, ":::"
      {"[IPv6:1:2:3:4:5:6:7:8:9]", errc::bad_ipv6_literal, 21},
      {"[IPv6:1:2:3:4:5:6:7]", errc::bad_ipv6_literal, 19},
      {"[IPv6:1::2::3]", errc::bad_ipv6_literal, 11},
      {"[IPv6:12345::]", errc::bad_ipv6_literal, 10},
      {"[IPv6::::1]", errc::bad_ipv6_literal, 8},
      {"[IPv6:g::1]", errc::bad_ipv6_literal, 6},
      // IPv6v4-comp with 5 groups besides "::"
      {"[IPv6:1:2:3:4:5::1.2.3.4]", errc::bad_ipv6_literal, 18},
      {"[IPv6:::1:2:3:4:5:1.2.3.4]", errc::bad_ipv6_literal, 19},
      {"[IPv6:1:2:3:4:5:1.2.3.4]", errc::bad_ipv6_literal, 17},
      {"[IPv6:::ffff:1.2.3.256]", errc::bad_ipv6_literal, 21},
      // The registered tag must carry IPv6-addr (deliberate deviation, see parse.hpp).
      {"[IPv6:garbage]", errc::bad_ipv6_literal, 6},
      {"[IPv6:]", errc::bad_ipv6_literal, 6},
      {"[IPv6:::1", errc::unterminated_literal, 9},
  };
  for (const auto& c : cases) check_rejects(c);
}

TEST_CASE("General-address-literal: Standardized-tag \":\" 1*dcontent") {
  const accept_case cases[] = {
      {"[IPv4:1.2.3.4]", host_kind::general_literal, "1.2.3.4", "IPv4", ""},
      {"[x-y:abc]", host_kind::general_literal, "abc", "x-y", ""},
      // Untagged IPv6 parses only as a general literal with tag "2001".
      {"[2001:db8::1]", host_kind::general_literal, "db8::1", "2001", ""},
      {"[foo:!\"#$%&'()*+,-./:;<=>?@^_`{|}~]", host_kind::general_literal, "!\"#$%&'()*+,-./:;<=>?@^_`{|}~",
       "foo", ""},
      // A tag that merely starts with IPv6 is another tag.
      {"[IPv6x:1]", host_kind::general_literal, "1", "IPv6x", ""},
      // Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig: a leading hyphen is grammatical.
      {"[-foo:x]", host_kind::general_literal, "x", "-foo", ""},
  };
  for (const auto& c : cases) check_accepts(c);
  const reject_case bad[] = {
      {"[::1]", errc::bad_address_literal, 1},      {"[foo:]", errc::bad_address_literal, 5},
      {"[foo:a\\b]", errc::bad_address_literal, 6}, {"[foo:a[b]", errc::bad_address_literal, 6},
      {"[foo:a b]", errc::bad_address_literal, 6},  {"[foo-:x]", errc::bad_address_literal, 5},
      {"[:x]", errc::bad_address_literal, 1},
  };
  for (const auto& c : bad) check_rejects(c);
}

TEST_CASE("bare address parsers share the grammar") {
  CHECK(hex(parse::ipv4_address("192.0.2.1").value()) == "c0000201");
  CHECK(hex(parse::ipv4_address("010.0.0.1").value()) == "0a000001");
  CHECK(parse::ipv4_address("1.2.3.256").error() == parse_error{errc::bad_ipv4_literal, 8});
  CHECK(parse::ipv4_address("1.2.3").error() == parse_error{errc::bad_ipv4_literal, 5});
  CHECK(hex(parse::ipv6_address("2001:db8::1").value()) == "20010db8000000000000000000000001");
  CHECK(hex(parse::ipv6_address("::").value()) == "00000000000000000000000000000000");
  CHECK(parse::ipv6_address("1:2:3:4:5:6:7::").error().code == errc::bad_ipv6_literal);
  CHECK_FALSE(parse::ipv6_address("[::1]").has_value());
  CHECK_FALSE(parse::ipv4_address("").has_value());
  CHECK_FALSE(parse::ipv6_address("").has_value());
}

TEST_CASE("every prefix of a valid argument is refused or accepted without reading past it") {
  const std::string inputs[] = {"[IPv6:1:2:3:4:5:6:1.2.3.4]", "mx1.example.com", "[IPv4:1.2.3.4]",
                                "[255.255.255.255]", "[IPv6:::ffff:10.0.0.1]"};
  for (const auto& input : inputs) {
    for (std::size_t n = 0; n <= input.size(); ++n) {
      const auto prefix = std::string_view(input).substr(0, n);
      std::optional<bool> first;
      for_each_placement(prefix, [&](std::string_view in) {
        const auto r = parse::ehlo_argument(in);
        if (!r) CHECK(r.error().offset <= n);
        if (!first) first = r.has_value();
        CHECK(*first == r.has_value());
      });
    }
  }
}

TEST_CASE("errc has stable names and messages") {
  CHECK(errc_name(errc::label_too_long) == "label_too_long");
  CHECK(errc_name(errc::trailing_characters) == "trailing_characters");
  const std::error_code ec = errc::bad_ipv6_literal;
  CHECK(ec.category().name() == std::string("sansmtp"));
  CHECK(ec.message().find("IPv6") != std::string::npos);
  CHECK(host_kind_name(host_kind::general_literal) == "general-literal");
}
