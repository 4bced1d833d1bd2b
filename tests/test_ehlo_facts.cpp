// The helpers of advice/ehlo_facts.hpp: status names, which statuses are
// temporary, reverse-lookup names and address comparison. No network.
#include <sansmtp/advice/ehlo_facts.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace sansmtp;

namespace {

using octets = std::vector<std::uint8_t>;

}  // namespace

TEST_CASE("dns_status_name: one stable name per status") {
  CHECK(dns_status_name(dns_status::not_asked) == "not-asked");
  CHECK(dns_status_name(dns_status::answered) == "answered");
  CHECK(dns_status_name(dns_status::nodata) == "nodata");
  CHECK(dns_status_name(dns_status::nxdomain) == "nxdomain");
  CHECK(dns_status_name(dns_status::servfail) == "servfail");
  CHECK(dns_status_name(dns_status::refused) == "refused");
  CHECK(dns_status_name(dns_status::timeout) == "timeout");
  CHECK(dns_status_name(dns_status::error) == "error");
}

TEST_CASE("dns_temporary: what may answer differently next time") {
  CHECK(dns_temporary(dns_status::servfail));
  CHECK(dns_temporary(dns_status::refused));
  CHECK(dns_temporary(dns_status::timeout));
  CHECK(dns_temporary(dns_status::error));
  // Answers, including the negative ones, are final.
  CHECK_FALSE(dns_temporary(dns_status::answered));
  CHECK_FALSE(dns_temporary(dns_status::nodata));
  CHECK_FALSE(dns_temporary(dns_status::nxdomain));
  CHECK_FALSE(dns_temporary(dns_status::not_asked));
}

TEST_CASE("dns_answer::has_records: answered and not empty") {
  dns_answer a;
  CHECK_FALSE(a.has_records());  // not asked
  a.status = dns_status::answered;
  CHECK_FALSE(a.has_records());  // answered, no record kept
  a.records.push_back("192.0.2.1");
  CHECK(a.has_records());
  a.status = dns_status::servfail;  // records without an answer do not count
  CHECK_FALSE(a.has_records());
}

TEST_CASE("reverse_name: in-addr.arpa for IPv4") {
  CHECK(reverse_name("203.0.113.5") == "5.113.0.203.in-addr.arpa");
  CHECK(reverse_name("0.0.0.0") == "0.0.0.0.in-addr.arpa");
  CHECK(reverse_name("255.255.255.255") == "255.255.255.255.in-addr.arpa");
  CHECK(reverse_name("127.0.0.1") == "1.0.0.127.in-addr.arpa");
  // Leading zeros are decimal (RFC 5321's Snum), never octal.
  CHECK(reverse_name("010.0.0.1") == "1.0.0.10.in-addr.arpa");
}

TEST_CASE("reverse_name: 32 nibbles under ip6.arpa for IPv6") {
  CHECK(reverse_name("2001:db8::1") ==
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  CHECK(reverse_name("::1") == "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
  CHECK(reverse_name("::") == "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
  // Upper-case hex in, lower-case nibbles out.
  CHECK(reverse_name("2001:DB8::ABCD") ==
        "d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  const auto name = reverse_name("fe80::1:2");
  REQUIRE(name);
  CHECK(name->size() == 32 * 2 + std::string("ip6.arpa").size());
}

TEST_CASE("reverse_name: an IPv4-mapped IPv6 address is looked up as its IPv4 address") {
  CHECK(reverse_name("::ffff:192.0.2.1") == "1.2.0.192.in-addr.arpa");
  CHECK(reverse_name("::ffff:c000:201") == "1.2.0.192.in-addr.arpa");
  // One bit off the prefix (::fffe:0:0) is an IPv6 address like any other.
  CHECK(reverse_name("::fffe:c000:201") ==
        "1.0.2.0.0.0.0.c.e.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
}

TEST_CASE("reverse_name: anything but an address is nullopt") {
  CHECK_FALSE(reverse_name(""));
  CHECK_FALSE(reverse_name("mail.example.com"));
  CHECK_FALSE(reverse_name("192.0.2"));      // three octets
  CHECK_FALSE(reverse_name("192.0.2.1.5"));  // five
  CHECK_FALSE(reverse_name("192.0.2.256"));  // one past 255
  CHECK(reverse_name("192.0.2.255"));        // 255 itself
  CHECK_FALSE(reverse_name("[192.0.2.1]"));  // an address literal is not an address
  CHECK_FALSE(reverse_name(" 192.0.2.1"));   // no white space
  CHECK_FALSE(reverse_name("192.0.2.1 "));
  CHECK_FALSE(reverse_name("fe80::1%eth0"));       // no zone
  CHECK_FALSE(reverse_name("1:2:3:4:5:6:7:8:9"));  // nine groups
  CHECK(reverse_name("1:2:3:4:5:6:7:8"));          // eight
  CHECK_FALSE(reverse_name("12345::"));            // a group of five hex digits
  CHECK_FALSE(reverse_name(std::string_view("1.2.3.4\0", 8)));
}

TEST_CASE("ip_octets: 4 or 16 octets, mapped IPv6 as IPv4") {
  CHECK(ip_octets("192.0.2.1") == octets{192, 0, 2, 1});
  CHECK(ip_octets("::ffff:192.0.2.1") == octets{192, 0, 2, 1});
  CHECK(ip_octets("2001:db8::1") == octets{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  CHECK(ip_octets("::1") == octets{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  CHECK_FALSE(ip_octets(""));
  CHECK_FALSE(ip_octets("localhost"));
  CHECK_FALSE(ip_octets("[::1]"));
  CHECK_FALSE(ip_octets("1.2.3.4.5"));
}

TEST_CASE("same_address: the same octets, whatever the spelling") {
  CHECK(same_address("127.0.0.1", "127.0.0.1"));
  CHECK(same_address("::ffff:127.0.0.1", "127.0.0.1"));
  CHECK(same_address("127.0.0.1", "::ffff:7f00:1"));
  CHECK(same_address("2001:db8::1", "2001:0DB8:0:0:0:0:0:0001"));
  CHECK(same_address("010.0.0.1", "10.0.0.1"));
  CHECK_FALSE(same_address("127.0.0.1", "127.0.0.2"));
  CHECK_FALSE(same_address("2001:db8::1", "2001:db8::2"));
  // ::7f00:1 (deprecated IPv4-compatible) is not ::ffff:7f00:1.
  CHECK_FALSE(same_address("::7f00:1", "127.0.0.1"));
  // Not an address on either side: false, even when the texts are equal.
  CHECK_FALSE(same_address("mail.example.com", "mail.example.com"));
  CHECK_FALSE(same_address("", ""));
  CHECK_FALSE(same_address("127.0.0.1", ""));
  CHECK_FALSE(same_address("", "127.0.0.1"));
}
