// Internal: the IANA special-purpose address registries (RFC 6890 and later
// additions) as the EHLO linter sees them.
#pragma once

#include <sansmtp/syntax/ehlo_check.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace sansmtp::detail {

struct ip_range {
  std::array<std::uint8_t, 16> prefix;
  unsigned bits;
  std::string_view cidr;  // as people write it: "10.0.0.0/8"
  ehlo_check_code code;   // the linter finding
  severity internet;      // severity with lint_profile::internet
  severity internal;      // ... and with lint_profile::internal
  std::string_view what;  // "private address space (RFC 1918)"
};

// The most specific special-purpose range holding the address, or nullptr for
// ordinary public (global unicast) space.
const ip_range* find_ipv4_range(const std::array<std::uint8_t, 4>& address) noexcept;
const ip_range* find_ipv6_range(const std::array<std::uint8_t, 16>& address) noexcept;

// ::ffff:a.b.c.d (RFC 4291 §2.5.5.2)?
bool is_ipv4_mapped(const std::array<std::uint8_t, 16>& address) noexcept;

}  // namespace sansmtp::detail
