// Internal: locale-free ASCII helpers (std::isalpha & co. depend on the locale
// and are undefined for negative char values).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sansmtp::ascii {

// Character classes by table: the parsers' hot loops test one octet per
// lookup instead of a chain of range comparisons.
namespace klass {
inline constexpr std::uint8_t digit = 1;
inline constexpr std::uint8_t alpha = 2;
inline constexpr std::uint8_t hyphen = 4;
inline constexpr std::uint8_t atext = 8;            // RFC 5322 §3.2.3 atext (US-ASCII), RFC 5321 Atom
inline constexpr std::uint8_t esmtp_value = 16;     // RFC 5321 §4.1.2: %d33-60 / %d62-126
inline constexpr std::uint8_t esmtp_value_u8 = 32;  // the same plus UTF8-non-ascii octets (RFC 6531 §3.3)
inline constexpr std::uint8_t sasl_mech = 64;       // RFC 4422 §3.1 mech-char: A-Z, DIGIT, "-", "_"
}  // namespace klass
inline constexpr auto class_table = [] {
  struct table {
    std::uint8_t of[256]{};
  } t;
  for (int c = '0'; c <= '9'; ++c) t.of[c] |= klass::digit | klass::atext;
  for (int c = 'a'; c <= 'z'; ++c) t.of[c] |= klass::alpha | klass::atext;
  for (int c = 'A'; c <= 'Z'; ++c) t.of[c] |= klass::alpha | klass::atext;
  t.of[static_cast<unsigned char>('-')] |= klass::hyphen;
  for (int c = 'A'; c <= 'Z'; ++c) t.of[c] |= klass::sasl_mech;
  for (int c = '0'; c <= '9'; ++c) t.of[c] |= klass::sasl_mech;
  for (const char c : {'-', '_'}) t.of[static_cast<unsigned char>(c)] |= klass::sasl_mech;
  for (char c : std::string_view("!#$%&'*+-/=?^_`{|}~")) t.of[static_cast<unsigned char>(c)] |= klass::atext;
  for (int c = 33; c <= 126; ++c)
    if (c != '=') t.of[c] |= klass::esmtp_value | klass::esmtp_value_u8;
  for (int c = 0x80; c <= 0xff; ++c) t.of[c] |= klass::esmtp_value_u8;
  return t;
}();
constexpr bool in(char c, std::uint8_t classes) noexcept {
  return (class_table.of[static_cast<unsigned char>(c)] & classes) != 0;
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept { return in(c, klass::alpha); }
constexpr bool is_let_dig(char c) noexcept { return in(c, klass::alpha | klass::digit); }
constexpr bool is_ldh(char c) noexcept { return in(c, klass::alpha | klass::digit | klass::hyphen); }
constexpr bool is_atext(char c) noexcept { return in(c, klass::atext); }
constexpr bool is_printable(char c) noexcept { return c >= 0x20 && c < 0x7f; }
constexpr bool is_non_ascii(char c) noexcept { return static_cast<unsigned char>(c) >= 0x80; }
// Branch-free: only 'A'..'Z' have (c - 'A') below 26.
constexpr char to_lower(char c) noexcept {
  return static_cast<char>(c | (static_cast<unsigned char>(c - 'A') < 26 ? 0x20 : 0));
}

constexpr unsigned hex_value(char c) noexcept {
  if (is_digit(c)) return static_cast<unsigned>(c - '0');
  return static_cast<unsigned>(to_lower(c) - 'a' + 10);
}

// Eight ASCII octets (each < 0x80) with 'A'..'Z' folded to lower case: a
// byte plus 0x3f has its high bit set from 'A' on, plus 0x25 from 'Z' + 1
// on, and no sum carries into the next byte.
inline std::uint64_t fold_ascii8(std::uint64_t x) noexcept {
  const std::uint64_t upper = (x + 0x3f3f3f3f3f3f3f3fu) & ~(x + 0x2525252525252525u) & 0x8080808080808080u;
  return x | (upper >> 2);
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  if (n == 0) return true;
  if (to_lower(a[0]) != to_lower(b[0])) return false;  // most unequal words differ at once
  if (!std::is_constant_evaluated() && n >= 4) {
    // Eight octets a step (two overlapping halves below eight), folded only
    // when they differ; a block with an octet >= 0x80 goes octet by octet.
    const auto word = [&](std::string_view s, std::size_t i) {
      std::uint64_t w = 0;
      if (n >= 8) {
        std::memcpy(&w, s.data() + i, 8);
      } else {
        std::uint32_t lo = 0, hi = 0;
        std::memcpy(&lo, s.data(), 4);
        std::memcpy(&hi, s.data() + n - 4, 4);
        w = std::uint64_t{hi} << 32 | lo;
      }
      return w;
    };
    std::size_t i = 0;
    for (;;) {
      const std::uint64_t x = word(a, i), y = word(b, i);
      if (x != y) {
        if ((x | y) & 0x8080808080808080u) break;  // the octet loop decides
        if (fold_ascii8(x) != fold_ascii8(y)) return false;
      }
      if (n < 8 || i + 8 == n) return true;
      i = i + 16 <= n ? i + 8 : n - 8;  // the last step overlaps
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  return true;
}
constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}
constexpr bool iends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

template <class Pred>
constexpr bool all_of(std::string_view s, Pred pred) noexcept {
  for (char c : s)
    if (!pred(c)) return false;
  return !s.empty();
}

}  // namespace sansmtp::ascii
