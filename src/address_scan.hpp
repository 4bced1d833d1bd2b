// Internal: the Ragel address machine (grammar/address.rl) and what it found.
#pragma once

#include <sansmtp/errc.hpp>

#include <cstddef>
#include <string_view>

namespace sansmtp::detail {

enum class address_form {
  ehlo_argument,  // Domain / address-literal (RFC 5321 §4.1.1.1)
  ipv4,           // IPv4-address-literal without brackets
  ipv6,           // IPv6-addr without brackets or tag
};

// Label and name limits (RFC 1035 §2.3.4; RFC 5321 §4.5.3.1.2).
inline constexpr std::size_t max_label_octets = 63;
inline constexpr std::size_t max_domain_octets = 255;

struct address_scan {
  bool accepted = false;         // the whole text matched the grammar
  std::size_t fail_offset = 0;   // where the machine stopped (size when it ran out)
  errc limit = errc::ok;         // label_too_long / domain_too_long, if any
  std::size_t limit_offset = 0;  // first octet past the limit
};

address_scan scan_address(std::string_view text, address_form form) noexcept;

}  // namespace sansmtp::detail
