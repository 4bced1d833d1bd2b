// The EHLO/HELO argument (RFC 5321 §4.1.1.1) and the bare address forms:
// one complete field in, a typed value or a precise error out.
//
// Lifetime rule: every std::string_view inside a returned value points into the
// input that was passed in; it is valid as long as that input is.
#pragma once

#include <sansmtp/core/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace sansmtp {

// What an EHLO argument names (RFC 5321 §4.1.1.1: Domain / address-literal).
enum class host_kind {
  domain,           // Domain (§4.1.2)
  ipv4_literal,     // [1.2.3.4]           IPv4-address-literal
  ipv6_literal,     // [IPv6:2001:db8::1]  IPv6-address-literal (tag case-insensitive)
  general_literal,  // [tag:content]       General-address-literal, tag != IPv6
};

std::string_view host_kind_name(host_kind k) noexcept;  // "domain", "ipv4-literal", ...

struct ehlo_host {
  host_kind kind = host_kind::domain;
  std::string_view text;   // the whole argument, brackets included
  std::string_view value;  // the domain, or the literal's address text
                           // (no brackets, no "IPv6:" tag, no general tag)
  std::string_view tag;    // general and IPv6 literals: the tag as sent
  // IP literals: the address in network byte order (IPv4 uses the first 4).
  std::array<std::uint8_t, 16> address{};

  std::span<const std::uint8_t> address_bytes() const noexcept {
    switch (kind) {
      case host_kind::ipv4_literal:
        return {address.data(), 4};
      case host_kind::ipv6_literal:
        return {address.data(), 16};
      default:
        return {};
    }
  }

  friend bool operator==(const ehlo_host&, const ehlo_host&) = default;
};

namespace parse {

// The argument of EHLO (and, leniently, HELO): `Domain / address-literal`
// exactly as RFC 5321 §4.1.2/§4.1.3 write them, plus the limits the ABNF leaves
// out: labels <= 63 octets (RFC 1035), the name <= 255 octets (§4.5.3.1.2).
// Deviation, on purpose: a General-address-literal whose tag is "IPv6" must hold
// an IPv6-addr (the tag is registered with that syntax, §4.1.3), so
// "[IPv6:garbage]" is bad_ipv6_literal rather than a general literal.
parse_result<ehlo_host> ehlo_argument(std::string_view arg) noexcept;

// The bare address forms, same grammar: Snum "." Snum "." Snum "." Snum (leading
// zeros allowed, as 1*3DIGIT allows them) and IPv6-addr (all four forms).
// On success `out` holds the address in network byte order.
parse_result<std::array<std::uint8_t, 4>> ipv4_address(std::string_view text) noexcept;
parse_result<std::array<std::uint8_t, 16>> ipv6_address(std::string_view text) noexcept;

}  // namespace parse
}  // namespace sansmtp
