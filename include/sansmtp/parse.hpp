// Stateless parsers: one complete field in, a typed value or a precise error out.
//
// Lifetime rule: every std::string_view inside a returned value points into the
// input that was passed in; it is valid as long as that input is.
#pragma once

#include <sansmtp/errc.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace sansmtp {

// A value or an error, shaped like C++23 std::expected (has_value, value,
// error, value_or, *, ->, explicit bool) so that moving to std::expected is a
// type alias. value() on an error throws std::bad_variant_access, as
// std::expected's throws bad_expected_access: check first; nothing on the
// hot path throws.
template <class T, class E = parse_error>
class parse_result {
 public:
  using value_type = T;
  using error_type = E;

  parse_result(T value)
      : v_(std::in_place_index<0>, std::move(value)) {}         // NOLINT(google-explicit-constructor)
  parse_result(E error) : v_(std::in_place_index<1>, error) {}  // NOLINT(google-explicit-constructor)
  // Anything T can be made from (one command struct for a `command`).
  template <class U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
           !std::is_same_v<std::remove_cvref_t<U>, E> &&
           !std::is_same_v<std::remove_cvref_t<U>, parse_result>)
      parse_result(U&& value)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<0>, std::forward<U>(value)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const E& error() const { return std::get<1>(v_); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, E> v_;
};

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
