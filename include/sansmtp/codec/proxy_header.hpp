// The PROXY protocol header a load balancer (HAProxy, nginx, AWS NLB) puts
// before the first byte of a relayed connection, so that the server learns
// the client's real address: version 1 (one text line) and version 2
// (binary, with TLVs), as HAProxy's proxy-protocol.txt specifies them.
//
// The reader is sans-IO and streaming: push octets in any chunking; it
// consumes exactly the header's octets and nothing after them (the SMTP
// conversation that follows is the session's). Strict, as the specification
// requires of a receiver (section 2): any octet that breaks the format is an
// error at its offset, as soon as it is seen, and the connection is to be
// closed without a greeting. Only trusted senders may send one (section
// 5): the caller decides whom to read it from.
//
//   ```cpp
//   // The octets before the greeting; false once the header is broken.
//   bool feed(sansmtp::proxy_reader& reader, std::string_view& in) {
//     const auto step = reader.next(in);
//     in.remove_prefix(step.consumed);  // what is left is SMTP
//     if (step.status == sansmtp::proxy_status::header)
//       std::printf("client %s port %u\n", reader.header().source_address.c_str(),
//                   unsigned{reader.header().source_port});
//     return step.status != sansmtp::proxy_status::error;
//   }
//   ```
#pragma once

#include <sansmtp/core/errc.hpp>
#include <sansmtp/core/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp {

enum class proxy_version : std::uint8_t { v1 = 1, v2 = 2 };

// v2's command (v1 has none: UNKNOWN is read as local).
enum class proxy_command : std::uint8_t {
  local,  // the proxy's own connection (a health check), or v1 UNKNOWN: use the real endpoints
  proxy,  // relayed: the addresses below are the client's and the one it connected to
};

// v2's address family (v1: TCP4 is inet, TCP6 inet6, UNKNOWN unspec).
enum class proxy_family : std::uint8_t { unspec = 0, inet = 1, inet6 = 2, unix_socket = 3 };
enum class proxy_transport : std::uint8_t { unspec = 0, stream = 1, dgram = 2 };

// PP2_TYPE_SSL: what the proxy's TLS side saw (section 2.2.6).
struct proxy_ssl {
  std::uint8_t client = 0;  // PP2_CLIENT_SSL 0x01, _CERT_CONN 0x02, _CERT_SESS 0x04
  std::uint32_t verify = 0;  // 0: the client's certificate verified
  std::string version, common_name, cipher, signature_algorithm, key_algorithm;  // sub-TLVs 0x21-0x25
};

// A TLV the reader does not interpret (custom and experimental ranges).
struct proxy_tlv {
  std::uint8_t type = 0;
  std::string value;
};

struct proxy_header {
  proxy_version version = proxy_version::v1;
  proxy_command command = proxy_command::local;
  proxy_family family = proxy_family::unspec;
  proxy_transport transport = proxy_transport::unspec;
  // The client's address and port, and the address it connected to, for
  // inet and inet6 with the proxy command: addresses in canonical text
  // ("203.0.113.5", "2001:db8::5"); for unix_socket the paths. Empty (and 0)
  // otherwise: then the real connection's endpoints are the ones to use.
  std::string source_address, destination_address;
  std::uint16_t source_port = 0, destination_port = 0;
  // v2 TLVs (section 2.2), each at most once.
  std::optional<std::string> alpn;       // PP2_TYPE_ALPN
  std::optional<std::string> authority;  // PP2_TYPE_AUTHORITY: the TLS SNI, as the client sent it
  std::optional<std::string> unique_id;  // PP2_TYPE_UNIQUE_ID, at most 128 octets
  std::optional<proxy_ssl> ssl;          // PP2_TYPE_SSL
  std::optional<std::string> netns;      // PP2_TYPE_NETNS
  bool checksum_verified = false;        // PP2_TYPE_CRC32C was present and matched
  std::vector<proxy_tlv> other_tlvs;     // 0xE0-0xFF and unregistered types, in order
  std::size_t size = 0;                  // the header's octets on the wire

  // Whether the addresses above replace the connection's own.
  bool has_addresses() const noexcept { return command == proxy_command::proxy && !source_address.empty(); }
};

enum class proxy_accept : std::uint8_t { v1, v2, any };

struct proxy_reader_options {
  // Which versions are read; a header of the other is proxy_version_not_allowed.
  proxy_accept accept = proxy_accept::any;
  // The longest v2 header accepted, its 16 fixed octets included: one over
  // is proxy_header_too_long, seen from the length field before any more is
  // read. The specification bounds it only by the 16-bit length (65551);
  // what HAProxy sends (addresses, ALPN, SNI, UNIQUE_ID, the SSL TLV) fits
  // in well under 1 KiB. Never less than 16 + 216 (the AF_UNIX block), so
  // every address family fits. 0 = the protocol's own bound.
  std::size_t max_v2_size = 1024;
};

enum class proxy_status : std::uint8_t {
  header,     // header() is complete; `consumed` ends exactly at its last octet
  need_data,  // every input octet was consumed: push more
  error,      // error() says what and where; nothing more is read
};

struct proxy_step {
  proxy_status status = proxy_status::need_data;
  std::size_t consumed = 0;  // input octets this call consumed
};

class proxy_reader {
 public:
  explicit proxy_reader(proxy_reader_options options = {});

  // Reads header octets from `input`. After `header`, or after an error,
  // further calls consume nothing and return the same status.
  [[nodiscard]] proxy_step next(std::string_view input);
  // The end of the stream: before a complete header it is `incomplete`.
  [[nodiscard]] const std::optional<parse_error>& finish();

  const proxy_header& header() const noexcept { return header_; }  // after `header`
  const std::optional<parse_error>& error() const noexcept { return error_; }
  std::uint64_t consumed() const noexcept { return offset_; }
  bool done() const noexcept { return done_; }

 private:
  proxy_step fail(errc code, std::uint64_t at, std::size_t consumed);
  proxy_step next_v1(std::string_view input);
  proxy_step next_v2(std::string_view input);
  std::optional<parse_error> finish_v1();
  std::optional<parse_error> finish_v2();

  proxy_reader_options options_;
  proxy_header header_;
  std::optional<parse_error> error_;
  std::string buffer_;  // the header's octets so far
  std::uint64_t offset_ = 0;
  int v1_state_ = 0;    // the v1 machine's state between calls
  int v1_family_ = 0;   // and what it has read of the family
  std::size_t v1_marks_[8] = {};  // field starts and ends in buffer_
  bool done_ = false;
};

// The header a client driver sends (for testing a server behind a balancer).
// v1: "PROXY TCP4 ..." for inet, TCP6 for inet6, "PROXY UNKNOWN" otherwise.
// v2: PROXY or LOCAL with its address block and the TLVs that are set
// (UNIQUE_ID over 128 octets and values over 65535 are refused). Errors:
// bad_proxy_address (an address that is not of the family), bad_proxy_tlv.
[[nodiscard]] parse_result<std::string> write_proxy_header(const proxy_header& header);

}  // namespace sansmtp
