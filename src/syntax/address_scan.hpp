// Internal: the Ragel address machine (grammar/address.rl) and what it found.
#pragma once

#include <sansmtp/core/errc.hpp>

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

// LDH labels from text[i] on, each 1-63 octets that start and end with a
// letter or digit, joined by single dots (RFC 5321 §4.1.2 sub-domain, ASCII
// only): where the last label ends (at the end of text or at an octet that
// is neither LDH nor "."), or npos when a label breaks the rule. The fast
// paths that decide the usual domain without the Ragel machine share it.
[[gnu::always_inline]] inline std::size_t ldh_labels(std::string_view text, std::size_t i) noexcept {
  const std::size_t n = text.size();
  for (;;) {
    const std::size_t label = i;
    while (i < n && ascii::is_ldh(text[i])) ++i;
    if (i == label || i - label > max_label_octets || text[label] == '-' || text[i - 1] == '-')
      return std::string_view::npos;
    if (i == n || text[i] != '.') return i;
    ++i;
  }
}

// The usual EHLO argument decided without the machine: LDH labels that start
// and end with a letter or digit, joined by single dots, none over 63
// octets, the whole at most 255. What this accepts the machine accepts as a
// Domain within both limits (fuzz_ehlo_argument holds them to that);
// anything else is the machine's to judge and name.
inline bool plain_domain(std::string_view s) noexcept {
  return !s.empty() && s.size() <= max_domain_octets && ldh_labels(s, 0) == s.size();
}

}  // namespace sansmtp::detail
