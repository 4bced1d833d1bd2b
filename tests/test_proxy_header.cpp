// The PROXY protocol reader (v1 and v2) and writer: every case read whole,
// octet by octet and split at every point, with the same answer each time,
// and nothing after the header consumed.
#include "proxy_helpers.hpp"

#include <sansmtp/codec/proxy_header.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace sansmtp;

namespace {

using outcome = sansmtp::test::proxy_outcome;

outcome read_chunks(std::string_view input, const std::vector<std::size_t>& cuts, proxy_reader_options o = {}) {
  return sansmtp::test::read_proxy_chunks(input, cuts, o);
}

bool same(const outcome& a, const outcome& b) {
  const auto& x = a.header;
  const auto& y = b.header;
  return a.status == b.status && a.error == b.error && a.consumed == b.consumed && x.version == y.version &&
         x.command == y.command && x.family == y.family && x.transport == y.transport &&
         x.source_address == y.source_address && x.destination_address == y.destination_address &&
         x.source_port == y.source_port && x.destination_port == y.destination_port && x.alpn == y.alpn &&
         x.authority == y.authority && x.unique_id == y.unique_id && x.netns == y.netns &&
         x.checksum_verified == y.checksum_verified && x.size == y.size &&
         x.other_tlvs.size() == y.other_tlvs.size() && x.ssl.has_value() == y.ssl.has_value();
}

// The input whole, octet by octet, and split once at every point: one answer.
outcome read(std::string_view input, proxy_reader_options o = {}) {
  const auto whole = read_chunks(input, {}, o);
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
  CHECK(same(read_chunks(input, every, o), whole));
  for (std::size_t i = 1; i < input.size(); ++i) {
    INFO("split at " << i);
    CHECK(same(read_chunks(input, {i}, o), whole));
  }
  return whole;
}

parse_error err(errc code, std::uint64_t at) { return {code, at}; }

std::string v2(const proxy_header& h) {
  auto w = write_proxy_header(h);
  REQUIRE(w.has_value());
  return *w;
}

proxy_header tcp4_v2() {
  proxy_header h;
  h.version = proxy_version::v2;
  h.command = proxy_command::proxy;
  h.family = proxy_family::inet;
  h.transport = proxy_transport::stream;
  h.source_address = "203.0.113.5";
  h.destination_address = "192.0.2.25";
  h.source_port = 56324;
  h.destination_port = 25;
  return h;
}

}  // namespace

TEST_CASE("proxy v1: TCP4, TCP6 and UNKNOWN, and nothing after the line consumed") {
  const std::string line = "PROXY TCP4 203.0.113.5 192.0.2.25 56324 25\r\n";
  auto r = read(line + "EHLO client.example\r\n");
  REQUIRE(r.status == proxy_status::header);
  CHECK(r.consumed == line.size());
  CHECK(r.header.size == line.size());
  CHECK(r.header.version == proxy_version::v1);
  CHECK(r.header.command == proxy_command::proxy);
  CHECK(r.header.family == proxy_family::inet);
  CHECK(r.header.source_address == "203.0.113.5");
  CHECK(r.header.destination_address == "192.0.2.25");
  CHECK(r.header.source_port == 56324);
  CHECK(r.header.destination_port == 25);
  CHECK(r.header.has_addresses());

  r = read("PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0005 ::1 65535 0\r\n");
  REQUIRE(r.status == proxy_status::header);
  CHECK(r.header.family == proxy_family::inet6);
  CHECK(r.header.source_address == "2001:db8::5");  // canonical text
  CHECK(r.header.destination_address == "::1");
  CHECK(r.header.source_port == 65535);
  CHECK(r.header.destination_port == 0);
  // Canonical per RFC 5952, never with a dotted tail (which a v1 line could not carry back).
  r = read("PROXY TCP6 0::1:1 1:0:0:2:0:0:0:3 1 2\r\n");
  REQUIRE(r.status == proxy_status::header);
  CHECK(r.header.source_address == "::1:1");
  CHECK(r.header.destination_address == "1:0:0:2::3");
  r = read("PROXY TCP6 ::ffff:a00:1 1:2:3:4:5:6:7:8 1 2\r\n");
  CHECK(r.header.source_address == "::ffff:a00:1");
  CHECK(r.header.destination_address == "1:2:3:4:5:6:7:8");

  for (const std::string unknown : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f::f ffff:f::f 65535 65535\r\n",
                                    "PROXY UNKNOWN whatever \x01 it says\r\n"}) {
    INFO(unknown);
    r = read(unknown);
    REQUIRE(r.status == proxy_status::header);
    CHECK(r.header.command == proxy_command::local);  // the real endpoints
    CHECK_FALSE(r.header.has_addresses());
    CHECK(r.consumed == unknown.size());
  }
}

TEST_CASE("proxy v1: every departure from the line is an error at its octet") {
  struct bad {
    std::string input;
    parse_error error;
  };
  const std::vector<bad> cases = {
      {"EHLO x\r\n", err(errc::bad_proxy_header, 0)},
      {"PROXy TCP4", err(errc::bad_proxy_header, 4)},
      {"PROXY  TCP4", err(errc::bad_proxy_header, 6)},
      {"PROXY TCP5 ", err(errc::bad_proxy_header, 9)},
      {"PROXY TCP4 010.0.0.1 ", err(errc::bad_proxy_header, 12)},   // no leading zeros
      {"PROXY TCP4 256.0.0.1 ", err(errc::bad_proxy_header, 13)},   // 0-255
      {"PROXY TCP4 1.2.3 ", err(errc::bad_proxy_header, 16)},
      {"PROXY TCP4 1.2.3.4  5.6.7.8", err(errc::bad_proxy_header, 19)},
      {"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", err(errc::bad_proxy_header, 28)},  // no leading zeros
      {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", err(errc::bad_proxy_header, 30)},     // only CRLF ends it
      {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", err(errc::bad_proxy_header, 31)},
      {"PROXY TCP4 1.2.3.4 5.6.7.8 1 123456", err(errc::bad_proxy_header, 34)},
      {"PROXY TCP6 ::ffff:1.2.3.4 ", err(errc::bad_proxy_header, 19)},  // hex groups only
      {"PROXY UNKNOWN x\ny\r\n", err(errc::bad_proxy_header, 15)},
      {"PROXY UNKNOWNX\r\n", err(errc::bad_proxy_header, 13)},
      // Values checked once the line is whole (section 2.1), at the field.
      {"PROXY TCP4 1.2.3.4 5.6.7.8 65536 25\r\n", err(errc::bad_proxy_address, 27)},
      {"PROXY TCP6 1:2:3 ::1 1 2\r\n", err(errc::bad_proxy_address, 11)},
      {"PROXY TCP6 ::1 1:2:3:4:5:6:7:8:9 1 2\r\n", err(errc::bad_proxy_address, 15)},
  };
  for (const auto& c : cases) {
    INFO(c.input);
    const auto r = read(c.input);
    CHECK(r.status == proxy_status::error);
    CHECK(r.error == c.error);
    // The machine stops at the octet; a value is refused once the line is whole.
    CHECK(r.consumed == (c.error.code == errc::bad_proxy_header ? c.error.offset + 1 : c.input.size()));
  }
  // The stream ends before the CRLF.
  CHECK(read("PROXY TCP4 1.2.3.4").error == err(errc::incomplete, 18));
  CHECK(read("").error == err(errc::incomplete, 0));
}

TEST_CASE("proxy v1: 107 octets with the CRLF is the longest line, 108 is too long") {
  const std::string prefix = "PROXY UNKNOWN ";
  std::string at_limit = prefix + std::string(107 - prefix.size() - 2, 'f') + "\r\n";
  REQUIRE(at_limit.size() == 107);
  const auto ok = read(at_limit);
  CHECK(ok.status == proxy_status::header);
  CHECK(ok.consumed == 107);
  const std::string over = prefix + std::string(108 - prefix.size() - 2, 'f') + "\r\n";
  const auto r = read(over);
  CHECK(r.status == proxy_status::error);
  CHECK(r.error == err(errc::proxy_header_too_long, 107));
  CHECK(r.consumed == 107);
}

TEST_CASE("proxy v2: TCP over IPv4 and IPv6, UNIX, with every TLV, written and read back") {
  auto h = tcp4_v2();
  h.alpn = "smtp";
  h.authority = "mx.example.net";
  h.unique_id = std::string(128, 'u');
  proxy_ssl ssl;
  ssl.client = 0x01;
  ssl.verify = 0;
  ssl.version = "TLSv1.3";
  ssl.cipher = "TLS_AES_256_GCM_SHA384";
  ssl.common_name = "client.example";
  h.ssl = ssl;
  h.netns = "blue";
  h.other_tlvs.push_back({0xE0, "custom"});
  const auto bytes = v2(h) + "EHLO x\r\n";
  auto r = read(bytes);
  REQUIRE(r.status == proxy_status::header);
  CHECK(r.consumed == bytes.size() - 8);
  CHECK(r.header.version == proxy_version::v2);
  CHECK(r.header.source_address == "203.0.113.5");
  CHECK(r.header.source_port == 56324);
  CHECK(r.header.destination_address == "192.0.2.25");
  CHECK(r.header.destination_port == 25);
  CHECK(r.header.alpn == "smtp");
  CHECK(r.header.authority == "mx.example.net");
  CHECK(r.header.unique_id == std::string(128, 'u'));
  REQUIRE(r.header.ssl.has_value());
  CHECK(r.header.ssl->version == "TLSv1.3");
  CHECK(r.header.ssl->cipher == "TLS_AES_256_GCM_SHA384");
  CHECK(r.header.ssl->common_name == "client.example");
  CHECK(r.header.ssl->client == 0x01);
  CHECK(r.header.netns == "blue");
  REQUIRE(r.header.other_tlvs.size() == 1);
  CHECK(r.header.other_tlvs[0].type == 0xE0);
  CHECK(r.header.other_tlvs[0].value == "custom");

  auto six = tcp4_v2();
  six.family = proxy_family::inet6;
  six.source_address = "2001:db8::5";
  six.destination_address = "2001:db8::25";
  r = read(v2(six));
  REQUIRE(r.status == proxy_status::header);
  CHECK(r.header.source_address == "2001:db8::5");
  CHECK(r.header.destination_address == "2001:db8::25");

  proxy_header unix_h;
  unix_h.version = proxy_version::v2;
  unix_h.command = proxy_command::proxy;
  unix_h.family = proxy_family::unix_socket;
  unix_h.transport = proxy_transport::stream;
  unix_h.source_address = "/run/client.sock";
  unix_h.destination_address = "/run/smtp.sock";
  r = read(v2(unix_h));
  REQUIRE(r.status == proxy_status::header);
  CHECK(r.header.size == 16 + 216);
  CHECK(r.header.source_address == "/run/client.sock");

  // v1 written and read back, with canonical text.
  auto one = tcp4_v2();
  one.version = proxy_version::v1;
  CHECK(*write_proxy_header(one) == "PROXY TCP4 203.0.113.5 192.0.2.25 56324 25\r\n");
  one.source_address = "010.0.0.1";  // parse::ipv4_address allows the zero; the line does not
  CHECK(*write_proxy_header(one) == "PROXY TCP4 10.0.0.1 192.0.2.25 56324 25\r\n");
  one.family = proxy_family::inet6;
  CHECK_FALSE(write_proxy_header(one).has_value());  // an IPv4 address in an IPv6 header
  one.command = proxy_command::local;
  CHECK(*write_proxy_header(one) == "PROXY UNKNOWN\r\n");
}

TEST_CASE("proxy v2: LOCAL skips its block, and the checksum is checked") {
  // LOCAL with an address block anyway: accepted, the block ignored (section 2.2).
  auto bytes = v2(tcp4_v2());
  bytes[12] = 0x20;
  auto r = read(bytes);
  REQUIRE(r.status == proxy_status::header);
  CHECK(r.header.command == proxy_command::local);
  CHECK_FALSE(r.header.has_addresses());
  CHECK(r.consumed == bytes.size());

  // PP2_TYPE_CRC32C over the header with its field zeroed (RFC 4960 Appendix B).
  auto h = tcp4_v2();
  h.other_tlvs.clear();
  auto with_crc = v2(h);
  with_crc += std::string("\x03\x00\x04\x00\x00\x00\x00", 7);
  const auto length = static_cast<std::size_t>((static_cast<unsigned char>(with_crc[14]) << 8) |
                                               static_cast<unsigned char>(with_crc[15])) + 7;
  with_crc[14] = static_cast<char>(length >> 8);
  with_crc[15] = static_cast<char>(length & 0xFF);
  // CRC32c, computed here bit by bit, independently of the reader's table.
  std::uint32_t c = 0xFFFFFFFF;
  for (const unsigned char ch : with_crc) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  c ^= 0xFFFFFFFF;
  for (int i = 0; i < 4; ++i) with_crc[with_crc.size() - 4 + i] = static_cast<char>((c >> (24 - 8 * i)) & 0xFF);
  r = read(with_crc);
  REQUIRE(r.status == proxy_status::header);
  CHECK(r.header.checksum_verified);
  with_crc.back() = static_cast<char>(with_crc.back() ^ 1);
  r = read(with_crc);
  CHECK(r.error == err(errc::proxy_checksum_mismatch, with_crc.size() - 4));
  // The known value: CRC32c("123456789") is 0xE3069283.
  std::string check = "123456789";
  c = 0xFFFFFFFF;
  for (const unsigned char ch : check) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  CHECK((c ^ 0xFFFFFFFF) == 0xE3069283u);
}

TEST_CASE("proxy v2: every malformed field is an error at its octet") {
  const auto good = v2(tcp4_v2());
  const auto with = [&](std::size_t at, char c) {
    auto b = good;
    b[at] = c;
    return b;
  };
  for (std::size_t i = 0; i < 12; ++i) {
    INFO("signature octet " << i);
    auto b = good;
    b[i] = static_cast<char>(b[i] ^ 0x40);
    const auto r = read(b);
    CHECK(r.error == err(errc::bad_proxy_header, i));
    CHECK(r.consumed == i + 1);
  }
  CHECK(read(with(12, 0x11)).error == err(errc::bad_proxy_header, 12));  // version 1
  CHECK(read(with(12, 0x22)).error == err(errc::bad_proxy_header, 12));  // command 2
  CHECK(read(with(13, 0x41)).error == err(errc::bad_proxy_header, 13));  // family 4
  CHECK(read(with(13, 0x13)).error == err(errc::bad_proxy_header, 13));  // transport 3
  CHECK(read(with(13, 0x10)).error == err(errc::bad_proxy_header, 13));  // inet without a transport
  CHECK(read(with(13, 0x21)).error == err(errc::bad_proxy_address, 14));  // 12 octets for IPv6's 36
  // A TLV that overruns the header, a truncated TLV header, a repeated one, an oversized UNIQUE_ID.
  const auto tlvs = [&](std::string extra) {
    auto b = good + extra;
    const std::size_t length = b.size() - 16;
    b[14] = static_cast<char>(length >> 8);
    b[15] = static_cast<char>(length & 0xFF);
    return b;
  };
  CHECK(read(tlvs(std::string("\x01\x00\x05smtp", 7))).error == err(errc::bad_proxy_tlv, 29));
  CHECK(read(tlvs(std::string("\x01\x00", 2))).error == err(errc::bad_proxy_tlv, 28));
  CHECK(read(tlvs(std::string("\x01\x00\x01x\x01\x00\x01y", 8))).error == err(errc::bad_proxy_tlv, 32));
  CHECK(read(tlvs(std::string("\x05\x00\x81", 3) + std::string(129, 'u'))).error == err(errc::bad_proxy_tlv, 28));
  CHECK(read(tlvs(std::string("\x05\x00\x80", 3) + std::string(128, 'u'))).status == proxy_status::header);
  CHECK(read(tlvs(std::string("\x20\x00\x04\x01\x00\x00\x00", 7))).error == err(errc::bad_proxy_tlv, 28));
  CHECK(read(tlvs(std::string("\x03\x00\x02\x00\x00", 5))).error == err(errc::bad_proxy_tlv, 28));
  CHECK(read(tlvs(std::string("\x04\x00\x02\x00\x00", 5))).status == proxy_status::header);  // NOOP
  // The stream ends inside the header.
  CHECK(read(good.substr(0, 20)).error == err(errc::incomplete, 20));
}

TEST_CASE("proxy v2: the size limit at N and N+1, and the accepted versions") {
  auto h = tcp4_v2();
  const std::size_t base = v2(h).size();  // 16 + 12
  h.authority = std::string(300 - base - 3, 'a');
  const auto at_limit = v2(h);
  REQUIRE(at_limit.size() == 300);
  proxy_reader_options o;
  o.max_v2_size = 300;
  CHECK(read(at_limit, o).status == proxy_status::header);
  h.authority->push_back('a');
  const auto over = v2(h);
  const auto r = read(over, o);
  CHECK(r.error == err(errc::proxy_header_too_long, 14));
  CHECK(r.consumed == 16);  // refused from the length field, before the body
  // The limit never goes below what an AF_UNIX block needs.
  o.max_v2_size = 16;
  h.authority.reset();
  CHECK(read(v2(h), o).status == proxy_status::header);

  proxy_reader_options only;
  only.accept = proxy_accept::v1;
  CHECK(read(v2(tcp4_v2()), only).error == err(errc::proxy_version_not_allowed, 0));
  only.accept = proxy_accept::v2;
  CHECK(read("PROXY UNKNOWN\r\n", only).error == err(errc::proxy_version_not_allowed, 0));
  // After the header or an error, the reader stays where it is.
  proxy_reader reader;
  REQUIRE(reader.next("PROXY UNKNOWN\r\nEHLO").status == proxy_status::header);
  const auto again = reader.next("EHLO x\r\n");
  CHECK(again.status == proxy_status::header);
  CHECK(again.consumed == 0);
  CHECK_FALSE(reader.finish().has_value());
}
