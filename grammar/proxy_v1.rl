// Ragel machine for the PROXY protocol's version 1 line (HAProxy's
// proxy-protocol.txt, section 2.1):
//
//   "PROXY" SP ( "TCP4" SP ipv4 SP ipv4 SP port SP port
//              | "TCP6" SP ipv6 SP ipv6 SP port SP port
//              | "UNKNOWN" [ SP anything but CR and LF ] ) CRLF
//
// Exactly one space between fields; IPv4 as four decimal numbers 0-255
// without leading zeros; ports as decimal numbers without leading zeros
// (their value, at most 65535, and the IPv6 addresses' form are checked by
// the reader once the line is whole: section 2.1 says to decode only after
// the CRLF); only CRLF ends the line. It runs a chunk at a time: the state
// is kept between calls, and the first octet that breaks the grammar is
// reported where it is.
#include "proxy_v1.hpp"

namespace sansmtp::detail {
namespace {

%%{
  machine sansmtp_proxy_v1;
  alphtype unsigned char;

  action mark { s.marks[m++] = static_cast<std::size_t>(p - b); }

  dec_octet = digit | [1-9] digit | '1' digit digit | '2' [0-4] digit | '25' [0-5];
  ipv4 = dec_octet '.' dec_octet '.' dec_octet '.' dec_octet;
  ipv6 = [0-9a-fA-F:]{2,39};
  port = '0' | [1-9] digit{0,4};

  tcp4 = 'TCP4' @{ s.family = 4; } ' '
         ipv4 >mark %mark ' ' ipv4 >mark %mark ' ' port >mark %mark ' ' port >mark %mark;
  tcp6 = 'TCP6' @{ s.family = 6; } ' '
         ipv6 >mark %mark ' ' ipv6 >mark %mark ' ' port >mark %mark ' ' port >mark %mark;
  unknown = 'UNKNOWN' ( ' ' ( any - [\r\n] )* )?;

  main := 'PROXY ' ( tcp4 | tcp6 | unknown ) '\r\n' @{ s.end = static_cast<std::size_t>(p - b) + 1; fbreak; };
}%%

%% write data nofinal;

}  // namespace

proxy_v1_scan proxy_v1_begin() noexcept {
  proxy_v1_scan s;
  int cs = 0;
  %% write init;
  s.cs = cs;
  return s;
}

void proxy_v1_run(proxy_v1_scan& s, const char* base, std::size_t from, std::size_t to) noexcept {
  if (s.failed || s.end) return;
  const unsigned char* const b = reinterpret_cast<const unsigned char*>(base);
  const unsigned char* p = b + from;
  const unsigned char* const pe = b + to;
  const unsigned char* const eof = nullptr;
  (void)eof;
  int cs = s.cs;
  // Marks already taken in earlier chunks (each field has a start and an end).
  std::size_t m = 0;
  while (m < 8 && s.marks[m] != 0) ++m;
  %% write exec;
  s.cs = cs;
  if (cs == sansmtp_proxy_v1_error) {
    s.failed = true;
    s.error_at = static_cast<std::size_t>(p - b);
  }
}

}  // namespace sansmtp::detail
