// Internal: the Ragel address machine (grammar/address.rl) and what it found.
#pragma once

#include <sansmtp/errc.hpp>

#include "ascii.hpp"

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

// The usual EHLO argument decided without the machine: LDH labels that start
// and end with a letter or digit, joined by single dots, none over 63
// octets, the whole at most 255. What this accepts the machine accepts as a
// Domain within both limits (fuzz_ehlo_argument holds them to that);
// anything else is the machine's to judge and name.
inline bool plain_domain(std::string_view s) noexcept {
  const std::size_t n = s.size();
  if (n == 0 || n > max_domain_octets) return false;
  std::size_t label = 0;  // where the current label starts
  const auto label_ok = [&](std::size_t end) {
    return end != label && end - label <= max_label_octets && s[label] != '-' && s[end - 1] != '-';
  };
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[i];
    if (c == '.') {
      if (!label_ok(i)) return false;
      label = i + 1;
    } else if (!ascii::is_ldh(c)) {
      return false;
    }
  }
  return label_ok(n);
}

}  // namespace sansmtp::detail
